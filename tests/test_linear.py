"""Linear in the document: the indexed walks give what the plain scans gave.

Each fast path (spans found by bisection, one sweep over sorted cuts) is checked
against a plain scan of the same inputs: the scans written out here, or the
assembly's own unindexed path, on a mid-size document briefed in many
overlapping parts (so that duplicates across parts, replacements and
uncertainties that concern several claims all occur).
"""

from __future__ import annotations

import asyncio
import random
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from summarizer import assembly as assembly_module
from summarizer import cues, grounding, pipeline
from summarizer.documents import from_text
from summarizer.models import Brief, Usage
from summarizer.render import _html_spans, highlighted_source
from summarizer.settings import build_settings
from summarizer.structured import CallStats, NoModel, StructuredLLM

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = sorted((ROOT / "seeds" / "wikinews").glob("*.txt"))


def mid_size_text() -> str:
    """About 14,000 characters: four Wikinews articles and a dense run of attributed, hedged sentences."""
    news = "\n\n".join(p.read_text(encoding="utf-8") for p in ARTICLES[:4])
    dense = " ".join(
        f"Bob said it may be {n}." + (" Officials said the figure was disputed." if n % 7 == 0 else "")
        for n in range(120)
    )
    return f"{news}\n\n{dense}\n"


class PartsFake(StructuredLLM):
    """A model that answers each part with a claim on its first and last sentences (the parts overlap, so
    neighbouring answers repeat claims), every other answer quoting a little less and giving the cue (so a
    repeat can be the better-attributed one, which replaces the first), and an uncertainty on each hedged
    sentence."""

    def __init__(self) -> None:
        self.calls = 0

    async def extract(
        self, response_model: Any, prompt: Any, *, reasks: int, context: Any = None, max_tokens: int | None = None
    ) -> tuple[Any, CallStats]:
        stats = CallStats(usage=Usage(prompt_tokens=10, completion_tokens=10, total_tokens=20), attempts=1)
        name = response_model.__name__
        if name == "Summary":
            return response_model(summary="A document."), stats
        if name != "Extraction":
            return response_model.model_validate({"actors": [], "claims": [], "uncertainties": []}), stats
        self.calls += 1  # answers to parts, counted
        text = re.search(r"<document>\n(.*)\n</document>", prompt.user, re.S).group(1)
        said = [text[a:b] for a, b in grounding.sentences(text) if " said " in text[a:b]]
        said = said[:4] + said[4:][-4:]  # the head and the tail of the part: the tail is the next part's head
        claims = [
            {
                "claimant": "Bob" if s.startswith("Bob") else "author",
                "statement": s[:60],
                "evidence": s[:-1] if self.calls % 2 else s,  # overlapping, not the same span
                "cue": "said" if self.calls % 2 else None,
                "status": "reported",
            }
            for s in said
        ]
        hedged = [{"description": s[:60], "kind": "estimated", "evidence": s} for s in said if " may " in s]
        answer = {
            "summary": "A part.",
            "actors": [{"name": "Bob", "kind": "person", "role": "speaker"}],
            "claims": claims,
            "uncertainties": hedged,
        }
        return response_model.model_validate(answer), stats


def brief_of(text: str, monkeypatch: pytest.MonkeyPatch, *, indexed: bool, model: bool = False) -> Brief:
    monkeypatch.setattr(pipeline, "GUIDED_PART_TOKENS", 600)  # many parts, each overlapping the next
    if model:
        monkeypatch.setattr(pipeline, "chunk_budget", lambda settings: 600)
    if not indexed:
        plain = assembly_module.duplicate_of

        def scan(*args: Any, index: object = None, **kwargs: Any) -> int | None:
            return plain(*args, **kwargs)

        monkeypatch.setattr(assembly_module, "duplicate_of", scan)
    if model:
        settings = build_settings(  # the answers' own duplicates (candidates: tests/test_statements.py)
            provider="openai", base_url="http://127.0.0.1:9/v1", environ={"OPENAI_API_KEY": "x"}, candidates=False
        )
        settings = settings.model_copy(update={"chunk_overlap_tokens": 300})  # half of each part repeats
        llm: StructuredLLM = PartsFake()
    else:
        settings, llm = build_settings(environ={}), NoModel()
    brief = asyncio.run(pipeline.brief_document(from_text(text, "mid.txt"), llm, settings))
    monkeypatch.undo()
    return brief


