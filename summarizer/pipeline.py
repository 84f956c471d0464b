"""One document: extract → align → repair what failed → assemble the Brief.

The model's answer is grounded item by item. Items whose quote is not in the
document, or whose claimant is not a listed actor, go to one *targeted* repair
request that lists only them (cheap on a small local model); its validators
check every repaired item against the document, and Instructor re-asks when
one still fails. What is still ungrounded after that budget goes to
``rejected`` with its reason; the rest of the brief survives.
"""

from __future__ import annotations

import json
import re
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

from . import grounding
from .chunking import chunk_text, estimate_tokens
from .documents import Document, DocumentError, read_document
from .models import (
    AUTHOR,
    SPECIAL_CLAIMANTS,
    UNNAMED_SOURCE,
    Actor,
    ActorDraft,
    Brief,
    Claim,
    ClaimDraft,
    DocumentMeta,
    Extraction,
    Figure,
    FigureDraft,
    Rejected,
    RepairedItem,
    Repairs,
    RunMeta,
    Span,
    Summary,
    Uncertainty,
    UncertaintyDraft,
)
from .prompts import extraction_prompt, prompt_version, repair_prompt, summary_prompt
from .settings import Settings

if TYPE_CHECKING:
    from .llm import LLM, CallStats

_SPECIAL_ALIASES = {
    "author": AUTHOR, "the author": AUTHOR, "article": AUTHOR, "the article": AUTHOR, "reporter": AUTHOR,
    "unnamed source": UNNAMED_SOURCE, "unnamed sources": UNNAMED_SOURCE, "anonymous": UNNAMED_SOURCE,
    "anonymous source": UNNAMED_SOURCE, "unknown": UNNAMED_SOURCE, "sources": UNNAMED_SOURCE,
}
CUE_WINDOW = 120
# A one-character "8" is found in most articles but grounds nothing: evidence
# for a claim is a phrase; an uncertainty may be signalled by one word ("unclear").
MIN_CLAIM_EVIDENCE_WORDS = 3
MIN_UNCERTAINTY_EVIDENCE_CHARS = 4
HINT_CHARS = 240  # a hint is a verbatim prefix of a sentence, short enough to copy back as evidence


# --------------------------------------------------------------------------
# Grounding of single items
# --------------------------------------------------------------------------


def to_span(quote: str, text: str, *, window: tuple[int, int] | None = None, fuzzy: bool = True,
            whole_words: bool = False) -> Span | None:
    found = grounding.align(quote, text, window=window, fuzzy=fuzzy, whole_words=whole_words)
    if found is None:
        return None
    source = text[found.start:found.end]
    return Span(quote=source, start=found.start, end=found.end, match=found.match,  # type: ignore[arg-type]
                score=found.score, model_quote=None if source == quote else quote)


def name_key(name: str) -> str:
    """A claimant/actor name reduced for comparison: case, 'the', possessive, punctuation."""
    key = grounding.normalize(name).strip()
    key = re.sub(r"'s\b", "", key)
    key = re.sub(r"[^\w\s]", " ", key)
    key = re.sub(r"^the\s+", "", key.strip())
    return " ".join(key.split())


@dataclass
class ActorIndex:
    actors: list[Actor]

    def resolve(self, claimant: str) -> tuple[str, str | None] | None:
        """(canonical claimant, actor id) or None when it names no listed actor."""
        key = name_key(claimant)
        if key in _SPECIAL_ALIASES:
            return _SPECIAL_ALIASES[key], None
        exact = [a for a in self.actors if key in {name_key(n) for n in [a.name, *a.aliases]}]
        if exact:
            return exact[0].name, exact[0].id
        # "Zelenskyy" for "Volodymyr Zelenskyy": a unique token-subset match.
        words = set(key.split())
        partial = [
            a for a in self.actors
            if words and any(words <= set(name_key(n).split()) or set(name_key(n).split()) <= words
                             for n in [a.name, *a.aliases] if name_key(n))
        ]
        if len(partial) == 1:
            return partial[0].name, partial[0].id
        return None

    def names(self) -> list[str]:
        return [a.name for a in self.actors]


