"""daily --batch: submit to the Batch API, collect later; every fault leaves nothing lost and nothing sent twice.

The Batch API is the loopback fake in ``tests/support/fake_batch.py``, in its own process (started and stopped by
its PID); the recorded fixtures in ``fixtures/batch`` replay a real model's batch offline.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from summarizer import batch_api
from summarizer.batch import BatchOptions, run_batch
from summarizer.cli import app
from summarizer.daily import DailyOptions, Manifest, Prices
from summarizer.errors import ExitCode as Exit
from summarizer.fixtures import request_key
from summarizer.llm import BatchAPI
from summarizer.models import Usage
from summarizer.settings import build_settings
from summarizer.store import load_brief
from summarizer.structured import batch_key

from .conftest import FIXTURES, ROOT
from .support.fake_batch import FakeBatchAPI
from .support.fake_server import document

runner = CliRunner()
BATCH_FIXTURES = FIXTURES / "batch"
ENV = {"OPENAI_API_KEY": "test-key"}


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    for number in range(6):
        (folder / f"doc-{number}.txt").write_text(document(number), encoding="utf-8")
    return folder


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Iterator[FakeBatchAPI]:
    """The fake Batch API with the fault and answer shape the test asks for (``@pytest.mark.parametrize``
    with ``indirect``, or a marker-free default)."""
    fault, shape, delay = getattr(request, "param", ("none", "one-call", 0.3))
    with FakeBatchAPI(delay_s=delay, fault=fault, shape=shape) as server:
        yield server


def daily(fake: FakeBatchAPI, *args: str) -> Any:
    poll = ["--poll", "0.05"] if "--wait" in args else []
    return runner.invoke(app, ["daily", *args, "--base-url", fake.base_url, "--model", "gpt-4o-mini", *poll], env=ENV)


def manifest(day: Path) -> Manifest:
    return Manifest.model_validate_json((day / "manifest.json").read_text(encoding="utf-8"))


def statuses(day: Path) -> dict[str, str]:
    return {Path(e.source).name: e.status for e in manifest(day).entries}


def wait_for_end(fake: FakeBatchAPI, delay: float = 0.35) -> None:
    time.sleep(delay)


def grounded(day: Path) -> int:
    """Every brief of the day: each quote is the source's text at its span; the number of claims."""
    claims = 0
    for path in sorted((day / "briefs").glob("*.json")):
        brief = load_brief(path)
        text = Path(brief.document.path).read_text(encoding="utf-8")
        for claim in brief.claims:
            assert text[claim.evidence.start : claim.evidence.end] == claim.evidence.quote
            claims += 1
    return claims


# --------------------------------------------------------------------------
# Submit, rerun while in progress, collect
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fake", [("none", "one-call", 30.0)], indirect=True)
def test_submit_writes_the_online_bodies_and_a_rerun_while_in_progress_submits_nothing(
    fake: FakeBatchAPI, inbox: Path, tmp_path: Path
) -> None:
    day = tmp_path / "day"
    submitted = daily(fake, str(inbox), "--out", str(day), "--batch")
    assert submitted.exit_code == 0, submitted.stderr
    assert "collect with: summarizer daily" in submitted.stderr and "--collect" in submitted.stderr
    state = manifest(day)
    assert set(statuses(day).values()) == {"submitted"} and not state.finished
    assert [r.status for r in state.batches] == ["in_progress"] and state.batches[0].id
    assert all(e.batch == "b1" and len(e.custom_ids) == 1 for e in state.entries)
    assert not (day / "digest.json").exists()

    # The batch file holds exactly the bodies the online path sends: brief the same documents online
    # against the fake's chat endpoint, recording, and compare request by request.
    lines = [json.loads(line) for line in (day / "batches" / "b1.input.jsonl").read_text().splitlines()]
    assert sorted(line["custom_id"] for line in lines) == sorted(c for e in state.entries for c in e.custom_ids)
    assert {line["url"] for line in lines} == {"/v1/chat/completions"} and {line["method"] for line in lines} == {
        "POST"
    }
    recorded = tmp_path / "online"
    online = daily(fake, str(inbox), "--out", str(tmp_path / "online-day"), "--record", str(recorded))
    assert online.exit_code == 0, online.stderr
    sent = {
        entry["key"]: entry["request"]["body"]
        for file in recorded.glob("doc-*.jsonl")
        for entry in map(json.loads, file.read_text().splitlines())
    }
    for line in lines:
        key = line["custom_id"].rsplit("-", 1)[1]
        assert line["body"] == sent[key], "a batch body differs from the online request"
        assert request_key("POST", "/v1/chat/completions", line["body"]) == key
        assert line["body"]["tools"][0]["function"]["name"] == "Extraction"

    again = daily(fake, str(inbox), "--out", str(day), "--batch")
    assert again.exit_code == Exit.IN_PROGRESS, again.stderr
    collect = daily(fake, str(day), "--collect")
    assert collect.exit_code == Exit.IN_PROGRESS and "not ended yet" in collect.stderr
    assert fake.stats()["batches"] == 1 and fake.stats()["files"] == 1, "a rerun submitted again"
    assert set(statuses(day).values()) == {"submitted"}


