"""A hostile user and an unlucky day: one test per case of the hardening issue, numbered as there.

Nothing overwritten or wiped, every string inert on a terminal and in Markdown, every offset defined,
every failure a clear message with a documented exit code, no leftovers, and tests that touch only
their own processes.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from rich.console import Console
from typer.testing import CliRunner

from summarizer.assembly import assemble
from summarizer.cli import app
from summarizer.daily import DailyOptions, run_daily
from summarizer.documents import read_document
from summarizer.errors import ExitCode, OutputError, ProviderError
from summarizer.models import SCHEMA_VERSION, Brief, Digest, Extraction
from summarizer.render import digest_markdown, print_review, to_markdown
from summarizer.settings import build_settings
from summarizer.store import load_digest

from .conftest import FIXTURES, SEED, SEEDS
from .processes import server_processes
from .support.fake_server import FakeServer, document
from .test_daily import DocumentFake, settings, use_fake

runner = CliRunner()
KOREA = SEEDS / "wikinews" / "korea.txt"
FAKE = ["--base-url", "http://127.0.0.1:9/v1", "--method", "extract", "--passes", "0", "-q"]


def daily_cli(monkeypatch: pytest.MonkeyPatch, fake: DocumentFake, *args: str) -> Any:
    use_fake(monkeypatch, fake)
    return runner.invoke(app, ["daily", *args, *FAKE])


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def story(n: int) -> str:
    return f"Officials in district {n} said the bridge would reopen. Reporters confirmed the date.\n"


# ---------------------------------------------------------------------------------------------
# Data loss
# ---------------------------------------------------------------------------------------------


def test_01_brief_outputs_with_the_same_stem_are_named_apart(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "x.txt", tmp_path / "b" / "x.txt"
    for path, source in ((a, SEED), (b, KOREA)):
        path.parent.mkdir()
        path.write_bytes(source.read_bytes())
    out = tmp_path / "out"
    result = runner.invoke(app, ["brief", str(a), str(b), "-o", f"{out}/", "--replay", str(FIXTURES)])
    assert result.exit_code == 0, result.stderr
    written = sorted(out.glob("*.json"))
    assert len(written) == 2 and all(p.stem.startswith("x-") for p in written)
    ids = {json.loads(p.read_text())["document"]["id"] for p in written}
    assert ids == {hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b)}
    wrote = re.findall(r"wrote (\S+)", result.stderr)
    assert len(wrote) == len(set(wrote)) == 2
    # one input and a path ending in a slash: a folder, not a file named like it
    one = runner.invoke(app, ["brief", str(SEED), "-o", f"{tmp_path}/newdir/", "--replay", str(FIXTURES), "-q"])
    assert one.exit_code == 0 and (tmp_path / "newdir" / f"{SEED.stem}.json").is_file()


@pytest.mark.parametrize("inbox_files", [{}, {"report.odt": "PK", "sheet.xlsx": "PK"}])
def test_02_an_empty_inbox_never_wipes_a_days_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inbox_files: dict[str, str]
) -> None:
    inbox, out = write(tmp_path / "inbox", {"one.txt": story(1), "two.txt": story(2)}), tmp_path / "day"
    assert daily_cli(monkeypatch, DocumentFake(), str(inbox), "--out", str(out)).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    empty = write(tmp_path / "empty", inbox_files)
    fake = DocumentFake()
    result = daily_cli(monkeypatch, fake, str(empty), "--out", str(out))
    assert result.exit_code == ExitCode.INPUT
    assert "no documents found" in result.stderr and "nothing was sent or written" in result.stderr
    assert fake.calls == []
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [value for name, value in attrs if tag == "a" and name == "href" and value]


def test_03_digest_pages_keep_the_digest_page_and_every_link_resolves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["index.txt", "a#b.txt", "what?.txt", "new\nline.txt", "50% off.txt"]
    inbox = write(tmp_path / "inbox", {name: story(n) for n, name in enumerate(names)})
    out = tmp_path / "day"
    assert daily_cli(monkeypatch, DocumentFake(), str(inbox), "--out", str(out)).exit_code == 0
    assert not any("\n" in p.name or "#" in p.name or "?" in p.name for p in out.rglob("*"))
    report = tmp_path / "report" / "index.html"
    result = runner.invoke(app, ["render", str(out / "digest.json"), "--html", str(report)])
    assert result.exit_code == 0, result.stderr
    page = report.read_text()
    assert "<h1>Daily brief</h1>" in page  # the digest page was not overwritten by the document "index"
    links = _Links()
    links.feed(page)
    targets = {unquote(urlsplit(href).path) for href in links.hrefs}
    assert len(targets) == len(names)
    for target in targets:
        linked = report.parent / target
        assert linked.is_file() and linked != report and "Daily brief" not in linked.read_text()


# ---------------------------------------------------------------------------------------------
# Security
# ---------------------------------------------------------------------------------------------

HOSTILE_TEXT = (
    "Mallory\x1b[2J said costs rose [/] sharply [sic] to [redacted] \x1b]8;;https://evil.example\x07click\x1b]8;;\x07 "
    "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3)) and \u202eevil.\n\n"
    "The second sentence is calm and has more words.\n"
)


def hostile_brief(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A brief whose every string carries terminal escapes, Rich markup and Markdown/HTML; and its digest."""
    inbox, out = write(tmp_path / "inbox", {"hostile.txt": HOSTILE_TEXT}), tmp_path / "day"
    use_fake(monkeypatch, DocumentFake())
    asyncio.run(run_daily([str(inbox)], settings(), DailyOptions(out=out)))
    path = out / "briefs" / "hostile.json"
    data = json.loads(path.read_text())
    data["summary"] = "Summary \x1b[31mred\x1b[0m [link=https://evil.example]here[/link] [bold]b[/bold] [/]"
    data["actors"][0]["role"] = "role \x1b]8;;https://evil.example\x07x\x1b]8;;\x07 [sic]"
    path.write_text(json.dumps(data))
    assert data["claims"] and "\x1b" in data["claims"][0]["evidence"]["quote"]
    return path, out / "digest.json"


