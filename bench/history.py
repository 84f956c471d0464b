"""Benchmark: the history database at scale — import, every query, the database's size.

    python bench/history.py [--days 60] [--docs 400] [--claims 42] [--write docs/benchmarks.md]

Makes --days day folders of --docs strong-shaped briefs each: the 25 briefs that the strong fixtures
replay to (``daily seeds --replay fixtures/strong``), cycled, each brought to --claims claims by
repeating its own claims with new ids and the day and document in their statement (so the words of
the full-text index grow with the days). Each day has a manifest and a digest of 20 stories.
Then, as a user runs them:

1. ``summarizer history import DAY...`` over every folder, a new process: wall time, peak RSS
   (target: the 60 x 400 day, ~1 M claims, in under 60 s).
2. ``summarizer history import`` of the same folders again: nothing read (wall time).
3. Each query of ``summarizer.history`` (claims by actor, search, figure, actors, actors new since
   the last day, stories), median of 5 in one process with the database open (target < 200 ms).
4. The database's size on disk.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stamp import child_env, stamp, table, write_between_markers  # noqa: E402
from summarizer import history  # noqa: E402

TARGET_IMPORT_S = 60.0
TARGET_QUERY_MS = 200.0


def strong_briefs(scratch: Path) -> list[dict]:
    """The 25 briefs the strong fixtures replay to, made once by ``summarizer daily`` (offline)."""
    out = scratch / "strong-day"
    command = [sys.executable, "-m", "summarizer", "daily", str(ROOT / "seeds"), "--out", str(out)]
    command += ["--replay", str(ROOT / "fixtures" / "strong"), "--model", "gpt-4o-mini", "--no-history", "-q"]
    subprocess.run(command, check=True, capture_output=True, env=child_env(PYTHONPATH=str(ROOT)), cwd=ROOT)
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / "briefs").glob("*.json"))]


def grown(brief: dict, claims: int, day: int, doc: int) -> dict:
    """``brief`` with ``claims`` claims: its own, then repeats with new ids, the day and document said."""
    made = dict(brief)
    base = brief["claims"] or []
    made["claims"] = []
    for number in range(claims if base else 0):
        claim = dict(base[number % len(base)])
        claim["id"] = f"C{number + 1}"
        if number >= len(base) or day or doc:
            claim["statement"] = f"{claim['statement']} (day {day}, document {doc}, item {number})"
        made["claims"].append(claim)
    return made


def make_days(folder: Path, briefs: list[dict], days: int, docs: int, claims: int) -> list[Path]:
    folders = []
    for day in range(days):
        out = folder / f"2026-{(day // 28) % 12 + 1:02d}-{day % 28 + 1:02d}"
        (out / "briefs").mkdir(parents=True)
        files = {}
        for doc in range(docs):
            name = f"briefs/d{doc:04d}.json"
            brief = grown(briefs[doc % len(briefs)], claims, day, doc)
            (out / name).write_text(json.dumps(brief, ensure_ascii=False), encoding="utf-8")
            files[f"d{doc + 1}"] = name
        keys = list(files)
        stories = [{"id": f"S{n + 1}", "name": f"Story {n} of day {day}", "documents": keys[n::20]} for n in range(20)]
        (out / "manifest.json").write_text(json.dumps({"schema_version": "1.6", "entries": []}), encoding="utf-8")
        (out / "digest.json").write_text(json.dumps({"documents": files, "stories": stories}), encoding="utf-8")
        folders.append(out)
    return folders


def timed_import(db: Path, folders: list[Path]) -> tuple[float, float]:
    """``summarizer history import`` as a new process: wall seconds and peak RSS (MiB, from /proc at exit)."""
    probe = (
        "import resource, runpy, sys; sys.argv = ['summarizer', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('summarizer', run_name='__main__')\n"
        "finally:\n    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
    )
    command = [sys.executable, "-c", probe, "history", "import", *map(str, folders), "--db", str(db)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=child_env(PYTHONPATH=str(ROOT)), cwd=ROOT)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"history import exited {done.returncode}: {done.stderr[-500:]}")
    return wall, int(done.stderr.strip().splitlines()[-1]) / 1024


def query_times(db: Path, last_day: str) -> list[tuple[str, float, int]]:
    queries = {
        'claims --actor "Kirby"': lambda c: history.claims_by_actor(c, "Kirby"),
        'search "killed or wounded"': lambda c: history.search(c, "killed or wounded"),
        'figure "North Korean killed or wounded"': lambda c: history.figure_history(
            c, "North Korean killed or wounded"
        ),
        "actors": lambda c: history.actors(c),
        f"actors --new-since {last_day}": lambda c: history.actors(c, last_day),
        "stories": lambda c: history.stories(c),
    }
    found = []
    with history.connect(db) as connection:
        for name, run in queries.items():
            times, rows = [], 0
            for _ in range(5):
                started = time.perf_counter()
                rows = len(run(connection))
                times.append((time.perf_counter() - started) * 1000)
            found.append((name, statistics.median(times), rows))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--docs", type=int, default=400)
    parser.add_argument("--claims", type=int, default=42)
    parser.add_argument("--write", type=Path, help="write the table between the bench:history markers of this file")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-history-"))
    try:
        briefs = strong_briefs(scratch)
        folders = make_days(scratch / "days", briefs, args.days, args.docs, args.claims)
        db = scratch / "history.db"
        wall, peak = timed_import(db, folders)
        again, _ = timed_import(db, folders)
        with history.connect(db) as connection:
            counts = {t: connection.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("briefs", "claims")}
        size = sum(p.stat().st_size for p in scratch.glob("history.db*")) / 2**20
        queries = query_times(db, folders[-1].name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rows = [
        (
            f"`history import` of {args.days} days x {args.docs} briefs ({counts['briefs']:,} briefs, "
            f"{counts['claims']:,} claims), a new process",
            f"{wall:.1f} s (target < {TARGET_IMPORT_S:.0f} s), peak RSS {peak:.0f} MiB; database {size:.0f} MiB",
        ),
        ("the same import again (every brief unchanged)", f"{again:.1f} s"),
        *(
            (f"query: {name}", f"{ms:.0f} ms median of 5 (target < {TARGET_QUERY_MS:.0f} ms), {n:,} rows")
            for name, ms, n in queries
        ),
    ]
    heading = (
        f"Measured by `bench/history.py --days {args.days} --docs {args.docs} --claims {args.claims}` at {stamp()}."
    )
    text = table(heading, rows)
    print(text)
    if args.write:
        write_between_markers(args.write, "history", text)
    ok = wall < TARGET_IMPORT_S and all(ms < TARGET_QUERY_MS for _, ms, _ in queries)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
