"""daily --batch: the day's requests through the OpenAI Batch API, the answers collected later.

Submit: the run is planned as an online one (cache, --force, token budget); the first request of each
part of each document is made by the very code the online path runs (Instructor's tool schema and all)
and captured at the transport instead of sent (``fixtures.BatchRouter``), written as JSON Lines
(``batches/b1.input.jsonl``; split where the Batch API's limits of 50,000 requests and 200 MB would be
passed), uploaded through the Files API and made a batch with a 24-hour window. Each document's entry in
the manifest says ``submitted`` with its batch and custom_ids.

Collect: a later run (the same command, or ``daily DAY --collect``) asks the Batch API about each open
batch. When one has ended, its output and error files are downloaded beside the input, and each of its
documents is briefed by ``brief_document`` with the router answering its requests from the output: an
answer is validated, grounded and repaired exactly as an online one. A follow-up that an answer calls for
(a repair, a continuation pass, a re-ask, the summary of a long document's parts) goes online, or with
``--follow-up batch`` into the next batch (the document stays submitted). Once no batch is open the digest
is written as after an online run.

Nothing is lost and nothing is sent twice: the manifest is written after each step (input written,
uploaded, created, collected), so a run killed anywhere resumes from it; a batch whose creation was not
written down is looked up by its input file before another is made; a run that finds a batch still
running only reports it; documents of an expired or cancelled batch that got no answer are left
``pending`` and those of a failed batch or with an error of their own ``failed``, for the next run.

This module is the day's bookkeeping; the requests, the input files and every call to the Batch API are
``batch_api.py``'s.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import ValidationError

from . import batch_api
from .batch_api import NOT_REACHED
from .daily import (
    BRIEFS,
    ENDED,
    MANIFEST,
    BatchRecord,
    DailyOptions,
    Manifest,
    Progress,
    _brief_all,
    _needs_synthesis,
    _plan,
    _remove_renamed,
    _Run,
    _synthesis,
    _write_digest,
    collect_inputs,
    holding,
    load_prices,
)
from .digest import SynthesisResult
from .documents import Document
from .errors import DocumentError, ExitCode, InputError, UsageError
from .models import Digest, Usage
from .render import failure_lines, status_counts
from .settings import Settings
from .store import MAX_SAVED_BYTES, ensure_writable, make_folder, read_limited, remove_leftovers
from .structured import BATCH_DOCUMENT, batch_key

if TYPE_CHECKING:  # the LLM stack is imported when a batch is run, not when daily starts
    from .llm import BatchAPI

BATCHES = "batches"
DIGEST = "digest"  # the custom_id prefix of the digest's synthesis requests (documents have hex ids)
FollowUp = Literal["online", "batch"]


@dataclass
class BatchOptions:
    wait: bool = False  # poll until every batch of the folder has ended and is collected
    follow_up: FollowUp | None = None  # None: as the batches were submitted (else online)
    cancel: bool = False  # cancel the folder's open batches, then collect what they answered
    collect_only: bool = False  # --collect: never submit documents that are not in a batch yet
    poll_s: float = 10.0  # the first wait between two polls; it grows by half each time up to poll_max_s
    poll_max_s: float = 120.0


@dataclass
class BatchEvents:
    """Callbacks for the CLI; the library prints nothing."""

    submitted: Callable[[BatchRecord, bool], None] = lambda record, found: None  # found: made by a killed run
    polled: Callable[[list[BatchRecord]], None] = lambda records: None  # the open batches after a poll
    collecting: Callable[[BatchRecord, int], None] = lambda record, documents: None


@dataclass
class BatchOutcome:
    manifest: Manifest
    digest: Digest | None  # None while a batch of the folder is still open
    open: list[BatchRecord]  # the batches not collected yet
    submitted: list[BatchRecord]  # the batches this run created
    idle: bool = False  # --collect on a folder with no open batch: nothing was done


@dataclass
class _Day:
    """What one batch run works on."""

    run: _Run
    api: BatchAPI
    settings: Settings
    options: BatchOptions
    documents: list[tuple[str, Document | None]]
    names: dict[str, str]
    events: BatchEvents
    progress: Progress
    by_source: dict[str, Document] = field(default_factory=dict)
    created: list[BatchRecord] = field(default_factory=list)
    digest_sent: bool = False  # this run submitted the digest's synthesis as a batch
    collected_now: set[str] = field(default_factory=set)  # the batches this run collected

    @property
    def folder(self) -> Path:
        return self.run.options.out / BATCHES

    @property
    def records(self) -> list[BatchRecord]:
        return self.run.manifest.batches

    def open(self) -> list[BatchRecord]:
        return [record for record in self.records if not record.collected]

    def save(self) -> None:
        self.run.save_manifest()

    def drop(self, record: BatchRecord, why: str) -> None:
        """Forget a batch that was never made: its documents are pending again, for the next run."""
        for entry in self.run.manifest.entries:
            if entry.status == "submitted" and entry.batch == record.name:
                entry.status, entry.error, entry.batch, entry.custom_ids, entry.batches = "pending", why, None, [], []
        self.run.manifest.batches = [r for r in self.records if r is not record]

    def made(self, record: BatchRecord, found: bool) -> None:
        self.created.append(record)
        self.events.submitted(record, found)


def load_manifest(folder: Path) -> Manifest | None:
    """The folder's manifest; None when there is none. One that cannot be read is an error, not a fresh
    start: it may hold open batches, and forgetting them would pay for every document twice."""
    path = folder / MANIFEST
    if not path.exists():
        return None
    try:
        return Manifest.model_validate_json(read_limited(path, MAX_SAVED_BYTES))
    except (OSError, ValueError) as error:
        raise InputError(
            f"{path} cannot be read ({_reason(error)}); it may list batches still running: restore "
            "it, or move it away to start the day afresh"
        ) from error


def _reason(error: Exception) -> str:
    """Why a manifest could not be read, on one line: the first invalid field and what is wrong with it."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error).splitlines()[0]