def test_04_terminal_escapes_never_reach_the_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    brief, digest = hostile_brief(tmp_path, monkeypatch)
    outputs = {
        "review": runner.invoke(app, ["review", str(brief)]),
        "review digest": runner.invoke(app, ["review", str(digest)]),
        "show": runner.invoke(app, ["show", str(brief)]),
        "check": runner.invoke(app, ["check", str(brief)]),
    }
    for name, result in outputs.items():
        assert result.exit_code == 0, (name, result.stderr)
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\u202e" not in result.stdout, name
    assert "\\x1b[2J" in outputs["review"].stdout  # shown, not acted on
    markdown = (digest.parent / "digest.md").read_text() + to_markdown(Brief.model_validate_json(brief.read_text()))
    assert "\x1b" not in markdown and "\\x1b" in markdown
    # brief --format md writes the same Markdown as show
    assert "\x1b" not in digest_markdown(load_digest(digest))


def test_05_rich_markup_in_model_strings_is_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    brief_path, _ = hostile_brief(tmp_path, monkeypatch)
    brief = Brief.model_validate_json(brief_path.read_text())
    text = read_document(str(tmp_path / "inbox" / "hostile.txt")).text
    # Even on a colour terminal whose console reads markup, model strings stay text.
    console = Console(force_terminal=True, color_system="truecolor", width=200, record=True)
    print_review(brief, text, console)
    shown = console.export_text()
    for literal in ("[sic]", "[redacted]", "[/]", "[link=https://evil.example]here[/link]", "[bold]b[/bold]"):
        assert literal in shown, literal
    assert "\x1b]8;" not in console.export_text(styles=True)  # no hyperlink escape
    result = runner.invoke(app, ["review", str(brief_path)])
    assert result.exit_code == 0 and "[sic]" in result.stdout and "[/]" in result.stdout


def test_06_markdown_outputs_carry_no_raw_html_or_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    brief, digest = hostile_brief(tmp_path, monkeypatch)
    shown = runner.invoke(app, ["show", str(brief)])
    assert shown.exit_code == 0
    data = json.loads(digest.read_text())
    html = "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))"
    story = data["stories"][0]
    story["claim_groups"][0]["claims"][0]["statement"] = html
    story["open_questions"] = [{"question": html, "claim_ids": []}]
    story["name"] = html
    for markdown in (shown.stdout, digest_markdown(Digest.model_validate(data))):
        assert not re.search(r"(?<!\\)<(script|img)", markdown)  # no raw HTML tag: every < escaped
        assert not re.search(r"(?<!\\)\]\(javascript:", markdown)  # no link: every ] escaped
        assert "\\<script>" in markdown and "[x\\](javascript:alert(3))" in markdown


