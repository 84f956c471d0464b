from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from summarizer import grounding
from summarizer.assembly import assemble
from summarizer.grounding import align, closest_sentence, normalize, sentence_bounds
from summarizer.models import Extraction

from .conftest import SEED, SEEDS

TEXTS = [SEED.read_text(encoding="utf-8")] + [
    path.read_text(encoding="utf-8") for path in sorted((SEEDS / "wikinews").glob("*.txt"))[:6]
]
SEED_TEXT = TEXTS[0]


def test_exact_match_gives_source_offsets() -> None:
    quote = "close to 3,000 North Korean soldiers"
    found = align(quote, SEED_TEXT)
    assert found is not None and found.match == "exact"
    assert SEED_TEXT[found.start : found.end] == quote


def test_straight_quotes_and_case_align_to_curly_source() -> None:
    # The source has a curly apostrophe and capitals; the model wrote straight and lower case.
    found = align("according to south korea's national intelligence service", SEED_TEXT)
    assert found is not None and found.match == "normalized"
    assert SEED_TEXT[found.start : found.end] == "according to South Korea’s National Intelligence Service"


def test_wrapping_quote_marks_and_final_period_are_forgiven() -> None:
    found = align('"Details of his capture remain unclear."', SEED_TEXT)
    assert found is not None
    assert SEED_TEXT[found.start : found.end].startswith("Details of his capture remain unclear")


def test_fuzzy_match_is_labelled_and_scored() -> None:
    found = align("Pyongyang has reportedly deployed thousand of troops to prop up Russian military effort", SEED_TEXT)
    assert found is not None and found.match == "fuzzy"
    assert found.score >= grounding.FUZZY_THRESHOLD
    assert SEED_TEXT[found.start : found.end].startswith("Pyongyang has reportedly deployed")


def test_fuzzy_can_be_switched_off() -> None:
    assert align("Pyongyang has reportedly deployed thousand of troops to prop up", SEED_TEXT, fuzzy=False) is None


@pytest.mark.parametrize("quote", ["", "   ", "x" * (grounding.MAX_QUOTE_CHARS + 1), "ab " * 400])
def test_empty_or_overlong_quotes_never_align(quote: str) -> None:
    assert align(quote, SEED_TEXT + "x" * 1000) is None


def test_window_prefers_the_nearby_occurrence() -> None:
    text = "Alice said hello. " * 3 + "Bob said goodbye."
    far = align("said", text)
    near = align("said", text, window=(text.index("Bob"), len(text)))
    assert far is not None and near is not None
    assert far.start == text.index("said") and near.start == text.index("Bob said") + 4


def test_whole_words_refuses_a_match_inside_a_longer_word() -> None:
    assert align("Zelensky", SEED_TEXT) is not None  # a substring of "Zelenskyy"
    assert align("Zelensky", SEED_TEXT, whole_words=True, fuzzy=False) is None
    found = align("said", "He unsaid it. She said no.", whole_words=True)
    assert found is not None and found.start == 18


def test_sentence_bounds_and_closest_sentence() -> None:
    position = SEED_TEXT.index("GUR")
    start, end = sentence_bounds(SEED_TEXT, position)
    assert SEED_TEXT[start:end].startswith("According to Ukraine’s military intelligence agency")
    hint = closest_sentence("Kirby said 1,000 North Korean troops were killed or wounded in Kursk", SEED_TEXT)
    assert hint is not None and hint.startswith("Kirby noted that in the past week alone")
    assert closest_sentence("zzzz qqqq", SEED_TEXT) is None


# ---------------------------------------------------------------- properties


@st.composite
def substrings(draw: st.DrawFn) -> tuple[str, int, int]:
    text = draw(st.sampled_from(TEXTS))
    start = draw(st.integers(0, len(text) - 2))
    end = draw(st.integers(start + 1, min(len(text), start + grounding.MAX_QUOTE_CHARS)))
    return text, start, end


@settings(max_examples=300, deadline=None)
@given(substrings())
def test_any_substring_aligns_to_its_own_text(case: tuple[str, int, int]) -> None:
    text, start, end = case
    quote = text[start:end]
    assume(quote.strip())
    found = align(quote, text)
    assert found is not None and found.match == "exact"
    assert text[found.start : found.end] == quote
    assert found.start == text.find(quote)  # first occurrence: its own offsets when unique
    if text.count(quote) == 1:
        assert (found.start, found.end) == (start, end)