def ground_actors(drafts: list[ActorDraft], text: str,
                  existing: list[Actor] | None = None) -> tuple[list[Actor], list[Rejected]]:
    """Actors named in ``text`` (name or alias), appended to ``existing`` without duplicates."""
    actors: list[Actor] = list(existing or [])
    rejected: list[Rejected] = []
    seen: set[str] = {name_key(a.name) for a in actors}
    fresh: set[str] = set()
    for draft in drafts:
        key = name_key(draft.name)
        if not key or key in fresh:
            rejected.append(_reject("actor", draft, "duplicate or empty actor name"))
            continue
        fresh.add(key)
        if key in seen:
            continue  # already known from an earlier part of the document
        names = [draft.name, *draft.aliases]
        mention = next((s for n in names if n.strip() and (s := to_span(n, text, fuzzy=False, whole_words=True))),
                       None)
        if mention is None:
            rejected.append(_reject("actor", draft, "name not found in the document"))
            continue
        seen.add(key)
        aliases = []
        for alias in dict.fromkeys(a.strip() for a in draft.aliases):
            if not alias or name_key(alias) == key:
                continue
            if to_span(alias, text, fuzzy=False, whole_words=True) is None:
                rejected.append(Rejected(kind="alias", item={"actor": draft.name, "alias": alias},
                                         reason="alias not found in the document; actor kept without it"))
                continue
            aliases.append(alias)
        actors.append(Actor(id=f"A{len(actors) + 1}", name=draft.name.strip(), kind=draft.kind,
                            role=draft.role.strip(), aliases=aliases, mention=mention))
    return actors, rejected


def convert_figures(drafts: list[FigureDraft]) -> tuple[list[Figure], list[Rejected]]:
    figures: list[Figure] = []
    rejected: list[Rejected] = []
    for draft in drafts:
        values = draft.model_dump()
        if values["value"] is not None and values["low"] is not None and values["high"] is not None:
            values["value"] = None  # a range given alongside a value: the range is the figure
        if values["value"] is None and (values["low"] is None) != (values["high"] is None):
            values["value"] = values["low"] if values["low"] is not None else values["high"]
            values["low"] = values["high"] = None
        try:
            figures.append(Figure(**values))
        except ValueError as error:
            rejected.append(_reject("figure", draft, _error_text(error)))
    return figures, rejected


# --------------------------------------------------------------------------
# Assembly with pending failures
# --------------------------------------------------------------------------


@dataclass
class Pending:
    """An item that failed grounding and may still be repaired."""

    number: int
    kind: str  # "claim" | "uncertainty"
    draft: ClaimDraft | UncertaintyDraft
    problems: list[str]

    def for_prompt(self) -> dict[str, Any]:
        summary = self.draft.statement if isinstance(self.draft, ClaimDraft) else self.draft.description
        claimant = self.draft.claimant if isinstance(self.draft, ClaimDraft) else None
        return {"number": self.number, "kind": self.kind, "summary": summary, "evidence": self.draft.evidence,
                "claimant": claimant, "problems": self.problems}


