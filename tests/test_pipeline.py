"""The pipeline's grounding, repair and rejection logic, with a queue-driven fake model."""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
from collections import deque
from typing import Any

import pytest
from pydantic import ValidationError

from summarizer import pipeline
from summarizer.assembly import Assembly, assemble, ground_actors
from summarizer.documents import from_text
from summarizer.errors import ReasksExhausted
from summarizer.grounding import ActorIndex, name_key
from summarizer.models import AUTHOR, VALIDATION_CONTEXT, Extraction, Repairs, Usage
from summarizer.pipeline import brief_document as brief_document_async
from summarizer.settings import build_settings
from summarizer.structured import CallStats, StructuredLLM

from .conftest import SEED

TEXT = SEED.read_text(encoding="utf-8")


class FakeLLM(StructuredLLM):
    """Answers each extract() call with the next queued value (a dict, or an exception)."""

    def __init__(self, *answers: Any):
        self.answers = deque(answers)
        self.calls: list[tuple[str, Any]] = []

    def start_scenario(self, name: str) -> None:
        self.scenario = name

    async def extract(
        self, response_model: Any, prompt: Any, *, reasks: int, context: Any = None, max_tokens: int | None = None
    ) -> tuple[Any, CallStats]:
        model = response_model
        self.calls.append((model.__name__, prompt))
        answer = self.answers.popleft()
        stats = CallStats(
            usage=Usage(prompt_tokens=100, completion_tokens=10, total_tokens=110), attempts=1, latency_s=0.5
        )
        if isinstance(answer, Exception):
            raise answer
        token = VALIDATION_CONTEXT.set(context)
        try:
            return model.model_validate(answer), stats
        except ValidationError as error:  # as the real client: the re-ask budget is spent
            raise ReasksExhausted(str(error), json.dumps(answer), stats) from error
        finally:
            VALIDATION_CONTEXT.reset(token)


ACTORS = [
    {"name": "National Intelligence Service", "kind": "government", "role": "intelligence agency", "aliases": ["NIS"]},
    {"name": "Volodymyr Zelenskyy", "kind": "person", "role": "Ukrainian president"},
    {"name": "John Kirby", "kind": "person", "role": "White House spokesperson", "aliases": ["Kirby", "Zelensky"]},
    {"name": "Santa Claus", "kind": "person", "role": "not in the story"},
]
GOOD_CLAIM = {
    "claimant": "Zelenskyy",
    "statement": "Close to 3,000 North Korean soldiers were killed or wounded.",
    "evidence": 'close to 3,000 North Korean soldiers have been "killed or wounded"',
    "cue": "saying",
    "status": "estimated",
    "figures": [{"value": 3000, "unit": "soldiers", "qualifier": "close to"}],
}
BAD_QUOTE = {
    "claimant": "John Kirby",
    "statement": "Kirby spoke.",
    "evidence": "Kirby said everything is fine.",
    "status": "asserted",
}
BAD_CLAIMANT = {
    "claimant": "The Pentagon",
    "statement": "Forces take casualties.",
    "evidence": "North Korean forces are taking high casualties in the war",
    "status": "asserted",
}
RANGE = {
    "claimant": "author",
    "statement": "North Korea sent troops.",
    "evidence": "as many as 10,000 to 12,000 troops",
    "status": "reported",
    "figures": [
        {"low": 10000, "high": 12000, "unit": "troops", "qualifier": "as many as"},
        {"unit": "nothing"},
    ],
}
UNCERTAIN = {
    "description": "How he was captured is unclear.",
    "kind": "unconfirmed",
    "evidence": "Details of his capture remain unclear",
}
EXTRACTION = {
    "summary": "A North Korean soldier died in Ukrainian custody.",
    "actors": ACTORS,
    "claims": [GOOD_CLAIM, BAD_QUOTE, BAD_CLAIMANT, RANGE],
    "uncertainties": [UNCERTAIN],
}


def brief_document(*args: Any) -> Any:
    return asyncio.run(brief_document_async(*args))


def settings(**overrides: Any):
    """A capable model with one pass: these tests are about grounding and repair (continuation: below)."""
    values = {"passes": 0, "candidates": False, **overrides}  # candidates: tests/test_statements.py
    return build_settings(provider="openai", base_url="http://127.0.0.1:9/v1", environ={}, **values)


def assert_grounded(brief: Any, text: str) -> None:
    for span in (
        [c.evidence for c in brief.claims]
        + [c.cue for c in brief.claims if c.cue]
        + [u.evidence for u in brief.uncertainties]
        + [a.mention for a in brief.actors]
    ):
        assert text[span.start : span.end] == span.quote


