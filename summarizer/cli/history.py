"""history: the days' briefs in one SQLite database (``summarizer.history``), and the questions across days.

Parsing and printing only: the database, its import and its queries are ``summarizer.history``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from . import _READ_CODES, _Command, _exit_codes, _say, app, examples, exit_codes_epilog

history_app = typer.Typer(
    name="history",
    help="Every day's briefs in one SQLite database: what an actor claimed over time, a figure's values, "
    "full-text search, the actor register, stories by day. 'daily' adds each run (--no-history: not); "
    "'history import DAY...' adds older day folders.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)
app.add_typer(history_app)

DbOption = Annotated[
    Optional[Path],
    typer.Option(
        "--db", help="The history database (default: $SUMMARIZER_DB, else history.db in the user's data folder)."
    ),
]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="table (on the terminal) | json")]
SinceOption = Annotated[Optional[str], typer.Option("--since", help="Only days on or after this one (YYYY-MM-DD).")]
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _db_path(db: Optional[Path]) -> Path:
    from ..history import default_path

    return db or default_path()


def _day(value: Optional[str], hint: str) -> Optional[str]:
    if value is not None and not DAY.match(value):
        raise typer.BadParameter(f"{value!r}: give a day as YYYY-MM-DD", param_hint=hint)
    return value


def _show(rows: list[dict[str, Any]], fmt: str, columns: tuple[str, ...], cite: bool = True) -> None:
    """JSON lines' array on stdout, or a table whose strings stay inert (no markup, no control characters)."""
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if fmt != "table":
        raise typer.BadParameter("choose table or json", param_hint="--format")
    from rich.console import Console
    from rich.table import Table

    from ..render import inert

    table = Table(show_lines=False)
    for column in (("cited",) if cite else ()) + columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        cells = [f"{row['day']} · {Path(row['brief']).stem} · {row['claim']}"] if cite else []
        cells += ["" if row.get(c) is None else inert(str(row[c]), newlines=False) for c in columns]
        table.add_row(*cells)
    Console(highlight=False, markup=False, emoji=False, soft_wrap=not sys.stdout.isatty()).print(table)
    if not rows:
        _say("nothing found")


@history_app.command(
    "import",
    cls=_Command,
    epilog=examples("summarizer history import days/2026-11-27/ days/2026-11-28/") + exit_codes_epilog(_READ_CODES),
)
def import_days(
    folders: Annotated[list[Path], typer.Argument(help="Day folders written by 'summarizer daily --out'.")],
    db: DbOption = None,
    day: Annotated[
        Optional[str], typer.Option("--day", help="The day of a single folder not named YYYY-MM-DD.")
    ] = None,
) -> None:
    """Add day folders to the history (again: only briefs that changed are read; their rows are replaced)."""
    from ..history import connect, import_day

    _day(day, "--day")
    if day and len(folders) != 1:
        raise typer.BadParameter("--day names the day of one folder", param_hint="--day")
    with _exit_codes(), connect(_db_path(db)) as database:
        for folder in folders:
            done = import_day(database, folder, day)
            _say(
                f"{folder}: day {done.day}: {done.added} briefs added, {done.replaced} replaced, "
                f"{done.unchanged} unchanged; {done.stories} stories"
            )


@history_app.command(
    "claims",
    cls=_Command,
    epilog=examples(
        'summarizer history claims --actor "Kirby"',
        'summarizer history claims --actor "John Kirby" --since 2026-11-01 --status denied -f json',
    )
    + exit_codes_epilog(_READ_CODES),
)
def claims(
    actor: Annotated[str, typer.Option("--actor", "-a", help="An actor's name or part of it (aliases count).")],
    since: SinceOption = None,
    status: Annotated[Optional[str], typer.Option("--status", help="Only claims of this status.")] = None,
    db: DbOption = None,
    fmt: FormatOption = "table",
) -> None:
    """An actor's claims over time, oldest first: each cites its day, document and claim id."""
    from ..history import claims_by_actor, connect

    with _exit_codes(), connect(_db_path(db)) as database:
        rows = claims_by_actor(database, actor, _day(since, "--since"), status)
    _show(rows, fmt, ("claimant", "source", "status", "statement"))


