"""A person's judgement on a brief: the interactive review (Textual's pilot, and a real terminal in tmux),
``mark`` and ``export`` from scripts, and everything that honours the decisions (show, render, check,
the digest, the history database), kept across a brief made again."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.errors import ExitCode as Exit
from summarizer.models import Brief
from summarizer.reviews import Review, match, review_path, reviewed_brief
from summarizer.store import load_brief
from summarizer.tui import ReviewApp, Sheet

from .conftest import SEED, SEEDS

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def seed_brief(folder: Path) -> Path:
    out = folder / "seed.json"
    result = invoke("brief", str(SEED), "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    return out


def sheet(path: Path) -> Sheet:
    brief = load_brief(path)
    text = (path.parent / brief.document.path).read_text(encoding="utf-8") if brief.document.path else None
    return Sheet(path, brief, text, reviewed_brief(path, brief), "")


async def drive(path: Path, *keys: str, reviewer: str = "tester") -> ReviewApp:
    app_ = ReviewApp([sheet(path)], reviewer, plain=True)
    async with app_.run_test(size=(80, 24)) as pilot:
        for key in keys:
            await pilot.press(key)
        await pilot.pause()
    return app_


# The session of the issue: accept two claims, reject one with a typed reason, correct one claimant (chosen
# from the brief's actors: the second in the list), quit.
SESSION = ("a", "a", "r", "tab", *"quote is the reporter's", "enter", "c", "down", "enter", "q")


def session_decisions(brief: Brief, reviewer: str = "tester") -> list[dict[str, object]]:
    """What SESSION records, as ``decisions`` reads it back."""
    decided = {"reason": None, "claimant": None, "follow_up": False, "reviewer": reviewer}
    return [
        {"item": "C1", **decided, "decision": "accepted"},
        {"item": "C2", **decided, "decision": "accepted"},
        {"item": "C3", **decided, "decision": "rejected", "reason": "quote is the reporter's"},
        {"item": "C4", **decided, "decision": None, "claimant": brief.actors[1].name},
    ]


def decisions(path: Path) -> list[dict[str, object]]:
    data = json.loads(review_path(path).read_text(encoding="utf-8"))
    return [{k: v for k, v in d.items() if k not in ("at", "quote", "start", "end")} for d in data["decisions"]]


def test_a_pilot_session_records_exactly_what_was_decided(tmp_path: Path) -> None:
    path = seed_brief(tmp_path)
    brief = load_brief(path)
    asyncio.run(drive(path, *SESSION))
    second_actor = brief.actors[1].name
    assert decisions(path) == session_decisions(brief)
    review = Review.model_validate_json(review_path(path).read_text(encoding="utf-8"))
    assert review.brief == "seed.json" and review.document_id == brief.document.id and review.orphaned == []
    assert review.decisions[2].start == brief.claims[2].evidence.start  # found again by its span
    assert Brief.model_validate_json(path.read_text(encoding="utf-8")) == brief  # the brief itself untouched

    # show and render reflect it
    shown = invoke("show", str(path)).stdout
    assert "- **C3**" not in shown and "- **C2**" in shown  # rejected: left out
    assert "Review: 4 of" in shown and "1 rejected (left out: --show-rejected shows them)" in shown
    assert f"claimant corrected by tester from “{brief.claims[3].claimant}”" in shown
    assert "✓ accepted by tester" in shown
    everything = invoke("show", str(path), "--show-rejected").stdout
    assert "✗ rejected by tester: quote is the reporter's" in everything
    page = tmp_path / "seed.html"
    assert invoke("render", str(path), "--html", str(page)).exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert "✓ accepted by tester" in html and 'data-id="C3"' not in html and 'data-id="C2"' in html
    as_json = json.loads(invoke("show", str(path), "-f", "json").stdout)
    judged = {claim["id"]: claim for claim in as_json["claims"]}
    assert judged["C4"]["claimant"] == second_actor and len(judged) == len(brief.claims) - 1 and "C3" not in judged

    # check counts, and --require-reviewed fails while items are unchecked
    checked = invoke("check", str(path))
    items = len(brief.claims) + len(brief.uncertainties) + len(brief.actors)
    assert checked.exit_code == 0 and f"review: 4 checked, {items - 4} unchecked, 1 rejected" in checked.stdout
    strict = invoke("check", str(path), "--require-reviewed")
    assert strict.exit_code == Exit.CHECK_FAILED and f"{items - 4} item(s) not yet reviewed" in strict.output


def test_undo_and_follow_up_and_views(tmp_path: Path) -> None:
    path = seed_brief(tmp_path)
    app_ = asyncio.run(drive(path, "a", "u", "f", "2", "q"))
    assert decisions(path) == [
        {"item": "C1", "decision": None, "reason": None, "claimant": None, "follow_up": True, "reviewer": "tester"}
    ]
    assert app_.view == 1  # "unchecked": a follow-up alone is not a check
    assert asyncio.run(drive(path, "3", "q")).rows[0].item.id == "C1"  # the follow-up view finds it


def test_a_brief_made_again_keeps_the_decisions_on_items_still_there(tmp_path: Path) -> None:
    path = seed_brief(tmp_path)
    asyncio.run(drive(path, *SESSION))
    before = decisions(path)
    # The same document briefed again: every decision is found again.
    seed_brief(tmp_path)
    again = reviewed_brief(path, load_brief(path))
    assert sorted(again.decisions) == ["C1", "C2", "C3", "C4"] and again.orphaned == []
    # A brief without the first claim (ids shift): C2's decision now sits on C1; C1's is orphaned.
    data = json.loads(path.read_text(encoding="utf-8"))
    data["claims"] = data["claims"][1:]
    for number, claim in enumerate(data["claims"], 1):
        claim["id"] = f"C{number}"
    for uncertainty in data["uncertainties"]:
        uncertainty["claim_ids"] = []
    path.write_text(json.dumps(data), encoding="utf-8")
    moved = match(Review.model_validate_json(review_path(path).read_text(encoding="utf-8")), load_brief(path))
    assert [(i, d.decision) for i, d in sorted(moved.decisions.items())] == [
        ("C1", "accepted"),
        ("C2", "rejected"),
        ("C3", None),
    ]
    assert [d.item for d in moved.orphaned] == ["C1"] and before[0]["item"] == "C1"
    checked = invoke("check", str(path))
    assert "1 orphaned decision(s)" in checked.stdout
    # A decision written now keeps the orphan in the file.
    assert invoke("mark", str(path), "U1", "--follow-up", "--reviewer", "ann").exit_code == 0
    kept = Review.model_validate_json(review_path(path).read_text(encoding="utf-8"))
    assert [d.item for d in kept.orphaned] == ["C1"] and any(d.item == "U1" for d in kept.decisions)


def test_mark_and_export_from_scripts(tmp_path: Path) -> None:
    path = seed_brief(tmp_path)
    brief = load_brief(path)
    assert invoke("mark", str(path), "C1", "C2", "--accept", "--reviewer", "ann").exit_code == 0
    assert invoke("mark", str(path), "C3", "--reject", "wrong claimant", "--reviewer", "ann").exit_code == 0
    assert invoke("mark", str(path), "C2", "--claimant", '=HYPERLINK("x")', "--reviewer", "ann").exit_code == 0
    wrong = invoke("show", str(review_path(path)))
    assert wrong.exit_code == Exit.INPUT and "is a review file (a person's decisions on seed.json)" in wrong.output
    unknown = invoke("mark", str(path), "C99", "--accept")
    assert unknown.exit_code == Exit.USAGE and "has no item C99" in unknown.output
    nothing = invoke("mark", str(path), "C1")
    assert nothing.exit_code == Exit.USAGE and "say what to record" in nothing.output
    actor = invoke("mark", str(path), "A1", "--claimant", "X")
    assert actor.exit_code == Exit.USAGE and "corrects claims only" in actor.output

    # briefs/*.json holds the review file too: it stands for its brief, which is exported once.
    rows = list(csv.DictReader(io.StringIO(invoke("export", str(path), str(review_path(path)), "--accepted").stdout)))
    assert [row["claim"] for row in rows] == ["C1", "C2"]
    assert rows[1]["claimant"] == '\'=HYPERLINK("x")'  # a spreadsheet will not run it
    assert rows[0]["decision"] == "accepted" and rows[0]["reviewer"] == "ann"
    every = [json.loads(line) for line in invoke("export", str(path), "-f", "jsonl").stdout.splitlines()]
    assert len(every) == len(brief.claims) - 1 and "C3" not in {row["claim"] for row in every}
    assert invoke("mark", str(path), "C3", "--clear").exit_code == 0
    assert len(invoke("export", str(path), "-f", "jsonl").stdout.splitlines()) == len(brief.claims)


def test_the_digest_and_the_history_honour_the_decisions(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SEED, inbox / "seed.txt")
    shutil.copy(SEEDS / "wikinews" / "afghan.txt", inbox / "afghan.txt")
    day = tmp_path / "days" / "2026-12-01"
    assert invoke("daily", str(inbox), "--out", str(day)).exit_code == 0
    brief_file = day / "briefs" / "seed.json"
    brief = load_brief(brief_file)
    kirby = next(c for c in brief.claims if c.claimant == "John Kirby")
    first = brief.claims[0]

    def searched() -> set[str]:
        found = invoke("history", "search", "custody Intelligence Service", "-f", "json")
        assert found.exit_code == 0, found.output
        return {c["claim"] for c in json.loads(found.stdout) if c["brief"].endswith("seed.json")}

    assert first.id in searched()
    assert invoke("mark", str(brief_file), kirby.id, "--claimant", "A. Corrected Name", "--accept").exit_code == 0
    assert invoke("mark", str(brief_file), first.id, "--reject", "not an attribution").exit_code == 0
    again = invoke("daily", str(inbox), "--out", str(day))
    assert again.exit_code == 0, again.output
    digest = (day / "digest.md").read_text(encoding="utf-8")
    assert "A. Corrected Name" in digest and first.statement not in digest
    found = invoke("history", "claims", "--actor", "A. Corrected Name", "-f", "json")
    assert found.exit_code == 0, found.output
    assert [c["claim"] for c in json.loads(found.stdout)] == [kirby.id]
    assert first.id not in searched()  # rejected: no longer in the history


def test_hostile_strings_stay_text_in_the_interactive_view(tmp_path: Path) -> None:
    """The brief of tests/test_hostile.py's cases, in the app: markup shown literally, escapes made visible."""
    from rich.text import Text

    from .test_hostile import HOSTILE_TEXT

    (tmp_path / "hostile.txt").write_text(HOSTILE_TEXT, encoding="utf-8")
    path = tmp_path / "hostile.json"
    assert invoke("brief", str(tmp_path / "hostile.txt"), "-o", str(path), "-q").exit_code == 0
    data = json.loads(path.read_text(encoding="utf-8"))
    data["claims"][0]["claimant"] = "[bold red]Mallory[/] \x1b]8;;https://evil.example\x07x\x1b]8;;\x07"
    data["claims"][0]["statement"] = "costs [link=https://evil.example]rose[/link] \x1b[2J [sic]"
    path.write_text(json.dumps(data), encoding="utf-8")

    async def look() -> list[str]:
        app_ = ReviewApp([sheet(path)], "[b]ann[/b]", plain=False)
        async with app_.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            table = app_.query_one("DataTable")
            cells = [cell.plain for cell in table.get_row_at(0) if isinstance(cell, Text)]  # type: ignore[attr-defined]
            detail = app_.query_one("#detail").render()
            status = app_.query_one("#status").render()
            return [*cells, str(detail), str(status)]

    shown = "\n".join(asyncio.run(look()))
    for literal in ("[bold red]Mallory[/]", "[link=https://evil.example]rose[/link]", "[sic]", "[b]ann[/b]"):
        assert literal in shown, literal
    assert "\x1b" not in shown and "\x07" not in shown and "\\x1b[2J" in shown


