"""The command line: parse → Settings → call the library → render. Nothing else."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
import signal
import sys
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional, TypeVar

import typer
from typer.core import TyperArgument, TyperCommand

from . import __version__
from .errors import EXIT_CODES, ExitCode, SummarizerError, UsageError, exit_code_of

if TYPE_CHECKING:
    from .batch import BatchOptions
    from .daily import BatchRecord, DailyOptions, Manifest, ManifestEntry, Progress
    from .documents import Document
    from .models import Brief, Digest
    from .session import Outcome
    from .settings import Settings


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


def _version(value: bool) -> None:
    if value:
        typer.echo(f"summarizer {__version__}")
        raise typer.Exit()


VerboseOption = Annotated[
    int,
    typer.Option(
        "--verbose",
        "-v",
        count=True,
        show_default=False,
        help="-v: a line per request, retry and re-ask; -vv: with request bodies.",
    ),
]
VersionOption = Annotated[
    bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
]


@app.callback()
def main(
    version: VersionOption = False,
) -> None:
    """Turn documents into typed, grounded briefs with an LLM."""


def _say(message: str, *, one_line: bool = True) -> None:
    """A diagnostic on stderr. Messages carry file names and model text: made inert first (and kept on one
    line where a file name's newline could forge a line of its own)."""
    from .render import inert

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
POLL_S = 10.0  # daily --wait: the first wait between two polls of the Batch API
_DAILY_CODES = (
    *_BRIEF_CODES[:-2],
    ExitCode.BUSY,
    ExitCode.IN_PROGRESS,
    ExitCode.SYNTHESIS,
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


def _writes_folder(output: str, many: bool) -> bool:
    return many or Path(output).is_dir() or output.endswith(("/", os.sep))


def _emit(outcome: Outcome, fmt: str, output: Optional[str], stems: dict[str, str], quiet: bool) -> None:
    """One brief to stdout, its file, or its own file in the output folder (``stems``: unique per input)."""
    from .render import render
    from .store import brief_json, save_brief

    assert outcome.brief is not None
    many = len(stems) > 1
    if output is not None:
        folder = _writes_folder(output, many)
        target = Path(output) / f"{stems[outcome.source]}.{fmt}" if folder else Path(output)
        save_brief(outcome.brief, target, outcome.text, lambda brief: render(brief, fmt))
        if not quiet:
            _say(f"wrote {target}", one_line=True)
    elif fmt == "json" and many:
        typer.echo(brief_json(outcome.brief, indent=None), nl=False)
        typer.echo("")
    else:
        typer.echo(render(outcome.brief, fmt), nl=False)
        if many:
            typer.echo("\n---\n")


def _describe(outcome: Outcome) -> str:
    brief = outcome.brief
    assert brief is not None
    return (
        f"{outcome.source}: {len(brief.actors)} actors, {len(brief.claims)} claims, "
        f"{len(brief.uncertainties)} uncertainties, {len(brief.rejected)} rejected; "
        f"{brief.run.attempts} call(s), {brief.run.usage.total_tokens} tokens, {brief.run.latency_s:.1f} s"
    )


ProviderOption = Annotated[
    Optional[str],
    typer.Option(
        "--provider",
        "-p",
        help="openai | local | replay. Default: $SUMMARIZER_PROVIDER, then openai when "
        "OPENAI_API_KEY or OPENAI_BASE_URL is set, then the embedded local model.",
    ),
]
ModelOption = Annotated[Optional[str], typer.Option("--model", "-m", help="Model name sent to the endpoint.")]
BaseUrlOption = Annotated[
    Optional[str],
    typer.Option(
        "--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 (default: $OPENAI_BASE_URL)."
    ),
]
RecordOption = Annotated[
    Optional[Path],
    typer.Option(
        "--record", help="Record every LLM exchange as fixtures in DIR (one .jsonl per document).", metavar="DIR"
    ),
]
ReplayOption = Annotated[
    Optional[Path],
    typer.Option(
        "--replay",
        help="Answer from fixtures recorded in DIR (or one .jsonl file); no network. Default: $SUMMARIZER_REPLAY.",
        metavar="DIR",
        envvar="SUMMARIZER_REPLAY",
        show_envvar=False,
    ),
]


ProfileOption = Annotated[
    Optional[str],
    typer.Option(
        "--profile",
        help="embedded (a small local model: guided extraction unless --method extract, then small fixed caps, "
        "one pass) | capable (caps follow the document, continuation passes). "
        "Default: embedded for the local provider or the embedded model's name, else capable.",
    ),
]
MethodOption = Annotated[
    Optional[str],
    typer.Option(
        "--method",
        help="guided (the program finds the attributions by rule; a capable model writes the summary, on the "
        "embedded profile it is the document's lead) | extract (the model writes every item; grounded after). "
        "Default: guided for the embedded profile, else extract.",
    ),
]
ModelPathOption = Annotated[
    Optional[Path],
    typer.Option("--model-path", help="GGUF file for the local provider (default: the bundled SmolLM2-135M-Instruct)."),
]
NCtxOption = Annotated[Optional[int], typer.Option("--n-ctx", min=512, help="Context size of the local server.")]
ContextTokensOption = Annotated[
    Optional[int],
    typer.Option(
        "--context-tokens",
        min=1024,
        help="The model's context in tokens: long documents are split, and the digest's synthesis batched, to fit "
        "(default: 128000; --n-ctx for the embedded model).",
    ),
]
MaxTokensOption = Annotated[
    Optional[int],
    typer.Option(
        "--max-tokens", min=1, help="Completion tokens per request (default: sized to each request; 1024 embedded)."
    ),
]
MaxOutputTokensOption = Annotated[
    Optional[int],
    typer.Option(
        "--max-output-tokens",
        min=1,
        help="The model's completion ceiling: an answer cut short is asked again up to it "
        "(default: known for common OpenAI models, else 4096).",
    ),
]
TemperatureOption = Annotated[Optional[float], typer.Option("--temperature", help="Sampling temperature.")]
MaxClaimsOption = Annotated[
    Optional[int],
    typer.Option(
        "--max-claims",
        min=1,
        max=60,
        help="Most claims one request (or, guided, one part) may return (default: guided 60; embedded with "
        "--method extract 3; capable: from the document's attribution sentences, 10 to 40).",
    ),
]
PassesOption = Annotated[
    Optional[int],
    typer.Option(
        "--passes",
        min=0,
        max=5,
        help="Continuation passes asking for what is still missing (default: 2 capable, 0 embedded).",
    ),
]


# The options of brief and daily that become Settings (the CLI's names are Settings' names).
_REQUEST_OPTIONS = (
    "profile",
    "method",
    "model_path",
    "n_ctx",
    "context_tokens",
    "max_tokens",
    "max_output_tokens",
    "temperature",
    "max_claims",
    "passes",
)


def _settings(params: dict[str, Any]) -> Settings:
    """Settings from a command's parsed parameters (``ctx.params``): provider, endpoint, fixtures and the
    request options, each left to its default when not given."""
    from .settings import build_settings

    record, replay = params.get("record"), params.get("replay")
    if record is not None and replay is not None:
        raise typer.BadParameter("use either --record or --replay, not both")
    if replay is not None and not replay.exists():
        raise typer.BadParameter(f"replay folder {replay} does not exist", param_hint="--replay")
    values = {key: params[key] for key in _REQUEST_OPTIONS if params.get(key) is not None}
    return build_settings(
        provider=params.get("provider"),
        model=params.get("model"),
        base_url=params.get("base_url"),
        replay_dir=replay,
        record_dir=record,
        **values,
    )


@app.command(
    cls=_Command,
    epilog=examples(
        "summarizer brief examples/article.txt                      # JSON on stdout",
        "summarizer brief examples/article.txt --format md -o brief.md",
        "summarizer brief seeds/wikinews/*.txt -o briefs/           # one file per input",
        "summarizer brief page.html -o - | python3 -m json.tool     # a web page: its article text",
        "cat examples/article.txt | summarizer brief -              # standard input",
        "summarizer brief examples/article.txt --replay fixtures    # offline, from recorded exchanges",
        "OPENAI_API_KEY=sk-... summarizer brief examples/article.txt --model gpt-4o-mini",
    )
    + """Inputs: .txt, .md and .html files (a page is reduced to its article text), or - for stdin.
With several inputs, every input is attempted and the exit code is that of the
first failure.

"""
    + exit_codes_epilog(_BRIEF_CODES),
)
def brief(
    ctx: typer.Context,
    paths: Annotated[
        list[str], typer.Argument(help="Documents (.txt, .md, .html), or - for stdin.", metavar="PATH...")
    ],
    output: Annotated[
        Optional[str],
        typer.Option(
            "--output",
            "-o",
            help="Write to this file (one input) or folder (several inputs, or a path ending in /) instead of "
            "stdout; - is stdout.",
            metavar="PATH",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="json | md")] = "json",
    provider: ProviderOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    record: RecordOption = None,
    replay: ReplayOption = None,
    profile: ProfileOption = None,
    method: MethodOption = None,
    model_path: ModelPathOption = None,
    n_ctx: NCtxOption = None,
    context_tokens: ContextTokensOption = None,
    max_tokens: MaxTokensOption = None,
    max_output_tokens: MaxOutputTokensOption = None,
    temperature: TemperatureOption = None,
    max_claims: MaxClaimsOption = None,
    passes: PassesOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")] = False,
    verbose: VerboseOption = 0,
    version: VersionOption = False,
) -> None:
    """Brief one or more documents: actors, claims with verbatim evidence, uncertainties."""
    from .session import brief_inputs

    if fmt not in ("json", "md"):
        raise typer.BadParameter("choose json or md", param_hint="--format")
    _quiet_libraries(verbose)
    signal.signal(signal.SIGTERM, _terminate_as_exit)
    with _exit_codes():
        settings = _settings(ctx.params)

    def announce(source: str, running: Settings) -> None:
        if not quiet:
            where = f" at {running.public_base_url}" if running.provider == "openai" and running.base_url else ""
            how = f"{running.provider} · {running.model}{where}" if running.briefs_ask_model else "rules (no model)"
            _say(f"briefing {source} with {how} …", one_line=True)

    from .store import ensure_writable, output_stems

    paths = list(dict.fromkeys(paths))  # a path given twice is briefed once
    many = len(paths) > 1
    stems = output_stems(paths)
    if output == "-":  # the usual spelling of standard output
        output = None
    with _exit_codes():
        if output is not None:  # before the first LLM call: a bad output costs no tokens
            ensure_writable(Path(output) if _writes_folder(output, many) else Path(output).parent)

    async def run_all() -> ExitCode:
        first_failure = ExitCode.OK
        thin = briefed = False
        async for outcome in brief_inputs(paths, settings, on_start=announce):
            if outcome.error is not None:
                _error(
                    f"{outcome.source}: {outcome.error}"
                    if outcome.source not in str(outcome.error)
                    else str(outcome.error),
                    one_line=not outcome.error.multiline,
                )
                first_failure = first_failure or exit_code_of(outcome.error)
                continue
            _emit(outcome, fmt, output, stems, quiet)
            if not quiet:
                _say(_describe(outcome))
            thin = thin or (outcome.brief is not None and len(outcome.brief.claims) < THIN_CLAIMS)
            briefed = briefed or outcome.brief is not None
        note = _embedded_note(settings, thin)
        if note and briefed and not quiet:
            typer.echo(note, err=True)
        return first_failure

    with _exit_codes():
        first_failure = _run(run_all())
    raise typer.Exit(first_failure)


@app.command(
    cls=_Command,
    epilog=examples("summarizer show briefs/korea.json", "summarizer show briefs/korea.json --format json")
    + exit_codes_epilog(_READ_CODES),
)
def show(
    path: Annotated[Path, typer.Argument(help="A brief written by 'summarizer brief'.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="md | json")] = "md",
    version: VersionOption = False,
) -> None:
    """Print a saved brief as Markdown (or normalised JSON), after validating it."""
    from .render import render
    from .store import load_brief

    if fmt not in ("json", "md"):
        raise typer.BadParameter("choose md or json", param_hint="--format")
    with _exit_codes():
        brief = load_brief(path)
    typer.echo(render(brief, fmt), nl=False)


@app.command(
    cls=_Command,
    epilog=examples(
        "summarizer daily seeds/ --out days/2026-11-27/",
        "summarizer daily seeds/ --out days/2026-11-28/ --since days/2026-11-27/ --concurrency 8",
        "summarizer daily seeds/ --out /tmp/day --replay fixtures/daily   # offline demo",
        "summarizer daily inbox/ --out days/2026-11-28/ --model gpt-4o-mini --batch   # Batch API: half price",
        "summarizer daily days/2026-11-28/ --collect --model gpt-4o-mini              # later: collect, digest",
    )
    + """Writes briefs/<document>.json (each as soon as it is ready, atomically),
manifest.json (one entry per input: ok, failed, skipped-unchanged,
skipped-budget, skipped-duplicate, pending, submitted), digest.json and digest.md: the day
by story (documents about one event together, named by the model; figures of
the same counted thing compared inside a story). A rerun sends only documents whose
text, prompt, model or schema changed (--force sends all again), so a run
killed halfway resumes where it stopped. Inputs skipped as unchanged or over the
token budget count as briefed; when several inputs fail, the exit code is the
smallest of theirs.

With --batch the documents' requests go to the OpenAI Batch API (half the
price, its own rate limits, answers within 24 hours): the run submits them and
exits; the same command again, or 'daily DAY --collect', collects what has ended
(exit 10 while a batch still runs) and writes briefs and digest; --wait polls
until then.

"""
    + exit_codes_epilog(_DAILY_CODES),
)
def daily(
    ctx: typer.Context,
    paths: Annotated[
        Optional[list[str]],
        typer.Argument(
            help="Folders (their .txt/.md/.html files, recursively; README/LICENSE notes skipped) or files; "
            "with --collect, the day's folder.",
            metavar="PATH...",
        ),
    ] = None,
    out: Annotated[
        Optional[Path], typer.Option("--out", "--output", "-o", help="Folder for the briefs, manifest and digest.")
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-j", min=1, max=64, help="Documents sent to the model at once.")
    ] = 4,
    force: Annotated[bool, typer.Option("--force", help="Brief every document again, even unchanged ones.")] = False,
    since: Annotated[
        Optional[Path],
        typer.Option("--since", help="An earlier daily folder: mark each claim new, repeated or changed."),
    ] = None,
    token_budget: Annotated[
        Optional[int],
        typer.Option(
            "--token-budget", min=1, help="Stop sending new documents once the run has used this many tokens."
        ),
    ] = None,
    prices: Annotated[
        Optional[Path],
        typer.Option(
            "--prices",
            help='Price table (JSON: {"MODEL": {"input": USD per 1M, "output": USD per 1M, "batch": 0.5}}; '
            "batch: the factor on tokens answered by the Batch API, 0.5 when not given).",
        ),
    ] = None,
    batch: Annotated[
        bool, typer.Option("--batch", help="Submit the requests to the OpenAI Batch API instead of sending them.")
    ] = False,
    collect: Annotated[
        bool, typer.Option("--collect", help="Collect the batches of the day's folder; submit no new document.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="--batch/--collect: poll until every batch has ended, then collect.")
    ] = False,
    follow_up: Annotated[
        Optional[str],
        typer.Option(
            "--follow-up",
            help="--batch: where the requests that answers call for (repairs, continuation passes) and the "
            "digest's synthesis go: online | batch (the next batch). Default: as submitted, else online.",
        ),
    ] = None,
    cancel: Annotated[
        bool,
        typer.Option("--cancel", help="Cancel the folder's open batches; collect what they answered (rest: pending)."),
    ] = False,
    poll: Annotated[
        float, typer.Option("--poll", min=0.01, help="--wait: seconds before the first poll (grows to 2 minutes).")
    ] = POLL_S,
    synthesis: Annotated[
        str,
        typer.Option(
            "--synthesis",
            help="Who makes the digest's stories: rules (documents sharing salient names grouped, no model) | "
            "model (a model also finds contradictions and open questions; on the embedded profile it needs the "
            "'local' extra) | auto (model for a capable model, rules on the embedded default).",
        ),
    ] = "auto",
    synthesis_timeout: Annotated[
        float,
        typer.Option(
            "--synthesis-timeout",
            min=0.1,
            help="Seconds the model's synthesis may take, all its requests together; past it the digest keeps the "
            "stories made by rule and the run exits 11.",
        ),
    ] = 300.0,
    retry_synthesis: Annotated[
        bool,
        typer.Option(
            "--retry-synthesis",
            help="Ask the model again for a synthesis that ran past its time limit on these same briefs.",
        ),
    ] = False,
    provider: ProviderOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    record: RecordOption = None,
    replay: ReplayOption = None,
    profile: ProfileOption = None,
    method: MethodOption = None,
    model_path: ModelPathOption = None,
    n_ctx: NCtxOption = None,
    context_tokens: ContextTokensOption = None,
    max_tokens: MaxTokensOption = None,
    max_output_tokens: MaxOutputTokensOption = None,
    temperature: TemperatureOption = None,
    max_claims: MaxClaimsOption = None,
    passes: PassesOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors and the summary on stderr.")] = False,
    verbose: VerboseOption = 0,
    version: VersionOption = False,
) -> None:
    """Brief a day's documents concurrently, then write a manifest and a cross-document digest."""
    from .batch import BatchOptions, has_open_batch
    from .daily import DIGEST, DailyOptions, run_daily

    _quiet_libraries(verbose)
    signal.signal(signal.SIGTERM, _terminate_as_exit)
    paths = list(paths or [])
    if follow_up not in (None, "online", "batch"):
        raise typer.BadParameter("choose online or batch", param_hint="--follow-up")
    if (collect or cancel) and out is None and len(paths) == 1:
        out, paths = Path(paths[0]), []  # daily DAY --collect
    if out is None:
        raise typer.BadParameter("give the folder for the briefs, manifest and digest", param_hint="--out")
    if not paths and not (collect or cancel):
        raise typer.BadParameter("give the day's documents (a folder or files)", param_hint="PATH...")
    if str(out) == "-":
        raise typer.BadParameter("daily writes a folder (briefs, manifest, digest): give its path", param_hint="--out")
    if since is not None and not since.is_dir():
        raise typer.BadParameter(
            f"{since}: no such folder (give the --out folder of an earlier day)", param_hint="--since"
        )
    if since is not None and not (since / DIGEST).is_file():
        raise typer.BadParameter(
            f"{since} holds no {DIGEST}: it is not the --out folder of a finished daily run", param_hint="--since"
        )
    with _exit_codes():
        if paths and not any(path == "-" or Path(path).exists() for path in paths):
            from .errors import DocumentError

            raise DocumentError(f"{', '.join(paths)}: no such file or folder; nothing was sent or written")
        settings = _settings(ctx.params)
    if synthesis not in ("auto", "rules", "model"):
        raise typer.BadParameter("choose auto, rules or model", param_hint="--synthesis")
    if not quiet:
        how = f"{settings.provider} · {settings.model}" if settings.briefs_ask_model else "rules (no model)"
        _say(f"daily run with {how} → {out}", one_line=True)
    options = DailyOptions(
        out=out,
        concurrency=concurrency,
        force=force,
        since=since,
        token_budget=token_budget,
        prices=prices,
        synthesis="model" if synthesis == "model" else "rules" if synthesis == "rules" else "auto",
        synthesis_timeout_s=synthesis_timeout,
        retry_synthesis=retry_synthesis,
    )
    if batch or collect or cancel or has_open_batch(out):
        choice = BatchOptions(
            wait=wait,
            follow_up="batch" if follow_up == "batch" else "online" if follow_up == "online" else None,
            collect_only=collect or cancel,
            cancel=cancel,
            poll_s=poll,
        )
        _daily_batch(paths, settings, options, choice, quiet=quiet)
        return
    for given, name in ((wait, "--wait"), (follow_up, "--follow-up"), (poll != POLL_S, "--poll")):
        if given:
            raise typer.BadParameter(f"{name} goes with --batch or --collect", param_hint=name)
    with (
        _exit_codes(interrupted=f"interrupted; finished briefs are kept in {out}, rerun to resume"),
        _daily_progress(quiet, settings) as progress,
    ):
        manifest, digest = _run(run_daily(paths, settings, options, progress))
    note = _embedded_note(settings, len(digest.claims()) < THIN_CLAIMS * len(digest.documents))
    _daily_report(manifest, out, note if digest.documents and not quiet else None, digest)


def _daily_batch(
    paths: list[str], settings: Settings, options: DailyOptions, choice: BatchOptions, *, quiet: bool
) -> None:
    """daily --batch / --collect: submit, or collect what has ended; report where the day stands."""
    from .batch import BatchEvents, run_batch

    out = options.out
    with _exit_codes():
        if not settings.briefs_ask_model:
            raise UsageError(
                "--batch: the embedded default briefs by rule and asks no model per document, so there is nothing "
                "to batch; give a capable model (--model, --base-url) or run daily without --batch"
            )
        if settings.provider == "local" and settings.replay_dir is None:
            raise UsageError("--batch: the embedded llama.cpp server has no Batch API; use an OpenAI-compatible one")

    def submitted(record: BatchRecord, found: bool) -> None:
        if not quiet:
            done = "found the batch an interrupted run made for" if found else "submitted"
            _say(f"{done} {record.requests} request(s): batch {record.id} ({record.name}, wave {record.wave})")

    def polled(records: list[BatchRecord]) -> None:
        if not quiet:
            _say("waiting: " + "; ".join(_batch_state(r) for r in records), one_line=True)

    def collecting(record: BatchRecord, documents: int) -> None:
        if not quiet:
            what = f"{documents} document(s)" if documents else "the digest's synthesis"
            _say(f"collecting batch {record.id} ({record.status}): {what}", one_line=True)

    events = BatchEvents(submitted=submitted, polled=polled, collecting=collecting)
    with (
        _exit_codes(interrupted=f"interrupted; the manifest in {out} keeps every batch, rerun to resume"),
        _daily_progress(quiet, settings) as progress,
    ):
        outcome = _run(run_batch(paths, settings, options, choice, progress, events))
    manifest = outcome.manifest
    if outcome.idle:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(manifest.counts().items()))
        _say(f"{out} has no open batch: nothing to collect ({counts})")
        return
    if not outcome.open:
        pending = sum(1 for e in manifest.entries if e.status == "pending")
        if pending and not quiet:
            _say(
                f"{pending} document(s) pending (not answered by a batch, or changed since): the day's command "
                f"again (summarizer daily INBOX --out {shlex.quote(str(out))} --batch) sends them"
            )
        _daily_report(manifest, out, digest=outcome.digest)
        return
    for entry in manifest.entries:
        if entry.status == "failed":
            error = entry.error or "failed"
            _error(error if error.startswith(entry.source) else f"{entry.source}: {error}", one_line=True)
    states = "; ".join(_batch_state(r) for r in outcome.open)
    again = f"summarizer daily {shlex.quote(str(out))} --collect"
    if outcome.submitted:  # this run submitted (a first wave, or follow-ups): it did its part
        _say(
            f"{states}. The Batch API answers within 24 h; collect with: {again} "
            "(the same --model and endpoint; add --wait to poll)"
        )
        return
    _say(f"{states}; not ended yet: run '{again}' again later, or add --wait")
    raise typer.Exit(ExitCode.IN_PROGRESS)


def _batch_state(record: BatchRecord) -> str:
    done = f", {record.completed + record.failed}/{record.requests} answered" if record.id else ""
    return f"batch {record.id or record.name} {record.status}{done}"


def _daily_report(manifest: Manifest, out: Path, note: str | None = None, digest: Digest | None = None) -> None:
    """The failures and the closing line of a finished daily run; exits with the failures' code, else 11
    when the digest's synthesis by a model failed."""
    for entry in manifest.entries:
        if entry.status == "failed":
            error = entry.error or "failed"
            _error(error if error.startswith(entry.source) else f"{entry.source}: {error}", one_line=True)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(manifest.counts().items()))
    cost = f", ${manifest.cost:.4f}" if manifest.cost is not None else ""
    batched = manifest.batch_usage.total_tokens
    share = f"; {batched} of them answered by the Batch API" if batched else ""
    _say(
        f"{counts}; {manifest.usage.total_tokens} tokens ({manifest.usage.prompt_tokens} prompt + "
        f"{manifest.usage.completion_tokens} completion{share}){cost} in {manifest.wall_s:.1f} s; "
        f"digest: {out / 'digest.md'}"
    )
    if note:
        typer.echo(note.replace("summarizer brief FILE", "summarizer daily INBOX --out DAY"), err=True)
    failed = [exit_code_of(e.error_kind) for e in manifest.entries if e.status == "failed"]
    from .daily import synthesis_failed

    if digest is not None and synthesis_failed(digest):
        _error(f"the digest's synthesis: {digest.synthesis_error}", one_line=True)
        failed.append(ExitCode.SYNTHESIS)
    if failed:
        raise typer.Exit(min(failed))  # the most basic problem first: input, provider, LLM, fixture, synthesis


@contextmanager
def _daily_progress(quiet: bool, settings: Settings) -> Iterator[Progress]:
    """A rich progress bar on a terminal, plain log lines otherwise; a line when a model's synthesis starts."""
    from .daily import Progress

    def passed_over(folder: str) -> None:
        if not quiet:
            _say(
                f"skipped {folder}: a daily run's folder (the --out folder, or an earlier day), not documents",
                one_line=True,
            )

    def warning(message: str) -> None:
        _say(f"summarizer: warning: {message}")

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
            )
        return

    def done(entry: ManifestEntry) -> None:
        if not quiet:
            tokens = f", {entry.usage.total_tokens} tokens" if entry.usage.total_tokens else ""
            detail = f": {entry.error}" if entry.error and entry.status != "failed" else ""
            _say(f"{entry.status}: {entry.source}{tokens}{detail}", one_line=True)

    yield Progress(done=done, synthesising=synthesising, passed_over=passed_over, warning=warning)


SourceOption = Annotated[
    Optional[Path],
    typer.Option("--source", "-s", help="The source document (default: the path recorded in the brief)."),
]


def _load_for_review(path: Path, source: Optional[Path], *, required: bool) -> tuple[Brief, Optional[Document]]:
    """The brief and, when it can be read, its source document (a DocumentError when ``required``)."""
    from .store import load_brief

    return _with_source(path, load_brief(path), source, required=required)


def _with_source(
    path: Path, brief: Brief, source: Optional[Path], *, required: bool
) -> tuple[Brief, Optional[Document]]:
    from .check import source_for
    from .errors import DocumentError

    try:
        return brief, source_for(brief, source, path)
    except DocumentError as error:
        if required:
            raise DocumentError(f"source of {path}: {error}") from error
        _say(f"summarizer: note: source not available ({error}); showing quotes without context")
        return brief, None


_CHECK_CODES = (ExitCode.OK, ExitCode.INTERNAL, ExitCode.USAGE, ExitCode.INPUT, ExitCode.CHECK_FAILED)


@app.command(
    cls=_Command,
    epilog=examples("summarizer check briefs/korea.json", "summarizer check brief.json --source article.txt --strict")
    + """Exit 0 when every span is verified (and, with --strict, no coverage gap is
found and every claim's evidence says more than a name); 7 also when --strict
finds coverage gaps or evidence that only names a source.

"""
    + exit_codes_epilog(_CHECK_CODES),
)
def check(
    path: Annotated[Path, typer.Argument(help="A brief written by 'summarizer brief'.")],
    source: SourceOption = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Also fail on coverage gaps and on evidence that only names a source.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the verdict line.")] = False,
    version: VersionOption = False,
) -> None:
    """Re-verify a brief against its source: schema, hash, every span, and coverage gaps."""
    from .check import check_brief
    from .render import inert

    with _exit_codes():
        brief, document = _load_for_review(path, source, required=True)
    assert document is not None
    report = check_brief(brief, document)
    if not report.hash_matches:
        now, then = (
            (document.sha256, brief.document.sha256) if brief.document.sha256 else (document.id, brief.document.id)
        )
        _error(f"{report.source} has changed since the brief was made (sha256 {(now or '')[:12]}… != {then[:12]}…)")
    for failure in report.failures:
        _error(str(failure))
    claims = {claim.id: claim for claim in brief.claims}
    for claim_id in report.unsupported if not quiet else []:
        quote = claims[claim_id].evidence.quote
        typer.echo(f"unsupported {claim_id}: evidence {quote!r} only names a source; it does not say what was asserted")
    if not quiet:
        for gap in report.gaps:
            typer.echo(inert(f"gap [{gap.start}:{gap.end}] ({', '.join(gap.cues)}): {gap.sentence}", newlines=False))
    verdict = "ok" if report.clean else "FAILED"
    kept = len(brief.claims) + len(brief.uncertainties) + len(brief.actors)
    typer.echo(
        f"{verdict}: {report.spans_checked - len(report.failures)}/{report.spans_checked} spans verified "
        f"(grounding rate {report.grounding_rate:.0%}); {kept} "
        f"items kept, {len(brief.rejected)} rejected (kept rate {report.kept_rate:.0%}); "
        f"{len(report.gaps)} coverage gap(s); {len(report.unsupported)} claim(s) whose evidence only names a source"
    )
    if not report.clean or (strict and (report.gaps or report.unsupported)):
        raise typer.Exit(ExitCode.CHECK_FAILED)


@app.command(
    cls=_Command,
    epilog=examples("summarizer review briefs/korea.json | less -R", "summarizer review days/2026-11-28/digest.json")
    + exit_codes_epilog(_READ_CODES),
)
def review(
    path: Annotated[Path, typer.Argument(help="A brief written by 'summarizer brief', or a daily digest.json.")],
    source: SourceOption = None,
    version: VersionOption = False,
) -> None:
    """Review a brief (or a daily digest.json) in the terminal: claims with their evidence in context."""
    from rich.console import Console

    from .models import Digest
    from .render import print_digest_review, print_review
    from .store import load_saved

    # Model and document strings are data: no markup ("[link=…]", "[/]"), no emoji codes, no highlighting.
    console = Console(highlight=False, markup=False, emoji=False)
    with _exit_codes():
        saved = load_saved(path)
        if isinstance(saved, Digest):
            print_digest_review(saved, console)
            return
        brief, document = _with_source(path, saved, source, required=False)
    print_review(brief, document.text if document else None, console)


_RENDER_CODES = (*_READ_CODES, ExitCode.CHECK_FAILED, ExitCode.OUTPUT)


@app.command(
    cls=_Command,
    epilog=examples(
        "summarizer render briefs/korea.json --html report/korea.html",
        "summarizer render days/2026-11-28/digest.json --html report/index.html",
        "summarizer render edited.json --source article.txt --html page.html --force",
    )
    + """The source is verified first, as check does (its sha256, every span): a
source that changed since the brief was made would put the highlights in the
wrong places, so render refuses it (exit 7) unless --force.

"""
    + exit_codes_epilog(_RENDER_CODES),
)
def render(
    path: Annotated[Path, typer.Argument(help="A brief written by 'summarizer brief', or a daily digest.json.")],
    html: Annotated[Path, typer.Option("--html", "--output", "-o", help="Write a self-contained HTML page here.")],
    source: SourceOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Render even when the source changed since the brief was made (warns).")
    ] = False,
    version: VersionOption = False,
) -> None:
    """Render a brief as one self-contained HTML page: the source with highlights and clickable claims.

    Given a daily digest.json, writes a page per document beside the digest page
    and the digest page linking them. -o - prints a brief's page on stdout.
    """
    from .models import Digest
    from .render import to_html
    from .store import atomic_write_text, load_saved

    to_stdout = str(html) == "-"
    with _exit_codes():
        saved = load_saved(path)
        if isinstance(saved, Digest):
            if to_stdout:
                raise typer.BadParameter(
                    "a digest is several pages (one per document): give a file, e.g. report/index.html",
                    param_hint="--html",
                )
            pages = _render_digest(path, saved, html, force)
            _say(f"wrote {html} and {len(pages)} document page(s) beside it")
            return
        brief, document = _with_source(path, saved, source, required=True)
        assert document is not None
        _verified(path, brief, document, force)
        page = to_html(brief, document.text)
        if not to_stdout:
            atomic_write_text(html, page)
    if to_stdout:
        typer.echo(page, nl=False)
        return
    _say(f"wrote {html}")


def _verified(path: Path, brief: Brief, document: Document, force: bool) -> None:
    """Refuse (``SourceChanged``) a source that no longer holds what the brief says; warn with --force."""
    from .check import check_brief
    from .errors import SourceChanged

    report = check_brief(brief, document)
    if report.clean:
        return
    problem = "has changed since the brief was made" if not report.hash_matches else "does not match the brief"
    spans = f"{len(report.failures)} of {report.spans_checked} spans do not hold their quotes"
    failed = f", {spans}" if report.failures else ""
    message = f"{path}: its source {report.source} {problem}{failed}"
    if not force:
        raise SourceChanged(
            f"{message}; the highlights would be wrong. See `summarizer check {path}`, brief the document "
            "again, or pass --force to render anyway"
        )
    _say(f"summarizer: warning: {message}; rendering anyway (--force): highlights may be wrong")


def _render_digest(path: Path, digest: Digest, html: Path, force: bool) -> dict[str, str]:
    """A page per document beside ``html``, then the digest page linking them; brief file → page name.

    Page names are the briefs' stems made safe for links, never the digest page's own name."""
    from .render import digest_html, to_html
    from .store import atomic_write_text, output_stems

    stems = output_stems([html.name, *digest.documents.values()])
    taken = {html.name.lower()}
    pages = {}
    for file in digest.documents.values():
        brief, document = _load_for_review(path.parent / file, None, required=True)
        assert document is not None
        _verified(path.parent / file, brief, document, force)
        name, n = f"{stems[file]}.html", 1
        while name.lower() in taken:
            n += 1
            name = f"{stems[file]}-{n}.html"
        taken.add(name.lower())
        atomic_write_text(html.parent / name, to_html(brief, document.text))
        pages[file] = name
    atomic_write_text(html, digest_html(digest, pages))
    return pages


@app.command(cls=_Command)
def schema(
    draft: Annotated[
        bool, typer.Option("--extraction", help="Print the LLM-facing extraction schema instead.")
    ] = False,
    version: VersionOption = False,
) -> None:
    """Print the JSON Schema of a Brief (the output format)."""
    from .models import Brief, Extraction

    model = Extraction if draft else Brief
    typer.echo(json.dumps(model.model_json_schema(), indent=2))


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

        from .render import inert

        shown = StringIO()
        show = getattr(error, "show", None)
        if show is not None:
            show(file=shown)
        else:
            shown.write(f"Error: {error}\n")
        sys.stderr.write(inert(shown.getvalue()))
        sys.exit(getattr(error, "exit_code", ExitCode.USAGE))
    sys.exit(code if isinstance(code, int) else 0)