def test_grounded_items_survive_and_the_rest_are_rejected_with_reasons() -> None:
    fake = FakeLLM(
        EXTRACTION,
        {
            "items": [
                {"item": 1, "evidence": "still not there"},
                {"item": 2, "evidence": "still not there", "claimant": "author"},
            ]
        },
    )
    brief = brief_document(from_text(TEXT, "seed.txt"), fake, settings(repair_attempts=1))
    assert_grounded(brief, TEXT)
    assert [a.name for a in brief.actors] == ["National Intelligence Service", "Volodymyr Zelenskyy", "John Kirby"]
    assert [c.id for c in brief.claims] == ["C1", "C2"]
    first = brief.claims[0]
    assert first.claimant == "Volodymyr Zelenskyy" and first.claimant_id == "A2"
    assert first.evidence.match == "normalized"  # straight quotes for the source's curly ones
    assert first.cue is not None and first.cue.quote == "saying"
    assert first.figures[0].value == 3000 and first.figures[0].qualifier == "close to"
    assert brief.claims[1].claimant == AUTHOR and brief.claims[1].claimant_id is None
    assert (brief.claims[1].figures[0].low, brief.claims[1].figures[0].high) == (10000, 12000)
    assert brief.actors[2].aliases == ["Kirby"]  # "Zelensky" is not in the text
    reasons = {(r.kind, r.reason.split(";")[0]) for r in brief.rejected}
    assert ("alias", 'alias "Zelensky" of "John Kirby" not found in the document') in reasons
    assert ("actor", "name not found in the document") in reasons
    # a figure with neither a number nor words for one says nothing
    assert ("figure", "no number, and no words for one") in reasons and len(brief.claims[1].figures) == 1
    claim_reasons = [r.reason for r in brief.rejected if r.kind == "claim"]
    assert len(claim_reasons) == 2 and all(r.endswith("(after 1 repair request)") for r in claim_reasons)
    assert any(r.startswith('evidence "Kirby said everything is fine." is not in the document') for r in claim_reasons)
    assert any('claimant "The Pentagon" is not a listed actor' in r for r in claim_reasons)
    assert brief.uncertainties[0].evidence.quote == "Details of his capture remain unclear"
    # Two calls, both counted.
    assert brief.run.attempts == 2 and brief.run.usage.total_tokens == 220 and brief.run.repaired == 0
    assert [name for name, _ in fake.calls] == ["Extraction", "Repairs"]


def test_repair_asks_only_for_failed_items_and_applies_the_grounded_ones() -> None:
    fix = {
        "items": [
            {"item": 1, "evidence": "Kirby noted that in the past week alone", "claimant": "John Kirby"},
            {
                "item": 2,
                "evidence": "The United States believes that North Korean forces are taking high casualties",
                "claimant": "John Kirby",
            },
        ]
    }
    fake = FakeLLM(EXTRACTION, fix)
    brief = brief_document(from_text(TEXT, "seed.txt"), fake, settings(repair_attempts=2))
    assert_grounded(brief, TEXT)
    assert brief.run.repaired == 2
    assert {c.statement for c in brief.claims} >= {"Kirby spoke.", "Forces take casualties."}
    repair_prompt = fake.calls[1][1].user
    assert "Item 1 (claim): Kirby spoke." in repair_prompt and "Item 2 (claim)" in repair_prompt
    assert "Item 3" not in repair_prompt  # grounded items are never sent again
    assert all(r.kind != "claim" or "duplicate" in r.reason for r in brief.rejected)


def test_exhausted_repair_salvages_what_grounds() -> None:
    salvage = (
        '{"items": [{"item": 1, "evidence": "Kirby noted that in the past week alone"}, '
        '{"item": 2, "evidence": "nowhere in the text"}]}'
    )
    fake = FakeLLM(EXTRACTION, ReasksExhausted("no", salvage, CallStats(attempts=2)))
    brief = brief_document(from_text(TEXT, "seed.txt"), fake, settings(repair_attempts=2))
    assert brief.run.repaired == 1
    assert brief.run.attempts == 3
    assert sum(1 for r in brief.rejected if r.kind == "claim" and "after 2 repair requests" in r.reason) == 1


def test_duplicate_claims_are_rejected_as_such() -> None:
    fake = FakeLLM(dict(EXTRACTION, claims=[GOOD_CLAIM, dict(GOOD_CLAIM, statement="again")]))
    brief = brief_document(from_text(TEXT, "seed.txt"), fake, settings())
    assert len(brief.claims) == 1
    assert any(r.kind == "claim" and r.reason == "duplicate of C1" for r in brief.rejected)


def test_no_repair_when_everything_grounds() -> None:
    clean = dict(EXTRACTION, claims=[GOOD_CLAIM], actors=ACTORS[:3])
    fake = FakeLLM(clean)
    brief = brief_document(from_text(TEXT, "seed.txt"), fake, settings())
    assert len(fake.calls) == 1 and brief.run.attempts == 1
    assert [r.kind for r in brief.rejected] == ["alias"]  # only the alias "Zelensky", not in the text


