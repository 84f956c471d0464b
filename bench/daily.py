"""Benchmark: the daily run against a loopback fake OpenAI-compatible server.

    python bench/daily.py [--docs 400] [--concurrency 16] [--latency 0.5] [--shapes one-call,repairs]
                          [--rerun-docs 5000] [--memory-docs 1000]

1. For each answer shape of the fake server (``tests/support/fake_server.py``):
   ``one-call`` (the answer grounds at once: one request per document) and
   ``repairs`` (a minimal answer whose first claim misquotes the document, so
   every document needs one targeted repair: two requests each), 400 generated
   documents at --concurrency 16, every answer after 500 ms. Reported: the
   briefing phase (first request to last brief written; the one-off import of
   the LLM stack and the digest's synthesis call are reported apart) against
   the ideal ceil(400/16) x requests-per-document x 0.5 s (targets: one call
   <= 1.03, repairs <= 1.05), and the client's CPU milliseconds per document
   (the fake server runs in its own process and is not counted).
2. The same folder again: LLM calls made by an unchanged rerun (target 0).
3. 5,000 documents briefed once (no latency), then ``summarizer daily`` again
   over the unchanged folder as a user runs it: wall time (target < 3 s).
4. 1,000 documents in a child process: its peak resident memory (target <= 200 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stamp import child_env, history_db  # noqa: E402
from summarizer import history  # noqa: E402
from summarizer.daily import DailyOptions, Progress, run_daily  # noqa: E402
from summarizer.settings import build_settings  # noqa: E402
from tests.support.fake_server import SHAPES, FakeServer, document  # noqa: E402

TARGETS = {"one-call": 1.03, "repairs": 1.05}
CALLS_PER_DOCUMENT = {"one-call": 1, "repairs": 2}


def make_inbox(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        (folder / f"doc-{number:04d}.txt").write_text(document(number), encoding="utf-8")
    return folder


def daily_once(inbox: Path, out: Path, base_url: str, concurrency: int) -> dict[str, float]:
    settings = build_settings(provider="openai", base_url=base_url, environ={"OPENAI_API_KEY": "bench"})
    finished: list[float] = []
    sending: list[tuple[float, float]] = []
    started = time.perf_counter()
    progress = Progress(
        sending=lambda: sending.append((time.perf_counter(), time.process_time())),
        done=lambda entry: finished.append(time.perf_counter()),
    )
    manifest, _ = asyncio.run(
        run_daily([str(inbox)], settings, DailyOptions(out=out, concurrency=concurrency), progress)
    )
    total = time.perf_counter() - started
    ok = sum(e.status == "ok" for e in manifest.entries)
    # Briefing phase: from the first request (client open, imports done) to the last brief written.
    briefing = (max(finished) - sending[0][0]) if finished and sending else 0.0
    cpu = (time.process_time() - sending[0][1]) if sending else 0.0  # briefing and the digest call
    return {
        "total_s": total,
        "briefing_s": briefing,
        "cpu_ms_per_doc": cpu * 1000 / max(len(manifest.entries), 1),
        "ok": ok,
        "unchanged": sum(e.status == "skipped-unchanged" for e in manifest.entries),
    }


Row = tuple[str, str]  # (measure, result) of the benchmark table


def shape_rows(docs: int, concurrency: int, latency: float, shape: str) -> tuple[list[Row], bool]:
    ideal = math.ceil(docs / concurrency) * CALLS_PER_DOCUMENT[shape] * latency
    with tempfile.TemporaryDirectory() as scratch, FakeServer(latency, shape=shape) as server:
        inbox = make_inbox(Path(scratch) / "inbox", docs)
        first = daily_once(inbox, Path(scratch) / "out", server.base_url, concurrency)
        calls_first = server.requests
        again = daily_once(inbox, Path(scratch) / "out", server.base_url, concurrency)
        calls_again = server.requests - calls_first
    ratio = first["briefing_s"] / ideal
    rows = [
        (
            f"{shape}: {docs} documents, concurrency {concurrency}, {latency * 1000:.0f} ms per answer",
            f"briefing {first['briefing_s']:.2f} s vs ideal {ideal:.2f} s: ratio {ratio:.3f} "
            f"(target <= {TARGETS[shape]}); client CPU {first['cpu_ms_per_doc']:.1f} ms per document; "
            f"{first['ok']:.0f} ok, {calls_first} LLM calls (digest call included)",
        ),
        (
            f"{shape}: unchanged rerun",
            f"{again['unchanged']:.0f} skipped-unchanged, {calls_again} LLM calls (target 0), {again['total_s']:.2f} s",
        ),
    ]
    return rows, ratio <= TARGETS[shape] and calls_again == 0


def rerun_row(count: int, concurrency: int) -> tuple[Row, bool]:
    """``count`` documents briefed once without latency, then the CLI over the unchanged folder."""
    with tempfile.TemporaryDirectory() as scratch, FakeServer(0.0) as server:
        inbox = make_inbox(Path(scratch) / "inbox", count)
        out = Path(scratch) / "out"
        first = daily_once(inbox, out, server.base_url, concurrency)
        with history.connect(Path(history_db())) as db:  # the first run as the CLI makes it adds its day
            history.import_day(db, out)
        script = shutil.which("summarizer")
        command = [script] if script else [sys.executable, "-m", "summarizer"]
        command += ["daily", str(inbox), "--out", str(out), "--base-url", server.base_url, "-q"]
        before = server.requests
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=child_env(OPENAI_API_KEY="bench"))
        wall = time.perf_counter() - started
        calls = server.requests - before
    row = (
        f"unchanged rerun of {count} documents (`summarizer daily`, process start included)",
        f"{wall:.2f} s (target < 3 s), {calls} LLM calls; the first run took {first['total_s']:.1f} s",
    )
    return row, wall < 3 and calls == 0


def peak_rss_mib() -> float:
    """This process's peak resident memory since it started. /proc's VmHWM belongs to the process's
    own memory map; getrusage's ru_maxrss also keeps the parent's peak from before exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_child(count: int, concurrency: int, latency: float) -> None:
    with tempfile.TemporaryDirectory() as scratch, FakeServer(latency) as server:
        inbox = make_inbox(Path(scratch) / "inbox", count)
        result = daily_once(inbox, Path(scratch) / "out", server.base_url, concurrency)
        peak_mib = peak_rss_mib()
        print(json.dumps({"peak_mib": peak_mib, "ok": result["ok"], "total_s": result["total_s"]}))