def has_open_batch(folder: Path) -> bool:
    """Whether ``folder`` holds a batch not collected yet (a plain daily run there collects it instead of
    sending its documents again). A manifest that cannot be read says nothing here (the online run rewrites it)."""
    try:
        manifest = load_manifest(folder)
    except InputError:
        return False
    return manifest is not None and any(not record.collected for record in manifest.batches)


async def run_batch(
    paths: list[str],
    settings: Settings,
    options: DailyOptions,
    batch: BatchOptions,
    progress: Progress | None = None,
    events: BatchEvents | None = None,
) -> BatchOutcome:
    """Submit the day's documents as a batch, or collect the folder's batches; with ``wait``, both.

    ``paths`` may be empty when the folder already has a manifest (``--collect``): its inputs are then the
    manifest's. While a batch of the folder is open, its documents stay inputs whatever ``paths`` says, and
    nothing new is submitted. Raises as ``run_daily`` does before anything is sent or written.
    """
    progress, events = progress or Progress(), events or BatchEvents()
    started = time.perf_counter()
    out = options.out
    earlier = load_manifest(out) if out.is_dir() else None
    if not paths and earlier is None:
        raise InputError(
            f"{out}: no daily manifest here: give the inbox, e.g. summarizer daily INBOX --out {out} --batch"
        )
    inputs = _inputs(paths, earlier, settings, out)
    make_folder(out)
    with holding(out), ThreadPoolExecutor(max_workers=8, thread_name_prefix="summarizer-save") as saver:
        earlier = load_manifest(out)  # again, under the lock: another run may have written it meanwhile
        inputs = _inputs(paths, earlier, settings, out)
        running = earlier is not None and any(not record.collected for record in earlier.batches)
        if batch.collect_only and not running and earlier is not None:
            return BatchOutcome(earlier, None, [], [], idle=True)  # nothing to collect: nothing is rewritten
        if running and options.force:
            options = replace(options, force=False)  # --force applies once the open batches are collected
        for folder in (out, out / BRIEFS, out / BATCHES):
            ensure_writable(folder)
            remove_leftovers(folder)
        prices = load_prices(options.prices, settings.model)
        run, documents, names, _ = _plan(inputs, settings, options, prices, progress.warning)
        run.saver = saver
        # --cancel: out of the Batch API, so what the answers call for goes online
        follow_up = (
            "online" if batch.cancel else batch.follow_up or (earlier.follow_up if earlier else None) or "online"
        )
        run.manifest.follow_up, run.manifest.request_settings = follow_up, batch_api.request_settings(settings)
        from .llm import BatchAPI

        api = BatchAPI(settings)
        day = _Day(run, api, settings, replace(batch, follow_up=follow_up), documents, names, events, progress)
        day.by_source = {source: document for source, document in documents if document is not None}
        _carry(day, earlier)
        del earlier  # ten thousand entries: not held through the run
        try:
            return await _drive(day, started)
        except BaseException:
            run.wait_for_writes()
            with suppress(Exception):
                run.save_manifest()
            raise
        finally:
            await api.aclose()


