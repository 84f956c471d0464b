"""The capable-model path on the strong reference fixtures (fixtures/strong/, see its README).

The fixtures are exchanges with scripts/strong_server.py, which serves hand-written
reference answers as a careful strong model would (every cap filled, long verbatim
quotes, max_tokens enforced). Facts about the briefs are asserted here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from summarizer import daily as daily_module
from summarizer import grounding
from summarizer.cli import app
from summarizer.cues import cue_kinds, cue_sentences
from summarizer.daily import DailyOptions, run_daily
from summarizer.documents import read_document
from summarizer.errors import LLMError
from summarizer.fixtures import Replayer
from summarizer.llm import LLM
from summarizer.models import ActorDraft, ClaimDraft, Synthesis
from summarizer.pipeline import brief_document
from summarizer.settings import OUTPUT_CEILINGS, build_settings
from summarizer.sizing import answer_tokens, document_limits, fit_ceiling

from .conftest import FIXTURES, ROOT, SEEDS, fixture_entries

STRONG = FIXTURES / "strong"
ANSWERS = STRONG / "answers"
MODEL = "gpt-4o-mini"
runner = CliRunner()


def strong_settings(folder: Path, **overrides: Any) -> Any:
    return build_settings(provider="replay", replay_dir=folder, model=MODEL, environ={}, **overrides)


def replay_brief(folder: Path, source: Path, **overrides: Any) -> tuple[Any, list[str]]:
    settings = strong_settings(folder, **overrides)
    llm = LLM(settings)
    brief = asyncio.run(brief_document(read_document(str(source)), llm, settings))
    replayer = llm.transport.inner
    assert isinstance(replayer, Replayer)
    return brief, replayer.unused()


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The 25 seeds replayed through `daily` from the strong fixtures, with the replayer kept to count its use."""
    out = tmp_path_factory.mktemp("strong-day")
    settings = strong_settings(STRONG)
    llm = LLM(settings)

    @asynccontextmanager
    async def session(_: Any, **__: Any) -> AsyncIterator[Any]:
        yield llm, settings, lambda: None

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(daily_module, "llm_session", session)
        manifest, digest = asyncio.run(run_daily([str(SEEDS)], settings, DailyOptions(out=out, concurrency=4)))
    briefs = {Path(e.source).stem: json.loads((out / e.brief).read_text()) for e in manifest.entries if e.brief}
    assert isinstance(llm.transport.inner, Replayer)
    return {"manifest": manifest, "digest": digest, "briefs": briefs, "unused": llm.transport.inner.unused()}


def answer(stem: str) -> dict[str, Any]:
    return json.loads((ANSWERS / f"{stem}.json").read_text(encoding="utf-8"))


def test_every_document_is_briefed_at_the_defaults_and_every_exchange_is_used(day: dict[str, Any]) -> None:
    manifest = day["manifest"]
    assert [e.status for e in manifest.entries] == ["ok"] * 25
    assert day["unused"] == []
    # every call counted: the briefs' attempts are exactly the recorded exchanges of their documents
    for stem, brief in day["briefs"].items():
        assert brief["run"]["attempts"] == len(fixture_entries(STRONG / f"{stem}.jsonl")), stem


def test_no_answer_was_cut_and_each_request_asked_for_room_enough(day: dict[str, Any]) -> None:
    for path in sorted(STRONG.glob("*.jsonl")):
        for entry in fixture_entries(path):
            body, choice = entry["request"]["body"], entry["response"]["body"]["choices"][0]
            assert choice["finish_reason"] != "length", path.name
            used = entry["response"]["body"]["usage"]["completion_tokens"]
            assert used <= body["max_tokens"] <= OUTPUT_CEILINGS[MODEL]


def test_every_reference_item_reaches_its_brief_exactly(day: dict[str, Any]) -> None:
    """Complete attribution: no claim or uncertainty of the reference answer is lost, capped or rejected."""
    for stem, brief in day["briefs"].items():
        text = (ROOT / answer(stem)["document"]).read_text(encoding="utf-8")
        kept = {c["evidence"]["quote"] for c in brief["claims"]}
        assert {c["evidence"] for c in answer(stem)["claims"]} <= kept, stem
        assert {u["evidence"] for u in answer(stem)["uncertainties"]} <= {
            u["evidence"]["quote"] for u in brief["uncertainties"]
        }
        assert not [r for r in brief["rejected"] if r["kind"] in ("claim", "uncertainty", "figure", "cue")], stem
        for item in brief["claims"] + brief["uncertainties"]:
            span = item["evidence"]
            assert text[span["start"] : span["end"]] == span["quote"] and span["match"] == "exact"


