"""Guided extraction: the program finds the attributions, so that a tiny model need not (pure).

A 135M model cannot copy a sentence verbatim or keep a name straight, so under the
embedded profile the program does the extraction itself and asks the model
nothing; a capable model asked with ``--method guided`` writes only the summary,
checked here (``checked_summary``).

* **claims**: the attributions read off the document's parse (``attribution``,
  over the NLP layer's sentences, tokens and dependencies): a reporting predicate
  and its subject, "according to", a name and a colon, a quotation signed with a
  dash. The evidence is the sentence (at most ``MAX_EVIDENCE_CHARS`` around its
  cue), so it is exact by construction; a quotation that goes on in the next
  sentence is held in the same evidence when the whole fits. Each claim keeps the
  source's words (its source span) and, where the rules are unsure, why.
* **actors**: the named entities (people and organisations; places and groups
  when they speak) and the claimants, forms of one name merged.
* **status** from the cue: denied, estimated, hedged, reported ("according to",
  "reportedly") or asserted; **uncertainties** are the sentences carrying a
  hedging or estimate cue.
* **summary** (embedded): the document's lead, its first sentences (``lead``).

Every item built here has origin "rules".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TypeVar

from . import attribution, grounding, nlp, statements
from .cues import cue_kinds, cue_pattern, find_cues
from .models import (
    ActorKind,
    ClaimStatus,
    Extraction,
    Limits,
    UncertaintyKind,
    clip,
    draft_models,
    word_set,
)

# Words, with internal dots, apostrophes and hyphens, and combining accents (a decomposed "José")
_TOKEN = re.compile(r"[^\W_](?:[\w.'\u2019\u0300-\u036f-]*(?:[^\W_]|[\u0300-\u036f]))?")
FUNCTION_WORDS = word_set(
    "a an the this that these those some any all each other such and or but nor of to for in on at by with from as "
    "into about over under after before than so not no is are was were be been has have had do does did will would "
    "shall should can could may might must also i me my we us our you your he him his she her it its they them their "
    "there here when where while what which who whom whose if though although because since"
)
STATUS_CUES: tuple[tuple[ClaimStatus, frozenset[str]], ...] = (
    (ClaimStatus.denied, frozenset({"denied", "denies"})),
    (ClaimStatus.estimated, frozenset({"estimated", "estimates", "estimate"})),
    (ClaimStatus.reported, frozenset({"according to", "reportedly", "reported", "reports"})),
)
UNCERTAINTY_CUES: dict[str, UncertaintyKind] = {
    "unclear": UncertaintyKind.unknown,
    "unknown": UncertaintyKind.unknown,
    "unconfirmed": UncertaintyKind.unconfirmed,
    "alleged": UncertaintyKind.unconfirmed,
    "allegedly": UncertaintyKind.unconfirmed,
}
STATEMENT_CHARS = 150
DESCRIPTION_CHARS = 150
MAX_EVIDENCE_CHARS = 600
MAX_ALIASES = 2  # the actor draft's own limit
MIN_CLAIM_WORDS = 3  # "Rathbun stated," alone says nothing that was claimed (assembly's own floor)
MAX_NAME_CHARS = 60


@lru_cache(maxsize=1)
def rules_version() -> str:
    """A short hash of what guided extraction is made of (this module and its word lists): a brief made by
    other rules is not the same brief (the daily cache compares it)."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(Path(attribution.__file__).read_bytes())
    for name in ("cues.txt", "predicates.txt", "roles.txt"):
        digest.update((resources.files("summarizer") / "data" / name).read_bytes())
    digest.update(nlp.model_name().encode())  # another parser reads another parse
    return digest.hexdigest()[:12]


def _norm(word: str) -> str:
    word = word.lower().replace("\u2019", "'")
    if word.endswith("'s"):
        word = word[:-2]
    return word.replace(".", "").strip("'-")


@dataclass(frozen=True)
class FoundClaim:
    start: int
    end: int
    cue: str | None
    claimant: str
    status: ClaimStatus
    source_start: int = -1  # the source's words in the text ([start, end); -1: the document names none)
    source_end: int = -1
    check: str | None = None  # why the rules are unsure of this claim, if they are
    also: tuple[str, ...] = ()  # further named sources of the same words ("NBC News and ABC News reported")


@dataclass(frozen=True)
class FoundUncertainty:
    start: int
    end: int
    cue: str
    kind: UncertaintyKind


@dataclass
class FoundActor:
    name: str
    kind: ActorKind
    aliases: list[str] = field(default_factory=list)
    mentions: int = 0
    claims: int = 0


@dataclass
class Found:
    claims: list[FoundClaim] = field(default_factory=list)
    uncertainties: list[FoundUncertainty] = field(default_factory=list)
    actors: list[FoundActor] = field(default_factory=list)


