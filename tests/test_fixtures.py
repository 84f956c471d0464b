from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import httpx2
import pytest

from summarizer.errors import FixtureMissing, OutputError
from summarizer.fixtures import SCENARIO, Recorder, Replayer, redact, request_key
from summarizer.store import atomic_write_text


def post(body: dict, host: str = "http://127.0.0.1:1234") -> httpx2.Request:
    return httpx2.Request(
        "POST",
        f"{host}/v1/chat/completions",
        json=body,
        headers={"Authorization": "Bearer sk-abcdefghijklmnopqrstuvwxyz"},
    )


class Echo(httpx2.AsyncBaseTransport):
    def __init__(self) -> None:
        self.count = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.count += 1
        return httpx2.Response(200, json={"n": self.count, "path": str(Path.home() / "models" / "x.gguf")})


def test_key_ignores_host_headers_and_key_order() -> None:
    a = post({"model": "m", "messages": [1]})
    b = post({"messages": [1], "model": "m"}, host="http://replay.invalid")
    assert request_key("POST", a.url.path, json.loads(a.content)) == request_key(
        "POST", b.url.path, json.loads(b.content)
    )
    assert request_key("POST", "/v1/chat/completions", {"model": "m"}) != request_key(
        "POST", "/v1/chat/completions", {"model": "n"}
    )


def test_record_then_replay_in_order(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path, Echo(), secrets=["sk-abcdefghijklmnopqrstuvwxyz"])
    SCENARIO.set("doc")
    for _ in range(2):
        asyncio.run(recorder.handle_async_request(post({"same": "request"})))
    asyncio.run(recorder.handle_async_request(post({"other": "request"})))
    text = (tmp_path / "doc.jsonl").read_text()
    assert "sk-abc" not in text and "Authorization" not in text and "Bearer" not in text
    assert str(Path.home()) not in text and "[PATH]" in text
    replayer = Replayer(tmp_path)
    assert replayer.answer(post({"same": "request"})).json()["n"] == 1
    assert replayer.unused() == ["doc.jsonl:2", "doc.jsonl:3"]
    assert replayer.answer(post({"same": "request"})).json()["n"] == 2
    assert replayer.answer(post({"other": "request"}, host="http://replay.invalid")).json()["n"] == 3
    assert replayer.unused() == []
    with pytest.raises(FixtureMissing, match=r"summarizer brief DOCUMENT --provider local --record"):
        replayer.answer(post({"same": "request"}))


def test_replay_reads_a_single_file_and_keeps_retry_after(tmp_path: Path) -> None:
    request = post({"x": 1})
    entry = {
        "key": request_key("POST", "/v1/chat/completions", {"x": 1}),
        "request": {"method": "POST", "path": "/v1/chat/completions", "body": {"x": 1}},
        "response": {"status": 429, "retry_after": "3", "text": "slow down"},
    }
    file = tmp_path / "fault.jsonl"
    file.write_text(json.dumps(entry) + "\n")
    response = Replayer(file).answer(request)
    assert response.status_code == 429 and response.headers["retry-after"] == "3" and response.text == "slow down"


def test_replay_of_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Replayer(tmp_path / "nope")


def test_redact_walks_nested_values() -> None:
    cleaned = redact({"a": ["token sk-ABCDEFGHIJKLMNOP1234", {"b": f"{os.getcwd()}/file"}], "n": 3})
    assert cleaned == {"a": ["token [REDACTED]", {"b": "[PATH]/file"}], "n": 3}


def test_atomic_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out" / "brief.json"
    atomic_write_text(target, "first")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OutputError, match=r"cannot write .*brief\.json \(disk full\)"):
        atomic_write_text(target, "second")
    assert target.read_text() == "first"
    assert [p.name for p in target.parent.iterdir()] == ["brief.json"]
