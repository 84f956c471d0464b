"""A loopback OpenAI-compatible chat-completions server for benchmarks.

It answers every ``POST /v1/chat/completions`` after a fixed latency with the
shape of a response recorded from the llama.cpp server (``fixtures/crane.jsonl``),
its tool-call arguments replaced by an answer chosen per tool: an Extraction
that grounds in the benchmark's generated documents, an empty Synthesis.
It counts the requests it served.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = json.loads((ROOT / "fixtures" / "crane.jsonl").read_text(encoding="utf-8").splitlines()[0])["response"]["body"]

EXTRACTION = {
    "actors": [{"name": "Officials", "kind": "government", "role": "source", "aliases": []}],
    "claims": [{"claimant": "author", "statement": "The programme reached new sites.",
                "evidence": "Officials said the programme reached", "status": "reported", "figures": []}],
    "uncertainties": [{"description": "The count is provisional.", "kind": "estimated",
                       "evidence": "a provisional count"}],
    "summary": "A programme expanded.",
}
ANSWERS = {"Extraction": EXTRACTION, "Synthesis": {"contradictions": [], "open_questions": []}}


def document(number: int) -> str:
    """A generated news item that the fixed Extraction grounds in."""
    return (f"Programme update {number}\n\nOfficials said the programme reached {number + 10} sites this week, "
            f"according to a provisional count. Reporters in district {number} confirmed the figure.\n")


class _Server:
    """The HTTP server itself (runs in its own process; see FakeServer)."""

    def __init__(self, latency_s: float):
        self.latency_s = latency_s
        self.requests = 0
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
                self._send(json.dumps({"requests": server.requests}).encode())

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests += 1
                time.sleep(server.latency_s)
                tool = body.get("tool_choice", {}).get("function", {}).get("name", "Extraction")
                response = copy.deepcopy(TEMPLATE)
                response["choices"][0]["message"]["tool_calls"][0]["function"].update(
                    name=tool, arguments=json.dumps(ANSWERS[tool]))
                self._send(json.dumps(response).encode())

            def _send(self, payload: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        class Listener(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256  # the default backlog of 5 drops simultaneous connects (1 s SYN retry)

        self.httpd = Listener(("127.0.0.1", 0), Handler)


class FakeServer:
    """The fake server in a child process, so its work never shares the client's interpreter lock."""

    def __init__(self, latency_s: float = 0.25):
        self.latency_s = latency_s
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=5) as answer:  # noqa: S310
            return int(json.loads(answer.read())["requests"])

    def __enter__(self) -> "FakeServer":
        self.process = subprocess.Popen([sys.executable, __file__, str(self.latency_s)], stdout=subprocess.PIPE,
                                        text=True)
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


if __name__ == "__main__":
    server = _Server(float(sys.argv[1]))
    print(server.httpd.server_address[1], flush=True)
    server.httpd.serve_forever()
