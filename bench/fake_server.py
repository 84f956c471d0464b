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
import threading
import time
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


class FakeServer:
    def __init__(self, latency_s: float = 0.25):
        self.latency_s = latency_s
        self.requests = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests += 1
                time.sleep(server.latency_s)
                tool = body.get("tool_choice", {}).get("function", {}).get("name", "Extraction")
                response = copy.deepcopy(TEMPLATE)
                response["choices"][0]["message"]["tool_calls"][0]["function"].update(
                    name=tool, arguments=json.dumps(ANSWERS[tool]))
                payload = json.dumps(response).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "FakeServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
