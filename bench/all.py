"""`make bench`: one table of everything a user chooses this tool for.

    python bench/all.py [--runs 3] [--write docs/benchmarks.md]

With --write, the table replaces the one between the ``bench:all`` markers of
that file, stamped with the commit it was measured at, the date and the
machine, so every row of the table comes from one run of one commit.

Rows (medians over --runs where timed; the fake-server rows are single runs):
- `summarizer --help` start-up;
- CPU per document with replayed exchanges (no LLM), the 25 seeds, and the
  replayed daily run's wall time (``bench/replay.py``);
- concurrency efficiency on the loopback fake server, both answer shapes
  (one call per document; a repair per document), 400 documents, 16 at once,
  500 ms per answer, against the ideal, with client CPU per document
  (``bench/daily.py``);
- the floor at the same concurrency: bare async HTTP requests of the same
  size against the same fake server (what the fake server and the HTTP stack
  cost, not the program);
- two plain Instructor baselines over the same 48 documents, 250 ms per answer,
  no cache, no grounding: one call after another, and 16 at once (the
  concurrency `summarizer daily` uses), so the comparison with the program is
  not concurrency against none;
- the default path a user meets first: `summarizer daily seeds/` with no key
  and no model (the spaCy parse, guided extraction, the digest by story);
- an unchanged rerun of 5,000 documents, and the peak memory of 1,000;
- the digest of 5,000 strong-shaped briefs: synthesis requests within the
  context, time and peak memory (``bench/digest.py``);
- (long documents have their own table: ``bench/long.py``, which ``make bench``
  runs next;)
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
import replay as replay_bench  # noqa: E402
from local import one_run  # noqa: E402

from bench.stamp import stamp, table, user_env, write_between_markers  # noqa: E402
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
            f"CPU per document, a capable model's answers replayed (fixtures/strong), {len(spent)} seeds one at a time",
            f"median {median(spent):.1f} ms, worst {max(spent):.1f} ms (target: median <= 10 ms)",
        ),
        (
            "`summarizer daily seeds --replay fixtures/strong --model gpt-4o-mini --force`, a new process",
            f"{median(walls):.2f} s (target < 2 s)",
        ),
    ]


def _requests(count: int) -> list[list[dict[str, str]]]:
    from summarizer.prompts import extraction_prompt
    from summarizer.settings import REMOTE_LIMITS

    return [extraction_prompt(daily_bench.document(n), REMOTE_LIMITS).messages() for n in range(count)]


def sequential_instructor(base_url: str, count: int) -> float:
    """One Instructor call after another: no concurrency, no cache, no grounding."""
    import instructor
    import openai

    from summarizer.models import Extraction

    client = instructor.from_openai(openai.OpenAI(base_url=base_url, api_key="bench"), mode=instructor.Mode.TOOLS)
    requests = _requests(count)
    started = time.perf_counter()
    for messages in requests:
        client.chat.completions.create(model="bench", response_model=Extraction, max_retries=1, messages=messages)  # type: ignore[arg-type]
    return time.perf_counter() - started


def concurrent_instructor(base_url: str, count: int, concurrency: int) -> float:
    """The same Instructor calls, ``concurrency`` at once on one event loop: no cache, no grounding."""
    import instructor
    import openai

    from summarizer.models import Extraction

    async def run() -> float:
        async with openai.AsyncOpenAI(base_url=base_url, api_key="bench") as raw:
            client = instructor.from_openai(raw, mode=instructor.Mode.TOOLS)
            gate = asyncio.Semaphore(concurrency)
            requests = _requests(count)

            async def one(messages: list[dict[str, str]]) -> None:
                async with gate:
                    await client.chat.completions.create(
                        model="bench", response_model=Extraction, max_retries=1, messages=messages
                    )  # type: ignore[arg-type]

            started = time.perf_counter()
            await asyncio.gather(*(one(m) for m in requests))
            return time.perf_counter() - started

    return asyncio.run(run())


def http_floor(base_url: str, count: int, concurrency: int) -> float:
    """Bare async HTTP posts of the same requests (no SDK, no Instructor, no program): the fake server's floor."""
    import httpx

    from summarizer.models import Extraction

    tool = {"type": "function", "function": {"name": "Extraction", "parameters": Extraction.model_json_schema()}}

    async def run() -> float:
        gate = asyncio.Semaphore(concurrency)
        bodies = [{"model": "bench", "messages": m, "tools": [tool]} for m in _requests(count)]
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:

            async def one(body: dict[str, object]) -> None:
                async with gate:
                    (await client.post("/chat/completions", json=body)).raise_for_status()

            started = time.perf_counter()
            await asyncio.gather(*(one(b) for b in bodies))
            return time.perf_counter() - started

    return asyncio.run(run())