def test_07_a_password_in_the_base_url_is_refused_and_never_logged(tmp_path: Path) -> None:
    url = "http://analyst:s3cret-pass@127.0.0.1:9/v1"
    with pytest.raises(ProviderError) as caught:
        build_settings(provider="openai", base_url=url, environ={"OPENAI_API_KEY": "sk-test"})
    assert "s3cret" not in str(caught.value) and "OPENAI_API_KEY" in str(caught.value)
    result = runner.invoke(app, ["brief", str(SEED), "--base-url", url, "-vv"], env={"OPENAI_API_KEY": "sk-test"})
    assert result.exit_code == ExitCode.PROVIDER
    assert "s3cret" not in result.stderr and "s3cret" not in result.stdout
    env = runner.invoke(app, ["brief", str(SEED), "-v"], env={"OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": url})
    assert env.exit_code == ExitCode.PROVIDER and "s3cret" not in env.stderr


# ---------------------------------------------------------------------------------------------
# Wrong output
# ---------------------------------------------------------------------------------------------


def test_08_canonically_equivalent_text_aligns_with_offsets_into_the_original() -> None:
    sentence = "José Núñez said the talks in Bogotá would resume."
    text = unicodedata.normalize("NFD", f"Headline\n\n{sentence} Nothing else happened.")
    answer = Extraction.model_validate(
        {
            "summary": "Talks resume.",
            "actors": [{"name": "José Núñez", "kind": "person", "role": "negotiator"}],
            "claims": [
                {"claimant": "José Núñez", "statement": "Talks resume.", "evidence": sentence, "status": "asserted"}
            ],
            "uncertainties": [],
        }
    )
    assembly = assemble(text, answer)
    assert [a.name for a in assembly.actors] == ["José Núñez"]
    (claim,) = assembly.claims
    assert text[claim.evidence.start : claim.evidence.end] == claim.evidence.quote
    assert unicodedata.normalize("NFC", claim.evidence.quote) == sentence
    assert claim.claimant == "José Núñez"


def test_09_offsets_index_the_decoded_text_and_sha256_is_of_the_files_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "inbox" / "crlf.txt"
    source.parent.mkdir()
    raw = "\ufeffBridge news\r\n\r\nOfficials said the bridge would reopen.\r\nReporters confirmed it.\r\n".encode()
    source.write_bytes(raw)
    out = tmp_path / "day"
    assert daily_cli(monkeypatch, DocumentFake(), str(source.parent), "--out", str(out)).exit_code == 0
    brief = json.loads((out / "briefs" / "crlf.json").read_text())
    assert brief["document"]["sha256"] == hashlib.sha256(raw).hexdigest()
    text = read_document(str(source)).text
    assert "\r\n" in text and not text.startswith("\ufeff")
    for claim in brief["claims"]:
        assert text[claim["evidence"]["start"] : claim["evidence"]["end"]] == claim["evidence"]["quote"]
    assert runner.invoke(app, ["check", str(out / "briefs" / "crlf.json")]).exit_code == 0
    source.write_bytes(raw.replace(b"\r\n", b"\n"))  # converting the line endings changes the source
    result = runner.invoke(app, ["check", str(out / "briefs" / "crlf.json")])
    assert result.exit_code == ExitCode.CHECK_FAILED and "has changed" in result.stderr


def test_09_briefs_made_before_offsets_kept_line_endings_still_check_and_are_not_sent_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema 1.1 briefs: no sha256, a CRLF file's offsets into its text read as LF, the path as given."""
    crlf = b"Bridge news\r\n\r\nOfficials said the bridge would reopen.\r\nReporters confirmed it.\r\n"
    inbox = tmp_path / "inbox"
    write(inbox, {})
    (inbox / "crlf.txt").write_bytes(crlf.replace(b"\r\n", b"\n"))  # what a 1.1 brief's offsets index
    monkeypatch.chdir(tmp_path)
    assert daily_cli(monkeypatch, DocumentFake(), "inbox", "--out", "day").exit_code == 0
    brief_file = tmp_path / "day" / "briefs" / "crlf.json"
    old = json.loads(brief_file.read_text())
    old["schema_version"], old["document"]["path"] = "1.1", "inbox/crlf.txt"
    del old["document"]["sha256"]
    brief_file.write_text(json.dumps(old))
    (inbox / "crlf.txt").write_bytes(crlf)  # the file as it always was on disk
    assert runner.invoke(app, ["check", str(brief_file)]).exit_code == 0
    (inbox / "crlf.txt").write_bytes(crlf.replace(b"\r\n", b"\n"))
    fake = DocumentFake()  # upgrading summarizer sends nothing again: the brief is brought up to date
    assert daily_cli(monkeypatch, fake, "inbox", "--out", "day").exit_code == 0
    assert [c for c in fake.calls if c != "synthesis"] == []
    upgraded = json.loads(brief_file.read_text())
    assert upgraded["schema_version"] == SCHEMA_VERSION and upgraded["document"]["path"] == "../../inbox/crlf.txt"
    assert upgraded["document"]["sha256"] == hashlib.sha256(crlf.replace(b"\r\n", b"\n")).hexdigest()
    assert runner.invoke(app, ["check", str(brief_file)]).exit_code == 0


