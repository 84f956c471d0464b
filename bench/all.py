"""`make bench`: one table of everything a user chooses this tool for.

    python bench/all.py [--runs 3]

Rows (medians over --runs where timed):
- `summarizer --help` start-up;
- per-document overhead with replayed exchanges (no LLM), the 25 seeds;
- concurrency efficiency on the loopback fake server (200 documents, 16 at once,
  250 ms per answer) against the ideal;
- the same documents with a naive baseline: one sequential Instructor call per
  document, no cache, no grounding (measured on 48 documents to keep it short);
- an unchanged rerun (LLM calls made);
- the embedded model's seed brief (time, tokens, memory), when llama-cpp-python
  is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import daily as daily_bench  # noqa: E402
from fake_server import FakeServer  # noqa: E402
from local import machine, one_run  # noqa: E402

from summarizer.daily import DailyOptions, run_daily  # noqa: E402
from summarizer.settings import build_settings  # noqa: E402


def median(values: list[float]) -> float:
    return statistics.median(values)


def startup(runs: int) -> str:
    script = shutil.which("summarizer")
    command = [script, "--help"] if script else [sys.executable, "-m", "summarizer", "--help"]
    times = []
    for _ in range(max(runs, 5)):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return f"{median(times):.3f} s (target < 0.3 s)"


def replay_overhead(runs: int) -> str:
    settings = build_settings(provider="replay", replay_dir=ROOT / "fixtures" / "daily", environ={})
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as scratch:
            started = time.perf_counter()
            manifest, _ = asyncio.run(
                run_daily([str(ROOT / "seeds")], settings, DailyOptions(out=Path(scratch), concurrency=4))
            )
            times.append(time.perf_counter() - started)
    count = len(manifest.entries)
    return f"{median(times) / count * 1000:.0f} ms per document ({count} seeds, whole run {median(times):.2f} s)"


def naive_baseline(base_url: str, count: int) -> float:
    """One sequential Instructor call per document: no concurrency, no cache, no grounding."""
    import instructor
    import openai

    from summarizer.models import Extraction
    from summarizer.prompts import extraction_prompt
    from summarizer.settings import REMOTE_LIMITS

    client = instructor.from_openai(openai.OpenAI(base_url=base_url, api_key="bench"), mode=instructor.Mode.TOOLS)
    started = time.perf_counter()
    for number in range(count):
        client.chat.completions.create(
            model="bench",
            response_model=Extraction,
            max_retries=1,
            messages=extraction_prompt(daily_bench.document(number), REMOTE_LIMITS).messages(),
        )  # type: ignore[arg-type]
    return time.perf_counter() - started


def concurrency_rows(runs: int) -> list[tuple[str, str]]:
    docs, concurrency, latency = 200, 16, 0.25
    ideal = math.ceil(docs / concurrency) * latency
    ratios, reruns, calls_again = [], [], []
    with FakeServer(latency) as server:
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as scratch:
                inbox = daily_bench.make_inbox(Path(scratch) / "inbox", docs)
                first = daily_bench.daily_once(inbox, Path(scratch) / "out", server.base_url, concurrency)
                before = server.requests
                again = daily_bench.daily_once(inbox, Path(scratch) / "out", server.base_url, concurrency)
                ratios.append(first["briefing_s"] / ideal)
                reruns.append(again["total_s"])
                calls_again.append(server.requests - before)
        small = 48
        with tempfile.TemporaryDirectory() as scratch:
            inbox = daily_bench.make_inbox(Path(scratch) / "inbox", small)
            ours = daily_bench.daily_once(inbox, Path(scratch) / "out", server.base_url, concurrency)["total_s"]
        naive = naive_baseline(server.base_url, small)
    return [
        (
            f"concurrency efficiency: {docs} docs, {concurrency} at once, {latency * 1000:.0f} ms per answer",
            f"ratio {median(ratios):.3f} to the ideal {ideal:.2f} s (target <= 1.15)",
        ),
        (
            "unchanged rerun of those documents",
            f"{max(calls_again)} LLM calls, {median(reruns):.2f} s (target 0 calls)",
        ),
        (
            f"naive baseline: {small} docs, one sequential Instructor call each, no cache",
            f"{naive:.2f} s vs summarizer daily {ours:.2f} s ({naive / ours:.1f}x slower), which also grounds "
            "every item and writes briefs, manifest and digest",
        ),
    ]


def embedded(runs: int) -> tuple[str, str]:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return ("embedded model seed brief", "skipped: llama-cpp-python not installed (make bench installs it)")
    results = [one_run(ROOT / "seeds" / "000_09fe83c6082f21eb.txt") for _ in range(runs)]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    wall = median([r["wall_s"] for r in results])
    tokens = results[0]
    return (
        "embedded model seed brief (server start included)",
        f"{wall:.1f} s median (target <= 20 s), {tokens['calls']:.0f} calls, {tokens['prompt_tokens']:.0f} prompt + "
        f"{tokens['completion_tokens']:.0f} completion tokens, server peak RSS {peak:.0f} MiB",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("instructor").setLevel(logging.CRITICAL)
    rows = [
        ("`summarizer --help` start-up", startup(args.runs)),
        ("per-document overhead, replayed exchanges (no LLM)", replay_overhead(args.runs)),
    ]
    rows += concurrency_rows(args.runs)
    rows.append(embedded(args.runs))
    print(f"machine: {machine()}; medians over {args.runs} runs\n")
    print("| measure | result |\n|---|---|")
    for name, result in rows:
        print(f"| {name} | {result} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
