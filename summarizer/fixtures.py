"""Record / replay of LLM HTTP exchanges at the SDK's transport (httpx2).

A fixture file is JSON Lines, one exchange a line::

    {"key": ..., "request": {"method", "path", "body"}, "response": {"status", "retry_after"?, "body" | "text"}}

The key hashes the method, the URL path and the canonical request body, so a
fixture is independent of host, port and headers. Exchanges with the same key
replay first-in-first-out, which is how re-asks replay in order. No headers are
stored except Retry-After; strings that look like keys or local paths are
redacted before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
import threading
from collections import defaultdict, deque
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from .errors import Deferred, FixtureMissing, LLMError
from .models import Usage
from .store import read_jsonl, write_jsonl
from .structured import BATCH_DOCUMENT

FIXTURE_SUFFIX = ".jsonl"
# The fixture file (scenario) that the current task's exchanges are recorded to.
SCENARIO: ContextVar[str] = ContextVar("scenario", default="session")
_SECRET = re.compile(r"(sk-[A-Za-z0-9_\-]{8,}|Bearer\s+\S+)")


def canonical_body(content: bytes) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")


def request_key(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).hexdigest()[:20]


def _request_parts(request: httpx2.Request) -> tuple[str, str, Any]:
    content = request.content
    boundary = re.search(r"boundary=([^;\s]+)", request.headers.get("content-type", ""))
    if boundary:  # a file upload: the multipart boundary is random, the key must not be
        content = content.replace(boundary.group(1).strip('"').encode(), b"BOUNDARY")
    return request.method.upper(), request.url.path, canonical_body(content)


def redact(value: Any, *, secrets: Iterable[str] = ()) -> Any:
    """Replace API keys and this machine's paths in every string of a JSON value."""
    paths = sorted(
        {p for p in (str(Path.home()), sys.prefix, os.getcwd(), tempfile.gettempdir()) if len(p) > 1},
        key=len,
        reverse=True,
    )
    secrets = [s for s in secrets if s]

    def clean(item: Any) -> Any:
        if isinstance(item, str):
            for secret in secrets:
                item = item.replace(secret, "[REDACTED]")
            item = _SECRET.sub("[REDACTED]", item)
            for path in paths:
                item = item.replace(path, "[PATH]")
            return item
        if isinstance(item, dict):
            return {key: clean(val) for key, val in item.items()}
        if isinstance(item, list):
            return [clean(val) for val in item]
        return item

    return clean(value)


def response_from_entry(entry: dict[str, Any], request: httpx2.Request) -> httpx2.Response:
    recorded = entry["response"]
    headers = {}
    if recorded.get("retry_after") is not None:
        headers["retry-after"] = str(recorded["retry_after"])
    if "body" in recorded:
        content = json.dumps(recorded["body"]).encode()
        headers["content-type"] = "application/json"
    else:
        content = recorded.get("text", "").encode()
    return httpx2.Response(recorded["status"], headers=headers, content=content, request=request)


