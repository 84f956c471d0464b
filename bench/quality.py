"""Quality gate: briefs scored against the Wikinews gold, each figure checked against its committed floor.

    python bench/quality.py                                    # replay each set offline, score it, check floors
    python bench/quality.py --briefs out/day/ --label embedded # score briefs already written (embedded's floors)
    python bench/quality.py --per-document --json              # per-document rows; numbers as JSON

With no --briefs it scores three columns:

* "embedded": the project's own ``summarizer daily seeds/ --out TMP --replay
  fixtures/daily --force -q`` (the embedded default: guided rules, no model per
  document);
* "reference": the same over ``fixtures/strong`` with ``--model gpt-4o-mini``:
  hand-written reference answers served by a loopback server. A plumbing check:
  the pipeline keeps what a careful answer gives. Its "tokens" are the answers'
  characters / 4, not a model's;
* "rules": ``bench/baseline.py`` (no model: one claim per cue sentence).

Each column's briefs are written by its own process and read here as plain JSON
by ``bench/scorer.py``, whose matching rules are its own (its docstring and
docs/quality.md state them); neither module imports the ``summarizer`` package.

The gate: ``bench/quality_floors.json`` holds a floor per measure and column,
each with a reason. The run prints a floors table (measure, column, figure,
floor, ok/BELOW) and exits 1 when any figure is below its floor or missing, 0
otherwise (2: a usage error). With --briefs, the set is checked against the
floors of its --label (if that label has floors) and the rules baseline against
its own. A floor is raised when a change improves a figure, never lowered
silently: lowering one is a reviewed change of that file with its reason.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import polnear
from bench.scorer import GoldDoc, SetScore, load_gold, measures, score_folder

FLOORS = Path(__file__).resolve().parent / "quality_floors.json"


@dataclass(frozen=True)
class Column:
    title: str
    tokens: str = "completion tokens"  # what the brief's completion_tokens count


COLUMNS = {
    "embedded": Column("embedded default (guided rules, no model per document)"),
    "reference": Column(
        "reference answers (plumbing: the pipeline keeps what a careful answer gives)", tokens="characters / 4"
    ),
    "rules": Column("rules baseline (no model: one claim per cue sentence)"),
}
# Each replayed set: its fixtures and the options it was recorded with (the request bodies depend on the model).
FIXTURE_SETS = {
    "embedded": (ROOT / "fixtures" / "daily", []),
    "reference": (ROOT / "fixtures" / "strong", ["--model", "gpt-4o-mini"]),
}
# The measures a floor may hold (rates in [0, 1]); tokens are a cost, not a quality, and are not gated.
GATED = {
    "attribution_recall": "attribution recall",
    "claim_precision": "claim precision",
    "attributed_precision": "attributed-claim precision",
    "claimant_agreement_strict": "claimant agreement, strict",
    "claimant_agreement_lenient": "claimant agreement, lenient",
    "unnamed_source_agreement": '"unnamed source" on unnamed gold',
    "source_span_agreement": "source span agreement",
    "actor_recall": "actor recall",
    "span_holds_quote": "spans: text[start:end] == quote",
    "span_match_exact": "spans: match == exact",
}


# --------------------------------------------------------------------------
# Running the systems: summarizer daily and the rules baseline, each its own process
# --------------------------------------------------------------------------


def summarizer_command() -> list[str]:
    """The summarizer installed beside this Python, else the package run as a module."""
    executable = Path(sys.executable).parent / "summarizer"
    return [str(executable)] if executable.is_file() else [sys.executable, "-m", "summarizer"]


def run_daily(
    fixtures: Path, out: Path, inputs: list[str] | None = None, options: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The project's own daily command over the seeds, replayed offline; a non-zero exit is left to the caller."""
    command = [
        *summarizer_command(),
        "daily",
        *(inputs or ["seeds/"]),
        "--out",
        str(out),
        "--replay",
        str(fixtures),
        "--force",
        "-q",
        "--no-history",  # a measurement, not a day of the user's: never recorded in their history
        *(options or []),
    ]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def _origin(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def score_fixture_set(
    label: str, fixtures: Path, gold: dict[str, GoldDoc], options: list[str] | None = None
) -> SetScore:
    """Replay one fixture set through `summarizer daily` and score what it wrote (skipped if not recorded)."""
    origin = _origin(fixtures)
    if not any(fixtures.glob("*.jsonl")):
        return SetScore(label, origin, note=f"skipped: {origin} has no *.jsonl fixtures")
    with tempfile.TemporaryDirectory(prefix="quality-") as tmp:
        process = run_daily(fixtures, Path(tmp), options=options)
        result = score_folder(Path(tmp), gold, label, origin)
    if process.returncode != 0:
        tail = [line.split("; digest:")[0] for line in process.stderr.strip().splitlines()[-1:]] or ["no message"]
        result.note = "; ".join(filter(None, [result.note, f"daily exited {process.returncode}: {tail[0]}"]))
        result.run_failed = True
    return result


def score_polnear(checkout: Path) -> SetScore:
    """The embedded default over PolNeAR's dev split (bench/polnear.py); reported, not gated."""
    texts, gold = polnear.load(checkout)
    with tempfile.TemporaryDirectory(prefix="quality-polnear-") as tmp:
        command = [
            *summarizer_command(),
            "daily",
            str(texts),
            "--out",
            tmp,
            "--force",
            "-q",
            "--synthesis",
            "rules",
            "--no-history",
        ]
        process = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800)
        result = score_folder(Path(tmp), gold, "polnear-dev", f"PolNeAR data/{polnear.SPLIT}", texts)
    if process.returncode != 0:
        tail = (process.stderr.strip().splitlines() or ["no message"])[-1]
        result.note = f"daily exited {process.returncode}: {tail}"
        result.run_failed = True
    return result