def test_caps_follow_the_document_and_continuation_passes_add_the_rest(day: dict[str, Any]) -> None:
    briefs = day["briefs"]
    warhol = answer("warhol")
    assert len(warhol["claims"]) > 30 and len(briefs["warhol"]["claims"]) == len(warhol["claims"])
    assert briefs["warhol"]["run"]["passes"] > 1 and briefs["warhol"]["run"]["added"] > 0
    first = fixture_entries(STRONG / "warhol.jsonl")[0]["request"]["body"]
    caps = first["tools"][0]["function"]["parameters"]["properties"]["claims"]["maxItems"]
    assert 10 < caps <= 40  # above the old fixed 10, from the article's attribution sentences
    added = sum(b["run"]["added"] for b in briefs.values())
    passes = sum(b["run"]["passes"] for b in briefs.values())
    assert added > 0 and passes > len(briefs)
    # a short article whose first answer left nothing uncovered makes one request only
    assert briefs["stampede"]["run"]["passes"] == 1


def test_the_digest_of_the_day_cites_only_real_claims(day: dict[str, Any]) -> None:
    digest = day["digest"]
    assert digest.synthesis_error is None
    contradictions = [c for s in digest.stories for c in s.contradictions]
    questions = [q for s in digest.stories for q in s.open_questions]
    assert len(contradictions) == 4 and len(questions) == 5
    known = {
        f"{key}:{c['id']}" for key, file in digest.documents.items() for c in day["briefs"][Path(file).stem]["claims"]
    }
    cited = [i for c in contradictions for i in c.side_a + c.side_b]
    cited += [i for q in questions for i in q.claim_ids]
    assert cited and set(cited) <= known
    assert day["manifest"].digest_usage.total_tokens > 0


def test_a_statement_of_two_sources_is_one_claim_under_each_in_the_digest(day: dict[str, Any]) -> None:
    """The clock answer's "Both the Irving Independent School District and the Irving Police Department have
    asserted …": one claim with a further claimant, in both claimants' groups, counted once."""
    (claim,) = [c for c in day["briefs"]["clock"]["claims"] if c["also"]]
    assert (claim["claimant"], [o["name"] for o in claim["also"]]) == (
        "Irving Independent School District",
        ["Irving Police Department"],
    )
    digest = day["digest"]
    refs = [c.ref for c in digest.claims()]
    assert len(refs) == len(set(refs))
    groups = [g.actor for s in digest.stories for g in s.claim_groups if any(c.also for c in g.claims)]
    assert sorted(groups) == ["Irving Independent School District", "Irving Police Department"]


def test_an_answer_cut_at_its_budget_is_asked_again_with_the_ceiling() -> None:
    source = SEEDS / "wikinews" / "korea.txt"
    brief, unused = replay_brief(STRONG / "cut", source, max_tokens=800)
    assert unused == []
    entries = fixture_entries(STRONG / "cut" / "korea.jsonl")
    cut, whole = entries[0], entries[1]
    assert cut["request"]["body"]["max_tokens"] == 800
    assert cut["response"]["body"]["choices"][0]["finish_reason"] == "length"
    assert whole["request"]["body"]["max_tokens"] == OUTPUT_CEILINGS[MODEL]
    assert whole["response"]["body"]["choices"][0]["finish_reason"] != "length"
    # the brief is whole, and the cut attempt's tokens are counted too
    assert len(brief.claims) == len(answer("korea")["claims"]) and not brief.rejected
    recorded = sum(e["response"]["body"]["usage"]["completion_tokens"] for e in entries)
    assert brief.run.usage.completion_tokens == recorded and brief.run.attempts == len(entries)


def test_a_4000_word_article_at_the_defaults_is_complete() -> None:
    source = STRONG / "long" / "wikinews-4000.txt"
    text = source.read_text(encoding="utf-8")
    assert len(text.split()) >= 4000
    brief, unused = replay_brief(STRONG / "long", source)
    assert unused == [] and brief.document.parts == 1 and not brief.rejected
    covered = [(c.evidence.start, c.evidence.end) for c in brief.claims]
    covered += [(u.evidence.start, u.evidence.end) for u in brief.uncertainties]
    kinds = cue_kinds()
    attributed = [s for s in cue_sentences(text) if any(kinds[c] == "attribution" for c in s.cues)]
    hit = [s for s in attributed if any(grounding.overlaps((s.start, s.end), span) for span in covered)]
    assert len(attributed) > 30 and len(hit) / len(attributed) >= 0.85
    assert brief.run.passes == 3 and brief.run.added > 40  # the first answer was capped; two passes added the rest


