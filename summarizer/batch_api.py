"""daily --batch, the Batch API's side: the requests (captured as the online path makes them), the input
files they are written to, every call to the Files and Batches endpoints (upload, create, find, retrieve,
cancel, download) with what each answer changes in the day's records, and the output and error files read
back into answers that a router hands to the pipeline.

A request is captured at the transport instead of sent (``fixtures.BatchRouter``) and written as JSON
Lines (``batches/b1.input.jsonl``; split where the Batch API's limits of 50,000 requests and 200 MB would
be passed), uploaded through the Files API and made a batch with a 24-hour window. The day itself (what to
submit, what to brief from the answers, the digest) is ``batch.py``'s; this module sees of it only what
``Day`` names. The manifest is written after each step (input written, uploaded, created, collected), so a
run killed anywhere resumes from it.
"""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, cast, get_args

from .chunking import estimate_tokens
from .daily import ENDED, BatchRecord, BatchStatus, ManifestEntry
from .documents import Document
from .errors import BatchError, Deferred
from .pipeline import openings
from .prompts import prompt_version
from .settings import Settings
from .store import atomic_open
from .structured import BATCH_DOCUMENT, batch_key

if TYPE_CHECKING:  # the LLM stack is imported when a batch is run, not when daily starts
    from .fixtures import BatchRouter
    from .llm import LLM, BatchAPI

ENDPOINT = "/v1/chat/completions"
MAX_BATCH_REQUESTS = 50_000  # the Batch API's limit per batch
MAX_BATCH_BYTES = 190_000_000  # its input files may be up to 200 MB
# A request that the batch never reached, by the code of its line in the error file: left pending, not failed.
NOT_REACHED = ("batch_expired", "batch_cancelled")


class Day(Protocol):
    """What this module reads and changes of a batch run (``batch._Day``)."""

    api: BatchAPI

    @property
    def folder(self) -> Path: ...  # the day's batches/ folder: input, output and error files

    @property
    def records(self) -> list[BatchRecord]: ...  # the manifest's batches

    def open(self) -> list[BatchRecord]: ...  # the batches not collected yet

    def save(self) -> None: ...  # write the manifest down

    def drop(self, record: BatchRecord, why: str) -> None: ...  # forget a batch never made

    def made(self, record: BatchRecord, found: bool) -> None: ...  # a batch created (found: by a killed run)


# --------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------


def request_settings(settings: Settings) -> str:
    """A hash of everything that shapes a request body (besides the document): a batch's answers are found
    by their requests, so they are collected only with the settings that made them."""
    shaping = {
        "prompts": prompt_version(),
        "endpoint": [settings.provider, settings.public_base_url],  # another endpoint does not know the batch
        "settings": settings.model_dump(
            mode="json",
            include={
                "model",
                "profile",
                "method",
                "mode",
                "temperature",
                "seed",
                "max_tokens",
                "max_output_tokens",
                "limits",
                "passes",
                "context_tokens",
                "n_ctx",
                "chunk_overlap_tokens",
                "repair_attempts",
                "repair_max_items",
                "schema_reasks",
            },
        ),
    }
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]


async def capture(llm: LLM, router: BatchRouter, document: Document, settings: Settings) -> list[tuple[str, bytes]]:
    """The first request of each part of ``document``, as the online path would send it: (custom_id, body)."""
    BATCH_DOCUMENT.set(batch_key(document.id))
    for opening in openings(document, settings):
        with suppress(Deferred):
            await llm.extract(opening.model, opening.prompt, reasks=0, max_tokens=opening.max_tokens)
    captured, router.captured = list(router.captured.items()), {}
    return captured


_MAX_TOKENS = re.compile(rb'"max_tokens"\s*:\s*(\d+)')


def estimate(body: bytes) -> int:
    """A request's tokens for the budget: the request (messages, tool schema) and the answer it allows."""
    allowed = _MAX_TOKENS.search(body)
    return estimate_tokens(body.decode("utf-8", "replace")) + (int(allowed.group(1)) if allowed else 0)


def routed(
    settings: Settings, answers: dict[str, bytes], *, defer: bool, online: bool = True
) -> tuple[LLM, BatchRouter]:
    """An LLM whose chat requests are answered from ``answers``; the rest deferred to the next batch
    (``defer``), sent online, or (neither) refused."""
    from .fixtures import BatchRouter
    from .llm import LLM, build_transport

    routers: list[BatchRouter] = []

    def route(inner: Any) -> BatchRouter:
        routers.append(BatchRouter(inner if online else None, answers, defer=defer))
        return routers[0]

    return LLM(settings, transport=build_transport(settings, route=route)), routers[0]


