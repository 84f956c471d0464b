"""Guided extraction: the program finds the attributions, so that a tiny model need not (pure).

A 135M model cannot copy a sentence verbatim or keep a name straight; asked to
choose a claimant among a sentence's names it chose worse than the rule below
(15 of 40 named gold sources against 32 of 40), and its summaries shared less
with Wikinews's own than the document's lead does (unigram F1 0.053 against
0.351). So under the embedded profile the program does the extraction itself and
asks the model nothing; a capable model asked with ``--method guided`` writes
only the summary, checked here (``checked_summary``).

* **claims**: every sentence carrying an attribution cue (``cues.txt``) or a
  reporting verb (``reporting.txt``). The evidence is the sentence (at most
  ``MAX_EVIDENCE_CHARS`` around its cue), so it is exact by construction; the cue
  is the first such word in it.
* **claimant**, by the first rule that applies: the source named after
  "according to"; a name right after a reporting verb that follows a quote or
  comma (``", said Mauer"``); a name right before a reporting verb (``"Kirby
  noted"``); "He said" → the claimant of the previous claim; "reportedly" alone
  → an unnamed source; the first name in the sentence outside quotation marks;
  else "unnamed source".
* **names** are runs of capitalised words joined by "of", "the", "for", …; a
  word only capitalised at the start of a sentence ("Speaking", "Officials") is
  not a name, nor are days and months.
* **actors**: every claimant, then the names mentioned at least twice, most
  mentioned first. A lone surname that ends exactly one longer name is that
  name's alias ("Kirby" of "John Kirby"), as is an acronym in parentheses after
  a name ("(NIS)") or a name in apposition after "according to X," ("the GUR").
  The kind comes from words in the name (Ministry, News, Army, Church, titles).
* **status** from the cue: denied, estimated, hedged, reported ("according to",
  "reportedly") or asserted; **uncertainties** are the sentences carrying a
  hedging or estimate cue.
* **summary** (embedded): the document's lead, its first sentences (``lead``).

Every item built here has origin "rules".
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TypeVar

from . import grounding
from .cues import cue_kinds, cue_pattern, find_cues
from .models import (
    UNNAMED_SOURCE,
    ActorKind,
    ClaimStatus,
    Extraction,
    Limits,
    UncertaintyKind,
    clip_text,
    draft_models,
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words, with internal dots, apostrophes and hyphens, and combining accents (a decomposed "José")
_TOKEN = re.compile(r"[^\W_](?:[\w.'\u2019\u0300-\u036f-]*(?:[^\W_]|[\u0300-\u036f]))?")
_QUOTES = re.compile(r"[\"\u201c\u201d]")
JOINERS = frozenset({"of", "for", "the", "de", "al", "on"})
CALENDAR = _words(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
    "august september october november december"
)
FUNCTION_WORDS = _words(
    "a an the this that these those some any all each other such and or but nor of to for in on at by with from as "
    "into about over under after before than so not no is are was were be been has have had do does did will would "
    "shall should can could may might must also i me my we us our you your he him his she her it its they them their "
    "there here when where while what which who whom whose if though although because since"
)
TITLES = _words(
    "mr mrs ms miss dr prof professor president vice prime minister secretary senator governor ambassador general "
    "major colonel captain sir dame lord lady chief director spokesperson spokesman spokeswoman ceo chairman "
    "chairwoman chair mayor king queen prince princess judge justice rev reverend pope bishop coach"
)
# A sentence whose subject is only a pronoun before its cue ("He accused …", "She also said …").
PRONOUN_SUBJECT = re.compile(r"\s*(?:He|She|They)\s+(?:\w+ly\s+)?$")
# Cues that attribute to nobody in particular: the claimant is then an unnamed source.
UNATTRIBUTED_CUES = frozenset({"reportedly", "allegedly"})
# Words in a name that tell its kind; the first kind listed whose word the name holds wins.
KIND_WORDS: tuple[tuple[ActorKind, frozenset[str]], ...] = (
    (
        ActorKind.media,
        _words(
            "news times post herald gazette press reuters afp bbc cnn yonhap kcna weekly journal radio tv television "
            "tribune telegraph guardian magazine"
        ),
    ),
    (ActorKind.military, _words("army navy forces military command troops kpa marines")),
    (
        ActorKind.government,
        _words(
            "ministry department government parliament congress senate white house service office police authority "
            "commission sheriff administration cabinet embassy"
        ),
    ),
    (
        ActorKind.organisation,
        _words(
            "church university foundation company inc corporation corp museum association institute centre center "
            "committee party union society organization organisation group council club agency bank"
        ),
    ),
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
    for name in ("cues.txt", "reporting.txt"):
        digest.update((resources.files("summarizer") / "data" / name).read_bytes())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def reporting_verbs() -> tuple[str, ...]:
    text = (resources.files("summarizer") / "data" / "reporting.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _norm(word: str) -> str:
    word = word.lower().replace("\u2019", "'")
    if word.endswith("'s"):
        word = word[:-2]
    return word.replace(".", "").strip("'-")


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    """A run of capitalised words in a sentence: [start, end) offsets into the sentence."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Casing:
    """What the whole text says about its words' case: the words it writes in lower case, and the
    capitalised words it writes somewhere other than at a sentence's start."""

    lower: frozenset[str]
    inside: frozenset[str]

    @classmethod
    def of(cls, text: str) -> Casing:
        lower, inside = set(), set()
        for start, end in grounding.sentences(text):
            for position, match in enumerate(_TOKEN.finditer(text[start:end])):
                token = match.group()
                if token[0].islower():
                    lower.add(_norm(token))
                elif position > 0:
                    inside.add(_norm(token))
        return cls(frozenset(lower), frozenset(inside))