def concurrency_rows() -> list[tuple[str, str]]:
    """One run per answer shape (each takes 15-30 s), the floor, then the plain Instructor baselines."""
    rows = []
    docs, concurrency, latency = 400, 16, 0.5
    for shape in SHAPES:
        shape_rows, _ = daily_bench.shape_rows(docs, concurrency, latency, shape)
        rows += shape_rows
    ideal = math.ceil(docs / concurrency) * latency
    with FakeServer(latency) as server:
        floor = http_floor(server.base_url, docs, concurrency)
    rows.append(
        (
            f"the floor: bare async HTTP posts of the same {docs} requests, {concurrency} at once, same fake server",
            f"{floor:.2f} s vs ideal {ideal:.2f} s: ratio {floor / ideal:.3f} (the fake server and the HTTP stack, "
            "not the program)",
        )
    )
    small = 48
    with FakeServer(0.25) as server, tempfile.TemporaryDirectory() as scratch:
        inbox = daily_bench.make_inbox(Path(scratch) / "inbox", small)
        ours = daily_bench.daily_once(inbox, Path(scratch) / "out", server.base_url, concurrency)["total_s"]
        sequential = sequential_instructor(server.base_url, small)
        together = concurrent_instructor(server.base_url, small, concurrency)
    rows.append(
        (
            f"plain Instructor, {small} docs, 250 ms per answer, no cache, no grounding: one call after another; "
            f"{concurrency} at once",
            f"{sequential:.2f} s; {together:.2f} s. `summarizer daily` over the same {small} docs at "
            f"{concurrency} at once: {ours:.2f} s, which also grounds every item and writes briefs, manifest "
            f"and digest ({together / ours:.2f}x the concurrent baseline's speed; the sequential one's "
            f"{sequential / ours:.1f}x is mostly concurrency)",
        )
    )
    rows.append(daily_bench.rerun_row(5000, concurrency)[0])
    rows.append(daily_bench.memory_row(1000, concurrency)[0])
    return rows


def default_daily(runs: int) -> tuple[str, str]:
    """`summarizer daily seeds/` as a new user runs it: no key, no model, the spaCy parse."""
    script = shutil.which("summarizer")
    base = [script] if script else [sys.executable, "-m", "summarizer"]
    env = user_env()
    walls = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as scratch:
            started = time.perf_counter()
            subprocess.run(
                [*base, "daily", str(ROOT / "seeds"), "--out", str(Path(scratch) / "day")],
                check=True,
                capture_output=True,
                env=env,
            )
            walls.append(time.perf_counter() - started)
    return (
        "`summarizer daily seeds/ --out DAY`, no key and no model (the default), a new process: 25 seeds "
        "parsed by spaCy, guided extraction, the digest by story",
        f"{median(walls):.2f} s median ({min(walls):.2f}-{max(walls):.2f} s)",
    )


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
    parser.add_argument("--write", type=Path, help="write the table between the bench:all markers of this file")
    args = parser.parse_args()
    logging.getLogger("instructor").setLevel(logging.CRITICAL)
    rows = [("`summarizer --help` start-up", startup(args.runs)), default_daily(args.runs), *replay_rows(args.runs)]
    rows += embedded(args.runs)
    rows += concurrency_rows()
    rows.append(digest_row())
    heading = (
        f"Measured by `make bench` (`bench/all.py --runs {args.runs}`) at {stamp()}; medians over {args.runs} "
        "runs where timed, the fake-server rows single runs."
    )
    text = table(heading, rows)
    print(text)
    if args.write:
        write_between_markers(args.write, "all", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
