"""Hardening, round two: one test per case of the issue, numbered as there.

Nothing outside the day's folder is read as a brief, written or removed (checked against a snapshot of a
sentinel folder); every input is bounded; every bad value is a message and a documented exit code, never a
traceback; every string from a document, a model or the environment is inert where it is printed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from summarizer import batch_api
from summarizer.cli import app
from summarizer.daily import Manifest
from summarizer.errors import ExitCode as Exit
from summarizer.errors import ProviderError
from summarizer.render import md, to_markdown
from summarizer.settings import build_settings
from summarizer.store import load_brief

from .conftest import SEED, SEEDS
from .test_daily import DocumentFake, use_fake

runner = CliRunner()
CAPABLE = ["--provider", "openai", "--base-url", "http://127.0.0.1:9/v1", "--passes", "0", "-q"]


def inbox(tmp_path: Path, names: tuple[str, ...] = ("crane", "stampede")) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    for name in names:
        (folder / f"{name}.txt").write_text((SEEDS / "wikinews" / f"{name}.txt").read_text(encoding="utf-8"))
    return folder


def daily(monkeypatch: pytest.MonkeyPatch, *args: str, fake: DocumentFake | None = None) -> Any:
    use_fake(monkeypatch, fake or DocumentFake())
    return runner.invoke(app, ["daily", *args, *CAPABLE])


def sentinel(tmp_path: Path) -> Path:
    """A folder outside every day folder, with a brief-looking file and its page text."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "victim.json").write_text('{"precious": true}\n')
    (folder / "victim.source.txt").write_text("precious text\n")
    return folder


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def edit_manifest(day: Path, change: Any) -> None:
    data = json.loads((day / "manifest.json").read_text())
    change(data)
    (day / "manifest.json").write_text(json.dumps(data))


# 1 -----------------------------------------------------------------------------------------------------


def test_01_a_manifest_naming_a_file_elsewhere_never_reads_or_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, day, elsewhere = inbox(tmp_path), tmp_path / "day", sentinel(tmp_path)
    before = snapshot(elsewhere)
    assert daily(monkeypatch, str(folder), "--out", str(day)).exit_code == 0

    def point_elsewhere(data: dict[str, Any]) -> None:
        data["entries"][0]["brief"] = str(elsewhere / "victim.json")  # absolute
        data["entries"][1]["brief"] = "briefs/../../elsewhere/victim.json"  # climbing out

    edit_manifest(day, point_elsewhere)
    result = daily(monkeypatch, str(folder), "--out", str(day))
    assert result.exit_code == 0, result.stderr
    assert snapshot(elsewhere) == before  # nothing outside --out read as a brief, rewritten or removed
    assert result.stderr.count("is not a file name in briefs/") == 2
    manifest = Manifest.model_validate_json((day / "manifest.json").read_text())
    assert sorted(e.brief for e in manifest.entries) == ["briefs/crane.json", "briefs/stampede.json"]


# 2 -----------------------------------------------------------------------------------------------------


def test_02_a_batch_name_that_climbs_out_of_the_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, day = inbox(tmp_path), tmp_path / "work" / "day"
    assert daily(monkeypatch, str(folder), "--out", str(day)).exit_code == 0
    before = snapshot(tmp_path)

    def pwn(data: dict[str, Any]) -> None:
        data["batches"] = [
            {"name": "../../../pwned", "status": "completed", "requests": 1, "id": "batch_1", "output_file_id": "f1"}
        ]

    edit_manifest(day, pwn)
    before = snapshot(tmp_path)
    result = daily(monkeypatch, str(day), "--collect")
    assert result.exit_code == Exit.INPUT, result.stderr
    assert "manifest.json cannot be read (batches.0.name: String should match pattern" in result.stderr
    assert snapshot(tmp_path) == before and not list(tmp_path.rglob("pwned*"))


# 3 -----------------------------------------------------------------------------------------------------