def memory_row(count: int, concurrency: int) -> tuple[Row, bool]:
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            "--memory-child",
            str(count),
            "--concurrency",
            str(concurrency),
            "--latency",
            "0.25",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    memory = json.loads(child.stdout.strip().splitlines()[-1])
    row = (
        f"daily run of {count} documents, 250 ms per answer",
        f"peak RSS {memory['peak_mib']:.0f} MiB (target <= 200 MB), {memory['ok']} ok in {memory['total_s']:.1f} s",
    )
    return row, memory["peak_mib"] * 1.048576 <= 200


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated: " + ", ".join(SHAPES))
    parser.add_argument("--rerun-docs", type=int, default=5000, help="0 skips the large unchanged rerun")
    parser.add_argument("--memory-docs", type=int, default=1000, help="0 skips the memory run")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.concurrency, args.latency)
        return 0
    ok = True
    print("| measure | result |\n|---|---|")
    for shape in args.shapes.split(","):
        rows, passed = shape_rows(args.docs, args.concurrency, args.latency, shape)
        ok &= passed
        for name, result in rows:
            print(f"| {name} | {result} |", flush=True)
    for count, measure in ((args.rerun_docs, rerun_row), (args.memory_docs, memory_row)):
        if count:
            (name, result), passed = measure(count, args.concurrency)
            ok &= passed
            print(f"| {name} | {result} |", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
