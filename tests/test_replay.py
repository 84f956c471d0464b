"""The pipeline on real recorded exchanges (fixtures/) and on hand-made fault fixtures.

Fixtures are evidence: the facts about each brief are asserted here.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from summarizer.documents import read_document
from summarizer.fixtures import Replayer
from summarizer.llm import LLM
from summarizer.models import SPECIAL_CLAIMANTS, Brief
from summarizer.pipeline import brief_document
from summarizer.settings import build_settings

from .conftest import FAULTS, SEEDS, fixture_entries, recorded_scenarios, source_of

FAKE_QUOTE = "This sentence was put here by the fault injector and is not in the document."


def replay(scenario: Path, document: Path) -> tuple[Brief, LLM]:
    # every recorded single-document exchange is of the model-written path (the embedded default asks nothing)
    settings = build_settings(provider="replay", replay_dir=scenario, method="extract", environ={})
    llm = LLM(settings)
    brief = asyncio.run(brief_document(read_document(str(document)), llm, settings))
    replayer = llm.transport.inner
    assert isinstance(replayer, Replayer)
    assert replayer.unused() == [], "every recorded exchange must be used"
    return brief, llm


def completions(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["response"]["body"] for e in entries if e["response"]["status"] == 200]


def assert_brief_invariants(brief: Brief, text: str) -> None:
    spans = (
        [c.evidence for c in brief.claims]
        + [c.cue for c in brief.claims if c.cue]
        + [u.evidence for u in brief.uncertainties]
        + [a.mention for a in brief.actors]
    )
    for span in spans:
        assert text[span.start : span.end] == span.quote
    actor_ids = {a.id: a for a in brief.actors}
    for claim in brief.claims:
        if claim.claimant_id is None:
            assert claim.claimant in SPECIAL_CLAIMANTS
        else:
            assert actor_ids[claim.claimant_id].name == claim.claimant
    for uncertainty in brief.uncertainties:
        assert set(uncertainty.claim_ids) <= {c.id for c in brief.claims}
    assert [a.id for a in brief.actors] == [f"A{i}" for i in range(1, len(brief.actors) + 1)]
    assert [c.id for c in brief.claims] == [f"C{i}" for i in range(1, len(brief.claims) + 1)]
    assert all(r.reason.strip() for r in brief.rejected)
    json.loads(brief.model_dump_json())  # serialisable, schema-valid by construction
    Brief.model_validate_json(brief.model_dump_json())


@pytest.mark.parametrize("scenario", recorded_scenarios(), ids=lambda p: p.stem)
def test_recorded_brief_is_grounded_and_counts_every_call(scenario: Path) -> None:
    document = source_of(scenario)
    brief, _ = replay(scenario, document)
    assert_brief_invariants(brief, document.read_text(encoding="utf-8"))
    bodies = completions(fixture_entries(scenario))
    assert brief.run.attempts == len(bodies)
    assert brief.run.usage.prompt_tokens == sum(b["usage"]["prompt_tokens"] for b in bodies)
    assert brief.run.usage.completion_tokens == sum(b["usage"]["completion_tokens"] for b in bodies)
    assert brief.run.provider == "replay" and brief.run.mode == "tools"


def test_at_least_six_real_recordings() -> None:
    names = {p.stem for p in recorded_scenarios()}
    assert "000_09fe83c6082f21eb" in names and len(names) >= 6


def test_fixtures_hold_no_keys_headers_or_paths() -> None:
    for path in list(recorded_scenarios()) + sorted(FAULTS.glob("*.jsonl")):
        text = path.read_text(encoding="utf-8")
        for needle in ("Authorization", "Bearer ", "sk-", "/root/", "/home/", "/tmp/", "site-packages"):
            assert needle not in text, f"{needle!r} in {path.name}"


def test_fault_429_then_200_is_retried_transparently() -> None:
    scenario = FAULTS / "fault-429-then-200.jsonl"
    entries = fixture_entries(scenario)
    assert entries[0]["response"]["status"] == 429 and entries[0]["response"]["retry_after"] == "1"
    assert entries[1]["key"] == entries[0]["key"]  # the same request, sent again
    document = SEEDS / "wikinews" / "flag.txt"
    brief, llm = replay(scenario, document)
    assert_brief_invariants(brief, document.read_text(encoding="utf-8"))
    assert llm.transport.calls == len(entries)  # the 429 was one more HTTP call ...
    assert brief.run.attempts == len(entries) - 1  # ... but not one more LLM attempt


def test_fault_malformed_arguments_then_valid_is_reasked() -> None:
    scenario = FAULTS / "fault-malformed-then-valid.jsonl"
    entries = fixture_entries(scenario)
    first = entries[0]["response"]["body"]["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
    with pytest.raises(ValueError):
        json.loads(first, strict=False)
    reask = entries[1]["request"]["body"]["messages"]
    assert len(reask) > len(entries[0]["request"]["body"]["messages"])
    assert any("validation error" in json.dumps(m).lower() or "json" in json.dumps(m).lower() for m in reask[2:])
    document = SEEDS / "wikinews" / "ie9.txt"
    brief, _ = replay(scenario, document)
    assert_brief_invariants(brief, document.read_text(encoding="utf-8"))
    assert brief.run.attempts == len(completions(entries)) >= 2


def test_fault_quote_not_in_document_is_repaired() -> None:
    scenario = FAULTS / "fault-bad-quote-then-corrected.jsonl"
    entries = fixture_entries(scenario)
    repair_requests = [e for e in entries if e["request"]["body"]["tool_choice"]["function"]["name"] == "Repairs"]
    assert len(repair_requests) == 1
    repair_prompt = repair_requests[0]["request"]["body"]["messages"][-1]["content"]
    assert FAKE_QUOTE in repair_prompt and "the closest sentence is" in repair_prompt
    document = SEEDS / "wikinews" / "imprisoned.txt"
    text = document.read_text(encoding="utf-8")
    brief, _ = replay(scenario, document)
    assert_brief_invariants(brief, text)
    assert brief.run.repaired >= 1 and brief.run.attempts == 2
    assert all(c.evidence.quote != FAKE_QUOTE for c in brief.claims)
    assert FAKE_QUOTE not in json.dumps([r.item for r in brief.rejected])
