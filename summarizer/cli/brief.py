"""brief and show: documents → briefs on stdout or in files; a saved brief printed."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ..errors import ExitCode, exit_code_of
from . import (
    _BRIEF_CODES,
    _READ_CODES,
    THIN_CLAIMS,
    _Command,
    _embedded_note,
    _error,
    _exit_codes,
    _quiet_libraries,
    _run,
    _say,
    _terminate_as_exit,
    app,
    examples,
    exit_codes_epilog,
)
from .options import (
    BaseUrlOption,
    ContextTokensOption,
    MaxClaimsOption,
    MaxOutputTokensOption,
    MaxTokensOption,
    MethodOption,
    ModelOption,
    ModelPathOption,
    NCtxOption,
    PassesOption,
    ProfileOption,
    ProviderOption,
    RecordOption,
    ReplayOption,
    ShowRejectedOption,
    TemperatureOption,
    VerboseOption,
    VersionOption,
    _settings,
)

if TYPE_CHECKING:
    from ..session import Outcome
    from ..settings import Settings


def _writes_folder(output: str, many: bool) -> bool:
    return many or Path(output).is_dir() or output.endswith(("/", os.sep))


def _emit(outcome: Outcome, fmt: str, output: Optional[str], stems: dict[str, str], quiet: bool) -> None:
    """One brief to stdout, its file, or its own file in the output folder (``stems``: unique per input)."""
    from ..render import render
    from ..store import brief_json, save_brief

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


def _read_meta(path: Path) -> dict[str, str]:
    from ..documents import parse_meta
    from ..errors import DocumentError
    from ..store import NotRegular, TooLarge, read_limited

    try:
        return parse_meta(read_limited(path, 64 * 1024), f"--meta {path}")
    except (OSError, TooLarge, NotRegular) as error:
        raise DocumentError(f"--meta {path}: cannot read it ({getattr(error, 'strerror', None) or error})") from None


def _describe(outcome: Outcome) -> str:
    brief = outcome.brief
    assert brief is not None
    return (
        f"{outcome.source}: {len(brief.actors)} actors, {len(brief.claims)} claims, "
        f"{len(brief.uncertainties)} uncertainties, {len(brief.rejected)} rejected; "
        f"{brief.run.attempts} call(s), {brief.run.usage.total_tokens} tokens, {outcome.wall_s:.1f} s"
        + (f" ({brief.run.latency_s:.1f} s waiting on the model)" if brief.run.attempts else "")
    )


@app.command(
    cls=_Command,
    epilog=examples(
        "summarizer brief examples/article.txt                      # JSON on stdout",
        "summarizer brief examples/article.txt --format md -o brief.md",
        "summarizer brief seeds/wikinews/*.txt -o briefs/           # one file per input",
        "summarizer brief page.html -o - | python3 -m json.tool     # a web page: its article text",
        "summarizer brief report.pdf memo.docx -o briefs/           # PDF (text layer) and Word files",
        "summarizer brief https://example.org/story.html -o story.json   # fetched once, text saved beside",
        "summarizer brief notes.txt --meta notes-meta.json          # title, outlet, author, date, url",
        "cat examples/article.txt | summarizer brief -              # standard input",
        "summarizer brief examples/article.txt --replay fixtures    # offline, from recorded exchanges",
        "OPENAI_API_KEY=sk-... summarizer brief examples/article.txt --model gpt-4o-mini",
    )
    + """Inputs: .txt, .md, .html, .pdf and .docx files (a page is reduced to its
article text; a PDF needs a text layer: a scan is refused, there is no OCR),
http(s) addresses, or - for stdin. The text of a page, PDF, Word file or address
is saved beside the brief (NAME.source.txt) so that check and the pages never
need the original again. A brief records the title, outlet, author, date and
address the input gives (meta tags, file properties, a date in the file name),
or a NAME.meta.json beside the file, or --meta.
With several inputs, every input is attempted and the exit code is that of the
first failure.

"""
    + exit_codes_epilog(_BRIEF_CODES),
)
def brief(
    ctx: typer.Context,
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Documents (.txt, .md, .html, .pdf, .docx), http(s) addresses, or - for stdin.", metavar="PATH..."
        ),
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
    meta: Annotated[
        Optional[Path],
        typer.Option(
            "--meta",
            help='A JSON file of the documents\' properties: {"title", "outlet", "author", "date", "url"} (any of '
            "them); it wins over what the input gives.",
            metavar="FILE",
        ),
    ] = None,
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
    from ..session import brief_inputs

    if fmt not in ("json", "md"):
        raise typer.BadParameter("choose json or md", param_hint="--format")
    _quiet_libraries(verbose)
    signal.signal(signal.SIGTERM, _terminate_as_exit)
    with _exit_codes():
        settings = _settings(ctx.params)
        properties = _read_meta(meta) if meta is not None else None

    def announce(source: str, running: Settings) -> None:
        if not quiet:
            where = f" at {running.public_base_url}" if running.provider == "openai" and running.base_url else ""
            how = f"{running.provider} · {running.model}{where}" if running.briefs_ask_model else "rules (no model)"
            _say(f"briefing {source} with {how} …", one_line=True)

    from ..store import ensure_writable, output_stems

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
        async for outcome in brief_inputs(paths, settings, on_start=announce, meta=properties):
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
    show_rejected: ShowRejectedOption = False,
    version: VersionOption = False,
) -> None:
    """Print a saved brief as Markdown (or normalised JSON), after validating it; as a person's review left it
    (NAME.review.json beside it): corrected claimants, rejected items left out."""
    from ..render import render
    from ..reviews import reviewed_brief
    from ..store import load_brief

    if fmt not in ("json", "md"):
        raise typer.BadParameter("choose md or json", param_hint="--format")
    with _exit_codes():
        brief = load_brief(path)
        judged = reviewed_brief(path, brief, show_rejected)
    typer.echo(render(brief, fmt, judged), nl=False)
