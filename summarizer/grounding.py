"""Quote → span alignment, and names resolved to actors: pure functions, no I/O.

``align`` finds a quote in the source and returns offsets into the *original*
text, so that ``text[start:end]`` is always the source's own characters:

1. exact substring;
2. after normalising whitespace runs, curly/straight quote marks, dashes,
   case and Unicode composition (NFC "é" and NFD "e" + U+0301 are the same
   text; the match is mapped back to original offsets);
3. optionally fuzzy, only at or above a high similarity threshold, labelled so.

Similarity is difflib's ratio, ``2 * M / (len(a) + len(b))`` with M the
characters of Ratcliff/Obershelp's matching blocks, computed by cydifflib (the
same SequenceMatcher, compiled). M is a common subsequence, so it never exceeds
the longest one: RapidFuzz's normalised Indel similarity, ``2 * LCS / (len(a) +
len(b))``, is an upper bound of the ratio. Candidates are ranked and filtered by
that bound, and the exact ratio is computed only for the few it cannot rule
out: the answers of a full difflib scan at a small fraction of its cost.

``to_span`` turns an alignment into the brief's ``Span``; ``name_key`` and
``ActorIndex`` decide which listed actor a claimant's name refers to.
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from cydifflib import SequenceMatcher
from rapidfuzz import process
from rapidfuzz.distance import Indel

from .models import AUTHOR, UNNAMED_SOURCE, Actor, Span

FUZZY_THRESHOLD = 0.92
MIN_FUZZY_CHARS = 20
MAX_QUOTE_CHARS = 600
# A window is compared character by character only when it holds this share of
# the quote's words: a 0.92 character similarity leaves few words untouched.
FUZZY_WORD_SHARE = 0.6
# A sentence is offered as a repair hint only above this similarity to the quote.
HINT_THRESHOLD = 0.3
# Float slack when an Indel similarity bounds a difflib ratio of the same strings.
_SLACK = 1e-9

_CHAR_MAP = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc`\u00b4", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    "\u2026": "...",
}
_STRIP_CHARS = " \t\r\n\"'\u2018\u2019\u201c\u201d"


MatchKind = Literal["exact", "normalized", "fuzzy"]


@dataclass(frozen=True)
class Alignment:
    """Where a quote stands in a text: ``text[start:end]``, end exclusive."""

    start: int
    end: int
    match: MatchKind
    score: float


@dataclass(frozen=True)
class _Normalized:
    text: str
    origin: tuple[int, ...]  # origin[i] = index in the original text of normalized char i


def normalize(text: str) -> str:
    """The comparison form of a text (see module docstring)."""
    return _normalize(text).text


def _fold(text: str) -> str:
    """``normalize`` without the offset map or the cache, for many short strings."""
    folded = text.translate(_TRANSLATE)
    if not folded.isascii():  # canonically equivalent text folds the same; composed, so words stay whole
        folded = unicodedata.normalize("NFC", folded)
    lowered = folded.lower() if "\u03a3" not in folded else "".join(c.lower() for c in folded)
    return _SPACES.sub(" ", lowered)


_TRANSLATE = str.maketrans(_CHAR_MAP)
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=64)
def _normalize(text: str) -> _Normalized:
    chars: list[str] = []
    origin: list[int] = []
    previous_space = False
    for index, char in enumerate(text):
        if char.isspace():
            if not previous_space:
                chars.append(" ")
                origin.append(index)
            previous_space = True
            continue
        previous_space = False
        mapped = _CHAR_MAP.get(char, char)
        if not mapped.isascii():  # canonically equivalent text compares equal: "é" and "e" + U+0301
            mapped = unicodedata.normalize("NFD", mapped)
        for out in mapped.lower():
            chars.append(out)
            origin.append(index)
    return _Normalized("".join(chars), tuple(origin))


@lru_cache(maxsize=4096)
def align(
    quote: str,
    text: str,
    *,
    window: tuple[int, int] | None = None,
    fuzzy: bool = True,
    threshold: float = FUZZY_THRESHOLD,
    whole_words: bool = False,
) -> Alignment | None:
    """Where ``quote`` stands in ``text``, or None.

    ``window`` (start, end) is searched first, then the whole text: a short cue
    such as "said" should be found next to its evidence, not at its first use.
    ``whole_words`` refuses a match inside a longer word ("Zelensky" in
    "Zelenskyy"), for names and cues.
    """
    if not quote.strip() or len(" ".join(quote.split())) > MAX_QUOTE_CHARS:
        return None
    if window is not None:
        lo, hi = max(0, window[0]), min(len(text), window[1])
        found = _align_whole(quote, text[lo:hi], fuzzy=False, threshold=threshold, whole_words=whole_words)
        if found is not None:
            return Alignment(found.start + lo, found.end + lo, found.match, found.score)
    return _align_whole(quote, text, fuzzy=fuzzy, threshold=threshold, whole_words=whole_words)


def _find(haystack: str, needle: str, whole_words: bool) -> int:
    """First index of ``needle``; with ``whole_words``, only where it is not part of a longer word. Never
    where the match would split a character from its combining marks ("Jose" is not "José" decomposed)."""
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(needle)
        before = haystack[start - 1] if start > 0 else " "
        after = haystack[end] if end < len(haystack) else " "
        splits = unicodedata.combining(after) or unicodedata.combining(haystack[start])
        inside_word = whole_words and (
            (needle[0].isalnum() and before.isalnum()) or (_word_char(needle[-1]) and _word_char(after))
        )
        if not splits and not inside_word:
            break
        start = haystack.find(needle, start + 1)
    return start


def _word_char(char: str) -> bool:
    return char.isalnum() or unicodedata.combining(char) > 0


def _align_whole(
    quote: str, text: str, *, fuzzy: bool, threshold: float, whole_words: bool = False
) -> Alignment | None:
    start = _find(text, quote, whole_words)
    if start >= 0:
        return Alignment(start, start + len(quote), "exact", 1.0)
    source = _normalize(text)
    for candidate in _quote_variants(quote):
        position = _find(source.text, candidate, whole_words)
        if position >= 0:
            start, end = _to_original(source, position, len(candidate))
            return Alignment(start, end, "normalized", 1.0)
    if fuzzy:
        return _fuzzy(normalize(quote).strip(_STRIP_CHARS), source, threshold)
    return None


def _quote_variants(quote: str) -> list[str]:
    """The normalised quote, then without wrapping quote marks / final punctuation."""
    base = normalize(quote).strip(" ")
    stripped = base.strip(_STRIP_CHARS)
    variants = [base, stripped, stripped.rstrip(".,;:!?")]
    if stripped.endswith("..."):
        variants.append(stripped[:-3].rstrip())
    return [v for i, v in enumerate(variants) if v and v not in variants[:i]]


def _to_original(source: _Normalized, position: int, length: int) -> tuple[int, int]:
    start = source.origin[position]
    end = source.origin[position + length - 1] + 1
    return start, end


def _fuzzy(quote: str, source: _Normalized, threshold: float) -> Alignment | None:
    """Best window as long as the quote, if similar enough.

    Linear in the text: a sliding window over words keeps the count of the
    quote's words it shares, and only windows sharing most of them are compared
    character by character.
    """
    size = len(quote)
    if size < MIN_FUZZY_CHARS or size > len(source.text):
        return None
    words = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", source.text)]
    wanted = Counter(quote.split())
    span = sum(wanted.values())
    needed = math.ceil(span * FUZZY_WORD_SHARE)
    have: Counter[str] = Counter()
    shared = 0
    best: tuple[float, int, int] | None = None
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(quote)
    for index, (_, _, word) in enumerate(words):
        have[word] += 1
        if have[word] <= wanted[word]:
            shared += 1
        if index >= span:
            gone = words[index - span][2]
            if have[gone] <= wanted[gone]:
                shared -= 1
            have[gone] -= 1
        if index + 1 < span or shared < needed:
            continue
        begin = words[index - span + 1][0]
        for length in {size, size - 1, size + 1}:
            window = source.text[begin : begin + length]
            bound = Indel.normalized_similarity(window, quote)
            if bound + _SLACK < threshold or (best is not None and bound + _SLACK < best[0]):
                continue
            matcher.set_seq1(window)
            ratio = matcher.ratio()
            if ratio >= threshold and (best is None or ratio > best[0]):
                best = (ratio, begin, len(window.rstrip(" ")))
    if best is None:
        return None
    ratio, begin, length = best
    start, end = _to_original(source, begin, length)
    return Alignment(start, end, "fuzzy", round(ratio, 4))


_BOUNDARY = re.compile(r"(?<=[.!?\u201d\"])\s+(?=[A-Z\u201c\"])|\n+")


def sentences(text: str) -> list[tuple[int, int]]:
    """[start, end) of every sentence (or line), surrounding whitespace trimmed."""
    return list(_sentences(text))


@lru_cache(maxsize=64)
def _sentences(text: str) -> tuple[tuple[int, int], ...]:
    spans = []
    start = 0
    for match in [*_BOUNDARY.finditer(text), None]:
        end = match.start() if match else len(text)
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + len(piece.rstrip())))
        start = match.end() if match else len(text)
    return tuple(spans)


@lru_cache(maxsize=64)
def _sentence_ends(text: str) -> tuple[int, ...]:
    return tuple(end for _, end in _sentences(text))


def sentence_bounds(text: str, position: int) -> tuple[int, int]:
    """The [start, end) of the sentence (or line) that holds ``position`` (found by bisection: sentences are in
    text order and do not overlap)."""
    spans = _sentences(text)
    at = bisect_right(_sentence_ends(text), position)  # the first sentence that ends after ``position``
    if at == len(spans):
        return position, len(text)
    start, end = spans[at]
    return (start, end) if position >= start else (position, end)


def overlapping_any(spans: list[tuple[int, int]]) -> Callable[[tuple[int, int]], bool]:
    """A test of whether a span overlaps any of ``spans``: spans sorted once, each test a bisection (the
    spans sorted by start, with the furthest end reached by any span up to each)."""
    ordered = sorted(spans)
    starts = [start for start, _ in ordered]
    reach: list[int] = []
    for _, end in ordered:
        reach.append(max(end, reach[-1]) if reach else end)

    def test(span: tuple[int, int]) -> bool:
        before = bisect_left(starts, span[1])  # the spans that start before ``span`` ends
        return before > 0 and reach[before - 1] > span[0]

    return test


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@lru_cache(maxsize=1024)
def closest_sentence(quote: str, text: str) -> str | None:
    """The source sentence most like ``quote`` (a hint for a repair request), or None.

    The first sentence of highest ratio, if above ``HINT_THRESHOLD``: sentences
    are visited best bound first, and the scan stops where the bound falls
    below the best ratio found.
    """
    originals, folded = _sentence_table(text)
    target = _fold(quote)
    bounds = process.extract(
        target,
        folded,
        scorer=Indel.normalized_similarity,
        processor=None,
        score_cutoff=max(HINT_THRESHOLD - _SLACK, 0.0),
        limit=None,
    )
    best: tuple[float, int] | None = None
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    for _, bound, index in sorted(bounds, key=lambda found: (-found[1], found[2])):
        if best is not None and bound + _SLACK < best[0]:
            break
        matcher.set_seq1(folded[index])
        ratio = matcher.ratio()
        if best is None or ratio > best[0] or (ratio == best[0] and index < best[1]):
            best = (ratio, index)
    return originals[best[1]] if best and best[0] > HINT_THRESHOLD else None


@lru_cache(maxsize=32)
def _sentence_table(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Every sentence of ``text``, as written and folded for comparison."""
    originals = tuple(text[start:end] for start, end in _sentences(text))
    return originals, tuple(_fold(sentence) for sentence in originals)