def test_collect_briefs_from_the_answers_and_counts_batch_tokens_at_the_discount(
    fake: FakeBatchAPI, inbox: Path, tmp_path: Path
) -> None:
    day = tmp_path / "day"
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"gpt-4o-mini": {"input": 0.15, "output": 0.6}}), encoding="utf-8")
    assert daily(fake, str(inbox), "--out", str(day), "--batch", "--prices", str(prices)).exit_code == 0
    wait_for_end(fake)
    collected = daily(fake, str(day), "--collect", "--prices", str(prices))
    assert collected.exit_code == 0, collected.stderr
    state = manifest(day)
    assert set(statuses(day).values()) == {"ok"} and state.finished
    assert state.batches[0].collected and state.batches[0].status == "completed"
    assert all(not e.batch and not e.custom_ids for e in state.entries)
    assert grounded(day) >= 6
    assert (day / "digest.json").exists() and (day / "batches" / "b1.output.jsonl").exists()
    # one request per document answered by the batch; the digest's synthesis is the only online call
    assert fake.stats()["batch_requests"] == 6 and fake.stats()["online_requests"] == 1
    briefs = [e for e in state.entries if e.status == "ok"]
    assert all(e.batch_usage.total_tokens == e.usage.total_tokens > 0 for e in briefs)
    assert state.cost is not None
    online_cost = Prices(input=0.15, output=0.6).cost(state.usage)
    assert state.cost < online_cost and state.cost == pytest.approx(
        Prices(input=0.15, output=0.6).cost(state.usage, state.batch_usage)
    )
    assert "answered by the Batch API" in collected.stderr

    rerun = daily(fake, str(inbox), "--out", str(day), "--batch")
    assert rerun.exit_code == 0, rerun.stderr
    assert set(statuses(day).values()) == {"skipped-unchanged"} and fake.stats()["batches"] == 1


def test_a_plain_daily_run_on_a_folder_with_an_open_batch_collects_it_instead_of_sending_online(
    fake: FakeBatchAPI, inbox: Path, tmp_path: Path
) -> None:
    day = tmp_path / "day"
    assert daily(fake, str(inbox), "--out", str(day), "--batch").exit_code == 0
    wait_for_end(fake)
    plain = daily(fake, str(inbox), "--out", str(day))
    assert plain.exit_code == 0, plain.stderr
    assert set(statuses(day).values()) == {"ok"}
    assert fake.stats()["online_requests"] == 1  # the synthesis only: no document went online


def test_wait_polls_until_the_batch_ends(fake: FakeBatchAPI, inbox: Path, tmp_path: Path) -> None:
    day = tmp_path / "day"
    result = daily(fake, str(inbox), "--out", str(day), "--batch", "--wait")
    assert result.exit_code == 0, result.stderr
    assert "waiting: batch" in result.stderr
    assert set(statuses(day).values()) == {"ok"} and manifest(day).finished


# --------------------------------------------------------------------------
# Follow-ups: online (default) or as the next batch
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fake", [("none", "repairs", 0.3)], indirect=True)
def test_repairs_go_online_by_default(fake: FakeBatchAPI, inbox: Path, tmp_path: Path) -> None:
    day = tmp_path / "day"
    result = daily(fake, str(inbox), "--out", str(day), "--batch", "--wait")
    assert result.exit_code == 0, result.stderr
    state = manifest(day)
    assert len(state.batches) == 1 and set(statuses(day).values()) == {"ok"}
    assert fake.stats()["online_requests"] == 6 + 1  # one repair per document, and the synthesis
    assert all(0 < e.batch_usage.total_tokens < e.usage.total_tokens for e in state.entries)
    assert all(load_brief(day / e.brief).run.repaired >= 1 for e in state.entries if e.brief)
    assert grounded(day) >= 6