def _acronym(token: str) -> bool:
    return sum(char.isupper() for char in token) >= 2


def quoted(text: str) -> list[tuple[int, int]]:
    """[start, end) of the quoted stretches of ``text``, paired over each paragraph (a quote may run over
    several sentences): a curly quote says which way it faces, straight ones alternate; an unclosed quote
    runs to its paragraph's end."""
    found: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        opened: int | None = None
        for mark in _QUOTES.finditer(line.group()):
            at, char = line.start() + mark.start(), mark.group()
            if opened is None and char != "\u201d":
                opened = at
            elif opened is not None and char != "\u201c":
                found.append((opened, at + 1))
                opened = None
        if opened is not None:
            found.append((opened, line.end()))
    return found


def names(sentence: str, casing: Casing) -> list[Name]:
    """The names in ``sentence``, in order (see the module docstring)."""
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(sentence)]

    def capital(i: int) -> bool:
        token = tokens[i][2]
        return token[0].isupper() and _norm(token) not in CALENDAR

    def name_word(i: int) -> bool:
        token = tokens[i][2]
        word = _norm(token)
        if not capital(i) or not word or word in TITLES or (word in FUNCTION_WORDS and not _acronym(token)):
            return False
        if _acronym(token):
            return True
        if word in casing.lower:
            return False
        return not at_start(i) or word in casing.inside

    def at_start(i: int) -> bool:
        return i == 0 or sentence[tokens[i - 1][1] : tokens[i][0]].strip() in ('"', "\u201c", "(")

    def dropped(i: int) -> bool:  # a sentence's first word that is no name: "Though YouTube" is "YouTube"
        word = _norm(tokens[i][2])
        return at_start(i) and (word in casing.lower or word in FUNCTION_WORDS or word in CALENDAR)

    found: list[Name] = []
    i = 0
    while i < len(tokens):
        if not capital(i):
            i += 1
            continue
        last = j = i
        while j + 1 < len(tokens) and sentence[tokens[j][1] : tokens[j + 1][0]] in (" ", "-", " - "):
            if capital(j + 1):
                j += 1
                last = j
            elif tokens[j + 1][2] in JOINERS and j + 2 < len(tokens) and capital(j + 2):
                j += 1
            else:
                break
        words = range(i, last + 1)
        if any(name_word(k) for k in words):
            first = next(k for k in words if name_word(k) or not dropped(k))
            end = tokens[last][1]
            if re.search(r"['\u2019]s$", sentence[tokens[first][0] : end]):
                end -= 2  # "O'Brien's" names O'Brien
            found.append(Name(tokens[first][0], end, sentence[tokens[first][0] : end]))
        i = last + 1
    return [name for name in found if len(name.text) <= MAX_NAME_CHARS]


