"""Re-record every fixture with the embedded model (``make fixtures``).

The embedded default (guided extraction) asks the model nothing per document:
the program finds the items by rule and the summary is the document's lead. So
what is recorded here is the model-written path (``--method extract``) and the
digest's synthesis:

Real exchanges: the seed article and seven Wikinews articles, briefed with
``--method extract`` by the embedded SmolLM2-135M server (temperature 0, seed 0)
and recorded with the project's own recorder → ``fixtures/extract/<document>.jsonl``
(hackers and nasa hold quotes the model got nearly right: fuzzy matches).

Hand-made faults, recorded with ``--method extract`` (the model writes every
item, so there is a quote to repair) through a fault-injecting transport that
sits between the recorder and the real server → ``fixtures/faults/fault-*.jsonl``:

* ``fault-429-then-200``: the first request gets a synthetic HTTP 429 with
  Retry-After; the retry reaches the real model.
* ``fault-malformed-then-valid``: the model's first answer has its tool
  arguments cut in half (not JSON); Instructor re-asks the real model.
* ``fault-bad-quote-then-corrected``: the first claim's evidence is replaced by
  a quote that is not in the document; the targeted repair request is answered
  by the injector with the closest source sentence for every item (a perfect
  repairer), so the corrected item is known.

A daily run over all 25 seeds on the embedded default with ``--synthesis model``: its only model call is
the digest's synthesis → ``fixtures/daily/digest.jsonl`` (replayed by the daily
tests and ``make quality``).

A long document (``fixtures/long/wikinews-long.txt``, 14 Wikinews articles)
briefed with ``--method extract --n-ctx 4096``, so in 13 parts plus the summary
call → ``fixtures/long/``.

A daily run with ``--batch --wait`` over two Wikinews articles (``--method extract --profile embedded``)
through the loopback fake Batch API (``tests/support/fake_batch.py``), whose batch requests and online calls the
embedded server answers: the Files and Batches exchanges (upload, create, polls, output download) →
``fixtures/batch/batch.jsonl``, the online follow-ups → ``fixtures/batch/<document>.jsonl``, the digest's
synthesis → ``fixtures/batch/digest.jsonl``.

Run from the repository root: ``python scripts/record_fixtures.py [--only NAME]``
(NAME: a document, ``extract``, a fault, ``daily``, ``long`` or ``batch``).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer import grounding  # noqa: E402
from summarizer.daily import DailyOptions, run_daily  # noqa: E402
from summarizer.documents import read_document  # noqa: E402
from summarizer.fixtures import Recorder  # noqa: E402
from summarizer.llm import LLM, RetryingTransport  # noqa: E402
from summarizer.local import LocalServer  # noqa: E402
from summarizer.pipeline import brief_document  # noqa: E402
from summarizer.settings import build_settings  # noqa: E402

FIXTURES = ROOT / "fixtures"
RECORDED = [
    "seeds/000_09fe83c6082f21eb.txt",
    "seeds/wikinews/korea.txt",
    "seeds/wikinews/stampede.txt",
    "seeds/wikinews/crane.txt",
    "seeds/wikinews/worship.txt",
    "seeds/wikinews/asylum.txt",
]
# hackers and nasa have quotes the model got nearly right (fuzzy matches).
EXTRACT = [*RECORDED, "seeds/wikinews/hackers.txt", "seeds/wikinews/nasa.txt"]
FAULTS = {
    "fault-429-then-200": "seeds/wikinews/flag.txt",
    "fault-malformed-then-valid": "seeds/wikinews/ie9.txt",
    "fault-bad-quote-then-corrected": "seeds/wikinews/imprisoned.txt",
}
FAKE_QUOTE = "This sentence was put here by the fault injector and is not in the document."


def _tool_call(body: dict) -> dict | None:
    try:
        return body["choices"][0]["message"]["tool_calls"][0]["function"]
    except (KeyError, IndexError, TypeError):
        return None


def _json_response(request: httpx2.Request, status: int, body: dict, headers: dict | None = None) -> httpx2.Response:
    return httpx2.Response(status, json=body, headers=headers or {}, request=request)


class FaultInjector(httpx2.AsyncBaseTransport):
    """Wraps the real transport and injects one named fault."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, fault: str, document: str):
        self.inner, self.fault, self.document = inner, fault, document
        self.requests = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests += 1
        if self.fault == "fault-429-then-200" and self.requests == 1:
            return _json_response(
                request,
                429,
                {"error": {"message": "Rate limit reached (injected)", "type": "rate_limit_error"}},
                {"retry-after": "1"},
            )
        sent = json.loads(request.content)
        tool = sent.get("tool_choice", {}).get("function", {}).get("name")
        if self.fault == "fault-bad-quote-then-corrected" and tool == "Repairs":
            return self._perfect_repair(request, sent)
        response = await self.inner.handle_async_request(request)
        body = json.loads(await response.aread())
        call = _tool_call(body)
        if call is not None and self.requests == 1:
            if self.fault == "fault-malformed-then-valid":
                call["arguments"] = call["arguments"][: len(call["arguments"]) // 2]
            elif self.fault == "fault-bad-quote-then-corrected":
                arguments = json.loads(call["arguments"], strict=False)
                arguments["claims"][0]["evidence"] = FAKE_QUOTE
                call["arguments"] = json.dumps(arguments, ensure_ascii=False)
        return _json_response(request, response.status_code, body)

    def _perfect_repair(self, request: httpx2.Request, sent: dict) -> httpx2.Response:
        """Answer a repair request with the closest source sentence for each item."""
        prompt = sent["messages"][-1]["content"]
        items = []
        for line in prompt.splitlines():
            if line.startswith("Item "):
                number = int(line.split()[1])
                wrote = next(row for row in prompt.splitlines()[prompt.splitlines().index(line) :] if "Wrote:" in row)
                quote = wrote.split('"')[1]
                hint = grounding.closest_sentence(quote, self.document) or self.document.strip().splitlines()[0]
                items.append(
                    {
                        "item": number,
                        "evidence": hint[:240].rsplit(" ", 1)[0] if len(hint) > 240 else hint,
                        "claimant": "author",
                    }
                )
        arguments = json.dumps({"items": items}, ensure_ascii=False)
        body = {
            "id": "chatcmpl-injected-repair",
            "object": "chat.completion",
            "created": 0,
            "model": sent["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "call_injected",
                                "type": "function",
                                "function": {"name": "Repairs", "arguments": arguments},
                            }
                        ],
                    },
                }
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }
        return _json_response(request, 200, body)