# --------------------------------------------------------------------------
# Spans and names
# --------------------------------------------------------------------------


def to_span(
    quote: str, text: str, *, window: tuple[int, int] | None = None, fuzzy: bool = True, whole_words: bool = False
) -> Span | None:
    """The brief's span of ``quote`` in ``text`` (the source's own characters), or None."""
    found = align(quote, text, window=window, fuzzy=fuzzy, whole_words=whole_words)
    if found is None:
        return None
    source = text[found.start : found.end]
    return Span(
        quote=source,
        start=found.start,
        end=found.end,
        match=found.match,
        score=found.score,
        model_quote=None if source == quote else quote,
    )


_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# Words that join the parts of a name ("Ministry of Defence", "the NIS") without saying anything.
_NAME_GLUE = frozenset({"the", "of", "and", "for", "a", "an", "de", "la", "von", "van", "'s", "’s"})


def _name_word_list(text: str) -> list[str]:
    return [re.sub(r"['’]s$", "", w) for w in _WORD.findall(text.casefold())]


def name_words(names: Iterable[str]) -> frozenset[str]:
    """The words of ``names`` (case folded, possessives off), with the words that glue names together."""
    return frozenset(w for name in names for w in _name_word_list(name)) | _NAME_GLUE


def only_names(quote: str, named: frozenset[str]) -> bool:
    """Whether every word of ``quote`` is one of ``named`` (``name_words``): see ``name_only``."""
    said = _name_word_list(quote)
    return bool(said) and all(w in named for w in said)