# ------------------------------------------------------------------ a real terminal


def tmux() -> str:
    found = shutil.which("tmux")
    if found is None:
        pytest.skip("tmux is not installed (CI installs it): the real-terminal review test needs it")
    return found


class Terminal:
    """A tmux server of this test's own (its socket in the test's folder): started here, only it is stopped."""

    def __init__(self, folder: Path, command: list[str], env: dict[str, str]) -> None:
        self.tmux = tmux()
        self.socket = str(folder / f"tmux-{uuid.uuid4().hex[:6]}.sock")
        quoted = " ".join(f"'{part}'" for part in command)
        environment = " ".join(f"{k}='{v}'" for k, v in env.items())
        self.run(
            "new-session",
            "-d",
            "-s",
            "r",
            "-x",
            "80",
            "-y",
            "24",
            "-c",
            str(folder),
            f"env {environment} {quoted}; sleep 30",
        )

    def run(self, *args: str) -> str:
        done = subprocess.run([self.tmux, "-S", self.socket, *args], capture_output=True, text=True, timeout=20)
        return done.stdout

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.run("send-keys", "-t", "r", key)
            time.sleep(0.3)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "r")

    def wait_for(self, text: str, seconds: float = 20) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen()}")

    def close(self) -> None:
        self.run("kill-server")