def _perturb(quote: str, how: str) -> str:
    if how == "upper":
        return quote.upper()
    if how == "straight":
        return quote.replace("’", "'").replace("“", '"').replace("”", '"')
    if how == "curly":
        return quote.replace("'", "’").replace('"', "“")
    if how == "spaces":
        return quote.replace(" ", "  ")
    return quote.replace("-", "–")


@settings(max_examples=300, deadline=None)
@given(substrings(), st.sampled_from(["upper", "straight", "curly", "spaces", "dashes"]))
def test_perturbed_copies_map_back_to_the_same_offsets(case: tuple[str, int, int], how: str) -> None:
    text, start, end = case
    quote = text[start:end]
    # Whole, trimmed quotes whose comparison form occurs once in the source.
    assume(quote.strip() == quote and len(quote) >= 3)
    assume(normalize(text).count(normalize(quote)) == 1)
    assume(quote[-1] not in ".,;:!?\"'’”“" and quote[0] not in "\"'’”“")
    found = align(_perturb(quote, how), text, fuzzy=False)
    assert found is not None
    assert (found.start, found.end) == (start, end)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="qxzjvkw0123456789 ", min_size=4, max_size=80))
def test_text_not_in_the_source_never_aligns(junk: str) -> None:
    for text in TEXTS:
        assume(normalize(junk).strip() not in normalize(text))
        assert align(junk, text, fuzzy=False) is None
        found = align(junk, text)
        assert found is None or (found.match == "fuzzy" and found.score >= grounding.FUZZY_THRESHOLD)


def test_alignment_offsets_are_within_the_text(tmp_path: Path) -> None:
    text = "Line one.\r\nLine two said “yes”.\n\n  Indented —dash."
    for quote in ['line two said "yes"', "Indented -dash", "LINE ONE."]:
        found = align(quote, text)
        assert found is not None and 0 <= found.start < found.end <= len(text)


# RapidFuzz bounds, difflib decides: the answers of a full difflib scan.


def difflib_closest(quote: str, text: str) -> str | None:
    """The reference: every sentence scored with difflib, the first best kept."""
    from difflib import SequenceMatcher

    best: tuple[float, str] | None = None
    for start, end in grounding.sentences(text):
        ratio = SequenceMatcher(None, normalize(text[start:end]), normalize(quote), autojunk=False).ratio()
        if best is None or ratio > best[0]:
            best = (ratio, text[start:end])
    return best[1] if best and best[0] > grounding.HINT_THRESHOLD else None


def difflib_fuzzy(quote: str, source: grounding._Normalized, threshold: float) -> tuple[int, int] | None:
    """The reference: the word-window scan as it was before RapidFuzz, every window scored with difflib."""
    import math
    import re
    from collections import Counter
    from difflib import SequenceMatcher

    size = len(quote)
    if size < grounding.MIN_FUZZY_CHARS or size > len(source.text):
        return None
    words = [(m.start(), m.group()) for m in re.finditer(r"\S+", source.text)]
    wanted = Counter(quote.split())
    span = sum(wanted.values())
    needed = math.ceil(span * grounding.FUZZY_WORD_SHARE)
    have: Counter[str] = Counter()
    shared = 0
    best: tuple[float, int, int] | None = None
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(quote)
    for index, (_, word) in enumerate(words):
        have[word] += 1
        if have[word] <= wanted[word]:
            shared += 1
        if index >= span:
            gone = words[index - span][1]
            if have[gone] <= wanted[gone]:
                shared -= 1
            have[gone] -= 1
        if index + 1 < span or shared < needed:
            continue
        begin = words[index - span + 1][0]
        for length in {size, size - 1, size + 1}:
            window = source.text[begin : begin + length]
            matcher.set_seq1(window)
            ratio = matcher.ratio()
            if ratio >= threshold and (best is None or ratio > best[0]):
                best = (ratio, begin, len(window.rstrip(" ")))
    return None if best is None else grounding._to_original(source, best[1], best[2])


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(TEXTS), st.data())
def test_closest_sentence_is_the_first_best_by_difflib_ratio(text: str, data: st.DataObject) -> None:
    sentences = grounding.sentences(text)
    start, end = sentences[data.draw(st.integers(0, len(sentences) - 1))]
    words = text[start:end].split()
    # a garbled copy of a sentence, or random words from the whole text: near and far quotes
    if data.draw(st.booleans()):
        keep = data.draw(st.lists(st.booleans(), min_size=len(words), max_size=len(words)))
        quote = " ".join(w for w, k in zip(words, keep, strict=True) if k) or words[0]
    else:
        pool = text.split()
        quote = " ".join(data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=12)))
    assert closest_sentence(quote, text) == difflib_closest(quote, text)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(TEXTS[:3]), st.data())
