"""Benchmark: a day of 10,000 documents through the (fake) OpenAI Batch API.

    python bench/batch.py [--docs 10000] [--shape one-call] [--write docs/benchmarks.md]

1. Submit: ``summarizer daily INBOX --out DAY --batch`` as a new process: every document read, its
   request made by the online path and captured, the batch input file written, uploaded, the batch
   created (target < 60 s).
2. The fake Batch API (``tests/support/fake_batch.py``, its own process) answers the whole batch; this is polled
   here and reported apart (the Batch API's time, not ours).
3. Collect: ``summarizer daily DAY --collect`` as a new process: output downloaded, every answer validated,
   grounded and written as a brief, the manifest and the digest (target < 120 s).

Each process's peak resident memory is read from its own /proc status at exit (target < 500 MiB), and the
manifest must account for every document (all ``ok``, one brief each). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stamp import child_env, stamp, table, write_between_markers  # noqa: E402
from tests.support.fake_batch import FakeBatchAPI  # noqa: E402
from tests.support.fake_server import document  # noqa: E402

TARGETS = {"submit_s": 60.0, "collect_s": 120.0, "peak_mib": 500.0}


def measured(args: list[str], report: Path) -> dict[str, float]:
    """Run the summarizer CLI with ``args`` in a new process; its wall time, exit code and peak RSS."""
    command = [sys.executable, __file__, "--measure", str(report), "--", *args]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=child_env(OPENAI_API_KEY="bench"))
    wall = time.perf_counter() - started
    numbers = json.loads(report.read_text())
    if result.returncode != 0:
        print(result.stderr[-2000:], file=sys.stderr)
    return {"wall_s": wall, "rc": result.returncode, "peak_mib": numbers["peak_mib"]}


def measure(report: Path, args: list[str]) -> int:
    """The child: the CLI in this process, then its own peak memory (VmHWM) written to ``report``."""
    from summarizer.cli import app

    code = 0
    try:
        app(args, prog_name="summarizer", standalone_mode=False)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    except Exception as error:  # noqa: BLE001 - reported, and the exit code says so
        print(f"error: {error}", file=sys.stderr)
        code = 1
    finally:
        peak = 0.0
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
        report.write_text(json.dumps({"peak_mib": peak}))
    return code


def wait_until_ended(base_url: str, batch_id: str) -> float:
    started = time.perf_counter()
    while True:
        with urllib.request.urlopen(f"{base_url}/batches/{batch_id}", timeout=600) as answer:  # noqa: S310
            if json.loads(answer.read())["status"] in ("completed", "expired", "failed", "cancelled"):
                return time.perf_counter() - started
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--shape", default="one-call", choices=("one-call", "repairs"))
    parser.add_argument("--write", type=Path, help="write the table between the bench:batch markers of this file")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.measure:
        return measure(args.measure, [a for a in rest if a != "--"])
    with tempfile.TemporaryDirectory() as scratch, FakeBatchAPI(delay_s=0.0, shape=args.shape) as fake:
        inbox = Path(scratch) / "inbox"
        inbox.mkdir()
        for number in range(args.docs):
            (inbox / f"doc-{number:05d}.txt").write_text(document(number), encoding="utf-8")
        day = Path(scratch) / "day"
        options = ["--base-url", fake.base_url, "--model", "gpt-4o-mini", "-q"]
        submit = measured(["daily", str(inbox), "--out", str(day), "--batch", *options], Path(scratch) / "s.json")
        manifest = json.loads((day / "manifest.json").read_text())
        record = manifest["batches"][0] if manifest["batches"] else {}
        size_mib = sum(p.stat().st_size for p in (day / "batches").glob("*.input.jsonl")) / 2**20
        answered_s = wait_until_ended(fake.base_url, record["id"]) if record.get("id") else 0.0
        collect = measured(["daily", str(day), "--collect", *options], Path(scratch) / "c.json")
        manifest = json.loads((day / "manifest.json").read_text())
        statuses: dict[str, int] = {}
        for entry in manifest["entries"]:
            statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
        briefs = len(list((day / "briefs").glob("*.json")))
        stats = fake.stats()
    accounted = len(manifest["entries"]) == args.docs and statuses.get("ok") == args.docs == briefs
    rows = [
        (
            "documents",
            f"{args.docs} ({args.shape}); batch input {size_mib:.0f} MiB in {len(manifest['batches'])} file(s)",
        ),
        (
            "submit (new process)",
            f"{submit['wall_s']:.1f} s (target < 60 s), peak RSS {submit['peak_mib']:.0f} MiB, exit {submit['rc']}",
        ),
        ("the fake Batch API answering", f"{answered_s:.1f} s (not ours)"),
        (
            "collect and ground (new process)",
            f"{collect['wall_s']:.1f} s (target < 120 s), peak RSS {collect['peak_mib']:.0f} MiB, exit {collect['rc']}",
        ),
        ("accounted for", f"{statuses} in the manifest, {briefs} briefs; {stats['online_requests']} online requests"),
    ]
    heading = f"Measured by `bench/batch.py --docs {args.docs} --shape {args.shape}` at {stamp()}; one run."
    text = table(heading, rows, ("measure", "result"))
    print(text)
    if args.write:
        write_between_markers(args.write, "batch", text)
    ok = (
        accounted
        and submit["rc"] == 0
        and collect["rc"] == 0
        and submit["wall_s"] < TARGETS["submit_s"]
        and collect["wall_s"] < TARGETS["collect_s"]
        and max(submit["peak_mib"], collect["peak_mib"]) < TARGETS["peak_mib"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
