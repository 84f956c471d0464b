"""daily --batch / --collect: submit, or collect what has ended; say where the day stands."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from . import _error, _exit_codes, _run, _say
from .report import daily_progress, daily_report

if TYPE_CHECKING:
    from ..batch import BatchOptions
    from ..daily import BatchRecord, DailyOptions
    from ..settings import Settings


def daily_batch(
    paths: list[str],
    settings: Settings,
    options: DailyOptions,
    choice: BatchOptions,
    *,
    quiet: bool,
    finished: Callable[[], None] = lambda: None,
) -> None:
    """daily --batch / --collect: submit, or collect what has ended; report where the day stands (``finished``
    runs once the day's briefs and digest are written)."""
    from ..batch import BatchEvents, batch_state, check_batchable, run_batch, standing

    out = options.out
    with _exit_codes():
        check_batchable(settings)

    def submitted(record: BatchRecord, found: bool) -> None:
        if not quiet:
            done = "found the batch an interrupted run made for" if found else "submitted"
            _say(f"{done} {record.requests} request(s): batch {record.id} ({record.name}, wave {record.wave})")

    def polled(records: list[BatchRecord]) -> None:
        if not quiet:
            _say("waiting: " + "; ".join(batch_state(r) for r in records), one_line=True)

    def collecting(record: BatchRecord, documents: int) -> None:
        if not quiet:
            what = f"{documents} document(s)" if documents else "the digest's synthesis"
            _say(f"collecting batch {record.id} ({record.status}): {what}", one_line=True)

    events = BatchEvents(submitted=submitted, polled=polled, collecting=collecting)
    with (
        _exit_codes(interrupted=f"interrupted; the manifest in {out} keeps every batch, rerun to resume"),
        daily_progress(quiet, settings) as progress,
    ):
        outcome = _run(run_batch(paths, settings, options, choice, progress, events))
    where = standing(outcome, out)
    for failure in where.failures:
        _error(failure, one_line=True)
    if where.pending and not quiet:
        _say(where.pending)
    if where.said:
        _say(where.said)
    if where.finished:
        finished()
        daily_report(outcome.manifest, out, digest=outcome.digest)
    if where.exit_code:
        raise typer.Exit(where.exit_code)