# --------------------------------------------------------------------------
# Attributions
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FoundClaim:
    start: int
    end: int
    cue: str
    claimant: str
    status: ClaimStatus


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


def _verbs_pattern() -> re.Pattern[str]:
    """The reporting verbs as written in running text: in lower case, or capitalised at a sentence's start
    ("Says" there, but never the "States" of "United States")."""
    return _verbs_compiled(reporting_verbs(), sentence_case=True)


@lru_cache(maxsize=4)
def _verbs_compiled(verbs: tuple[str, ...], *, sentence_case: bool = False) -> re.Pattern[str]:
    words = sorted(verbs, key=len, reverse=True)
    alternatives = "|".join(re.escape(v).replace(r"\ ", r"\s+") for v in words)
    if not sentence_case:
        return re.compile(rf"(?i:\b(?:{alternatives})\b)")
    capitalised = "|".join(re.escape(v[0].upper() + v[1:]).replace(r"\ ", r"\s+") for v in words)
    return re.compile(rf"\b(?:{alternatives})\b|^\W*(?:{capitalised})\b")


def _outside_quotes(found: list[Name], offset: int, regions: list[tuple[int, int]]) -> list[Name]:
    """The names not inside a quotation (``regions`` in text offsets; the sentence starts at ``offset``)."""
    return [n for n in found if not any(a <= offset + n.start < b for a, b in regions)]


def _according_to(sentence: str, found: list[Name]) -> tuple[str, str | None] | None:
    """The source after "according to", and a name in apposition to it ("…, the GUR,")."""
    match = re.search(r"(?i:\baccording\s+to\s+)(?:the\s+)?", sentence)
    if not match:
        return None
    rest = sentence[match.end() :]
    phrase_end = re.search(r"[,.;:()\[\]\"\u201c\u201d]|\s(?:that|who|which|and)\s|$", rest)
    end = match.end() + (phrase_end.start() if phrase_end else len(rest))
    inside = [n for n in found if match.end() <= n.start < end]
    if not inside:
        return None
    phrase = sentence[match.end() : end].strip()
    claimant = inside[-1].text if sentence[inside[-1].end : end].strip() == "" else phrase
    if len(claimant) > MAX_NAME_CHARS or len(claimant.split()) > 8:
        claimant = inside[0].text
    apposition = re.match(r",\s+(the\s+)?", sentence[end:])
    alias = None
    if apposition:
        after = [n for n in found if n.start == end + apposition.end()]
        closed = after and sentence[after[0].end : after[0].end + 1] in (",", ".", "")
        # "…, the GUR," or "…, GUR," renames the source; "…, Smith, the mayor," is someone else
        if closed and (apposition.group(1) or (_acronym(after[0].text) and " " not in after[0].text)):
            alias = after[0].text
    return claimant, alias


def sentences(text: str) -> list[tuple[int, int]]:
    """``grounding.sentences``, with a quote that ends in a comma joined to the words that attribute it
    (“… assault units,” South Korean politician Lee Seong-kweun said.)."""
    joined: list[tuple[int, int]] = []
    for start, end in grounding.sentences(text):
        if joined and text[joined[-1][0] : joined[-1][1]].rstrip()[-2:] in (',"', ",”", ",'", ",’"):
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def _cue_positions(sentence: str, attribution: tuple[str, ...]) -> list[re.Match[str]]:
    """Every attribution cue and reporting verb of ``sentence``, in order."""
    cues = _verbs_compiled(attribution, sentence_case=True)
    found = [*_verbs_pattern().finditer(sentence), *cues.finditer(sentence)]
    return sorted(found, key=lambda m: m.start())