def test_an_answer_cut_at_the_ceiling_itself_fails_and_says_what_to_do(tmp_path: Path) -> None:
    from scripts.strong_server import StrongServer

    with StrongServer() as server:
        settings = build_settings(
            provider="openai", base_url=server.base_url, environ={"OPENAI_API_KEY": "sk-x"}, max_output_tokens=300
        )
        llm = LLM(settings)
        with pytest.raises(LLMError, match=r"output ceiling of 300 tokens.*--max-output-tokens"):
            asyncio.run(brief_document(read_document(str(SEEDS / "wikinews" / "korea.txt")), llm, settings))


def test_daily_takes_the_same_request_options_as_brief() -> None:
    options = (
        "--max-tokens",
        "--max-output-tokens",
        "--n-ctx",
        "--temperature",
        "--max-claims",
        "--passes",
        "--profile",
        "--model-path",
    )
    for command in ("brief", "daily"):
        text = runner.invoke(app, [command, "--help"]).stdout
        assert all(option in text for option in options), command


# ------------------------------------------------------------------ sizing and limits


def test_caps_grow_with_the_attribution_sentences_and_fit_the_ceiling() -> None:
    capable = build_settings(provider="openai", environ={"OPENAI_API_KEY": "k"})
    short = document_limits("Nothing is attributed here.", capable)
    warhol = document_limits((SEEDS / "wikinews" / "warhol.txt").read_text(encoding="utf-8"), capable)
    assert (short.claims, short.actors, short.uncertainties) == (10, 10, 5)
    assert 10 < warhol.claims <= 40 and warhol.actors >= 8
    # a full answer at the floor caps is more than the old default of 1,024 tokens (measured 1,300-1,700)
    assert answer_tokens(short) > 1_700
    small = fit_ceiling(warhol, 4_096)
    assert answer_tokens(small) <= 4_096 and small.claims < warhol.claims
    unknown = build_settings(provider="openai", model="some-local-7b", environ={"OPENAI_API_KEY": "k"})
    assert (
        unknown.output_ceiling == 4_096
        and answer_tokens(document_limits((SEEDS / "wikinews" / "warhol.txt").read_text(encoding="utf-8"), unknown))
        <= 4_096
    )
    embedded = build_settings(provider="local", environ={})
    assert embedded.profile == "embedded" and embedded.max_tokens == 1024 and embedded.continuation_passes == 0


def test_cosmetic_fields_over_their_limit_are_clipped_not_refused() -> None:
    actor = ActorDraft.model_validate(
        {"name": "Kirby", "kind": "person", "role": "x" * 41 + " spokesperson", "aliases": ["John", "J.", "Mr Kirby"]}
    )
    assert len(actor.role) <= 40 and actor.aliases == ["John", "J."]
    claim = ClaimDraft.model_validate(
        {
            "claimant": "Kirby",
            "statement": "word " * 40,
            "evidence": "He said so.",
            "status": "asserted",
            "figures": [{"value": 1, "unit": "u"}] * 3,
        }
    )
    assert len(claim.statement) <= 150 and claim.statement.endswith("…") and len(claim.figures) == 2
    with pytest.raises(ValueError):  # evidence is what grounding checks: still strict
        ClaimDraft.model_validate({"claimant": "Kirby", "statement": "s", "evidence": "e" * 251, "status": "asserted"})
    synthesis = Synthesis.model_validate({"contradictions": [], "open_questions": [{"question": "q?"}] * 6})
    assert len(synthesis.open_questions) == 5


def test_an_endpoint_that_stops_answers_sooner_than_assumed_is_learnt_for_the_run(tmp_path: Path) -> None:
    """An unknown model's endpoint that cuts every answer at 1,000 tokens (finish_reason "length") whatever
    max_tokens allows: the first answer shows it, the part is asked again with caps that fit, and every
    later request of the run is sized to it."""
    from scripts.strong_server import StrongServer

    requests = tmp_path / "requests"
    with StrongServer(requests=requests, ceiling=1000) as server:
        settings = build_settings(
            provider="openai", base_url=server.base_url, model="unknown-model-7b", environ={"OPENAI_API_KEY": "sk-x"}
        )
        llm = LLM(settings)
        korea = read_document(str(SEEDS / "wikinews" / "korea.txt"))
        brief = asyncio.run(brief_document(korea, llm, settings))
        assert llm.output_ceiling(settings.output_ceiling) == 1000 < settings.output_ceiling
        second = asyncio.run(brief_document(read_document(str(SEEDS / "wikinews" / "crane.txt")), llm, settings))
    asked = [json.loads(p.read_text(encoding="utf-8"))["max_tokens"] for p in sorted(requests.glob("*.json"))]
    assert asked[0] > 1000 and all(tokens <= 1000 for tokens in asked[2:]), asked
    assert brief.claims and second.claims
    assert not [r for r in brief.rejected + second.rejected if r.kind in ("claim", "uncertainty")]
