"""The daily run: many documents → one brief each, a manifest, and the digest.

Documents go to the model concurrently (at most ``concurrency`` at once); each
brief is written atomically as soon as it is ready and the manifest is
rewritten after every document, so a run killed halfway resumes where it
stopped. A document whose content hash, prompt version, model and schema
version match its existing brief is not sent again.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .digest import (
    Entry,
    SynthesisResult,
    answer_reserve,
    build_digest,
    kept_synthesis,
    merge_actors,
    synthesise,
)
from .documents import SUPPORTED_SUFFIXES, Document
from .errors import (
    BriefError,
    BusyError,
    Deferred,
    DocumentError,
    ErrorKind,
    ExitCode,
    FixtureMissing,
    InputError,
    LLMError,
    OutputError,
    exit_code_of,
    kind_of,
)
from .guided import rules_version
from .models import SCHEMA_VERSION, Brief, Digest, DigestFailure, Usage
from .pipeline import brief_document
from .prompts import prompt_version
from .render import digest_markdown
from .reviews import apply, review_path, reviewed_brief
from .session import FailureProbe, llm_session, read_inputs
from .settings import Settings
from .sizing import SYNTHESIS_CALL_TOKENS
from .store import (
    MAX_SAVED_BYTES,
    atomic_write_text,
    cannot_write,
    ensure_writable,
    load_brief,
    load_digest,
    make_folder,
    model_json,
    output_stems,
    read_limited,
    remove_leftovers,
    save_brief,
    save_model,
)
from .structured import BATCH_DOCUMENT, StructuredLLM, batch_key

if TYPE_CHECKING:
    from .fixtures import BatchRouter

Status = Literal["ok", "failed", "skipped-unchanged", "skipped-budget", "skipped-duplicate", "pending", "submitted"]
NO_CLAIMS = "no claims to compare"  # a synthesis not made for want of claims (not a failure to retry)
BRIEFS = "briefs"
MANIFEST = "manifest.json"
DIGEST = "digest.json"


class ManifestEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    status: Status
    brief: str | None = None
    document_id: str | None = None
    error: str | None = None
    error_kind: ErrorKind | None = Field(default=None, description="input, provider, llm, fixture-missing, internal")
    usage: Usage = Field(default_factory=Usage)
    attempts: int = 0
    latency_s: float = 0.0
    cost: float | None = None
    batch: str | None = Field(default=None, description="submitted: the batch (its name in batches) that holds it")
    custom_ids: list[str] = Field(default_factory=list, description="submitted: its requests in that batch")
    batches: list[str] = Field(
        default_factory=list, description="submitted: every batch of this round, its first requests' first"
    )
    batch_usage: Usage = Field(default_factory=Usage, description="The part of usage answered by a batch")


BatchStatus = Literal[
    "written",
    "uploaded",
    "validating",
    "in_progress",
    "finalizing",
    "completed",
    "expired",
    "cancelling",
    "cancelled",
    "failed",
    "lost",
]
ENDED = ("completed", "expired", "cancelled", "failed", "lost")  # lost: the Batch API no longer knows it


class BatchRecord(BaseModel):
    """One batch of this folder's requests, from the input file written here to the answers collected."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=r"^b[0-9]{1,9}$",
        description="b1, b2, …: its files here are batches/NAME.input.jsonl, .output.jsonl, .errors.jsonl",
    )
    status: BatchStatus = "written"
    requests: int = 0
    wave: int = Field(1, description="1: the documents' first requests; 2 and on: follow-ups of earlier answers")
    input_file_id: str | None = None
    id: str | None = Field(default=None, description="The Batch API's id of the batch")
    output_file_id: str | None = None
    error_file_id: str | None = None
    completed: int = 0
    failed: int = 0
    error: str | None = Field(default=None, description="Why the batch failed, expired or was cancelled")
    synthesis: bool = Field(False, description="It carries the digest's synthesis requests")
    collected: bool = False


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: str = SCHEMA_VERSION
    provider: str
    model: str
    prompt_version: str
    entries: list[ManifestEntry]
    usage: Usage = Field(default_factory=Usage, description="All calls of the run, re-asks and the digest included")
    digest_usage: Usage = Field(default_factory=Usage, description="The synthesis call of the digest")
    cost: float | None = None
    batch_usage: Usage = Field(default_factory=Usage, description="The part of usage answered by a batch")
    batches: list[BatchRecord] = Field(default_factory=list, description="daily --batch: this folder's batches")
    follow_up: Literal["online", "batch"] | None = Field(
        default=None, description="daily --batch: where follow-ups go (kept for the runs that collect)"
    )
    request_settings: str | None = Field(
        default=None, description="daily --batch: a hash of the settings that shape the requests of its batches"
    )
    wall_s: float = 0.0
    finished: bool = False

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.entries:
            counts[entry.status] = counts.get(entry.status, 0) + 1
        return counts


