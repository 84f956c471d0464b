"""A model's answer grounded item by item into the parts of a Brief.

Actors are kept when their name (or an alias) is in the document; a claim or
uncertainty is kept when its evidence is found and its claimant resolves to a
listed actor. An item that fails is *pending*: the pipeline may ask for a
targeted repair, and what still fails goes to ``rejected`` with its reason.

A long document is briefed in parts: each call to ``offer`` says which
``Part`` the item came from (its window of the text is searched first;
offsets stay global), and items of different parts whose evidence overlaps
are duplicates (``duplicate_of``).
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from . import grounding, statements
from .grounding import ActorIndex, name_key, to_span
from .models import (
    AUTHOR,
    SOURCE_CHARS,
    UNNAMED_SOURCE,
    Actor,
    ActorDraft,
    Additions,
    Claim,
    ClaimDraft,
    CoClaimant,
    Extraction,
    Figure,
    FigureDraft,
    Origin,
    Rejected,
    RepairedItem,
    Span,
    Uncertainty,
    UncertaintyDraft,
    clip,
)

CUE_WINDOW = 120
SOURCE_BEFORE = 400  # how far before the evidence's sentence a source's words are looked for ("He said")
# A one-character "8" is found in most articles but grounds nothing: evidence
# for a claim is a phrase; an uncertainty may be signalled by one word ("unclear").
MIN_CLAIM_EVIDENCE_WORDS = 3
MIN_UNCERTAINTY_EVIDENCE_CHARS = 4
HINT_CHARS = 240  # a hint is a verbatim prefix of a sentence, short enough to copy back as evidence
QUOTE_CHARS = 80  # a model's quote shown in a reason for rejecting it

ItemKind = Literal["claim", "uncertainty"]
Item = TypeVar("Item", Claim, Uncertainty)
# Evidence that only names a source is not support for what the claim says it asserted.
NAME_ONLY = 'evidence "{quote}" only names a source; it does not say what was asserted'
RejectedKind = Literal["actor", "alias", "claim", "uncertainty", "figure", "cue", "source", "claimant"]
# A claimant named in `also` that is no listed actor: the claim stands on its own claimant.
UNLISTED_ALSO = (
    "a further claimant that is not a listed actor (or of a claim of the author's or an unnamed source); "
    "the claim is kept without it"
)
# "NBC News and ABC News", "Russia, China and Iran": a claimant that names several sources.
SEVERAL = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*")


@dataclass(frozen=True)
class Part:
    """Which answer items come from: the part of the document (its number and [start, end)
    window) and the pass over it (0 the first, then continuation passes).

    The whole document is part 0 with no window.
    """

    number: int = 0
    window: tuple[int, int] | None = None
    round: int = 0

    @property
    def origin(self) -> tuple[int, int]:
        return self.number, self.round

    def next_round(self) -> Part:
        return Part(self.number, self.window, self.round + 1)


WHOLE = Part()


# --------------------------------------------------------------------------
# Single items
# --------------------------------------------------------------------------


def ground_actors(
    drafts: list[ActorDraft], text: str, existing: list[Actor] | None = None, origin: Origin = "model"
) -> tuple[list[Actor], list[Rejected]]:
    """Actors named in ``text`` (name or alias), appended to ``existing`` without duplicates."""
    actors: list[Actor] = list(existing or [])
    rejected: list[Rejected] = []
    seen: set[str] = {name_key(a.name) for a in actors}
    fresh: set[str] = set()
    for draft in drafts:
        key = name_key(draft.name)
        if not key or key in fresh:
            rejected.append(reject("actor", draft, "duplicate or empty actor name"))
            continue
        fresh.add(key)
        if key in seen:
            continue  # already known from an earlier part of the document
        names = [draft.name, *draft.aliases]
        mention = next((s for n in names if n.strip() and (s := to_span(n, text, fuzzy=False, whole_words=True))), None)
        if mention is None:
            rejected.append(reject("actor", draft, "name not found in the document"))
            continue
        seen.add(key)
        aliases, bad_aliases = _grounded_aliases(draft, key, text)
        rejected += bad_aliases
        actors.append(
            Actor(
                id=f"A{len(actors) + 1}",
                name=draft.name.strip(),
                kind=draft.kind,
                role=draft.role.strip(),
                aliases=aliases,
                mention=mention,
                origin=origin,
            )
        )
    return actors, rejected


def _grounded_aliases(draft: ActorDraft, key: str, text: str) -> tuple[list[str], list[Rejected]]:
    aliases: list[str] = []
    rejected: list[Rejected] = []
    for alias in dict.fromkeys(a.strip() for a in draft.aliases):
        if not alias or name_key(alias) == key:
            continue
        if to_span(alias, text, fuzzy=False, whole_words=True) is None:
            rejected.append(
                Rejected(
                    kind="alias",
                    item={"actor": draft.name, "alias": alias},
                    reason=f'alias "{alias}" of "{draft.name}" not found in the document; actor kept without it',
                )
            )
            continue
        aliases.append(alias)
    return aliases, rejected


def convert_figures(drafts: list[FigureDraft], evidence: str | None = None) -> tuple[list[Figure], list[Rejected]]:
    """The model's figures as ``Figure``s. With ``evidence``, every number of a figure must be written
    there in some form (``grounding.written_numbers``); a figure whose number is not is rejected, so a
    number the model made up never reaches a brief or the digest's comparisons. A figure whose words give
    no number ("thousands") is kept with value null, its qualifier saying "(no number written)"."""
    figures: list[Figure] = []
    rejected: list[Rejected] = []
    written = grounding.written_numbers(evidence) if evidence is not None else None
    for draft in drafts:
        values = draft.model_dump()
        if values["value"] is not None and values["low"] is not None and values["high"] is not None:
            values["value"] = None  # a range given alongside a value: the range is the figure
        if values["value"] is None and (values["low"] is None) != (values["high"] is None):
            values["value"] = values["low"] if values["low"] is not None else values["high"]
            values["low"] = values["high"] = None
        if values["value"] is None and values["low"] is None:
            # Words without a number ("thousands"): kept without a value, and the qualifier says so. A figure
            # with neither a number nor words for one says nothing.
            if not values["qualifier"]:
                rejected.append(reject("figure", draft, "no number, and no words for one"))
                continue
            values["qualifier"] = f"{values['qualifier']} (no number written)"
        try:
            figure = Figure(**values)
        except ValueError as error:
            rejected.append(reject("figure", draft, error_text(error)))
            continue
        missing = [n for n in (figure.value, figure.low, figure.high) if n is not None and written is not None]
        missing = [n for n in missing if not grounding.number_written(n, written or ())]
        if missing:
            shown = ", ".join(f"{n:g}" for n in missing)
            rejected.append(reject("figure", draft, f"{shown} is not written in the claim's evidence"))
            continue
        figures.append(figure)
    return figures, rejected


class SpanIndex:
    """Where the items of one list (an assembly's claims, or its uncertainties) lie in the text: their
    evidence spans sorted, so the items a new span may duplicate are found by bisection rather than by
    walking thousands of items once per new one.

    It follows its list: items appended since the last look are added, a list replaced or shortened is
    indexed anew; an item replaced in place is told with ``moved``.
    """

    def __init__(self) -> None:
        self._source: list[Any] | None = None
        self._rows: list[tuple[int, int, int]] = []  # (start, end, position), sorted
        self._longest = 0
        self._count = 0  # the items of ``_source`` indexed so far

    def _add(self, start: int, end: int, position: int) -> None:
        insort(self._rows, (start, end, position))
        self._longest = max(self._longest, end - start)

    def follow(self, items: list[Any]) -> None:
        if items is not self._source or len(items) < self._count:
            self._source, self._rows, self._longest = items, [], 0
        for position in range(self._count, len(items)):
            evidence = items[position].evidence
            self._add(evidence.start, evidence.end, position)
        self._count = len(items)

    def moved(self, position: int, old: Span, new: Span) -> None:
        """The item at ``position`` was replaced by one whose evidence is ``new``."""
        if position < self._count:  # indexed already (else ``follow`` will index it as it is now)
            self._rows.remove((old.start, old.end, position))
            self._add(new.start, new.end, position)

    def near(self, start: int, end: int) -> list[int]:
        """The positions of the items that may overlap or equal [start, end), in list order (a superset)."""
        low = bisect_left(self._rows, (start - self._longest, -1, -1))
        high = bisect_right(self._rows, (end, sys.maxsize, sys.maxsize))  # every row that starts at or before end
        return sorted(position for _, _, position in self._rows[low:high])


def duplicate_of(
    evidence: Span,
    part: Part,
    items: list[Item],
    parts: dict[str, tuple[int, int]],
    same: Callable[[Item], bool] | None = None,
    index: SpanIndex | None = None,
) -> int | None:
    """The position of the item that ``evidence`` duplicates, or None.

    The same span is a duplicate within one answer; across answers (chunks
    overlap, and a continuation pass may repeat an item) any overlap is.
    ``same`` narrows "the same span" further (a claim is the same only with the
    same claimant). With an ``index`` of ``items``, only the items near the span
    are looked at (the answer is the same: the first such item in list order).
    """
    if index is not None:
        index.follow(items)
        positions: Iterable[int] = index.near(evidence.start, evidence.end)
    else:
        positions = range(len(items))
    for position in positions:
        item = items[position]
        if (item.evidence.start, item.evidence.end) == (evidence.start, evidence.end) and (same is None or same(item)):
            return position
        earlier = parts.get(item.id, part.origin)
        if earlier != part.origin and grounding.overlaps(
            (item.evidence.start, item.evidence.end), (evidence.start, evidence.end)
        ):
            return position
    return None


# --------------------------------------------------------------------------
# Assembly with pending failures
# --------------------------------------------------------------------------


@dataclass
class Pending:
    """An item that failed grounding and may still be repaired."""

    number: int
    kind: ItemKind
    draft: ClaimDraft | UncertaintyDraft
    part: Part
    problems: list[str]

    def for_prompt(self) -> dict[str, Any]:
        summary = self.draft.statement if isinstance(self.draft, ClaimDraft) else self.draft.description
        claimant = self.draft.claimant if isinstance(self.draft, ClaimDraft) else None
        return {
            "number": self.number,
            "kind": self.kind,
            "summary": summary,
            "evidence": self.draft.evidence,
            "claimant": claimant,
            "problems": self.problems,
        }


@dataclass
class Assembly:
    """The brief being built from one or more answers (one per part of the document)."""

    text: str
    origin: Origin = "model"  # what every item added is marked as: the model's answer or the program's rules
    summary_origin: Origin = "model"  # rules: the summary is the document's lead (guided extraction)
    actors: list[Actor] = field(default_factory=list)
    index: ActorIndex = field(default_factory=lambda: ActorIndex([]))
    claims: list[Claim] = field(default_factory=list)
    uncertainties: list[Uncertainty] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)
    repaired: int = 0
    passes: int = 0  # extraction requests made: one per part, plus continuation passes
    added: int = 0  # claims and uncertainties kept from continuation passes
    parts: dict[str, tuple[int, int]] = field(default_factory=dict)  # item id → the part and pass it came from
    claim_spans: SpanIndex = field(default_factory=SpanIndex, repr=False, compare=False)
    uncertainty_spans: SpanIndex = field(default_factory=SpanIndex, repr=False, compare=False)

    def part_text(self, part: Part) -> str:
        return self.text if part.window is None else self.text[part.window[0] : part.window[1]]

    def span(self, quote: str, part: Part) -> Span | None:
        return to_span(quote, self.text, window=part.window)

    def evidence_problem(self, quote: str, part: Part) -> str:
        """Why a quote fails, with the closest source sentence as a hint to copy from."""
        problem = f'evidence "{clip(quote, QUOTE_CHARS, "chars")}" is not in the document'
        hint = grounding.closest_sentence(quote, self.part_text(part))
        if hint:
            problem += f'; the closest sentence is "{clip(hint, HINT_CHARS, "verbatim")}"'
        return problem

    def claim_problems(self, draft: ClaimDraft, part: Part) -> list[str]:
        problems = []
        if len(draft.evidence.split()) < MIN_CLAIM_EVIDENCE_WORDS:
            problems.append(
                f'evidence "{clip(draft.evidence, QUOTE_CHARS, "chars")}" is too short to support a claim '
                f"(at least {MIN_CLAIM_EVIDENCE_WORDS} words)"
            )
        elif self.span(draft.evidence, part) is None:
            problems.append(self.evidence_problem(draft.evidence, part))
        if self.claimants(draft) is None:
            problems.append(f'claimant "{draft.claimant}" is not a listed actor, "{AUTHOR}" or "{UNNAMED_SOURCE}"')
        return problems

    def claimants(self, draft: ClaimDraft) -> tuple[tuple[str, str | None], list[CoClaimant], list[str]] | None:
        """The claimant resolved (name, actor id), the further claimants that are listed actors, and the names
        of ``also`` that are not; None when the claimant resolves to nothing. A claimant that names several
        listed actors ("NBC News and ABC News") is the first of them, the others further claimants."""
        resolved = self.index.resolve(draft.claimant)
        names = [n for n in getattr(draft, "also", None) or [] if isinstance(n, str) and n.strip()]
        if resolved is None:
            parts = [p for p in SEVERAL.split(draft.claimant.strip()) if p.strip()]
            hits = [self.index.resolve_exactly(p) for p in parts]  # "Simon & Schuster" is not Paul Simon
            if len(parts) < 2 or not all(hit is not None and hit[1] is not None for hit in hits):
                return None
            resolved, names = hits[0], parts[1:] + names
        assert resolved is not None
        return (resolved, *self.further(resolved, names))

    def further(self, resolved: tuple[str, str | None], names: list[str]) -> tuple[list[CoClaimant], list[str]]:
        """The further claimants of a claim whose claimant is ``resolved``: those of ``names`` that are listed
        actors (each once, not the claimant), and the names that are not. The author's own statement and an
        unnamed source's have none: all of ``names`` are then set aside."""
        if resolved[1] is None:
            return [], names
        also: list[CoClaimant] = []
        unknown: list[str] = []
        for name in names:
            hit = self.index.resolve(name)
            if hit is None or hit[1] is None:
                unknown.append(name)
            elif hit[1] != resolved[1] and all(hit[1] != other.actor_id for other in also):
                also.append(CoClaimant(name=hit[0], actor_id=hit[1]))
        return also, unknown

    def uncertainty_problems(self, draft: UncertaintyDraft, part: Part) -> list[str]:
        if len(draft.evidence.strip()) < MIN_UNCERTAINTY_EVIDENCE_CHARS:
            return [f'evidence "{draft.evidence}" is too short (at least {MIN_UNCERTAINTY_EVIDENCE_CHARS} characters)']
        if self.span(draft.evidence, part) is None:
            return [self.evidence_problem(draft.evidence, part)]
        return []

    def problems(self, draft: ClaimDraft | UncertaintyDraft, part: Part) -> list[str]:
        if isinstance(draft, ClaimDraft):
            return self.claim_problems(draft, part)
        return self.uncertainty_problems(draft, part)

    def add_actors(self, drafts: list[ActorDraft]) -> None:
        actors, rejected = ground_actors(drafts, self.text, self.actors, self.origin)
        self.actors[:] = actors
        self.index = ActorIndex(self.actors)
        self.rejected.extend(rejected)

    def add(self, draft: ClaimDraft | UncertaintyDraft, part: Part) -> None:
        """Add an item that grounds (see ``problems``)."""
        if isinstance(draft, ClaimDraft):
            self.add_claim(draft, part)
        else:
            self.add_uncertainty(draft, part)

    def add_claim(self, draft: ClaimDraft, part: Part) -> None:
        evidence = self.span(draft.evidence, part)
        claimants = self.claimants(draft)
        assert evidence is not None and claimants is not None, "add_claim needs a grounded claim"
        resolved, also, unknown = claimants
        # judged against the resolved name (a listed actor's, author, unnamed source), not the model's raw text
        if grounding.only_names(evidence.quote, self.index.name_words() | grounding.name_words([resolved[0]])):
            self.rejected.append(
                reject("claim", draft, NAME_ONLY.format(quote=clip(evidence.quote, QUOTE_CHARS, "chars")))
            )
            return
        problems = self._statement_problems(draft, evidence, resolved, also)
        if problems and problems[0].reject:
            self.rejected.append(reject("claim", draft, problems[0].reason))
            return
        check = "; ".join(p.reason for p in problems) or None
        position = duplicate_of(
            evidence, part, self.claims, self.parts, same=lambda c: resolved[0] in c.claimants, index=self.claim_spans
        )
        # the further claimants set aside, listed only for a claim that is kept
        unlisted = [
            Rejected(kind="claimant", item={"claim": draft.statement, "also": name}, reason=UNLISTED_ALSO)
            for name in unknown
        ]
        if position is None:
            number = len(self.claims)
            self._insert_claim(draft, evidence, resolved, f"C{number + 1}", number, part, check, also)
            self.rejected += unlisted
            return
        claim = self.claims[position]
        same_span = (claim.evidence.start, claim.evidence.end, claim.claimant) == (
            evidence.start,
            evidence.end,
            resolved[0],
        )
        if not same_span and _attribution(resolved[1], draft.cue) > _attribution(claim.claimant_id, claim.cue):
            self.rejected.append(
                Rejected(
                    kind="claim",
                    item=claim.model_dump(mode="json"),
                    reason="overlaps a better-attributed claim from another part",
                )
            )
            del self.claims[position]
            self.parts.pop(claim.id, None)
            self._insert_claim(draft, evidence, resolved, claim.id, position, part, check, also)
            self.claim_spans.moved(position, claim.evidence, evidence)
            self.rejected += unlisted
            return
        self.rejected.append(reject("claim", draft, f"duplicate of {claim.id}"))

    def _insert_claim(
        self,
        draft: ClaimDraft,
        evidence: Span,
        resolved: tuple[str, str | None],
        claim_id: str,
        position: int,
        part: Part,
        check: str | None = None,
        also: list[CoClaimant] | None = None,
    ) -> None:
        cue = None
        if draft.cue and draft.cue.strip():
            window = grounding.sentence_bounds(self.text, evidence.start)
            cue = to_span(
                draft.cue,
                self.text,
                window=(window[0] - CUE_WINDOW, window[1] + CUE_WINDOW),
                fuzzy=False,
                whole_words=True,
            )
            if cue is None:
                self.rejected.append(
                    Rejected(
                        kind="cue",
                        item={"claim": draft.statement, "cue": draft.cue},
                        reason="attribution cue not found in the document; claim kept without it",
                    )
                )
        source = self._source_span(draft, evidence)
        figures, bad_figures = convert_figures(draft.figures, evidence.quote)
        self.rejected.extend(bad_figures)
        self.claims.insert(
            position,
            Claim(
                id=claim_id,
                claimant=resolved[0],
                claimant_id=resolved[1],
                also=also or [],
                statement=draft.statement.strip(),
                evidence=evidence,
                cue=cue,
                source=source,
                status=draft.status,
                figures=figures,
                origin=self.origin,
                check=check,
            ),
        )
        self.parts[claim_id] = part.origin

    def _statement_problems(
        self, draft: ClaimDraft, evidence: Span, resolved: tuple[str, str | None], also: list[CoClaimant]
    ) -> list[statements.Problem]:
        """What a model's statement says beyond its evidence, and whether its evidence is another source's
        (``statements``); nothing for the rules' own claims, whose statement is their evidence."""
        if self.origin != "model":
            return []
        ids = {resolved[1], *(other.actor_id for other in also)}
        names = [resolved[0], *(other.name for other in also)]
        names += [alias for a in self.actors if a.id in ids for alias in a.aliases]
        return statements.claim_problems(draft.statement, evidence, self.text, names, resolved[1] is not None)

    def _source_span(self, draft: ClaimDraft, evidence: Span) -> Span | None:
        """The model's source words grounded where it said them: its occurrence nearest the evidence, in the
        evidence's sentence or up to ``SOURCE_BEFORE`` characters before it ("He said" follows a name)."""
        words = getattr(draft, "source", None)  # only a capable model's drafts carry it
        if not isinstance(words, str) or not words.strip():
            return None
        words = words.strip()
        sentence = grounding.sentence_bounds(self.text, evidence.start)
        window = (max(sentence[0] - SOURCE_BEFORE, 0), min(sentence[1] + CUE_WINDOW, len(self.text)))
        span = None if len(words) > SOURCE_CHARS else nearest_span(words, self.text, window, evidence)
        if span is None:
            why = "over the length a source can have" if len(words) > SOURCE_CHARS else "not found near the claim"
            self.rejected.append(
                Rejected(
                    kind="source",
                    item={"claim": draft.statement, "source": clip(words, QUOTE_CHARS, "chars")},
                    reason=f"source words {why}; claim kept without them",
                )
            )
        return span

    def add_uncertainty(self, draft: UncertaintyDraft, part: Part) -> None:
        evidence = self.span(draft.evidence, part)
        assert evidence is not None, "add_uncertainty needs a grounded uncertainty"
        position = duplicate_of(evidence, part, self.uncertainties, self.parts, index=self.uncertainty_spans)
        if position is not None:
            self.rejected.append(reject("uncertainty", draft, f"duplicate of {self.uncertainties[position].id}"))
            return
        uncertainty_id = f"U{len(self.uncertainties) + 1}"
        self.uncertainties.append(
            Uncertainty(
                id=uncertainty_id,
                description=draft.description.strip(),
                kind=draft.kind,
                evidence=evidence,
                origin=self.origin,
            )
        )
        self.parts[uncertainty_id] = part.origin

    def offer(self, kind: ItemKind, draft: ClaimDraft | UncertaintyDraft, part: Part) -> None:
        """Add a grounded item now, or keep it pending for repair."""
        problems = self.problems(draft, part)
        if problems:
            self.pending.append(Pending(len(self.pending) + 1, kind, draft, part, problems))
        else:
            self.add(draft, part)

    def add_answer(self, extraction: Extraction | Additions, part: Part = WHOLE) -> None:
        """Ground one answer (of the whole document or one part; a first or a continuation pass)."""
        self.add_actors(extraction.actors)
        for claim in extraction.claims:
            self.offer("claim", claim, part)
        for uncertainty in extraction.uncertainties:
            self.offer("uncertainty", uncertainty, part)

    def reject_pending(self, attempts: int) -> None:
        suffix = f" (after {attempts} repair request{'s' if attempts != 1 else ''})" if attempts else ""
        for item in self.pending:
            self.rejected.append(reject(item.kind, item.draft, "; ".join(item.problems) + suffix))
        self.pending = []

    def kept(self) -> int:
        """Claims and uncertainties kept so far."""
        return len(self.claims) + len(self.uncertainties)

    def covered(self, part: Part) -> list[tuple[int, int]]:
        """The evidence spans of the claims and uncertainties kept so far, offsets into ``part``'s text."""
        shift = part.window[0] if part.window else 0
        spans = [claim.evidence for claim in self.claims] + [item.evidence for item in self.uncertainties]
        return [(span.start - shift, span.end - shift) for span in spans]

    def relate_uncertainties(self) -> None:
        """An uncertainty concerns the claims whose evidence shares its sentence."""
        claims = SpanIndex()
        claims.follow(self.claims)
        for uncertainty in self.uncertainties:
            sentence = grounding.sentence_bounds(self.text, uncertainty.evidence.start)
            region = (min(sentence[0], uncertainty.evidence.start), max(sentence[1], uncertainty.evidence.end))
            near = (self.claims[position] for position in claims.near(*region))
            uncertainty.claim_ids = [
                claim.id for claim in near if grounding.overlaps(region, (claim.evidence.start, claim.evidence.end))
            ]


def assemble(text: str, extraction: Extraction) -> Assembly:
    """The whole document's answer, grounded (no repair)."""
    assembly = Assembly(text=text)
    assembly.add_answer(extraction)
    return assembly


def repaired_draft(pending: Pending, item: RepairedItem) -> ClaimDraft | UncertaintyDraft:
    update: dict[str, Any] = {"evidence": item.evidence}
    if isinstance(pending.draft, ClaimDraft) and item.claimant:
        update["claimant"] = item.claimant
    return pending.draft.model_copy(update=update)


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def nearest_span(words: str, text: str, window: tuple[int, int], evidence: Span) -> Span | None:
    """``words`` in ``text`` within ``window``, as whole words: the occurrence nearest ``evidence`` (a
    pronoun or a title is written many times), else whatever ``to_span`` finds there without fuzziness."""
    pattern = re.compile(rf"(?<![\w]){re.escape(words)}(?![\w])")
    found = [m.span() for m in pattern.finditer(text, window[0], window[1])]
    if not found:
        return to_span(words, text, window=window, fuzzy=False, whole_words=True)

    def distance(span: tuple[int, int]) -> int:
        return max(evidence.start - span[1], span[0] - evidence.end, 0)

    start, end = min(found, key=distance)
    return Span(quote=text[start:end], start=start, end=end, match="exact", score=1.0)


def reject(kind: RejectedKind, draft: Any, reason: str) -> Rejected:
    return Rejected(kind=kind, item=draft.model_dump(mode="json"), reason=reason)


def error_text(error: Exception) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        return "; ".join(str(e.get("msg", e)) for e in errors())
    return str(error)


def _attribution(claimant_id: str | None, cue: object) -> int:
    """How well a claim is attributed: to a named actor, and with its cue."""
    return (claimant_id is not None) + bool(cue)
