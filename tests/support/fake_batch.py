"""A loopback fake of the OpenAI Batch API (Files and Batches) for tests, benchmarks and recordings.

Endpoints, as the OpenAI SDK calls them:

* ``POST /v1/files`` (multipart, purpose ``batch``), ``GET /v1/files/{id}/content``;
* ``POST /v1/batches``, ``GET /v1/batches/{id}``, ``GET /v1/batches`` (newest first, ``after``, ``limit``),
  ``POST /v1/batches/{id}/cancel``;
* ``POST /v1/chat/completions``: the online calls (follow-ups, the digest's synthesis), answered at once;
* ``GET /stats``: files uploaded, batches created, batch requests answered, online requests;
  ``POST /control/forget``: every batch forgotten (as if deleted: a retrieve is HTTP 404).

A batch is ``validating`` when created, ``in_progress`` on the first poll, and ends ``delay`` seconds
after it was created: its requests are answered then, all at once (by ``fake_server``'s answers, the
shape chosen at start, or by forwarding each request to ``--upstream``, a real chat-completions server, to
record a real model's answers), and the output and error files written as the Batch API writes them.

Faults (the whole server's, chosen at start): ``expired`` (the first half of the requests answered, the
rest in the error file with code ``batch_expired``), ``failed`` (the batch fails as a whole: no output),
``partial`` (every third request fails: alternately an error-file line and an output line with HTTP 500),
``cancel`` (cancelling works: a batch cancelled before it ended answers nothing), ``no-files`` (an
endpoint without the Files API: every upload is HTTP 404).

    python -m tests.support.fake_batch [--delay 1] [--fault none] [--shape one-call] [--upstream URL]
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.fake_server import SHAPES, TEMPLATE, ChildServer, _Server

BATCH_FAULTS = ("none", "expired", "failed", "partial", "cancel", "no-files")


class BatchState:
    def __init__(self, delay_s: float, fault: str, shape: str, upstream: str | None):
        self.delay_s = delay_s
        self.fault = fault
        self.upstream = upstream
        self.answers = _Server(0.0, "none", shape)  # its answer per tool; its HTTP server is never started
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.created_at: dict[str, float] = {}
        self.stats = {"files": 0, "batches": 0, "batch_requests": 0, "online_requests": 0}
        self.lock = threading.Lock()

    # ---- files
    def add_file(self, name: str, content: bytes, purpose: str) -> dict[str, Any]:
        file_id = f"file-{uuid.uuid4().hex[:24]}"
        record = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": name,
            "purpose": purpose,
            "status": "processed",
        }
        with self.lock:
            self.files[file_id] = record
            self.contents[file_id] = content
            if purpose == "batch":
                self.stats["files"] += 1
        return record

    # ---- batches
    def create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        input_id = body.get("input_file_id")
        if input_id not in self.contents:
            return 400, {"error": {"message": f"no such file: {input_id}", "type": "invalid_request_error"}}
        lines = [line for line in self.contents[input_id].splitlines() if line.strip()]
        batch_id = f"batch_{uuid.uuid4().hex[:24]}"
        now = int(time.time())
        batch = {
            "id": batch_id,
            "object": "batch",
            "endpoint": body.get("endpoint"),
            "input_file_id": input_id,
            "completion_window": body.get("completion_window", "24h"),
            "status": "validating",
            "created_at": now,
            "expires_at": now + 86_400,
            "metadata": body.get("metadata"),
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            "output_file_id": None,
            "error_file_id": None,
            "errors": None,
        }
        with self.lock:
            self.batches[batch_id] = batch
            self.order.insert(0, batch_id)
            self.created_at[batch_id] = time.monotonic()
            self.stats["batches"] += 1
        return 200, batch

    def retrieve(self, batch_id: str) -> dict[str, Any] | None:
        with self.lock:
            batch = self.batches.get(batch_id)
            if batch is None:
                return None
            if batch["status"] == "validating":
                batch["status"] = "in_progress"
            elif batch["status"] == "cancelling":
                self._end(batch, cancelled=True)
            elif batch["status"] == "in_progress" and time.monotonic() - self.created_at[batch_id] >= self.delay_s:
                self._end(batch)
            return copy.deepcopy(batch)

    def cancel(self, batch_id: str) -> dict[str, Any] | None:
        with self.lock:
            batch = self.batches.get(batch_id)
            if batch is None:
                return None
            if batch["status"] in ("validating", "in_progress"):
                batch["status"] = "cancelling"
            return copy.deepcopy(batch)

    def _end(self, batch: dict[str, Any], cancelled: bool = False) -> None:
        """Answer the batch's requests and write its files (under the lock: one poll ends it)."""
        now = int(time.time())
        if self.fault == "failed":
            batch.update(status="failed", failed_at=now)
            batch["errors"] = {
                "object": "list",
                "data": [{"code": "invalid_request", "message": "injected failure: the batch failed", "line": 1}],
            }
            return
        lines = [json.loads(line) for line in self.contents[batch["input_file_id"]].splitlines() if line.strip()]
        reached = 0 if cancelled else len(lines) // 2 if self.fault == "expired" else len(lines)
        output, errors = [], []
        for number, request in enumerate(lines):
            custom = request["custom_id"]
            if number >= reached:
                code = "batch_cancelled" if cancelled else "batch_expired"
                errors.append(_error_line(custom, code, f"injected: the batch {code[6:]} before this request"))
            elif self.fault == "partial" and number % 3 == 2:
                if number % 2:
                    errors.append(_error_line(custom, "server_error", "injected per-request error"))
                else:
                    body = {"error": {"message": "injected HTTP 500", "type": "server_error"}}
                    output.append(_output_line(custom, 500, body))
            else:
                output.append(_output_line(custom, 200, self.answer(request["body"])))
        self.stats["batch_requests"] += reached
        for kind, items in (("output_file_id", output), ("error_file_id", errors)):
            if items:
                content = "".join(json.dumps(item) + "\n" for item in items).encode()
                batch[kind] = self._store(f"{batch['id']}_{kind[:-8]}.jsonl", content)
        ok = sum(1 for item in output if item["response"]["status_code"] == 200)
        batch["request_counts"] = {"total": len(lines), "completed": ok, "failed": len(lines) - ok}
        if cancelled:
            batch.update(status="cancelled", cancelled_at=now)
        elif self.fault == "expired":
            batch.update(status="expired", expired_at=now)
        else:
            batch.update(status="completed", completed_at=now)

    def _store(self, name: str, content: bytes) -> str:
        file_id = f"file-{uuid.uuid4().hex[:24]}"
        self.files[file_id] = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": name,
            "purpose": "batch_output",
            "status": "processed",
        }
        self.contents[file_id] = content
        return file_id

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        """A chat completion for one request: the fake's answer for its tool, or the upstream model's."""
        if self.upstream:
            request = urllib.request.Request(
                self.upstream.rstrip("/") + "/chat/completions",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - a loopback URL given
                return dict(json.loads(response.read()))
        tool = body.get("tool_choice", {}).get("function", {}).get("name", "Extraction")
        response = copy.deepcopy(TEMPLATE)
        call = response["choices"][0]["message"]["tool_calls"][0]["function"]
        call.update(name=tool, arguments=json.dumps(self.answers.arguments(tool, body)))
        return dict(response)


def _output_line(custom: str, status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"batch_req_{uuid.uuid4().hex[:16]}",
        "custom_id": custom,
        "response": {"status_code": status, "request_id": uuid.uuid4().hex[:12], "body": body},
        "error": None,
    }


def _error_line(custom: str, code: str, message: str) -> dict[str, Any]:
    return {
        "id": f"batch_req_{uuid.uuid4().hex[:16]}",
        "custom_id": custom,
        "response": None,
        "error": {"code": code, "message": message},
    }


def _multipart(content_type: str, body: bytes) -> tuple[str, bytes, str]:
    """(file name, file bytes, purpose) of a multipart upload."""
    boundary = re.search(r"boundary=([^;\s]+)", content_type)
    if boundary is None:
        raise ValueError("not multipart")
    name, data, purpose = "upload.jsonl", b"", ""
    for part in body.split(b"--" + boundary.group(1).strip('"').encode()):
        head, _, value = part.partition(b"\r\n\r\n")
        value = value[:-2] if value.endswith(b"\r\n") else value
        if b'name="file"' in head:
            found = re.search(rb'filename="([^"]*)"', head)
            name, data = (found.group(1).decode() if found else name), value
        elif b'name="purpose"' in head:
            purpose = value.decode()
    return name, data, purpose


def make_server(state: BatchState) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: object) -> None:
            return None

        def _json(self, status: int, payload: Any) -> None:
            self._bytes(status, json.dumps(payload).encode(), "application/json")

        def _bytes(self, status: int, payload: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _missing(self) -> None:
            self._json(404, {"error": {"message": f"no such object: {self.path}", "type": "invalid_request_error"}})

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0]
            if path == "/stats":
                self._json(200, state.stats)
            elif match := re.fullmatch(r"/v1/files/([^/]+)/content", path):
                content = state.contents.get(match.group(1))
                self._bytes(200, content, "application/octet-stream") if content is not None else self._missing()
            elif match := re.fullmatch(r"/v1/batches/([^/]+)", path):
                batch = state.retrieve(match.group(1))
                self._json(200, batch) if batch is not None else self._missing()
            elif path == "/v1/batches":
                query = dict(p.split("=", 1) for p in self.path.partition("?")[2].split("&") if "=" in p)
                order = state.order
                if "after" in query and query["after"] in order:
                    order = order[order.index(query["after"]) + 1 :]
                limit = int(query.get("limit", 20))
                page = [state.batches[b] for b in order[:limit]]
                self._json(200, {"object": "list", "data": page, "has_more": len(order) > limit})
            else:
                self._missing()

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.split("?", 1)[0]
            if path == "/v1/files" and state.fault == "no-files":
                self._missing()
            elif path == "/v1/files":
                name, content, purpose = _multipart(self.headers.get("Content-Type", ""), body)
                self._json(200, state.add_file(name, content, purpose))
            elif path == "/v1/batches":
                self._json(*state.create(json.loads(body)))
            elif match := re.fullmatch(r"/v1/batches/([^/]+)/cancel", path):
                batch = state.cancel(match.group(1))
                self._json(200, batch) if batch is not None else self._missing()
            elif path == "/control/forget":  # tests: the batches deleted (every retrieve is HTTP 404)
                with state.lock:
                    state.batches.clear()
                self._json(200, {"forgotten": True})
            elif path == "/v1/chat/completions":
                with state.lock:
                    state.stats["online_requests"] += 1
                self._json(200, state.answer(json.loads(body)))
            else:
                self._missing()

    class Listener(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    return Listener(("127.0.0.1", 0), Handler)


class FakeBatchAPI(ChildServer):
    """The fake Batch API in a child process (started and stopped by its PID)."""

    def __init__(self, delay_s: float = 0.2, fault: str = "none", shape: str = "one-call", upstream: str | None = None):
        assert fault in BATCH_FAULTS and shape in SHAPES
        argv = ["-m", "tests.support.fake_batch", "--delay", str(delay_s), "--fault", fault, "--shape", shape]
        super().__init__(argv + (["--upstream", upstream] if upstream else []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=1.0, help="seconds from a batch's creation to its end")
    parser.add_argument("--fault", choices=BATCH_FAULTS, default="none")
    parser.add_argument("--shape", choices=SHAPES, default="one-call")
    parser.add_argument("--upstream", help="a chat-completions base URL to answer the batch's requests")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = make_server(BatchState(args.delay, args.fault, args.shape, args.upstream))
    if args.port:
        server.server_close()
        server = type(server)(("127.0.0.1", args.port), server.RequestHandlerClass)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
