"""daily: a day's documents briefed concurrently, then a manifest and a digest (--batch and --collect:
``batch``; the progress and the closing report: ``report``)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import ExitCode
from . import (
    _BRIEF_CODES,
    THIN_CLAIMS,
    _Command,
    _embedded_note,
    _exit_codes,
    _quiet_libraries,
    _run,
    _say,
    _terminate_as_exit,
    app,
    examples,
    exit_codes_epilog,
)
from .batch import daily_batch
from .history import DbOption, record_day, since_folder
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
    TemperatureOption,
    VerboseOption,
    VersionOption,
    _settings,
)
from .report import daily_progress, daily_report

POLL_S = 10.0  # daily --wait: the first wait between two polls of the Batch API
_DAILY_CODES = (
    *_BRIEF_CODES[:-2],
    ExitCode.BUSY,
    ExitCode.IN_PROGRESS,
    ExitCode.SYNTHESIS,
    ExitCode.INTERRUPTED,
    ExitCode.TERMINATED,
)


@app.command(
    cls=_Command,
    epilog=examples(
        "summarizer daily seeds/ --out days/2026-11-27/",
        "summarizer daily seeds/ --out days/2026-11-28/ --since days/2026-11-27/ --concurrency 8",
        "summarizer daily seeds/ --out /tmp/day --replay fixtures/daily   # offline demo",
        "summarizer daily inbox/ --out days/2026-11-28/ --model gpt-4o-mini --batch   # Batch API: half price",
        "summarizer daily days/2026-11-28/ --collect --model gpt-4o-mini              # later: collect, digest",
        "summarizer daily --feed https://example.org/news/rss.xml --out days/2026-11-29/   # a feed's entries",
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

With --feed, each RSS/Atom entry's link is fetched once (timeouts, a size
limit, a content-type check) and saved with its title, outlet, author and date
into the day's inputs/ folder: a rerun fetches no entry again, and an entry an
earlier day beside this one (or --since) already holds is not briefed again.

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
    feed: Annotated[
        Optional[list[str]],
        typer.Option(
            "--feed",
            help="An RSS or Atom feed (an http(s) address or a file): its entries' pages are fetched and briefed. "
            "Repeat for several.",
            metavar="URL_OR_FILE",
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-j", min=1, max=64, help="Documents sent to the model at once.")
    ] = 4,
    force: Annotated[bool, typer.Option("--force", help="Brief every document again, even unchanged ones.")] = False,
    since: Annotated[
        Optional[Path],
        typer.Option(
            "--since",
            help="An earlier daily folder, or a day the history holds (YYYY-MM-DD): mark each claim new, repeated "
            "or changed.",
        ),
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
    history: Annotated[
        bool,
        typer.Option("--history/--no-history", help="Add the day's briefs to the history database (see 'history')."),
    ] = True,
    db: DbOption = None,
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
    from ..batch import BatchOptions, has_open_batch
    from ..daily import DIGEST, DailyOptions, run_daily

    _quiet_libraries(verbose)
    signal.signal(signal.SIGTERM, _terminate_as_exit)
    paths = list(paths or [])
    if follow_up not in (None, "online", "batch"):
        raise typer.BadParameter("choose online or batch", param_hint="--follow-up")
    if (collect or cancel) and out is None and len(paths) == 1:
        out, paths = Path(paths[0]), []  # daily DAY --collect
    if out is None:
        raise typer.BadParameter("give the folder for the briefs, manifest and digest", param_hint="--out")
    feeds = list(feed or [])
    if not paths and not feeds and not (collect or cancel):
        raise typer.BadParameter("give the day's documents (a folder or files), or --feed", param_hint="PATH...")
    if str(out) == "-":
        raise typer.BadParameter("daily writes a folder (briefs, manifest, digest): give its path", param_hint="--out")
    since = since_folder(str(since), db) if since is not None else None
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
            from ..errors import DocumentError

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
        feeds=feeds,
    )
    if feeds and (batch or collect or cancel):
        raise typer.BadParameter(
            "--feed runs online, not with --batch, --collect or --cancel",
            param_hint="--feed",
        )
    if batch or collect or cancel or has_open_batch(out):
        choice = BatchOptions(
            wait=wait,
            follow_up="batch" if follow_up == "batch" else "online" if follow_up == "online" else None,
            collect_only=collect or cancel,
            cancel=cancel,
            poll_s=poll,
        )
        daily_batch(paths, settings, options, choice, quiet=quiet, finished=lambda: record_day(out, db, history, quiet))
        return
    for given, name in ((wait, "--wait"), (follow_up, "--follow-up"), (poll != POLL_S, "--poll")):
        if given:
            raise typer.BadParameter(f"{name} goes with --batch or --collect", param_hint=name)
    with (
        _exit_codes(interrupted=f"interrupted; finished briefs are kept in {out}, rerun to resume"),
        daily_progress(quiet, settings) as progress,
    ):
        manifest, digest = _run(run_daily(paths, settings, options, progress))
    record_day(out, db, history, quiet)
    note = _embedded_note(settings, len(digest.claims()) < THIN_CLAIMS * len(digest.documents))
    daily_report(manifest, out, note if digest.documents and not quiet else None, digest)