@dataclass
class Assembly:
    text: str
    actors: list[Actor]
    index: ActorIndex
    claims: list[Claim] = field(default_factory=list)
    uncertainties: list[Uncertainty] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)
    repaired: int = 0
    # For a long document: the part being briefed now (quotes are looked for there
    # first; offsets stay global) and the part each item came from.
    window: tuple[int, int] | None = None
    part: int = 0
    parts: dict[str, int] = field(default_factory=dict)

    @property
    def part_text(self) -> str:
        return self.text if self.window is None else self.text[self.window[0]:self.window[1]]

    def span(self, quote: str) -> Span | None:
        return to_span(quote, self.text, window=self.window)

    def evidence_problem(self, quote: str) -> str:
        """Why a quote fails, with the closest source sentence as a hint to copy from."""
        problem = f'evidence "{_clip(quote)}" is not in the document'
        hint = grounding.closest_sentence(quote, self.part_text)
        if hint:
            problem += f'; the closest sentence is "{_clip_words(hint, HINT_CHARS)}"'
        return problem

    def claim_problems(self, draft: ClaimDraft) -> list[str]:
        problems = []
        if len(draft.evidence.split()) < MIN_CLAIM_EVIDENCE_WORDS:
            problems.append(f'evidence "{_clip(draft.evidence)}" is too short to support a claim '
                            f'(at least {MIN_CLAIM_EVIDENCE_WORDS} words)')
        elif self.span(draft.evidence) is None:
            problems.append(self.evidence_problem(draft.evidence))
        if self.index.resolve(draft.claimant) is None:
            problems.append(f'claimant "{draft.claimant}" is not a listed actor, "{AUTHOR}" or "{UNNAMED_SOURCE}"')
        return problems

    def uncertainty_problems(self, draft: UncertaintyDraft) -> list[str]:
        if len(draft.evidence.strip()) < MIN_UNCERTAINTY_EVIDENCE_CHARS:
            return [f'evidence "{draft.evidence}" is too short (at least {MIN_UNCERTAINTY_EVIDENCE_CHARS} characters)']
        if self.span(draft.evidence) is None:
            return [self.evidence_problem(draft.evidence)]
        return []

    def add_claim(self, draft: ClaimDraft) -> None:
        evidence = self.span(draft.evidence)
        resolved = self.index.resolve(draft.claimant)
        assert evidence is not None and resolved is not None, "add_claim needs a grounded claim"
        for index, claim in enumerate(self.claims):
            same = (claim.evidence.start, claim.evidence.end, claim.claimant) == (evidence.start, evidence.end,
                                                                               resolved[0])
            if same or self._overlaps_earlier_part(claim.id, claim.evidence, evidence):
                if not same and _attribution(resolved[1], draft.cue) > _attribution(claim.claimant_id, claim.cue):
                    self.rejected.append(Rejected(kind="claim", item=claim.model_dump(mode="json"),
                                                  reason="overlaps a better-attributed claim from another part"))
                    del self.claims[index]
                    self.parts.pop(claim.id, None)
                    self._insert_claim(draft, evidence, resolved, claim.id, index)
                    return
                self.rejected.append(_reject("claim", draft, f"duplicate of {claim.id}"))
                return
        self._insert_claim(draft, evidence, resolved, f"C{len(self.claims) + 1}", len(self.claims))

    def _overlaps_earlier_part(self, item_id: str, earlier: Span, evidence: Span) -> bool:
        """Chunks overlap, so the same words can be briefed twice: across parts an overlap is a duplicate."""
        return self.parts.get(item_id, self.part) != self.part and \
            grounding.overlaps((earlier.start, earlier.end), (evidence.start, evidence.end))

    def _insert_claim(self, draft: ClaimDraft, evidence: Span, resolved: tuple[str, str | None], claim_id: str,
                      position: int) -> None:
        cue = None
        if draft.cue and draft.cue.strip():
            window = grounding.sentence_bounds(self.text, evidence.start)
            cue = to_span(draft.cue, self.text, window=(window[0] - CUE_WINDOW, window[1] + CUE_WINDOW), fuzzy=False,
                          whole_words=True)
            if cue is None:
                self.rejected.append(Rejected(kind="cue", item={"claim": draft.statement, "cue": draft.cue},
                                              reason="attribution cue not found in the document; claim kept without it"))
        figures, bad_figures = convert_figures(draft.figures)
        self.rejected.extend(bad_figures)
        self.claims.insert(position, Claim(
            id=claim_id, claimant=resolved[0], claimant_id=resolved[1],
            statement=draft.statement.strip(), evidence=evidence, cue=cue, status=draft.status, figures=figures,
        ))
        self.parts[claim_id] = self.part

    def add_uncertainty(self, draft: UncertaintyDraft) -> None:
        evidence = self.span(draft.evidence)
        assert evidence is not None, "add_uncertainty needs a grounded uncertainty"
        for existing in self.uncertainties:
            if (existing.evidence.start, existing.evidence.end) == (evidence.start, evidence.end) \
                    or self._overlaps_earlier_part(existing.id, existing.evidence, evidence):
                self.rejected.append(_reject("uncertainty", draft, f"duplicate of {existing.id}"))
                return
        uncertainty_id = f"U{len(self.uncertainties) + 1}"
        self.uncertainties.append(Uncertainty(
            id=uncertainty_id, description=draft.description.strip(), kind=draft.kind, evidence=evidence,
        ))
        self.parts[uncertainty_id] = self.part

    def offer(self, kind: str, draft: ClaimDraft | UncertaintyDraft) -> None:
        """Add a grounded item now, or keep it pending for repair."""
        if isinstance(draft, ClaimDraft):
            problems = self.claim_problems(draft)
            if not problems:
                self.add_claim(draft)
                return
        else:
            problems = self.uncertainty_problems(draft)
            if not problems:
                self.add_uncertainty(draft)
                return
        self.pending.append(Pending(len(self.pending) + 1, kind, draft, problems))