def _claimant(
    sentence: str, found: list[Name], cues: list[re.Match[str]], previous: str | None, outside: list[Name]
) -> tuple[str, str | None]:
    """The claimant of one candidate sentence and an alias the sentence gives it (see module docstring);
    ``outside`` are its names outside quotation marks."""
    according = _according_to(sentence, found)
    if according:
        return according
    for cue in cues:
        inverted = re.match(r"\s+", sentence[cue.end() :])
        before = sentence[: cue.start()].rstrip()
        if inverted and before[-1:] in (",", '"', "\u201d", "'"):
            after = [n for n in found if n.start == cue.end() + inverted.end()]
            if after:
                return after[0].text, None
        direct = [n for n in outside if _DIRECT.fullmatch(sentence, n.end, cue.start())]
        if direct:
            return direct[-1].text, None
        if PRONOUN_SUBJECT.fullmatch(sentence[: cue.start()]):
            return previous or UNNAMED_SOURCE, None
    if all(cue.group().lower() in UNATTRIBUTED_CUES for cue in cues):
        return UNNAMED_SOURCE, None
    if outside:
        return outside[0].text, None
    return UNNAMED_SOURCE, None


_DIRECT = re.compile(r"\s+(?:\w+ly\s+)?")  # "Kirby noted", "Kirby later said"


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
    seen: set[str] = set()
    kept = []
    for item in items:
        if text[item.start : item.end] not in seen:
            seen.add(text[item.start : item.end])
            kept.append(item)
    return kept


def _initials_hold(acronym: str, name: str) -> bool:
    """Whether the acronym's letters are initials of the name's words, in order ("NIS" of "South Korea's
    National Intelligence Service"; not "AP" of "LONDON")."""
    initials = "".join(word[0].upper() for word in _TOKEN.findall(name))
    letters = iter(initials)
    return all(char in letters for char in acronym.replace(".", "").upper())


def find(text: str, limits: Limits) -> Found:
    """Claims, uncertainties and actors of ``text`` by rule, within ``limits``."""
    casing = Casing.of(text)
    regions = quoted(text)
    kinds = cue_kinds()
    attribution = tuple(c for c, k in kinds.items() if k == "attribution")
    lexicon = tuple(kinds)
    found = Found()
    sentence_names: list[list[Name]] = []
    aliases: dict[str, set[str]] = {}
    previous: str | None = None
    for start, end in sentences(text):
        whole = text[start:end]
        in_sentence = names(whole, casing)
        sentence_names.append(in_sentence)
        for name, after in itertools.pairwise(in_sentence):
            acronym = after.text
            in_parentheses = whole[name.end : after.start] == " (" and _acronym(acronym) and " " not in acronym
            if in_parentheses and _initials_hold(acronym, name.text) and not name.text.isupper():
                aliases.setdefault(name.text, set()).add(acronym)
        cues = find_cues(whole, lexicon)
        positions = _cue_positions(whole, attribution)
        if positions and len(whole.split()) >= MIN_CLAIM_WORDS:
            # a long sentence is read, and quoted, only around its first cue
            low, high = window(start, end, start + positions[0].start(), text)
            sentence = text[low:high]
            here = names(sentence, casing) if (low, high) != (start, end) else in_sentence
            cues_here = _cue_positions(sentence, attribution) or positions
            outside = _outside_quotes(here, low, regions)
            claimant, alias = _claimant(sentence, here, cues_here, previous, outside)
            if alias:
                aliases.setdefault(claimant, set()).add(alias)
            cue = cues_here[0].group()
            found.claims.append(FoundClaim(low, high, cue, claimant, _status(cue, cues)))
            previous = claimant if claimant != UNNAMED_SOURCE else previous
        hedges = tuple(c for c in cues if kinds[c] in ("hedge", "estimate"))
        if hedges:
            low, high = window(start, end, start + _cue_at(whole, hedges[0]), text)
            found.uncertainties.append(FoundUncertainty(low, high, hedges[0], _uncertainty_kind(hedges)))
    # a sentence written twice is one claim
    found.claims = _first_of_each(found.claims, text)[: limits.claims]
    found.uncertainties = _first_of_each(found.uncertainties, text)[: limits.uncertainties]
    found.actors, named = _actors(found.claims, sentence_names, aliases, limits.actors)
    # every claim names its actor as the actor is listed (an alias may be among those not listed)
    found.claims = [replace(c, claimant=named.get(_key(c.claimant), c.claimant)) for c in found.claims]
    return found


# --------------------------------------------------------------------------
# Actors
# --------------------------------------------------------------------------


def _key(name: str) -> str:
    """What two spellings of one name share ("Al-Qaeda", "Al Qaeda"; "the NIS", "NIS")."""
    return grounding.name_key(name)