def score_rules(gold: dict[str, GoldDoc]) -> SetScore:
    """The no-model baseline (bench/baseline.py, its own process) over every Wikinews article."""
    with tempfile.TemporaryDirectory(prefix="quality-rules-") as tmp:
        command = [sys.executable, str(ROOT / "bench" / "baseline.py"), "--out", tmp]
        process = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
        result = score_folder(Path(tmp), gold, "rules", "bench/baseline.py")
    if process.returncode != 0:
        tail = (process.stderr.strip().splitlines() or ["no message"])[-1]
        result.note = "; ".join(filter(None, [result.note, f"baseline exited {process.returncode}: {tail}"]))
        result.run_failed = True
    return result


# --------------------------------------------------------------------------
# The gate
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    measure: str
    column: str
    figure: float | None
    floor: float
    reason: str

    @property
    def ok(self) -> bool:
        """At or above the floor; a missing figure (a set not scored, nothing to share) is below it."""
        return self.figure is not None and round(self.figure, 6) >= self.floor


def load_floors(path: Path = FLOORS) -> dict[str, dict[str, dict[str, Any]]]:
    """Column -> measure -> {floor, reason}; a floor of an unknown measure, or without a reason, is an error."""
    floors: dict[str, dict[str, dict[str, Any]]] = json.loads(path.read_text(encoding="utf-8"))["floors"]
    for column, entries in floors.items():
        for measure, entry in entries.items():
            if measure not in GATED:
                raise ValueError(f"{path.name}: {column}.{measure} is not a gated measure ({', '.join(GATED)})")
            floor = entry.get("floor")
            if (floor is not None and not 0.0 < float(floor) <= 1.0) or not str(entry.get("reason", "")).strip():
                raise ValueError(
                    f"{path.name}: {column}.{measure} needs a floor in (0, 1] (or null: a column that does not give "
                    "what the measure needs) and a reason"
                )
    return floors


def checks(results: list[SetScore], floors: dict[str, dict[str, dict[str, Any]]]) -> list[Check]:
    """One check per floor of every scored column that has floors."""
    found = []
    for result in results:
        m = measures(result.documents) if result.documents else {}
        for measure, entry in floors.get(result.label, {}).items():
            if entry["floor"] is None:  # not gated for this column; render_gate lists it with its reason
                continue
            figure = m[measure]["rate"] if m else None
            found.append(Check(measure, result.label, figure, float(entry["floor"]), entry["reason"]))
    return found


def render_gate(found: list[Check], results: list[SetScore], floors: dict[str, Any], path: Path = FLOORS) -> str:
    """The floors table: measure, column, figure, floor, ok or BELOW; then what was not gated, and the verdict."""
    rows = [
        (
            GATED[c.measure],
            c.column,
            "n/a" if c.figure is None else f"{c.figure:.3f}",
            f"{c.floor:.3f}",
            "ok" if c.ok else "BELOW",
        )
        for c in found
    ]
    below = sum(not c.ok for c in found)
    text = render_table(f"floors ({_origin(path)})", ("measure", "column", "figure", "floor", "status"), rows)
    ungated = [r.label for r in results if r.label not in floors]
    if ungated:
        text += "\n  not gated (no floors): " + ", ".join(ungated)
    for result in results:
        for measure, entry in floors.get(result.label, {}).items():
            if entry["floor"] is None:
                text += f"\n  not gated: {GATED[measure]}, {result.label}: {entry['reason']}"
    verdict = f"{below} figure(s) BELOW their floor" if below else f"all {len(found)} figures at or above their floor"
    return f"{text}\n  {verdict}"


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def _fmt(measure: dict[str, Any]) -> tuple[str, str]:
    value = "n/a" if measure["rate"] is None else f"{measure['rate']:.3f}"
    return value, f"{measure['n']}/{measure['of']}"