async def record(
    server: LocalServer, source: str, folder: Path, scenario: str, fault: str | None, method: str | None = None
) -> None:
    # The faults exercise the model-written path (--method extract): its repair request exists only there.
    method = "extract" if fault else method
    settings = build_settings(provider="local", base_url=server.base_url, method=method, environ={})
    # The scenario (fixture file) is named after the document: give it the scenario's
    # name; the path is never part of a request, so the exchanges are the same.
    document = dataclasses.replace(read_document(source), path=f"{scenario}.txt")
    real: httpx2.AsyncBaseTransport = httpx2.AsyncHTTPTransport()
    if fault:
        real = FaultInjector(real, fault, document.text)
    recorder = Recorder(folder, real)
    llm = LLM(
        settings,
        transport=RetryingTransport(recorder, retries=settings.transport_retries, max_wait_s=settings.max_retry_wait_s),
    )
    started = time.perf_counter()
    try:
        brief = await brief_document(document, llm, settings)
        print(
            f"{scenario}: {len(brief.actors)} actors, {len(brief.claims)} claims, "
            f"{len(brief.uncertainties)} uncertainties, {len(brief.rejected)} rejected, "
            f"{brief.run.attempts} calls, {time.perf_counter() - started:.1f} s",
            flush=True,
        )
    except Exception as error:  # noqa: BLE001 - a recording that fails is still worth keeping for review
        print(f"{scenario}: FAILED {type(error).__name__}: {error}", flush=True)
    finally:
        await llm.aclose()