def kind_of(name: str, claimant: bool) -> ActorKind:
    words = {_norm(word) for word in _TOKEN.findall(name)}
    for kind, kind_words in KIND_WORDS:
        if words & kind_words or ("white" in words and "house" in words and kind is ActorKind.government):
            return kind
    if words & TITLES or (claimant and 2 <= len(words) <= 4):
        return ActorKind.person
    return ActorKind.other


def _actors(
    claims: list[FoundClaim], sentence_names: list[list[Name]], given: dict[str, set[str]], cap: int
) -> tuple[list[FoundActor], dict[str, str]]:
    """Claimants first (most claims first; every one, so that every claim keeps its claimant), then names
    mentioned at least twice (most mentions first) up to ``cap`` actors in all; and for every name's key,
    the name of the actor it belongs to."""
    mentions: dict[str, int] = {}
    spelling: dict[str, str] = {}
    for in_sentence in sentence_names:
        for name in in_sentence:
            key = _key(name.text)
            mentions[key] = mentions.get(key, 0) + 1
            spelling.setdefault(key, name.text)
    claim_counts: dict[str, int] = {}
    for claim in claims:
        if claim.claimant != UNNAMED_SOURCE:
            key = _key(claim.claimant)
            claim_counts[key] = claim_counts.get(key, 0) + 1
            spelling.setdefault(key, claim.claimant)
    for extra in given.values():
        for alias in extra:
            spelling.setdefault(_key(alias), alias)
    # a lone word that ends exactly one longer name is that name's alias ("Kirby" of "John Kirby")
    longer: dict[str, list[str]] = {}
    for key in spelling:
        words = key.split()
        if len(words) > 1:
            longer.setdefault(words[-1], []).append(key)
    parent: dict[str, str] = {}
    for key in spelling:
        if " " not in key and len(longer.get(key, [])) == 1:
            parent[key] = longer[key][0]
    for named, extra in given.items():
        for alias in extra:
            if _key(alias) != _key(named):
                parent[_key(alias)] = _key(named)

    def root(key: str) -> str:  # parents followed to the end ("JK" of "Kirby" of "John Kirby"); no cycles
        seen = {key}
        while key in parent and parent[key] not in seen:
            key = parent[key]
            seen.add(key)
        return key

    groups: dict[str, FoundActor] = {}
    for key, text in spelling.items():
        top = root(key)
        actor = groups.setdefault(top, FoundActor(spelling.get(top, text), ActorKind.other))
        actor.mentions += mentions.get(key, 0)
        actor.claims += claim_counts.get(key, 0)
        if key != top:
            actor.aliases.append(text)
    chosen = [a for a in groups.values() if a.claims or a.mentions >= 2]
    chosen.sort(key=lambda a: (-a.claims, -a.mentions))
    for actor in chosen:
        actor.kind = kind_of(actor.name, actor.claims > 0)
        actor.aliases = [alias for alias in actor.aliases if len(alias) <= MAX_NAME_CHARS][:MAX_ALIASES]
    claimants = [a for a in chosen if a.claims]
    listed = claimants + [a for a in chosen if not a.claims][: max(0, cap - len(claimants))]
    return listed, {key: groups[root(key)].name for key in spelling}


def statement(sentence: str) -> str:
    """A claim's statement: its sentence, whitespace collapsed, clipped."""
    return clip_text(" ".join(sentence.split()), STATEMENT_CHARS)


def description(sentence: str, cue: str) -> str:
    return clip_text(f"{cue}: " + " ".join(sentence.split()), DESCRIPTION_CHARS)


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


def unsupported(sentence: str, words: frozenset[str], numbers: frozenset[float]) -> str | None:
    """Why a summary sentence is not supported by the document: a name or a number the document never
    writes (a small model invents both); None when it names and counts only what the document does."""
    tokens = list(_TOKEN.finditer(sentence))
    unknown = [
        m.group()
        for position, m in enumerate(tokens)
        if m.group()[0].isupper()
        and _norm(m.group())
        and _norm(m.group()) not in words
        and not (position == 0 and _norm(m.group()) in FUNCTION_WORDS)
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
        reason = unsupported(sentence, words, numbers)
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
    return clip_text(" ".join(chosen), LEAD_CHARS * 2) if chosen else ""
