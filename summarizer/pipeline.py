"""One document: extract → ground → repair what failed → assemble the Brief.

The model's answer is grounded item by item (``assembly``). Items whose quote
is not in the document, or whose claimant is not a listed actor, go to one
*targeted* repair request that lists only them (cheap on a small local
model); its validators check every repaired item against the document, and
Instructor re-asks when one still fails. What is still ungrounded after that
budget goes to ``rejected`` with its reason; the rest of the brief survives.
A document longer than one request can carry is briefed in parts.

CPU-bound steps (chunking, grounding with its repair hints, cue sentences,
building the Brief) of a part longer than ``OFFLOAD_CHARS`` run in a worker
thread (``asyncio.to_thread``), so that one long or messy document never holds
up the requests of the others: the event loop keeps sending and receiving while
a worker grounds. Shorter parts are grounded in place: a few milliseconds,
less than the round trips through a thread would cost a concurrent run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from .assembly import Assembly, Part, Pending, reject, repaired_draft
from .chunking import chunk_text, estimate_tokens
from .cues import cue_sentences, uncovered
from .documents import Document
from .errors import LLMError, ReasksExhausted
from .models import (
    SPECIAL_CLAIMANTS,
    Additions,
    Brief,
    DocumentMeta,
    Extraction,
    Limits,
    RepairedItem,
    Repairs,
    RunMeta,
    Summary,
)
from .prompts import Prompt, continuation_prompt, extraction_prompt, prompt_version, repair_prompt, summary_prompt
from .settings import Settings
from .sizing import MAX_LIMITS, SUMMARY_CALL_TOKENS, answer_budget, answer_tokens, document_limits, repair_tokens
from .structured import CallStats, StructuredLLM, parse_lenient

# Grounding a part of this many characters takes a few milliseconds (measured on
# the recorded answers: median 1-2 ms, 10 ms for 10,000 characters and 25 claims);
# a longer part is grounded in a worker thread.
OFFLOAD_CHARS = 8_000

P = ParamSpec("P")
R = TypeVar("R")


async def _cpu(chars: int, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """``function(*args)``: in place for a short text, in a worker thread for a long one."""
    if chars <= OFFLOAD_CHARS:
        return function(*args, **kwargs)
    return await asyncio.to_thread(function, *args, **kwargs)


# --------------------------------------------------------------------------
# Targeted repair
# --------------------------------------------------------------------------


def repair_checker(assembly: Assembly, pending: dict[int, Pending]) -> Callable[[RepairedItem], list[str]]:
    def check(item: RepairedItem) -> list[str]:
        if item.item not in pending:
            return [f"item {item.item}: there is no such item; use the numbers given"]
        target = pending[item.item]
        problems = assembly.problems(repaired_draft(target, item), target.part)
        return [f"item {item.item}: {problem}" for problem in problems]

    return check


async def repair(
    assembly: Assembly, part: Part, llm: StructuredLLM, settings: Settings, stats: CallStats, limits: Limits
) -> None:
    """Ask again only for the pending items of ``part``; apply every repaired item that grounds."""
    if not assembly.pending or settings.repair_attempts == 0:
        return
    chosen, skipped = assembly.pending[: settings.repair_max_items], assembly.pending[settings.repair_max_items :]
    for left_out in skipped:
        left_out.problems.append(f"not sent for repair (at most {settings.repair_max_items} items per repair request)")
        assembly.rejected.append(reject(left_out.kind, left_out.draft, "; ".join(left_out.problems)))
    pending = {item.number: item for item in chosen}
    prompt = repair_prompt(assembly.part_text(part), assembly.index.names(), [p.for_prompt() for p in chosen])
    context = {"check": repair_checker(assembly, pending), "expected": sorted(pending)}
    model = Repairs.for_items(sorted(pending), [*assembly.index.names(), *SPECIAL_CLAIMANTS])
    try:
        repairs, call = await llm.extract(
            model,
            prompt,
            reasks=settings.repair_attempts - 1,
            context=context,
            max_tokens=repair_tokens(len(pending), limits),
        )
    except ReasksExhausted as exhausted:
        call = exhausted.stats
        repairs = parse_lenient(Repairs, exhausted.last_arguments) or Repairs(items=[])
    stats.add(call)
    await _cpu(len(assembly.part_text(part)), _apply_repairs, assembly, pending, repairs)


def _apply_repairs(assembly: Assembly, pending: dict[int, Pending], repairs: Repairs) -> None:
    """Keep every repaired item that grounds; what still fails stays pending."""
    for item in repairs.items:
        target = pending.get(item.item)
        if target is None:
            continue
        draft = repaired_draft(target, item)
        if assembly.problems(draft, target.part):
            continue
        assembly.add(draft, target.part)
        assembly.repaired += 1
        del pending[item.item]
    assembly.pending = list(pending.values())


# --------------------------------------------------------------------------
# The whole document
# --------------------------------------------------------------------------


def chunk_budget(settings: Settings) -> int:
    """Tokens of document one request can carry: the context less the prompt, schema and answer."""
    limits = settings.limits or MAX_LIMITS
    empty = extraction_prompt("", limits, complete=settings.profile == "capable")
    schema = json.dumps(Extraction.bounded(limits).model_json_schema())
    overhead = estimate_tokens(empty.system + empty.user) + estimate_tokens(schema)
    return max(settings.context - overhead - answer_budget(settings, limits), 64)


async def brief_document(document: Document, llm: StructuredLLM, settings: Settings) -> Brief:
    """Brief one document, in parts when it exceeds the model's context.

    Raises LLMError / FixtureMissing when no brief can be made.
    """
    llm.start_scenario(document.name)
    stats = CallStats()
    text = document.text
    chunks = await _cpu(len(text), chunk_text, text, chunk_budget(settings), settings.chunk_overlap_tokens)
    assembly = Assembly(text=document.text)
    summaries = []
    for number, chunk in enumerate(chunks):
        part = Part(number, (chunk.start, chunk.end)) if len(chunks) > 1 else Part()
        summaries.append(await _brief_part(chunk.text, part, assembly, llm, settings, stats))
    summary = summaries[0] if len(chunks) == 1 else await _summarise(summaries, llm, settings, stats)
    return await _cpu(len(text), _assemble, document, len(chunks), summary, assembly, llm, settings, stats)


def _assemble(
    document: Document,
    parts: int,
    summary: str,
    assembly: Assembly,
    llm: StructuredLLM,
    settings: Settings,
    stats: CallStats,
) -> Brief:
    """The Brief from what the document's parts kept."""
    assembly.relate_uncertainties()
    return Brief(
        document=DocumentMeta(
            id=document.id,
            sha256=document.sha256,
            title=document.title,
            date=document.date,
            path=document.path,
            source=document.source,
            chars=len(document.text),
            format=document.format,
            parts=parts,
        ),
        run=RunMeta(
            provider=settings.provider,
            base_url=settings.public_base_url,
            model=settings.model,
            mode=llm.mode_name,
            prompt_version=prompt_version(),
            temperature=settings.temperature,
            seed=settings.seed,
            usage=stats.usage,
            attempts=stats.attempts,
            repaired=assembly.repaired,
            passes=assembly.passes,
            added=assembly.added,
            latency_s=round(stats.latency_s, 3),
        ),
        summary=summary,
        actors=assembly.actors,
        claims=sorted(assembly.claims, key=lambda c: int(c.id[1:])),
        uncertainties=assembly.uncertainties,
        rejected=assembly.rejected,
    )


