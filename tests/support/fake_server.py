"""A loopback OpenAI-compatible chat-completions server for benchmarks and fault tests.

It answers every ``POST /v1/chat/completions`` a fixed latency after the request
arrived (its own work of building the answer falls inside that latency) with the
shape of a response recorded from the llama.cpp server (``fixtures/extract/crane.jsonl``),
its tool-call arguments replaced by an answer chosen per tool: an Extraction
that grounds in the generated documents (``document(n)``); a Synthesis that puts
the first two documents of its request in one story with a question on the first
claim. ``GET /stats`` tells how many requests it served, and the longest
synthesis request (characters of its messages and of its tool schema).

Answer shapes (``SHAPES``): ``one-call`` grounds at once (one request per
document); ``repairs`` is a minimal answer whose first claim quotes words that
are not in the document, as small models often do, so every document needs one
targeted repair request (answered with the right words): two requests each.

Faults (``FAULTS``) hit the first time the server sees an original request
(system + user message; re-asks carry more messages), so each is transient,
as real ones are: 429 with Retry-After, 500, 503, a timeout (the answer comes
after the client gave up), a dropped connection, a truncated body, tool
arguments that are not JSON, schema-invalid arguments. The ``length`` fault
is not transient but a property of the answer: every request that allows fewer
than ``LENGTH_NEEDS`` completion tokens is cut (``finish_reason: length``).
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parents[2]
MODULE = "tests.support.fake_server"  # run as ``python -m tests.support.fake_server`` from ROOT
RECORDED = (ROOT / "fixtures" / "extract" / "crane.jsonl").read_text(encoding="utf-8")
TEMPLATE = json.loads(RECORDED.splitlines()[0])["response"]["body"]

EXTRACTION = {
    "actors": [{"name": "Officials", "kind": "government", "role": "source", "aliases": []}],
    "claims": [
        {
            "claimant": "author",
            "statement": "The programme reached new sites.",
            "evidence": "Officials said the programme reached",
            "status": "reported",
            "figures": [],
        },
        {
            "claimant": "unnamed source",
            "statement": "Reporters confirmed the figure.",
            "evidence": "confirmed the figure",
            "cue": "confirmed",
            "status": "reported",
            "figures": [],
        },
    ],
    "uncertainties": [
        {"description": "The count is provisional.", "kind": "estimated", "evidence": "a provisional count"}
    ],
    "summary": "A programme expanded.",
}
# Every cue sentence of document() is covered, so a capable run makes one call per document; a
# continuation request (Additions) is answered with nothing missing.
ANSWERS = {
    "Extraction": EXTRACTION,
    "Additions": {"actors": [], "claims": [], "uncertainties": []},
}
# The repairs shape: the first claim's evidence is not in the document; the repair answer quotes it right.
MISQUOTED = "Officials said that the programme had reached"
SHAPES = ("one-call", "repairs")
FAULTS = ("none", "429", "500", "503", "timeout", "drop", "truncated", "not-json", "schema-invalid", "length")
TIMEOUT_SLEEP_S = 3.0
# Under the "length" fault an answer needs this many completion tokens: a request that
# allows fewer is cut (finish_reason "length"), as a real endpoint cuts a long answer.
LENGTH_NEEDS = 5_000


# The body of a generated news item: sentences with no attribution or hedging cue
# (summarizer/data/cues.txt), so the fixed answer leaves no cue sentence uncovered.
FILLER = (
    "The council of district {n} met on Tuesday to review {k} proposals for roads, schools and water supply.",
    "Work on the northern bridge began in {y} and the final section opens to traffic next spring.",
    "Farmers planted {k} hectares of wheat, barley and maize across the eastern valley this season.",
    "The regional library extended its opening hours and added a reading room for {k} children.",
    "Bus route {n} now stops at the new hospital, the market square and the railway station.",
    "A storm in {y} damaged the old pier, which reopened last month after repairs to its timber deck.",
    "The school board hired {k} teachers for mathematics, science and languages before the autumn term.",
    "Volunteers cleared litter from the riverbank between the mill and the footbridge on Saturday.",
    "The museum opened an exhibition of {k} maps and prints from the harbour's early years.",
    "Engineers replaced {k} street lamps with low-energy lights along the main road into town.",
)


def document(number: int) -> str:
    """A generated news item of a few thousand characters that the fixed Extraction grounds in."""
    body = [
        FILLER[(number + i) % len(FILLER)].format(
            n=number, k=(number * 7 + i * 13) % 90 + 10, y=1990 + (number + i) % 30
        )
        for i in range(30)
    ]
    paragraphs = [" ".join(body[i : i + 5]) for i in range(0, len(body), 5)]
    lead = (
        f"Officials said the programme reached {number + 10} sites this week, "
        f"according to a provisional count. Reporters in district {number} confirmed the figure."
    )
    return f"Programme update {number}\n\n" + "\n\n".join([lead, *paragraphs]) + "\n"


class _Server:
    """The HTTP server itself (runs in its own process; see FakeServer)."""

    def __init__(self, latency_s: float, fault: str = "none", shape: str = "one-call"):
        self.latency_s = latency_s
        self.fault = fault
        self.shape = shape
        self.requests = 0
        self.synthesis_chars = 0  # the longest synthesis request: messages + tool schema, in characters
        self.seen: set[str] = set()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm the body
            # waits for the client's delayed ACK (~40 ms), which a real server avoids.
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                return None

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                stats = {"requests": server.requests, "synthesis_chars": server.synthesis_chars}
                self._send(200, json.dumps(stats).encode())

            def do_POST(self) -> None:  # noqa: N802
                self.arrived = time.perf_counter()
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                body = json.loads(raw)
                with server.lock:
                    server.requests += 1
                    first = raw not in server.seen and len(body.get("messages", [])) == 2
                    server.seen.add(raw)  # type: ignore[arg-type]
                fault = server.fault if first or server.fault == "length" else "none"
                tool = body.get("tool_choice", {}).get("function", {}).get("name", "Extraction")
                if tool == "Synthesis":
                    size = sum(len(m.get("content") or "") for m in body["messages"]) + len(json.dumps(body["tools"]))
                    with server.lock:
                        server.synthesis_chars = max(server.synthesis_chars, size)
                self.answer(fault, tool, body)

            def answer(self, fault: str, tool: str, body: dict[str, Any]) -> None:
                if fault in ("429", "500", "503"):
                    headers = {"Retry-After": "1"} if fault == "429" else {}
                    self._send(int(fault), json.dumps({"error": {"message": f"injected {fault}"}}).encode(), headers)
                    return
                if fault == "drop":
                    self._wait()
                    self.close_connection = True
                    return
                if fault == "timeout":
                    time.sleep(TIMEOUT_SLEEP_S)
                response = copy.deepcopy(TEMPLATE)
                call = response["choices"][0]["message"]["tool_calls"][0]["function"]
                call.update(name=tool, arguments=json.dumps(server.arguments(tool, body)))
                if fault == "not-json":
                    call["arguments"] = call["arguments"][: len(call["arguments"]) // 2]
                elif fault == "schema-invalid":
                    call["arguments"] = json.dumps({"actors": "nobody", "claims": 3})
                elif fault == "length" and body.get("max_tokens", 0) < LENGTH_NEEDS:
                    response["choices"][0]["finish_reason"] = "length"
                    usage = response["usage"]  # as a real endpoint reports a cut answer: every token allowed
                    usage["completion_tokens"] = body["max_tokens"]
                    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
                payload = json.dumps(response).encode()
                if fault == "truncated":
                    self._send(200, payload, cut=len(payload) // 2)
                    return
                self._send(200, payload)

            def _wait(self) -> None:
                """Answer ``latency_s`` after the request arrived: the server's own work is inside the latency."""
                time.sleep(max(0.0, server.latency_s - (time.perf_counter() - self.arrived)))

            def _send(
                self, status: int, payload: bytes, headers: dict[str, str] | None = None, cut: int | None = None
            ) -> None:
                if self.command == "POST":
                    self._wait()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(payload if cut is None else payload[:cut])
                except OSError:
                    return  # the client gave up (timeout fault)
                if cut is not None:
                    self.close_connection = True

        class Listener(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256  # the default backlog of 5 drops simultaneous connects (1 s SYN retry)

            def handle_error(self, request: object, client_address: object) -> None:
                return None  # a client that hung up is part of the test

        self.httpd = Listener(("127.0.0.1", 0), Handler)

    def arguments(self, tool: str, body: dict[str, Any]) -> dict[str, Any]:
        """The tool-call arguments for one request, by tool and answer shape."""
        if tool == "Repairs":
            prompt = body["messages"][-1]["content"]
            numbers = [int(m.group(1)) for m in re.finditer(r"^Item (\d+) \(", prompt, re.MULTILINE)]
            return {"items": [{"item": n, "evidence": EXTRACTION["claims"][0]["evidence"]} for n in numbers]}
        if tool == "Synthesis":
            prompt = body["messages"][-1]["content"]
            keys = re.findall(r"^Document (d\d+):", prompt, re.MULTILINE)
            ids = re.findall(r"^  (d\d+:C\d+) ", prompt, re.MULTILINE)
            return {
                "stories": [{"name": f"Story of {keys[0]}", "documents": keys[:2]}] if keys else [],
                "contradictions": [],
                "open_questions": [{"question": "What next?", "claim_ids": ids[:1]}] if ids else [],
            }
        if tool == "Extraction" and self.shape == "repairs":
            answer = copy.deepcopy(EXTRACTION)
            answer["claims"][0]["evidence"] = MISQUOTED
            return answer
        return ANSWERS[tool]


class ChildServer:
    """A loopback server in a child process, so its work never shares the client's interpreter lock; started
    with ``argv`` (``-m tests.support.<module>`` and its options, run from the repository root; it prints its
    port first) and stopped by its own PID."""

    def __init__(self, argv: list[str]):
        self.argv = argv
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=10) as answer:  # noqa: S310
            return dict(json.loads(answer.read()))

    def __enter__(self) -> Self:
        self.process = subprocess.Popen([sys.executable, *self.argv], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


class FakeServer(ChildServer):
    """The fake chat-completions server in a child process."""

    def __init__(self, latency_s: float = 0.25, fault: str = "none", shape: str = "one-call"):
        super().__init__(["-m", MODULE, str(latency_s), fault, shape])
        self.latency_s = latency_s
        self.fault = fault
        self.shape = shape

    @property
    def requests(self) -> int:
        return int(self.stats()["requests"])


if __name__ == "__main__":
    server = _Server(float(sys.argv[1]), *sys.argv[2:4])
    print(server.httpd.server_address[1], flush=True)
    server.httpd.serve_forever()
