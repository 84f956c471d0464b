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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ParamSpec, TypeVar

from pydantic import BaseModel

from . import attribution, guided, nlp
from .assembly import Assembly, Part, Pending, reject, repaired_draft
from .chunking import chunk_text, estimate_tokens
from .cues import cue_sentences, uncovered
from .documents import Document
from .errors import CeilingLearned, LLMError, ReasksExhausted
from .grounding import overlapping_any
from .models import (
    SPECIAL_CLAIMANTS,
    Additions,
    Brief,
    CoClaimant,
    DocumentMeta,
    Extraction,
    Limits,
    Origin,
    Rejected,
    RepairedItem,
    Repairs,
    RunMeta,
    Span,
    Summary,
    clip,
    joined,
)
from .prompts import (
    Prompt,
    continuation_prompt,
    extraction_prompt,
    guided_prompt,
    prompt_version,
    repair_prompt,
    summary_prompt,
)
from .settings import GUIDED_LIMITS, Settings
from .sizing import (
    MAX_LIMITS,
    SUMMARY_CALL_TOKENS,
    answer_budget,
    answer_tokens,
    document_limits,
    fit_ceiling,
    repair_tokens,
)
from .structured import CallStats, StructuredLLM, parse_lenient

# Grounding a part of this many characters takes a few milliseconds (measured on
# the recorded answers: median 1-2 ms, 10 ms for 10,000 characters and 25 claims);
# a longer part is grounded in a worker thread.
OFFLOAD_CHARS = 8_000
# The guided request's answer: a summary of at most 400 characters in a JSON object.
GUIDED_SUMMARY_TOKENS = 200
SUMMARY_SCHEMA = json.dumps(Summary.model_json_schema())
# A part of a document that guided extraction reads with no model: about 24,000 characters (3 a token), as much as the
# embedded model's default context would hold (rules need no context; a part bounds what one pass lists).
GUIDED_PART_TOKENS = 8_000

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
    """Tokens of document one request can carry: the context less the prompt, schema and answer.

    Guided extraction asks at most for a summary (its request is the document and a short instruction); when
    it asks nothing (the embedded profile) a part is ``GUIDED_PART_TOKENS``, whatever the model's context."""
    if settings.extraction_method == "guided":
        if not settings.briefs_ask_model:
            return GUIDED_PART_TOKENS
        empty = guided_prompt("")
        overhead = estimate_tokens(empty.system + empty.user) + estimate_tokens(SUMMARY_SCHEMA)
        return max(settings.context - overhead - GUIDED_SUMMARY_TOKENS, 64)
    limits = settings.limits or MAX_LIMITS
    listed = MAX_CANDIDATES if settings.profile == "capable" and settings.candidates else 0
    listing = [("x" * 40, "x" * CANDIDATE_CHARS)] * listed  # the candidates' room at most
    empty = extraction_prompt("", limits, complete=settings.profile == "capable", candidates=listing)
    schema = json.dumps(Extraction.bounded(limits, listed).model_json_schema())
    overhead = estimate_tokens(empty.system + empty.user) + estimate_tokens(schema)
    return max(settings.context - overhead - answer_budget(settings, limits), 64)


@dataclass(frozen=True)
class Opening:
    """The request that opens a part of a document: it depends on the text and settings only, on no answer."""

    model: type[BaseModel]
    prompt: Prompt
    max_tokens: int


MAX_CANDIDATES = 60  # the program's attributions a request lists (a long part's first ones)
CANDIDATE_CHARS = 160  # of each candidate's words: a pointer into the document, which the request holds


def candidates(text: str, settings: Settings) -> guided.Found:
    """The program's own attributions in ``text`` (the rules of ``guided.find``) for a capable model's answer
    to account for: the request lists the first ``MAX_CANDIDATES`` (``listed_candidates``); those after them are kept
    as the rules' claims when no claim covers them. None for the embedded profile."""
    if settings.profile != "capable" or not settings.candidates or settings.extraction_method != "extract":
        return guided.Found()
    return guided.find(text, GUIDED_LIMITS)


def listed_candidates(found: guided.Found) -> list[guided.FoundClaim]:
    """The candidates a request lists, numbered from 1 in this order."""
    return found.claims[:MAX_CANDIDATES]