@pytest.mark.parametrize("fake", [("none", "repairs", 0.3)], indirect=True)
def test_follow_up_batch_sends_the_repairs_as_a_second_wave(fake: FakeBatchAPI, inbox: Path, tmp_path: Path) -> None:
    day = tmp_path / "day"
    result = daily(fake, str(inbox), "--out", str(day), "--batch", "--wait", "--follow-up", "batch")
    assert result.exit_code == 0, result.stderr
    state = manifest(day)
    # the first requests, the repairs they called for, then the digest's synthesis: nothing online
    assert [(r.name, r.wave, r.requests, r.collected) for r in state.batches] == [
        ("b1", 1, 6, True),
        ("b2", 2, 6, True),
        ("b3", 3, 1, True),
    ]
    assert set(statuses(day).values()) == {"ok"} and state.finished
    assert fake.stats()["online_requests"] == 0 and fake.stats()["batch_requests"] == 13
    assert all(e.batch_usage == e.usage for e in state.entries)
    assert state.digest_usage.total_tokens > 0 and state.batch_usage == state.usage
    digest = json.loads((day / "digest.json").read_text())
    assert digest["synthesis_error"] is None and any(len(s["documents"]) == 2 for s in digest["stories"])
    assert all(load_brief(day / e.brief).run.repaired >= 1 for e in state.entries if e.brief)


# --------------------------------------------------------------------------
# Faults: expired, failed, cancelled, partial errors, a run killed between submit and collect
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fake", [("expired", "one-call", 0.3)], indirect=True)
def test_an_expired_batch_leaves_the_unanswered_documents_pending_for_the_next_run(
    fake: FakeBatchAPI, inbox: Path, tmp_path: Path
) -> None:
    day = tmp_path / "day"
    first = daily(fake, str(inbox), "--out", str(day), "--batch", "--wait")
    assert first.exit_code == 0, first.stderr
    state = manifest(day)
    assert sorted(statuses(day).values()) == ["ok"] * 3 + ["pending"] * 3
    assert all("expired" in (e.error or "") for e in state.entries if e.status == "pending")
    assert state.batches[0].status == "expired" and state.batches[0].collected
    pending = {e.source for e in state.entries if e.status == "pending"}
    # The next run sends exactly those again (its batch expires half-way too)
    second = daily(fake, str(inbox), "--out", str(day), "--batch", "--wait")
    assert second.exit_code == 0, second.stderr
    again = manifest(day)
    assert again.batches[1].requests == len(pending) == 3
    resent = [json.loads(line)["custom_id"] for line in (day / "batches" / "b2.input.jsonl").read_text().splitlines()]
    ids = {e.source: batch_key(e.document_id or "") for e in again.entries}
    assert {c.rsplit("-", 1)[0] for c in resent} == {ids[s] for s in pending}
    # the three briefed before are unchanged; of the three sent again, half were answered
    assert sorted(statuses(day).values()) == ["ok"] + ["pending"] * 2 + ["skipped-unchanged"] * 3


@pytest.mark.parametrize("fake", [("expired", "one-call", 0.3)], indirect=True)
def test_a_synthesis_batch_that_expires_leaves_the_digest_without_one_and_ends(
    fake: FakeBatchAPI, inbox: Path, tmp_path: Path
) -> None:
    day = tmp_path / "day"
    result = daily(fake, str(inbox), "--out", str(day), "--batch", "--wait", "--follow-up", "batch")
    assert result.exit_code == Exit.SYNTHESIS and "the digest's synthesis: " in result.stderr, result.stderr
    state = manifest(day)
    assert [(r.wave, r.requests, r.status) for r in state.batches] == [(1, 6, "expired"), (2, 1, "expired")]
    assert state.finished and fake.stats()["online_requests"] == 0
    digest = json.loads((day / "digest.json").read_text())
    assert "not answered in the batch" in digest["synthesis_error"]
    # the stories are made by rule, every briefed document in one of them
    assert {s["named_by"] for s in digest["stories"]} <= {"rules", "title"}
    assert sorted(k for s in digest["stories"] for k in s["documents"]) == sorted(digest["documents"])