def assemble(text: str, extraction: Extraction) -> Assembly:
    assembly = Assembly(text=text, actors=[], index=ActorIndex([]))
    add_part(assembly, extraction)
    return assembly


def add_part(assembly: Assembly, extraction: Extraction) -> None:
    """Ground one extraction (of the whole document, or of the part in ``assembly.window``)."""
    actors, rejected = ground_actors(extraction.actors, assembly.text, assembly.actors)
    assembly.actors[:] = actors
    assembly.index = ActorIndex(assembly.actors)
    assembly.rejected.extend(rejected)
    for claim in extraction.claims:
        assembly.offer("claim", claim)
    for uncertainty in extraction.uncertainties:
        assembly.offer("uncertainty", uncertainty)


# --------------------------------------------------------------------------
# Targeted repair
# --------------------------------------------------------------------------


def repaired_draft(pending: Pending, item: RepairedItem) -> ClaimDraft | UncertaintyDraft:
    update: dict[str, Any] = {"evidence": item.evidence}
    if isinstance(pending.draft, ClaimDraft) and item.claimant:
        update["claimant"] = item.claimant
    return pending.draft.model_copy(update=update)


def repair_checker(assembly: Assembly, pending: dict[int, Pending]) -> Callable[[RepairedItem], list[str]]:
    def check(item: RepairedItem) -> list[str]:
        if item.item not in pending:
            return [f"item {item.item}: there is no such item; use the numbers given"]
        draft = repaired_draft(pending[item.item], item)
        if isinstance(draft, ClaimDraft):
            problems = assembly.claim_problems(draft)
        else:
            problems = assembly.uncertainty_problems(draft)
        return [f"item {item.item}: {problem}" for problem in problems]

    return check


async def repair(assembly: Assembly, llm: "LLM", settings: Settings, stats: "CallStats") -> None:
    """Ask again only for the pending items; apply every repaired item that grounds."""
    from .llm import ReasksExhausted, parse_lenient

    if not assembly.pending or settings.repair_attempts == 0:
        return
    chosen, skipped = assembly.pending[:settings.repair_max_items], assembly.pending[settings.repair_max_items:]
    for item in skipped:
        item.problems.append(f"not sent for repair (at most {settings.repair_max_items} items per repair request)")
        assembly.rejected.append(_reject(item.kind, item.draft, "; ".join(item.problems)))
    pending = {item.number: item for item in chosen}
    prompt = repair_prompt(assembly.part_text, assembly.index.names(), [p.for_prompt() for p in chosen])
    context = {"check": repair_checker(assembly, pending), "expected": sorted(pending)}
    model = Repairs.for_items(sorted(pending), [*assembly.index.names(), *SPECIAL_CLAIMANTS])
    try:
        repairs, call = await llm.extract(model, prompt, reasks=settings.repair_attempts - 1, context=context)
    except ReasksExhausted as exhausted:
        call = exhausted.stats
        repairs = parse_lenient(Repairs, exhausted.last_arguments) or Repairs(items=[])
    stats.add(call)
    for item in repairs.items:
        target = pending.get(item.item)
        if target is None:
            continue
        draft = repaired_draft(target, item)
        if isinstance(draft, ClaimDraft) and not assembly.claim_problems(draft):
            assembly.add_claim(draft)
        elif isinstance(draft, UncertaintyDraft) and not assembly.uncertainty_problems(draft):
            assembly.add_uncertainty(draft)
        else:
            continue
        assembly.repaired += 1
        del pending[item.item]
    assembly.pending = list(pending.values())


