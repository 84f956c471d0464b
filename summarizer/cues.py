"""The cue lexicon: words that signal an attribution, an estimate or a hedge (pure).

``summarizer/data/cues.txt`` lists the cues under three headings. The pipeline
sizes a capable model's request by the sentences that carry them and asks a
continuation pass for the ones no item covers; ``check`` reports those as
coverage gaps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Literal

from . import grounding, nlp

CueKind = Literal["attribution", "estimate", "hedge"]
MODALS = ("may", "might", "could")
_HEADINGS: dict[str, CueKind] = {"attribution": "attribution", "estimates": "estimate", "hedging": "hedge"}


@dataclass(frozen=True)
class Gap:
    """A sentence ([start, end) in the text) carrying cues that no item covers."""

    start: int
    end: int
    sentence: str
    cues: tuple[str, ...]


@lru_cache(maxsize=1)
def cue_kinds() -> dict[str, CueKind]:
    """Every cue of the lexicon and the heading it is listed under."""
    text = (resources.files("summarizer") / "data" / "cues.txt").read_text(encoding="utf-8")
    kinds: dict[str, CueKind] = {}
    kind: CueKind = "attribution"
    for line in (raw.strip() for raw in text.splitlines()):
        if line.startswith("#"):
            heading = line.lstrip("# ").split(" ")[0].lower()
            kind = _HEADINGS.get(heading, kind)
        elif line:
            kinds[line] = kind
    return kinds


def cue_lexicon() -> list[str]:
    return list(cue_kinds())


def _escaped(cue: str) -> str:
    return re.escape(cue).replace(r"\ ", r"\s+")


def cue_pattern(cue: str) -> str:
    """Whole words; case ignored, except that modal verbs match in lower case only ("May" the month)."""
    if cue in MODALS:
        return rf"\b{_escaped(cue)}\b"
    return rf"(?i:\b{_escaped(cue)}\b)"


@cache
def _compiled(cue: str) -> re.Pattern[str]:
    return re.compile(cue_pattern(cue))


@lru_cache(maxsize=8)
def _any_of(cues: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern that matches where any of ``cues`` does (most sentences carry none): the word
    boundaries factored out of the alternatives, several times faster than one branch per cue."""
    modal = "|".join(_escaped(cue) for cue in cues if cue in MODALS)
    other = "|".join(_escaped(cue) for cue in cues if cue not in MODALS)
    branches = ([rf"(?i:\b(?:{other})\b)"] if other else []) + ([rf"\b(?:{modal})\b"] if modal else [])
    return re.compile("|".join(branches) or r"(?!)")


def find_cues(sentence: str, cues: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    if not _any_of(tuple(cues)).search(sentence):
        return ()
    return tuple(cue for cue in cues if _compiled(cue).search(sentence))


def cue_sentences(text: str, cues: list[str] | None = None, *, parsed: bool = True) -> list[Gap]:
    """Every sentence of ``text`` that carries a cue, with its cues. The sentences are the NLP layer's
    (``nlp.parse``: "Sen.", "D.C." and "J." end none, and a closing "Flynn said." stays with its quotation),
    which the pipeline has parsed anyway; ``parsed=False`` takes the quick splitter of ``grounding`` instead,
    for a saved brief's gaps (``check``, the pages), which would otherwise load the parser for them."""
    return list(_cue_sentences(text, tuple(cue_lexicon() if cues is None else cues), parsed))


@lru_cache(maxsize=32)
def _cue_sentences(text: str, lexicon: tuple[str, ...], parsed: bool) -> tuple[Gap, ...]:
    found = []
    bounds = [(s.start, s.end) for s in nlp.parse(text).sentences] if parsed else grounding.sentences(text)
    for start, end in bounds:
        sentence = text[start:end]
        hits = find_cues(sentence, lexicon)
        if hits:
            found.append(Gap(start, end, sentence, hits))
    return tuple(found)


def coverage_gaps(text: str, covered: list[tuple[int, int]], cues: list[str] | None = None) -> list[Gap]:
    """Sentences of a saved brief's text carrying an attribution or hedging cue that no claim or uncertainty
    covers (the quick splitter: see ``cue_sentences``)."""
    return uncovered(cue_sentences(text, cues, parsed=False), covered)


def uncovered(sentences: list[Gap], covered: list[tuple[int, int]]) -> list[Gap]:
    """The cue sentences that no span of ``covered`` overlaps."""
    overlaps = grounding.overlapping_any(covered)
    return [gap for gap in sentences if not overlaps((gap.start, gap.end))]