def _status(cue: str, sentence_cues: tuple[str, ...]) -> ClaimStatus:
    words = {" ".join(c.lower().split()) for c in (cue, *sentence_cues)}
    for status, cues in STATUS_CUES:
        if words & cues:
            return status
    kinds = cue_kinds()
    if any(kinds.get(c) == "estimate" for c in sentence_cues):
        return ClaimStatus.estimated
    if any(kinds.get(c) == "hedge" for c in sentence_cues):
        return ClaimStatus.hedged
    return ClaimStatus.asserted


def _uncertainty_kind(sentence_cues: tuple[str, ...]) -> UncertaintyKind:
    for cue in sentence_cues:
        if cue.lower() in UNCERTAINTY_CUES:
            return UNCERTAINTY_CUES[cue.lower()]
    if any(cue_kinds().get(c) == "estimate" for c in sentence_cues):
        return UncertaintyKind.estimated
    return UncertaintyKind.unconfirmed


def window(start: int, end: int, at: int, text: str, limit: int = MAX_EVIDENCE_CHARS) -> tuple[int, int]:
    """[start, end) itself when it is at most ``limit`` characters; else a stretch of at most ``limit``
    characters around offset ``at`` (a cue), cut at whitespace where that leaves three words or more:
    evidence stays verbatim however long the sentence."""
    if end - start <= limit:
        return start, end
    low = max(start, min(at - limit // 2, end - limit))
    high = min(end, low + limit)
    cut_low, cut_high = low, high
    if low > start:
        space = re.compile(r"\s+").search(text, low, at)
        cut_low = space.end() if space else low
    if high < end:
        spaces = list(re.compile(r"\s+").finditer(text, at, high))
        cut_high = spaces[-1].start() if spaces else high
    if len(text[cut_low:cut_high].split()) >= MIN_CLAIM_WORDS:
        low, high = cut_low, cut_high
    while low < high and text[low].isspace():
        low += 1
    while high > low and text[high - 1].isspace():
        high -= 1
    return low, high


def _cue_at(sentence: str, cue: str) -> int:
    """Where ``cue`` stands in ``sentence``, matched as the cue lexicon matches it (modals in lower case)."""
    match = re.search(cue_pattern(cue), sentence)
    return match.start() if match else 0


Spanned = TypeVar("Spanned", FoundClaim, FoundUncertainty)


def _first_of_each(items: list[Spanned], text: str) -> list[Spanned]:
    """The items in order, each sentence's text once."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for item in items:
        key = (text[item.start : item.end], getattr(item, "claimant", ""))
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def find(text: str, limits: Limits) -> Found:
    """Claims, uncertainties and actors of ``text`` by rule, within ``limits``: attributions read off the
    parse (``attribution``), hedges and estimates from the cue lexicon, over the parse's sentences."""
    parsed = nlp.parse(text)
    kinds = cue_kinds()
    lexicon = tuple(kinds)
    found = Found()
    read = attribution.read(parsed)
    kept: list[attribution.Attribution] = []
    for item in read:
        sentence = parsed.sentences[item.sentence]
        whole = text[sentence.start : sentence.end]
        if item.kind == "follow-on":
            # the quote goes on: the claim before it holds this sentence too, when the whole fits
            last = found.claims[-1] if found.claims else None
            fits = last is not None and sentence.end - last.start <= MAX_EVIDENCE_CHARS
            if last is not None and fits and kept[-1].sentence == item.sentence - 1:
                found.claims[-1] = replace(last, end=sentence.end)
                kept[-1] = replace(kept[-1], sentence=item.sentence)
            continue
        if len(whole.split()) < MIN_CLAIM_WORDS and item.first is None:
            continue
        opens = parsed.sentences[item.first].start if item.first is not None else sentence.start
        low, high = window(opens, sentence.end, item.cue_start, text)
        cue = text[item.cue_start : item.cue_end] if item.cue_end > item.cue_start else None
        status = _status(cue or "", find_cues(whole, lexicon))
        source = item.source
        found.claims.append(
            FoundClaim(low, high, cue, source.claimant, status, source.start, source.end, source.check, source.also)
        )
        kept.append(item)
    for sentence in parsed.sentences:
        whole = text[sentence.start : sentence.end]
        cues = find_cues(whole, lexicon)
        hedges = tuple(c for c in cues if kinds[c] in ("hedge", "estimate"))
        if hedges:
            low, high = window(sentence.start, sentence.end, sentence.start + _cue_at(whole, hedges[0]), text)
            found.uncertainties.append(FoundUncertainty(low, high, hedges[0], _uncertainty_kind(hedges)))
    # a sentence written twice is one claim
    found.claims = _first_of_each(found.claims, text)[: limits.claims]
    found.uncertainties = _first_of_each(found.uncertainties, text)[: limits.uncertainties]
    listed, named = attribution.actors(parsed, kept, limits.actors)
    found.actors = [
        FoundActor(a.name, attribution.kind_of(a.label, a.name), a.aliases[:MAX_ALIASES], a.mentions, a.claims)
        for a in listed
    ]
    # every claim names its actor as the actor is listed
    found.claims = [
        replace(
            c,
            claimant=named.get(attribution.actor_key(c.claimant), c.claimant),
            also=tuple(named.get(attribution.actor_key(n), n) for n in c.also),
        )
        for c in found.claims
    ]
    return found


def statement(sentence: str) -> str:
    """A claim's statement: its sentence, whitespace collapsed, clipped."""
    return clip(" ".join(sentence.split()), STATEMENT_CHARS, "words")


def description(sentence: str, cue: str) -> str:
    return clip(f"{cue}: " + " ".join(sentence.split()), DESCRIPTION_CHARS, "words")


def answer(found: Found, text: str) -> Extraction:
    """What rules found, as the drafts a model's answer would be: the pipeline grounds both the same way."""
    actor_draft, claim_draft, uncertainty_draft = draft_models(MAX_EVIDENCE_CHARS, MAX_NAME_CHARS)
    actors = [
        actor_draft(
            name=actor.name,
            kind=actor.kind,
            role="quoted source" if actor.claims else "mentioned",
            aliases=actor.aliases,
        )
        for actor in found.actors
    ]
    claims = [
        claim_draft(
            claimant=claim.claimant,
            statement=statement(text[claim.start : claim.end]),
            evidence=text[claim.start : claim.end],
            cue=claim.cue,
            status=claim.status,
        )
        for claim in found.claims
    ]
    uncertainties = [
        uncertainty_draft(
            description=description(text[item.start : item.end], item.cue),
            kind=item.kind,
            evidence=text[item.start : item.end],
        )
        for item in found.uncertainties
    ]
    # model_construct: the counts are the rules' own (their caps are ``find``'s limits), not the model schema's
    return Extraction.model_construct(actors=actors, claims=claims, uncertainties=uncertainties, summary="")


# --------------------------------------------------------------------------
# The model's summary, checked
# --------------------------------------------------------------------------

LEAD_CHARS = 400
_DIGITS = re.compile(r"(?<![\w.,])\d[\d,]*(?:\.\d+)?")


def _opener(word: str) -> bool:
    """A first word capitalised as a sentence's is, not as a name's: a function word, or an "-ing" or "-ly"
    opener ("Following the ruling", "Reportedly")."""
    return _norm(word) in FUNCTION_WORDS or (word[1:].islower() and word.endswith(("ing", "ly")))


def unsupported(sentence: str, words: frozenset[str], numbers: frozenset[float], text: str | None = None) -> str | None:
    """Why a summary sentence is not supported by the document: a name or a number the document never
    writes (a small model invents both); None when it names and counts only what the document does."""
    tokens = list(_TOKEN.finditer(sentence))
    unknown = [
        m.group()
        for position, m in enumerate(tokens)
        if m.group()[0].isupper()
        and _norm(m.group())
        and _norm(m.group()) not in words
        and not (position == 0 and _opener(m.group()))  # "Following …": capitalised as a first word
        and (text is None or not statements.in_document(m.group(), text))  # "US", "Asian", "Ex-member"
    ]
    if unknown:
        return f"names {', '.join(dict.fromkeys(unknown))}, which the document does not"
    for match in _DIGITS.finditer(sentence):
        digits = match.group().rstrip(",").replace(",", "")
        try:
            value = float(digits)
        except ValueError:
            continue
        if not grounding.number_written(value, numbers):
            return f"gives the number {match.group().rstrip(',')}, which the document does not"
    return None


def checked_summary(summary: str, text: str) -> tuple[str, list[tuple[str, str]]]:
    """The summary's sentences that the document supports (``unsupported``), and those dropped with why.

    When none is left the summary is the document's lead: its first sentences, up to about
    ``LEAD_CHARS`` characters (``lead``)."""
    words = frozenset(_norm(m.group()) for m in _TOKEN.finditer(text))
    numbers = grounding.written_numbers(text)
    kept, dropped = [], []
    for start, end in grounding.sentences(summary):
        sentence = summary[start:end]
        reason = unsupported(sentence, words, numbers, text)
        if reason:
            dropped.append((sentence, reason))
        else:
            kept.append(sentence)
    return " ".join(kept), dropped


_ENDS_SENTENCE = re.compile(r"[.!?\u2026][\"'\u2019\u201d)\]]*$")


def lead(text: str) -> str:
    """The document's first sentences, whole, up to about ``LEAD_CHARS`` characters (at least one); lines
    before the first that ends like a sentence (a headline, a dateline) are not part of it."""
    spans = grounding.sentences(text)
    first = next((i for i, (a, b) in enumerate(spans) if _ENDS_SENTENCE.search(text[a:b])), 0)
    chosen: list[str] = []
    for start, end in spans[first:]:
        sentence = " ".join(text[start:end].split())
        if chosen and len(" ".join([*chosen, sentence])) > LEAD_CHARS:
            break
        chosen.append(sentence)
    return clip(" ".join(chosen), LEAD_CHARS * 2, "words") if chosen else ""