def record_daily(server: LocalServer, folder: Path) -> None:
    """A daily run over every seed (concurrency 2) on the embedded default with --synthesis model: its digest's
    synthesis, the only model call → fixtures/daily/."""
    settings = build_settings(provider="local", base_url=server.base_url, record_dir=folder, environ={})
    out = Path(tempfile.mkdtemp(prefix="daily-"))
    started = time.perf_counter()
    options = DailyOptions(out=out, concurrency=2, synthesis="model")  # the embedded model asked (--synthesis model)
    manifest, digest = asyncio.run(run_daily([str(ROOT / "seeds")], settings, options))
    print(
        f"daily: {manifest.counts()}, {len(digest.stories)} stories, "
        f"{sum(len(s.contradictions) for s in digest.stories)} contradictions, "
        f"{sum(len(s.open_questions) for s in digest.stories)} open questions, "
        f"synthesis error: {digest.synthesis_error}, "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    shutil.rmtree(out)


def record_long(server: LocalServer, folder: Path) -> None:
    """A document several times the context it is briefed with (--n-ctx 4096) → fixtures/long/."""
    settings = build_settings(provider="local", base_url=server.base_url, method="extract", n_ctx=4096, environ={})
    source = FIXTURES / "long" / "wikinews-long.txt"
    llm = LLM(
        settings,
        transport=RetryingTransport(
            Recorder(folder, httpx2.AsyncHTTPTransport()),
            retries=settings.transport_retries,
            max_wait_s=settings.max_retry_wait_s,
        ),
    )

    async def run() -> None:
        started = time.perf_counter()
        try:
            brief = await brief_document(read_document(str(source)), llm, settings)
        finally:
            await llm.aclose()
        print(
            f"long: {brief.document.parts} parts, {len(brief.claims)} claims, {brief.run.attempts} calls, "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )

    asyncio.run(run())


BATCH_SOURCES = ["seeds/wikinews/crane.txt", "seeds/wikinews/korea.txt"]  # as tests/test_batch.py replays them
BATCH_MODEL = "smollm2-135m-instruct"


def record_batch(server: LocalServer, folder: Path) -> None:
    """A batch submitted, polled and collected in one run (the recording must hold every poll in order)."""
    from summarizer.batch import BatchOptions, run_batch
    from tests.support.fake_batch import FakeBatchAPI

    work = Path(tempfile.mkdtemp(prefix="batch-"))
    inbox = work / "inbox"
    inbox.mkdir()
    for source in BATCH_SOURCES:
        shutil.copyfile(ROOT / source, inbox / Path(source).name)
    started = time.perf_counter()
    with FakeBatchAPI(delay_s=1.0, upstream=server.base_url) as fake:
        settings = build_settings(
            provider="openai",
            base_url=fake.base_url,
            model=BATCH_MODEL,
            profile="embedded",
            method="extract",
            record_dir=folder,
            environ={"OPENAI_API_KEY": "recording"},
        )
        outcome = asyncio.run(
            run_batch(
                [str(inbox)],
                settings,
                DailyOptions(out=work / "day"),
                BatchOptions(wait=True, poll_s=0.5, poll_max_s=2),
            )
        )
    print(
        f"batch: {outcome.manifest.counts()}, batches {[(r.id, r.status) for r in outcome.manifest.batches]}, "
        f"{outcome.manifest.batch_usage.total_tokens} of {outcome.manifest.usage.total_tokens} tokens by the batch, "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    shutil.rmtree(work)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="record only the scenario with this name")
    args = parser.parse_args()
    logging.getLogger("instructor").setLevel(logging.CRITICAL)  # failed attempts are in the fixtures
    staging = Path(tempfile.mkdtemp(prefix="fixtures-"))
    (staging / "faults").mkdir()
    (staging / "extract").mkdir()
    (staging / "daily").mkdir()
    (staging / "long").mkdir()
    with LocalServer() as server:
        for source in EXTRACT:
            name = Path(source).stem
            if not args.only or args.only in (name, "extract"):
                asyncio.run(record(server, str(ROOT / source), staging / "extract", name, None, "extract"))
        for name, source in FAULTS.items():
            if not args.only or args.only == name:
                asyncio.run(record(server, str(ROOT / source), staging / "faults", name, name))
        if not args.only or args.only == "daily":
            record_daily(server, staging / "daily")
        if not args.only or args.only == "long":
            record_long(server, staging / "long")
        if not args.only or args.only == "batch":
            (staging / "batch").mkdir()
            record_batch(server, staging / "batch")
    for produced in staging.rglob("*.jsonl"):
        target = FIXTURES / produced.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(produced, target)
    shutil.rmtree(staging)
    print(f"fixtures written under {FIXTURES.relative_to(ROOT)}/; review them with git diff")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