# --------------------------------------------------------------------------
# Input files
# --------------------------------------------------------------------------


def _next_name(day: Day, adding: list[BatchRecord]) -> str:
    """b1, b2, …: one more than any batch this folder has known, in the manifest or on disk (a name is never
    given twice, so no batch is ever read from another's files)."""
    names = [record.name for record in [*day.records, *adding]]
    names += [path.name.split(".", 1)[0] for path in day.folder.glob("b*.*.jsonl")]
    numbers = [int(name[1:]) for name in names if name[1:].isdigit()]
    return f"b{max(numbers, default=0) + 1}"


class Writer:
    """Batch input files written request by request (a day of documents is never held in memory): a new
    file where the next document's requests would pass a batch's limits (requests, bytes); a document's
    requests stay in one file. Each file appears only once complete."""

    def __init__(self, day: Day, *, wave: int | None = None, synthesis: bool = False):
        """``wave``: 1 for documents' first requests; by default the wave after the folder's last."""
        self.day, self.synthesis = day, synthesis
        self.wave = wave if wave is not None else max((record.wave for record in day.records), default=0) + 1
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
        record = BatchRecord(name=_next_name(self.day, self.records), wave=self.wave, synthesis=self.synthesis)
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
            follows = entry.status == "submitted"  # a follow-up: its round goes on
            entry.status, entry.batch, entry.error, entry.error_kind = "submitted", record.name, None, None
            entry.custom_ids, entry.document_id = customs, document
            entry.batches = [*entry.batches, record.name] if follows else [record.name]
        self.day.records.extend(self.records)
        return self.records

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *error: Any) -> None:
        """On an error no file of the submit is left half-written; else the files wait for ``close``."""
        if error[0] is not None:
            self.files.__exit__(*error)


def _line(custom: str, body: bytes) -> bytes:
    """One request of a batch input file; the body as the SDK encoded it (one line of JSON)."""
    if b"\n" in body:
        body = json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":")).encode()
    return b'{"custom_id":%s,"method":"POST","url":"%s","body":%s}\n' % (
        json.dumps(custom).encode(),
        ENDPOINT.encode(),
        body,
    )


# --------------------------------------------------------------------------
# Calls
# --------------------------------------------------------------------------


async def submit(day: Day, writer: Writer) -> None:
    """Mark the written requests' documents submitted, then upload each file and create its batch."""
    records = writer.close()
    if not records:
        return
    day.save()  # the documents are submitted from here on: a killed run resumes these records
    for number, record in enumerate(records):
        try:
            await create(day, record, resumed=False)
        except BatchError as error:
            for later in records[number + 1 :]:  # never uploaded: their documents are free again as well
                day.drop(later, f"not submitted: {error}")
            day.save()
            raise


async def create(day: Day, record: BatchRecord, *, resumed: bool) -> None:
    """Upload ``record``'s input file and create its batch, writing each step down.

    An upload that fails creates nothing: the record is dropped and its documents are pending again (the
    endpoint may have no Batch API at all). A create that the endpoint refused (HTTP 4xx) is dropped the
    same way; one whose answer did not come may have made the batch, so the record stays and the next run
    looks the batch up by its input file before making another (as it does for a run killed here)."""
    if record.input_file_id is None:
        try:
            record.input_file_id = await day.api.upload(day.folder / f"{record.name}.input.jsonl")
        except BatchError as error:  # nothing was created: the documents are free again
            day.drop(record, f"not submitted: {error}")
            day.save()
            raise
        record.status = "uploaded"
        day.save()
    found = await day.api.find(record.input_file_id) if resumed else None  # an error here keeps the record
    try:
        batch = found or await day.api.create(record.input_file_id, {"summarizer_batch": record.name})
    except BatchError as error:
        if error.status is not None and error.status < 500:  # refused: no batch was made
            day.drop(record, f"not submitted: {error}")
            day.save()
        raise  # else it may have been made: the next run looks it up before making another
    update(record, batch)
    day.save()
    day.made(record, found is not None)