def candidate_words(claim: guided.FoundClaim, text: str) -> tuple[str, str]:
    """A candidate as a request lists it: its likely claimants, and its words (of ``text``, the part) clipped."""
    return joined([claim.claimant, *claim.also]), clip(
        " ".join(text[claim.start : claim.end].split()), CANDIDATE_CHARS, "words"
    )


def _extraction_request(text: str, limits: Limits, settings: Settings, found: guided.Found | None = None) -> Opening:
    listed = listed_candidates(found if found is not None else candidates(text, settings))
    words = [candidate_words(c, text) for c in listed]
    prompt = extraction_prompt(text, limits, complete=settings.profile == "capable", candidates=words)
    return Opening(Extraction.bounded(limits, len(listed)), prompt, answer_tokens(limits))


def _guided_request(text: str) -> Opening:
    return Opening(Summary, guided_prompt(text), GUIDED_SUMMARY_TOKENS)


def openings(document: Document, settings: Settings) -> list[Opening]:
    """The first request of each part of ``document``, exactly as ``brief_document`` makes them: what a batch
    can carry before any answer is known (repairs, continuations and the summary of the parts follow from
    answers). Empty when the briefs ask no model."""
    if not settings.briefs_ask_model:
        return []
    chunks = chunk_text(document.text, chunk_budget(settings), settings.chunk_overlap_tokens)
    if settings.extraction_method == "guided":
        return [_guided_request(chunk.text) for chunk in chunks]
    return [_extraction_request(chunk.text, document_limits(chunk.text, settings), settings) for chunk in chunks]


