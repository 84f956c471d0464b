"""Benchmark: briefing long documents in parts, the LLM replaced by an in-process fake.

    python bench/long.py [--words 10000 50000 200000]

For each size, a document built by repeating the Wikinews seeds is briefed
with the embedded model's context (8,192 tokens): chunking, one (fake)
extraction per part, grounding with global offsets, merging, the summary call.
Prints wall time, parts, time per 10k words and peak RSS (each size in its own
process); growth should be roughly linear.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer.documents import from_text  # noqa: E402
from summarizer.grounding import sentences  # noqa: E402
from summarizer.models import Usage  # noqa: E402
from summarizer.pipeline import brief_document  # noqa: E402
from summarizer.settings import build_settings  # noqa: E402
from summarizer.structured import CallStats, StructuredLLM  # noqa: E402


class PartFake(StructuredLLM):
    """Answers each part with a claim on its first full sentence, as a grounded model would."""

    async def extract(
        self, response_model: Any, prompt: Any, *, reasks: int, context: Any = None, max_tokens: int | None = None
    ) -> tuple[Any, CallStats]:
        model = response_model
        stats = CallStats(usage=Usage(prompt_tokens=1000, completion_tokens=100, total_tokens=1100), attempts=1)
        if model.__name__ == "Summary":
            return model(summary="A long document."), stats
        text = re.search(r"<document>\n(.*)\n</document>", prompt.user, re.S).group(1)
        first = next(text[a:b] for a, b in sentences(text) if len(text[a:b].split()) >= 4)
        middle = [text[a:b] for a, b in sentences(text) if len(text[a:b].split()) >= 4][len(sentences(text)) // 2 :]
        claims = [
            {"claimant": "author", "statement": s[:60], "evidence": s[:200], "status": "reported"}
            for s in [first, *middle[:2]]
        ]
        answer = {
            "summary": "s",
            "actors": [{"name": first.split()[0], "kind": "other", "role": "r"}],
            "claims": claims,
            "uncertainties": [],
        }
        return model.model_validate(answer), stats


def make_document(words: int) -> str:
    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds" / "wikinews").glob("*.txt"))]
    parts, count = [], 0
    while count < words:
        for article in seeds:
            parts.append(article)
            count += len(article.split())
            if count >= words:
                break
    return "\n\n".join(parts)


def one_size(words: int) -> dict[str, float]:
    text = make_document(words)
    settings = build_settings(provider="local", base_url="http://127.0.0.1:9/v1", environ={})
    started = time.perf_counter()
    brief = asyncio.run(brief_document(from_text(text, "long.txt"), PartFake(), settings))
    wall = time.perf_counter() - started
    for claim in brief.claims:
        assert text[claim.evidence.start : claim.evidence.end] == claim.evidence.quote
    return {
        "words": len(text.split()),
        "parts": brief.document.parts,
        "claims": len(brief.claims),
        "wall_s": wall,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, nargs="+", default=[10_000, 50_000, 200_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_size(args.child)))
        return 0
    print("| words | parts | claims kept | wall s | s per 10k words | peak RSS MiB |\n|---|---|---|---|---|---|")
    for words in args.words:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(words)], capture_output=True, text=True, check=True
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"| {r['words']:,.0f} | {r['parts']:.0f} | {r['claims']:.0f} | {r['wall_s']:.2f} | "
            f"{r['wall_s'] / r['words'] * 10_000:.3f} | {r['peak_mib']:.0f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
