"""check, review and render: re-verification, coverage gaps, terminal and HTML views."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from typer.testing import CliRunner

from summarizer import cues
from summarizer.cli import app
from summarizer.cues import coverage_gaps, cue_lexicon, find_cues
from summarizer.documents import from_text
from summarizer.errors import ExitCode as Exit
from summarizer.render import highlighted_source, to_html

from .conftest import FIXTURES, SEED
from .test_pipeline import EXTRACTION, FakeLLM, brief_document, settings

runner = CliRunner()
TEXT = SEED.read_text(encoding="utf-8")


def make_brief(text: str = TEXT, path: str = str(SEED)):
    fix = {
        "items": [
            {"item": 1, "evidence": "Kirby noted that in the past week alone", "claimant": "John Kirby"},
            {"item": 2, "evidence": "He accused North Korean military leadership", "claimant": "John Kirby"},
        ]
    }
    return brief_document(from_text(text, path), FakeLLM(EXTRACTION, fix), settings())


@pytest.fixture
def brief_file(tmp_path: Path) -> Path:
    path = tmp_path / "seed-brief.json"
    path.write_text(make_brief().model_dump_json(indent=2))
    return path


def test_check_a_clean_brief(brief_file: Path) -> None:
    result = runner.invoke(app, ["check", str(brief_file)])
    assert result.exit_code == Exit.OK, result.output
    assert "ok: " in result.stdout and "grounding rate 100%" in result.stdout


def test_check_a_replayed_seed_brief(tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    assert runner.invoke(app, ["brief", str(SEED), "--replay", str(FIXTURES), "-o", str(out), "-q"]).exit_code == 0
    result = runner.invoke(app, ["check", str(out)])
    assert result.exit_code == Exit.OK and "grounding rate" in result.stdout


def test_check_names_the_item_whose_offset_was_altered(brief_file: Path) -> None:
    data = json.loads(brief_file.read_text())
    data["claims"][1]["evidence"]["start"] += 1
    data["claims"][1]["evidence"]["end"] += 1
    brief_file.write_text(json.dumps(data))
    result = runner.invoke(app, ["check", str(brief_file)])
    assert result.exit_code == Exit.CHECK_FAILED
    assert "C2.evidence" in result.stderr and "FAILED" in result.stdout


def test_check_notices_a_changed_source(brief_file: Path, tmp_path: Path) -> None:
    changed = tmp_path / "changed.txt"
    changed.write_text(TEXT + "\nOne more sentence.")
    result = runner.invoke(app, ["check", str(brief_file), "--source", str(changed)])
    assert result.exit_code == Exit.CHECK_FAILED and "has changed since the brief was made" in result.stderr


def test_check_refuses_a_newer_schema_clearly(brief_file: Path) -> None:
    data = json.loads(brief_file.read_text())
    data["schema_version"] = "9.0"
    brief_file.write_text(json.dumps(data))
    result = runner.invoke(app, ["check", str(brief_file)])
    assert result.exit_code == Exit.INPUT and "newer summarizer" in result.stderr and "upgrade" in result.stderr


def test_check_strict_fails_on_coverage_gaps(brief_file: Path) -> None:
    result = runner.invoke(app, ["check", str(brief_file), "--strict"])
    assert result.exit_code == Exit.CHECK_FAILED and "gap [" in result.stdout


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "A North Korean soldier fighting with Russian forces has died from serious injuries while in Ukrainian "
            "custody, according to South Korea’s National Intelligence Service (NIS).",
            {"according to"},
        ),
        (
            "Details of his capture remain unclear, but it was initially reported that he had been taken alive.",
            {"unclear", "reported"},
        ),
        (
            "Kirby noted that in the past week alone, as many as 1,000 North Korean troops were reportedly killed or "
            "wounded in the Kursk area.",
            {"noted", "as many as", "reportedly"},
        ),
        (
            "The military relationship between North Korea and Russia has deepened since Moscow’s invasion of Ukraine "
            "in February 2022.",
            set(),
        ),
        ("The vote was held in May 2015.", set()),
        ("Officials said the toll may rise.", {"said", "may"}),
    ],
)
def test_cue_detection_on_real_sentences(sentence: str, expected: set[str]) -> None:
    assert set(find_cues(sentence, cue_lexicon())) == expected


@examples(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*cue_lexicon(), "May", "Said", "ACCORDING", "to", "x", "sayings", "_said", "2"])))
def test_one_pattern_finds_what_a_pattern_per_cue_finds(words: list[str]) -> None:
    # the combined pre-check never hides a cue that the per-cue patterns find
    sentence = " ".join(words) + "."
    lexicon = cue_lexicon()
    assert find_cues(sentence, lexicon) == tuple(c for c in lexicon if cues._compiled(c).search(sentence))


def test_coverage_gaps_are_cue_sentences_no_item_covers() -> None:
    unclear = TEXT.index("Details of his capture")
    gaps = coverage_gaps(TEXT, [(unclear, unclear + 10)], cue_lexicon())
    assert all(not (g.start <= unclear < g.end) for g in gaps)
    assert any(g.sentence.startswith("Kirby noted") for g in gaps)


def test_review_prints_plain_text_when_not_a_terminal(brief_file: Path) -> None:
    result = runner.invoke(app, ["review", str(brief_file)])
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout
    for part in ("Actors (3)", "Claims (", "Uncertainties (", "Rejected (", "Volodymyr Zelenskyy", "estimated"):
        assert part in result.stdout
    flat = " ".join(result.stdout.split())  # the terminal width wraps long lines
    assert ">>close to 3,000 North Korean soldiers" in flat  # evidence marked inside its sentence


def test_review_without_the_source_still_shows_quotes(brief_file: Path, tmp_path: Path) -> None:
    data = json.loads(brief_file.read_text())
    data["document"]["path"] = str(tmp_path / "gone.txt")
    brief_file.write_text(json.dumps(data))
    result = runner.invoke(app, ["review", str(brief_file)])
    assert result.exit_code == 0 and "source not available" in result.stderr


def test_render_html_is_self_contained(brief_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "brief.html"
    result = runner.invoke(app, ["render", str(brief_file), "--html", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and " src=" not in page
    brief = json.loads(brief_file.read_text())
    for claim in brief["claims"]:
        assert f'data-id="{claim["id"]}"' in page
    assert 'class="claim' in page and 'class="actor' in page and 'class="uncertainty' in page


def test_document_text_is_escaped_in_html() -> None:
    text = (
        'Officials said the <script>alert("x")</script> toll may rise. '
        "The ministry confirmed that at least 12 people died.</script><b>"
    )
    brief = make_brief(text=text, path="evil.txt")
    page = to_html(brief, text)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert page.count("<script") == 2  # the page's own data and code blocks only
    assert "</script><b>" not in page


def test_highlights_reproduce_the_source_exactly() -> None:
    import html
    import re

    brief = make_brief()
    marked = highlighted_source(TEXT, brief)
    assert html.unescape(re.sub(r"<[^>]+>", "", marked)) == TEXT
