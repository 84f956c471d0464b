from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from summarizer.chunking import chunk_text, estimate_tokens
from summarizer.grounding import sentences

from .conftest import SEEDS

ARTICLES = [p.read_text(encoding="utf-8") for p in sorted((SEEDS / "wikinews").glob("*.txt"))]
LONG = "\n\n".join(ARTICLES)  # ~90,000 characters: far beyond a small context


def test_a_short_text_is_one_chunk() -> None:
    assert [(c.start, c.end) for c in chunk_text(ARTICLES[0], budget=100_000)] == [(0, len(ARTICLES[0]))]


@settings(max_examples=40, deadline=None)
@given(
    budget=st.integers(60, 3000),
    overlap=st.integers(0, 200),
    article=st.integers(0, len(ARTICLES) - 1),
    repeat=st.integers(1, 6),
)
def test_chunks_are_exact_slices_within_budget_covering_everything(
    budget: int, overlap: int, article: int, repeat: int
) -> None:
    text = "\n\n".join(ARTICLES[article : article + repeat])
    chunks = chunk_text(text, budget, overlap)
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert estimate_tokens(chunk.text) <= budget
    covered = [False] * len(text)
    for chunk in chunks:
        for index in range(chunk.start, chunk.end):
            covered[index] = True
    assert all(covered[i] for i in range(len(text)) if not text[i].isspace())
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


@settings(max_examples=40, deadline=None)
@given(budget=st.integers(200, 3000), overlap=st.integers(0, 300))
def test_no_sentence_that_fits_is_ever_cut(budget: int, overlap: int) -> None:
    chunks = chunk_text(LONG, budget, overlap)
    for start, end in sentences(LONG):
        if estimate_tokens(LONG[start:end]) <= budget:
            assert any(c.start <= start and end <= c.end for c in chunks), LONG[start:end][:60]


def test_an_over_long_sentence_is_split_safely() -> None:
    text = "word " * 5000
    chunks = chunk_text(text, budget=100)
    assert len(chunks) > 10
    assert all(estimate_tokens(c.text) <= 100 and text[c.start : c.end] == c.text for c in chunks)


def test_overlap_repeats_the_boundary_sentences() -> None:
    without = chunk_text(LONG, 1000, overlap=0)
    with_overlap = chunk_text(LONG, 1000, overlap=150)
    assert len(with_overlap) >= len(without)
    assert any(b.start < a.end for a, b in pairwise(with_overlap))