def _inputs(paths: list[str], earlier: Manifest | None, settings: Settings, out: Path) -> list[str]:
    """The run's inputs: the paths given (all of the manifest's with --collect), and every document an open
    batch holds. Refused when the open batches were made with other settings, or when one of their documents
    cannot be read from here (its answers would be lost)."""
    inputs = collect_inputs(paths, out) if paths else [entry.source for entry in earlier.entries] if earlier else []
    if "-" in inputs:
        raise UsageError("--batch: standard input cannot be read again when its batch is collected; give files")
    if earlier is None or all(record.collected for record in earlier.batches):
        if not inputs:
            raise DocumentError(
                f"{', '.join(paths)}: no documents found (.txt, .md, .html files); nothing was sent or written"
            )
        return inputs
    if earlier.request_settings != batch_api.request_settings(settings):
        raise UsageError(
            f"the open batch of this folder was submitted with other settings (model {earlier.model}, prompts "
            f"{earlier.prompt_version}, its endpoint); collect it with the same --model, --base-url, options and "
            "summarizer version"
        )
    # the documents an open batch holds come first: they stay the ones briefed when the same text is also
    # given under another name
    waiting = [entry.source for entry in earlier.entries if entry.status == "submitted"]
    known = waiting or [entry.source for entry in earlier.entries]
    if known and not any(Path(source).is_file() for source in known):
        raise InputError(
            f"{known[0]}: cannot be read from here (nor any other document of this day); run from the folder "
            "the batch was submitted from (its paths are relative to it); nothing was changed"
        )
    return list(dict.fromkeys([*waiting, *inputs]))


def _carry(day: _Day, earlier: Manifest | None) -> None:
    """The earlier manifest's batches, and its submitted documents that still wait for one."""
    if earlier is None:
        return
    day.run.manifest.batches = earlier.batches
    submitted = {entry.document_id: entry for entry in earlier.entries if entry.status == "submitted"}
    changed = {entry.source for entry in earlier.entries if entry.status == "submitted"}
    for entry in day.run.manifest.entries:
        document = day.by_source.get(entry.source)
        old = submitted.get(document.id) if document is not None else None
        if old is None or entry.status not in ("pending", "skipped-unchanged"):
            if entry.source in changed and entry.status == "pending":
                entry.error = "changed since it was submitted; sent again once the open batch is collected"
            continue
        # the text its batch answers (under this name or another): it waits for that batch, even when a brief
        # of it is on disk (sent with --force)
        del submitted[old.document_id]
        day.run.briefs.pop(entry.source, None)
        entry.status, entry.document_id, entry.brief, entry.error = "submitted", old.document_id, None, None
        entry.batch, entry.custom_ids, entry.batches = old.batch, old.custom_ids, old.batches or [old.batch or ""]


async def _drive(day: _Day, started: float) -> BatchOutcome:
    run = day.run
    run.save_manifest()
    if day.options.cancel:
        await batch_api.cancel(day)
    for record in day.open():  # a run killed while submitting: finish what it began
        if record.id is None:
            await batch_api.create(day, record, resumed=True)
    if not day.open() and not day.options.collect_only:
        await _submit_documents(day)
    delay = day.options.poll_s
    digest = None
    while True:
        await batch_api.refresh(day)
        ended = [record for record in day.open() if record.status in ENDED]
        if ended:
            await _collect(day, ended)
        if not day.open():
            digest = await _digest(day)  # None when its synthesis went out as a batch
        still = day.open()
        if not still or not day.options.wait:
            break
        day.events.polled(still)
        if day.settings.replay_dir is None:  # a recording has its polls in order: nothing to wait for
            await asyncio.sleep(delay)
        delay = min(delay * 1.5, day.options.poll_max_s)
    if digest is not None:
        run.manifest.finished = True
    run.manifest.wall_s = round(time.perf_counter() - started, 3)
    run.save_manifest()
    return BatchOutcome(run.manifest, digest, day.open(), day.created)


# --------------------------------------------------------------------------
# Submit
# --------------------------------------------------------------------------