def reject_pending(assembly: Assembly, attempts: int) -> None:
    suffix = f" (after {attempts} repair request{'s' if attempts != 1 else ''})" if attempts else ""
    for item in assembly.pending:
        assembly.rejected.append(_reject(item.kind, item.draft, "; ".join(item.problems) + suffix))
    assembly.pending = []


def relate_uncertainties(assembly: Assembly) -> None:
    """An uncertainty concerns the claims whose evidence shares its sentence."""
    for uncertainty in assembly.uncertainties:
        sentence = grounding.sentence_bounds(assembly.text, uncertainty.evidence.start)
        region = (min(sentence[0], uncertainty.evidence.start), max(sentence[1], uncertainty.evidence.end))
        uncertainty.claim_ids = [
            claim.id for claim in assembly.claims
            if grounding.overlaps(region, (claim.evidence.start, claim.evidence.end))
        ]


# --------------------------------------------------------------------------
# The whole document
# --------------------------------------------------------------------------


def chunk_budget(settings: Settings) -> int:
    """Tokens of document one request can carry: the context less the prompt, schema and answer."""
    empty = extraction_prompt("", settings.limits)
    schema = json.dumps(Extraction.bounded(settings.limits).model_json_schema())
    overhead = estimate_tokens(empty.system + empty.user) + estimate_tokens(schema)
    return max(settings.context - overhead - settings.max_tokens, 64)


async def brief_document(document: Document, llm: "LLM", settings: Settings) -> Brief:
    """Brief one document, in parts when it exceeds the model's context.

    Raises LLMError / FixtureMissing when no brief can be made.
    """
    from .llm import CallStats

    llm.start_scenario(document.name)
    stats = CallStats()
    chunks = chunk_text(document.text, chunk_budget(settings), settings.chunk_overlap_tokens)
    assembly = Assembly(text=document.text, actors=[], index=ActorIndex([]))
    summaries = []
    for part, chunk in enumerate(chunks):
        if len(chunks) > 1:
            assembly.window, assembly.part = (chunk.start, chunk.end), part
        summaries.append(await _brief_part(chunk.text, assembly, llm, settings, stats))
    summary = summaries[0] if len(chunks) == 1 else await _summarise(summaries, llm, settings, stats)
    relate_uncertainties(assembly)
    return Brief(
        document=DocumentMeta(id=document.id, title=document.title, date=document.date, path=document.path,
                              source=document.source, chars=len(document.text), format=document.format,
                              parts=len(chunks)),
        run=RunMeta(
            provider=settings.provider, base_url=settings.public_base_url, model=settings.model,
            mode=llm.mode_name, prompt_version=prompt_version(), temperature=settings.temperature,
            seed=settings.seed, usage=stats.usage, attempts=stats.attempts, repaired=assembly.repaired,
            latency_s=round(stats.latency_s, 3),
        ),
        summary=summary,
        actors=assembly.actors,
        claims=sorted(assembly.claims, key=lambda c: int(c.id[1:])),
        uncertainties=assembly.uncertainties,
        rejected=assembly.rejected,
    )


