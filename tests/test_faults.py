"""Fault matrix: every fault type of the loopback fake server × a batch of 50 documents.

Nothing is lost (each input has a brief or a manifest error), no file is left
half-written, the HTTP calls never exceed the documented retry budget, a rerun
finishes exactly the documents that failed, and no key, Authorization header or
machine path is written anywhere.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from summarizer.daily import DailyOptions, run_daily
from summarizer.digest import STORY_DOCUMENTS
from summarizer.settings import build_settings

from .support.fake_server import FAULTS, FakeServer, document

DOCUMENTS = 50
SECRET = "sk-test-0123456789abcdefghijklmnop"


def call_budget(settings) -> int:
    """The documented bound on HTTP calls for one document (docs/retry-budget.md)."""
    return settings.max_llm_calls * (settings.transport_retries + 1)


def daily(server: FakeServer, inbox: Path, out: Path):
    settings = build_settings(
        provider="openai",
        base_url=server.base_url,
        environ={"OPENAI_API_KEY": SECRET},
        timeout_s=1.0,
        max_retry_wait_s=1.0,
    )
    manifest, digest = asyncio.run(run_daily([str(inbox)], settings, DailyOptions(out=out, concurrency=16)))
    return settings, manifest, digest


@pytest.mark.parametrize("fault", [f for f in FAULTS if f != "none"])
def test_fault_matrix(tmp_path: Path, fault: str) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for number in range(DOCUMENTS):
        (inbox / f"doc-{number:02d}.txt").write_text(document(number))
    out = tmp_path / "out"
    with FakeServer(latency_s=0.0, fault=fault) as server:
        settings, manifest, _digest = daily(server, inbox, out)
        first_calls = server.requests
        assert len(manifest.entries) == DOCUMENTS and manifest.finished
        for entry in manifest.entries:
            if entry.status == "ok":
                assert (out / entry.brief).is_file()
            else:
                assert entry.status == "failed" and entry.error, entry
        failed = {e.source for e in manifest.entries if e.status == "failed"}
        # Every fault is absorbed: a retry, a re-ask, or (an answer cut at its sized budget) one more
        # request with the model's output ceiling.
        assert failed == set(), [e.error for e in manifest.entries if e.error][:3]
        batches = _digest.synthesis_calls  # the digest's requests: its documents in batches of STORY_DOCUMENTS
        assert batches == -(-DOCUMENTS // STORY_DOCUMENTS)
        assert first_calls <= (DOCUMENTS + batches) * call_budget(settings)
        if fault == "length":
            # each answer cut once at its sized budget, then given whole under the ceiling; so is each digest's
            assert first_calls == 2 * DOCUMENTS + 2 * batches
            assert all(e.attempts == 2 for e in manifest.entries)
        else:
            assert first_calls > DOCUMENTS  # the fault really happened and was answered again
        assert not list(out.rglob("*.part")) and not list(out.rglob(".*"))
        for file in out.rglob("*.json"):
            json.loads(file.read_text())  # every file whole

        _, again, _ = daily(server, inbox, out)
        resent = server.requests - first_calls
        statuses = {e.source: e.status for e in again.entries}
        assert {s for s, status in statuses.items() if status == "ok"} == failed
        assert all(status == "skipped-unchanged" for s, status in statuses.items() if s not in failed)
        assert resent <= len(failed) * call_budget(settings) + call_budget(settings)
        if not failed:
            assert resent == 0
    written = "\n".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    for needle in (SECRET, "Authorization", "Bearer", str(Path.home()) + "/"):
        assert needle not in written
