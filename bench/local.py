"""Benchmark: the seed brief on the embedded profile, as ``make brief`` makes it.

    python bench/local.py [--runs 3] [--document PATH] [--method guided|extract]

Each run is ``summarizer brief DOCUMENT --provider local`` as a new process
(interpreter start, imports, reading, the brief, writing it). With the default
method (guided: the attributions by rule, no model call, no server) that is the
whole of what a user waits for; with ``--method extract`` the llama.cpp server is
started and the 135M model writes every item (server start and re-asks
included). Prints one Markdown table row per run and the median: wall seconds,
LLM calls, prompt and completion tokens, claims kept, items rejected, and the
peak resident memory of the processes. Target (issue "The embedded default"): the
seed brief in at most 20 s median on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stamp import machine  # noqa: E402
from summarizer.models import Brief  # noqa: E402


def one_run(document: Path, method: str | None) -> dict[str, float]:
    """One ``summarizer brief`` process: wall seconds and what its brief records."""
    with tempfile.TemporaryDirectory(prefix="bench-local-") as folder:
        out = Path(folder) / "brief.json"
        command = [*summarizer_command(), "brief", str(document), "--provider", "local", "-o", str(out), "-q"]
        command += ["--method", method] if method else []
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OPENAI_API_KEY": ""})
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"the brief failed (exit {done.returncode}): {done.stderr.strip()}")
        brief = Brief.model_validate_json(out.read_text(encoding="utf-8"))
    run = brief.run
    return {
        "wall_s": wall,
        "calls": run.attempts,
        "prompt_tokens": run.usage.prompt_tokens,
        "completion_tokens": run.usage.completion_tokens,
        "claims": len(brief.claims),
        "rejected": len(brief.rejected),
    }


def summarizer_command() -> list[str]:
    executable = Path(sys.executable).parent / "summarizer"
    return [str(executable)] if executable.is_file() else [sys.executable, "-m", "summarizer"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--document", type=Path, default=ROOT / "seeds" / "000_09fe83c6082f21eb.txt")
    parser.add_argument("--method", choices=["guided", "extract"], help="default: the embedded profile's (guided)")
    args = parser.parse_args()
    print(f"machine: {machine()}; method: {args.method or 'the embedded default (guided)'}")
    print("| run | wall s | LLM calls | prompt tokens | completion tokens | claims kept | items rejected |")
    print("|---|---|---|---|---|---|---|")
    results = []
    for number in range(1, args.runs + 1):
        result = one_run(args.document, args.method)
        results.append(result)
        print(
            f"| {number} | {result['wall_s']:.2f} | {result['calls']} | "
            f"{result['prompt_tokens']} | {result['completion_tokens']} | {result['claims']} | {result['rejected']} |",
            flush=True,
        )
    median = statistics.median(r["wall_s"] for r in results)
    children_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"\nmedian wall: {median:.2f} s (target <= 20 s); peak RSS of the largest process "
        f"(summarizer, or the llama.cpp server): {children_mib:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