@pytest.mark.parametrize("no_color", [True, False])
def test_the_same_session_in_a_real_terminal(tmp_path: Path, no_color: bool) -> None:
    path = seed_brief(tmp_path)
    brief = load_brief(path)
    summarizer = str(Path(sys.executable).with_name("summarizer"))
    env = {"TERM": "xterm-256color", "SUMMARIZER_DB": os.environ["SUMMARIZER_DB"], "HOME": str(tmp_path)}
    if no_color:
        env["NO_COLOR"] = "1"
    terminal = Terminal(tmp_path, [summarizer, "review", str(path), "--reviewer", "tester"], env)
    try:
        first = terminal.wait_for("Quit")  # the footer: the whole first screen is drawn
        total = len(brief.claims) + len(brief.uncertainties) + len(brief.actors)
        assert f"0 of {total} checked" in first and "Accept" in first and "Reject" in first
        assert brief.claims[0].id in first and ">>" in first if no_color else brief.claims[0].id in first
        lines = first.splitlines()
        assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
        terminal.keys("a", "a", "r")
        terminal.wait_for("Reject: why?")
        terminal.keys("Tab", *"quote is the reporter's", "Enter")
        terminal.wait_for(f"3 of {total} checked")
        terminal.keys("c")
        terminal.wait_for("Who asserted it?")
        terminal.keys("Down", "Enter")
        shown = terminal.wait_for(f"4 of {total} checked")
        assert "✓" in shown and "✗" in shown
        terminal.keys("q")
        terminal.wait_for("items checked; decisions in the .review.json")
    finally:
        terminal.close()
    assert decisions(path) == session_decisions(brief)


