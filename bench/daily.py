"""Benchmark: the daily run against a loopback fake OpenAI-compatible server.

    python bench/daily.py [--docs 200] [--concurrency 16] [--latency 0.25] [--memory-docs 1000]

1. 200 generated documents, --concurrency 16, every answer after 250 ms:
   wall time of the briefing phase (first request to last brief written; the
   one-off import of the LLM stack, ~1 s, and the digest's synthesis call are
   reported apart) against the ideal ceil(200/16) x 0.25 s (target ratio <= 1.15).
2. The same folder again: LLM calls made by an unchanged rerun (target 0).
3. 1,000 documents in a child process: its peak resident memory (target <= 200 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fake_server import FakeServer, document  # noqa: E402

from summarizer.daily import DailyOptions, Progress, run_daily  # noqa: E402
from summarizer.settings import build_settings  # noqa: E402


def make_inbox(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        (folder / f"doc-{number:04d}.txt").write_text(document(number), encoding="utf-8")
    return folder


def daily_once(inbox: Path, out: Path, base_url: str, concurrency: int) -> dict[str, float]:
    settings = build_settings(provider="openai", base_url=base_url, environ={"OPENAI_API_KEY": "bench"})
    finished: list[float] = []
    sending: list[float] = []
    started = time.perf_counter()
    progress = Progress(
        sending=lambda: sending.append(time.perf_counter()), done=lambda entry: finished.append(time.perf_counter())
    )
    manifest, _ = asyncio.run(
        run_daily([str(inbox)], settings, DailyOptions(out=out, concurrency=concurrency), progress)
    )
    total = time.perf_counter() - started
    ok = sum(e.status == "ok" for e in manifest.entries)
    # Briefing phase: from the first request (client open, imports done) to the last brief written.
    briefing = (max(finished) - sending[0]) if finished and sending else 0.0
    return {
        "total_s": total,
        "briefing_s": briefing,
        "ok": ok,
        "unchanged": sum(e.status == "skipped-unchanged" for e in manifest.entries),
    }


def memory_child(count: int, concurrency: int, latency: float) -> None:
    with tempfile.TemporaryDirectory() as scratch, FakeServer(latency) as server:
        inbox = make_inbox(Path(scratch) / "inbox", count)
        result = daily_once(inbox, Path(scratch) / "out", server.base_url, concurrency)
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"peak_mib": peak_mib, "ok": result["ok"], "total_s": result["total_s"]}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.25)
    parser.add_argument("--memory-docs", type=int, default=1000)
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.concurrency, args.latency)
        return 0

    ideal = math.ceil(args.docs / args.concurrency) * args.latency
    with tempfile.TemporaryDirectory() as scratch, FakeServer(args.latency) as server:
        inbox = make_inbox(Path(scratch) / "inbox", args.docs)
        first = daily_once(inbox, Path(scratch) / "out", server.base_url, args.concurrency)
        calls_first = server.requests
        again = daily_once(inbox, Path(scratch) / "out", server.base_url, args.concurrency)
        calls_again = server.requests - calls_first
    ratio = first["briefing_s"] / ideal
    print(
        f"| {args.docs} documents, concurrency {args.concurrency}, {args.latency * 1000:.0f} ms per answer | "
        f"briefing {first['briefing_s']:.2f} s vs ideal {ideal:.2f} s: ratio {ratio:.3f} (target <= 1.15); "
        f"whole run with the digest call {first['total_s']:.2f} s; {first['ok']:.0f} ok, {calls_first} LLM calls |"
    )
    print(
        f"| unchanged rerun | {again['unchanged']:.0f} skipped-unchanged, {calls_again} LLM calls (target 0), "
        f"{again['total_s']:.2f} s |"
    )
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            "--memory-child",
            str(args.memory_docs),
            "--concurrency",
            str(args.concurrency),
            "--latency",
            str(args.latency),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    memory = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"| {args.memory_docs} documents | peak RSS {memory['peak_mib']:.0f} MiB (target <= 200 MB), "
        f"{memory['ok']} ok in {memory['total_s']:.1f} s |"
    )
    return 0 if ratio <= 1.15 and calls_again == 0 and memory["peak_mib"] * 1.048576 <= 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
