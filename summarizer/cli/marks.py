"""mark and export: a person's decisions on a brief's items from scripts, and the claims signed off; and
the interactive review that ``review`` opens on a terminal."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ..errors import ExitCode
from . import _READ_CODES, _Command, _error, _exit_codes, _say, app, examples, exit_codes_epilog
from .options import ReviewerOption, VersionOption

if TYPE_CHECKING:
    from ..models import Brief, Digest

_MARK_CODES = (*_READ_CODES, ExitCode.OUTPUT)


def interactive_review(path: Path, saved: Brief | Digest, source: Optional[Path], reviewer: Optional[str]) -> None:
    """The interactive review of a brief, or of every brief of a digest (``summarizer review`` on a terminal)."""
    from ..models import Digest
    from ..reviews import reviewed_brief, reviewer_name
    from ..store import load_brief
    from ..tui import ReviewApp, Sheet
    from .review import _with_source

    if isinstance(saved, Digest):
        files = [(key, path.parent / file) for key, file in saved.documents.items()]
        briefs = [(key, file, load_brief(file)) for key, file in files]
    else:
        briefs = [("", path, saved)]
    sheets = []
    for label, file, brief in briefs:
        _, document = _with_source(file, brief, source if not label else None, required=False)
        sheets.append(Sheet(file, brief, document.text if document else None, reviewed_brief(file, brief), label))
    session = ReviewApp(sheets, reviewer_name(reviewer))
    session.run()
    if session.return_code:  # the view stopped on an error (Textual has printed it)
        raise typer.Exit(ExitCode.INTERNAL)
    counts = [sheet.reviewed.counts(sheet.brief) for sheet in sheets]
    checked, total = sum(c[0] for c in counts), sum(c[0] + c[1] for c in counts)
    _say(f"{checked} of {total} items checked; decisions in the .review.json file(s) beside the brief(s)")
    if session.failed:
        _error("some decisions could not be saved (see the messages above); they are not in the review file")
        raise typer.Exit(ExitCode.OUTPUT)


@app.command(
    cls=_Command,
    epilog=examples(
        'summarizer mark briefs/korea.json C3 --reject "wrong claimant"',
        "summarizer mark briefs/korea.json C1 C2 C4 --accept",
        'summarizer mark briefs/korea.json C5 --claimant "Marco Rubio" --accept',
        "summarizer mark briefs/korea.json U2 --follow-up",
        "summarizer mark briefs/korea.json C3 --clear",
    )
    + """Records the decision in NAME.review.json beside the brief (never in the brief), as
the interactive review does; show, render, check, export, the digest and the
history read it.

