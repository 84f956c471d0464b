"""bench/quality.py and bench/scorer.py: the scorer's own rules on hand-made spans, the arithmetic, the
independence of the scorer, and the gate (a rule that loses recall fails it; the default passes it)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench import baseline
from bench import quality as q
from bench import scorer as s
from summarizer import attribution
from summarizer.cli import app

from .conftest import FIXTURES, ROOT, SEEDS

TEXT = "Officials said the bridge was safe. Mr. Smith told reporters it was not. The river rose."


def span(start: int, end: int) -> s.Span:
    return s.Span(start, end, TEXT[start:end])


def gold(source: str | None, cue: tuple[int, int] | None, content: tuple[int, int] | None) -> s.GoldAttribution:
    return s.GoldAttribution(source, span(*cue) if cue else None, span(*content) if content else None)


def claim(
    evidence: tuple[int, int],
    claimant: str = "unnamed source",
    cue: tuple[int, int] | None = None,
    names: tuple[str, ...] = (),
) -> s.Claim:
    return s.Claim(evidence=span(*evidence), claimant=claimant, cue=span(*cue) if cue else None, names=names)


OFFICIALS = gold("Officials", (10, 14), (15, 35))  # "said", "the bridge was safe."
SMITH = gold("Mr. Smith", (46, 50), (61, 72))  # "told", "it was not."


# --------------------------------------------------------------------------
# The scorer is independent of what it scores
# --------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["bench/scorer.py", "bench/quality.py"])
def test_the_scorer_imports_nothing_of_the_package(module: str) -> None:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names]
    assert not [name for name in imported if name.split(".")[0] == "summarizer"]


# --------------------------------------------------------------------------
# Matching rules
# --------------------------------------------------------------------------


def test_spans_are_half_open() -> None:
    assert s.overlaps(s.Span(0, 5), s.Span(4, 9))
    assert not s.overlaps(s.Span(0, 5), s.Span(5, 9))
    assert not s.overlaps(s.Span(0, 5), None)


def test_evidence_on_the_content_or_the_cue_matches() -> None:
    assert s.claim_matches(claim((19, 25)), OFFICIALS)
    assert s.claim_matches(claim((0, 14)), OFFICIALS)  # "Officials said": the cue, not the content


def test_claim_cue_on_the_gold_cue_matches_without_evidence_overlap() -> None:
    assert s.claim_matches(claim((73, 88), cue=(46, 50)), SMITH)
    assert not s.claim_matches(claim((73, 88), cue=(36, 45)), SMITH)


def test_no_overlap_no_match() -> None:
    assert not s.claim_matches(claim((73, 88)), OFFICIALS)
    assert not s.claim_matches(claim((73, 88)), gold("he", None, None))


def test_recall_and_precision_arithmetic() -> None:
    claims = (claim((15, 35)), claim((0, 72)), claim((73, 88)))  # one on OFFICIALS, one on both, one on nothing
    golds = (OFFICIALS, SMITH, gold("they", (73, 76), (77, 88)))  # the third is matched by the third claim
    score = s.score_document(s.DocBrief("t.txt", TEXT, claims=claims), s.GoldDoc("t.txt", golds, ()))
    assert (score.gold_matched, score.gold, score.claims_matched, score.claims) == (3, 3, 3, 3)
    miss = s.score_document(
        s.DocBrief("t.txt", TEXT, claims=(*claims[:1], claim((36, 45)))), s.GoldDoc("t.txt", (OFFICIALS, SMITH), ())
    )
    m = s.measures([miss])
    assert m["attribution_recall"] == {"rate": 0.5, "n": 1, "of": 2}
    assert m["claim_precision"] == {"rate": 0.5, "n": 1, "of": 2}


def test_attributed_precision_leaves_out_the_authors_own_claims() -> None:
    claims = (claim((15, 35)), claim((73, 88), "author"), claim((36, 45), "Mr. Smith"))  # matched, author, miss
    score = s.score_document(s.DocBrief("t.txt", TEXT, claims=claims), s.GoldDoc("t.txt", (OFFICIALS,), ()))
    m = s.measures([score])
    assert m["claim_precision"] == {"rate": 1 / 3, "n": 1, "of": 3}
    assert m["attributed_precision"] == {"rate": 0.5, "n": 1, "of": 2}


def test_every_claimant_of_a_claim_can_name_the_source() -> None:
    data = {
        "document": {"path": "t.txt"},
        "actors": [{"id": "A1", "name": "NBC News"}, {"id": "A2", "name": "John Smith", "aliases": ["Smith"]}],
        "claims": [
            {
                "claimant": "NBC News",
                "claimant_id": "A1",
                "also": [{"name": "John Smith", "actor_id": "A2"}],
                "evidence": {"start": 36, "end": 72},
            }
        ],
    }
    brief = s.doc_brief(data, TEXT)
    assert brief.claims[0].names == ("NBC News", "John Smith", "Smith")
    assert s.names_source(brief.claims[0], "Mr. Smith")


def test_rates_are_summed_over_documents_not_averaged() -> None:
    a = s.DocScore("a", has_gold=True, gold=1, gold_matched=1)
    b = s.DocScore("b", has_gold=True, gold=3, gold_matched=0)
    assert s.measures([a, b])["attribution_recall"]["rate"] == 0.25
    assert s.measures([])["claim_precision"]["rate"] is None


def test_words_are_normalised_on_both_sides() -> None:
    assert s.tokens("Trump 's and Trump's U.S. al-Amr") == ["Trump", "and", "Trump", "U.S.", "al", "Amr"]
    assert [s.normal(t) for t in ("U.S.", "Hernán", "O'Neil", "CBC.ca")] == ["us", "hernan", "oneil", "cbcca"]
    assert s.distinctive("Professor John Burrows") == {"john", "burrows"}
    assert s.distinctive("the WHO") == {"who"}  # an acronym is distinctive even where it spells a pronoun


def test_named_and_unnamed_sources() -> None:
    for source in ("Mr. Smith", "Wilkins", "WHO", "U.S. officials", "The US State Department", "Anon"):
        assert s.is_named(source), source
    unnamed = ("he", "She", "They", "I", "We", "the report", "The report", "Officials", "Recent reports")
    for source in (*unnamed, "The researchers", "a teacher", "an Internet posting", "Someone", "His father", None):
        assert not s.is_named(source), source


def test_the_gold_has_150_named_sources_of_219() -> None:
    sources = [a.source for doc in s.load_gold().values() for a in doc.attributions]
    assert (sum(map(s.is_named, sources)), len(sources)) == (150, 219)


def test_strict_claimant_agreement_wants_the_name_in_the_source() -> None:
    assert s.names_source(claim((46, 72), "Smith"), "Mr. Smith")
    assert s.names_source(claim((46, 72), "the witness", names=("Smith",)), "Mr. Smith")  # via claimant_id
    assert s.names_source(claim((0, 9), "Hamdullah Mohib"), "Afghan Ambassador to the United States Hamdullah Mohib")
    assert s.names_source(claim((0, 9), "World Health Organisation", names=("WHO",)), "WHO")
    assert not s.names_source(claim((46, 72), "John Smith"), "Mr. Smith")  # "John" is not in the source
    assert not s.names_source(claim((46, 72), "Mr. Jones"), "Mr. Smith")  # a shared title is not agreement
    assert not s.names_source(claim((46, 72), "unnamed source"), "Mr. Smith")
    assert not s.names_source(claim((46, 72), "author"), "Mr. Smith")
    herald = claim((0, 9), "New Zealand Herald")
    assert not s.names_source(herald, "New Zealand's Prime Minister John Key")
    assert s.names_source_leniently(herald, "New Zealand's Prime Minister John Key")  # one shared word
    assert s.names_source_leniently(claim((46, 72), "John Smith"), "Mr. Smith")


def test_claimant_agreement_counts_named_sources_and_unnamed_source_only_on_unnamed_gold() -> None:
    doc = s.GoldDoc("t.txt", (gold("he", (46, 50), (60, 72)), SMITH, OFFICIALS), ())
    claims = (claim((46, 72), "Jones"), claim((60, 72), "Smith"), claim((15, 35), "unnamed source"))
    score = s.score_document(s.DocBrief("t.txt", TEXT, claims=claims), doc)
    assert (score.named, score.named_strict, score.named_lenient) == (1, 1, 1)  # only SMITH is named
    assert (score.unnamed_claimed, score.unnamed_claimed_ok) == (1, 1)  # "unnamed source" on "Officials"
    wrong = s.score_document(s.DocBrief("t.txt", TEXT, claims=(claim((61, 72), "unnamed source"),)), doc)
    assert (wrong.named, wrong.named_strict, wrong.unnamed_claimed, wrong.unnamed_claimed_ok) == (1, 0, 2, 1)


def test_actor_matching_on_tokenised_first_mentions() -> None:
    assert s.actor_found("Trump 's", (("Donald Trump",),))
    assert s.actor_found("U.S. President Donald Trump 's", (("Trump",),))
    assert s.actor_found("U.S.", (("the State Department", "US"),))  # an alias counts
    assert s.actor_found("all - girl Afghan team", (("Afghan robotics team",),))
    assert not s.actor_found("U.S. President Donald Trump 's", (("President Obama",),))  # titles do not match
    assert not s.actor_found("the company", (("the company",),))  # no name token: nothing to match


def test_span_exactness() -> None:
    spans = (s.Span(0, 9, "Officials"), s.Span(0, 9, "officials", "normalized"), s.Span(0, 4, "Offi", "fuzzy"))
    score = s.score_document(s.DocBrief("x.txt", TEXT, spans=spans), None)
    assert (score.spans, score.spans_hold, score.spans_exact) == (3, 2, 1)
    assert not score.has_gold and score.gold == 0


def test_a_brief_is_read_as_plain_json() -> None:
    data = {
        "document": {"path": "t.txt", "sha256": "x"},
        "actors": [{"id": "A1", "name": "John Smith", "aliases": ["Smith"], "mention": {"start": 40, "end": 45}}],
        "claims": [
            {"claimant": "John Smith", "claimant_id": "A1", "evidence": {"start": 36, "end": 72, "quote": "q"}},
            {"claimant": "unnamed source", "claimant_id": None, "evidence": {"start": 0, "end": 35}, "cue": None},
        ],
        "run": {"usage": {"completion_tokens": 7}},
    }
    assert s.is_brief(data) and not s.is_brief({"entries": []}) and not s.is_brief([])
    brief = s.doc_brief(data, TEXT)
    assert brief.claims[0].names == ("John Smith", "Smith") and brief.claims[1].names == ()
    assert brief.actors == (("John Smith", "Smith"),) and len(brief.spans) == 3 and brief.completion_tokens == 7
    assert s.names_source(brief.claims[0], "Mr. Smith")  # by the actor's alias


def test_an_unreadable_brief_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"document": {"path": "x"}, "claims": [{}]}', encoding="utf-8")
    (tmp_path / "manifest.json").write_text('{"entries": []}', encoding="utf-8")
    briefs, warnings = s.read_briefs(tmp_path)
    assert briefs == [] and len(warnings) == 1 and warnings[0].startswith("bad.json")


# --------------------------------------------------------------------------
# The rules baseline: a system, scored like the others
# --------------------------------------------------------------------------


def test_rules_baseline_claims_cue_sentences() -> None:
    brief = baseline.rules_brief("t.txt", TEXT, ["said", "told"])
    assert [c["evidence"]["quote"] for c in brief["claims"]] == [
        "Officials said the bridge was safe.",
        "Smith told reporters it was not.",
    ]
    # "Officials" never occurs in lower case here, so the rule takes it for a name: a baseline, not an oracle.
    assert [c["claimant"] for c in brief["claims"]] == ["Officials", "Smith"]
    assert [a["name"] for a in brief["actors"]] == ["Officials", "Smith"]
    scored = s.doc_brief(brief, TEXT)
    assert all(TEXT[x.start : x.end] == x.quote for x in scored.spans)
    assert scored.claims[1].names == ("Smith",)


def test_rules_baseline_without_a_name_is_unnamed() -> None:
    text = "it was said that the river rose."
    assert [c["claimant"] for c in baseline.rules_brief("t.txt", text, ["said"])["claims"]] == ["unnamed source"]


# --------------------------------------------------------------------------
# Gold, replayed runs
# --------------------------------------------------------------------------


def test_gold_loads_and_holds_its_text() -> None:
    gold_docs = s.load_gold()
    assert len(gold_docs) == 24 and sum(len(d.attributions) for d in gold_docs.values()) == 219
    text = (s.GOLD_DIR / "korea.txt").read_text(encoding="utf-8")
    for gold in gold_docs["korea.txt"].attributions:
        for part in (gold.cue, gold.content):
            assert part is None or text[part.start : part.end] == part.quote


@pytest.mark.parametrize("names", [["clock.txt", "crane.txt", "sensitive.txt"]])
def test_scores_replayed_daily_briefs(tmp_path: Path, names: list[str]) -> None:
    inputs = [f"seeds/wikinews/{name}" for name in names]
    # the reference answers: their briefs spend "tokens" (the embedded default asks no model per document)
    process = q.run_daily(FIXTURES / "strong", tmp_path, inputs, ["--model", "gpt-4o-mini"])
    assert sorted(p.name for p in (tmp_path / "briefs").glob("*.json")) == [
        n.replace(".txt", ".json") for n in names
    ], process.stderr
    result = s.score_folder(tmp_path, s.load_gold(), "replay", "fixtures/strong")
    m = s.measures(result.documents)
    assert result.note is None and result.failed == 0
    assert m["documents"] == m["documents_with_gold"] == 3
    assert 0.0 <= m["attribution_recall"]["rate"] <= 1.0
    assert m["attribution_recall"]["of"] == sum(len(s.load_gold()[n].attributions) for n in names)
    assert m["span_holds_quote"]["rate"] == 1.0  # every kept span holds its quote
    assert m["completion_tokens"] > 0
    json.dumps(q.as_json(result, per_document=True))  # the --json output is serialisable


def test_an_incomplete_fixture_set_scores_what_was_written(tmp_path: Path) -> None:
    fixtures = tmp_path / "partial"
    fixtures.mkdir()
    for name in ("clock.jsonl", "crane.jsonl"):
        (fixtures / name).write_bytes((FIXTURES / "strong" / name).read_bytes())
    result = q.score_fixture_set("partial", fixtures, s.load_gold(), ["--model", "gpt-4o-mini"])
    assert sorted(d.file for d in result.documents) == ["clock.txt", "crane.txt"]
    assert result.failed == 23 and "daily exited" in (result.note or "")
    assert q.score_fixture_set("empty", tmp_path / "missing", {}).note.startswith("skipped")


# --------------------------------------------------------------------------
# The gate
# --------------------------------------------------------------------------


def test_every_column_has_a_floor_with_a_reason_for_every_gated_measure() -> None:
    floors = q.load_floors()
    assert set(floors) == set(q.COLUMNS)
    for column, entries in floors.items():
        assert set(entries) == set(q.GATED), column
        assert all(entry["reason"].strip() for entry in entries.values())
    # a null floor (not gated) only where the column cannot give the measure, never for the default's figures
    assert all(entry["floor"] is not None for entry in floors["embedded"].values())
    assert [m for m, e in floors["rules"].items() if e["floor"] is None] == ["source_span_agreement"]


def test_a_null_floor_is_listed_as_not_gated_and_checks_nothing() -> None:
    floors = {"rules": {"source_span_agreement": {"floor": None, "reason": "gives none"}}}
    result = s.SetScore(label="rules", origin="x", documents=[s.DocScore(file="a.txt", has_gold=True)])
    assert q.checks([result], floors) == []
    assert "not gated: source span agreement, rules: gives none" in q.render_gate([], [result], floors)


def test_a_floor_without_a_reason_or_of_an_unknown_measure_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "floors.json"
    for entry in (
        {"recall": {"floor": 0.5, "reason": "x"}},
        {"actor_recall": {"floor": 0.5, "reason": " "}},
        {"actor_recall": {"floor": 0.0, "reason": "a floor that cannot fail"}},
        {"actor_recall": {"floor": None, "reason": ""}},
    ):
        path.write_text(json.dumps({"floors": {"embedded": entry}}), encoding="utf-8")
        with pytest.raises(ValueError):
            q.load_floors(path)


def test_a_figure_below_its_floor_or_missing_fails() -> None:
    floors = {"embedded": {"attribution_recall": {"floor": 0.6, "reason": "r"}}, "reference": {}}
    below = s.DocScore("a", has_gold=True, gold=2, gold_matched=1)
    found = q.checks([s.SetScore("embedded", "x", [below])], floors)
    assert [(c.figure, c.ok) for c in found] == [(0.5, False)]
    assert [c.ok for c in q.checks([s.SetScore("embedded", "x")], floors)] == [False]  # not scored: not passed
    at = s.DocScore("a", has_gold=True, gold=5, gold_matched=3)
    assert [c.ok for c in q.checks([s.SetScore("embedded", "x", [at])], floors)] == [True]  # 0.6 meets 0.6


def embedded_briefs(out: Path) -> None:
    """The embedded default's daily run over the seeds, in this process (so a rule can be patched)."""
    command = ["daily", str(SEEDS), "--out", str(out), "--replay", str(FIXTURES / "daily"), "--force", "-q"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output


def gate(out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = q.main(["--briefs", str(out), "--label", "embedded"])
    return code, capsys.readouterr().out.splitlines()


def test_the_embedded_default_meets_its_floors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    embedded_briefs(tmp_path)
    code, lines = gate(tmp_path, capsys)
    assert code == 0 and not [line for line in lines if "BELOW" in line]
    assert sum(" embedded " in line and line.rstrip().endswith(" ok") for line in lines) == len(q.GATED)


def test_a_rule_that_loses_recall_fails_the_gate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # "say" out of the attribution predicates (data/predicates.txt): every "said", "says", "saying" is lost
    predicates = attribution.lexicon()
    monkeypatch.setattr(attribution, "lexicon", lambda: {lemma: k for lemma, k in predicates.items() if lemma != "say"})
    embedded_briefs(tmp_path)
    code, lines = gate(tmp_path, capsys)
    assert code == 1
    gate_rows = [line.split() for line in lines if " embedded " in line]  # measure words, column, figure, floor
    recall = next(row for row in gate_rows if row[:3] == ["attribution", "recall", "embedded"])
    assert recall[-1] == "BELOW" and float(recall[-3]) < float(recall[-2])
    assert not [line for line in lines if " rules " in line and "BELOW" in line]  # the baseline is untouched
