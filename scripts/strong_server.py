"""A loopback OpenAI-compatible server that answers like a careful strong model.

The answers are hand-written reference answers (``fixtures/strong/answers/*.json``:
a complete brief of one article each, written by reading the article, in the
role of a careful strong model; see ``fixtures/strong/README.md``). For each
chat-completions request the server reads what is asked — which tool
(Extraction, Additions, Repairs, Summary, Synthesis), the document between the
``<document>`` tags, the caps in the tool's JSON schema, what the request lists
as already found — and answers from those files as such a model would:

* Extraction: the items whose evidence lies in the request's document (a whole
  article, several, or a part of one), in document order, up to each cap; the
  actors the chosen claims need first.
* Additions (a continuation pass): the items not yet listed, up to the caps.
* Repairs: each item's own verbatim evidence, and a claimant from the allowed list.
* Summary: the parts' summaries joined; Synthesis: ``answers/digest.json``.

Like a real endpoint it enforces ``max_tokens``: arguments longer than
``max_tokens`` × 4 characters are cut there, with ``finish_reason: "length"``.
Every request is saved (``--requests DIR``) to be read afterwards.

Run: ``python scripts/strong_server.py [--port N] [--requests DIR]``; it prints
its base URL and serves until interrupted.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ROOT / "fixtures" / "strong" / "answers"
CHARS_PER_TOKEN = 4
SPECIAL = ("author", "unnamed source")


def load_answers(folder: Path = ANSWERS) -> list[dict[str, Any]]:
    """Every article's reference answer (digest.json apart)."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json")) if p.stem != "digest"]


def document_of(request: dict[str, Any]) -> str:
    user = request["messages"][-1]["content"]
    match = re.search(r"<document>\n(.*)\n</document>", user, re.S)
    return match.group(1) if match else ""


def caps_of(tool: dict[str, Any]) -> dict[str, int]:
    properties = tool["function"]["parameters"].get("properties", {})
    return {name: spec.get("maxItems", 1000) for name, spec in properties.items() if spec.get("type") == "array"}


def _position(text: str, quote: str) -> int:
    return text.find(quote)


def _names(actor: dict[str, Any]) -> list[str]:
    return [actor["name"], *actor.get("aliases", [])]


