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
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from .chunking import estimate_tokens
from .daily import (
    BRIEFS,
    ENDED,
    MANIFEST,
    BatchRecord,
    DailyOptions,
    Manifest,
    ManifestEntry,
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
)
from .digest import SynthesisResult
from .documents import Document
from .errors import Deferred, DocumentError, InputError, UsageError
from .fixtures import BATCH_DOCUMENT, BatchRouter
from .llm import LLM, BatchAPI, RetryingTransport, build_transport
from .models import Digest, Usage
from .pipeline import openings
from .prompts import prompt_version
from .settings import Settings
from .store import atomic_open, ensure_writable, make_folder, remove_leftovers

BATCHES = "batches"
ENDPOINT = "/v1/chat/completions"
MAX_BATCH_REQUESTS = 50_000  # the Batch API's limit per batch
MAX_BATCH_BYTES = 190_000_000  # its input files may be up to 200 MB
# A request that the batch never reached, by the code of its line in the error file: left pending, not failed.
NOT_REACHED = ("batch_expired", "batch_cancelled")
DIGEST = "digest"  # the custom_id prefix of the digest's synthesis requests (documents have hex ids)
FollowUp = Literal["online", "batch"]


@dataclass
class BatchOptions:
    wait: bool = False  # poll until every batch of the folder has ended and is collected
    follow_up: FollowUp = "online"
    collect_only: bool = False  # --collect: never submit documents that are not in a batch yet
    poll_s: float = 10.0  # the first wait between two polls; it grows by half each time up to poll_max_s
    poll_max_s: float = 120.0


@dataclass
class BatchEvents:
    """Callbacks for the CLI; the library prints nothing."""

    submitted: Callable[[BatchRecord], None] = lambda record: None
    polled: Callable[[list[BatchRecord]], None] = lambda records: None  # the open batches after a poll
    collecting: Callable[[BatchRecord, int], None] = lambda record, documents: None


@dataclass
class BatchOutcome:
    manifest: Manifest
    digest: Digest | None  # None while a batch of the folder is still open
    open: list[BatchRecord]  # the batches not collected yet
    submitted: list[BatchRecord]  # the batches this run created


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

    @property
    def folder(self) -> Path:
        return self.run.options.out / BATCHES

    @property
    def records(self) -> list[BatchRecord]:
        return self.run.manifest.batches

    def open(self) -> list[BatchRecord]:
        return [record for record in self.records if not record.collected]