async def _submit_documents(day: _Day) -> None:
    """The first requests of every document to send, captured and submitted as the first wave."""
    todo = [
        (entry, day.by_source[entry.source])
        for entry in day.run.manifest.entries
        if entry.status == "pending" and entry.source in day.by_source
    ]
    if not todo:
        return
    from .fixtures import BatchRouter
    from .llm import LLM, RetryingTransport

    router = BatchRouter(None, {}, defer=True)
    llm = LLM(day.settings, transport=RetryingTransport(router, retries=0, max_wait_s=0))
    budget, spent = day.run.options.token_budget, 0
    quiet = logging.getLogger("instructor")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # a captured request is no failed attempt to log
    try:
        with batch_api.Writer(day, wave=1) as writer:
            for entry, document in todo:
                captured = await batch_api.capture(llm, router, document, day.settings)
                cost = sum(batch_api.estimate(body) for _, body in captured)
                if budget is not None and spent + cost > budget:
                    entry.status, entry.error = "skipped-budget", f"token budget of {budget} reached (estimated)"
                    entry.document_id = document.id
                    day.progress.done(entry)
                    continue
                spent += cost
                writer.add(entry, document.id, captured)
    finally:
        quiet.setLevel(level)
        await llm.aclose()
    await batch_api.submit(day, writer)


# --------------------------------------------------------------------------
# Collect
# --------------------------------------------------------------------------


async def _collect(day: _Day, ended: list[BatchRecord]) -> None:
    """Brief the documents of the ended batches from their answers; follow-ups online or as the next wave.

    A document's answers are those of every batch of its round (its first requests', then its follow-ups');
    an answer always wins, and only an error of its latest batch counts (an error of an earlier round is
    history: the request was sent again since)."""
    for record in ended:
        await batch_api.download(day, record)
    names = {record.name for record in ended}
    day.collected_now |= names
    waiting = [e for e in day.run.manifest.entries if e.status == "submitted" and e.batch in names]
    counts = {record.name: sum(1 for e in waiting if e.batch == record.name) for record in ended}
    wanted = {batch_key(entry.document_id or "") for entry in waiting}
    chains = {name for entry in waiting for name in (entry.batches or [entry.batch or ""])}
    answers, errors = batch_api.results(day, chains, wanted)
    to_brief: list[tuple[str, Document]] = []
    by_name = {record.name: record for record in ended}
    for entry in waiting:
        record = by_name[entry.batch or ""]
        failed = next(
            (
                errors[c]
                for c in entry.custom_ids
                if c not in answers and c in errors and errors[c][0] not in NOT_REACHED and errors[c][2] == record.name
            ),
            None,
        )
        if failed is not None:
            entry.status, entry.error, entry.error_kind = "failed", f"batch {record.id}: {failed[1]}", "llm"
        elif all(c in answers for c in entry.custom_ids):
            to_brief.append((entry.source, day.by_source[entry.source]))
            continue
        elif record.status == "failed":
            entry.status, entry.error, entry.error_kind = "failed", f"batch {record.id} failed: {record.error}", "llm"
        else:
            why = record.error if record.status == "lost" else f"batch {record.id} {record.status} before answering it"
            entry.status, entry.error = "pending", f"{why}; sent again on the next run"
        entry.batch, entry.custom_ids, entry.batches = None, [], []
        day.progress.done(entry)
    for record in ended:
        day.events.collecting(record, counts[record.name])
    if to_brief:
        await _brief_from_answers(day, to_brief, answers)
    for record in ended:
        record.collected = True
    day.run.save_manifest()


async def _brief_from_answers(day: _Day, to_brief: list[tuple[str, Document]], answers: dict[str, bytes]) -> None:

    run, settings = day.run, day.settings
    defer = day.options.follow_up == "batch"
    llm, router = batch_api.routed(settings, answers, defer=defer)
    run.router = router
    position = {source: index for index, (source, _) in enumerate(day.documents)}
    planned, run.options = run.options, replace(run.options, token_budget=None)  # the answers are paid for
    spent = run.spent
    try:
        await _brief_all(run, to_brief, day.names, position, llm, settings, lambda: None, day.progress)
        run.wait_for_writes()
    finally:
        run.options, run.spent = planned, spent  # nor do they count in the budget of what this run sends
        await llm.aclose()
    if defer and router.captured:
        follow: dict[str, list[tuple[str, bytes]]] = {}
        for custom, body in router.captured.items():
            follow.setdefault(batch_api.document_of(custom), []).append((custom, body))
        with batch_api.Writer(day) as writer:
            for entry in run.manifest.entries:
                key = batch_key(entry.document_id or "")
                if entry.status == "submitted" and entry.document_id and key in follow:
                    writer.add(entry, entry.document_id, follow[key])
        await batch_api.submit(day, writer)
    run.router = None
    answers.clear()  # the day's briefs are written; the digest needs the memory


# --------------------------------------------------------------------------
# The digest, once every batch is collected
# --------------------------------------------------------------------------