def test_10_render_verifies_the_source_and_finds_it_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, out = write(tmp_path / "inbox", {"one.txt": story(1)}), tmp_path / "day"
    assert daily_cli(monkeypatch, DocumentFake(), str(inbox), "--out", str(out)).exit_code == 0
    brief = out / "briefs" / "one.json"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the brief records its source relative to itself
    assert runner.invoke(app, ["check", str(brief)]).exit_code == 0
    page = tmp_path / "page.html"
    assert runner.invoke(app, ["render", str(brief), "--html", str(page)]).exit_code == 0
    page.unlink()
    (inbox / "one.txt").write_text("Something else entirely was written here later.\n")
    refused = runner.invoke(app, ["render", str(brief), "--html", str(page)])
    assert refused.exit_code == ExitCode.CHECK_FAILED and "--force" in refused.stderr and not page.exists()
    forced = runner.invoke(app, ["render", str(brief), "--html", str(page), "--force"])
    assert forced.exit_code == 0 and "warning" in forced.stderr and page.is_file()


# ---------------------------------------------------------------------------------------------
# Unclear errors
# ---------------------------------------------------------------------------------------------


def test_11_an_output_that_cannot_be_written_fails_before_any_llm_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = write(tmp_path / "inbox", {"one.txt": story(1)})
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    blocked = tmp_path / "blocked"
    write(blocked, {"briefs": "a file where the briefs folder goes"})
    for out in (a_file, blocked, a_file / "day"):
        fake = DocumentFake()
        result = daily_cli(monkeypatch, fake, str(inbox), "--out", str(out))
        assert result.exit_code == ExitCode.OUTPUT, result.stderr
        assert "cannot write" in result.stderr and "Traceback" not in result.stderr and fake.calls == []
    brief = runner.invoke(app, ["brief", str(SEED), "-o", str(a_file / "x.json"), "--replay", str(FIXTURES)])
    assert brief.exit_code == ExitCode.OUTPUT and "cannot write" in brief.stderr

    # a disk that fills up mid-run: the message names the file, the exit code is documented
    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    many = write(tmp_path / "many", {f"doc{n:02}.txt": story(n) for n in range(20)})
    real_fsync, synced = os.fsync, []

    def fills_up(fd: int) -> None:  # the disk is full from the fourth file written on
        synced.append(fd)
        if len(synced) > 3:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr("summarizer.store.os.fsync", fills_up)
    fake = DocumentFake(delay=0.05)
    use_fake(monkeypatch, fake)
    with pytest.raises(OutputError, match="No space left on device"):
        asyncio.run(run_daily([str(many)], settings(), DailyOptions(out=tmp_path / "full", concurrency=2)))
    assert len(fake.calls) <= 6  # the run stopped sending: no other brief could be kept either
    monkeypatch.setattr("summarizer.store.os.fsync", full)
    result = daily_cli(monkeypatch, DocumentFake(), str(inbox), "--out", str(tmp_path / "full2"))
    assert result.exit_code == ExitCode.OUTPUT and "free some space" in result.stderr