@pytest.mark.parametrize("fake", [("failed", "one-call", 0.3)], indirect=True)
def test_a_failed_batch_fails_its_documents_and_loses_none(fake: FakeBatchAPI, inbox: Path, tmp_path: Path) -> None:
    day = tmp_path / "day"
    result = daily(fake, str(inbox), "--out", str(day), "--batch", "--wait")
    assert result.exit_code == Exit.LLM, result.stderr
    state = manifest(day)
    assert set(statuses(day).values()) == {"failed"} and len(state.entries) == 6
    assert all("injected failure" in (e.error or "") and e.error_kind == "llm" for e in state.entries)
    assert state.finished and (day / "digest.json").exists()
    assert len(json.loads((day / "digest.json").read_text())["failures"]) == 6
    # the next run submits every document again
    again = daily(fake, str(inbox), "--out", str(day), "--batch")
    assert again.exit_code == 0 and manifest(day).batches[1].requests == 6


@pytest.mark.parametrize("fake", [("partial", "one-call", 0.3)], indirect=True)
def test_per_request_errors_fail_exactly_those_documents(fake: FakeBatchAPI, inbox: Path, tmp_path: Path) -> None:
    day = tmp_path / "day"
    result = daily(fake, str(inbox), "--out", str(day), "--batch", "--wait")
    assert result.exit_code == Exit.LLM, result.stderr
    state = manifest(day)
    lines = [json.loads(line)["custom_id"] for line in (day / "batches" / "b1.input.jsonl").read_text().splitlines()]
    broken = {lines[2], lines[5]}  # the fake fails every third request
    for entry in state.entries:
        if entry.document_id and any(c.startswith(batch_key(entry.document_id)) for c in broken):
            assert entry.status == "failed" and (
                "HTTP 500" in (entry.error or "") or "per-request" in (entry.error or "")
            )
        else:
            assert entry.status == "ok"
    assert sorted(statuses(day).values()) == ["failed"] * 2 + ["ok"] * 4
    assert (day / "batches" / "b1.errors.jsonl").exists()


@pytest.mark.parametrize("fake", [("cancel", "one-call", 30.0)], indirect=True)
def test_cancel_leaves_the_documents_pending_and_the_folder_free(
    fake: FakeBatchAPI, inbox: Path, tmp_path: Path
) -> None:
    day = tmp_path / "day"
    assert daily(fake, str(inbox), "--out", str(day), "--batch").exit_code == 0
    result = daily(fake, str(day), "--cancel", "--wait")
    assert result.exit_code == 0, result.stderr
    assert "6 document(s) pending" in result.stderr and "--batch) sends them" in result.stderr
    state = manifest(day)
    assert set(statuses(day).values()) == {"pending"} and state.batches[0].status == "cancelled"
    assert all("cancelled" in (e.error or "") for e in state.entries)
    assert len(json.loads((day / "digest.json").read_text())["failures"]) == 6  # pending is listed as missing
    # the folder has no open batch now: a plain daily sends the documents online
    online = daily(fake, str(inbox), "--out", str(day))
    assert online.exit_code == 0 and set(statuses(day).values()) == {"ok"}
    assert fake.stats()["online_requests"] == 6 + 1


@pytest.mark.parametrize("fake", [("partial", "one-call", 0.3)], indirect=True)
def test_a_document_that_failed_in_one_batch_is_briefed_when_the_next_answers_it(
    fake: FakeBatchAPI, inbox: Path, tmp_path: Path
) -> None:
    day = tmp_path / "day"
    assert daily(fake, str(inbox), "--out", str(day), "--batch", "--wait").exit_code == Exit.LLM
    assert sorted(statuses(day).values()) == ["failed"] * 2 + ["ok"] * 4
    again = daily(fake, str(inbox), "--out", str(day), "--batch", "--wait")  # b2: two requests, both answered
    assert again.exit_code == 0, again.stderr
    assert manifest(day).batches[1].requests == 2
    assert sorted(statuses(day).values()) == ["ok"] * 2 + ["skipped-unchanged"] * 4