def load_manifest(folder: Path) -> Manifest | None:
    try:
        return Manifest.model_validate_json((folder / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return None


def has_open_batch(folder: Path) -> bool:
    """Whether ``folder`` holds a batch not collected yet (a plain daily run there collects it instead of
    sending its documents again)."""
    manifest = load_manifest(folder)
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
    manifest's. Raises as ``run_daily`` does before anything is sent or written.
    """
    progress, events = progress or Progress(), events or BatchEvents()
    started = time.perf_counter()
    out = options.out
    earlier = load_manifest(out) if out.is_dir() else None
    if not paths and earlier is None:
        raise InputError(
            f"{out}: no daily manifest here: give the inbox, e.g. summarizer daily INBOX --out {out} --batch"
        )
    _check_same_run(earlier, settings)
    inputs = collect_inputs(paths) if paths else [entry.source for entry in earlier.entries] if earlier else []
    if not inputs:
        raise DocumentError(
            f"{', '.join(paths)}: no documents found (.txt, .md, .html files); nothing was sent or written"
        )
    make_folder(out)
    with holding(out), ThreadPoolExecutor(max_workers=8, thread_name_prefix="summarizer-save") as saver:
        earlier = load_manifest(out)  # again, under the lock: another run may have written it meanwhile
        for folder in (out, out / BRIEFS, out / BATCHES):
            ensure_writable(folder)
            remove_leftovers(folder)
        run, documents, names, _ = _plan(inputs, settings, options)
        run.saver = saver
        api = BatchAPI(settings)
        day = _Day(run, api, settings, batch, documents, names, events, progress)
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


def _check_same_run(earlier: Manifest | None, settings: Settings) -> None:
    """A batch's answers are for the requests it was sent: collecting with another model or prompt would
    find none of them (and send every document online)."""
    if earlier is None or all(record.collected for record in earlier.batches):
        return
    if (earlier.model, earlier.prompt_version) != (settings.model, prompt_version()):
        raise UsageError(
            f"the open batch of this folder was submitted for model {earlier.model} (prompts "
            f"{earlier.prompt_version}); collect it with the same --model and summarizer version"
        )


def _carry(day: _Day, earlier: Manifest | None) -> None:
    """The earlier manifest's batches, and its submitted documents that still wait for one."""
    if earlier is None:
        return
    day.run.manifest.batches = earlier.batches
    before = {entry.source: entry for entry in earlier.entries}
    for entry in day.run.manifest.entries:
        old = before.get(entry.source)
        if old is None or old.status != "submitted" or entry.status != "pending":
            continue
        document = day.by_source.get(entry.source)
        if document is None or document.id != old.document_id:
            entry.error = "changed since it was submitted; sent again once the open batch is collected"
            continue
        entry.status, entry.document_id = "submitted", old.document_id
        entry.batch, entry.custom_ids = old.batch, old.custom_ids


async def _drive(day: _Day, started: float) -> BatchOutcome:
    run = day.run
    run.save_manifest()
    for record in day.open():  # a run killed while submitting: finish what it began
        if record.id is None:
            await _create(day, record, resumed=True)
    if not day.open() and not day.options.collect_only:
        await _submit_documents(day)
    delay = day.options.poll_s
    digest = None
    while True:
        await _refresh(day)
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
    router = BatchRouter(None, {}, defer=True)
    llm = LLM(day.settings, transport=RetryingTransport(router, retries=0, max_wait_s=0))
    budget, spent = day.run.options.token_budget, 0
    writer = _Writer(day, wave=1)
    quiet = logging.getLogger("instructor")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # a captured request is no failed attempt to log
    try:
        for entry, document in todo:
            captured = await _capture(llm, router, document, day.settings)
            cost = sum(_estimate(body) for _, body in captured)
            if budget is not None and spent + cost > budget:
                entry.status, entry.error = "skipped-budget", f"token budget of {budget} reached (estimated)"
                entry.document_id = document.id
                day.progress.done(entry)
                continue
            spent += cost
            writer.add(entry, document.id, captured)
    except BaseException:
        writer.abort()
        raise
    finally:
        quiet.setLevel(level)
        await llm.aclose()
    await _submit(day, writer)


async def _capture(llm: LLM, router: BatchRouter, document: Document, settings: Settings) -> list[tuple[str, bytes]]:
    """The first request of each part of ``document``, as the online path would send it: (custom_id, body)."""
    BATCH_DOCUMENT.set(document.id)
    for opening in openings(document, settings):
        with suppress(Deferred):
            await llm.extract(opening.model, opening.prompt, reasks=0, max_tokens=opening.max_tokens)
    captured, router.captured = list(router.captured.items()), {}
    return captured


_MAX_TOKENS = re.compile(rb'"max_tokens"\s*:\s*(\d+)')


def _estimate(body: bytes) -> int:
    """A request's tokens for the budget: the request (messages, tool schema) and the answer it allows."""
    allowed = _MAX_TOKENS.search(body)
    return estimate_tokens(body.decode("utf-8", "replace")) + (int(allowed.group(1)) if allowed else 0)


class _Writer:
    """Batch input files written request by request (a day of documents is never held in memory): a new
    file where the next document's requests would pass a batch's limits (requests, bytes); a document's
    requests stay in one file. Each file appears only once complete."""

    def __init__(self, day: _Day, *, wave: int):
        self.day, self.wave = day, wave
        self.records: list[BatchRecord] = []
        self.members: list[tuple[ManifestEntry | None, str, BatchRecord, list[str]]] = []
        self.files = ExitStack()
        self.stream: BinaryIO | None = None
        self.size = 0  # bytes in the file being written

    def add(self, entry: ManifestEntry | None, document: str, captured: list[tuple[str, bytes]]) -> None:
        """``document``'s requests; ``entry`` its manifest entry (None for the digest's synthesis)."""
        if not captured:
            return
        lines = [_line(custom, body) for custom, body in captured]
        size = sum(len(line) for line in lines)
        record = self.records[-1] if self.records else None
        if record is None or record.requests + len(lines) > MAX_BATCH_REQUESTS or self.size + size > MAX_BATCH_BYTES:
            record = self._next()
        assert self.stream is not None
        for line in lines:
            self.stream.write(line)
        record.requests += len(lines)
        self.size += size
        self.members.append((entry, document, record, [custom for custom, _ in captured]))

    def _next(self) -> BatchRecord:
        self.files.close()  # the file before is complete
        record = BatchRecord(name=f"b{len(self.day.records) + len(self.records) + 1}", wave=self.wave)
        self.records.append(record)
        self.stream = self.files.enter_context(atomic_open(self.day.folder / f"{record.name}.input.jsonl"))
        self.size = 0
        return record

    def close(self) -> list[BatchRecord]:
        """Every file complete; its documents marked submitted."""
        self.files.close()
        for entry, document, record, customs in self.members:
            if entry is None:
                continue
            entry.status, entry.batch, entry.error, entry.error_kind = "submitted", record.name, None, None
            entry.custom_ids, entry.document_id = customs, document
        self.day.records.extend(self.records)
        return self.records

    def abort(self) -> None:
        """No file of an interrupted submit is left half-written."""
        self.files.__exit__(*sys.exc_info())


async def _submit(day: _Day, writer: _Writer) -> None:
    """Mark the written requests' documents submitted, then upload each file and create its batch."""
    records = writer.close()
    if not records:
        return
    day.run.save_manifest()  # the documents are submitted from here on: a killed run resumes these records
    for record in records:
        await _create(day, record, resumed=False)


def _line(custom: str, body: bytes) -> bytes:
    """One request of a batch input file; the body as the SDK encoded it (one line of JSON)."""
    if b"\n" in body:
        body = json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":")).encode()
    return b'{"custom_id":%s,"method":"POST","url":"%s","body":%s}\n' % (
        json.dumps(custom).encode(),
        ENDPOINT.encode(),
        body,
    )