@dataclass
class Replayer(httpx2.AsyncBaseTransport):
    """Answers requests from fixture files; never touches the network."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    _queues: dict[str, deque[dict[str, Any]]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    served: int = 0

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        if not self.files:
            if self.folder.is_file():
                self.files = [self.folder]
            elif self.folder.is_dir():
                self.files = sorted(self.folder.glob(f"*{FIXTURE_SUFFIX}"))
            else:
                raise FileNotFoundError(f"replay folder {self.folder} does not exist")
        for file in self.files:
            for number, entry in read_jsonl(file):
                entry.setdefault("source", f"{file.name}:{number}")
                self._queues[entry["key"]].append(entry)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()  # a file upload streams its body
        return self.answer(request)

    def answer(self, request: httpx2.Request) -> httpx2.Response:
        method, path, body = _request_parts(request)
        key = request_key(method, path, body)
        with self._lock:
            queue = self._queues.get(key)
            if not queue:
                raise FixtureMissing(key, path, self.folder)
            entry = queue.popleft()
            self.served += 1
        return response_from_entry(entry, request)

    def unused(self) -> list[str]:
        """Where the recorded exchanges that were never requested come from."""
        return [entry["source"] for queue in self._queues.values() for entry in queue]


class Recorder(httpx2.AsyncBaseTransport):
    """Passes requests to a real transport and writes each exchange to its scenario's file.

    The scenario is the task's ``SCENARIO`` (one per document), so concurrent
    documents record to their own files; a scenario's file is replaced by its
    first exchange in this run.
    """

    def __init__(self, folder: Path, inner: httpx2.AsyncBaseTransport, *, secrets: Iterable[str] = ()):
        self.folder = Path(folder)
        self.inner = inner
        self.secrets = tuple(secrets)
        self._entries: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._lock = threading.Lock()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()  # a file upload streams its body: read once, sent and recorded from memory
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        self.save(request, response.status_code, content, response.headers.get("retry-after"))
        # The body is decoded now: drop the headers that described its encoding on the wire.
        headers = [
            (k, v)
            for k, v in response.headers.items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx2.Response(response.status_code, headers=headers, content=content, request=request)

    def save(self, request: httpx2.Request, status: int, content: bytes, retry_after: str | None) -> None:
        method, path, body = _request_parts(request)
        recorded: dict[str, Any] = {"status": status}
        if retry_after is not None:
            recorded["retry_after"] = retry_after
        try:
            recorded["body"] = json.loads(content)
        except ValueError:
            recorded["text"] = content.decode("utf-8", "replace")
        entry = {
            "key": request_key(method, path, body),
            "request": {"method": method, "path": path, "body": body},
            "response": recorded,
        }
        entry = redact(entry, secrets=self.secrets)
        scenario = SCENARIO.get()
        with self._lock:
            entries = self._entries[scenario]
            entries.append(entry)
            write_jsonl(self.folder / f"{scenario}{FIXTURE_SUFFIX}", entries)

    async def aclose(self) -> None:
        await self.inner.aclose()


# --------------------------------------------------------------------------
# Batch answers (daily --batch)
# --------------------------------------------------------------------------

CHAT_PATH = "/chat/completions"


def custom_id(document: str, key: str) -> str:
    return f"{document}-{key}"


class BatchRouter(httpx2.AsyncBaseTransport):
    """Answers a document's chat requests from its batch results; the rest go online or wait for a batch.

    ``answers`` maps a custom_id to the body of its answer (a chat completion, as the Batch API's output file
    holds it). A chat request of a document (``BATCH_DOCUMENT``) that has an answer gets it, exactly as if
    the endpoint had just sent it, so it is validated, grounded and repaired as an online answer is. Any other
    request — the first of a document being submitted, a repair or continuation that a batch answer calls
    for — is captured for the next batch (``Deferred``) when ``defer``, and otherwise sent to ``inner``.
    """

    def __init__(self, inner: httpx2.AsyncBaseTransport | None, answers: dict[str, bytes], *, defer: bool):
        self.inner = inner
        self.answers = answers
        self.defer = defer
        self.captured: dict[str, bytes] = {}  # custom_id → the request body as encoded, in the order captured
        self.failed: dict[str, str] = {}  # custom_id → why the batch did not answer it (an LLMError when asked)
        self.batch_usage: dict[str, Usage] = defaultdict(Usage)  # document → tokens answered by a batch
        self.served = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        document = BATCH_DOCUMENT.get()
        if document is None or not request.url.path.endswith(CHAT_PATH):
            return await self._online(request)
        method, path, body = _request_parts(request)
        custom = custom_id(document, request_key(method, path, body))
        answer = self.answers.get(custom)
        if answer is not None:
            self.served += 1
            usage = json.loads(answer).get("usage") or {}
            self.batch_usage[document] = self.batch_usage[document] + Usage(
                prompt_tokens=usage.get("prompt_tokens") or 0,
                completion_tokens=usage.get("completion_tokens") or 0,
                total_tokens=usage.get("total_tokens") or 0,
            )
            headers = {"content-type": "application/json"}
            return httpx2.Response(200, headers=headers, content=answer, request=request)
        if custom in self.failed:
            raise LLMError(self.failed[custom])
        if self.defer:
            self.captured.setdefault(custom, request.content)
            raise Deferred(custom)
        return await self._online(request)

    async def _online(self, request: httpx2.Request) -> httpx2.Response:
        if self.inner is None:
            raise LLMError("not answered in the batch (and not to be sent online)")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        if self.inner is not None:
            await self.inner.aclose()
