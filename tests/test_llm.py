"""The transport retry policy and the LLM client, against in-process fake transports."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx2
import pytest

from summarizer.errors import FixtureMissing, LLMError, ReasksExhausted
from summarizer.llm import (
    LLM,
    RetryingTransport,
    backoff_seconds,
    is_retryable_exception,
    is_retryable_response,
    retry_after_seconds,
)
from summarizer.models import Extraction, Limits
from summarizer.prompts import extraction_prompt
from summarizer.settings import build_settings

REQUEST = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (httpx2.ConnectTimeout("t", request=REQUEST), True),
        (httpx2.ReadTimeout("t", request=REQUEST), True),
        (httpx2.WriteTimeout("t", request=REQUEST), True),
        (httpx2.PoolTimeout("t", request=REQUEST), True),
        (httpx2.ConnectError("refused", request=REQUEST), True),
        (httpx2.ReadError("reset", request=REQUEST), True),
        (httpx2.RemoteProtocolError("peer closed", request=REQUEST), True),
        (httpx2.LocalProtocolError("bad", request=REQUEST), False),
        (httpx2.UnsupportedProtocol("ftp", request=REQUEST), False),
        (FixtureMissing("k", "/v1/chat/completions", Path("fixtures")), False),
        (ValueError("bug"), False),
        (KeyboardInterrupt(), False),
    ],
)
def test_retryable_exceptions(error: BaseException, retryable: bool) -> None:
    assert is_retryable_exception(error) is retryable


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (200, False),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (422, False),
        (408, True),
        (409, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
    ],
)
def test_retryable_statuses(status: int, retryable: bool) -> None:
    assert is_retryable_response(httpx2.Response(status)) is retryable


def test_retry_after_seconds_and_http_dates() -> None:
    assert retry_after_seconds(httpx2.Response(429, headers={"retry-after": "7"})) == 7
    assert retry_after_seconds(httpx2.Response(429, headers={"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0
    assert retry_after_seconds(httpx2.Response(429)) is None
    assert backoff_seconds(1, httpx2.Response(429, headers={"retry-after": "99"}), cap=30) == 30
    assert 0.25 <= backoff_seconds(2, None, cap=30) <= 1.5


class Script(httpx2.AsyncBaseTransport):
    """Answers with a fixed sequence of responses or exceptions."""

    def __init__(self, *steps: httpx2.Response | Exception):
        self.steps = list(steps)
        self.calls = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.calls += 1
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def send(transport: RetryingTransport) -> httpx2.Response:
    return asyncio.run(transport.handle_async_request(REQUEST))


async def no_wait(seconds: float) -> None:
    return None


def test_429_honours_retry_after_then_succeeds() -> None:
    waits: list[float] = []

    async def record_wait(seconds: float) -> None:
        waits.append(seconds)

    inner = Script(httpx2.Response(429, headers={"retry-after": "2"}), httpx2.Response(200, json={"ok": 1}))
    response = send(RetryingTransport(inner, retries=3, max_wait_s=30, sleep=record_wait))
    assert response.status_code == 200 and inner.calls == 2 and waits == [2.0]


def test_persistent_5xx_returns_the_last_response_after_the_budget() -> None:
    inner = Script(*[httpx2.Response(503) for _ in range(10)])
    assert send(RetryingTransport(inner, retries=2, max_wait_s=0, sleep=no_wait)).status_code == 503
    assert inner.calls == 3  # one try + two retries, never more


def test_connection_errors_are_retried_then_raised() -> None:
    inner = Script(*[httpx2.ConnectError("refused", request=REQUEST) for _ in range(5)])
    with pytest.raises(httpx2.ConnectError):
        send(RetryingTransport(inner, retries=1, max_wait_s=0, sleep=no_wait))
    assert inner.calls == 2


def test_client_errors_are_not_retried() -> None:
    inner = Script(httpx2.Response(400), httpx2.Response(200))
    assert send(RetryingTransport(inner, retries=3, max_wait_s=0)).status_code == 400
    assert inner.calls == 1


# ------------------------------------------------------------------ LLM client


def completion(arguments: str, *, prompt_tokens: int = 10, completion_tokens: int = 5) -> httpx2.Response:
    return httpx2.Response(
        200,
        json={
            "id": "c",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {"id": "t", "type": "function", "function": {"name": "Extraction", "arguments": arguments}}
                        ],
                    },
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        },
    )


VALID = json.dumps(
    {
        "actors": [{"name": "NIS", "kind": "government", "role": "source"}],
        "claims": [{"claimant": "NIS", "statement": "s", "evidence": "e", "status": "reported"}],
        "uncertainties": [],
        "summary": "ok",
    }
)


class Recording(Script):
    def __init__(self, *steps: httpx2.Response | Exception):
        super().__init__(*steps)
        self.bodies: list[dict] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.bodies.append(json.loads(request.content))
        return await super().handle_async_request(request)


def make_llm(transport: httpx2.BaseTransport, **overrides: object) -> LLM:
    settings = build_settings(provider="openai", base_url="http://127.0.0.1:9/v1", environ={}, **overrides)
    return LLM(settings, transport=transport)


def test_reask_counts_every_attempt_and_sums_tokens() -> None:
    transport = Recording(
        completion("{not json", prompt_tokens=100, completion_tokens=7),
        completion(VALID, prompt_tokens=120, completion_tokens=9),
    )
    result, stats = asyncio.run(
        make_llm(transport).extract(Extraction, extraction_prompt("Doc {{ x }}.", Limits()), reasks=1)
    )
    assert result.actors[0].name == "NIS"
    assert stats.attempts == 2
    assert (stats.usage.prompt_tokens, stats.usage.completion_tokens, stats.usage.total_tokens) == (220, 16, 236)
    first = transport.bodies[0]
    assert first["temperature"] == 0 and first["seed"] == 0 and first["tool_choice"]["function"]["name"] == "Extraction"
    # The document reaches the model as written: never rendered as a template.
    assert "Doc {{ x }}." in first["messages"][1]["content"]
    # The re-ask carries the model's broken answer and the error.
    assert len(transport.bodies[1]["messages"]) > len(first["messages"])


def test_raw_newlines_in_tool_arguments_do_not_cost_a_reask() -> None:
    lenient = VALID.replace('"summary": "ok"', '"summary": "line one\nline two"')
    result, stats = asyncio.run(
        make_llm(Recording(completion(lenient))).extract(Extraction, extraction_prompt("D.", Limits()), reasks=0)
    )
    assert result.summary == "line one\nline two" and stats.attempts == 1


def test_exhausted_reasks_keep_the_last_arguments() -> None:
    transport = Recording(completion('{"summary": 1}'), completion('{"summary": 2}'))
    with pytest.raises(ReasksExhausted) as caught:
        asyncio.run(make_llm(transport).extract(Extraction, extraction_prompt("D.", Limits()), reasks=1))
    assert caught.value.stats.attempts == 2 and caught.value.last_arguments == '{"summary": 2}'


def test_http_errors_become_one_clear_error() -> None:
    transport = RetryingTransport(
        Script(*[httpx2.Response(500, json={"error": "boom"})] * 3), retries=2, max_wait_s=0, sleep=no_wait
    )
    with pytest.raises(LLMError, match="HTTP 500"):
        asyncio.run(make_llm(transport).extract(Extraction, extraction_prompt("D.", Limits()), reasks=0))


def test_missing_fixture_surfaces_unwrapped(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("")
    settings = build_settings(provider="replay", replay_dir=tmp_path, environ={})
    with pytest.raises(FixtureMissing, match="--record"):
        asyncio.run(LLM(settings).extract(Extraction, extraction_prompt("D.", Limits()), reasks=0))


def test_instructor_checks_a_model_class_for_async_validators_once(tmp_path: Path) -> None:
    import sys

    from summarizer.llm import LLM

    LLM(build_settings(provider="replay", replay_dir=tmp_path, environ={}))
    loaded = [module for name, module in sys.modules.items() if name.startswith("instructor")]
    holders = [module for module in loaded if hasattr(module, "reject_async_validators")]
    # the module that defines the check and the one that imported it by name (the one every call goes through)
    assert {"instructor.v2.validation.async_validators", "instructor.v2.core.patch"} <= {m.__name__ for m in holders}
    checks = {m.reject_async_validators for m in holders}
    assert len(checks) == 1
    (check,) = checks
    model = Extraction.bounded(Limits(actors=2, claims=2, uncertainties=1))
    assert model not in check.checked
    check(model)
    assert model in check.checked