async def _brief_part(text: str, assembly: Assembly, llm: "LLM", settings: Settings, stats: "CallStats") -> str:
    """Extract from one part (or the whole document), ground it, repair what failed; its summary."""
    model = Extraction.bounded(settings.limits)
    extraction, call = await llm.extract(model, extraction_prompt(text, settings.limits),
                                         reasks=settings.schema_reasks)
    stats.add(call)
    add_part(assembly, extraction)
    had_pending = bool(assembly.pending)
    await repair(assembly, llm, settings, stats)
    reject_pending(assembly, settings.repair_attempts if had_pending else 0)
    return extraction.summary.strip()


async def _summarise(summaries: list[str], llm: "LLM", settings: Settings, stats: "CallStats") -> str:
    """One more call: the whole document's summary from its parts' summaries."""
    from .llm import LLMError

    try:
        result, call = await llm.extract(Summary, summary_prompt(summaries), reasks=settings.schema_reasks)
    except LLMError:
        return " ".join(s for s in summaries if s)  # the parts' own words, rather than no summary
    stats.add(call)
    return result.summary.strip()


def _reject(kind: str, draft: Any, reason: str) -> Rejected:
    return Rejected(kind=kind, item=draft.model_dump(mode="json"), reason=reason)  # type: ignore[arg-type]


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _attribution(claimant_id: str | None, cue: object) -> int:
    """How well a claim is attributed: to a named actor, and with its cue."""
    return (claimant_id is not None) + bool(cue)


def _clip_words(text: str, limit: int) -> str:
    """A prefix of ``text`` of at most ``limit`` characters, cut at a word boundary (still verbatim)."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[: cut.rfind(" ")] if " " in cut else cut


def _error_text(error: Exception) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        return "; ".join(str(e.get("msg", e)) for e in errors())
    return str(error)


# --------------------------------------------------------------------------
# A run: the provider opened once, many documents
# --------------------------------------------------------------------------


@dataclass
class Outcome:
    """One input's result: a brief, or the error that stopped it."""

    source: str
    brief: Brief | None = None
    error: Exception | None = None
    text: str | None = None  # the document's text, to save beside a brief of an HTML page


@asynccontextmanager
async def llm_session(settings: Settings) -> AsyncIterator[tuple["LLM", Settings, Callable[[], Exception | None]]]:
    """Open the provider once for a run: start the embedded server when needed, always stop it.

    Yields the LLM client, the settings it runs with (the local server's URL
    filled in) and a probe that describes a provider that died mid-run.
    """
    from .llm import LLM

    if settings.provider == "local" and settings.replay_dir is None and settings.base_url is None:
        from .local import LocalServer

        server = LocalServer(settings.model_path, n_ctx=settings.n_ctx, port=settings.local_port,
                             startup_timeout_s=settings.server_start_timeout_s)
        with server:
            running = settings.model_copy(update={"base_url": server.base_url})
            llm = LLM(running)
            try:
                yield llm, running, server.failure
            finally:
                await llm.aclose()
        return
    llm = LLM(settings)
    try:
        yield llm, settings, lambda: None
    finally:
        await llm.aclose()


async def brief_inputs(
    sources: list[str],
    settings: Settings,
    *,
    on_start: Callable[[str, Settings], None] | None = None,
) -> AsyncIterator[Outcome]:
    """Brief each input in turn; a bad input or a failed call never stops the others.

    Inputs are read before the provider starts, so a run of only bad inputs
    starts no server.
    """
    from .fixtures import FixtureMissing
    from .llm import LLMError

    documents: list[tuple[str, Document | None, Exception | None]] = []
    for source in sources:
        try:
            documents.append((source, read_document(source), None))
        except DocumentError as error:
            documents.append((source, None, error))
    if not any(document for _, document, _ in documents):
        for source, _, error in documents:
            yield Outcome(source, error=error)
        return
    async with llm_session(settings) as (llm, running, failure):
        dead: Exception | None = None
        for source, document, error in documents:
            if document is None or dead is not None:
                yield Outcome(source, error=error or dead)
                continue
            if on_start:
                on_start(source, running)
            try:
                yield Outcome(source, brief=await brief_document(document, llm, running), text=document.text)
            except (LLMError, FixtureMissing) as failed:
                dead = failure()
                yield Outcome(source, error=dead or failed)
