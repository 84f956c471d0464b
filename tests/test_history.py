"""History: two daily runs over changed inputs, replayed from the strong fixtures, then every query.

The first day is the seed article and two Wikinews articles; the second the same seed, one of those
articles and a new one: a re-run adds nothing, a brief edited by hand is re-imported, a daily run
writing while a query reads raises no lock error, and `daily --since DAY` finds the day in the history.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer import history
from summarizer.cli import app

from .conftest import ROOT

runner = CliRunner()
STRONG = ROOT / "fixtures" / "strong"
SEED = ROOT / "seeds" / "000_09fe83c6082f21eb.txt"
WIKINEWS = ROOT / "seeds" / "wikinews"
# the documents' exchanges replay one by one; the day's stories are made by rule (a synthesis request names
# the day's set of documents, which these days do not share with the recording)
REPLAY = ["--replay", str(STRONG), "--model", "gpt-4o-mini", "--synthesis", "rules", "-q"]


def day_run(tmp_path: Path, day: str, documents: list[Path], *extra: str) -> Path:
    inbox = tmp_path / f"inbox-{day}"
    inbox.mkdir()
    for document in documents:
        shutil.copy(document, inbox / document.name)
    out = tmp_path / "days" / day
    done = runner.invoke(app, ["daily", str(inbox), "--out", str(out), *REPLAY, *extra])
    assert done.exit_code == 0, done.stderr
    return out


@pytest.fixture
def two_days(tmp_path: Path) -> tuple[Path, Path, Path]:
    db = tmp_path / "history.db"
    first = day_run(tmp_path, "2026-11-27", [SEED, WIKINEWS / "korea.txt", WIKINEWS / "iodine.txt"], "--db", str(db))
    second = day_run(tmp_path, "2026-11-28", [SEED, WIKINEWS / "iodine.txt", WIKINEWS / "warming.txt"], "--db", str(db))
    return db, first, second


def query(db: Path, *args: str) -> list[dict]:
    done = runner.invoke(app, ["history", *args, "--db", str(db), "-f", "json"])
    assert done.exit_code == 0, done.stderr
    return json.loads(done.stdout)


def test_an_actors_claims_over_two_days_merge_his_names(two_days: tuple[Path, Path, Path]) -> None:
    db, _, _ = two_days
    rows = query(db, "claims", "--actor", "Kirby")
    assert {r["day"] for r in rows} == {"2026-11-27", "2026-11-28"}
    assert {r["claimant"] for r in rows} == {"John Kirby"}
    assert {r["claim"] for r in rows if r["day"] == "2026-11-27"} == {
        r["claim"] for r in rows if r["day"] == "2026-11-28"
    }
    assert [r["day"] for r in rows] == sorted(r["day"] for r in rows)  # oldest first
    assert any(r["source"] == "He" for r in rows)
    assert query(db, "claims", "--actor", "Kirby", "--since", "2026-11-28") == [
        r for r in rows if r["day"] == "2026-11-28"
    ]
    accused = query(db, "claims", "--actor", "John Kirby", "--status", "asserted")
    assert accused and {r["status"] for r in accused} == {"asserted"}
    assert query(db, "claims", "--actor", "Kirby Nobody") == []


def test_search_finds_the_words_in_every_day(two_days: tuple[Path, Path, Path]) -> None:
    db, _, _ = two_days
    rows = query(db, "search", "killed or wounded")
    assert {r["day"] for r in rows} == {"2026-11-27", "2026-11-28"}
    assert all("killed" in (r["statement"] + r["evidence"]) for r in rows)
    assert isinstance(query(db, "search", 'killed OR "NEAR('), list)  # operators in the words are only words
    done = runner.invoke(app, ["history", "search", '"', "--db", str(db)])
    assert done.exit_code == 3 and "nothing to search for" in done.stderr


def test_a_figure_over_time_with_who_gave_it(two_days: tuple[Path, Path, Path]) -> None:
    db, _, _ = two_days
    rows = query(db, "figure", "North Korean killed or wounded")
    assert {(r["claimant"], r["value"]) for r in rows} >= {("Volodymyr Zelenskyy", 3000.0), ("John Kirby", 1000.0)}
    assert {r["day"] for r in rows} == {"2026-11-27", "2026-11-28"}
    table = runner.invoke(app, ["history", "figure", "North Korean killed or wounded", "--db", str(db)])
    assert "first seen 2026-11-27" in table.stderr and "last seen 2026-11-28" in table.stderr


def test_the_register_and_the_actors_new_on_a_day(two_days: tuple[Path, Path, Path]) -> None:
    db, _, _ = two_days
    register = {r["key"]: r for r in query(db, "actors", "--limit", "1000")}
    assert register["john kirby"]["first_seen"] == "2026-11-27" and register["john kirby"]["last_seen"] == "2026-11-28"
    assert register["john kirby"]["briefs"] == 2
    new = {r["key"] for r in query(db, "actors", "--new-since", "2026-11-28", "--limit", "1000")}
    assert "john kirby" not in new and new  # the warming article's actors are new on the 28th
    assert all(register[key]["first_seen"] == "2026-11-28" for key in new)


def test_stories_by_day_with_their_documents(two_days: tuple[Path, Path, Path]) -> None:
    db, _, second = two_days
    rows = query(db, "stories")
    assert {r["day"] for r in rows} == {"2026-11-27", "2026-11-28"}
    digest = json.loads((second / "digest.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in rows if r["day"] == "2026-11-28"] == [s["name"] for s in digest["stories"]]
    assert all(r["documents"] for r in rows)


def test_a_rerun_adds_nothing_and_a_brief_edited_by_hand_is_read_again(two_days: tuple[Path, Path, Path]) -> None:
    db, first, _ = two_days
    with sqlite3.connect(db) as raw:
        counts = [raw.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("briefs", "claims", "actors")]
    again = runner.invoke(app, ["history", "import", str(first), "--db", str(db)])
    assert again.exit_code == 0 and "0 briefs added, 0 replaced, 3 unchanged" in again.stderr
    with sqlite3.connect(db) as raw:
        assert [
            raw.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("briefs", "claims", "actors")
        ] == counts
    os.utime(first / "briefs" / "iodine.json")  # touched, not changed: hashed again, not re-imported
    touched = runner.invoke(app, ["history", "import", str(first), "--db", str(db)])
    assert "0 briefs added, 0 replaced, 3 unchanged" in touched.stderr
    edited = first / "briefs" / "korea.json"
    brief = json.loads(edited.read_text(encoding="utf-8"))
    brief["claims"][0]["statement"] = "A statement an analyst corrected by hand."
    edited.write_text(json.dumps(brief), encoding="utf-8")
    redone = runner.invoke(app, ["history", "import", str(first), "--db", str(db)])
    assert "0 briefs added, 1 replaced, 2 unchanged" in redone.stderr
    assert [r["day"] for r in query(db, "search", "analyst corrected by hand")] == ["2026-11-27"]
    with sqlite3.connect(db) as raw:
        assert [
            raw.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("briefs", "claims", "actors")
        ] == counts


def test_since_may_name_a_day_of_the_history(two_days: tuple[Path, Path, Path], tmp_path: Path) -> None:
    db, _, _ = two_days
    out = day_run(tmp_path, "2026-11-29", [SEED], "--db", str(db), "--since", "2026-11-28")
    digest = json.loads((out / "digest.json").read_text(encoding="utf-8"))
    assert digest["since"] and digest["since"].endswith("2026-11-28")
    changes = {c["change"] for s in digest["stories"] for g in s["claim_groups"] for c in g["claims"]}
    assert changes == {"repeated"}


def test_no_history_writes_none_and_a_broken_history_does_not_fail_the_day(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    day_run(tmp_path, "2026-11-27", [SEED], "--db", str(db), "--no-history")
    assert not db.exists()
    db.write_text("not a database", encoding="utf-8")
    inbox = tmp_path / "inbox-2"
    inbox.mkdir()
    shutil.copy(SEED, inbox / SEED.name)
    done = runner.invoke(app, ["daily", str(inbox), "--out", str(tmp_path / "2026-11-28"), "--db", str(db), *REPLAY])
    assert done.exit_code == 0 and "the history was not updated" in done.stderr
    asked = runner.invoke(app, ["history", "stories", "--db", str(db)])
    assert asked.exit_code == 3 and "not a usable history database" in asked.stderr


def test_a_query_reads_while_an_import_writes(two_days: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """WAL: a reader never waits for a writer, and sees a whole import or none of it."""
    db, first, _ = two_days
    extra = tmp_path / "days" / "2026-11-30"
    shutil.copytree(first, extra)
    errors: list[BaseException] = []
    totals: list[int] = []
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                with history.connect(db) as reader:
                    totals.append(reader.execute("SELECT COUNT(*) FROM briefs").fetchone()[0])
        except BaseException as error:  # noqa: BLE001 - any error of the reader fails the test
            errors.append(error)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for _ in range(5):
            with history.connect(db) as writer:
                writer.execute("DELETE FROM story_briefs")
                history.import_day(writer, extra)
                writer.execute("BEGIN IMMEDIATE")
                for row in writer.execute("SELECT id FROM briefs WHERE day = '2026-11-30'").fetchall():
                    history._forget_brief(writer, row[0])
                writer.execute("COMMIT")
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert totals and set(totals) <= {6, 9}  # before or after a whole import of 3 briefs, never between


def test_an_older_or_foreign_database_is_refused_with_a_reason(tmp_path: Path) -> None:
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as raw:
        raw.execute("CREATE TABLE t (x)")
    done = runner.invoke(app, ["history", "actors", "--db", str(foreign)])
    assert done.exit_code == 3 and "not a summarizer history" in done.stderr
    newer = tmp_path / "newer.db"
    with history.connect(newer) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    done = runner.invoke(app, ["history", "actors", "--db", str(newer)])
    assert done.exit_code == 3 and "newer than this summarizer" in done.stderr


def test_hostile_strings_stay_inert_in_the_table(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    out = day_run(tmp_path, "2026-11-27", [SEED], "--db", str(db), "--no-history")
    brief_file = out / "briefs" / f"{SEED.stem}.json"
    brief = json.loads(brief_file.read_text(encoding="utf-8"))
    brief["claims"][0]["claimant"] = "[bold red]Evil[/] \x1b[31mred\x1b[0m"
    brief["claims"][0]["claimant_id"] = None
    brief_file.write_text(json.dumps(brief), encoding="utf-8")
    assert runner.invoke(app, ["history", "import", str(out), "--db", str(db)]).exit_code == 0
    words = " ".join(brief["claims"][0]["evidence"]["quote"].split()[:4])
    shown = runner.invoke(app, ["history", "search", words, "--db", str(db)])
    assert "\x1b" not in shown.stdout and "[bold red]Evil[/]" in shown.stdout


def test_a_claim_of_several_claimants_is_in_each_ones_history(tmp_path: Path) -> None:
    """The clock article's statement of the school district and the police (schema 1.9: Claim.also)."""
    db = tmp_path / "history.db"
    day_run(tmp_path, "2026-11-29", [WIKINEWS / "clock.txt"], "--db", str(db))
    words = "were not a factor in the manner"
    police = [r for r in query(db, "claims", "--actor", "Irving Police Department") if words in r["evidence"]]
    district = [r for r in query(db, "claims", "--actor", "Irving Independent School District")]
    both = "Irving Independent School District and Irving Police Department"
    assert len(police) == 1 and police[0]["claimant"] == both  # every claimant, as the pages name them
    assert [r["claim"] for r in district if words in r["evidence"]] == [police[0]["claim"]]
    register = {r["name"]: r["claims"] for r in query(db, "actors")}
    assert register["Irving Police Department"] >= 1


def test_a_version_1_history_gains_the_further_claimants_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with history.connect(path) as db:  # made as version 1 was: no claim_actors table
        db.execute("DROP TABLE claim_actors")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with history.connect(path) as db:
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert version == str(history.SCHEMA_VERSION) == "2" and "claim_actors" in tables