def test_found_in_review_shared_spans_unsaved_decisions_other_documents_and_rejected_actors(tmp_path: Path) -> None:
    path = seed_brief(tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    twin = dict(data["claims"][0], id=f"C{len(data['claims']) + 1}", claimant="Yonhap news agency", claimant_id=None)
    data["claims"].append(twin)  # one sentence, two claimants: the same evidence span
    data["claims"][1]["claimant"] = "\x1b]8;;https://evil.example\x07x"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert invoke("mark", str(path), twin["id"], "--reject", "not this one").exit_code == 0
    assert invoke("mark", str(path), "C1", "--accept").exit_code == 0
    judged = reviewed_brief(path, load_brief(path))
    assert judged.of("C1").decision == "accepted" and judged.of(twin["id"]).decision == "rejected"
    shown = invoke("show", str(path)).stdout
    assert "- **C1**" in shown and f"- **{twin['id']}**" not in shown

    # A rejected actor: its claims stay, linked to no actor.
    actor = load_brief(path).claims[0].claimant_id
    assert actor and invoke("mark", str(path), actor, "--reject", "duplicate").exit_code == 0
    claims = json.loads(invoke("show", str(path), "-f", "json").stdout)["claims"]
    assert claims[0]["id"] == "C1" and claims[0]["claimant_id"] is None

    # CSV to a terminal: control characters written visibly.
    exported = invoke("export", str(path)).stdout
    assert "\x1b" not in exported and "\\x1b]8;;https://evil.example" in exported

    # The same review beside another document's brief: no actor is matched by name.
    other = tmp_path / "other"
    other.mkdir()
    korea = other / "korea.json"
    assert invoke("brief", str(SEEDS / "wikinews" / "korea.txt"), "-o", str(korea), "-q").exit_code == 0
    shutil.copy(review_path(path), review_path(korea))
    moved = reviewed_brief(korea, load_brief(korea))
    assert not any(item.startswith("A") for item in moved.decisions)

    # A decision that cannot be saved is not kept, and the view says so.
    fresh = seed_brief(tmp_path / "ro")
    ready = sheet(fresh)
    review_path(fresh).mkdir()  # something in the way of the review file, once the view is open

    async def accept() -> ReviewApp:
        app_ = ReviewApp([ready], "tester", plain=True)
        async with app_.run_test(size=(80, 24)) as pilot:
            await pilot.press("a")
            await pilot.pause()
        return app_

    app_ = asyncio.run(accept())
    assert app_.failed and app_.sheets[0].reviewed.decisions == {} and app_.undo_stack == []