def test_repairs_disabled_rejects_immediately() -> None:
    fake = FakeLLM(EXTRACTION)
    brief = brief_document(from_text(TEXT, "seed.txt"), fake, settings(repair_attempts=0))
    assert len(fake.calls) == 1
    assert any(r.reason.startswith('evidence "Kirby said everything is fine."') for r in brief.rejected)


def test_uncertainty_concerns_claims_in_its_sentence() -> None:
    uncertain = {
        "description": "Casualty figure is an estimate",
        "kind": "estimated",
        "evidence": "That would be Ukraine’s first serious estimate of North Korean losses",
    }
    fake = FakeLLM(dict(EXTRACTION, claims=[GOOD_CLAIM, RANGE], uncertainties=[uncertain]))
    brief = brief_document(from_text(TEXT, "seed.txt"), fake, settings())
    range_claim = next(c for c in brief.claims if c.claimant == AUTHOR)
    assert brief.uncertainties[0].claim_ids == [range_claim.id]


@pytest.mark.parametrize(
    ("claimant", "expected"),
    [
        ("NIS", "National Intelligence Service"),
        ("the National Intelligence Service", "National Intelligence Service"),
        ("Zelenskyy", "Volodymyr Zelenskyy"),
        ("Kirby's", "John Kirby"),
        ("The Article", AUTHOR),
        ("anonymous source", "unnamed source"),
        ("Putin", None),
    ],
)
def test_claimant_resolution(claimant: str, expected: str | None) -> None:
    actors, _ = ground_actors(Extraction.model_validate(EXTRACTION).actors, TEXT)
    resolved = ActorIndex(actors).resolve(claimant)
    assert (resolved[0] if resolved else None) == expected


def test_name_key() -> None:
    assert name_key("  The  U.S.’s ") == name_key("u s")


def test_assemble_keeps_pending_items_for_repair() -> None:
    assembly = assemble(TEXT, Extraction.model_validate(EXTRACTION))
    assert [p.kind for p in assembly.pending] == ["claim", "claim"]
    assert [p.number for p in assembly.pending] == [1, 2]


def test_repairs_schema_is_bounded_to_the_pending_items() -> None:
    fake = FakeLLM(EXTRACTION, {"items": [{"item": 1, "evidence": "x"}, {"item": 2, "evidence": "y"}]})
    brief_document(from_text(TEXT, "seed.txt"), fake, settings())
    model = fake.calls and Repairs  # the class used is a bounded subclass named Repairs
    assert fake.calls[1][0] == model.__name__


def test_a_one_word_evidence_grounds_nothing() -> None:
    short = dict(GOOD_CLAIM, evidence="3,000")
    fake = FakeLLM(dict(EXTRACTION, claims=[short]), {"items": [{"item": 1, "evidence": "soldiers"}]})
    brief = brief_document(from_text(TEXT, "seed.txt"), fake, settings())
    assert brief.claims == []
    assert any("too short to support a claim" in r.reason for r in brief.rejected)


def test_repair_requests_are_capped_and_the_rest_rejected_with_the_reason() -> None:
    fix = {"items": [{"item": 1, "evidence": "Kirby noted that in the past week alone", "claimant": "John Kirby"}]}
    fake = FakeLLM(EXTRACTION, fix)
    brief = brief_document(from_text(TEXT, "seed.txt"), fake, settings(repair_max_items=1))
    assert brief.run.repaired == 1
    assert "Item 2" not in fake.calls[1][1].user
    skipped = [r for r in brief.rejected if "not sent for repair" in r.reason]
    assert len(skipped) == 1 and skipped[0].item["claimant"] == "The Pentagon"


def test_the_fake_and_the_real_client_share_the_interface_signature() -> None:
    from summarizer.llm import LLM

    def shape(function: Any) -> list[tuple[str, Any]]:
        return [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]

    assert shape(FakeLLM.extract) == shape(StructuredLLM.extract) == shape(LLM.extract)
    assert not inspect.isabstract(FakeLLM) and issubclass(LLM, StructuredLLM)


@pytest.mark.parametrize("padding", [0, 4])
def test_a_long_part_is_grounded_off_the_event_loop(padding: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # the seed is short: grounded in place; with four more copies beside it, the part exceeds
    # OFFLOAD_CHARS and its grounding, repair hints included, runs in a worker thread
    text = "\n\n".join([TEXT] * (padding + 1))
    assert (len(text) > pipeline.OFFLOAD_CHARS) == bool(padding)
    threads: list[str] = []
    original = Assembly.add_answer

    def add_answer(self: Assembly, *args: Any) -> None:
        threads.append(threading.current_thread().name)
        original(self, *args)

    monkeypatch.setattr(Assembly, "add_answer", add_answer)
    fake = FakeLLM(EXTRACTION, {"items": [{"item": 1, "evidence": "still not there"}]})
    brief = brief_document(from_text(text, "seed.txt"), fake, settings(repair_attempts=1))
    assert brief.document.parts == 1 and len(brief.claims) == 2
    assert (threads[0] != threading.main_thread().name) == bool(padding)
