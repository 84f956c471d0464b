"""Benchmark: the seed brief on the embedded model, server start and re-asks included.

    python bench/local.py [--runs 3] [--document PATH]

Prints one Markdown table row per run and the median: wall seconds (from
starting the llama.cpp server to the finished brief), LLM calls, prompt and
completion tokens, peak resident memory of the server and of this process.
Target (issue "Embedded local model"): at most 20 s wall on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer.session import brief_inputs  # noqa: E402
from summarizer.settings import build_settings  # noqa: E402


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def one_run(document: Path) -> dict[str, float]:
    settings = build_settings(provider="local", environ={})
    started = time.perf_counter()
    ready: list[float] = []

    async def first_outcome() -> Any:
        async for outcome in brief_inputs(
            [str(document)], settings, on_start=lambda source, running: ready.append(time.perf_counter())
        ):
            return outcome

    outcome = asyncio.run(first_outcome())
    wall = time.perf_counter() - started
    if outcome.brief is None:
        raise SystemExit(f"the brief failed: {outcome.error}")
    run = outcome.brief.run
    return {
        "wall_s": wall,
        "start_s": ready[0] - started,
        "calls": run.attempts,
        "prompt_tokens": run.usage.prompt_tokens,
        "completion_tokens": run.usage.completion_tokens,
        "claims": len(outcome.brief.claims),
        "rejected": len(outcome.brief.rejected),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--document", type=Path, default=ROOT / "seeds" / "000_09fe83c6082f21eb.txt")
    args = parser.parse_args()
    logging.getLogger("instructor").setLevel(logging.CRITICAL)  # re-asks are counted in the table
    print(f"machine: {machine()}")
    print(
        "| run | wall s | of which server start s | LLM calls | prompt tokens | completion tokens | claims kept "
        "| items rejected |"
    )
    print("|---|---|---|---|---|---|---|---|")
    results = []
    for number in range(1, args.runs + 1):
        result = one_run(args.document)
        results.append(result)
        print(
            f"| {number} | {result['wall_s']:.1f} | {result['start_s']:.1f} | {result['calls']} | "
            f"{result['prompt_tokens']} | {result['completion_tokens']} | {result['claims']} | {result['rejected']} |",
            flush=True,
        )
    median = statistics.median(r["wall_s"] for r in results)
    server_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    self_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nmedian wall: {median:.1f} s (target <= 20 s); peak RSS: server {server_mib:.0f} MiB, "
        f"summarizer {self_mib:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
