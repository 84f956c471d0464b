"""What daily says on stderr: its progress while it runs, its report when it ends."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from . import _error, _say

if TYPE_CHECKING:
    from ..daily import Manifest, ManifestEntry, Progress
    from ..models import Digest
    from ..settings import Settings


def daily_report(manifest: Manifest, out: Path, note: str | None = None, digest: Digest | None = None) -> None:
    """The failures and the closing lines of a finished daily run; exits with the run's code (the failures',
    else 11 when the digest's synthesis by a model failed)."""
    from ..daily import exit_code, synthesis_failure
    from ..render import daily_report as report_lines

    for kind, line in report_lines(manifest, out, note=note, synthesis_error=synthesis_failure(digest)):
        if kind == "error":
            _error(line, one_line=True)
        elif kind == "note":
            typer.echo(line, err=True)
        else:
            _say(line)
    code = exit_code(manifest, digest)
    if code:
        raise typer.Exit(code)  # the most basic problem first: input, provider, LLM, fixture, synthesis


@contextmanager
def daily_progress(quiet: bool, settings: Settings) -> Iterator[Progress]:
    """A rich progress bar on a terminal, plain log lines otherwise; a line when a model's synthesis starts."""
    from ..daily import Progress

    def passed_over(folder: str) -> None:
        if not quiet:
            _say(
                f"skipped {folder}: a daily run's folder (the --out folder, or an earlier day), not documents",
                one_line=True,
            )

    def warning(message: str) -> None:
        _say(f"summarizer: warning: {message}")

    def fetching(url: str) -> None:
        if not quiet:
            _say(f"fetching {url} …", one_line=True)

    def synthesising(briefs: int, limit: float | None) -> None:
        if not quiet:
            bound = f", at most {limit:g} s (--synthesis-timeout)" if limit else ""
            _say(f"digest: asking {settings.model} for the stories of {briefs} brief(s){bound} …", one_line=True)

    if sys.stderr.isatty() and not quiet:
        from rich.progress import Progress as Bar

        def counts(entry: ManifestEntry) -> bool:
            return entry.status in ("ok", "failed", "skipped-budget")

        with Bar(transient=False) as display:
            task = display.add_task("briefing", total=None)
            yield Progress(
                total=lambda n: display.update(task, total=n),
                done=lambda entry: display.advance(task) if counts(entry) else None,
                synthesising=synthesising,
                passed_over=passed_over,
                warning=warning,
                fetching=lambda url: display.update(task, description=f"fetching {_short(url)}"),
            )
        return

    def done(entry: ManifestEntry) -> None:
        if not quiet:
            tokens = f", {entry.usage.total_tokens} tokens" if entry.usage.total_tokens else ""
            detail = f": {entry.error}" if entry.error and entry.status != "failed" else ""
            _say(f"{entry.status}: {entry.source}{tokens}{detail}", one_line=True)

    yield Progress(done=done, synthesising=synthesising, passed_over=passed_over, warning=warning, fetching=fetching)


def _short(url: str) -> str:
    """An address for a progress bar: printable, Rich markup escaped, at most 50 characters."""
    from rich.markup import escape

    from ..render import inert

    text = inert(url, newlines=False)
    return escape(text if len(text) <= 50 else text[:49] + "…")
