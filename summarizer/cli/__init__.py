"""The command line: parse → Settings → call the library → print. Nothing else.

This package holds the Typer ``app`` and what its commands share (messages on stderr, the one place where
the library's errors become exit codes, the event loop); each command group is a module of its own:
``brief`` (brief, show), ``daily`` (daily; ``batch``: its --batch/--collect front end; ``report``: its
progress and closing report), ``review`` (check, review, render, schema). ``options`` holds the options
several commands take and the Settings they become.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from typer.core import TyperArgument, TyperCommand

from ..errors import EXIT_CODES, ExitCode, SummarizerError
from .options import VersionOption

if TYPE_CHECKING:
    from ..settings import Settings


# Click's conventions for help: TEXT, INTEGER, FLOAT, PATH after an option, ARG... in the usage line.
_METAVARS = {str: "TEXT", int: "INTEGER", float: "FLOAT", Path: "PATH"}


class _Command(TyperCommand):
    """A Typer command whose --help reads like any Click tool's (``summarizer brief [OPTIONS] PATH...``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperArgument):
                param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]  # the name says it
                param.metavar = param.metavar or (param.name or "arg").upper()
            elif param.metavar is None and not getattr(param, "is_flag", False):
                annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
                param.metavar = _METAVARS.get(annotation, "VALUE")  # type: ignore[arg-type]

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = (param.metavar or (param.name or "ARG").upper()).removesuffix("...")
                name += "..." if param.nargs != 1 else ""
                pieces.append(name if param.required else f"[{name}]")
        return pieces


app = typer.Typer(
    name="summarizer",
    help="Turn documents into typed, grounded briefs with an LLM.\n\n"
    "Every claim in a brief points at the exact words of its source (character offsets).\n\n"
    "With no key and no --base-url, the embedded default runs locally: the program finds the attributions by "
    "rule (guided extraction). For briefs written by a capable model: "
    "OPENAI_API_KEY=sk-... summarizer brief FILE --model gpt-4o-mini, or "
    "--base-url http://localhost:11434/v1 --model qwen2.5:7b for Ollama.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    version: VersionOption = False,
) -> None:
    """Turn documents into typed, grounded briefs with an LLM."""


def _say(message: str, *, one_line: bool = True) -> None:
    """A diagnostic on stderr. Messages carry file names and model text: made inert first (and kept on one
    line where a file name's newline could forge a line of its own)."""
    from ..render import inert

    typer.echo(inert(message, newlines=not one_line), err=True)


def _error(message: str, *, one_line: bool = True) -> None:
    _say(f"summarizer: error: {message}", one_line=one_line)