def name_only(quote: str, names: list[str]) -> bool:
    """Whether ``quote`` says nothing but names (the claimant's, any actor's): not support for a claim.

    "Saudi Arabia's Civil Defense Authority." or "John Kirby" name a source but
    say nothing it asserted; "Kirby said" or "Kirby noted the losses" do.
    """
    return only_names(quote, name_words(names))


def name_key(name: str) -> str:
    """A claimant/actor name reduced for comparison: case, 'the', possessive, punctuation."""
    key = normalize(name).strip()
    if not key.isascii():
        key = unicodedata.normalize("NFC", key)  # "Müller" one word again after the comparison form
    key = re.sub(r"'s\b", "", key)
    key = re.sub(r"[^\w\s]", " ", key)
    key = re.sub(r"^the\s+", "", key.strip())
    return " ".join(key.split())


_SPECIAL_ALIASES = {
    "author": AUTHOR,
    "the author": AUTHOR,
    "article": AUTHOR,
    "the article": AUTHOR,
    "reporter": AUTHOR,
    "unnamed source": UNNAMED_SOURCE,
    "unnamed sources": UNNAMED_SOURCE,
    "anonymous": UNNAMED_SOURCE,
    "anonymous source": UNNAMED_SOURCE,
    "unknown": UNNAMED_SOURCE,
    "sources": UNNAMED_SOURCE,
}


