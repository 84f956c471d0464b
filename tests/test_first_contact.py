"""First contact: the conventions a newcomer expects of a command-line tool."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.errors import ExitCode as Exit

from .conftest import FIXTURES, SEED, SEEDS

runner = CliRunner()


def test_output_dash_is_standard_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["brief", str(SEED), "--replay", str(FIXTURES), "-o", "-", "-q"])
    assert result.exit_code == Exit.OK, result.stderr
    assert json.loads(result.stdout)["document"]["chars"] == len(SEED.read_text(encoding="utf-8"))
    assert list(tmp_path.iterdir()) == []  # no file named "-"


@pytest.mark.parametrize("mask", [0o022, 0o002])
def test_output_files_follow_the_umask(tmp_path: Path, mask: int) -> None:
    out = tmp_path / "brief.json"
    previous = os.umask(mask)
    try:
        result = runner.invoke(app, ["brief", str(SEED), "--replay", str(FIXTURES), "-o", str(out), "-q"])
    finally:
        os.umask(previous)
    assert result.exit_code == Exit.OK, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~mask


def test_review_in_a_pipe_marks_the_evidence_in_plain_text(tmp_path: Path) -> None:
    source = SEEDS / "wikinews" / "korea.txt"
    saved = tmp_path / "korea.json"
    made = runner.invoke(
        app,
        ["brief", str(source), "--replay", str(FIXTURES / "strong"), "--model", "gpt-4o-mini", "-o", str(saved), "-q"],
    )
    assert made.exit_code == Exit.OK, made.stderr
    brief = json.loads(saved.read_text(encoding="utf-8"))
    result = runner.invoke(app, ["review", str(saved)])
    assert result.exit_code == Exit.OK, result.stderr
    assert "\x1b[" not in result.stdout  # no colour codes in a pipe
    marked = re.findall(r">>(.+?)<<", result.stdout.replace("\n", " "))
    quotes = [" ".join(c["evidence"]["quote"].split()) for c in brief["claims"]]
    assert brief["claims"] and len(marked) >= len(quotes)
    for quote in quotes[:5]:
        assert any(quote[:40] in " ".join(m.split()) for m in marked), quote


def test_since_names_what_is_wrong_with_the_folder(tmp_path: Path) -> None:
    out = str(tmp_path / "day")
    missing = runner.invoke(app, ["daily", str(SEED), "--out", out, "--since", str(tmp_path / "nowhere")])
    assert missing.exit_code == Exit.USAGE and "no such folder" in missing.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    not_a_day = runner.invoke(app, ["daily", str(SEED), "--out", out, "--since", str(empty)])
    assert not_a_day.exit_code == Exit.USAGE and "not the --out folder of a finished daily run" in not_a_day.stderr
    assert not (tmp_path / "day").exists()


def test_a_missing_inbox_is_refused_once_and_writes_nothing(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox" / "nothere", tmp_path / "day"
    result = runner.invoke(app, ["daily", f"{inbox}/", "--out", str(out), "--replay", str(FIXTURES / "daily")])
    assert result.exit_code == Exit.INPUT
    assert result.stderr.count(str(inbox)) == 1 and "no such file or folder" in result.stderr
    assert not out.exists()


def test_a_failed_input_is_named_once(tmp_path: Path) -> None:
    missing = tmp_path / "gone.txt"
    result = runner.invoke(
        app, ["daily", str(SEED), str(missing), "--out", str(tmp_path / "day"), "--replay", str(FIXTURES / "daily")]
    )
    assert result.exit_code == Exit.INPUT
    line = next(line for line in result.stderr.splitlines() if "gone.txt" in line and "error" in line)
    assert line.count(str(missing)) == 1


def test_show_on_a_document_says_it_is_not_a_brief() -> None:
    result = runner.invoke(app, ["show", str(SEED)])
    assert result.exit_code == Exit.INPUT
    assert "not a brief" in result.stderr and "summarizer brief" in result.stderr


def test_a_rejected_alias_is_named() -> None:
    from summarizer.assembly import _grounded_aliases
    from summarizer.grounding import name_key
    from summarizer.models import ActorDraft

    draft = ActorDraft(name="John Kirby", kind="person", role="spokesperson", aliases=["Kirby", "J. K. Kirbo"])
    kept, rejected = _grounded_aliases(draft, name_key(draft.name), SEED.read_text(encoding="utf-8"))
    assert kept == ["Kirby"] and len(rejected) == 1
    assert '"J. K. Kirbo"' in rejected[0].reason and '"John Kirby"' in rejected[0].reason


def test_an_embedded_brief_says_how_it_was_made_and_what_to_run_instead() -> None:
    guided = runner.invoke(app, ["brief", str(SEED), "--replay", str(FIXTURES)])
    assert guided.exit_code == Exit.OK
    assert "found these actors, claims and uncertainties by rule" in guided.stderr
    assert "OPENAI_API_KEY=" in guided.stderr and "--base-url" in guided.stderr
    assert "by rule" not in guided.stdout
    extract = ["--replay", str(FIXTURES / "extract"), "--method", "extract"]
    thin = runner.invoke(app, ["brief", str(SEED), *extract])
    assert thin.exit_code == Exit.OK and "these briefs are thin" in thin.stderr and "135M" in thin.stderr
    assert "135M" not in thin.stdout
    assert "(.txt, .md, .html, .pdf, .docx)" in runner.invoke(app, ["brief", "-h"]).stdout
    strong = runner.invoke(app, ["brief", str(SEED), "--replay", str(FIXTURES / "strong"), "--model", "gpt-4o-mini"])
    assert strong.exit_code == Exit.OK and "135M" not in strong.stderr and "by rule" not in strong.stderr
    assert "guided extraction" in runner.invoke(app, ["--help"]).stdout


COMMANDS = ("brief", "daily", "show", "check", "review", "render", "schema")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_follows_click_conventions(command: str) -> None:
    short = runner.invoke(app, [command, "-h"])
    assert short.exit_code == Exit.OK and short.stdout == runner.invoke(app, [command, "--help"]).stdout
    usage = short.stdout.splitlines()[0]
    assert usage.startswith(f"Usage: summarizer {command} [OPTIONS]")
    for odd in ("<int range>", "<str>", "<path>", "<float", "<list[", "{PATH", "{path"):
        assert odd not in short.stdout, odd
    assert runner.invoke(app, [command, "--version"]).stdout.startswith("summarizer ")
    # example lines are kept whole, not re-wrapped in the middle of a command
    examples = short.stdout.split("Examples:")[1].split("\n\n")[1] if "Examples:" in short.stdout else ""
    for line in examples.splitlines():
        assert line.strip().startswith(("summarizer ", "cat ", "OPENAI_API_KEY=")), line


def test_usage_lines_name_their_arguments_as_click_does() -> None:
    assert runner.invoke(app, ["brief", "-h"]).stdout.startswith("Usage: summarizer brief [OPTIONS] PATH...")
    assert runner.invoke(app, ["show", "-h"]).stdout.startswith("Usage: summarizer show [OPTIONS] PATH\n")
    assert "  -j, --concurrency INTEGER" in runner.invoke(app, ["daily", "-h"]).stdout
    assert ".html" in runner.invoke(app, ["brief", "-h"]).stdout


def test_o_is_the_output_option_of_every_command_that_writes(tmp_path: Path) -> None:
    day = tmp_path / "day"
    made = runner.invoke(app, ["daily", str(SEED), "-o", str(day), "--replay", str(FIXTURES / "daily"), "-q"])
    assert made.exit_code == Exit.OK, made.stderr
    page = tmp_path / "page.html"
    shown = runner.invoke(app, ["render", str(day / "briefs" / f"{SEED.stem}.json"), "-o", str(page)])
    assert shown.exit_code == Exit.OK, shown.stderr
    assert page.read_text(encoding="utf-8").lower().startswith("<!doctype html>")


def test_v_logs_a_line_per_request_and_vv_adds_the_bodies(tmp_path: Path) -> None:
    import subprocess
    import sys

    def run(*flags: str) -> str:
        replay = ["--replay", str(FIXTURES / "extract"), "--method", "extract"]
        command = [sys.executable, "-m", "summarizer", "brief", str(SEED), *replay, "-o"]
        done = subprocess.run([*command, str(tmp_path / "b.json"), *flags], capture_output=True, text=True)
        assert done.returncode == Exit.OK, done.stderr
        return done.stderr

    quiet, one, two = run(), run("-v"), run("-vv")
    requests = [line for line in one.splitlines() if "POST /v1/chat/completions" in line]
    attempts = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))["run"]["attempts"]
    assert len(requests) == attempts >= 1 and all(len(line) < 120 for line in requests)
    assert "ERROR" not in one and "ERROR" not in quiet and "POST" not in quiet
    phrase = "North Korean soldier fighting with Russian forces"  # the document, inside a request body
    assert phrase not in one and phrase in two


@pytest.mark.parametrize(
    ("quote", "only"),
    [
        ("Saudi Arabia's Civil Defense Authority.", True),
        ("John Kirby", True),
        ("the NIS", True),
        ("Kirby said", False),
        ("Kirby noted that in the past week alone", False),
        ("", False),
    ],
)
def test_evidence_that_only_names_a_source(quote: str, only: bool) -> None:
    from summarizer.grounding import name_only

    names = ["Saudi Arabia's Civil Defense Authority", "John Kirby", "National Intelligence Service", "NIS"]
    assert name_only(quote, names) is only


def test_check_says_when_evidence_only_names_a_source(tmp_path: Path) -> None:
    # a brief as the previous version made it: the crane claim whose evidence is only its claimant's name
    from summarizer.models import Brief

    brief = Brief.model_validate_json((FIXTURES.parent / "tests" / "data" / "name-only-brief.json").read_text())
    saved = tmp_path / "crane.json"
    saved.write_text(brief.model_dump_json(), encoding="utf-8")
    source = SEEDS / "wikinews" / "crane.txt"
    plain = runner.invoke(app, ["check", str(saved), "--source", str(source)])
    assert plain.exit_code == Exit.OK and "unsupported C1" in plain.stdout and "only names a source" in plain.stdout
    strict = runner.invoke(app, ["check", str(saved), "--source", str(source), "--strict"])
    assert strict.exit_code == Exit.CHECK_FAILED


def test_the_pipeline_rejects_evidence_that_only_names_a_source() -> None:
    crane = str(SEEDS / "wikinews" / "crane.txt")
    result = runner.invoke(app, ["brief", crane, "--replay", str(FIXTURES / "extract"), "--method", "extract"])
    brief = json.loads(result.stdout)
    assert all(not c["evidence"]["quote"].endswith("Civil Defense Authority.") for c in brief["claims"])
    assert any("only names a source" in r["reason"] for r in brief["rejected"] if r["kind"] == "claim")


def test_the_html_page_names_its_model_and_lists_the_coverage_gaps(tmp_path: Path) -> None:
    saved, page = tmp_path / "seed.json", tmp_path / "seed.html"
    extract = ["--replay", str(FIXTURES / "extract"), "--method", "extract"]
    made = runner.invoke(app, ["brief", str(SEED), *extract, "-o", str(saved), "-q"])
    assert made.exit_code == Exit.OK
    assert runner.invoke(app, ["render", str(saved), "--html", str(page)]).exit_code == Exit.OK
    html = page.read_text(encoding="utf-8")
    assert 'id="made-by"' in html and "smollm2-135m-instruct" in html and "135M demo model" in html
    gaps = re.search(r"<h2>Coverage gaps \((\d+)\)</h2>", html)
    assert gaps is not None and int(gaps.group(1)) > 0  # the seed brief has no claims: every cue sentence is a gap
    assert "according to South Korea’s National Intelligence Service" in html.split("Coverage gaps")[1]
    # the embedded default (guided) says who made what instead
    guided = runner.invoke(app, ["brief", str(SEED), "--replay", str(FIXTURES), "-o", str(saved), "-q"])
    assert guided.exit_code == Exit.OK
    assert runner.invoke(app, ["render", str(saved), "--html", str(page)]).exit_code == Exit.OK
    html = page.read_text(encoding="utf-8")
    assert "Guided extraction: the program found" in html and "135M demo model" not in html


def test_o_dash_prints_a_page_and_is_refused_where_a_folder_is_written(tmp_path: Path) -> None:
    saved = tmp_path / "seed.json"
    assert runner.invoke(app, ["brief", str(SEED), "--replay", str(FIXTURES), "-o", str(saved), "-q"]).exit_code == 0
    page = runner.invoke(app, ["render", str(saved), "-o", "-"])
    assert page.exit_code == Exit.OK and page.stdout.lower().startswith("<!doctype html>")
    day = runner.invoke(app, ["daily", str(SEED), "-o", "-", "--replay", str(FIXTURES / "daily")])
    assert day.exit_code == Exit.USAGE and "give its path" in day.stderr
    assert not (tmp_path / "-").exists() and not Path("-").exists()


def test_name_only_is_judged_against_the_resolved_claimant() -> None:
    # "officials who said" resolves to the actor "Officials"; "said" in the evidence is what was asserted
    from summarizer.assembly import Assembly
    from summarizer.models import Extraction

    text = "Officials who said so were quoted."
    answer = Extraction.model_validate(
        {
            "summary": "s",
            "actors": [{"name": "Officials", "kind": "government", "role": "source"}],
            "claims": [
                {
                    "claimant": "officials who said",
                    "statement": "Officials spoke.",
                    "evidence": "Officials who said",
                    "status": "reported",
                }
            ],
            "uncertainties": [],
        }
    )
    assembly = Assembly(text=text)
    assembly.add_answer(answer)
    assert [(c.claimant, c.evidence.quote) for c in assembly.claims] == [("Officials", "Officials who said")]
    assert not any("only names a source" in r.reason for r in assembly.rejected)
