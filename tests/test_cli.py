"""The command line through Typer's CliRunner: exit codes, stdout and stderr apart."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.errors import (
    EXIT_CODES,
    BriefError,
    BusyError,
    DocumentError,
    ExitCode,
    FixtureMissing,
    LLMError,
    OutputError,
    ProviderError,
    SourceChanged,
    SummarizerError,
    exit_code_of,
    kind_of,
)
from summarizer.errors import ExitCode as Exit

from .conftest import FIXTURES, SEED

runner = CliRunner()


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def test_help_lists_commands_and_examples() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("brief", "schema", "show"):
        assert command in result.stdout
    brief_help = invoke("brief", "--help").stdout
    assert "Examples:" in brief_help and "--replay fixtures" in brief_help and "Exit codes" in brief_help


def test_help_does_not_import_the_llm_stack() -> None:
    code = (
        "import sys; from summarizer.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('openai', 'instructor', 'httpx2', 'tenacity') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_brief_replay_prints_grounded_json_on_stdout() -> None:
    result = invoke("brief", str(SEED), "--replay", str(FIXTURES))
    assert result.exit_code == Exit.OK, result.stderr
    brief = json.loads(result.stdout)
    text = SEED.read_text(encoding="utf-8")
    for item in brief["claims"] + brief["uncertainties"]:
        span = item["evidence"]
        assert text[span["start"] : span["end"]] == span["quote"]
    # the embedded default asks the model nothing, and the brief never names a model that did not run
    assert (brief["run"]["provider"], brief["run"]["model"], brief["run"]["method"]) == ("rules", "none", "guided")
    assert brief["run"]["attempts"] == 0 and brief["run"]["base_url"] is None
    assert "briefing " in result.stderr and "rejected" in result.stderr
    assert "briefing seeds" not in result.stdout and f"briefing {SEED}" not in result.stdout


def test_brief_markdown_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "brief.md"
    result = invoke("brief", str(SEED), "--replay", str(FIXTURES), "--format", "md", "-o", str(out), "-q")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
    text = out.read_text()
    assert text.startswith("# ") and "## Claims" in text and "*Guided extraction:" in text
    # the model-written path lists what it rejected
    extract = ["--replay", str(FIXTURES / "extract"), "--method", "extract"]
    result = invoke("brief", str(SEED), *extract, "--format", "md", "-o", str(out), "-q")
    assert result.exit_code == 0 and "## Rejected" in out.read_text()


def test_stdin_input_and_show(tmp_path: Path) -> None:
    result = invoke(
        "brief", "-", "--replay", str(FIXTURES), "-o", str(tmp_path / "b.json"), input=SEED.read_text(encoding="utf-8")
    )
    assert result.exit_code == 0, result.stderr
    shown = invoke("show", str(tmp_path / "b.json"))
    assert shown.exit_code == 0 and "## Actors" in shown.stdout


def test_batch_with_a_bad_document_still_briefs_the_rest(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = invoke("brief", str(empty), str(SEED), "--replay", str(FIXTURES), "-o", str(tmp_path / "out"))
    assert result.exit_code == Exit.INPUT
    assert f"summarizer: error: {empty}: document is empty" in result.stderr
    written = json.loads((tmp_path / "out" / f"{SEED.stem}.json").read_text())
    assert written["document"]["id"]


def test_several_inputs_to_stdout_are_json_lines() -> None:
    korea = SEED.parent / "wikinews" / "korea.txt"
    result = invoke("brief", str(SEED), str(korea), "--replay", str(FIXTURES), "-q")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [json.loads(line)["document"]["path"] for line in lines] == [str(SEED), str(korea)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02", "binary"),
        ("é".encode("latin-1") * 3, "not valid UTF-8"),
    ],
)
def test_bad_input_exit_code_and_one_line_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(content)
    result = invoke("brief", str(path), "--replay", str(FIXTURES))
    assert result.exit_code == Exit.INPUT
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_missing_file() -> None:
    result = invoke("brief", "no/such/file.txt", "--replay", str(FIXTURES))
    assert result.exit_code == Exit.INPUT and "no such file" in result.stderr


def test_missing_fixture_says_how_to_record(tmp_path: Path) -> None:
    doc = tmp_path / "new.txt"
    doc.write_text("A document that was never recorded.")
    result = invoke("brief", str(doc), "--replay", str(FIXTURES / "extract"), "--method", "extract")
    assert result.exit_code == Exit.FIXTURE_MISSING
    assert "no recorded response" in result.stderr and "--record" in result.stderr


def test_the_default_needs_nothing_installed_and_names_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("summarizer.settings.llama_cpp_installed", lambda: False)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUMMARIZER_PROVIDER", "SUMMARIZER_MODEL", "SUMMARIZER_REPLAY"):
        monkeypatch.delenv(name, raising=False)
    result = invoke("brief", str(SEED), "-f", "md")
    assert result.exit_code == Exit.OK, result.stderr
    assert "rules (no model)" in result.stdout and "smollm2" not in result.stdout
    assert "briefing " in result.stderr and "with rules (no model)" in result.stderr


def test_asking_the_embedded_model_when_it_is_not_installed_says_how(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("summarizer.settings.llama_cpp_installed", lambda: False)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUMMARIZER_PROVIDER", "SUMMARIZER_REPLAY"):
        monkeypatch.delenv(name, raising=False)
    result = invoke("brief", str(SEED), "--method", "extract")
    assert result.exit_code == Exit.PROVIDER and result.stdout == ""
    assert "--method extract" in result.stderr and "summarizer[local]" in result.stderr
    assert "OPENAI_API_KEY" in result.stderr


def test_unreachable_endpoint_is_an_llm_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    # Port 9 (discard) on loopback: nothing listens; retries are bounded.
    result = invoke("brief", str(SEED), "--base-url", "http://127.0.0.1:9/v1", "-q")
    assert result.exit_code == Exit.LLM
    assert "cannot reach the LLM endpoint" in result.stderr


def test_usage_errors() -> None:
    assert invoke("brief", str(SEED), "--format", "xml", "--replay", str(FIXTURES)).exit_code == Exit.USAGE
    assert invoke("brief", str(SEED), "--replay", "no-such-folder").exit_code == Exit.USAGE
    assert invoke("brief", str(SEED), "--provider", "nope").exit_code == Exit.PROVIDER


def test_schema_command() -> None:
    result = invoke("schema")
    schema = json.loads(result.stdout)
    assert {"actors", "claims", "uncertainties"} <= set(schema["properties"])
    assert "evidence" in json.loads(invoke("schema", "--extraction").stdout)["$defs"]["ClaimDraft"]["properties"]


def test_show_rejects_a_non_brief(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    result = invoke("show", str(path))
    assert result.exit_code == Exit.INPUT and "not a valid brief" in result.stderr


def test_version() -> None:
    assert invoke("--version").stdout.startswith("summarizer ")


def _readme_exit_table() -> dict[int, str]:
    """The exit-code table of docs/exit-codes.md (the README links to it)."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    section = page.split("# Exit codes", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.+?) \|$", section, re.M)
    return {int(code): meaning.replace("`", "") for code, meaning in rows}


