"""Splitting long documents into chunks that fit a model's context, with exact offsets.

Pure functions. A document is cut into units — paragraphs, then sentences of
over-long paragraphs, then whitespace-bounded pieces of over-long sentences —
and consecutive units are packed into chunks of at most ``budget`` tokens.
Each chunk repeats the units within ``overlap`` tokens before its start, so a
quote near a boundary lies whole inside one chunk. Every chunk is a slice of
the original text: ``text[chunk.start:chunk.end] == chunk.text``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from .grounding import sentences

# Conservative for English prose (about four characters a token); used when no
# tokenizer for the model is at hand.
CHARS_PER_TOKEN = 3.0

TokenCounter = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(frozen=True)
class Chunk:
    start: int
    end: int
    text: str


def _paragraphs(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in re.finditer(r"\n\s*\n", text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _hard_split(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Pieces of at most ``limit`` characters, cut at whitespace where there is some."""
    pieces = []
    while end - start > limit:
        cut = text.rfind(" ", start + 1, start + limit + 1)
        cut = cut if cut > start else start + limit
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def units(text: str, budget: int, count: TokenCounter = estimate_tokens) -> list[tuple[int, int]]:
    """Paragraphs; sentences of paragraphs over ``budget``; pieces of sentences over it."""
    out: list[tuple[int, int]] = []
    char_limit = max(1, int(budget * CHARS_PER_TOKEN))
    for start, end in _paragraphs(text):
        if count(text[start:end]) <= budget:
            out.append((start, end))
            continue
        for s_start, s_end in sentences(text[start:end]):
            a, b = start + s_start, start + s_end
            if count(text[a:b]) <= budget:
                out.append((a, b))
            else:
                out += _hard_split(text, a, b, min(char_limit, b - a))
    return out


def chunk_text(text: str, budget: int, overlap: int = 0, count: TokenCounter = estimate_tokens) -> list[Chunk]:
    """Chunks of at most ``budget`` tokens covering ``text``; each starts ``overlap`` tokens early."""
    if budget < 1:
        raise ValueError("the token budget for a chunk must be positive")
    if count(text) <= budget:
        return [Chunk(0, len(text), text)]
    pieces = units(text, budget, count)
    chunks: list[Chunk] = []
    first = 0
    while first < len(pieces):
        last = first
        while last + 1 < len(pieces) and count(text[pieces[first][0] : pieces[last + 1][1]]) <= budget:
            last += 1
        start, end = pieces[first][0], pieces[last][1]
        chunks.append(Chunk(start, end, text[start:end]))
        if last + 1 >= len(pieces):
            break
        # The next chunk repeats the last units that fit within the overlap.
        following = last + 1
        while following - 1 > first and count(text[pieces[following - 1][0] : end]) <= overlap:
            following -= 1
        first = max(following, first + 1)
    return chunks