class Prices(BaseModel):
    """Money per million tokens, from the price table: {"model": {"input": 0.15, "output": 0.6, "batch": 0.5}};
    ``batch`` is the factor on tokens answered by the Batch API (half price: 0.5, the default). Strict: a
    price is a JSON number, never a string or a boolean taken for one."""

    model_config = ConfigDict(extra="forbid", strict=True)

    input: float = Field(ge=0, allow_inf_nan=False)
    output: float = Field(ge=0, allow_inf_nan=False)
    batch: float = Field(0.5, ge=0, le=1, allow_inf_nan=False)

    def cost(self, usage: Usage, batch_usage: Usage | None = None) -> float:
        """The cost of ``usage``, of which ``batch_usage`` was answered by a batch at the batch factor."""
        batched = batch_usage or Usage()
        full = (usage.prompt_tokens - batched.prompt_tokens) * self.input
        full += (usage.completion_tokens - batched.completion_tokens) * self.output
        discounted = (batched.prompt_tokens * self.input + batched.completion_tokens * self.output) * self.batch
        return (full + discounted) / 1e6


PRICES_MAX_BYTES = 1024 * 1024


def load_prices(path: Path | None, model: str) -> Prices | None:
    """The prices of ``model`` in the table at ``path`` (None when the table does not list it). A table that
    cannot be read, is not an object of objects, or holds a price that is not a number ≥ 0 is an input error."""
    if path is None:
        return None
    try:
        table = json.loads(read_limited(path, PRICES_MAX_BYTES).decode("utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise InputError(f"{path}: cannot read the price table ({reason})") from None
    if not isinstance(table, dict):
        raise InputError(f"{path}: the price table must be a JSON object, e.g. {PRICE_EXAMPLE}, not a {_kind(table)}")
    if model not in table:
        return None
    try:
        return Prices.model_validate(table[model])
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(
            f"{path}: the price of {model!r} is not valid ({where + ': ' if where else ''}{first['msg']}); "
            f"each model's prices are numbers of USD per million tokens, e.g. {PRICE_EXAMPLE}"
        ) from None


PRICE_EXAMPLE = '{"gpt-4o-mini": {"input": 0.15, "output": 0.6}}'


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "null")


NOT_DOCUMENTS = ("readme", "license", "licence", "notice", "changelog")


def collect_inputs(paths: list[str], out: Path | None = None, skipped: list[str] | None = None) -> list[str]:
    """Files as given; folders expanded to their .txt/.md files, recursively and sorted.

    Hidden files and folders, and a folder's README / LICENSE / NOTICE /
    CHANGELOG notes, are not documents of the day; nor is anything in the
    ``out`` folder or in another day folder (one holding a manifest this program
    wrote): briefing a day's own digest and briefs as news would grow with every
    rerun. The folders passed over are added to ``skipped``.
    """
    inputs: list[str] = []
    for path in paths:
        folder = Path(path)
        if not folder.is_dir():
            inputs.append(path)
            continue
        for root, folders, files in os.walk(folder, followlinks=False):
            here = Path(root)
            if here != folder and (_same_folder(here, out) or is_day_folder(here)):
                folders.clear()
                (skipped if skipped is not None else []).append(root)
                continue
            folders[:] = sorted(name for name in folders if not name.startswith("."))
            for name in sorted(files):
                file = here / name
                if (
                    file.suffix.lower() in SUPPORTED_SUFFIXES
                    and not name.startswith(".")
                    and file.stem.lower() not in NOT_DOCUMENTS
                ):
                    inputs.append(str(file))
    return list(dict.fromkeys(inputs))


def earlier_days(out: Path, since: Path | None) -> list[Path]:
    """The day folders beside ``out`` (other days of the same series), and ``since``: what a feed's entries
    are checked against so that a story fetched yesterday is not briefed again today."""
    folders = [since] if since is not None else []
    parent = out.resolve().parent
    with suppress(OSError):
        folders += [
            folder
            for folder in sorted(parent.iterdir())
            if folder.is_dir() and not _same_folder(folder, out) and is_day_folder(folder)
        ]
    return list(dict.fromkeys(folders))


def _same_folder(a: Path, b: Path | None) -> bool:
    try:
        return b is not None and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def is_day_folder(folder: Path) -> bool:
    """Whether ``folder`` is the --out folder of a daily run: its manifest.json starts as this program writes
    one (a schema version, then the provider, model and prompt version)."""
    try:
        with open(folder / MANIFEST, "rb") as stream:
            head = stream.read(4096)
    except OSError:
        return False
    return b'"schema_version"' in head and b'"prompt_version"' in head and b'"entries"' in head


def brief_names(documents: list[tuple[str, Document | None]]) -> dict[str, str]:
    """source → brief file name: the input's stem, made safe for a file name and a link; a stem shared by
    two inputs gets a hash of the input's path too (stable: the same input keeps its name)."""
    return {source: f"{BRIEFS}/{stem}.json" for source, stem in output_stems(s for s, _ in documents).items()}


def cached_brief(path: Path, document: Document, settings: Settings) -> Brief | None:
    """The existing brief when it was made from this text, prompt, model and schema."""
    try:
        brief = load_brief(path)
    except BriefError:
        return None
    same = (
        brief.document.id == document.id
        and brief.run.prompt_version == prompt_version()
        and brief.run.model == settings.brief_model
        and brief.run.method == settings.extraction_method
        and brief.run.rules_version == (rules_version() if settings.extraction_method == "guided" else None)
        and brief.schema_version.split(".")[0] == SCHEMA_VERSION.split(".")[0]  # a minor version adds fields
    )
    return brief if same else None


# The default bound on the digest's synthesis by a model, all its requests together (--synthesis-timeout).
SYNTHESIS_TIMEOUT_S = 300.0


@dataclass
class DailyOptions:
    out: Path
    concurrency: int = 4
    force: bool = False
    since: Path | None = None
    token_budget: int | None = None
    prices: Path | None = None
    synthesis: Literal["auto", "rules", "model"] = "auto"  # auto: a model's for the capable profile, else rules
    synthesis_timeout_s: float | None = SYNTHESIS_TIMEOUT_S
    retry_synthesis: bool = False  # make again a synthesis that ran past its time limit on the same briefs
    feeds: list[str] = field(default_factory=list)  # RSS/Atom feeds (addresses or files): their entries' pages

    def model_synthesis(self, settings: Settings) -> bool:
        """Whether the digest's stories are asked of a model (else they are made by rule)."""
        return self.synthesis == "model" or (self.synthesis == "auto" and settings.profile == "capable")


@dataclass
class Progress:
    """Callbacks for the CLI's progress display; the library prints nothing."""

    total: Callable[[int], None] = lambda n: None
    sending: Callable[[], None] = lambda: None  # the provider is open; documents go out now
    fetching: Callable[[str], None] = lambda url: None  # a feed entry's page is fetched now
    synthesising: Callable[[int, float | None], None] = lambda briefs, limit: None  # a model's synthesis starts
    passed_over: Callable[[str], None] = lambda folder: None  # a day folder inside the inbox, not read
    warning: Callable[[str], None] = lambda message: None  # something ignored, and why
    done: Callable[[ManifestEntry], None] = lambda entry: None


@dataclass
class _Run:
    settings: Settings
    options: DailyOptions
    manifest: Manifest
    prices: Prices | None
    spent: int = 0
    saved_at: float = 0.0
    kept: Digest | None = None  # this folder's digest from an earlier run, if any
    briefs: dict[str, Brief] = field(default_factory=dict)
    previous: dict[str, str] = field(default_factory=dict)  # source → brief name in the earlier manifest
    saver: ThreadPoolExecutor | None = None  # writes briefs off the event loop
    in_flight: int = 0  # writes handed to ``saver`` and not finished
    writes: threading.Condition = field(default_factory=threading.Condition)
    fatal: OutputError | None = None  # an output that cannot be written stops the run
    saving: bool = False  # a manifest write is in flight
    router: BatchRouter | None = None  # daily --batch: answers from the batch, and what it counted
    digest_batch_usage: Usage = field(default_factory=Usage)

    async def save_manifest_soon(self, every_s: float = 0.5) -> None:
        """Rewrite the manifest at most every ``every_s`` seconds during a run.

        Resuming relies on the briefs on disk (each written atomically), not on
        the manifest, so a manifest a moment behind loses nothing; rewriting all
        entries after each of thousands of documents would cost quadratic time.
        The snapshot is taken on the event loop; the write and sync go to a
        worker thread, one at a time (a later snapshot is never overtaken by an
        earlier one), and no document waits for another's write.
        """
        now = time.monotonic()
        if self.saving or now - self.saved_at < every_s:
            return
        self.saving, self.saved_at = True, now
        try:
            await self.save(atomic_write_text, self.options.out / MANIFEST, self._manifest_json())
        finally:
            self.saving = False

    def save(self, write: Callable[..., None], *args: Any) -> asyncio.Future[None]:
        """Hand a write to the run's writer threads. A stopped run waits for every one of them
        (``wait_for_writes``) before its last manifest, so no brief is left unmarked and no older snapshot
        lands after the last one: a cancelled await does not stop a write that has begun, and a write
        that has not begun is dropped (its brief stays pending)."""
        state = ["queued"]
        with self.writes:
            self.in_flight += 1

        def done() -> None:
            with self.writes:
                self.in_flight -= 1
                self.writes.notify_all()

        def counted() -> None:
            with self.writes:
                if state[0] == "dropped":
                    return
                state[0] = "running"
            try:
                write(*args)
            finally:
                done()

        def cancelled(future: asyncio.Future[None]) -> None:
            with self.writes:
                drop = future.cancelled() and state[0] == "queued"
                if drop:
                    state[0] = "dropped"
            if drop:
                done()

        future = asyncio.get_running_loop().run_in_executor(self.saver, counted)
        future.add_done_callback(cancelled)
        return future

    def wait_for_writes(self, timeout_s: float = 60) -> None:
        with self.writes:
            self.writes.wait_for(lambda: self.in_flight == 0, timeout_s)

    def save_manifest(self) -> None:
        atomic_write_text(self.options.out / MANIFEST, self._manifest_json())

    def _manifest_json(self) -> str:
        self.manifest.usage = sum((e.usage for e in self.manifest.entries), self.manifest.digest_usage)
        self.manifest.batch_usage = sum((e.batch_usage for e in self.manifest.entries), self.digest_batch_usage)
        if self.prices:
            self.manifest.cost = self.prices.cost(self.manifest.usage, self.manifest.batch_usage)
        return model_json(self.manifest)


@contextmanager
def holding(folder: Path) -> Iterator[None]:
    """The daily lock of an output folder, for the whole run: a second run on the same folder is refused
    (``BusyError`` naming the holder's process) instead of sending every document again. The lock is the
    kernel's ``flock`` on the folder itself: no lock file is left behind, and a run killed even with
    SIGKILL releases it."""
    import fcntl

    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        raise cannot_write(folder, error) from error
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(os.fstat(handle).st_ino)
            raise BusyError(
                f"{folder} is being written by another daily run ({holder}); wait for it to finish, "
                "or give another --out"
            ) from None
        yield
    finally:
        os.close(handle)  # releases the lock


def _lock_holder(inode: int) -> str:
    """Who holds the flock on ``inode``, from /proc/locks where the system has it."""
    try:
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if len(fields) > 5 and fields[1] == "FLOCK" and fields[5].rsplit(":", 1)[-1] == str(inode):
                return f"process {fields[4]}"
    except OSError:
        pass
    return "another process"


async def run_daily(
    paths: list[str], settings: Settings, options: DailyOptions, progress: Progress | None = None
) -> tuple[Manifest, Digest]:
    """Brief every input into ``options.out``, then write the digest. Never raises for one bad document.

    Raises before anything is sent or written when no input is a document (an empty folder never
    replaces a day's results), ``OutputError`` when the folder cannot be written, and ``BusyError``
    when another run holds it.
    """
    progress = progress or Progress()
    started = time.perf_counter()
    passed_over: list[str] = []
    inputs = collect_inputs(paths, options.out, passed_over)
    for skipped in passed_over:
        progress.passed_over(skipped)
    if not inputs and not options.feeds:
        raise DocumentError(
            f"{', '.join(paths)}: no documents found (.txt, .md, .html, .pdf, .docx files); nothing was sent or written"
        )
    prices = load_prices(options.prices, settings.model)  # a bad table is refused before anything is written
    make_folder(options.out)
    with holding(options.out), ThreadPoolExecutor(max_workers=8, thread_name_prefix="summarizer-save") as saver:
        for folder in (options.out, options.out / BRIEFS):
            remove_leftovers(folder)  # a run killed mid-write left them; the lock says none is ours now
        for folder in (options.out, options.out / BRIEFS):
            ensure_writable(folder)  # before the first LLM call: a bad output costs no tokens
        failed: dict[str, DocumentError] = {}
        if options.feeds:
            from .feeds import gather  # the web stack only for a run that fetches

            gathered = await asyncio.to_thread(  # fetching blocks: Ctrl-C must still reach the event loop
                gather,
                options.feeds,
                options.out,
                earlier_days(options.out, options.since),
                on_fetch=progress.fetching,
                warn=progress.warning,
            )
            inputs = list(dict.fromkeys([*inputs, *gathered.files, *gathered.failed]))
            failed = gathered.failed
            if not inputs:
                raise DocumentError(f"{', '.join(options.feeds)}: no new entries to brief; nothing was sent")
        run, documents, names, to_send = _plan(inputs, settings, options, prices, progress.warning, failed)
        run.saver = saver
        try:
            return await _brief_and_digest(run, documents, names, to_send, settings, progress, started)
        except BaseException:
            # Ctrl-C, SIGTERM, a failed write: once the briefs being written are on disk, the manifest
            # says so (ok), and every document not finished stays pending.
            run.wait_for_writes()
            with suppress(Exception):
                run.save_manifest()
            raise


async def _brief_and_digest(
    run: _Run,
    documents: list[tuple[str, Document | None]],
    names: dict[str, str],
    to_send: list[tuple[str, Document]],
    settings: Settings,
    progress: Progress,
    started: float,
) -> tuple[Manifest, Digest]:
    progress.total(len(to_send))
    for entry in run.manifest.entries:
        if entry.status != "pending":
            progress.done(entry)
    run.save_manifest()
    made: SynthesisResult | None = None
    by_model = run.options.model_synthesis(settings)
    if to_send or (by_model and _needs_synthesis(run, documents, names, rebriefed=False)):
        position = {source: index for index, (source, _) in enumerate(documents)}
        needed = by_model or (bool(to_send) and settings.briefs_ask_model)
        what = "the digest's synthesis (--synthesis model)" if not settings.briefs_ask_model else "this run"
        async with llm_session(settings, model_needed=needed, what=what) as (llm, running, failure):
            progress.sending()
            await _brief_all(run, to_send, names, position, llm, running, failure, progress)
            if by_model and _needs_synthesis(run, documents, names, rebriefed=bool(to_send)):
                progress.synthesising(len(run.briefs), run.options.synthesis_timeout_s)
                made = await _synthesis(run, documents, names, llm, running)
    digest = _write_digest(run, documents, names, made)
    _remove_renamed(run, names)
    run.manifest.wall_s = round(time.perf_counter() - started, 3)
    run.manifest.finished = True
    run.save_manifest()
    return run.manifest, digest


def _plan(
    inputs: list[str],
    settings: Settings,
    options: DailyOptions,
    prices: Prices | None,
    warn: Callable[[str], None] = lambda m: None,
    failed: dict[str, DocumentError] | None = None,
) -> tuple[_Run, list[tuple[str, Document | None]], dict[str, str], list[tuple[str, Document]]]:
    """Read every input and decide what to send: unreadable → failed, unchanged → skipped, the rest pending.
    ``failed``: inputs known to be bad before reading (a feed, or an entry's page, that could not be fetched)."""
    documents: list[tuple[str, Document | None]] = []
    entries: dict[str, ManifestEntry] = {}
    for source, document, error in read_inputs(inputs, failed=failed):
        documents.append((source, document))
        if error is not None:
            entries[source] = ManifestEntry(source=source, status="failed", error=str(error), error_kind=error.kind)
    names = brief_names(documents)
    run = _Run(
        settings,
        options,
        Manifest(
            provider=settings.brief_provider, model=settings.brief_model, prompt_version=prompt_version(), entries=[]
        ),
        prices,
        kept=_load_digest(options.out),
        previous=_previous_names(options.out, warn),
    )
    to_send: list[tuple[str, Document]] = []
    first: dict[str, str] = {}  # document id → the first input with that text
    for source, document in documents:
        if document is None:
            continue
        if document.id in first:  # the same text under another path: briefed once, listed with both
            entries[source] = ManifestEntry(
                source=source,
                status="skipped-duplicate",
                brief=names[first[document.id]],
                document_id=document.id,
                error=f"same text as {first[document.id]}",
            )
            continue
        first[document.id] = source
        brief = None if options.force else _cached(run, source, names[source], document)
        if brief is None:
            to_send.append((source, document))
            continue
        run.briefs[source] = brief
        entries[source] = ManifestEntry(
            source=source, status="skipped-unchanged", brief=names[source], document_id=document.id
        )
    run.manifest.entries = [entries.get(s) or ManifestEntry(source=s, status="pending") for s, _ in documents]
    return run, documents, names, to_send


# What a manifest may name as a brief: a plain file name in the day's briefs/ folder. Anything else (an
# absolute path, "..", a hidden name) is ignored: nothing outside --out is ever read as a brief or removed.
_BRIEF_NAME = re.compile(rf"^{BRIEFS}/(?!\.)[^/\\\x00-\x1f]+\.json$")


def _previous_names(folder: Path, warn: Callable[[str], None]) -> dict[str, str]:
    """source → brief file in this folder's manifest from an earlier run (empty when there is none); an
    entry naming anything but a plain file of briefs/ is left out, with a warning."""
    try:
        manifest = Manifest.model_validate_json(read_limited(folder / MANIFEST, MAX_SAVED_BYTES))
    except (OSError, ValueError):
        return {}
    names = {}
    for entry in manifest.entries:
        if not entry.brief:
            continue
        if _BRIEF_NAME.match(entry.brief) and ".." not in entry.brief:
            names[entry.source] = entry.brief
        else:
            where = f"{folder / MANIFEST}: ignored the entry of {entry.source}"
            warn(f"{where}: its brief {entry.brief} is not a file name in {BRIEFS}/")
    return names


def _cached(run: _Run, source: str, name: str, document: Document) -> Brief | None:
    """The unchanged brief of ``source``: under its name, or under the name an earlier run gave it (an
    input with the same stem was added since), moved to its name; a brief of an earlier minor schema
    version is brought up to date in place (its source's sha256 and path), not sent again."""
    out = run.options.out
    brief, found = cached_brief(out / name, document, run.settings), out / name
    earlier = run.previous.get(source)
    if brief is None and earlier and earlier != name:
        brief, found = cached_brief(out / earlier, document, run.settings), out / earlier
    if brief is None or (found == out / name and brief.schema_version == SCHEMA_VERSION):
        return brief
    # saved as a fresh brief is: path relative to its folder, the page's text beside it, the file's sha256
    meta = brief.document.model_copy(update={"path": source, "sha256": document.sha256})
    return save_brief(
        brief.model_copy(update={"document": meta, "schema_version": SCHEMA_VERSION}), out / name, document.text
    )


def _remove_renamed(run: _Run, names: dict[str, str]) -> None:
    """Delete the briefs an earlier run wrote for today's inputs under names they no longer have (and the
    page text saved beside a brief of an HTML page), once today's brief of that input is written."""
    out, current = run.options.out, set(names.values())
    for source, earlier in run.previous.items():
        if source in names and earlier != names[source] and earlier not in current and source in run.briefs:
            old = out / earlier
            for path in (old, old.with_name(f"{old.stem}.source.txt")):
                with suppress(OSError):
                    path.unlink(missing_ok=True)


def synthesis_failure(digest: Digest | None) -> str | None:
    """Why the digest has no synthesis when it asked a model for one and got none for a reason other than no
    claims; else None."""
    if digest is None or digest.stories_by != "model" or digest.synthesis_error in (None, NO_CLAIMS):
        return None
    return digest.synthesis_error


def exit_code(manifest: Manifest, digest: Digest | None = None) -> ExitCode:
    """A finished run's exit code: the most basic of its failures' (input, provider, LLM, fixture), else
    ``SYNTHESIS`` when the digest's synthesis by a model failed, else ``OK``."""
    failed = [exit_code_of(e.error_kind) for e in manifest.entries if e.status == "failed"]
    if synthesis_failure(digest) is not None:
        failed.append(ExitCode.SYNTHESIS)
    return min(failed, default=ExitCode.OK)


def _needs_synthesis(
    run: _Run, documents: list[tuple[str, Document | None]], names: dict[str, str], *, rebriefed: bool
) -> bool:
    """An unchanged rerun reuses the digest's synthesis when its briefs are the same, unless that synthesis
    is missing or failed, or the day's documents are not those it was made for: then it is made again, as
    it is when this run made some brief again (``rebriefed``). One that ran past its time limit on these
    same briefs is not (it would again), unless --retry-synthesis."""
    if not any(b.claims for b in run.briefs.values()):
        return False
    if rebriefed:
        return True
    kept = run.kept
    if kept is None or kept.stories_by != "model":
        return True
    same = kept.documents == {e.key: e.file for e in _entries(run, documents, names)}
    if kept.synthesis_final and same:
        return run.options.retry_synthesis
    if kept.synthesis_error not in (None, NO_CLAIMS):
        return True
    return not same


async def _brief_all(
    run: _Run,
    to_send: list[tuple[str, Document]],
    names: dict[str, str],
    position: dict[str, int],
    llm: StructuredLLM,
    settings: Settings,
    failure: FailureProbe,
    progress: Progress,
) -> None:
    gate = asyncio.Semaphore(run.options.concurrency)

    async def one(source: str, document: Document) -> None:
        entry = run.manifest.entries[position[source]]
        async with gate:  # bounds the requests in flight; writing the brief needs no slot
            budget = run.options.token_budget
            if budget is not None and run.spent >= budget:
                entry.status, entry.error = "skipped-budget", f"token budget of {budget} reached"
                progress.done(entry)
                return
            brief: Brief | None = None
            BATCH_DOCUMENT.set(batch_key(document.id))  # this task's requests are this document's (--batch)
            try:
                brief = await brief_document(document, llm, settings)
            except Deferred:  # a follow-up waits for the next batch; the document stays submitted
                entry.status, entry.document_id, entry.error = "submitted", document.id, None
            except (LLMError, FixtureMissing) as error:
                cause = failure() or error
                entry.status, entry.error, entry.error_kind = "failed", str(cause), kind_of(cause)
                entry.document_id = document.id
            else:
                run.spent += brief.run.usage.total_tokens
        if brief is not None:
            # serialising and syncing a brief to disk is file I/O: off the event loop, in a thread that
            # also marks the entry, so a brief written while the run is being stopped is still marked
            await run.save(finish, source, document, brief, entry)
        await run.save_manifest_soon()
        progress.done(entry)

    def finish(source: str, document: Document, brief: Brief, entry: ManifestEntry) -> None:
        saved = save_brief(brief, run.options.out / names[source], document.text)
        run.briefs[source] = saved
        entry.brief, entry.document_id = names[source], document.id
        entry.usage, entry.attempts, entry.latency_s = saved.run.usage, saved.run.attempts, saved.run.latency_s
        entry.batch_usage = run.router.batch_usage.get(batch_key(document.id), Usage()) if run.router else Usage()
        entry.cost = run.prices.cost(saved.run.usage, entry.batch_usage) if run.prices else None
        entry.status = "ok"
        entry.error = entry.batch = None
        entry.custom_ids, entry.batches = [], []  # last: a manifest snapshot never says ok before the rest is set

    async def guarded(source: str, document: Document) -> None:
        try:
            await one(source, document)
        except OutputError as error:  # a full or read-only disk: no other brief can be kept either
            run.fatal = run.fatal or error
            for task in tasks:
                task.cancel()

    tasks = [asyncio.ensure_future(guarded(source, document)) for source, document in to_send]
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    if run.fatal is not None:
        raise run.fatal
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
            raise outcome


def _entries(run: _Run, documents: list[tuple[str, Document | None]], names: dict[str, str]) -> list[Entry]:
    """The day's briefs as the digest reads them: as a person's review left each (corrected claimants,
    rejected items left out), where there is one beside the brief."""
    return [
        Entry(key=f"d{i}", file=names[source], brief=_judged(run.options.out / names[source], run.briefs[source]))
        for i, (source, _) in enumerate(documents, 1)
        if source in run.briefs
    ]


def _judged(path: Path, brief: Brief) -> Brief:
    if not review_path(path).is_file():
        return brief
    try:
        return apply(brief, reviewed_brief(path, brief))
    except BriefError:
        return brief  # an unreadable review never costs the day its digest


async def _synthesis(
    run: _Run,
    documents: list[tuple[str, Document | None]],
    names: dict[str, str],
    llm: StructuredLLM,
    settings: Settings,
) -> SynthesisResult:
    entries = _entries(run, documents, names)
    if not any(e.brief.claims for e in entries):
        return SynthesisResult(None, Usage(), 0, NO_CLAIMS)
    llm.start_scenario("digest")
    budget = run.options.token_budget

    def spend(usage: Usage) -> None:
        run.spent += usage.total_tokens

    answer = min(settings.max_tokens or SYNTHESIS_CALL_TOKENS, settings.output_ceiling)
    spent = Usage()

    def counted(usage: Usage) -> None:
        nonlocal spent
        spent = spent + usage
        spend(usage)

    making = synthesise(
        entries,
        merge_actors(entries),
        llm,
        reasks=settings.schema_reasks,
        context_tokens=settings.context,
        output_tokens=answer,
        reserve_tokens=answer_reserve(settings.context, answer, settings.output_ceiling),
        concurrency=run.options.concurrency,
        may_send=lambda: budget is None or run.spent < budget,
        spend=counted,
    )
    limit = run.options.synthesis_timeout_s
    try:
        return await asyncio.wait_for(making, limit)
    except TimeoutError:
        return SynthesisResult(
            None,
            spent,
            0,
            f"the synthesis ran past its time limit of {limit:g} s (--synthesis-timeout); the stories are made by "
            "rule. A rerun on the same briefs does not try again unless given --retry-synthesis",
            final=True,
        )


def _load_digest(folder: Path) -> Digest | None:
    """The digest in ``folder``; None when there is none or it cannot be read (it is then made anew)."""
    try:
        return load_digest(folder / DIGEST)
    except BriefError:
        return None


def _write_digest(
    run: _Run, documents: list[tuple[str, Document | None]], names: dict[str, str], made: SynthesisResult | None
) -> Digest:
    """The digest of the day. ``made`` is the synthesis of this run; None when nothing was sent, and an
    unchanged rerun then keeps the synthesis already made."""
    entries = _entries(run, documents, names)
    failures = [
        DigestFailure(source=e.source, status=e.status, error=e.error)
        for e in run.manifest.entries
        if e.status in ("failed", "skipped-budget", "pending")  # pending: a batch left it for the next run
    ]
    if made is None:
        # Nothing was sent: the synthesis already made is kept if it was made for these documents (keys are
        # positions in the input, so another set of inputs would give its stories to the wrong documents);
        # a synthesis by rule is made anew each run (it costs nothing).
        kept = run.kept
        model = run.options.model_synthesis(run.settings)
        same = kept is not None and kept.documents == {e.key: e.file for e in entries}
        if model and kept is not None and kept.stories_by == "model" and same:
            synthesis = None if kept.synthesis_final else kept_synthesis(kept)
            made = SynthesisResult(synthesis, Usage(), 0, kept.synthesis_error, final=kept.synthesis_final)
        else:
            made = SynthesisResult(None, Usage(), 0, NO_CLAIMS if model else None)
    texts = {names[source]: document.text for source, document in documents if document is not None}
    since = _load_digest(run.options.since) if run.options.since else None
    key_of = {entry.file: entry.key for entry in entries}
    duplicates: dict[str, list[str]] = {}
    for e in run.manifest.entries:
        if e.status == "skipped-duplicate" and e.brief in key_of:
            duplicates.setdefault(key_of[e.brief], []).append(e.source)
    digest = build_digest(
        entries,
        failures,
        duplicates=duplicates,
        synthesis=made.synthesis,
        synthesis_error=made.error,
        previous=since,
        since=str(run.options.since) if run.options.since else None,
        usage=made.usage,
        calls=made.calls,
        texts={e.key: text for e in entries if (text := texts.get(e.file)) is not None},
        stories_by="model" if run.options.model_synthesis(run.settings) else "rules",
        synthesis_final=made.final,
    )
    run.manifest.digest_usage = made.usage
    save_model(run.options.out / DIGEST, digest)
    atomic_write_text(run.options.out / "digest.md", digest_markdown(digest))
    return digest