@dataclass
class ActorIndex:
    """The listed actors, to resolve a claimant's name to one of them.

    Each actor's name keys are computed once (a brief resolves every claimant, and a long document lists
    hundreds of actors); ``actors`` is not changed after the index is made (the assembly makes a new one).
    """

    actors: list[Actor]
    _keys: list[tuple[Actor, frozenset[str], list[frozenset[str]]]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    _exact: dict[str, Actor] = field(default_factory=dict, init=False, repr=False, compare=False)
    _words: frozenset[str] | None = field(default=None, init=False, repr=False, compare=False)

    def _table(self) -> list[tuple[Actor, frozenset[str], list[frozenset[str]]]]:
        if self._keys is None:
            table = []
            for actor in self.actors:
                keys = [name_key(n) for n in [actor.name, *actor.aliases]]
                table.append((actor, frozenset(keys), [frozenset(k.split()) for k in keys if k]))
                for key in keys:
                    self._exact.setdefault(key, actor)  # the first actor listed with that key, as a scan finds
            self._keys = table
        return self._keys

    def name_words(self) -> frozenset[str]:
        """Every word of every actor's name and aliases (``name_words``), made once."""
        if self._words is None:
            self._words = name_words(n for actor in self.actors for n in (actor.name, *actor.aliases))
        return self._words

    def resolve_exactly(self, name: str) -> tuple[str, str] | None:
        """(name, actor id) of the listed actor with this very name or alias (case and punctuation aside)."""
        self._table()
        exact = self._exact.get(name_key(name))
        return (exact.name, exact.id) if exact is not None else None

    def resolve(self, claimant: str) -> tuple[str, str | None] | None:
        """(canonical claimant, actor id) or None when it names no listed actor."""
        key = name_key(claimant)
        if key in _SPECIAL_ALIASES:
            return _SPECIAL_ALIASES[key], None
        table = self._table()
        exact = self._exact.get(key)
        if exact is not None:
            return exact.name, exact.id
        # "Zelenskyy" for "Volodymyr Zelenskyy": a unique token-subset match.
        words = set(key.split())
        partial = [actor for actor, _, word_sets in table if words and any(words <= w or w <= words for w in word_sets)]
        if len(partial) == 1:
            return partial[0].name, partial[0].id
        return None

    def names(self) -> list[str]:
        return [a.name for a in self.actors]


# ------------------------------------------------------------------ numbers written in a quote

_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9}
_WORDS = {
    word: float(value)
    for value, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
} | {"thirty": 30.0, "forty": 40.0, "fifty": 50.0, "sixty": 60.0, "seventy": 70.0, "eighty": 80.0}
_WORDS |= {"ninety": 90.0, "hundred": 100.0, "thousand": 1e3, "million": 1e6, "billion": 1e9, "dozen": 12.0}
_NUMERAL = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:[,\u202f\u00a0]\d{3})+|\d+)(\.\d+)?(?:\s*(thousand|million|billion|trillion|bn)\b)?",
    re.IGNORECASE,
)
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.IGNORECASE)
# Fractions in words, as the fraction and as a percentage ("a quarter of citizens": 25 percent).
_FRACTIONS = {
    "half": (0.5, 50.0),
    "quarter": (0.25, 25.0),
    "third": (1 / 3, 100 / 3, 33.0, 33.3),
    "fifth": (0.2, 20.0),
    "tenth": (0.1, 10.0),
}
_FRACTION_WORD = re.compile(r"\b(" + "|".join(_FRACTIONS) + r")s?\b", re.IGNORECASE)


