"""History: every day's briefs in one SQLite database, and the questions asked across days.

``daily`` adds each run's day folder (``import_day``); ``summarizer history import DAY...``
backfills older ones. A day folder's briefs are read as the JSON this program wrote (plain
``json``: validating a million claims as models would take minutes), each row pointing back
at its day, its brief file and its document's hash. Importing is idempotent: a brief whose
bytes are unchanged is not read again; a brief that changed (re-briefed, or edited by hand)
replaces its rows; a day's stories are replaced by its digest's.

The schema (``SCHEMA``, version in the ``meta`` table, documented in docs/history.md) is
stable: a later version adds a migration to ``MIGRATIONS``. The database runs in WAL mode,
so a ``daily`` writing never blocks a query reading (each sees a whole import or none).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import grounding
from .errors import DocumentError
from .models import Brief, joined
from .reviews import Review, apply, match, review_path

SCHEMA_VERSION = 2
ENV_DB = "SUMMARIZER_DB"
DAY_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")
BUSY_TIMEOUT_S = 30.0  # a reader or another writer holds the database: wait this long before failing

# (version 2) the further claimants of a claim: a statement the document gives to several sources
CLAIM_ACTORS = """
CREATE TABLE IF NOT EXISTS claim_actors (
    claim INTEGER NOT NULL REFERENCES claims(id) ON DELETE CASCADE,
    actor INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS claim_actors_actor ON claim_actors(actor);
CREATE INDEX IF NOT EXISTS claim_actors_claim ON claim_actors(claim)
"""
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS days (
    day TEXT PRIMARY KEY,               -- YYYY-MM-DD
    folder TEXT NOT NULL,               -- the day's --out folder, absolute
    imported_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS briefs (
    id INTEGER PRIMARY KEY,
    day TEXT NOT NULL REFERENCES days(day),
    brief_file TEXT NOT NULL,           -- relative to the day's folder: briefs/<name>.json
    brief_sha256 TEXT NOT NULL,         -- of the brief file's bytes: unchanged, not read again
    brief_stat TEXT NOT NULL,           -- "size:mtime_ns" when last read: the same, the file is not even opened
    document_sha256 TEXT,
    document_path TEXT,
    title TEXT,
    provider TEXT,
    model TEXT,
    UNIQUE (day, brief_file)
);
CREATE TABLE IF NOT EXISTS actors (
    id INTEGER PRIMARY KEY,
    brief_id INTEGER NOT NULL REFERENCES briefs(id) ON DELETE CASCADE,
    actor_id TEXT NOT NULL,             -- A1, A2, ... within its brief
    name TEXT NOT NULL,
    key TEXT NOT NULL,                  -- the name normalised: the register groups by it
    claims INTEGER NOT NULL DEFAULT 0,  -- claims of its brief it is the claimant of
    kind TEXT,
    role TEXT,
    aliases TEXT NOT NULL DEFAULT '[]'  -- JSON list
);
CREATE TABLE IF NOT EXISTS actor_names (  -- an actor's name and aliases, normalised: what --actor matches
    actor INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    key TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS claims (
    id INTEGER PRIMARY KEY,
    brief_id INTEGER NOT NULL REFERENCES briefs(id) ON DELETE CASCADE,
    claim_id TEXT NOT NULL,             -- C1, C2, ... within its brief
    claimant TEXT NOT NULL,
    actor INTEGER REFERENCES actors(id) ON DELETE SET NULL,
    statement TEXT NOT NULL,
    status TEXT,
    evidence TEXT NOT NULL,
    evidence_start INTEGER,
    evidence_end INTEGER,
    source TEXT,                        -- the source as the document names it
    origin TEXT
);
CREATE TABLE IF NOT EXISTS figures (
    id INTEGER PRIMARY KEY,
    claim INTEGER NOT NULL REFERENCES claims(id) ON DELETE CASCADE,
    value REAL, low REAL, high REAL,
    unit TEXT NOT NULL,
    qualifier TEXT
);
CREATE TABLE IF NOT EXISTS uncertainties (
    id INTEGER PRIMARY KEY,
    brief_id INTEGER NOT NULL REFERENCES briefs(id) ON DELETE CASCADE,
    uncertainty_id TEXT NOT NULL,
    kind TEXT,
    description TEXT NOT NULL,
    evidence TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stories (
    id INTEGER PRIMARY KEY,
    day TEXT NOT NULL REFERENCES days(day) ON DELETE CASCADE,
    story_id TEXT NOT NULL,             -- S1, S2, ... within its day's digest
    name TEXT NOT NULL,
    named_by TEXT
);
CREATE TABLE IF NOT EXISTS story_briefs (
    story INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    brief_file TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS register (    -- one row per actor name (normalised) across all days: the actors query
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,                 -- the name as first imported
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    briefs INTEGER NOT NULL,            -- briefs that list it
    claims INTEGER NOT NULL             -- claims it made in them
);
CREATE TABLE IF NOT EXISTS name_keys (key TEXT PRIMARY KEY);  -- every name and alias key, once: --actor scans it
CREATE TABLE IF NOT EXISTS register_kinds (key TEXT NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (key, kind));
CREATE INDEX IF NOT EXISTS register_claims ON register(claims);
CREATE INDEX IF NOT EXISTS register_first ON register(first_seen);
CREATE INDEX IF NOT EXISTS briefs_day ON briefs(day);
CREATE INDEX IF NOT EXISTS actors_brief ON actors(brief_id);
CREATE INDEX IF NOT EXISTS actors_key ON actors(key);
CREATE INDEX IF NOT EXISTS actor_names_key ON actor_names(key);
CREATE INDEX IF NOT EXISTS actor_names_actor ON actor_names(actor);
CREATE INDEX IF NOT EXISTS claims_brief ON claims(brief_id);
CREATE INDEX IF NOT EXISTS claims_actor ON claims(actor);
CREATE INDEX IF NOT EXISTS figures_claim ON figures(claim);
CREATE INDEX IF NOT EXISTS uncertainties_brief ON uncertainties(brief_id);
CREATE INDEX IF NOT EXISTS stories_day ON stories(day);
CREATE INDEX IF NOT EXISTS story_briefs_story ON story_briefs(story);
{CLAIM_ACTORS};
CREATE VIRTUAL TABLE IF NOT EXISTS claims_text USING fts5(
    statement, evidence, content='claims', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS figures_text USING fts5(
    unit, content='figures', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS claims_out AFTER DELETE ON claims BEGIN
    INSERT INTO claims_text(claims_text, rowid, statement, evidence)
    VALUES ('delete', old.id, old.statement, old.evidence);
END;
CREATE TRIGGER IF NOT EXISTS figures_out AFTER DELETE ON figures BEGIN
    INSERT INTO figures_text(figures_text, rowid, unit) VALUES ('delete', old.id, old.unit);
END;
"""
# Migrations from version N to N+1, applied in order: version 2 adds the further claimants of a claim (briefs
# of schema 1.9, Claim.also); a brief imported before it keeps its claims under their first claimant.
MIGRATIONS: dict[int, str] = {1: CLAIM_ACTORS}


class HistoryError(DocumentError):
    """The history database cannot be opened or read (exit 3, like other unreadable input)."""


def default_path() -> Path:
    """``$SUMMARIZER_DB``, else ``history.db`` in the user's data folder (platformdirs)."""
    if os.environ.get(ENV_DB):
        return Path(os.environ[ENV_DB])
    from platformdirs import user_data_path

    folder: Path = user_data_path("summarizer", appauthor=False)
    return folder / "history.db"


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """The database at ``path``, made or migrated to the current schema; closed after use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as error:
        raise HistoryError(f"{path}: cannot open the history database: {error}") from error
    try:
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        _migrate(db, path)
        yield db
    except sqlite3.DatabaseError as error:
        raise HistoryError(f"{path}: not a usable history database: {error}") from error
    finally:
        db.close()


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "meta" not in tables:
        if tables:
            raise HistoryError(f"{path}: a SQLite database, but not a summarizer history (no meta table)")
        # one script, one transaction: a database is made whole or not at all (executescript commits first)
        db.executescript(f"BEGIN; {SCHEMA} INSERT INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}'); COMMIT;")
        return
    version = int(db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise HistoryError(f"{path}: history schema {version} is newer than this summarizer's ({SCHEMA_VERSION})")
    while version < SCHEMA_VERSION:
        version += 1
        db.executescript(
            f"BEGIN; {MIGRATIONS[version - 1]}; UPDATE meta SET value = '{version}' WHERE key = 'schema_version'; "
            "COMMIT;"
        )


# A name compared across briefs as the briefs themselves compare claimants with actors (case, quotes and
# dashes folded, "the", possessives and punctuation off); cached: a day names the same actors brief after brief.
name_key = lru_cache(maxsize=65536)(grounding.name_key)


# --------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------


@dataclass
class Imported:
    day: str
    added: int = 0  # briefs new to the history
    replaced: int = 0  # briefs whose file changed: their rows replaced
    unchanged: int = 0
    stories: int = 0


def day_of(folder: Path) -> str:
    """The day a --out folder holds: its name when that is a date (days/2026-11-28), else the date its
    manifest was last written."""
    if DAY_NAME.match(folder.name):
        return folder.name
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        raise HistoryError(f"{folder}: no manifest.json: not the --out folder of a daily run")
    return time.strftime("%Y-%m-%d", time.gmtime(manifest.stat().st_mtime))


def import_day(db: sqlite3.Connection, folder: Path, day: str | None = None) -> Imported:
    """Add one day folder's briefs and stories (one transaction: a reader sees all of it or none)."""
    folder = folder.resolve()
    briefs_dir = folder / "briefs"
    if not (folder / "manifest.json").is_file():
        raise HistoryError(f"{folder}: no manifest.json: not the --out folder of a daily run")
    day = day or day_of(folder)
    result = Imported(day)
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(
            "INSERT INTO days(day, folder, imported_at) VALUES (?, ?, ?) "
            "ON CONFLICT(day) DO UPDATE SET folder = excluded.folder, imported_at = excluded.imported_at",
            (day, str(folder), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
        )
        known = {
            row["brief_file"]: (row["id"], row["brief_sha256"], row["brief_stat"])
            for row in db.execute("SELECT id, brief_file, brief_sha256, brief_stat FROM briefs WHERE day = ?", (day,))
        }
        rows = _Rows(db)
        forgotten: set[str] = set()
        for path in sorted(briefs_dir.glob("*.json")) if briefs_dir.is_dir() else []:
            relative = f"briefs/{path.name}"
            earlier = known.get(relative)
            facts = path.stat()
            stat = f"{facts.st_size}:{facts.st_mtime_ns}"
            decisions = review_path(path)
            if decisions.is_file():  # the brief as reviewed: a new decision is a change
                more = decisions.stat()
                stat += f"|{more.st_size}:{more.st_mtime_ns}"
            if earlier and earlier[2] == stat:  # as git does: same size and time, the same file
                result.unchanged += 1
                continue
            raw = path.read_bytes()
            judged = decisions.read_bytes() if decisions.is_file() else b""
            digest = hashlib.sha256(raw + judged).hexdigest()
            if earlier and earlier[1] == digest:  # touched, not changed
                db.execute("UPDATE briefs SET brief_stat = ? WHERE id = ?", (stat, earlier[0]))
                result.unchanged += 1
                continue
            try:
                brief = json.loads(raw)
            except ValueError:
                continue  # not a brief this program wrote whole: left out, as the digest leaves it out
            if not isinstance(brief, dict) or not isinstance(brief.get("claims"), list):
                continue  # a review file (read with its brief), or not a brief this program wrote
            if judged:
                brief = _as_reviewed(brief, judged)
            if earlier:
                forgotten |= _forget_brief(db, earlier[0])
                result.replaced += 1
            else:
                result.added += 1
            rows.add_brief(day, relative, digest, stat, brief, briefs_dir)
        rows.write()
        _update_register(db, day, rows.register, forgotten)
        result.stories = _replace_stories(db, day, folder)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return result


def _as_reviewed(brief: dict[str, Any], review: bytes) -> dict[str, Any]:
    """A brief with a review beside it (its bytes, as hashed), as the person judged it: corrected claimants,
    rejected items left out (a review or brief that cannot be read leaves the brief as it is: history never
    fails a day for it)."""
    try:
        model = Brief.model_validate(brief)
        reviewed = match(Review.model_validate_json(review), model)
        judged = apply(model, reviewed).model_dump(mode="json")
    except ValueError:
        return brief
    # A claimant corrected to someone the brief does not list becomes an actor of the brief here, so that
    # `history claims --actor NAME` finds the claim under the name the person gave.
    named = {actor["name"]: actor["id"] for actor in judged["actors"]}
    last = max((int(actor.id[1:]) for actor in model.actors), default=0)  # rejected ones too: ids stay unique
    for claim in judged["claims"]:
        decision = reviewed.of(claim["id"])
        if decision is None or not decision.claimant or claim.get("claimant_id"):
            continue
        if decision.claimant not in named:
            last += 1
            named[decision.claimant] = f"A{last}"
            judged["actors"].append(
                {
                    "id": named[decision.claimant],
                    "name": decision.claimant,
                    "kind": "other",
                    "aliases": [],
                    "role": f"named by {decision.reviewer} in review",
                }
            )
        claim["claimant_id"] = named[decision.claimant]
    return judged


def _forget_brief(db: sqlite3.Connection, brief_id: int) -> set[str]:
    """Delete a brief's rows; the actor keys it named (their register entries are counted again)."""
    keys = {row[0] for row in db.execute("SELECT key FROM actors WHERE brief_id = ?", (brief_id,))}
    db.execute("DELETE FROM figures WHERE claim IN (SELECT id FROM claims WHERE brief_id = ?)", (brief_id,))
    db.execute("DELETE FROM claim_actors WHERE claim IN (SELECT id FROM claims WHERE brief_id = ?)", (brief_id,))
    db.execute("DELETE FROM claims WHERE brief_id = ?", (brief_id,))
    db.execute("DELETE FROM actor_names WHERE actor IN (SELECT id FROM actors WHERE brief_id = ?)", (brief_id,))
    db.execute("DELETE FROM actors WHERE brief_id = ?", (brief_id,))
    db.execute("DELETE FROM uncertainties WHERE brief_id = ?", (brief_id,))
    db.execute("DELETE FROM briefs WHERE id = ?", (brief_id,))
    return keys


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _further(claim: dict[str, Any]) -> dict[str, str]:
    """A brief's claim's further claimants (schema 1.9: ``Claim.also``) as read from its JSON: actor id → name."""
    found: dict[str, str] = {}
    for other in claim.get("also") or []:
        if isinstance(other, dict) and other.get("actor_id"):
            found.setdefault(str(other["actor_id"]), str(other.get("name") or ""))
    return found


class _Rows:
    """A day's rows, gathered with their ids given here and written with one executemany per table (a row at
    a time, a million claims took over a minute)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.next = {
            table: db.execute(f"SELECT IFNULL(MAX(id), 0) + 1 FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
            for table in ("briefs", "actors", "claims")
        }
        self.tables: dict[str, list[tuple[Any, ...]]] = {
            name: []
            for name in ("briefs", "actors", "actor_names", "claims", "claim_actors", "figures", "uncertainties")
        }
        # actor key -> [a name, kinds, briefs, claims]: what this import adds to the register
        self.register: dict[str, list[Any]] = {}

    def _id(self, table: str) -> int:
        given: int = self.next[table]
        self.next[table] += 1
        return given

    def add_brief(
        self, day: str, relative: str, digest: str, stat: str, brief: dict[str, Any], briefs_dir: Path
    ) -> None:
        document: dict[str, Any] = brief["document"] if isinstance(brief.get("document"), dict) else {}
        run: dict[str, Any] = brief["run"] if isinstance(brief.get("run"), dict) else {}
        where = _text(document.get("path"))
        if where and not os.path.isabs(where):  # a brief records its document relative to itself
            where = os.path.normpath(briefs_dir / where)
        brief_id = self._id("briefs")
        self.tables["briefs"].append(
            (
                brief_id,
                day,
                relative,
                digest,
                stat,
                _text(document.get("sha256")),
                where,
                _text(document.get("title")),
                _text(run.get("provider")),
                _text(run.get("model")),
            )
        )
        claims = [c for c in brief.get("claims") or [] if isinstance(c, dict) and isinstance(c.get("evidence"), dict)]
        cited: dict[str, int] = {}
        for claim in claims:  # the claims an actor makes, alone or with others (schema 1.9: Claim.also)
            for actor_id in dict.fromkeys([str(claim.get("claimant_id")), *_further(claim)]):
                cited[actor_id] = cited.get(actor_id, 0) + 1
        actor_rows: dict[str, int] = {}
        for actor in brief.get("actors") or []:
            if not isinstance(actor, dict) or not _text(actor.get("name")):
                continue
            aliases = [a for a in actor.get("aliases") or [] if isinstance(a, str)]
            row, key, said = self._id("actors"), name_key(actor["name"]), cited.get(str(actor.get("id", "")), 0)
            kind = _text(actor.get("kind"))
            self.tables["actors"].append(
                (
                    row,
                    brief_id,
                    str(actor.get("id", "")),
                    actor["name"],
                    key,
                    said,
                    kind,
                    _text(actor.get("role")),
                    json.dumps(aliases, ensure_ascii=False),
                )
            )
            actor_rows[str(actor.get("id", ""))] = row
            names = dict.fromkeys(name_key(n) for n in [actor["name"], *aliases])
            self.tables["actor_names"] += [(row, name) for name in names if name]
            entry = self.register.setdefault(key, [actor["name"], set(), 0, 0])
            entry[1].add(kind or "")
            entry[2] += 1
            entry[3] += said
        for claim in claims:
            evidence, source = claim["evidence"], claim.get("source")
            row, further = self._id("claims"), _further(claim)
            self.tables["claims"].append(
                (
                    row,
                    brief_id,
                    str(claim.get("id", "")),
                    joined([str(claim.get("claimant", "")), *filter(None, further.values())]),  # as the pages name them
                    actor_rows.get(str(claim.get("claimant_id"))),
                    str(claim.get("statement", "")),
                    _text(claim.get("status")),
                    str(evidence.get("quote", "")),
                    evidence.get("start") if isinstance(evidence.get("start"), int) else None,
                    evidence.get("end") if isinstance(evidence.get("end"), int) else None,
                    _text(source.get("quote")) if isinstance(source, dict) else None,
                    _text(claim.get("origin")),
                )
            )
            self.tables["claim_actors"] += [(row, actor_rows[o]) for o in further if o in actor_rows]
            self.tables["figures"] += [
                (
                    row,
                    _number(figure.get("value")),
                    _number(figure.get("low")),
                    _number(figure.get("high")),
                    figure["unit"],
                    _text(figure.get("qualifier")),
                )
                for figure in claim.get("figures") or []
                if isinstance(figure, dict) and _text(figure.get("unit"))
            ]
        self.tables["uncertainties"] += [
            (
                brief_id,
                str(item.get("id", "")),
                _text(item.get("kind")),
                str(item.get("description", "")),
                str(item["evidence"].get("quote", "")) if isinstance(item.get("evidence"), dict) else "",
            )
            for item in brief.get("uncertainties") or []
            if isinstance(item, dict)
        ]

    def write(self) -> None:
        statements = {
            "briefs": "INSERT INTO briefs(id, day, brief_file, brief_sha256, brief_stat, document_sha256, "
            "document_path, title, provider, model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "actors": "INSERT INTO actors(id, brief_id, actor_id, name, key, claims, kind, role, aliases) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "actor_names": "INSERT INTO actor_names(actor, key) VALUES (?, ?)",
            "claims": "INSERT INTO claims(id, brief_id, claim_id, claimant, actor, statement, status, evidence, "
            "evidence_start, evidence_end, source, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "claim_actors": "INSERT INTO claim_actors(claim, actor) VALUES (?, ?)",
            "figures": "INSERT INTO figures(claim, value, low, high, unit, qualifier) VALUES (?, ?, ?, ?, ?, ?)",
            "uncertainties": "INSERT INTO uncertainties(brief_id, uncertainty_id, kind, description, evidence) "
            "VALUES (?, ?, ?, ?, ?)",
        }
        first_figure = self.db.execute("SELECT IFNULL(MAX(id), 0) + 1 FROM figures").fetchone()[0]
        for table, statement in statements.items():
            self.db.executemany(statement, self.tables[table])
        # The full-text indexes take the new rows in one statement each (row by row, through a trigger, the
        # index cost four times as much); deletes go through the triggers.
        first_claim = self.next["claims"] - len(self.tables["claims"])
        self.db.execute(
            "INSERT INTO claims_text(rowid, statement, evidence) SELECT id, statement, evidence FROM claims "
            "WHERE id >= ?",
            (first_claim,),
        )
        self.db.execute(
            "INSERT INTO figures_text(rowid, unit) SELECT id, unit FROM figures WHERE id >= ?", (first_figure,)
        )
        keys = {(key,) for _, key in self.tables["actor_names"]}
        self.db.executemany("INSERT OR IGNORE INTO name_keys(key) VALUES (?)", sorted(keys))


def _update_register(db: sqlite3.Connection, day: str, added: dict[str, list[Any]], recount: set[str]) -> None:
    """The actor register (``actors`` query): what this import added, summed in; the names of replaced briefs
    counted again from their rows."""
    db.executemany(
        "INSERT INTO register(key, name, first_seen, last_seen, briefs, claims) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), "
        "last_seen = max(last_seen, excluded.last_seen), briefs = briefs + excluded.briefs, "
        "claims = claims + excluded.claims",
        [(key, e[0], day, day, e[2], e[3]) for key, e in added.items() if key not in recount],
    )
    db.executemany(
        "INSERT OR IGNORE INTO register_kinds(key, kind) VALUES (?, ?)",
        [(key, kind) for key, e in added.items() for kind in e[1] if kind],
    )
    for key in recount:
        db.execute("DELETE FROM register WHERE key = ?", (key,))
        db.execute(
            "INSERT INTO register(key, name, first_seen, last_seen, briefs, claims) "
            "SELECT a.key, MIN(a.name), MIN(b.day), MAX(b.day), COUNT(*), SUM(a.claims) "
            "FROM actors a JOIN briefs b ON b.id = a.brief_id WHERE a.key = ? GROUP BY a.key",
            (key,),
        )


def _replace_stories(db: sqlite3.Connection, day: str, folder: Path) -> int:
    """The day's stories, as its digest.json has them now (none when it has no digest)."""
    db.execute("DELETE FROM story_briefs WHERE story IN (SELECT id FROM stories WHERE day = ?)", (day,))
    db.execute("DELETE FROM stories WHERE day = ?", (day,))
    try:
        digest = json.loads((folder / "digest.json").read_bytes())
    except (OSError, ValueError):
        return 0
    if not isinstance(digest, dict):
        return 0
    documents: dict[str, Any] = digest["documents"] if isinstance(digest.get("documents"), dict) else {}
    count = 0
    for story in digest.get("stories") or []:
        if not isinstance(story, dict):
            continue
        row = db.execute(
            "INSERT INTO stories(day, story_id, name, named_by) VALUES (?, ?, ?, ?)",
            (day, str(story.get("id", "")), str(story.get("name", "")), _text(story.get("named_by"))),
        ).lastrowid
        files = [documents[key] for key in story.get("documents") or [] if isinstance(documents.get(key), str)]
        db.executemany("INSERT INTO story_briefs(story, brief_file) VALUES (?, ?)", [(row, f) for f in files])
        count += 1
    return count


# --------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------


def _words_query(text: str) -> str:
    """``text`` as an FTS5 query of its words, each quoted (so nothing in it is an operator): all must occur."""
    words = re.findall(r"\w+", text)
    if not words:
        raise HistoryError(f"{text!r}: nothing to search for (give some words)")
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def _actor_rows(db: sqlite3.Connection, name: str) -> None:
    """Fill the temporary table ``wanted_actors`` with the actors (of every brief) that a name means: every
    word of its key among the words of one of their names or aliases ("Kirby" = "John Kirby" = "White House
    spokesperson John Kirby"). The distinct names are scanned, not every actor of every brief."""
    key = name_key(name)
    if not key:
        raise HistoryError(f"{name!r}: give an actor's name")
    wanted = set(key.split())
    longest = max(wanted, key=len)
    keys = [
        (row[0],)
        for row in db.execute("SELECT key FROM name_keys WHERE key LIKE ?", (f"%{longest}%",))
        if wanted <= set(row[0].split())
    ]
    db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_keys (key TEXT PRIMARY KEY)")
    db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_actors (actor INTEGER PRIMARY KEY)")
    db.execute("DELETE FROM wanted_keys")
    db.execute("DELETE FROM wanted_actors")
    db.executemany("INSERT INTO wanted_keys VALUES (?)", keys)
    db.execute(
        "INSERT OR IGNORE INTO wanted_actors SELECT n.actor FROM wanted_keys w JOIN actor_names n ON n.key = w.key"
    )


CLAIM_COLUMNS = """
    b.day AS day, b.document_path AS document, b.brief_file AS brief, c.claim_id AS claim, c.claimant AS claimant,
    c.status AS status, c.statement AS statement, c.evidence AS evidence, c.source AS source
"""


def claims_by_actor(
    db: sqlite3.Connection, actor: str, since: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """An actor's claims over time, oldest day first (its names merged across briefs by their aliases)."""
    _actor_rows(db, actor)
    # CROSS JOIN keeps the few wanted actors as the outer loop (claims found by their index); the planner,
    # knowing nothing of a temporary table, would otherwise scan every claim.
    # Its claims as their claimant, then as a further claimant (claim_actors): one list, in the same order.
    sql = (
        f"SELECT c.id AS row_id, {CLAIM_COLUMNS} FROM wanted_actors w CROSS JOIN {{}} "
        "JOIN briefs b ON b.id = c.brief_id WHERE (? IS NULL OR b.day >= ?) AND (? IS NULL OR c.status = ?)"
    )
    joins = ("claims c ON c.actor = w.actor", "claim_actors a ON a.actor = w.actor JOIN claims c ON c.id = a.claim")
    found: dict[int, dict[str, Any]] = {}
    for join in joins:
        for row in db.execute(sql.format(join), (since, since, status, status)):
            found.setdefault(row["row_id"], dict(row))
    ordered = sorted(found.values(), key=lambda r: (r["day"], r["brief"], r["row_id"]))
    return [{k: v for k, v in row.items() if k != "row_id"} for row in ordered]


def search(db: sqlite3.Connection, text: str, limit: int = 100) -> list[dict[str, Any]]:
    """Claims whose statement or evidence holds every word of ``text``, best match first."""
    sql = (
        f"SELECT {CLAIM_COLUMNS} FROM claims_text t JOIN claims c ON c.id = t.rowid JOIN briefs b ON b.id = c.brief_id "
        "WHERE claims_text MATCH ? ORDER BY t.rank, b.day LIMIT ?"
    )
    return [dict(row) for row in db.execute(sql, (_words_query(text), limit))]


def figure_history(db: sqlite3.Connection, thing: str) -> list[dict[str, Any]]:
    """The values given for a counted thing (every word of ``thing`` in the figure's unit), oldest day first."""
    sql = (
        "SELECT b.day AS day, b.document_path AS document, b.brief_file AS brief, c.claim_id AS claim, "
        "c.claimant AS claimant, c.status AS status, f.value AS value, f.low AS low, f.high AS high, f.unit AS unit, "
        "f.qualifier AS qualifier FROM figures_text t JOIN figures f ON f.id = t.rowid "
        "JOIN claims c ON c.id = f.claim JOIN briefs b ON b.id = c.brief_id WHERE figures_text MATCH ? "
        "ORDER BY b.day, b.brief_file, c.id"
    )
    return [dict(row) for row in db.execute(sql, (_words_query(thing),))]


def actors(db: sqlite3.Connection, new_since: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The register: each name (normalised) with its forms, kinds, first and last day and claims; with
    ``new_since``, only names first seen on or after that day."""
    sql = """
        SELECT r.key AS key, r.name AS name,
               (SELECT GROUP_CONCAT(kind, ', ') FROM register_kinds k WHERE k.key = r.key) AS kinds,
               r.first_seen AS first_seen, r.last_seen AS last_seen, r.briefs AS briefs, r.claims AS claims
        FROM register r WHERE (? IS NULL OR r.first_seen >= ?) AND r.briefs > 0
        ORDER BY r.claims DESC, r.key LIMIT ?
    """
    return [dict(row) for row in db.execute(sql, (new_since, new_since, limit))]


def stories(db: sqlite3.Connection, since: str | None = None) -> list[dict[str, Any]]:
    """Stories by day, each with its documents' titles (or paths)."""
    sql = """
        SELECT s.day AS day, s.story_id AS story, s.name AS name, s.named_by AS named_by,
               GROUP_CONCAT(COALESCE(b.title, b.document_path, sb.brief_file), ' | ') AS documents
        FROM stories s LEFT JOIN story_briefs sb ON sb.story = s.id
        LEFT JOIN briefs b ON b.day = s.day AND b.brief_file = sb.brief_file
        WHERE (? IS NULL OR s.day >= ?) GROUP BY s.id ORDER BY s.day, s.id
    """
    return [dict(row) for row in db.execute(sql, (since, since))]


def day_folder(db: sqlite3.Connection, day: str) -> Path | None:
    """The --out folder the history holds for ``day`` (``daily --since DAY``)."""
    row = db.execute("SELECT folder FROM days WHERE day = ?", (day,)).fetchone()
    return Path(row["folder"]) if row else None