def test_exit_code_table_is_the_same_in_code_readme_and_help() -> None:
    assert _readme_exit_table() == {int(code): meaning for code, meaning in EXIT_CODES.items()}
    # every code a command can end with is in its --help, worded as in the table
    can_end_with = {
        "brief": {ExitCode.PROVIDER, ExitCode.LLM, ExitCode.FIXTURE_MISSING, ExitCode.OUTPUT, ExitCode.INTERRUPTED},
        "daily": {ExitCode.PROVIDER, ExitCode.LLM, ExitCode.OUTPUT, ExitCode.BUSY, ExitCode.INTERRUPTED},
        "show": set(),
        "check": {ExitCode.CHECK_FAILED},
        "review": set(),
        "render": {ExitCode.CHECK_FAILED, ExitCode.OUTPUT},
    }
    for command, codes in can_end_with.items():
        text = " ".join(invoke(command, "--help").stdout.split())
        listed = {code for code, meaning in EXIT_CODES.items() if f"{code.value} {meaning}" in text}
        assert {ExitCode.OK, ExitCode.USAGE, ExitCode.INPUT} | codes <= listed, (command, text[-400:])


@pytest.mark.parametrize(
    "error",
    [
        DocumentError("x"),
        BriefError("x"),
        ProviderError("x"),
        LLMError("x"),
        FixtureMissing("k", "/p", Path("f")),
        OutputError("x"),
        BusyError("x"),
        SourceChanged("x"),
    ],
)
def test_every_error_carries_its_exit_code_and_a_kind_the_manifest_maps_back(error: SummarizerError) -> None:
    assert exit_code_of(error) == error.exit_code != ExitCode.INTERNAL
    assert exit_code_of(kind_of(error)) == error.exit_code