async def _create(day: _Day, record: BatchRecord, *, resumed: bool) -> None:
    """Upload ``record``'s input file and create its batch, writing each step down. A resumed record that
    was uploaded but has no batch id is first looked up among the account's batches (the run that made it
    may have been killed before writing the id)."""
    if record.input_file_id is None:
        record.input_file_id = await day.api.upload(day.folder / f"{record.name}.input.jsonl")
        record.status = "uploaded"
        day.run.save_manifest()
    found = await day.api.find(record.input_file_id) if resumed else None
    batch = found or await day.api.create(record.input_file_id, {"summarizer_batch": record.name})
    _update(record, batch)
    day.run.save_manifest()
    day.created.append(record)
    day.events.submitted(record)


def _update(record: BatchRecord, batch: dict[str, Any]) -> None:
    record.id = batch["id"]
    record.status = batch["status"]
    record.output_file_id = batch.get("output_file_id")
    record.error_file_id = batch.get("error_file_id")
    counts = batch.get("request_counts") or {}
    record.completed, record.failed = counts.get("completed") or 0, counts.get("failed") or 0
    errors = [error.get("message") or error.get("code") for error in (batch.get("errors") or {}).get("data") or []]
    if errors:
        record.error = "; ".join(str(error) for error in errors)[:500]
    elif record.status in ("expired", "cancelled"):
        record.error = f"the batch {record.status} before every request was answered"


async def _refresh(day: _Day) -> None:
    changed = False
    for record in day.open():
        if record.id is not None and record.status not in ENDED:
            _update(record, await day.api.retrieve(record.id))
            changed = True
    if changed:
        day.run.save_manifest()


# --------------------------------------------------------------------------
# Collect
# --------------------------------------------------------------------------


async def _collect(day: _Day, ended: list[BatchRecord]) -> None:
    """Brief the documents of the ended batches from their answers; follow-ups online or as the next wave."""
    for record in ended:
        await _download(day, record)
    names = {record.name for record in ended}
    waiting = [e for e in day.run.manifest.entries if e.status == "submitted" and e.batch in names]
    wanted = {entry.document_id for entry in waiting}
    answers, errors = _results(day, wanted)
    to_brief: list[tuple[str, Document]] = []
    by_name = {record.name: record for record in ended}
    for entry in waiting:
        record = by_name[entry.batch or ""]
        failed = next((errors[c] for c in entry.custom_ids if c in errors and errors[c][0] not in NOT_REACHED), None)
        if failed is not None:
            entry.status, entry.error, entry.error_kind = "failed", f"batch {record.id}: {failed[1]}", "llm"
        elif all(c in answers for c in entry.custom_ids):
            to_brief.append((entry.source, day.by_source[entry.source]))
            continue
        elif record.status == "failed":
            entry.status, entry.error, entry.error_kind = "failed", f"batch {record.id} failed: {record.error}", "llm"
        else:
            entry.status, entry.error = (
                "pending",
                f"batch {record.id} {record.status} before answering it; sent again on the next run",
            )
        entry.batch, entry.custom_ids = None, []
        day.progress.done(entry)
    for record in ended:
        day.events.collecting(record, sum(1 for e in waiting if e.batch == record.name))
    if to_brief:
        await _brief_from_answers(day, to_brief, answers)
    for record in ended:
        record.collected = True
    day.run.save_manifest()