@history_app.command(
    "search",
    cls=_Command,
    epilog=examples('summarizer history search "killed or wounded"') + exit_codes_epilog(_READ_CODES),
)
def search(
    words: Annotated[str, typer.Argument(help="Words that must all occur in a claim's statement or evidence.")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many claims.")] = 100,
    db: DbOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Full-text search over every claim's statement and evidence, best match first."""
    from ..history import connect
    from ..history import search as find

    with _exit_codes(), connect(_db_path(db)) as database:
        rows = find(database, words, limit)
    _show(rows, fmt, ("claimant", "status", "evidence"))


@history_app.command(
    "figure",
    cls=_Command,
    epilog=examples('summarizer history figure "North Korean troops killed or wounded"')
    + exit_codes_epilog(_READ_CODES),
)
def figure(
    thing: Annotated[str, typer.Argument(help="What is counted: words that must all occur in the figure's unit.")],
    db: DbOption = None,
    fmt: FormatOption = "table",
) -> None:
    """A counted thing's values over time: who gave each, and when it was first and last seen."""
    from ..history import connect, figure_history

    with _exit_codes(), connect(_db_path(db)) as database:
        rows = figure_history(database, thing)
    for row in rows:
        row["figure"] = (
            (f"{row['low']:g}–{row['high']:g}" if row["low"] is not None and row["high"] is not None else "")
            or (f"{row['value']:g}" if row["value"] is not None else "")
            or (row["qualifier"] or "")
        )
    _show(rows, fmt, ("claimant", "status", "figure", "unit"))
    if rows and fmt == "table":
        _say(f"first seen {rows[0]['day']} ({rows[0]['claimant']}), last seen {rows[-1]['day']}; {len(rows)} values")


@history_app.command(
    "actors",
    cls=_Command,
    epilog=examples("summarizer history actors", "summarizer history actors --new-since 2026-11-28 -f json")
    + exit_codes_epilog(_READ_CODES),
)
def actors(
    new_since: Annotated[
        Optional[str], typer.Option("--new-since", help="Only actors first seen on or after this day.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many actors.")] = 200,
    db: DbOption = None,
    fmt: FormatOption = "table",
) -> None:
    """The register: each actor (by its name, normalised), its kinds, first and last day seen, briefs and claims."""
    from ..history import actors as register
    from ..history import connect

    with _exit_codes(), connect(_db_path(db)) as database:
        rows = register(database, _day(new_since, "--new-since"), limit)
    _show(rows, fmt, ("name", "kinds", "first_seen", "last_seen", "briefs", "claims"), cite=False)


@history_app.command(
    "stories",
    cls=_Command,
    epilog=examples("summarizer history stories --since 2026-11-27") + exit_codes_epilog(_READ_CODES),
)
def stories(since: SinceOption = None, db: DbOption = None, fmt: FormatOption = "table") -> None:
    """Stories by day, each with its documents."""
    from ..history import connect
    from ..history import stories as by_day

    with _exit_codes(), connect(_db_path(db)) as database:
        rows = by_day(database, _day(since, "--since"))
    _show(rows, fmt, ("day", "story", "name", "documents"), cite=False)


def record_day(out: Path, db: Optional[Path], enabled: bool, quiet: bool) -> None:
    """After a daily run: its day folder into the history. A history that cannot be written is said on stderr
    and does not change the run's exit code (the briefs, manifest and digest are written)."""
    if not enabled or not (out / "manifest.json").is_file():
        return
    from ..errors import SummarizerError
    from ..history import connect, import_day

    path = _db_path(db)
    try:
        with connect(path) as database:
            done = import_day(database, out)
    except (SummarizerError, OSError) as error:
        _say(f"summarizer: warning: the history was not updated: {error}")
        return
    if not quiet:
        _say(f"history: day {done.day}: {done.added} added, {done.replaced} replaced → {path}")


def since_folder(since: Optional[str], db: Optional[Path]) -> Optional[Path]:
    """``daily --since``: a folder as given, or a day (YYYY-MM-DD) the history holds, as its folder."""
    if since is None or Path(since).is_dir() or not DAY.match(since):
        return Path(since) if since is not None else None
    from ..history import connect, day_folder

    path = _db_path(db)
    if not path.is_file():
        return Path(since)
    with _exit_codes(), connect(path) as database:
        return day_folder(database, since) or Path(since)