async def brief_document(document: Document, llm: StructuredLLM, settings: Settings) -> Brief:
    """Brief one document, in parts when it exceeds the model's context.

    Raises LLMError / FixtureMissing when no brief can be made.
    """
    llm.start_scenario(document.name)
    stats = CallStats()
    text = document.text
    chunks = await _cpu(len(text), chunk_text, text, chunk_budget(settings), settings.chunk_overlap_tokens)
    method = settings.extraction_method
    assembly = Assembly(text=document.text, origin="rules" if method == "guided" else "model")
    brief_part = _guided_part if method == "guided" else _brief_part
    summaries = []
    for number, chunk in enumerate(chunks):
        part = Part(number, (chunk.start, chunk.end)) if len(chunks) > 1 else Part()
        summaries.append(await brief_part(chunk.text, part, assembly, llm, settings, stats))
    if method == "guided":
        summary, assembly.summary_origin = await _guided_summary(summaries, text, assembly, llm, settings, stats)
    else:  # a model's summary, checked as the guided path checks one: no name or number the text lacks
        written = summaries[0] if len(chunks) == 1 else await _summarise(summaries, llm, settings, stats)
        summary = await _cpu(len(text), _checked_summary, written, text, assembly)
        if written.strip() and not summary:  # every sentence dropped: the document's lead stands in
            summary, assembly.summary_origin = guided.lead(text), "rules"
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
            outlet=document.outlet,
            author=document.author,
            url=document.url,
            path=document.path,
            source=document.source,
            chars=len(document.text),
            format=document.format,
            parts=parts,
        ),
        run=RunMeta(
            provider=settings.brief_provider,
            base_url=settings.public_base_url if settings.briefs_ask_model else None,
            model=settings.brief_model,
            mode=llm.mode_name if settings.briefs_ask_model else "none",
            method=settings.extraction_method,
            summary_origin=assembly.summary_origin,
            rules_version=guided.rules_version() if settings.extraction_method == "guided" else None,
            nlp_model=nlp.model_name() if settings.extraction_method == "guided" else None,
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
    missing; its summary. An endpoint that cuts the first answer below the ceiling the run assumed is asked
    once more with caps that fit what it gives (``CeilingLearned``); later parts are sized to it from the
    start."""
    limits = _fitted(await _cpu(len(text), document_limits, text, settings), llm, settings)
    found = await _cpu(len(text), candidates, text, settings)
    for attempt in range(2):
        opening = _extraction_request(text, limits, settings, found)
        try:
            extraction, call = await llm.extract(
                Extraction.bounded(limits, len(listed_candidates(found))),
                opening.prompt,
                reasks=settings.schema_reasks,
                max_tokens=opening.max_tokens,
            )
            break
        except CeilingLearned as learned:  # the endpoint stops answers sooner than assumed: smaller caps, once
            if learned.stats is not None:
                stats.add(learned.stats)
            if attempt or settings.limits is not None:
                raise
            limits = _fitted(limits, llm, settings)
    stats.add(call)
    assembly.passes += 1
    await _ground(extraction, part, assembly, limits, llm, settings, stats)
    numbered = len(listed_candidates(found))
    declined = {d.candidate: d.reason for d in getattr(extraction, "declined", []) if d.candidate <= numbered}
    skipped = (found, declined)
    await _continue(text, part, assembly, limits, _filled(extraction, limits), llm, settings, stats, skipped)
    await _cpu(len(text), _account, found, declined, text, part, assembly)
    return extraction.summary.strip()


def _fitted(limits: Limits, llm: StructuredLLM, settings: Settings) -> Limits:
    """``limits`` made to fit the endpoint's own ceiling where the run has learnt one lower than the settings'."""
    learned = llm.output_ceiling(settings.output_ceiling)
    if settings.limits is not None or learned >= settings.output_ceiling:
        return limits  # fixed caps (--max-claims, the embedded profile) are the user's to change
    return fit_ceiling(limits, learned)


UNACCOUNTED = "the program's candidate {number}: no claim of the model's covers it, and the model did not decline it"
UNLISTED = (
    "the program's attribution: no claim of the model's covers it (the request listed the first {listed} candidates)"
)


def _claimed_by(claimant: str, span: tuple[int, int], assembly: Assembly) -> bool:
    """Whether a claim on ``span`` names ``claimant`` (one of two sources on one sentence is covered only by a
    claim of its own)."""
    key = attribution.actor_key(claimant)
    return any(
        key in {attribution.actor_key(name) for name in c.claimants}
        for c in assembly.claims
        if c.evidence.start < span[1] and span[0] < c.evidence.end
    )


def _uncovered(found: guided.Found, part: Part, assembly: Assembly) -> list[tuple[int, guided.FoundClaim]]:
    """The program's candidates (numbered from 1) that no claim of the brief covers yet."""
    shift = part.window[0] if part.window else 0
    covered = overlapping_any([(c.evidence.start, c.evidence.end) for c in assembly.claims])
    shared = Counter((c.start, c.end) for c in found.claims)  # two sources on one sentence: two candidates
    left = []
    for number, claim in enumerate(found.claims, 1):
        span = (claim.start + shift, claim.end + shift)
        if not (
            covered(span) if shared[(claim.start, claim.end)] == 1 else _claimed_by(claim.claimant, span, assembly)
        ):
            left.append((number, claim))
    return left


def _account(found: guided.Found, declined: dict[int, str], text: str, part: Part, assembly: Assembly) -> None:
    """Each of the program's candidates that no claim covers after the answer and its continuation passes:
    kept as the rules' claim with a check mark, unless the model declined it (then listed as a rejected
    candidate with the model's reason)."""
    missing: list[guided.FoundClaim] = []
    for number, claim in _uncovered(found, part, assembly):
        if number in declined:
            item = {
                "candidate": number,
                "claimant": claim.claimant,
                "evidence": clip(text[claim.start : claim.end], 80, "chars"),
            }
            assembly.rejected.append(Rejected(kind="candidate", item=item, reason=declined[number]))
            continue
        why = UNACCOUNTED.format(number=number) if number <= MAX_CANDIDATES else UNLISTED.format(listed=MAX_CANDIDATES)
        why += f"; {claim.check}" if claim.check else ""
        missing.append(replace(claim, check=why))
    if not missing:
        return
    needed = {attribution.actor_key(name) for c in missing for name in (c.claimant, *c.also)}
    actors = [a for a in found.actors if attribution.actor_key(a.name) in needed]
    origin, assembly.origin = assembly.origin, "rules"
    try:
        _add_found(guided.Found(claims=missing, actors=actors), text, part, assembly)
    finally:
        assembly.origin = origin


async def _guided_part(
    text: str, part: Part, assembly: Assembly, llm: StructuredLLM, settings: Settings, stats: CallStats
) -> str:
    """Guided extraction of one part (or the whole document): the items by rule (``guided``), each grounded
    at the very place the rule found it. A capable model is asked for the part's summary, checked against
    the part; the embedded model is asked nothing (its summaries measured worse than the lead)."""
    found = await _cpu(len(text), guided.find, text, settings.limits or GUIDED_LIMITS)
    await _cpu(len(text), _add_found, found, text, part, assembly)
    assembly.passes += 1
    if not settings.briefs_ask_model:
        return ""
    opening = _guided_request(text)
    result, call = await llm.extract(
        Summary, opening.prompt, reasks=settings.schema_reasks, max_tokens=opening.max_tokens
    )
    stats.add(call)
    return _checked_summary(result.summary.strip(), text, assembly)


def _add_found(found: guided.Found, text: str, part: Part, assembly: Assembly) -> None:
    """What the rules found in one part, added to the brief.

    Each item is grounded in exactly its own span (a sentence written twice is not moved to its first
    place); what an earlier part already holds is left out (parts overlap); an actor an earlier part already
    lists is that actor, and its claims name it as listed."""
    shift = part.window[0] if part.window else 0
    answer = guided.answer(found, text)
    same: dict[str, str] = {}
    fresh = []
    for actor in answer.actors:
        known = [hit for n in (actor.name, *actor.aliases) if (hit := assembly.index.resolve(n)) and hit[1]]
        if known:
            same[actor.name] = known[0][0]
        else:
            fresh.append(actor)
    assembly.add_actors(fresh)
    earlier = overlapping_any([(c.evidence.start, c.evidence.end) for c in assembly.claims if c.evidence.end > shift])
    for draft, claim in zip(answer.claims, found.claims, strict=True):
        span = (claim.start + shift, claim.end + shift)
        if not earlier(span):
            draft.claimant = same.get(draft.claimant, draft.claimant)
            assembly.offer("claim", draft, Part(part.number, span, part.round))
    earlier = overlapping_any(
        [(u.evidence.start, u.evidence.end) for u in assembly.uncertainties if u.evidence.end > shift]
    )
    for item, uncertainty in zip(answer.uncertainties, found.uncertainties, strict=True):
        span = (uncertainty.start + shift, uncertainty.end + shift)
        if not earlier(span):
            assembly.offer("uncertainty", item, Part(part.number, span, part.round))
    assembly.reject_pending(0)  # evidence is the document's own words: nothing to repair
    # What the parse knows of each claim beyond the draft: the rules' doubts, and the source's own words.
    # A sentence with two sources is two claims on one span: each takes the notes of its own claimant.
    notes: dict[tuple[int, int], dict[str, dict[str, object]]] = {}
    for c in found.claims:
        update = _notes(c, text, shift)
        also = _also(c, assembly, same)
        if also:
            update["also"] = also
        if update:
            notes.setdefault((c.start + shift, c.end + shift), {})[same.get(c.claimant, c.claimant)] = update
    if notes:
        assembly.claims = [
            claim.model_copy(update=_own(notes[key], claim.claimant))
            if (key := (claim.evidence.start, claim.evidence.end)) in notes and claim.origin == "rules"
            else claim
            for claim in assembly.claims
        ]


def _own(notes: dict[str, dict[str, object]], claimant: str) -> dict[str, object]:
    """The notes of the found claim with this claimant on a span (the first on it when none has that name)."""
    return notes.get(claimant) or next(iter(notes.values()))


def _also(claim: guided.FoundClaim, assembly: Assembly, same: dict[str, str]) -> list[CoClaimant]:
    """A found claim's further named sources, as the brief lists them (``Assembly.further``)."""
    own = assembly.index.resolve(same.get(claim.claimant, claim.claimant))
    return assembly.further(own, [same.get(name, name) for name in claim.also])[0] if own else []


def _notes(claim: guided.FoundClaim, text: str, shift: int) -> dict[str, object]:
    """A found claim's check mark and source span (offsets into the whole document), where it has them."""
    update: dict[str, object] = {}
    if claim.check:
        update["check"] = claim.check
    if claim.source_start >= 0:
        start, end = claim.source_start + shift, claim.source_end + shift
        update["source"] = Span(
            quote=text[claim.source_start : claim.source_end], start=start, end=end, match="exact", score=1.0
        )
    return update


async def _guided_summary(
    summaries: list[str], text: str, assembly: Assembly, llm: StructuredLLM, settings: Settings, stats: CallStats
) -> tuple[str, Origin]:
    """The brief's summary under guided extraction, and who wrote it: the document's lead when no model is
    asked; else the model's (its parts' summaries summed up by one more call), checked against the text."""
    if not settings.briefs_ask_model:
        return guided.lead(text), "rules"
    summary = summaries[0] if len(summaries) == 1 else await _summarise(summaries, llm, settings, stats)
    checked = _checked_summary(summary, text, assembly) if len(summaries) > 1 else summary
    return (checked, "model") if checked else (guided.lead(text), "rules")


def _checked_summary(summary: str, text: str, assembly: Assembly) -> str:
    """The sentences of a model's summary that ``text`` supports (``guided.checked_summary``); the ones
    dropped are listed as rejected. Empty when none is left."""
    kept, dropped = guided.checked_summary(summary, text)
    assembly.rejected += [Rejected(kind="summary", item={"summary": s}, reason=why) for s, why in dropped]
    return kept


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
    skipped: tuple[guided.Found, dict[int, str]] | None = None,
) -> None:
    """Continuation passes: ask for what is still missing while cue sentences stay uncovered or the
    last answer filled its caps, until a pass adds nothing or the pass limit is reached. The first pass also
    names the listed candidates (``skipped``: the candidates and those the answer declined) that the answer
    neither claimed nor declined: asked about once more (the answer may claim or decline each; what it declines
    is added to ``skipped``'s), then kept as the rules' claims (``_account``)."""
    # found once (passes only cover more), in a worker: a long part has many
    sentences = await _cpu(len(text), cue_sentences, text) if settings.continuation_passes else []
    for passed in range(settings.continuation_passes):
        gaps = uncovered(sentences, assembly.covered(part))
        asked: list[tuple[int, tuple[str, str]]] = []
        if skipped is not None and passed == 0:
            found, declined = skipped
            numbered = len(listed_candidates(found))
            left = [(n, c) for n, c in _uncovered(found, part, assembly) if n <= numbered and n not in declined]
            asked = [(n, candidate_words(c, text)) for n, c in left]
            spans = overlapping_any([(c.start, c.end) for _, c in left])  # both in the part's own offsets
            gaps = [gap for gap in gaps if not spans((gap.start, gap.end))]  # the candidate says it
        if not gaps and not filled and not asked:
            return
        part = part.next_round()
        before = assembly.kept()
        try:
            additions, call = await llm.extract(
                Additions.bounded(limits, len(asked)),
                _continuation(text, assembly, limits, [gap.sentence for gap in gaps], asked),
                reasks=settings.schema_reasks,
                max_tokens=answer_tokens(limits),
            )
        except ReasksExhausted as exhausted:
            stats.add(exhausted.stats)  # a pass is optional: the brief keeps what it has
            return
        stats.add(call)
        assembly.passes += 1
        if skipped is not None and asked:  # declined now: kept out of the brief with the model's reason
            numbers = {number for number, _ in asked}
            skipped[1].update(
                (d.candidate, d.reason) for d in getattr(additions, "declined", []) if d.candidate in numbers
            )
        await _ground(additions, part, assembly, limits, llm, settings, stats)
        assembly.added += assembly.kept() - before
        if assembly.kept() == before:
            return
        filled = _filled(additions, limits)


def _continuation(
    text: str, assembly: Assembly, limits: Limits, gaps: list[str], asked: list[tuple[int, tuple[str, str]]]
) -> Prompt:
    return continuation_prompt(
        text,
        limits,
        assembly.index.names(),
        [(joined(claim.claimants), claim.evidence.quote) for claim in assembly.claims],
        [item.evidence.quote for item in assembly.uncertainties],
        gaps,
        asked,
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