class Brain:
    """Answers one request from the reference answers."""

    def __init__(self, answers: list[dict[str, Any]], digest: dict[str, Any] | None):
        self.answers = answers
        self.digest = digest
        self.titles = [(ROOT / a["document"]).read_text(encoding="utf-8").split("\n", 1)[0] for a in answers]

    def relevant(self, text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], str]:
        """The actors, claims and uncertainties of every answer that lie in ``text``, in text order."""
        actors: dict[str, dict[str, Any]] = {}
        claims, uncertainties, summaries = [], [], []
        for answer, title in zip(self.answers, self.titles, strict=True):
            inside = [c for c in answer["claims"] if _position(text, c["evidence"]) >= 0]
            unsure = [u for u in answer["uncertainties"] if _position(text, u["evidence"]) >= 0]
            if not (inside or unsure or title in text):
                continue  # another article
            present = [a for a in answer["actors"] if any(_named(n, text) for n in _names(a))]
            if inside or unsure:
                summaries.append((min(_position(text, i["evidence"]) for i in inside + unsure), answer["summary"]))
            claims += inside
            uncertainties += unsure
            for actor in present:
                actors.setdefault(actor["name"], actor)
        claims.sort(key=lambda c: _position(text, c["evidence"]))
        uncertainties.sort(key=lambda u: _position(text, u["evidence"]))
        summary = " ".join(s for _, s in sorted(summaries)) or "The document reports no attributed statements."
        return list(actors.values()), claims, uncertainties, summary

    def answer(self, request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        tool = request["tools"][0]
        name = tool["function"]["name"]
        text = document_of(request)
        caps = caps_of(tool)
        if name == "Extraction":
            return name, self.extraction(text, caps)
        if name == "Additions":
            return name, self.additions(request["messages"][-1]["content"], text, caps)
        if name == "Repairs":
            return name, self.repairs(request["messages"][-1]["content"], tool)
        if name == "Summary":
            parts = re.findall(r"^Part \d+: (.*)$", request["messages"][-1]["content"], re.M)
            return name, {"summary": " ".join(parts[:2])}
        if name == "Synthesis":
            return name, self.synthesis(request["messages"][-1]["content"])
        raise ValueError(f"no reference answer for tool {name}")

    def synthesis(self, prompt: str) -> dict[str, Any]:
        """The day's synthesis as far as this request shows it: a request carries one batch of the documents,
        so the stories keep the documents listed in it and the items cite only its claims."""
        documents = set(re.findall(r"^Document (d\d+):", prompt, re.M))
        claims = set(re.findall(r"^  (d\d+:C\d+) ", prompt, re.M))
        digest = self.digest or {}
        stories = [
            {"name": s["name"], "documents": [d for d in s["documents"] if d in documents]}
            for s in digest.get("stories", [])
        ]
        return {
            "stories": [s for s in stories if s["documents"]],
            "contradictions": [c for c in digest.get("contradictions", []) if set(c["side_a"] + c["side_b"]) <= claims],
            "open_questions": [q for q in digest.get("open_questions", []) if set(q["claim_ids"]) <= claims],
        }

    def extraction(self, text: str, caps: dict[str, int]) -> dict[str, Any]:
        actors, claims, uncertainties, summary = self.relevant(text)
        chosen = claims[: caps.get("claims", 1000)]
        return {
            "summary": summary,
            "actors": _needed_first(actors, chosen)[: caps.get("actors", 1000)],
            "claims": chosen,
            "uncertainties": uncertainties[: caps.get("uncertainties", 1000)],
        }

    def additions(self, prompt: str, text: str, caps: dict[str, int]) -> dict[str, Any]:
        actors, claims, uncertainties, _ = self.relevant(text)
        listed_claims = _listed_spans(prompt.split("\nClaims:\n", 1)[1].split("\nUncertainties:\n", 1)[0], text)
        listed_uncertain = _listed_spans(prompt.split("\nUncertainties:\n", 1)[1].split("\n\n", 1)[0], text)
        known = {n.strip() for n in re.search(r"^Actors: (.*)\.$", prompt, re.M).group(1).split(", ")}  # type: ignore[union-attr]

        def new(item: dict[str, Any], listed: list[tuple[int, int]]) -> bool:
            start = _position(text, item["evidence"])
            return not any(start < end and begin < start + len(item["evidence"]) for begin, end in listed)

        chosen = [c for c in claims if new(c, listed_claims)][: caps.get("claims", 1000)]
        fresh = [a for a in actors if not known & set(_names(a))]
        return {
            "actors": _needed_first(fresh, chosen)[: caps.get("actors", 1000)],
            "claims": chosen,
            "uncertainties": [u for u in uncertainties if new(u, listed_uncertain)][: caps.get("uncertainties", 1000)],
        }

    def repairs(self, prompt: str, tool: dict[str, Any]) -> dict[str, Any]:
        item_schema = next(iter(tool["function"]["parameters"].get("$defs", {}).values()), {})
        claimant_spec = item_schema.get("properties", {}).get("claimant", {})
        allowed = next((option["enum"] for option in claimant_spec.get("anyOf", []) if "enum" in option), [])
        items = []
        for number, evidence, claimant in re.findall(
            r'^Item (\d+) \(\w+\): .*?\n  Wrote: "(.*?)"(?:, claimant "(.*)")?$', prompt, re.M
        ):
            item: dict[str, Any] = {"item": int(number), "evidence": evidence}
            if claimant:
                item["claimant"] = _closest_claimant(claimant, allowed)
            items.append(item)
        return {"items": items}


def _named(name: str, text: str) -> bool:
    """``name`` in ``text`` as whole words."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


def _needed_first(actors: list[dict[str, Any]], claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The actors the claims name, in claim order, then the others: a careful model lists whom it cites."""
    cited = [name for c in claims for name in [c["claimant"], *c.get("also", [])]]
    rank = {a["name"]: min((cited.index(n) for n in _names(a) if n in cited), default=len(cited)) for a in actors}
    return sorted(actors, key=lambda a: rank[a["name"]])


def _listed_spans(prompt: str, text: str) -> list[tuple[int, int]]:
    """Where the quotes a continuation request lists as found stand in the document."""
    spans = []
    for quote in re.findall(r'^- (?:\[[^\]]*\] )?"(.*)"$', prompt, re.M):
        start = quote.removesuffix(" …").removesuffix("…")
        where = text.find(start) if start else -1
        if where < 0:  # the list flattens whitespace: find the start by its first words
            where = text.find(" ".join(start.split()[:6]))
        if where >= 0:
            spans.append((where, where + len(start)))
    return spans


def _closest_claimant(claimant: str, allowed: list[str]) -> str:
    if claimant in allowed:
        return claimant
    words = {w.lower() for w in re.findall(r"\w+", claimant) if len(w) > 2}
    for option in allowed:
        if words & {w.lower() for w in re.findall(r"\w+", option)}:
            return str(option)
    return "unnamed source"


def completion(request: dict[str, Any], name: str, arguments: str, ceiling: int | None = None) -> dict[str, Any]:
    """An OpenAI chat completion whose one tool call holds ``arguments``, cut at ``max_tokens`` (or at the
    endpoint's own ``ceiling`` when that is lower, as some servers do whatever the request allows)."""
    limit = min(int(request.get("max_tokens") or 1_000_000), ceiling or 1_000_000)
    finish = "stop"
    if math.ceil(len(arguments) / CHARS_PER_TOKEN) > limit:
        arguments, finish = arguments[: limit * CHARS_PER_TOKEN], "length"
    prompt_chars = sum(len(m.get("content") or "") for m in request["messages"]) + len(json.dumps(request["tools"]))
    completion_tokens = math.ceil(len(arguments) / CHARS_PER_TOKEN)
    prompt_tokens = math.ceil(prompt_chars / CHARS_PER_TOKEN)
    return {
        "id": "chatcmpl-strong-reference",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "strong-reference"),
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "call_0", "type": "function", "function": {"name": name, "arguments": arguments}}
                    ],
                },
                "finish_reason": finish,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class StrongServer:
    """The server on a free loopback port, in a thread: ``with StrongServer() as server: server.base_url``."""

    def __init__(
        self, answers: Path = ANSWERS, requests: Path | None = None, port: int = 0, ceiling: int | None = None
    ):
        self.ceiling = ceiling  # completion tokens the endpoint gives at most, whatever max_tokens asks
        digest_file = answers / "digest.json"
        digest = json.loads(digest_file.read_text(encoding="utf-8")) if digest_file.is_file() else None
        self.brain = Brain(load_answers(answers), digest)
        self.requests = requests
        self.count = 0
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._send(200, {"object": "list", "data": [{"id": "strong-reference", "object": "model"}]})

            def do_POST(self) -> None:  # noqa: N802
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.save(request)
                try:
                    name, answer = server.brain.answer(request)
                except (ValueError, KeyError, IndexError) as error:
                    self._send(400, {"error": {"message": f"strong reference server: {error}"}})
                    return
                self._send(200, completion(request, name, json.dumps(answer, ensure_ascii=False), server.ceiling))

            def _send(self, status: int, body: dict[str, Any]) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def save(self, request: dict[str, Any]) -> None:
        with self.lock:
            self.count += 1
            number = self.count
        if self.requests is not None:
            self.requests.mkdir(parents=True, exist_ok=True)
            tool = request.get("tools", [{}])[0].get("function", {}).get("name", "request")
            path = self.requests / f"{number:04d}-{tool}.json"
            path.write_text(json.dumps(request, ensure_ascii=False, indent=1), encoding="utf-8")

    def __enter__(self) -> StrongServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--answers", type=Path, default=ANSWERS)
    parser.add_argument("--requests", type=Path, help="save every request received here")
    args = parser.parse_args()
    with StrongServer(args.answers, args.requests, args.port) as server:
        print(server.base_url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
