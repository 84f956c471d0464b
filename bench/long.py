"""Benchmark: how time grows with the document — the brief, the HTML page, check and review.

    python bench/long.py [--words 10000 50000 200000] [--dense-kb 250 1000] [--write docs/benchmarks.md]

1. News: the Wikinews seeds repeated to each --words size, briefed with no model
   (the default path: the spaCy parse, guided extraction, assembly), each size in
   its own process: wall seconds, of which spaCy's parse (``summarizer.nlp``),
   seconds per 10k words with and without the parse, parts, claims and peak RSS.
2. Dense: "Bob said it may be N." repeated to each --dense-kb size (one claim
   per sentence: the most items a text of that size can hold), as a user runs
   it, each a new process: ``summarizer brief``, ``render --html``, ``check``
   and ``review``.

For each series it prints the growth exponent k of time ∝ size^k (least squares
over the sizes, logs): 1 is linear. Issue targets: seconds per 10k words at
200k words within 1.5x of the figure at 10k words, k <= 1.15; the 1 MB dense
document briefed in <= 10 s, its page in <= 10 s, check and review in <= 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stamp import stamp, user_env, write_between_markers  # noqa: E402


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


def dense_document(kilobytes: int) -> str:
    """One attributed, hedged sentence after another, paragraphs of ten, to ``kilobytes`` KB of UTF-8."""
    sentences, size, number = [], 0, 0
    while size < kilobytes * 1000:
        sentence = f"Bob said it may be {number}." + ("\n\n" if number % 10 == 9 else " ")
        sentences.append(sentence)
        size += len(sentence)
        number += 1
    return "".join(sentences).strip() + "\n"


def one_size(words: int) -> dict[str, float]:
    """Brief one news document of ``words`` words with no model, timing spaCy's share."""
    from summarizer import nlp
    from summarizer.documents import from_text
    from summarizer.pipeline import brief_document
    from summarizer.settings import build_settings
    from summarizer.structured import NoModel

    parse_s = [0.0]
    plain = nlp._parse

    def timed(text: str) -> nlp.Parsed:
        started = time.perf_counter()
        try:
            return plain(text)
        finally:
            parse_s[0] += time.perf_counter() - started

    nlp._parse = timed
    nlp._pipeline()  # the model's load is start-up, not growth
    text = make_document(words)
    settings = build_settings(environ={})
    started = time.perf_counter()
    brief = asyncio.run(brief_document(from_text(text, "long.txt"), NoModel(), settings))
    wall = time.perf_counter() - started
    for claim in brief.claims:
        assert text[claim.evidence.start : claim.evidence.end] == claim.evidence.quote
    return {
        "words": len(text.split()),
        "parts": brief.document.parts,
        "claims": len(brief.claims),
        "wall_s": wall,
        "parse_s": parse_s[0],
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def exponent(sizes: list[float], times: list[float]) -> float:
    """The least-squares slope of log(time) on log(size)."""
    xs, ys = [math.log(s) for s in sizes], [math.log(max(t, 1e-6)) for t in times]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / spread if spread else float("nan")


LINES: list[str] = []  # what this run printed, for --write


def say(line: str = "") -> None:
    print(line, flush=True)
    LINES.append(line)


def news(sizes: list[int]) -> list[dict[str, float]]:
    columns = ("words", "parts", "claims kept", "wall s", "of it spaCy s", "s per 10k words", "the same less spaCy")
    say("| " + " | ".join([*columns, "peak RSS MiB"]) + " |")
    say("|---" * (len(columns) + 1) + "|")
    rows = []
    for words in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(words)], capture_output=True, text=True, check=True
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        rows.append(r)
        per = r["wall_s"] / r["words"] * 10_000
        rest = (r["wall_s"] - r["parse_s"]) / r["words"] * 10_000
        say(
            f"| {r['words']:,.0f} | {r['parts']:.0f} | {r['claims']:.0f} | {r['wall_s']:.2f} | {r['parse_s']:.2f} | "
            f"{per:.3f} | {rest:.3f} | {r['peak_mib']:.0f} |"
        )
    if len(rows) > 1:
        words = [r["words"] for r in rows]
        k_all = exponent(words, [r["wall_s"] for r in rows])
        k_rest = exponent(words, [r["wall_s"] - r["parse_s"] for r in rows])
        first, last = rows[0], rows[-1]
        ratio = (last["wall_s"] / last["words"]) / (first["wall_s"] / first["words"])
        say()
        say(
            f"growth: k = {k_all:.2f} (k = {k_rest:.2f} less spaCy's parse); per-word time at the largest size "
            f"{ratio:.2f}x that at the smallest (target <= 1.5x, k <= 1.15)"
        )
    return rows


def _timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if done.returncode not in (0,):
        raise SystemExit(f"{' '.join(command[1:3])} exited {done.returncode}: {done.stderr.strip()[-400:]}")
    return wall


def dense(sizes: list[int]) -> list[dict[str, float]]:
    script = shutil.which("summarizer")
    base = [script] if script else [sys.executable, "-m", "summarizer"]
    env = user_env()
    say()
    say("| dense document | claims | `brief` s | `render --html` s | `check` s | `review` s |")
    say("|---|---|---|---|---|---|")
    rows = []
    for kilobytes in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-long-") as folder:
            source = Path(folder) / "dense.txt"
            source.write_text(dense_document(kilobytes), encoding="utf-8")
            brief = Path(folder) / "dense.json"
            r: dict[str, float] = {"kb": kilobytes}
            r["brief_s"] = _timed([*base, "brief", str(source), "--output", str(brief)], env)
            r["claims"] = len(json.loads(brief.read_text(encoding="utf-8"))["claims"])
            r["render_s"] = _timed([*base, "render", str(brief), "--html", str(Path(folder) / "dense.html")], env)
            r["check_s"] = _timed([*base, "check", str(brief)], env)
            r["review_s"] = _timed([*base, "review", str(brief)], env)
        rows.append(r)
        say(
            f"| {kilobytes:,} KB | {r['claims']:,.0f} | {r['brief_s']:.2f} | {r['render_s']:.2f} | "
            f"{r['check_s']:.2f} | {r['review_s']:.2f} |"
        )
    if len(rows) > 1:
        kb = [r["kb"] for r in rows]
        ks = {name: exponent(kb, [r[f"{name}_s"] for r in rows]) for name in ("brief", "render", "check", "review")}
        say()
        say("growth: " + ", ".join(f"{name} k = {k:.2f}" for name, k in ks.items()))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, nargs="*", default=[10_000, 50_000, 200_000])
    parser.add_argument("--dense-kb", type=int, nargs="*", default=[250, 1000])
    parser.add_argument("--write", type=Path, help="write the tables between the bench:long markers of this file")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_size(args.child)))
        return 0
    if args.words:
        news(args.words)
    if args.dense_kb:
        dense(args.dense_kb)
    if args.write:
        sizes = " ".join(map(str, args.words)) + " --dense-kb " + " ".join(map(str, args.dense_kb))
        heading = f"Measured by `bench/long.py --words {sizes}` at {stamp()}; one run."
        write_between_markers(args.write, "long", "\n".join([heading, "", *LINES]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