def test_03_an_out_folder_inside_the_inbox_is_never_briefed_as_news(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = inbox(tmp_path)
    for _ in range(3):
        result = daily(monkeypatch, str(folder), "--out", str(folder / "day"))
        assert result.exit_code == 0, result.stderr
    manifest = Manifest.model_validate_json((folder / "day" / "manifest.json").read_text())
    assert sorted(Path(e.source).name for e in manifest.entries) == ["crane.txt", "stampede.txt"]
    # an earlier day kept inside the inbox is not news either, and the run says what it passed over
    (folder / "day").rename(folder / "2026-11-27")
    noisy = DocumentFake()
    use_fake(monkeypatch, noisy)
    result = runner.invoke(app, ["daily", str(folder), "--out", str(tmp_path / "next"), *CAPABLE[:-1]])
    assert result.exit_code == 0, result.stderr
    assert f"skipped {folder / '2026-11-27'}: a daily run's folder" in result.stderr
    manifest = Manifest.model_validate_json((tmp_path / "next" / "manifest.json").read_text())
    assert len(manifest.entries) == 2


# 4 -----------------------------------------------------------------------------------------------------


def _limited() -> None:  # in the child: 1 GiB of address space, as a guard against the old unbounded read
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.parametrize("command", ["check", "show", "review", "brief"])
def test_04_a_device_is_never_read(tmp_path: Path, command: str) -> None:
    link = tmp_path / "zero.txt" if command == "brief" else tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    for path in ("/dev/zero", str(link)):
        done = summarizer(command, path)
        assert done.returncode == Exit.INPUT, done.stderr[-500:]
        assert "Traceback" not in done.stderr
        if path != "/dev/zero" or command != "brief":  # brief refuses /dev/zero by its missing suffix first
            assert "not a regular file" in done.stderr


def test_04_a_fifo_and_an_oversized_stream_are_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "news.txt"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: _feed(fifo), daemon=True)
    writer.start()
    result = runner.invoke(app, ["brief", str(fifo)])
    assert result.exit_code == Exit.INPUT and "not a regular file" in result.stderr
    with open(fifo, "rb"):  # let the writer (if it is still waiting) go
        pass
    writer.join(timeout=5)
    big = "word " * (2_200_000)  # 11 MB on standard input
    result = runner.invoke(app, ["brief", "-"], input=big)
    assert result.exit_code == Exit.INPUT and "standard input is over 10 MiB" in result.stderr


def _feed(fifo: Path) -> None:
    try:
        with open(fifo, "wb") as stream:
            stream.write(b"Officials said the bridge was safe. " * 10)
    except OSError:
        pass


def summarizer(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """The command in a child process limited to 1 GiB of address space: an unbounded read fails there."""
    return subprocess.run(
        [sys.executable, "-m", "summarizer", *args],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limited,
        **kwargs,
    )


def test_04_price_tables_and_manifests_are_read_bounded_and_only_from_files(tmp_path: Path) -> None:
    folder, day = inbox(tmp_path, ("crane",)), tmp_path / "day"
    done = summarizer("daily", str(folder), "--out", str(day), "--prices", "/dev/zero")
    assert done.returncode == Exit.INPUT and "not a regular file" in done.stderr, done.stderr[-500:]
    assert not day.exists()  # refused before anything was written
    day.mkdir()
    (day / "manifest.json").symlink_to("/dev/zero")  # an earlier manifest that is a device: not read
    done = summarizer("daily", str(folder), "--out", str(day))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-500:]
    assert (day / "manifest.json").is_file() and not (day / "manifest.json").is_symlink()


# 5 -----------------------------------------------------------------------------------------------------


def test_05_a_batch_output_line_nested_past_any_answer_is_no_answer() -> None:
    answers: dict[str, bytes] = {}
    errors: dict[str, tuple[str, str, str]] = {}
    line = b'{"custom_id": "abc-1", "response": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    batch_api.result(line, {"abc"}, "b1", answers, errors)  # no RecursionError
    assert answers == {} and errors == {}
    good = {"custom_id": "abc-2", "response": {"status_code": 200, "body": {"choices": []}}}
    batch_api.result(json.dumps(good).encode(), {"abc"}, "b1", answers, errors)
    assert list(answers) == ["abc-2"]  # the next line is read as before


# 6 -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ('{"gpt-4o-mini": {"input": -1, "output": 0.6}}', "greater than or equal to 0"),
        ('{"gpt-4o-mini": {"input": null, "output": 0.6}}', "valid number"),
        ('{"gpt-4o-mini": {"input": NaN, "output": 0.6}}', "finite number"),
        ('{"gpt-4o-mini": {"input": "0.15", "output": 0.6}}', "valid number"),
        ('{"gpt-4o-mini": {"input": [0.15], "output": 0.6}}', "valid number"),
        ('{"gpt-4o-mini": [0.15, 0.6]}', "valid dictionary"),
        ('"gpt-4o-mini"', "must be a JSON object"),
        ('[{"gpt-4o-mini": {"input": 0.15, "output": 0.6}}]', "must be a JSON object"),
    ],
)
def test_06_a_bad_price_table_is_a_message_and_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str, said: str
) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(table)
    result = daily(
        monkeypatch, str(inbox(tmp_path, ("crane",))), "--out", str(tmp_path / "day"), "--prices", str(prices)
    )
    assert result.exit_code == Exit.INPUT, result.stderr
    assert said in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "day" / "briefs").exists() or not list((tmp_path / "day" / "briefs").iterdir())


# 7 -----------------------------------------------------------------------------------------------------