@pytest.mark.parametrize("command", ["check", "review", "render", "show"])
def test_12_deeply_nested_json_is_not_a_brief(tmp_path: Path, command: str) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    args = [command, str(path)] + (["--html", str(tmp_path / "x.html")] if command == "render" else [])
    result = runner.invoke(app, args)
    assert result.exit_code == ExitCode.INPUT and "nested too deeply" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_12_a_brief_whose_rejected_item_nests_deep_is_not_a_brief(tmp_path: Path) -> None:
    brief = json.loads(runner.invoke(app, ["brief", str(SEED), "--replay", str(FIXTURES), "-q"]).stdout)
    deep: dict[str, Any] = {}
    for _ in range(300):
        deep = {"x": deep}
    brief["rejected"] = [{"kind": "claim", "item": deep, "reason": "r"}]
    path = tmp_path / "deep-item.json"
    path.write_text(json.dumps(brief))
    for args in (["show", str(path), "-f", "json"], ["show", str(path)], ["check", str(path)]):
        result = runner.invoke(app, args)
        assert result.exit_code == ExitCode.INPUT and "nested more than" in result.stderr, args


def test_04_ids_in_a_brief_are_ids(tmp_path: Path) -> None:
    """Claim ids reach the terminal and Markdown unescaped (they are the program's own): a brief that says
    otherwise is refused."""
    brief = json.loads(runner.invoke(app, ["brief", str(SEED), "--replay", str(FIXTURES), "-q"]).stdout)
    brief["uncertainties"] = [
        {
            "id": "U1",
            "description": "d",
            "kind": "unconfirmed",
            "evidence": brief["actors"][0]["mention"],
            "claim_ids": ["C1\x1b]8;;https://evil.example\x07"],
        }
    ]
    path = tmp_path / "ids.json"
    path.write_text(json.dumps(brief))
    for command in ("review", "show"):
        result = runner.invoke(app, [command, str(path)])
        assert result.exit_code == ExitCode.INPUT and "\x1b" not in result.stdout


def test_13_utf16_files_path_once_and_schema_version_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Bridge news\n\nOfficials said the bridge would reopen on Monday.\n"
    with_bom = tmp_path / "inbox" / "utf16.txt"
    with_bom.parent.mkdir()
    with_bom.write_bytes(text.encode("utf-16"))
    assert read_document(str(with_bom)).text == text
    no_bom = tmp_path / "inbox" / "raw16.txt"
    no_bom.write_bytes(text.encode("utf-16-le"))
    result = daily_cli(monkeypatch, DocumentFake(), str(with_bom.parent), "--out", str(tmp_path / "day"))
    assert result.exit_code == ExitCode.INPUT
    (line,) = [line for line in result.stderr.splitlines() if "raw16" in line]
    assert "UTF-16" in line and "iconv -f utf-16le" in line and line.count(str(no_bom)) == 1
    brief = json.loads((tmp_path / "day" / "briefs" / "utf16.json").read_text())
    brief["schema_version"] = ["1"]
    (tmp_path / "odd.json").write_text(json.dumps(brief))
    odd = runner.invoke(app, ["show", str(tmp_path / "odd.json")])
    assert odd.exit_code == ExitCode.INPUT and "newer" not in odd.stderr and "schema_version" in odd.stderr


# ---------------------------------------------------------------------------------------------
# Concurrency and leftovers
# ---------------------------------------------------------------------------------------------


def test_14_a_second_run_on_the_same_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, out = write(tmp_path / "inbox", {"one.txt": story(1)}), tmp_path / "day"
    out.mkdir()
    handle = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a running daily holds
        fake = DocumentFake()
        result = daily_cli(monkeypatch, fake, str(inbox), "--out", str(out))
        assert result.exit_code == ExitCode.BUSY and f"process {os.getpid()}" in result.stderr
        assert fake.calls == [] and list(out.iterdir()) == []
    finally:
        os.close(handle)
    assert daily_cli(monkeypatch, DocumentFake(), str(inbox), "--out", str(out)).exit_code == 0


