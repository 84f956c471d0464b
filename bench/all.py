"""`make bench`: one table of everything a user chooses this tool for.

    python bench/all.py [--runs 3]

Rows (medians over --runs where timed; the fake-server rows are single runs):
- `summarizer --help` start-up;
- CPU per document with replayed exchanges (no LLM), the 25 seeds, and the
  replayed daily run's wall time (``bench/replay.py``);
- concurrency efficiency on the loopback fake server, both answer shapes
  (one call per document; a repair per document), 400 documents, 16 at once,
  500 ms per answer, against the ideal, with client CPU per document
  (``bench/daily.py``);
- a naive baseline: one sequential Instructor call per document, no cache, no
  grounding (48 documents, to keep it short);
- an unchanged rerun of 5,000 documents, and the peak memory of 1,000;
- the digest of 5,000 strong-shaped briefs: synthesis requests within the
  context, time and peak memory (``bench/digest.py``);
- the embedded model's seed brief (time, tokens, memory), when llama-cpp-python
  is installed.
"""

from __future__ import annotations

import argparse
import logging
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
import replay as replay_bench  # noqa: E402
from local import machine, one_run  # noqa: E402

from tests.support.fake_server import SHAPES, FakeServer  # noqa: E402


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


def replay_rows(runs: int) -> list[tuple[str, str]]:
    spent = replay_bench.cpu_per_document()
    walls = replay_bench.cli_wall(runs)
    return [
        (
            f"CPU per document, replayed exchanges (no LLM), {len(spent)} seeds one at a time",
            f"median {median(spent):.1f} ms, worst {max(spent):.1f} ms (target: median <= 10 ms)",
        ),
        (
            "`summarizer daily seeds --replay fixtures/daily --force`, a new process",
            f"{median(walls):.2f} s (target < 2 s)",
        ),
    ]


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


def concurrency_rows() -> list[tuple[str, str]]:
    """One run per answer shape (each takes 15-30 s), then the naive baseline."""
    rows = []
    for shape in SHAPES:
        shape_rows, _ = daily_bench.shape_rows(400, 16, 0.5, shape)
        rows += shape_rows
    small, concurrency = 48, 16
    with FakeServer(0.25) as server, tempfile.TemporaryDirectory() as scratch:
        inbox = daily_bench.make_inbox(Path(scratch) / "inbox", small)
        ours = daily_bench.daily_once(inbox, Path(scratch) / "out", server.base_url, concurrency)["total_s"]
        naive = naive_baseline(server.base_url, small)
    rows.append(
        (
            f"naive baseline: {small} docs, one sequential Instructor call each, no cache, 250 ms per answer",
            f"{naive:.2f} s vs summarizer daily {ours:.2f} s ({naive / ours:.1f}x slower), which also grounds "
            "every item and writes briefs, manifest and digest",
        )
    )
    rows.append(daily_bench.rerun_row(5000, concurrency)[0])
    rows.append(daily_bench.memory_row(1000, concurrency)[0])
    return rows


def digest_row() -> tuple[str, str]:
    """The digest of 5,000 strong-shaped briefs (``bench/digest.py``, its own child process)."""
    command = [sys.executable, str(ROOT / "bench" / "digest.py"), "--shape", "strong"]
    result = subprocess.run(command, capture_output=True, text=True)
    line = (result.stdout.strip().splitlines() or [result.stderr.strip()[-300:]])[-1]
    return ("the digest of 5,000 strong-shaped briefs (synthesis within the context)", line.split(": ", 1)[-1])


def embedded(runs: int) -> list[tuple[str, str]]:
    """The seed brief on the embedded profile: the default (guided, rules, no model) and --method extract."""
    seed = ROOT / "seeds" / "000_09fe83c6082f21eb.txt"
    guided = [one_run(seed, None) for _ in range(runs)]
    rows = [
        (
            "embedded default seed brief (`summarizer brief` process, guided: no model call)",
            f"{median([r['wall_s'] for r in guided]):.2f} s median (target <= 20 s), "
            f"{guided[0]['claims']:.0f} claims, 0 tokens",
        )
    ]
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return [*rows, ("embedded model, --method extract", "skipped: llama-cpp-python not installed")]
    extract = [one_run(seed, "extract") for _ in range(runs)]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    tokens = extract[0]
    rows.append(
        (
            "embedded model seed brief, --method extract (server start included)",
            f"{median([r['wall_s'] for r in extract]):.1f} s median, {tokens['calls']:.0f} calls, "
            f"{tokens['prompt_tokens']:.0f} prompt + {tokens['completion_tokens']:.0f} completion tokens, "
            f"{tokens['claims']:.0f} claims, server peak RSS {peak:.0f} MiB",
        )
    )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("instructor").setLevel(logging.CRITICAL)
    rows = [("`summarizer --help` start-up", startup(args.runs)), *replay_rows(args.runs)]
    rows += concurrency_rows()
    rows.append(digest_row())
    rows += embedded(args.runs)
    print(f"machine: {machine()}; medians over {args.runs} runs\n")
    print("| measure | result |\n|---|---|")
    for name, result in rows:
        print(f"| {name} | {result} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