def test_07_a_crlf_env_file_is_stripped_and_a_line_break_inside_is_refused_by_name() -> None:
    settings = build_settings(environ={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1\r\n", "OPENAI_API_KEY": " sk-test\r"})
    assert settings.base_url == "http://127.0.0.1:9/v1" and settings.api_key is not None
    assert settings.api_key.get_secret_value() == "sk-test"
    for name, value in (("OPENAI_API_KEY", "sk-te\nst"), ("OPENAI_BASE_URL", "http://127.0.0.1:9\r\n/v1")):
        with pytest.raises(ProviderError) as refused:
            build_settings(environ={name: value, "OPENAI_API_KEY": "sk", **{name: value}})
        assert name in str(refused.value) and "sk-te" not in str(refused.value)
        assert refused.value.exit_code == Exit.PROVIDER


# 8 -----------------------------------------------------------------------------------------------------

HOSTILE = "The minister said \u009b31mall is well\u009b0m and \u202etxt.exe\u202c was signed."


def test_08_json_written_anywhere_escapes_c1_controls_and_bidi_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = tmp_path / "inbox" / "hostile.txt"
    doc.parent.mkdir()
    doc.write_text(HOSTILE + "\n")
    printed = runner.invoke(app, ["brief", str(doc)])
    assert printed.exit_code == 0, printed.stderr
    raw = re.compile("[\u007f-\u009f\u202a-\u202e\u2066-\u2069]")
    assert not raw.search(printed.stdout) and "\\u009b" in printed.stdout and "\\u202e" in printed.stdout
    assert json.loads(printed.stdout)["claims"][0]["evidence"]["quote"] == HOSTILE  # the same data
    day = tmp_path / "day"
    assert runner.invoke(app, ["daily", str(doc.parent), "--out", str(day)]).exit_code == 0
    written = [day / "manifest.json", day / "digest.json", *sorted((day / "briefs").glob("*.json"))]
    for path in written:
        assert not raw.search(path.read_text(encoding="utf-8")), path
    assert load_brief(day / "briefs" / "hostile.json").claims[0].evidence.quote == HOSTILE
    shown = runner.invoke(app, ["show", str(day / "briefs" / "hostile.json"), "-f", "json"])
    assert shown.exit_code == 0 and not raw.search(shown.stdout)


# 9 -----------------------------------------------------------------------------------------------------


def test_09_a_file_name_with_a_newline_cannot_forge_a_line(tmp_path: Path) -> None:
    doc = tmp_path / "a\nsummarizer: all 12 documents verified.txt"
    doc.write_text("The minister said the bridge was safe.\n")
    result = runner.invoke(app, ["brief", str(doc), "-o", str(tmp_path / "out/")])
    assert result.exit_code == 0, result.stderr
    assert not any(line.startswith("summarizer: all 12") for line in result.stderr.splitlines())
    day = runner.invoke(app, ["daily", str(tmp_path), "--out", str(tmp_path / "day")])
    assert day.exit_code == 0 and not any(line.startswith("summarizer: all 12") for line in day.stderr.splitlines())


def test_09_an_environment_value_with_controls_reaches_the_terminal_inert(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "summarizer", "brief", str(SEEDS / "wikinews" / "crane.txt")],
        env={**os.environ, "SUMMARIZER_REPLAY": "no-such\u009b2J\u0007folder"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == Exit.USAGE
    assert "\u009b" not in done.stderr and "\u0007" not in done.stderr
    assert "no-such\\x9b2J\\x07folder" in done.stderr


# 10 ----------------------------------------------------------------------------------------------------


def test_10_a_bare_url_from_the_model_is_never_a_link_in_markdown(tmp_path: Path) -> None:
    for text in ("Log in at https://evil.example/login now.", "see www.evil.example", "mail help@evil.example"):
        rendered = md(text)
        outside_code = re.sub(r"(`+).*?\1", "", rendered)
        assert "://" not in outside_code and "www." not in outside_code and "@" not in outside_code, rendered
    assert md("Log in at https://evil.example/login now.") == "Log in at `https://evil.example/login` now."
    doc = tmp_path / "phish.txt"
    doc.write_text("The bank said customers must log in at https://evil.example/login today.\n")
    result = runner.invoke(app, ["brief", str(doc), "-f", "md"])
    assert result.exit_code == 0
    assert "`https://evil.example/login`" in result.stdout
    assert "https://evil.example/login" not in re.sub(r"(`+).*?\1", "", result.stdout)
    brief = load_brief_from(runner.invoke(app, ["brief", str(doc)]).stdout)
    assert "`https://evil.example/login`" in to_markdown(brief)


def load_brief_from(text: str) -> Any:
    from summarizer.models import Brief

    return Brief.model_validate_json(text)


def test_an_output_that_is_a_pipe_or_device_is_written_in_place_never_replaced(tmp_path: Path) -> None:
    """`-o /dev/null` or a FIFO: a rename over it would put a regular file where the device was."""
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = CliRunner().invoke(app, ["brief", str(SEED), "-o", str(fifo), "-q"])
    reader.join(30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still the pipe
    assert json.loads(received[0])["document"]["id"]