def test_14_adding_a_same_stem_file_resends_nothing_and_leaves_no_stale_brief(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, out = write(tmp_path / "inbox", {"a/x.txt": story(1)}), tmp_path / "day"
    assert daily_cli(monkeypatch, DocumentFake(), str(inbox), "--out", str(out)).exit_code == 0
    assert [p.name for p in (out / "briefs").iterdir()] == ["x.json"]
    write(inbox, {"b/x.txt": story(2)})
    fake = DocumentFake()
    assert daily_cli(monkeypatch, fake, str(inbox), "--out", str(out)).exit_code == 0
    assert len([c for c in fake.calls if c != "synthesis"]) == 1  # only the new document
    manifest = json.loads((out / "manifest.json").read_text())
    on_disk = sorted(f"briefs/{p.name}" for p in (out / "briefs").iterdir())
    assert on_disk == sorted(e["brief"] for e in manifest["entries"]) and len(on_disk) == 2
    assert {e["status"] for e in manifest["entries"]} == {"ok", "skipped-unchanged"}
    for brief in on_disk:  # the moved brief still finds its source
        assert runner.invoke(app, ["check", str(out / brief)]).exit_code == 0
    monkeypatch.chdir(tmp_path)  # the same inbox spelled another way: the same names, nothing sent
    fake = DocumentFake()
    assert daily_cli(monkeypatch, fake, str(inbox.resolve()), "--out", "day").exit_code == 0
    assert [c for c in fake.calls if c != "synthesis"] == []
    assert sorted(f"briefs/{p.name}" for p in (out / "briefs").iterdir()) == on_disk


def test_15_leftover_part_files_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, out = write(tmp_path / "inbox", {"one.txt": story(1)}), tmp_path / "day"
    leftovers = [out / ".manifest.json.k2j3.part", out / "briefs" / ".one.json.x8y9.part"]
    for part in leftovers:
        part.parent.mkdir(parents=True, exist_ok=True)
        part.write_text('{"half": ')  # what a kill -9 mid-write leaves
    assert daily_cli(monkeypatch, DocumentFake(), str(inbox), "--out", str(out)).exit_code == 0
    assert not any(part.exists() for part in leftovers) and not list(out.rglob("*.part"))


@pytest.mark.parametrize(
    ("stop", "latency", "count"),
    [(signal.SIGTERM, 0.3, 24), (signal.SIGINT, 0.3, 24), (signal.SIGTERM, 0.01, 150), (signal.SIGINT, 0.01, 150)],
)
def test_15_a_stopped_run_leaves_the_manifest_in_step_with_the_briefs_on_disk(
    tmp_path: Path, stop: signal.Signals, latency: float, count: int
) -> None:
    """Stopped while answers arrive slowly (the signal lands in the event loop's wait) or quickly (it lands
    while briefs are being grounded and written): every brief on disk is ok in the manifest."""
    inbox = write(tmp_path / "inbox", {f"doc{n:03}.txt": document(n) for n in range(count)})
    out = tmp_path / "day"
    old_mask = os.umask(0o027)
    try:
        with FakeServer(latency_s=latency) as server:
            command = [sys.executable, "-m", "summarizer", "daily", str(inbox), "--out", str(out), "-q"]
            process = subprocess.Popen(
                [*command, "--base-url", server.base_url, "-j", "4", "--passes", "0"],
                env={**os.environ, "OPENAI_API_KEY": "sk-test"},
                stderr=subprocess.PIPE,
                text=True,
            )
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(list((out / "briefs").glob("*.json"))) < 3:
                time.sleep(0.01)
            process.send_signal(stop)
            _, stderr = process.communicate(timeout=30)
    finally:
        os.umask(old_mask)
    assert process.returncode == (ExitCode.TERMINATED if stop == signal.SIGTERM else ExitCode.INTERRUPTED), stderr
    assert "Traceback" not in stderr and "never retrieved" not in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    ok = {e["brief"] for e in manifest["entries"] if e["status"] == "ok"}
    on_disk = {f"briefs/{p.name}" for p in (out / "briefs").glob("*.json")}
    assert 3 <= len(on_disk) < count and ok == on_disk
    assert {e["status"] for e in manifest["entries"]} <= {"ok", "pending"}
    assert not list(out.rglob("*.part"))
    assert all(p.stat().st_mode & 0o777 == 0o640 for p in out.rglob("*.json"))  # the umask decides


# ---------------------------------------------------------------------------------------------
# Tests that reach outside
# ---------------------------------------------------------------------------------------------


def test_16_the_suite_counts_only_servers_it_started() -> None:
    """A llama.cpp server some other program runs (here a stand-in with that command line) is not ours."""
    stranger = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "-m", "llama_cpp.server"],
        env={k: v for k, v in os.environ.items() if not k.startswith("SUMMARIZER_TEST_RUN")},
    )
    try:
        deadline = time.monotonic() + 5
        while b"llama_cpp.server" not in Path(f"/proc/{stranger.pid}/cmdline").read_bytes():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert stranger.pid not in server_processes()
        assert stranger.poll() is None  # and nothing killed it
    finally:
        stranger.kill()
        stranger.wait()