def table_rows(result: SetScore) -> list[tuple[str, str, str]]:
    """Measure, value, count for one set."""
    m = measures(result.documents)
    per_matched = m["completion_tokens_per_matched"]
    tokens = COLUMNS[result.label].tokens if result.label in COLUMNS else "completion tokens"
    return [
        ("documents", str(m["documents"]), f"{m['documents_with_gold']} with gold, {result.failed} failed"),
        ("claims", str(m["claims"]), ""),
        ("attribution recall (gold matched)", *_fmt(m["attribution_recall"])),
        ("claim precision", *_fmt(m["claim_precision"])),
        ("claim precision, the author's own left out", *_fmt(m["attributed_precision"])),
        ("claimant agreement, strict (named sources)", *_fmt(m["claimant_agreement_strict"])),
        ("claimant agreement, lenient (one shared word)", *_fmt(m["claimant_agreement_lenient"])),
        ('"unnamed source" on unnamed gold sources', *_fmt(m["unnamed_source_agreement"])),
        ("source span given (gold source spans)", *_fmt(m["source_span_given"])),
        ("source span agreement (overlaps the gold source)", *_fmt(m["source_span_agreement"])),
        ("actor recall", *_fmt(m["actor_recall"])),
        ("spans: text[start:end] == quote", *_fmt(m["span_holds_quote"])),
        ("spans: match == exact", *_fmt(m["span_match_exact"])),
        (
            f"{tokens} per matched attribution",
            "n/a" if per_matched is None else f"{per_matched:.1f}",
            f"{m['completion_tokens']} in all",
        ),
    ]


def render_table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Plain text, columns padded to their widest cell (first column left, the rest right-aligned)."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [title]
    for row in [header, *rows]:
        cells = [cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  " + "  ".join(cells).rstrip())
    return "\n".join(lines)


def document_rows(result: SetScore) -> list[tuple[str, ...]]:
    """One row per document with gold: its claims and the rates that depend on the gold."""
    keys = ("attribution_recall", "claim_precision", "claimant_agreement_strict", "actor_recall", "span_holds_quote")
    rows = []
    for doc in sorted((d for d in result.documents if d.has_gold), key=lambda d: d.file):
        m = measures([doc])
        rows.append((doc.file, str(doc.claims), *(_fmt(m[k])[0] for k in keys)))
    return rows


def title(result: SetScore) -> str:
    column = COLUMNS.get(result.label)
    return f"{result.label}: {column.title} ({result.origin})" if column else f"{result.label} ({result.origin})"


def render(result: SetScore, per_document: bool) -> str:
    """The set's table, its note, and with --per-document its documents."""
    if not result.documents:
        return f"{title(result)}: {result.note or 'no briefs'}"
    text = render_table(title(result), ("measure", "value", "count"), table_rows(result))
    if result.note:
        text += f"\n  note: {result.note}"
    if per_document:
        header = ("document", "claims", "recall", "precision", "claimant", "actors", "spans ok")
        text += "\n" + render_table("  per document", header, document_rows(result))
    return text


def as_json(result: SetScore, per_document: bool) -> dict[str, Any]:
    data = {
        "label": result.label,
        "title": COLUMNS[result.label].title if result.label in COLUMNS else result.label,
        "origin": result.origin,
        "failed": result.failed,
        "note": result.note,
        "skipped": not result.documents,
        "measures": measures(result.documents),
    }
    if per_document:
        data["per_document"] = {d.file: measures([d]) for d in result.documents if d.has_gold}
    return data


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--briefs", type=Path, help="score this folder of briefs instead of replaying the fixture sets")
    parser.add_argument("--label", help="name of the --briefs set, and whose floors it meets (default: folder name)")
    parser.add_argument("--floors", type=Path, default=FLOORS, help="the floors file (default: %(default)s)")
    parser.add_argument("--per-document", action="store_true", help="also one row per document")
    parser.add_argument("--json", action="store_true", help="print the numbers and the floors as JSON")
    parser.add_argument(
        "--polnear",
        type=Path,
        default=Path(os.environ["POLNEAR"]) if os.environ.get("POLNEAR") else None,
        help="a PolNeAR checkout: also score the embedded default on its data/dev split only (default: $POLNEAR)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    floors = load_floors(args.floors)
    gold = load_gold()
    if args.briefs:
        if not args.briefs.is_dir():
            print(f"no such folder: {args.briefs}", file=sys.stderr)
            return 2
        results = [score_folder(args.briefs, gold, args.label or args.briefs.resolve().name, str(args.briefs))]
    else:
        results = [score_fixture_set(label, path, gold, options) for label, (path, options) in FIXTURE_SETS.items()]
    results.append(score_rules(gold))
    if args.polnear and not args.briefs:
        results.append(score_polnear(args.polnear))
    found = checks(results, floors)
    broken = [r for r in results if r.run_failed]  # a run that failed is scored on what it left: never a pass
    passed = all(c.ok for c in found) and not broken
    wall = time.perf_counter() - started
    if args.json:
        gate = [{**c.__dict__, "ok": c.ok} for c in found]
        sets = [as_json(r, args.per_document) for r in results]
        print(json.dumps({"sets": sets, "floors": gate, "passed": passed, "wall_s": round(wall, 2)}, indent=2))
    else:
        print("\n\n".join(render(r, args.per_document) for r in results))
        print("\n" + render_gate(found, results, floors, args.floors))
        for result in broken:
            print(f"  FAILED RUN: {result.label}: {result.note}")
        print(f"\nwall time: {wall:.1f} s")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