async def _download(day: _Day, record: BatchRecord) -> None:
    for file_id, suffix in ((record.output_file_id, "output"), (record.error_file_id, "errors")):
        path = day.folder / f"{record.name}.{suffix}.jsonl"
        if file_id and not path.exists():
            content = await day.api.download(file_id)
            with atomic_open(path) as stream:
                stream.write(content)


def _results(day: _Day, wanted: set[str | None]) -> tuple[dict[str, bytes], dict[str, tuple[str, str]]]:
    """The answers (custom_id → chat completion) and errors (custom_id → (code, message)) for the documents
    ``wanted``, from every batch of the folder that has ended: a follow-up wave's document is briefed again
    from its first request."""
    answers: dict[str, bytes] = {}
    errors: dict[str, tuple[str, str]] = {}
    for record in day.records:
        for suffix in ("output", "errors"):
            path = day.folder / f"{record.name}.{suffix}.jsonl"
            if not path.is_file():
                continue
            with path.open("rb") as lines:
                for line in lines:
                    if line.strip():
                        _result(line, wanted, answers, errors)
    return answers, errors


def _result(
    line: bytes, wanted: set[str | None], answers: dict[str, bytes], errors: dict[str, tuple[str, str]]
) -> None:
    try:
        item = json.loads(line)
        custom = str(item["custom_id"])
    except (ValueError, KeyError, TypeError):
        return  # not a line of ours
    if custom.rsplit("-", 1)[0] not in wanted:
        return
    response = item.get("response") or {}
    error = item.get("error")
    status = response.get("status_code")
    if status == 200 and not error and isinstance(response.get("body"), dict):
        answers[custom] = json.dumps(response["body"], ensure_ascii=False).encode()
        return
    if error:
        errors[custom] = (str(error.get("code") or "error"), str(error.get("message") or error.get("code")))
    else:
        body = response.get("body") or {}
        message = (body.get("error") or {}).get("message") if isinstance(body, dict) else None
        errors[custom] = (f"http_{status}", f"the batch answered HTTP {status}: {message or 'no message'}")


async def _brief_from_answers(day: _Day, to_brief: list[tuple[str, Document]], answers: dict[str, bytes]) -> None:
    run, settings = day.run, day.settings
    defer = day.options.follow_up == "batch"
    router: BatchRouter | None = None

    def route(inner: Any) -> BatchRouter:
        nonlocal router
        router = BatchRouter(inner, answers, defer=defer)
        return router

    llm = LLM(settings, transport=build_transport(settings, route=route))
    assert router is not None
    run.router = router
    position = {source: index for index, (source, _) in enumerate(day.documents)}
    try:
        await _brief_all(run, to_brief, day.names, position, llm, settings, lambda: None, day.progress)
        run.wait_for_writes()
    finally:
        await llm.aclose()
    if defer and router.captured:
        follow: dict[str, list[tuple[str, bytes]]] = {}
        for custom, body in router.captured.items():
            follow.setdefault(custom.rsplit("-", 1)[0], []).append((custom, body))
        writer = _Writer(day, wave=max((record.wave for record in day.records), default=0) + 1)
        try:
            for entry in run.manifest.entries:
                if entry.status == "submitted" and entry.document_id in follow:
                    writer.add(entry, entry.document_id, follow[entry.document_id])
        except BaseException:
            writer.abort()
            raise
        await _submit(day, writer)
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
    if _needs_synthesis(run, documents, names):
        defer = day.options.follow_up == "batch"
        answers, errors = _results(day, {DIGEST}) if defer else ({}, {})
        again = defer and day.digest_sent
        router: BatchRouter | None = None

        def route(inner: Any) -> BatchRouter:
            nonlocal router
            router = BatchRouter(None if again else inner, answers, defer=defer and not again)
            router.failed = {custom: message for custom, (code, message) in errors.items() if code not in NOT_REACHED}
            return router

        llm = LLM(day.settings, transport=build_transport(day.settings, route=route))
        assert router is not None
        BATCH_DOCUMENT.set(DIGEST if defer else None)
        try:
            made = await _synthesis(run, documents, names, llm, day.settings)
        finally:
            BATCH_DOCUMENT.set(None)
            await llm.aclose()
        run.digest_batch_usage = router.batch_usage.get(DIGEST, Usage())
        if router.captured:
            writer = _Writer(day, wave=max((record.wave for record in day.records), default=0) + 1)
            writer.add(None, DIGEST, list(router.captured.items()))
            await _submit(day, writer)
            day.digest_sent = True
            return None
    digest = _write_digest(run, documents, names, made)
    _remove_renamed(run, names)
    return digest
