"""bench/quality.py: the matching rules on hand-made spans, the arithmetic, and a replayed daily run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES, ROOT

sys.path.insert(0, str(ROOT / "bench"))
import quality as q  # noqa: E402

TEXT = "Officials said the bridge was safe. Mr. Smith told reporters it was not. The river rose."


def span(start: int, end: int) -> q.Span:
    return q.Span(start, end, TEXT[start:end])


def gold(source: str | None, cue: tuple[int, int] | None, content: tuple[int, int] | None) -> q.GoldAttribution:
    return q.GoldAttribution(source, span(*cue) if cue else None, span(*content) if content else None)


def claim(
    evidence: tuple[int, int],
    claimant: str = "unnamed source",
    cue: tuple[int, int] | None = None,
    names: tuple[str, ...] = (),
) -> q.Claim:
    return q.Claim(evidence=span(*evidence), claimant=claimant, cue=span(*cue) if cue else None, names=names)


OFFICIALS = gold("Officials", (10, 14), (15, 35))  # "said", "the bridge was safe."
SMITH = gold("Mr. Smith", (46, 50), (61, 72))  # "told", "it was not."


def test_spans_are_half_open() -> None:
    assert q.overlaps(q.Span(0, 5), q.Span(4, 9))
    assert not q.overlaps(q.Span(0, 5), q.Span(5, 9))
    assert not q.overlaps(q.Span(0, 5), None)


def test_evidence_on_the_content_matches() -> None:
    assert q.claim_matches(claim((19, 25)), OFFICIALS)


def test_evidence_on_the_cue_only_matches() -> None:
    assert q.claim_matches(claim((0, 14)), OFFICIALS)  # "Officials said": the cue, not the content


def test_claim_cue_on_the_gold_cue_matches_without_evidence_overlap() -> None:
    assert q.claim_matches(claim((73, 88), cue=(46, 50)), SMITH)
    assert not q.claim_matches(claim((73, 88), cue=(36, 45)), SMITH)


def test_no_overlap_no_match() -> None:
    assert not q.claim_matches(claim((73, 88)), OFFICIALS)
    assert not q.claim_matches(claim((73, 88)), gold("he", None, None))


def test_recall_and_precision_arithmetic() -> None:
    claims = (claim((15, 35)), claim((0, 72)), claim((73, 88)))  # one on OFFICIALS, one on both, one on nothing
    golds = (OFFICIALS, SMITH, gold("they", (73, 76), (77, 88)))  # the third is matched by the third claim
    brief = q.DocBrief("t.txt", TEXT, claims=claims)
    score = q.score_document(brief, q.GoldDoc("t.txt", golds, ()))
    assert (score.gold_matched, score.gold, score.claims_matched, score.claims) == (3, 3, 3, 3)
    miss = q.score_document(
        q.DocBrief("t.txt", TEXT, claims=(*claims[:1], claim((36, 45)))), q.GoldDoc("t.txt", (OFFICIALS, SMITH), ())
    )
    m = q.measures([miss])
    assert m["attribution_recall"] == {"rate": 0.5, "n": 1, "of": 2}
    assert m["claim_precision"] == {"rate": 0.5, "n": 1, "of": 2}


def test_rates_are_summed_over_documents_not_averaged() -> None:
    a = q.DocScore("a", has_gold=True, gold=1, gold_matched=1)
    b = q.DocScore("b", has_gold=True, gold=3, gold_matched=0)
    assert q.measures([a, b])["attribution_recall"]["rate"] == 0.25
    assert q.measures([])["claim_precision"]["rate"] is None


def test_name_sources_and_pronoun_sources() -> None:
    lower = q.lowercase_words("the officials said the report was late; he and they agreed")
    assert q.is_name_source("Mr. Smith", lower)
    assert q.is_name_source("WHO", q.lowercase_words("who said it"))  # an acronym is a name even if "who" occurs
    for source in ("he", "She", "They", "I", "the report", "The report", "Officials", None):
        assert not q.is_name_source(source, lower), source


def test_claimant_agreement_with_a_name() -> None:
    assert q.claimant_agrees(claim((46, 72), "John Smith"), "Mr. Smith")
    assert q.claimant_agrees(claim((46, 72), "the witness", names=("Smith",)), "Mr. Smith")  # via claimant_id
    assert not q.claimant_agrees(claim((46, 72), "Mr. Jones"), "Mr. Smith")  # a shared title is not agreement
    assert not q.claimant_agrees(claim((46, 72), "unnamed source"), "Mr. Smith")


def test_claimant_agreement_skips_pronoun_sources() -> None:
    doc = q.GoldDoc("t.txt", (gold("he", (46, 50), (60, 72)), SMITH), ())
    score = q.score_document(
        q.DocBrief("t.txt", TEXT, claims=(claim((46, 72), "Jones"), claim((60, 72), "Smith"))), doc
    )
    assert (score.named, score.named_agree) == (1, 1)  # only SMITH counts; one agreeing claim is enough


def test_actor_matching_on_tokenised_first_mentions() -> None:
    assert q.actor_found("Trump 's", (("Donald Trump",),))
    assert q.actor_found("U.S. President Donald Trump 's", (("Trump",),))
    assert q.actor_found("U.S.", (("the State Department", "US"),))  # an alias counts
    assert q.actor_found("all - girl Afghan team", (("Afghan robotics team",),))
    assert not q.actor_found("U.S. President Donald Trump 's", (("President Obama",),))  # titles do not match
    assert not q.actor_found("the company", (("the company",),))  # no capitalised word: nothing to match


def test_span_exactness() -> None:
    spans = (q.Span(0, 9, "Officials"), q.Span(0, 9, "officials", "normalized"), q.Span(0, 4, "Offi", "fuzzy"))
    score = q.score_document(q.DocBrief("x.txt", TEXT, spans=spans), None)
    assert (score.spans, score.spans_hold, score.spans_exact) == (3, 2, 1)
    assert not score.has_gold and score.gold == 0


def test_rules_baseline_claims_cue_sentences() -> None:
    brief = q.rules_brief("t.txt", TEXT, ["said", "told"])
    assert [c.evidence.quote for c in brief.claims] == [
        "Officials said the bridge was safe.",
        "Smith told reporters it was not.",
    ]
    # "Officials" never occurs in lower case here, so the rule takes it for a name: a baseline, not an oracle.
    assert [c.claimant for c in brief.claims] == ["Officials", "Smith"]
    assert brief.actors == (("Officials",), ("Smith",))
    assert all(TEXT[s.start : s.end] == s.quote for s in brief.spans)


def test_rules_baseline_without_a_name_is_unnamed() -> None:
    text = "it was said that the river rose."
    assert [c.claimant for c in q.rules_brief("t.txt", text, ["said"]).claims] == ["unnamed source"]


def test_gold_loads_and_holds_its_text() -> None:
    gold_docs = q.load_gold()
    assert len(gold_docs) == 24 and sum(len(d.attributions) for d in gold_docs.values()) == 219
    text = (q.GOLD_DIR / "korea.txt").read_text(encoding="utf-8")
    for attribution in gold_docs["korea.txt"].attributions:
        for part in (attribution.cue, attribution.content):
            assert part is None or text[part.start : part.end] == part.quote


@pytest.mark.parametrize("names", [["clock.txt", "crane.txt", "sensitive.txt"]])
def test_scores_replayed_daily_briefs(tmp_path: Path, names: list[str]) -> None:
    inputs = [f"seeds/wikinews/{name}" for name in names]
    # the strong set: its briefs spend tokens (the embedded default asks no model per document)
    process = q.run_daily(FIXTURES / "strong", tmp_path, inputs, ["--model", "gpt-4o-mini"])
    assert sorted(p.name for p in (tmp_path / "briefs").glob("*.json")) == [
        n.replace(".txt", ".json") for n in names
    ], process.stderr
    result = q.score_folder(tmp_path, q.load_gold(), "replay", "fixtures/strong")
    m = q.measures(result.documents)
    assert result.note is None and result.failed == 0
    assert m["documents"] == m["documents_with_gold"] == 3
    assert 0.0 <= m["attribution_recall"]["rate"] <= 1.0
    assert m["attribution_recall"]["of"] == sum(len(q.load_gold()[n].attributions) for n in names)
    assert m["span_holds_quote"]["rate"] == 1.0  # every kept span holds its quote
    assert m["completion_tokens"] > 0
    json.dumps(q.as_json(result, per_document=True))  # the --json output is serialisable


def test_an_incomplete_fixture_set_scores_what_was_written(tmp_path: Path) -> None:
    fixtures = tmp_path / "partial"
    fixtures.mkdir()
    for name in ("clock.jsonl", "crane.jsonl"):
        (fixtures / name).write_bytes((FIXTURES / "strong" / name).read_bytes())
    result = q.score_fixture_set("partial", fixtures, q.load_gold(), ["--model", "gpt-4o-mini"])
    assert sorted(d.file for d in result.documents) == ["clock.txt", "crane.txt"]
    assert result.failed == 23 and "daily exited" in (result.note or "")
    assert q.score_fixture_set("empty", tmp_path / "missing", {}).note.startswith("skipped")