"""
    + exit_codes_epilog(_MARK_CODES),
)
def mark(
    path: Annotated[Path, typer.Argument(help="A brief written by 'summarizer brief'.")],
    ids: Annotated[list[str], typer.Argument(help="Item ids: C3, U1, A2 …", metavar="ID...")],
    accept: Annotated[bool, typer.Option("--accept", help="Accept the items.")] = False,
    reject: Annotated[Optional[str], typer.Option("--reject", help="Reject the items, for this reason.")] = None,
    claimant: Annotated[
        Optional[str], typer.Option("--claimant", help="Correct the claimant of these claims to this name.")
    ] = None,
    follow_up: Annotated[
        Optional[bool], typer.Option("--follow-up/--no-follow-up", help="Mark (or unmark) for follow-up.")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Forget every decision on the items.")] = False,
    reviewer: ReviewerOption = None,
    version: VersionOption = False,
) -> None:
    """Accept, reject, correct or flag items of a brief from a script."""
    from ..errors import UsageError
    from ..models import Claim
    from ..reviews import decided, items, reviewed_brief, reviewer_name, save_review
    from ..store import load_brief

    if accept and reject is not None:
        raise typer.BadParameter("choose --accept or --reject", param_hint="--accept")
    if clear and (accept or reject is not None or claimant is not None or follow_up is not None):
        raise typer.BadParameter("--clear goes alone", param_hint="--clear")
    if not (clear or accept or reject is not None or claimant is not None or follow_up is not None):
        raise typer.BadParameter(
            "say what to record: --accept, --reject REASON, --claimant NAME, --follow-up or --clear"
        )
    if reject is not None and not reject.strip():
        raise typer.BadParameter("give the reason, e.g. --reject 'wrong claimant'", param_hint="--reject")
    if claimant is not None and not claimant.strip():
        raise typer.BadParameter("give the name, e.g. --claimant 'Marco Rubio'", param_hint="--claimant")
    with _exit_codes():
        brief = load_brief(path)
        judged = reviewed_brief(path, brief)
        by_id = {item.id: item for item in items(brief)}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            known = ", ".join(list(by_id)[:12]) + (" …" if len(by_id) > 12 else "")
            raise UsageError(f"{path} has no item {', '.join(unknown)}; its items: {known}")
        if claimant is not None and (others := [i for i in ids if not isinstance(by_id[i], Claim)]):
            raise UsageError(f"--claimant corrects claims only, not {', '.join(others)}")
        who = reviewer_name(reviewer)
        for item_id in dict.fromkeys(ids):
            if clear:
                judged.decisions.pop(item_id, None)
                continue
            change: dict[str, object] = {}
            if accept:
                change["decision"] = "accepted"
            if reject is not None:
                change.update(decision="rejected", reason=" ".join(reject.split())[:200])
            if claimant is not None:
                change["claimant"] = " ".join(claimant.split())[:100]
            if follow_up is not None:
                change["follow_up"] = follow_up
            judged.decisions[item_id] = decided(by_id[item_id], judged.of(item_id), who, **change)
        written = save_review(path, judged.to_review(path.name, brief))
        checked, unchecked, rejected = judged.counts(brief)
    _say(f"wrote {written}: {checked} checked, {unchecked} unchecked, {rejected} rejected")


EXPORT_FIELDS = (
    "brief",
    "title",
    "outlet",
    "date",
    "url",
    "claim",
    "claimant",
    "statement",
    "status",
    "evidence",
    "start",
    "end",
    "decision",
    "reviewer",
    "at",
)


@app.command(
    cls=_Command,
    epilog=examples(
        "summarizer export briefs/*.json --accepted -f csv > signed-off.csv",
        "summarizer export days/2026-11-28/briefs/*.json -f jsonl",
        "summarizer export days/2026-11-28/digest.json --accepted -f json -o accepted.json",
    )
    + """One row per claim: its brief, title, outlet, date and address; claimant (as
corrected), statement, status, evidence and its span; the person's decision,
who made it and when. Rejected claims are never exported; --accepted keeps only
the claims a person accepted. Strings are written as they are: a spreadsheet
opening the CSV should be told not to evaluate formulas (cells starting with
= + - @ are prefixed with ').

"""
    + exit_codes_epilog(_MARK_CODES),
)
def export(
    paths: Annotated[
        list[Path], typer.Argument(help="Briefs, or a daily digest.json (its briefs).", metavar="PATH...")
    ],
    accepted: Annotated[bool, typer.Option("--accepted", help="Only the claims a person accepted.")] = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv | json | jsonl")] = "csv",
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout.")
    ] = None,
    version: VersionOption = False,
) -> None:
    """The claims of briefs as a person's review left them: CSV, JSON or JSON Lines."""
    from ..models import Digest, joined
    from ..reviews import apply, is_review, reviewed_brief
    from ..store import atomic_write_text, load_brief, load_saved

    if fmt not in ("csv", "json", "jsonl"):
        raise typer.BadParameter("choose csv, json or jsonl", param_hint="--format")
    rows: list[dict[str, object]] = []
    with _exit_codes():
        files: list[Path] = []
        for path in paths:
            if (review := is_review(path)) is not None:  # briefs/*.json holds the review files too: each is its brief's
                path = path.with_name(review.brief)
            saved = load_saved(path)
            files += [path.parent / f for f in saved.documents.values()] if isinstance(saved, Digest) else [path]
        for file in dict.fromkeys(files):
            brief = load_brief(file)
            judged = reviewed_brief(file, brief)
            for claim in apply(brief, judged).claims:
                decision = judged.of(claim.id)
                if accepted and (decision is None or decision.decision != "accepted"):
                    continue
                doc = brief.document
                rows.append(
                    {
                        "brief": str(file),
                        "title": doc.title,
                        "outlet": doc.outlet,
                        "date": doc.date,
                        "url": doc.url,
                        "claim": claim.id,
                        "claimant": joined(claim.claimants),
                        "statement": claim.statement,
                        "status": claim.status.value,
                        "evidence": claim.evidence.quote,
                        "start": claim.evidence.start,
                        "end": claim.evidence.end,
                        "decision": decision.decision if decision else None,
                        "reviewer": decision.reviewer if decision else None,
                        "at": decision.at if decision else None,
                    }
                )
        text = _export_text(rows, fmt)
        if output is not None and str(output) != "-":
            atomic_write_text(output, text)
            _say(f"wrote {output}: {len(rows)} claim(s)")
            return
    typer.echo(text, nl=False)


def _export_text(rows: list[dict[str, object]], fmt: str) -> str:
    from ..store import inert_json

    if fmt == "json":
        return inert_json(json.dumps(rows, ensure_ascii=False, indent=2)) + "\n"
    if fmt == "jsonl":
        return "".join(inert_json(json.dumps(row, ensure_ascii=False)) + "\n" for row in rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()


def _cell(value: object) -> object:
    """A CSV cell a spreadsheet will not evaluate (text starting with = + - @, a tab or a carriage return gets a
    leading apostrophe) and a terminal will not act on (control characters written as \\x1b)."""
    from ..render import inert

    if isinstance(value, str):
        value = inert(value)
        return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
    return "" if value is None else value