@pytest.mark.parametrize("fake", [("no-files", "one-call", 0.3)], indirect=True)
def test_an_endpoint_without_the_files_api_leaves_nothing_open(fake: FakeBatchAPI, inbox: Path, tmp_path: Path) -> None:
    day = tmp_path / "day"
    result = daily(fake, str(inbox), "--out", str(day), "--batch")
    assert result.exit_code == Exit.LLM and "uploading b1.input.jsonl" in result.stderr and "404" in result.stderr
    state = manifest(day)
    assert state.batches == [] and set(statuses(day).values()) == {"pending"}
    assert all("not submitted" in (e.error or "") for e in state.entries)
    online = daily(fake, str(inbox), "--out", str(day))  # not stuck: the online run works
    assert online.exit_code == 0 and set(statuses(day).values()) == {"ok"}


def test_a_batch_the_api_no_longer_knows_leaves_its_documents_pending(
    fake: FakeBatchAPI, inbox: Path, tmp_path: Path
) -> None:
    day = tmp_path / "day"
    assert daily(fake, str(inbox), "--out", str(day), "--batch").exit_code == 0
    forget = urllib.request.Request(fake.base_url.replace("/v1", "/control/forget"), data=b"", method="POST")
    urllib.request.urlopen(forget, timeout=5).read()  # noqa: S310 - the loopback fake: the batch is deleted
    result = daily(fake, str(day), "--collect")
    assert result.exit_code == 0, result.stderr
    assert set(statuses(day).values()) == {"pending"} and manifest(day).batches[0].status == "lost"
    assert all("does not know batch" in (e.error or "") for e in manifest(day).entries)
    again = daily(fake, str(inbox), "--out", str(day), "--batch", "--wait")
    assert again.exit_code == 0 and set(statuses(day).values()) == {"ok"}
    assert [r.name for r in manifest(day).batches] == ["b1", "b2"]


def test_collect_at_another_endpoint_is_refused(fake: FakeBatchAPI, inbox: Path, tmp_path: Path) -> None:
    day = tmp_path / "day"
    assert daily(fake, str(inbox), "--out", str(day), "--batch").exit_code == 0
    with FakeBatchAPI() as other:  # a wrong --base-url would not know the batch: not taken for lost
        result = daily(other, str(day), "--collect")
    assert result.exit_code == Exit.USAGE and "--base-url" in result.stderr
    assert set(statuses(day).values()) == {"submitted"} and manifest(day).batches[0].status == "in_progress"


@pytest.mark.parametrize("fake", [("none", "one-call", 30.0)], indirect=True)
def test_the_same_inbox_under_another_name_keeps_the_batch(fake: FakeBatchAPI, inbox: Path, tmp_path: Path) -> None:
    day = tmp_path / "day"
    assert daily(fake, str(inbox), "--out", str(day), "--batch").exit_code == 0
    relative = Path("..") / inbox.relative_to(tmp_path.parent)  # the same files, named another way
    result = daily(fake, str(inbox.parent / relative), "--out", str(day), "--batch")
    assert result.exit_code == Exit.IN_PROGRESS, result.stderr
    state = manifest(day)
    assert sum(e.status == "submitted" for e in state.entries) == 6 and not state.batches[0].collected


def test_force_with_a_batch_collects_the_new_answers(fake: FakeBatchAPI, inbox: Path, tmp_path: Path) -> None:
    day = tmp_path / "day"
    assert daily(fake, str(inbox), "--out", str(day), "--batch", "--wait").exit_code == 0
    forced = daily(fake, str(inbox), "--out", str(day), "--batch", "--force")
    assert forced.exit_code == 0 and manifest(day).batches[1].requests == 6
    wait_for_end(fake)
    result = daily(fake, str(day), "--collect")
    assert result.exit_code == 0, result.stderr
    assert set(statuses(day).values()) == {"ok"} and fake.stats()["batch_requests"] == 12


def test_collect_with_no_open_batch_changes_nothing(fake: FakeBatchAPI, inbox: Path, tmp_path: Path) -> None:
    day = tmp_path / "day"
    assert daily(fake, str(inbox), "--out", str(day), "--batch", "--wait").exit_code == 0
    before = {p.name: p.read_bytes() for p in day.iterdir() if p.is_file()}
    result = runner.invoke(app, ["daily", str(day), "--collect", "--model", "another"], env=ENV)
    assert result.exit_code == 0 and "no open batch" in result.stderr
    assert {p.name: p.read_bytes() for p in day.iterdir() if p.is_file()} == before


