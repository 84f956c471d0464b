"""Benchmark: the digest of 5,000 briefs, its synthesis within the model's context.

    python bench/digest.py [--briefs 5000] [--shape strong|one-claim|both] [--latency 0.05] [--concurrency 8]

The briefs are the 25 strong reference briefs (``fixtures/strong``, replayed:
305 claims) copied to --briefs documents (``strong``: ~12 claims each, 61,000
claims in all), or each of their claims as a one-claim brief, copied likewise
(``one-claim``: the shape of the issue's 5,000 one-claim briefs). Copies share
their actors, so the groups of documents that share an actor are far larger
than one request: the planner must split them.

The synthesis runs through the real client against the loopback fake server
(``tests/support/fake_server.py``: each batch answered with a story of its first two
documents and a question on its first claim). Reported per shape, each in a
child process: the synthesis requests and the longest one (characters of its
messages and tool schema, and those characters / 3, the project's token
estimate, against the context, 128,000 tokens or --context, less the answer's 2,000), the
synthesis wall time, the time to assemble the digest (stories, comparisons,
Markdown, JSON), and the child's peak resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer.models import Brief  # noqa: E402
from tests.support.fake_server import FakeServer  # noqa: E402

CONTEXT = 128_000


def strong_briefs() -> list[Brief]:
    """The 25 strong reference briefs, replayed offline."""
    out = Path(tempfile.mkdtemp(prefix="digest-bench-"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "summarizer",
            "daily",
            str(ROOT / "seeds"),
            "--out",
            str(out),
            "-q",
            "--replay",
            str(ROOT / "fixtures" / "strong"),
            "--model",
            "gpt-4o-mini",
        ],
        check=True,
        cwd=ROOT,
    )
    return [Brief.model_validate_json(p.read_text(encoding="utf-8")) for p in sorted((out / "briefs").glob("*.json"))]


def copies(briefs: list[Brief], count: int, shape: str) -> list[Brief]:
    if shape == "one-claim":
        briefs = [
            brief.model_copy(update={"claims": [claim.model_copy(update={"id": "C1"})]})
            for brief in briefs
            for claim in brief.claims
        ]
    made = []
    for number in range(count):
        brief = briefs[number % len(briefs)]
        title = f"Copy {number // len(briefs) + 1}: {brief.document.title or brief.summary[:60]}"
        document = brief.document.model_copy(update={"id": f"{number:064x}", "title": title})
        made.append(brief.model_copy(update={"document": document}))
    return made


async def measure(count: int, shape: str, latency: float, concurrency: int, context: int) -> dict[str, float]:
    from summarizer.digest import Entry, build_digest, merge_actors, synthesise
    from summarizer.render import digest_markdown
    from summarizer.session import llm_session
    from summarizer.settings import build_settings

    briefs = copies(strong_briefs(), count, shape)
    entries = [Entry(f"d{n}", f"briefs/b{n}.json", brief) for n, brief in enumerate(briefs, 1)]
    with FakeServer(latency_s=latency) as server:
        settings = build_settings(
            provider="openai", base_url=server.base_url, environ={"OPENAI_API_KEY": "bench"}, context_tokens=context
        )
        async with llm_session(settings) as (llm, running, _):
            started = time.perf_counter()
            result = await synthesise(
                entries, merge_actors(entries), llm, reasks=1, context_tokens=running.context, concurrency=concurrency
            )
            synthesis_s = time.perf_counter() - started
        stats = server.stats()
    started = time.perf_counter()
    digest = build_digest(entries, [], synthesis=result.synthesis, usage=result.usage, calls=result.calls)
    markdown = digest_markdown(digest)
    json_text = digest.model_dump_json()
    assemble_s = time.perf_counter() - started
    assert result.error is None, result.error
    return {
        "briefs": count,
        "claims": sum(len(b.claims) for b in briefs),
        "requests": result.calls,
        "longest_chars": stats["synthesis_chars"],
        "longest_tokens": stats["synthesis_chars"] // 3,
        "budget_tokens": context - 2_000,
        "synthesis_s": round(synthesis_s, 2),
        "assemble_s": round(assemble_s, 2),
        "stories": len(digest.stories),
        "markdown_kb": len(markdown) // 1024,
        "json_kb": len(json_text) // 1024,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--briefs", type=int, default=5_000)
    parser.add_argument("--shape", choices=("strong", "one-claim", "both"), default="both")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--context", type=int, default=CONTEXT, help="the model's context in tokens")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(measure(args.briefs, args.shape, args.latency, args.concurrency, args.context))))
        return
    shapes = ("strong", "one-claim") if args.shape == "both" else (args.shape,)
    failed = False
    for shape in shapes:
        options = ["--briefs", str(args.briefs), "--shape", shape, "--latency", str(args.latency)]
        options += ["--concurrency", str(args.concurrency), "--context", str(args.context)]
        command = [sys.executable, __file__, "--child", *options]
        child = subprocess.run(command, check=True, capture_output=True, text=True)
        row = json.loads(child.stdout.strip().splitlines()[-1])
        within = row["longest_tokens"] <= row["budget_tokens"]
        failed |= not within
        print(
            f"{shape}: {row['briefs']} briefs, {row['claims']} claims -> {row['requests']} synthesis requests, "
            f"longest {row['longest_chars']:,} chars (~{row['longest_tokens']:,} tokens; budget "
            f"{row['budget_tokens']:,}: {'within' if within else 'OVER'}); synthesis {row['synthesis_s']} s, "
            f"digest assembled in {row['assemble_s']} s ({row['stories']} stories, Markdown {row['markdown_kb']} KiB, "
            f"JSON {row['json_kb']} KiB); peak RSS {row['peak_rss_mib']} MiB",
            flush=True,
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