def update(record: BatchRecord, batch: dict[str, Any]) -> None:
    """``record`` as the Batch API's answer about its batch says."""
    record.id = batch["id"]
    status = batch.get("status")
    # a status this version does not know (a compatible endpoint's own) is a batch still running
    record.status = cast(BatchStatus, status) if status in get_args(BatchStatus) else "in_progress"
    record.output_file_id = batch.get("output_file_id")
    record.error_file_id = batch.get("error_file_id")
    counts = batch.get("request_counts") or {}
    record.completed, record.failed = counts.get("completed") or 0, counts.get("failed") or 0
    errors = [error.get("message") or error.get("code") for error in (batch.get("errors") or {}).get("data") or []]
    if errors:
        record.error = "; ".join(str(error) for error in errors)[:500]
    elif record.status in ("expired", "cancelled"):
        record.error = f"the batch {record.status} before every request was answered"


async def refresh(day: Day) -> None:
    """Every open batch not ended yet asked about; a batch the API does not know is lost."""
    changed = False
    for record in day.open():
        if record.id is not None and record.status not in ENDED:
            try:
                update(record, await day.api.retrieve(record.id))
            except BatchError as error:
                if error.status != 404:
                    raise
                record.status = "lost"  # deleted, or another account's: its documents go again
                record.error = f"the Batch API does not know batch {record.id} (HTTP 404)"
            changed = True
    if changed:
        day.save()


async def cancel(day: Day) -> None:
    """--cancel: ask the Batch API to cancel every open batch (what it answered before is still collected;
    the rest of its documents are left pending); a batch not created yet is dropped."""
    await refresh(day)
    for record in day.open():
        if record.id is None and record.input_file_id is not None:  # a killed run may have made it
            found = await day.api.find(record.input_file_id)
            if found is not None:
                update(record, found)
        if record.id is None:
            day.drop(record, "its batch was cancelled (--cancel) before it was created")
        elif record.status not in (*ENDED, "cancelling"):
            try:
                update(record, await day.api.cancel(record.id))
            except BatchError as error:
                if error.status is None or error.status >= 500:
                    raise
                update(record, await day.api.retrieve(record.id))  # it ended meanwhile: collected as it is
    day.save()


async def download(day: Day, record: BatchRecord) -> None:
    """An ended batch's output and error files, beside its input (once)."""
    for file_id, suffix in ((record.output_file_id, "output"), (record.error_file_id, "errors")):
        path = day.folder / f"{record.name}.{suffix}.jsonl"
        if file_id and not path.exists():
            content = await day.api.download(file_id)
            with atomic_open(path) as stream:
                stream.write(content)


# --------------------------------------------------------------------------
# Output and error files
# --------------------------------------------------------------------------


def results(day: Day, names: set[str], wanted: set[str]) -> tuple[dict[str, bytes], dict[str, tuple[str, str, str]]]:
    """From the batches ``names``, for the documents ``wanted`` (their batch keys): the answers (custom_id →
    chat completion) and errors (custom_id → (code, message, batch name))."""
    answers: dict[str, bytes] = {}
    errors: dict[str, tuple[str, str, str]] = {}
    for record in day.records:
        if record.name not in names:
            continue
        for suffix in ("output", "errors"):
            path = day.folder / f"{record.name}.{suffix}.jsonl"
            if not path.is_file():
                continue
            with path.open("rb") as lines:
                for line in lines:
                    if line.strip():
                        result(line, wanted, record.name, answers, errors)
    return answers, errors


def result(
    line: bytes,
    wanted: set[str],
    name: str,
    answers: dict[str, bytes],
    errors: dict[str, tuple[str, str, str]],
) -> None:
    """One line of an output or error file; a line that is not of the Batch API's shape is no answer."""
    try:
        item = json.loads(line)
        custom = str(item["custom_id"])
    except (ValueError, KeyError, TypeError, RecursionError):  # nested past any answer's depth: no answer
        return
    if document_of(custom) not in wanted:
        return
    response = item.get("response") if isinstance(item.get("response"), dict) else {}
    error = item.get("error") if isinstance(item.get("error"), dict) else None
    status = response.get("status_code")
    if status == 200 and not error and isinstance(response.get("body"), dict):
        answers[custom] = json.dumps(response["body"], ensure_ascii=False).encode()
        return
    if error:
        errors[custom] = (str(error.get("code") or "error"), str(error.get("message") or error.get("code")), name)
    else:
        body = response.get("body")
        detail = body.get("error") if isinstance(body, dict) else None
        message = detail.get("message") if isinstance(detail, dict) else None
        errors[custom] = (f"http_{status}", f"the batch answered HTTP {status}: {message or 'no message'}", name)


def document_of(custom: str) -> str:
    """The batch key of the document (or ``digest``) a custom_id belongs to."""
    return custom.rsplit("-", 1)[0]