@pytest.mark.parametrize("fake", [("none", "repairs", 0.3)], indirect=True)
def test_collect_follows_up_as_the_batch_was_submitted(fake: FakeBatchAPI, inbox: Path, tmp_path: Path) -> None:
    day = tmp_path / "day"
    assert daily(fake, str(inbox), "--out", str(day), "--batch", "--follow-up", "batch").exit_code == 0
    assert manifest(day).follow_up == "batch"
    result = daily(fake, str(day), "--collect", "--wait")  # no --follow-up: as submitted
    assert result.exit_code == 0, result.stderr
    assert [r.wave for r in manifest(day).batches] == [1, 2, 3] and fake.stats()["online_requests"] == 0


def test_collect_with_other_request_settings_is_refused(fake: FakeBatchAPI, inbox: Path, tmp_path: Path) -> None:
    day = tmp_path / "day"
    assert daily(fake, str(inbox), "--out", str(day), "--batch").exit_code == 0
    other = daily(fake, str(day), "--collect", "--temperature", "0.7")
    assert other.exit_code == Exit.USAGE and "other settings" in other.stderr
    assert set(statuses(day).values()) == {"submitted"}


def test_collect_from_another_folder_is_refused_and_loses_nothing(
    fake: FakeBatchAPI, inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert daily(fake, "inbox", "--out", "day", "--batch").exit_code == 0  # paths relative to tmp_path
    before = (tmp_path / "day" / "manifest.json").read_text()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    wait_for_end(fake)
    result = daily(fake, str(tmp_path / "day"), "--collect")
    assert result.exit_code == Exit.INPUT and "run from the folder the batch was submitted from" in result.stderr
    assert (tmp_path / "day" / "manifest.json").read_text() == before
    monkeypatch.chdir(tmp_path)
    assert daily(fake, "day", "--collect").exit_code == 0 and set(statuses(tmp_path / "day").values()) == {"ok"}


def test_an_unreadable_manifest_is_an_error_not_a_fresh_start(inbox: Path, tmp_path: Path) -> None:
    day = tmp_path / "day"
    day.mkdir()
    (day / "manifest.json").write_text('{"batches": [', encoding="utf-8")
    result = runner.invoke(app, ["daily", str(day), "--collect", "--model", "m"], env=ENV)
    assert result.exit_code == Exit.INPUT and "cannot be read" in result.stderr


def test_wait_and_follow_up_go_with_batch(inbox: Path, tmp_path: Path) -> None:
    for option in (["--wait"], ["--follow-up", "batch"], ["--poll", "1"]):
        result = runner.invoke(
            app, ["daily", str(inbox), "--out", str(tmp_path / "day"), "--model", "m", *option], env=ENV
        )
        assert result.exit_code == Exit.USAGE and "goes with --batch" in result.stderr


def test_a_status_this_version_does_not_know_is_a_running_batch() -> None:
    from summarizer.daily import BatchRecord

    record = BatchRecord(name="b1")
    batch_api.update(record, {"id": "batch_1", "status": "queued", "request_counts": {"completed": 2}})
    assert record.status == "in_progress" and record.completed == 2 and record.id == "batch_1"


def test_a_run_killed_after_creating_the_batch_resumes_without_submitting_twice(
    fake: FakeBatchAPI, inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the Batch API made the batch but before its id was written down: the next run finds
    the batch by its input file and collects it."""
    day = tmp_path / "day"
    settings = build_settings(provider="openai", base_url=fake.base_url, model="gpt-4o-mini", environ=ENV)
    real_create = BatchAPI.create

    async def create_then_die(self: Any, *args: Any, **kwargs: Any) -> Any:
        await real_create(self, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(BatchAPI, "create", create_then_die)
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(run_batch([str(inbox)], settings, DailyOptions(out=day), BatchOptions()))
    state = manifest(day)
    assert set(statuses(day).values()) == {"submitted"}
    assert state.batches[0].input_file_id and state.batches[0].id is None
    monkeypatch.setattr(BatchAPI, "create", real_create)
    wait_for_end(fake)
    result = daily(fake, str(inbox), "--out", str(day), "--batch", "--wait")
    assert result.exit_code == 0, result.stderr
    assert fake.stats()["batches"] == 1 and fake.stats()["files"] == 1
    assert set(statuses(day).values()) == {"ok"}


def test_a_run_killed_before_uploading_uploads_once_on_resume(
    fake: FakeBatchAPI, inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = tmp_path / "day"
    settings = build_settings(provider="openai", base_url=fake.base_url, model="gpt-4o-mini", environ=ENV)

    async def killed(self: Any, path: Path) -> str:
        raise KeyboardInterrupt

    upload = BatchAPI.upload
    monkeypatch.setattr(BatchAPI, "upload", killed)
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(run_batch([str(inbox)], settings, DailyOptions(out=day), BatchOptions()))
    assert set(statuses(day).values()) == {"submitted"} and manifest(day).batches[0].status == "written"
    # Put upload back only: monkeypatch.undo() would also undo conftest's SUMMARIZER_DB, and the collect
    # below would write the user's history database.
    monkeypatch.setattr(BatchAPI, "upload", upload)
    result = daily(fake, str(day), "--collect", "--wait")
    assert result.exit_code == 0, result.stderr
    assert fake.stats()["batches"] == 1 and set(statuses(day).values()) == {"ok"}


# --------------------------------------------------------------------------
# Options and prices
# --------------------------------------------------------------------------


def test_batch_on_the_embedded_default_is_a_usage_error(inbox: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["daily", str(inbox), "--out", str(tmp_path / "day"), "--batch"])
    assert result.exit_code == Exit.USAGE and "asks no model per document" in result.stderr
    assert not (tmp_path / "day").exists()


def test_collect_without_a_manifest_says_what_to_give(tmp_path: Path) -> None:
    result = runner.invoke(app, ["daily", str(tmp_path), "--collect", "--model", "m"], env=ENV)
    assert result.exit_code == Exit.INPUT and "no daily manifest here" in result.stderr


def test_collecting_with_another_model_is_refused(fake: FakeBatchAPI, inbox: Path, tmp_path: Path) -> None:
    day = tmp_path / "day"
    assert daily(fake, str(inbox), "--out", str(day), "--batch").exit_code == 0
    other = runner.invoke(app, ["daily", str(day), "--collect", "--base-url", fake.base_url, "--model", "x"], env=ENV)
    assert other.exit_code == Exit.USAGE and "gpt-4o-mini" in other.stderr
    assert set(statuses(day).values()) == {"submitted"}


def test_prices_take_the_batch_factor() -> None:
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000, total_tokens=2_000_000)
    half = Usage(prompt_tokens=500_000, completion_tokens=500_000, total_tokens=1_000_000)
    assert Prices(input=1, output=2).cost(usage) == pytest.approx(3.0)
    assert Prices(input=1, output=2).cost(usage, usage) == pytest.approx(1.5)  # the default factor: half price
    assert Prices(input=1, output=2, batch=0.4).cost(usage, half) == pytest.approx(1.5 + 0.6)


def test_batch_files_are_split_at_the_api_limits(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from types import SimpleNamespace

    from summarizer.daily import ManifestEntry

    def written(limit: int) -> list[list[str]]:
        monkeypatch.setattr(batch_api, "MAX_BATCH_REQUESTS", limit)
        day = SimpleNamespace(records=[], folder=tmp_path / str(limit))
        writer = batch_api.Writer(day, wave=1)  # type: ignore[arg-type]  # what the writer reads of a day
        for i in range(4):
            body = json.dumps({"i": i}).encode()
            writer.add(
                ManifestEntry(source=f"s{i}", status="pending"), f"d{i}", [(f"d{i}-k{j}", body) for j in range(2)]
            )
        records = writer.close()
        assert [r.requests for r in records] == [len(line.splitlines()) for line in _texts(day.folder, records)]
        return [[json.loads(line)["custom_id"] for line in text.splitlines()] for text in _texts(day.folder, records)]

    assert written(3) == [[f"d{i}-k0", f"d{i}-k1"] for i in range(4)]  # a document's requests stay in one file
    assert written(4) == [["d0-k0", "d0-k1", "d1-k0", "d1-k1"], ["d2-k0", "d2-k1", "d3-k0", "d3-k1"]]


def _texts(folder: Path, records: list[Any]) -> list[str]:
    return [(folder / f"{r.name}.input.jsonl").read_text(encoding="utf-8") for r in records]


# --------------------------------------------------------------------------
# Recorded: a real model's batch, replayed offline
# --------------------------------------------------------------------------


def test_the_recorded_batch_replays_offline(tmp_path: Path) -> None:
    """``fixtures/batch``: two Wikinews articles submitted, polled, collected (the embedded model answered
    the batch through the fake Batch API), follow-ups online and the digest's synthesis."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in BATCH_SOURCES:
        (inbox / Path(name).name).write_text((ROOT / name).read_text(encoding="utf-8"), encoding="utf-8")
    day = tmp_path / "day"
    result = runner.invoke(
        app,
        ["daily", str(inbox), "--out", str(day), "--batch", "--wait", "--replay", str(BATCH_FIXTURES), *RECORDED],
        env=ENV,
    )
    assert result.exit_code in (0, Exit.LLM), result.stderr
    state = manifest(day)
    assert state.batches[0].status == "completed" and state.batches[0].requests == len(BATCH_SOURCES)
    assert all(e.status in ("ok", "failed") for e in state.entries)
    assert sum(e.status == "ok" for e in state.entries) >= 1
    assert all(e.batch_usage.total_tokens > 0 for e in state.entries if e.status == "ok")
    grounded(day)


BATCH_SOURCES = ["seeds/wikinews/crane.txt", "seeds/wikinews/korea.txt"]
RECORDED = ["--provider", "openai", "--base-url", "http://recorded.invalid/v1", "--model", "smollm2-135m-instruct"]
RECORDED += ["--profile", "embedded", "--method", "extract"]  # as scripts/record_fixtures.py recorded it


STRONG = FIXTURES / "strong"
STRONG_BATCH_INBOX = ["seeds/wikinews/korea.txt", "seeds/wikinews/crane.txt", "seeds/wikinews/nasa.txt"]
STRONG_BATCH_INBOX += ["seeds/wikinews/flag.txt"]  # as scripts/record_strong.py submits them


def test_a_strong_models_batch_gives_the_briefs_its_online_answers_give(tmp_path: Path) -> None:
    """``fixtures/strong/batch``: the reference answers through the Batch API (continuation passes online).
    Each answer goes through the same validation, grounding and follow-ups as online, so the briefs are
    those of the online recording of the same answers (``fixtures/strong``), item for item."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in STRONG_BATCH_INBOX:
        (inbox / Path(name).name).write_text((ROOT / name).read_text(encoding="utf-8"), encoding="utf-8")
    common = ["--base-url", "http://recorded.invalid/v1", "--model", "gpt-4o-mini", "--provider", "openai"]
    replay = [str(STRONG / "batch"), *common]
    batch = runner.invoke(
        app,
        ["daily", str(inbox), "--out", str(tmp_path / "batch"), "--batch", "--wait", "--replay", *replay],
        env=ENV,
    )
    assert batch.exit_code == 0, batch.stderr
    online = runner.invoke(  # the briefs are compared; the online digest of these four was never recorded
        app,
        [
            "daily",
            str(inbox),
            "--out",
            str(tmp_path / "online"),
            "--replay",
            str(STRONG),
            *common,
            "--synthesis",
            "rules",
        ],
        env=ENV,
    )
    assert online.exit_code == 0, online.stderr
    state = manifest(tmp_path / "batch")
    assert set(statuses(tmp_path / "batch").values()) == {"ok"} and state.batches[0].requests == 4
    assert all(0 < e.batch_usage.total_tokens <= e.usage.total_tokens for e in state.entries)
    claims = 0
    for name in STRONG_BATCH_INBOX:
        stem = Path(name).stem
        by_batch = load_brief(tmp_path / "batch" / "briefs" / f"{stem}.json")
        by_online = load_brief(tmp_path / "online" / "briefs" / f"{stem}.json")
        assert by_batch.summary == by_online.summary
        for kind in ("actors", "claims", "uncertainties", "rejected"):
            assert [i.model_dump() for i in getattr(by_batch, kind)] == [
                i.model_dump() for i in getattr(by_online, kind)
            ]
        assert by_batch.run.usage == by_online.run.usage and by_batch.run.passes == by_online.run.passes
        claims += len(by_batch.claims)
    assert claims >= 30  # 38 when recorded: a strong model's briefs: dozens of attributed claims, every span exact
    assert grounded(tmp_path / "batch") == claims