async def _digest(day: _Day) -> Digest | None:
    """The digest as after an online run. Its synthesis (a few calls for the whole day) goes online; with
    ``--follow-up batch`` it goes as a batch of its own, and the digest is written once that batch is
    collected (None until then). A synthesis batch that this run already sent and that came back without
    an answer leaves the digest without a synthesis (the next run makes it again), rather than another turn."""

    run, documents, names = day.run, day.documents, day.names
    made: SynthesisResult | None = None
    if _needs_synthesis(run, documents, names, rebriefed=False):
        defer = day.options.follow_up == "batch"
        # the answers of every synthesis batch (whatever --follow-up says now: they are paid for); the errors
        # of the latest only (an earlier one's requests were sent again since)
        sent = [record.name for record in day.records if record.synthesis and record.collected]
        answers, errors = batch_api.results(day, set(sent), {DIGEST})
        again = defer and day.digest_sent
        llm, router = batch_api.routed(day.settings, answers, defer=defer and not again, online=not again)
        router.failed = {
            custom: message
            for custom, (code, message, name) in errors.items()
            if code not in NOT_REACHED and name == sent[-1] and name in day.collected_now and custom not in answers
        }
        BATCH_DOCUMENT.set(DIGEST)
        try:
            made = await _synthesis(run, documents, names, llm, day.settings)
        finally:
            BATCH_DOCUMENT.set(None)
            await llm.aclose()
        run.digest_batch_usage = router.batch_usage.get(DIGEST, Usage())
        if router.captured:
            with batch_api.Writer(day, synthesis=True) as writer:
                writer.add(None, DIGEST, list(router.captured.items()))
            await batch_api.submit(day, writer)
            day.digest_sent = True
            return None
    digest = _write_digest(run, documents, names, made)
    _remove_renamed(run, names)
    return digest


# --------------------------------------------------------------------------
# Where the day stands: what the CLI says, and its exit code
# --------------------------------------------------------------------------


def check_batchable(settings: Settings) -> None:
    """Refuse (``UsageError``) a batch run with nothing to batch, or no Batch API to send it to."""
    if not settings.briefs_ask_model:
        raise UsageError(
            "--batch: the embedded default briefs by rule and asks no model per document, so there is nothing "
            "to batch; give a capable model (--model, --base-url) or run daily without --batch"
        )
    if settings.provider == "local" and settings.replay_dir is None:
        raise UsageError("--batch: the embedded llama.cpp server has no Batch API; use an OpenAI-compatible one")


def batch_state(record: BatchRecord) -> str:
    """A batch in a few words: its id (or name), its status, how many of its requests are answered."""
    done = f", {record.completed + record.failed}/{record.requests} answered" if record.id else ""
    return f"batch {record.id or record.name} {record.status}{done}"


@dataclass
class Standing:
    """Where the day stands after ``run_batch``, said on stderr in this order: ``failures`` (errors),
    ``pending`` (not with --quiet), ``said``; then, when ``finished``, the daily run's report, whose exit
    code is the run's; else ``exit_code``."""

    failures: list[str] = field(default_factory=list)
    pending: str | None = None
    said: str | None = None
    finished: bool = False
    exit_code: ExitCode = ExitCode.OK


def standing(outcome: BatchOutcome, out: Path) -> Standing:
    """Nothing to collect; or every batch collected (the documents left pending, then the report); or the
    batches still open: exit 0 when this run submitted some (it did its part), else 10 (not ended yet)."""
    manifest = outcome.manifest
    if outcome.idle:
        return Standing(said=f"{out} has no open batch: nothing to collect ({status_counts(manifest)})")
    if not outcome.open:
        pending = sum(1 for e in manifest.entries if e.status == "pending")
        again = f"summarizer daily INBOX --out {shlex.quote(str(out))} --batch"
        told = f"{pending} document(s) pending (not answered by a batch, or changed since): the day's command again"
        return Standing(pending=f"{told} ({again}) sends them" if pending else None, finished=True)
    states = "; ".join(batch_state(record) for record in outcome.open)
    collect = f"summarizer daily {shlex.quote(str(out))} --collect"
    if outcome.submitted:  # this run submitted (a first wave, or follow-ups): it did its part
        said = f"{states}. The Batch API answers within 24 h; collect with: {collect} "
        return Standing(failure_lines(manifest), said=said + "(the same --model and endpoint; add --wait to poll)")
    said = f"{states}; not ended yet: run '{collect}' again later, or add --wait"
    return Standing(failure_lines(manifest), said=said, exit_code=ExitCode.IN_PROGRESS)