def written_numbers(quote: str) -> frozenset[float]:
    """Every number a quote writes, in the forms news writes them: 3,000 / 3000 / 3 000; 5.0; 1.2 million
    (both 1.2 and 1,200,000); 10,000 to 12,000; 15-year-old; number words ("five thousand", "twenty-five",
    "a dozen"); fractions in words, also as percentages ("a quarter": 0.25 and 25)."""
    found: set[float] = set()
    for match in _NUMERAL.finditer(quote):
        digits = re.sub(r"[,\u202f\u00a0]", "", match.group(1)) + (match.group(2) or "")
        number = float(digits)
        found.add(number)
        if match.group(3):
            found.add(number * _SCALES[match.group(3).lower()])
    run: list[float] = []  # consecutive number words: "five thousand", "twenty-five", "two hundred"
    end = -1
    for match in _NUMBER_WORD.finditer(quote):
        value = _WORDS[match.group(1).lower()]
        found.add(value)
        joined = end >= 0 and re.fullmatch(r"[\s-]*(?:and\s+)?", quote[end : match.start()]) is not None
        run = [*run, value] if joined else [value]
        end = match.end()
        found.add(_spoken(run))
    for match in _FRACTION_WORD.finditer(quote):
        found.update(_FRACTIONS[match.group(1).lower()])
    return frozenset(found)


def _spoken(words: list[float]) -> float:
    """The value of a run of number words: "two hundred and five thousand" = 205,000."""
    total = current = 0.0
    for value in words:
        if value >= 1000:
            total += (current or 1) * value
            current = 0
        elif value == 100:
            current = (current or 1) * 100
        else:
            current += value
    return total + current


def number_written(number: float, written: frozenset[float] | tuple[float, ...]) -> bool:
    """Whether ``number`` (its magnitude: "a fall of 3" may be -3) is one of the written numbers."""
    return any(math.isclose(abs(number), candidate, rel_tol=1e-9, abs_tol=1e-9) for candidate in written)