T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` with the result passed out beside the main task, not as its result.

    On the way out asyncio renders the main task, result included, while checking
    its SIGINT handler: for a day of thousands of briefs that repr took longer
    than the whole unchanged rerun.
    """
    results: list[T] = []
    terminated: list[int] = []

    async def main() -> None:
        # SIGTERM cancels the run like Ctrl-C does, so it unwinds the same way: the briefs being
        # written are finished, the manifest says so, the local server is stopped.
        task = asyncio.current_task()
        assert task is not None

        def terminate() -> None:
            terminated.append(signal.SIGTERM)
            task.cancel()

        with suppress(NotImplementedError, RuntimeError, ValueError):  # not on every platform or thread
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, terminate)
        results.append(await coroutine)

    try:
        asyncio.run(main())
    except asyncio.CancelledError:
        if terminated:
            raise SystemExit(ExitCode.TERMINATED) from None
        raise
    return results[0]


@contextmanager
def _exit_codes(interrupted: str = "interrupted") -> Iterator[None]:
    """The one place where the library's errors become a message and an exit code."""
    try:
        yield
    except SummarizerError as error:
        _error(str(error), one_line=not error.multiline)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        _error(interrupted)
        raise typer.Exit(ExitCode.INTERRUPTED) from None


def examples(*lines: str) -> str:
    """An epilog's examples, one per line as written (``\\b`` keeps Click from re-wrapping them)."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines) + "\n\n"


def exit_codes_epilog(codes: tuple[ExitCode, ...]) -> str:
    """The exit-code lines of a command's --help, from the one table in errors.py."""
    lines = "\n".join(f"  {code.value:<3} {EXIT_CODES[code]}" for code in codes)
    return f"Exit codes:\n\n\b\n{lines}"


_BRIEF_CODES = (
    ExitCode.OK,
    ExitCode.INTERNAL,
    ExitCode.USAGE,
    ExitCode.INPUT,
    ExitCode.PROVIDER,
    ExitCode.LLM,
    ExitCode.FIXTURE_MISSING,
    ExitCode.OUTPUT,
    ExitCode.INTERRUPTED,
    ExitCode.TERMINATED,
)
_READ_CODES = (ExitCode.OK, ExitCode.INTERNAL, ExitCode.USAGE, ExitCode.INPUT)


def _quiet_libraries(verbose: int) -> None:
    """-v: one line per request, retry and exhausted re-ask (summarizer's own log); -vv: the libraries'
    debug logs too, request and response bodies included. Without -v only warnings and errors, and
    never the libraries' own: Instructor logs every failed attempt at ERROR, which the brief records."""
    logging.basicConfig(
        level=logging.DEBUG if verbose >= 2 else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("summarizer").setLevel(logging.INFO if verbose else logging.WARNING)
    if verbose < 2:
        for name in ("instructor", "httpx2", "httpcore2", "openai"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


# After an embedded run: what made the briefs (guided: rules and a summary), or why they are thin (extract),
# and the line to run instead.
GUIDED_NOTE = (
    'note: the embedded default found these actors, claims and uncertainties by rule (origin "rules"), and its '
    "summary is the document's opening sentences: no key, nothing sent out. "
    "For briefs written by a capable model, e.g.\n"
    "  OPENAI_API_KEY=sk-... summarizer brief FILE --model gpt-4o-mini\n"
    "  summarizer brief FILE --base-url http://localhost:11434/v1 --model qwen2.5:7b   # Ollama, no key"
)
THIN_CLAIMS = 3
EMBEDDED_NOTE = (
    "note: these briefs are thin: the embedded profile asks a small local model (by default the bundled "
    "SmolLM2-135M, a demo that needs no key and sends nothing out) for a few items. "
    "For real briefs use a capable model, e.g.\n"
    "  OPENAI_API_KEY=sk-... summarizer brief FILE --model gpt-4o-mini\n"
    "  summarizer brief FILE --base-url http://localhost:11434/v1 --model qwen2.5:7b   # Ollama, no key"
)


def _embedded_note(settings: Settings, thin: bool) -> str | None:
    """The note after an embedded run: always for guided briefs, for extracted ones when they are thin."""
    if settings.profile != "embedded":
        return None
    if settings.extraction_method == "guided":
        return GUIDED_NOTE
    return EMBEDDED_NOTE if thin else None


def _terminate_as_exit(signum: int, frame: object) -> None:
    """SIGTERM outside the event loop (inside it, ``_run`` cancels the run as Ctrl-C does)."""
    raise SystemExit(128 + signum)


def run() -> None:
    """The console script: the app, with Click's own usage errors made inert before they are printed (they
    quote option values and environment variables, which may carry terminal escapes)."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        sys.stderr.write("Aborted!\n")
        sys.exit(ExitCode.INTERRUPTED)
    except typer.TyperException as error:  # Click's usage errors (Typer ships its own Click)
        from io import StringIO

        from ..render import inert

        shown = StringIO()
        show = getattr(error, "show", None)
        if show is not None:
            show(file=shown)
        else:
            shown.write(f"Error: {error}\n")
        sys.stderr.write(inert(shown.getvalue()))
        sys.exit(getattr(error, "exit_code", ExitCode.USAGE))
    sys.exit(code if isinstance(code, int) else 0)


# The commands register on ``app`` as their modules are imported: in this order, the order of --help.
from . import brief, daily, history, marks, review  # noqa: E402, F401