def test_fuzzy_alignment_is_the_difflib_scans_answer(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text) - 60))
    quote = list(text[start : start + data.draw(st.integers(25, 60))])
    for _ in range(data.draw(st.integers(0, 3))):  # a few typos
        quote[data.draw(st.integers(0, len(quote) - 1))] = data.draw(st.sampled_from("xq#"))
    target = normalize("".join(quote)).strip(grounding._STRIP_CHARS)
    source = grounding._normalize(text)
    found = grounding._fuzzy(target, source, grounding.FUZZY_THRESHOLD)
    expected = difflib_fuzzy(target, source, grounding.FUZZY_THRESHOLD)
    assert (None if found is None else (found.start, found.end)) == expected


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_fold_is_normalize_composed(text: str) -> None:
    """The same comparison form, composed (NFC) so words stay whole; canonically equivalent texts fold alike."""
    assert grounding._fold(text) == unicodedata.normalize("NFC", normalize(text))
    assert grounding._fold(unicodedata.normalize("NFD", text)) == grounding._fold(unicodedata.normalize("NFC", text))


@pytest.mark.parametrize(
    ("quote", "numbers"),
    [
        ("about 3,000 soldiers were killed or wounded", [3000]),
        ("3000 soldiers", [3000]),
        ("a 1.2 million increase", [1.2, 1_200_000]),
        ("between 10,000 to 12,000 troops", [10_000, 12_000]),
        ("unemployment rose to 5.0 percent", [5.0]),
        ("a 15-year-old boy", [15]),
        ("around five thousand votes", [5000]),
        ("more than two billion people", [2_000_000_000]),
        ("twenty-five villages", [25]),
        ("a quarter of citizens", [25, 0.25]),
        ("a dozen", [12]),
    ],
)
def test_numbers_are_found_in_the_forms_news_writes_them(quote: str, numbers: list[float]) -> None:
    written = grounding.written_numbers(quote)
    assert all(grounding.number_written(n, written) for n in numbers), sorted(written)


@pytest.mark.parametrize(("quote", "number"), [("Saudi Arabia's Civil Defense Authority.", 14.58), ("in 2013", 2014)])
def test_a_number_not_written_is_not_found(quote: str, number: float) -> None:
    assert not grounding.number_written(number, grounding.written_numbers(quote))


@given(st.integers(min_value=0, max_value=10**12))
def test_an_integer_is_found_with_or_without_thousands_separators(n: int) -> None:
    for quote in (f"a total of {n} units", f"a total of {n:,} units"):
        assert grounding.number_written(n, grounding.written_numbers(quote))


def test_a_figure_not_in_its_evidence_is_rejected_and_the_claim_kept() -> None:
    text = "Officials said 36 shells fell near the posts on Thursday."
    answer = Extraction.model_validate(
        {
            "summary": "Shells fell.",
            "actors": [{"name": "Officials", "kind": "government", "role": "source"}],
            "claims": [
                {
                    "claimant": "Officials",
                    "statement": "36 shells fell.",
                    "evidence": "36 shells fell near the posts",
                    "status": "reported",
                    "figures": [{"value": 36, "unit": "shells"}, {"value": 14.58, "unit": "km"}],
                }
            ],
            "uncertainties": [],
        }
    )
    assembly = assemble(text, answer)
    (claim,) = assembly.claims
    assert [f.value for f in claim.figures] == [36]
    (rejected,) = [r for r in assembly.rejected if r.kind == "figure"]
    assert rejected.reason == "14.58 is not written in the claim's evidence"