def test_the_indexed_assembly_makes_the_brief_the_plain_scan_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rules (no model): parts overlap; the claims a part repeats are left out before assembly."""
    text = mid_size_text()
    fast = brief_of(text, monkeypatch, indexed=True)
    slow = brief_of(text, monkeypatch, indexed=False)
    assert fast.document.parts > 5
    assert len(fast.claims) > 100 and any(u.claim_ids for u in fast.uncertainties)
    assert fast.model_dump(exclude={"run"}) == slow.model_dump(exclude={"run"})
    for claim in fast.claims:
        assert text[claim.evidence.start : claim.evidence.end] == claim.evidence.quote


def test_duplicates_across_parts_are_found_as_the_scan_found_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model's answers, one per overlapping part: duplicates and better-attributed replacements."""
    text = mid_size_text()
    fast = brief_of(text, monkeypatch, indexed=True, model=True)
    slow = brief_of(text, monkeypatch, indexed=False, model=True)
    reasons = [r.reason for r in fast.rejected]
    assert any(r.startswith("duplicate of C") for r in reasons)
    assert any(r.startswith("duplicate of U") for r in reasons)
    assert "overlaps a better-attributed claim from another part" in reasons
    assert len(fast.claims) > 30
    assert fast.model_dump(exclude={"run"}) == slow.model_dump(exclude={"run"})


def test_related_uncertainties_are_those_a_scan_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    text = mid_size_text()
    brief = brief_of(text, monkeypatch, indexed=True)
    for uncertainty in brief.uncertainties:
        sentence = grounding.sentence_bounds(text, uncertainty.evidence.start)
        region = (min(sentence[0], uncertainty.evidence.start), max(sentence[1], uncertainty.evidence.end))
        expected = [c.id for c in brief.claims if grounding.overlaps(region, (c.evidence.start, c.evidence.end))]
        assert uncertainty.claim_ids == expected


def plain_highlighted(text: str, brief: Brief) -> str:
    """The page's source as it was built before the sweep: every cut compared with every span."""
    from html import escape

    spans = [s for s in _html_spans(brief) if 0 <= s[0] < s[1] <= len(text)]
    cuts = sorted({0, len(text), *(s[0] for s in spans), *(s[1] for s in spans)})
    out = []
    for start, end in pairwise(cuts):
        covering = [s for s in spans if s[0] <= start and end <= s[1]]
        piece = escape(text[start:end])
        if not covering:
            out.append(piece)
            continue
        classes = " ".join(sorted({s[2] for s in covering}))
        ids = " ".join(dict.fromkeys(s[3] for s in covering))
        anchors = "".join(f'<span id="at-{s[3]}-{s[2]}"></span>' for s in covering if s[0] == start)
        out.append(f'{anchors}<mark class="{classes}" data-ids="{ids}">{piece}</mark>')
    return "".join(out)


def test_the_highlighted_page_is_the_one_the_plain_scan_built(monkeypatch: pytest.MonkeyPatch) -> None:
    text = mid_size_text()
    brief = brief_of(text, monkeypatch, indexed=True)
    page = highlighted_source(text, brief)
    assert page.count("<mark") > 100
    assert page == plain_highlighted(text, brief)


def test_sentence_bounds_by_bisection_match_the_scan() -> None:
    text = mid_size_text()
    spans = grounding.sentences(text)

    def scan(position: int) -> tuple[int, int]:
        for start, end in spans:
            if position < end:
                return (start, end) if position >= start else (position, end)
        return position, len(text)

    for position in range(0, len(text) + 1, 7):
        assert grounding.sentence_bounds(text, position) == scan(position)
    assert grounding.sentence_bounds(text, len(text)) == scan(len(text))


def test_overlap_tests_by_bisection_match_the_scan() -> None:
    chooser = random.Random(28)
    for _ in range(200):
        spans = [
            (a, a + chooser.randint(0, 40)) for a in (chooser.randint(0, 500) for _ in range(chooser.randint(0, 30)))
        ]
        overlaps_any = grounding.overlapping_any(spans)
        for _ in range(30):
            start = chooser.randint(0, 540)
            span = (start, start + chooser.randint(0, 60))
            assert overlaps_any(span) == any(grounding.overlaps(span, s) for s in spans)


def test_uncovered_cue_sentences_match_the_scan() -> None:
    text = mid_size_text()
    sentences = cues.cue_sentences(text)
    covered = [(g.start + 3, g.start + 9) for g in sentences[::3]] + [(0, 40)]
    expected = [g for g in sentences if not any(grounding.overlaps((g.start, g.end), s) for s in covered)]
    assert cues.uncovered(sentences, covered) == expected
    assert 0 < len(expected) < len(sentences)


def test_a_replaced_claim_is_found_at_its_new_place() -> None:
    """A claim replaced in place by a better-attributed one from another part: the index follows it."""
    index = assembly_module.SpanIndex()
    items = [_Item(0, 10), _Item(20, 30)]
    index.follow(items)
    old, items[0] = items[0], _Item(40, 50)
    index.moved(0, old.evidence, items[0].evidence)
    assert index.near(41, 45) == [0]
    assert 0 not in index.near(2, 5)
    items.append(_Item(3, 4))
    index.follow(items)
    assert index.near(2, 5) == [2]


class _Item:
    def __init__(self, start: int, end: int) -> None:
        self.evidence = grounding.Span(quote="x" * (end - start), start=start, end=end, match="exact", score=1.0)