async def _brief_part(
    text: str, part: Part, assembly: Assembly, llm: StructuredLLM, settings: Settings, stats: CallStats
) -> str:
    """Extract from one part (or the whole document), ground it, repair what failed, ask for what is
    missing; its summary."""
    limits = await _cpu(len(text), document_limits, text, settings)
    prompt = extraction_prompt(text, limits, complete=settings.profile == "capable")
    extraction, call = await llm.extract(
        Extraction.bounded(limits), prompt, reasks=settings.schema_reasks, max_tokens=answer_tokens(limits)
    )
    stats.add(call)
    assembly.passes += 1
    await _ground(extraction, part, assembly, limits, llm, settings, stats)
    await _continue(text, part, assembly, limits, _filled(extraction, limits), llm, settings, stats)
    return extraction.summary.strip()


async def _ground(
    answer: Extraction | Additions,
    part: Part,
    assembly: Assembly,
    limits: Limits,
    llm: StructuredLLM,
    settings: Settings,
    stats: CallStats,
) -> None:
    """Ground one answer, repair what failed, reject what still fails."""
    await _cpu(len(assembly.part_text(part)), assembly.add_answer, answer, part)
    had_pending = bool(assembly.pending)
    await repair(assembly, part, llm, settings, stats, limits)
    assembly.reject_pending(settings.repair_attempts if had_pending else 0)


async def _continue(
    text: str,
    part: Part,
    assembly: Assembly,
    limits: Limits,
    filled: bool,
    llm: StructuredLLM,
    settings: Settings,
    stats: CallStats,
) -> None:
    """Continuation passes: ask for what is still missing while cue sentences stay uncovered or the
    last answer filled its caps, until a pass adds nothing or the pass limit is reached."""
    # found once (passes only cover more), in a worker: a long part has many
    sentences = await _cpu(len(text), cue_sentences, text) if settings.continuation_passes else []
    for _ in range(settings.continuation_passes):
        gaps = uncovered(sentences, assembly.covered(part))
        if not gaps and not filled:
            return
        part = part.next_round()
        before = assembly.kept()
        try:
            additions, call = await llm.extract(
                Additions.bounded(limits),
                _continuation(text, assembly, limits, [gap.sentence for gap in gaps]),
                reasks=settings.schema_reasks,
                max_tokens=answer_tokens(limits),
            )
        except ReasksExhausted as exhausted:
            stats.add(exhausted.stats)  # a pass is optional: the brief keeps what it has
            return
        stats.add(call)
        assembly.passes += 1
        await _ground(additions, part, assembly, limits, llm, settings, stats)
        assembly.added += assembly.kept() - before
        if assembly.kept() == before:
            return
        filled = _filled(additions, limits)


def _continuation(text: str, assembly: Assembly, limits: Limits, gaps: list[str]) -> Prompt:
    return continuation_prompt(
        text,
        limits,
        assembly.index.names(),
        [(claim.claimant, claim.evidence.quote) for claim in assembly.claims],
        [item.evidence.quote for item in assembly.uncertainties],
        gaps,
    )


def _filled(answer: Extraction | Additions, limits: Limits) -> bool:
    """Whether an answer stopped at a cap (so more may be missing than the cue sentences show)."""
    return len(answer.claims) >= limits.claims or len(answer.uncertainties) >= limits.uncertainties


async def _summarise(summaries: list[str], llm: StructuredLLM, settings: Settings, stats: CallStats) -> str:
    """One more call: the whole document's summary from its parts' summaries."""
    try:
        result, call = await llm.extract(
            Summary, summary_prompt(summaries), reasks=settings.schema_reasks, max_tokens=SUMMARY_CALL_TOKENS
        )
    except LLMError:
        return " ".join(s for s in summaries if s)  # the parts' own words, rather than no summary
    stats.add(call)
    return result.summary.strip()
