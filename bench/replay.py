"""Benchmark: the cost of the program itself around a capable model's answers, replayed from fixtures/strong.

    python bench/replay.py [--runs 5]

The strong fixtures hold answers of the size a careful strong model gives (every cap filled,
long verbatim quotes), so what is measured is the program's own work on them: requests,
Instructor's parsing, grounding with its repair hints, the brief, the digest.

1. ``summarizer daily seeds --replay fixtures/strong --model gpt-4o-mini --force`` as a user runs it
   (a new process: start-up, imports, 25 documents, digest): median wall time
   over --runs (target < 2 s).
2. CPU per document: the 25 seeds briefed one after another in this process
   (replayed exchanges, so every millisecond is the program's own: request
   building, Instructor's parsing, grounding with its repair hints, the brief),
   after one warm-up pass whose caches are then cleared, so one-off imports and
   schema building are not counted but grounding starts cold: median and worst
   CPU milliseconds per document (target: median <= 10 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stamp import user_env  # noqa: E402
from summarizer import cues, grounding  # noqa: E402
from summarizer.documents import read_document  # noqa: E402
from summarizer.llm import LLM  # noqa: E402
from summarizer.pipeline import brief_document  # noqa: E402
from summarizer.settings import build_settings  # noqa: E402

SEEDS = ROOT / "seeds"
FIXTURES = ROOT / "fixtures" / "strong"
MODEL = "gpt-4o-mini"  # the model the strong fixtures were recorded for (the requests name it)


def cli_wall(runs: int) -> list[float]:
    script = shutil.which("summarizer")
    command = [script] if script else [sys.executable, "-m", "summarizer"]
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            subprocess.run(
                [
                    *command,
                    "daily",
                    str(SEEDS),
                    "--out",
                    out,
                    "--replay",
                    str(FIXTURES),
                    "--model",
                    MODEL,
                    "--force",
                    "-q",
                ],
                check=True,
                capture_output=True,
                env=user_env(),
            )
            times.append(time.perf_counter() - started)
    return times


def clear_caches() -> None:
    for cached in (
        grounding.align,
        grounding.closest_sentence,
        grounding._normalize,
        grounding._sentence_table,
        grounding._sentences,
        cues._cue_sentences,
    ):
        cached.cache_clear()


async def one_pass(paths: list[Path]) -> list[float]:
    """CPU seconds of each document, briefed one at a time from the replayed exchanges."""
    settings = build_settings(provider="replay", replay_dir=FIXTURES, model=MODEL, environ={})
    llm = LLM(settings)
    spent = []
    try:
        for path in paths:
            document = read_document(str(path))
            started = time.process_time()
            await brief_document(document, llm, settings)
            spent.append(time.process_time() - started)
    finally:
        await llm.aclose()
    return spent


def cpu_per_document() -> list[float]:
    """Milliseconds of CPU per seed, after a warm-up pass (imports, schemas, templates) and cleared caches."""
    paths = sorted(SEEDS.glob("*.txt")) + sorted((SEEDS / "wikinews").glob("*.txt"))
    asyncio.run(one_pass(paths))
    clear_caches()
    return [s * 1000 for s in asyncio.run(one_pass(paths))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("instructor").setLevel(logging.CRITICAL)  # its re-ask log lines are not results
    spent = cpu_per_document()
    walls = cli_wall(args.runs)
    median_ms = statistics.median(spent)
    wall = statistics.median(walls)
    print("| measure | result |\n|---|---|")
    print(
        f"| CPU per document, replayed, {len(spent)} seeds one at a time | median {median_ms:.1f} ms, "
        f"worst {max(spent):.1f} ms, all {sum(spent):.0f} ms (target: median <= 10 ms) |"
    )
    print(
        "| `summarizer daily seeds --replay fixtures/strong --model gpt-4o-mini --force`, new process | "
        f"median {wall:.2f} s over "
        f"{len(walls)} runs, worst {max(walls):.2f} s (target < 2 s) |"
    )
    return 0 if median_ms <= 10 and wall < 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
