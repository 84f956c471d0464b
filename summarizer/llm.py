"""The only module that imports openai, instructor and tenacity.

* client factory: the OpenAI SDK over an httpx2 transport chain
  ``Retrying(Recorder(real) | Replayer)``; the SDK's own retries are off;
* one Tenacity policy for transport faults (429 honouring Retry-After, 5xx,
  timeouts, connection errors), applied per HTTP request, below Instructor;
* Instructor with a pinned Mode; its ``max_retries`` is for validation re-asks
  only; hooks count every attempt and sum its tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import httpx2
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, retry_if_result, stop_after_attempt

from .errors import BatchError, CeilingLearned, Deferred, FixtureMissing, LLMError, ReasksExhausted
from .fixtures import SCENARIO, BatchRouter, Recorder, Replayer
from .models import VALIDATION_CONTEXT, Usage
from .prompts import Prompt
from .settings import Settings
from .structured import CallStats, Model, StructuredLLM

# -v: one INFO line per HTTP request, transport retry and exhausted re-ask budget (bodies only at -vv,
# from the libraries' own DEBUG logs).
log = logging.getLogger("summarizer")

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
# A request with this header is sent once, never retried: creating a batch twice would pay for it twice (the
# caller looks the batch up instead). Headers are not part of a fixture's key.
ONCE_HEADER = "X-Summarizer-Once"
_MODES = {"tools": "TOOLS", "json_schema": "JSON_SCHEMA", "md_json": "MD_JSON", "json": "JSON"}
# Pinned per provider: the llama.cpp server rejects response_format json_schema,
# while forced tool calls are grammar-constrained there.
PROVIDER_MODES = {"local": "tools", "replay": "tools", "openai": "tools"}


# --------------------------------------------------------------------------
# Transport retry policy
# --------------------------------------------------------------------------


def is_retryable_exception(error: BaseException) -> bool:
    """Transport faults worth another try. A missing fixture or a bad request never is."""
    if isinstance(error, FixtureMissing):
        return False
    if isinstance(error, httpx2.TimeoutException):
        return True
    return bool(isinstance(error, (httpx2.NetworkError, httpx2.RemoteProtocolError)))


def is_retryable_response(response: httpx2.Response) -> bool:
    return response.status_code in RETRYABLE_STATUS


def retry_after_seconds(response: httpx2.Response) -> float | None:
    """Retry-After as seconds (a number or an HTTP date), or None."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        return max(0.0, parsed.timestamp() - time.time())


def backoff_seconds(attempt: int, response: httpx2.Response | None, cap: float) -> float:
    """Retry-After when the server gave one, else exponential backoff with jitter."""
    if response is not None:
        hinted = retry_after_seconds(response)
        if hinted is not None:
            return min(hinted, cap)
    return min(cap, 0.5 * 2.0 ** (attempt - 1)) * (0.75 + random.random() / 2)


class RetryingTransport(httpx2.AsyncBaseTransport):
    """Retries one HTTP request on transient faults; returns the last response when retries run out."""

    def __init__(
        self,
        inner: httpx2.AsyncBaseTransport,
        *,
        retries: int,
        max_wait_s: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.inner = inner
        self.retries = retries
        self.max_wait_s = max_wait_s
        self.sleep = sleep
        self.calls = 0

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        response = None if outcome is None or outcome.failed else outcome.result()
        return backoff_seconds(state.attempt_number, response, self.max_wait_s)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        once = request.headers.get(ONCE_HEADER) is not None  # a request that must not be made twice
        if once:
            del request.headers[ONCE_HEADER]  # ours: not for the endpoint
        retrying = AsyncRetrying(
            stop=stop_after_attempt(1 if once else self.retries + 1),
            wait=self._wait,
            retry=retry_if_exception(is_retryable_exception) | retry_if_result(is_retryable_response),
            sleep=self.sleep,
            retry_error_callback=_last_result,
            reraise=True,
            before_sleep=_log_retry,
        )
        return await retrying(self._send, request)

    async def _send(self, request: httpx2.Request) -> httpx2.Response:
        self.calls += 1
        started = time.perf_counter()
        try:
            response = await self.inner.handle_async_request(request)
        except Exception as error:
            log.info("%s %s: %s", request.method, request.url.path, _first_line(error))
            raise
        log.info(
            "%s %s → %s in %.2f s",
            request.method,
            request.url.path,
            response.status_code,
            time.perf_counter() - started,
        )
        # Read the whole body here: a connection dropped mid-body is then a transport
        # fault this policy retries, and a discarded answer never holds its connection.
        try:
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def _log_retry(state: RetryCallState) -> None:
    outcome = state.outcome
    if outcome is None:
        why = "?"
    elif outcome.failed:
        error = outcome.exception()
        why = _first_line(error) if error is not None else "?"
    else:
        why = f"HTTP {outcome.result().status_code}"
    wait = state.next_action.sleep if state.next_action else 0.0
    log.info("retrying in %.1f s (attempt %d: %s)", wait, state.attempt_number, why)


def _last_result(state: RetryCallState) -> httpx2.Response:
    """When retries run out on a retryable status, the last response is the answer (not an exception)."""
    assert state.outcome is not None, "tenacity calls this after an attempt"
    response: httpx2.Response = state.outcome.result()
    return response


def build_transport(
    settings: Settings, route: Callable[[httpx2.AsyncBaseTransport], BatchRouter] | None = None
) -> RetryingTransport:
    """``Retrying(Recorder(real) | Replayer)``; with ``route``, the batch router sits below the retries
    (``Retrying(BatchRouter(…))``), so a batch answer is served once and an online follow-up is retried."""
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    if settings.replay_dir is not None:
        base: httpx2.AsyncBaseTransport = Replayer(settings.replay_dir)
        sleep = _no_sleep  # nothing to wait for in a recording
    else:
        base = httpx2.AsyncHTTPTransport()
        if settings.record_dir is not None:
            secret = settings.api_key.get_secret_value() if settings.api_key else ""
            base = Recorder(settings.record_dir, base, secrets=[secret])
    if route is not None:
        base = route(base)
    return RetryingTransport(
        base, retries=settings.transport_retries, max_wait_s=settings.max_retry_wait_s, sleep=sleep
    )


async def _no_sleep(_: float) -> None:
    return None


# --------------------------------------------------------------------------
# Structured calls
# --------------------------------------------------------------------------


# The statistics of the call in progress in this task: concurrent documents
# each count their own attempts and tokens.
_CALL_STATS: ContextVar[CallStats | None] = ContextVar("call_stats", default=None)


class _CutOff(Exception):
    """The answer stopped at ``limit`` completion tokens (finish_reason "length"); ``served``: the completion
    tokens the endpoint says it gave, when it says."""

    def __init__(self, limit: int, served: int | None = None):
        super().__init__(limit)
        self.limit = limit
        self.served = served


# An answer cut ("length") at under this share of the tokens asked for: the endpoint's own ceiling is lower
# than the one the settings assume, and the run learns it.
SHORT_CUT = 0.9
MIN_LEARNT = 256


class LLM(StructuredLLM):
    """Structured extraction through Instructor's async client over one OpenAI SDK client.

    Safe to share between concurrent tasks: per-call state lives in context variables.
    """

    def __init__(self, settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None):
        import instructor
        import openai

        self.settings = settings
        self.transport = transport or build_transport(settings)
        http_client = openai.DefaultAsyncHttpx2Client(transport=self.transport, timeout=settings.timeout_s)
        self._openai = openai.AsyncOpenAI(
            api_key=settings.api_key.get_secret_value() if settings.api_key else "not-needed",
            base_url=settings.base_url,
            max_retries=0,
            http_client=http_client,
        )
        self.mode_name = settings.mode or PROVIDER_MODES[settings.provider]
        mode = getattr(instructor.Mode, _MODES[self.mode_name])
        self._client = instructor.from_openai(self._openai, mode=mode)
        _memoize_async_validator_check()
        self._client.on("completion:response", _on_response)
        self._learned: int | None = None  # the endpoint's own output ceiling, once an answer shows it

    def start_scenario(self, name: str) -> None:
        """Name the fixture file that this task's exchanges are recorded to (when recording)."""
        SCENARIO.set(name)

    async def extract(
        self,
        response_model: type[Model],
        prompt: Prompt,
        *,
        reasks: int,
        context: dict[str, Any] | None = None,
        max_tokens: int | None = None,
    ) -> tuple[Model, CallStats]:
        """One structured call with up to ``reasks`` validation re-asks.

        ``max_tokens`` is what the caller expects the answer to need (the
        settings' --max-tokens wins when given). An answer cut at that limit is
        asked again once with the model's output ceiling; only an answer cut at
        the ceiling itself fails.
        """
        ceiling = self.output_ceiling(self.settings.output_ceiling)
        budget = min(self.settings.max_tokens or max_tokens or ceiling, ceiling)
        stats = CallStats()
        stats_token = _CALL_STATS.set(stats)
        context_token = VALIDATION_CONTEXT.set(context)
        started = time.perf_counter()
        try:
            try:
                result = await self._create(response_model, prompt, reasks, budget)
            except _CutOff as cut:
                if self._learn(cut):
                    raise CeilingLearned(cut.served or 0, cut.limit, stats) from None
                if budget >= ceiling:
                    raise
                result = await self._create(response_model, prompt, reasks, ceiling)
        except _CutOff as cut:
            if self._learn(cut):  # the ceiling itself was cut short
                raise CeilingLearned(cut.served or 0, cut.limit, stats) from None
            raise LLMError(
                f"the model's answer was cut off at its output ceiling of {cut.limit} tokens; raise "
                "--max-output-tokens if the model allows more, or lower --max-claims"
            ) from None
        finally:
            stats.latency_s = time.perf_counter() - started
            VALIDATION_CONTEXT.reset(context_token)
            _CALL_STATS.reset(stats_token)
        return result, stats

    def output_ceiling(self, configured: int) -> int:
        return min(configured, self._learned) if self._learned else configured

    def _learn(self, cut: _CutOff) -> bool:
        """Whether ``cut`` shows that the endpoint stops answers sooner than the request allowed: a ceiling of
        its own, which the run keeps from now on (the lowest seen). A document that started before another
        learnt it is told so too. An answer cut at under ``MIN_LEARNT`` tokens says more about the request
        (a prompt over the context) than about the endpoint's ceiling, and teaches nothing."""
        served = cut.served
        if served is None or served < MIN_LEARNT or served >= cut.limit * SHORT_CUT:
            return False
        if self._learned is None or served < self._learned:
            self._learned = served
            log.warning("the endpoint stops answers at %d completion tokens; later requests are sized to that", served)
        return True

    async def _create(self, response_model: type[Model], prompt: Prompt, reasks: int, max_tokens: int) -> Model:
        """One Instructor call; every failure becomes an LLMError (or _CutOff, or FixtureMissing)."""
        from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException

        # Sent only when set: a request without a seed stays byte-identical to its recording.
        seed: dict[str, Any] = {"seed": self.settings.seed} if self.settings.seed is not None else {}
        try:
            result: Model = await self._client.chat.completions.create(
                model=self.settings.model,
                response_model=_response_schema(response_model),
                messages=prompt.messages(),  # type: ignore[arg-type]  # role/content dicts; prompts.py does not import the SDK's TypedDicts
                max_retries=reasks,
                temperature=self.settings.temperature,
                max_tokens=max_tokens,
                **seed,
            )
            return result
        except IncompleteOutputException:
            raise _CutOff(max_tokens, _served()) from None
        except InstructorRetryException as error:
            cause = _root_cause(error)
            if isinstance(cause, (FixtureMissing, Deferred, LLMError)):  # the batch router's own verdicts
                raise cause from None
            if isinstance(cause, IncompleteOutputException):
                raise _CutOff(max_tokens, _served()) from None
            if error.failed_attempts:
                stats = _CALL_STATS.get() or CallStats()
                log.info(
                    "no valid %s after %d attempt(s): %s",
                    response_model.__name__,
                    stats.attempts,
                    _first_line(cause),
                )
                raise ReasksExhausted(
                    f"no valid answer after {stats.attempts} attempt(s): {_first_line(cause)}",
                    _tool_arguments(error.last_completion),
                    stats,
                ) from error
            raise LLMError(_describe_api_error(error)) from error
        except Exception as error:  # noqa: BLE001 - translated into one error type for the CLI
            cause = _root_cause(error)
            if isinstance(cause, (FixtureMissing, Deferred, LLMError)):  # the batch router's own verdicts
                raise cause from None
            raise LLMError(_describe_api_error(error)) from error

    async def aclose(self) -> None:
        await self._openai.close()


def _memoize_async_validator_check() -> None:
    """Check each response model for async validators once, not on every call.

    Instructor walks the whole model tree on every request to refuse async
    validators; for a model class the answer never changes. In a concurrent
    daily run that walk was the largest single CPU cost (about a quarter of the
    event loop's time). Instructor binds the function by name in more than one
    module (``from … import reject_async_validators``), so every module that
    holds the original gets the memoized one. Applied only where it exists.
    """
    import sys

    try:
        from instructor.v2.core import patch  # noqa: F401 - imported so that its binding is replaced too
        from instructor.v2.validation import async_validators
    except ImportError:
        return
    original = getattr(async_validators, "reject_async_validators", None)
    if original is None or getattr(original, "_summarizer_memoized", False):
        return
    checked: set[type] = set()

    def reject_async_validators(response_model: Any) -> None:
        if isinstance(response_model, type) and response_model in checked:
            return
        original(response_model)
        if isinstance(response_model, type):
            checked.add(response_model)

    reject_async_validators._summarizer_memoized = True  # type: ignore[attr-defined]  # a marker on the patched function
    reject_async_validators.checked = checked  # type: ignore[attr-defined]  # the classes already checked
    for name, module in list(sys.modules.items()):
        if name.startswith("instructor") and getattr(module, "reject_async_validators", None) is original:
            module.reject_async_validators = reject_async_validators  # type: ignore[attr-defined]


@lru_cache(maxsize=64)
def _response_schema(model: type[Model]) -> type[Model]:
    """Instructor's wrapper of ``model``, made once per model class.

    Instructor wraps a plain model in a new class on every call, and then
    rebuilds its JSON schema; handing it the wrapped class reuses both. The
    wrapper keeps the model's name and docstring, so the request is unchanged.
    """
    import instructor

    return instructor.response_schema(model)


def _served() -> int | None:
    """The completion tokens of the last answer of the call in progress, as the endpoint counted them."""
    stats = _CALL_STATS.get()
    return stats.last_completion_tokens if stats is not None else None


def _on_response(response: Any) -> None:
    """Count the attempt and its tokens; make lenient tool-call JSON strict."""
    escape_control_characters(response)
    stats = _CALL_STATS.get()
    if stats is None:
        return
    stats.attempts += 1
    usage = getattr(response, "usage", None)
    if usage is not None:
        stats.last_completion_tokens = usage.completion_tokens
        stats.usage = stats.usage + Usage(
            prompt_tokens=usage.prompt_tokens or 0,
            completion_tokens=usage.completion_tokens or 0,
            total_tokens=usage.total_tokens or 0,
        )


def escape_control_characters(completion: Any) -> None:
    """Rewrite tool-call arguments that hold raw control characters inside strings.

    llama.cpp's JSON grammar lets a raw newline into a string; Python's json
    reads that with strict=False, Pydantic refuses it. Re-serialising keeps the
    model's content and saves a whole re-ask.
    """
    for choice in getattr(completion, "choices", None) or []:
        for call in getattr(choice.message, "tool_calls", None) or []:
            arguments = call.function.arguments
            try:
                json.loads(arguments)
            except ValueError:
                with contextlib.suppress(ValueError):  # truly malformed: Instructor re-asks
                    call.function.arguments = json.dumps(json.loads(arguments, strict=False), ensure_ascii=False)


def _root_cause(error: BaseException) -> BaseException:
    seen = error
    while True:
        nxt = seen.__cause__ or seen.__context__
        if nxt is None or nxt is seen:
            return seen
        if isinstance(nxt, (FixtureMissing, Deferred, LLMError)):
            return nxt
        seen = nxt


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _chain(error: BaseException) -> list[BaseException]:
    chain = [error]
    while chain[-1].__cause__ is not None and len(chain) < 10:
        chain.append(chain[-1].__cause__)
    return chain


def _describe_api_error(error: BaseException) -> str:
    import openai

    error = next((e for e in _chain(error) if isinstance(e, openai.APIError)), error)
    if isinstance(error, openai.APIStatusError):
        return f"the LLM endpoint answered HTTP {error.status_code}: {_first_line(error)}"
    if isinstance(error, (openai.APIConnectionError, httpx2.TransportError)):
        return f"cannot reach the LLM endpoint ({_first_line(error)}); check --base-url and that the server runs"
    return f"LLM call failed: {type(error).__name__}: {_first_line(error)}"


def _tool_arguments(completion: Any) -> str | None:
    """The raw tool-call arguments (or message text) of a completion, if any."""
    try:
        message = completion.choices[0].message
    except (AttributeError, IndexError, TypeError):
        return None
    calls = getattr(message, "tool_calls", None) or []
    if calls:
        return str(calls[0].function.arguments)
    content = getattr(message, "content", None)
    return content if isinstance(content, str) else None


# --------------------------------------------------------------------------
# The Batch API (daily --batch): Files and Batches through the same client and transport chain
# --------------------------------------------------------------------------


class BatchAPI:
    """The OpenAI Files and Batches endpoints over the same transport as every call: retried on transport
    faults, recorded with --record and replayed with --replay. Every failure is a ``BatchError``."""

    def __init__(self, settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None):
        import openai

        self.settings = settings
        http_client = openai.DefaultAsyncHttpx2Client(
            transport=transport or build_transport(settings), timeout=max(settings.timeout_s, 300.0)
        )
        self._openai = openai.AsyncOpenAI(
            api_key=settings.api_key.get_secret_value() if settings.api_key else "not-needed",
            base_url=settings.base_url,
            max_retries=0,
            http_client=http_client,
        )

    async def _call(self, what: str, call: Awaitable[Any]) -> Any:
        SCENARIO.set("batch")  # recorded to batch.jsonl (the online calls of a document go to its own file)
        try:
            return await call
        except FixtureMissing:
            raise
        except Exception as error:  # noqa: BLE001 - one error type for the caller
            cause = _root_cause(error)
            if isinstance(cause, FixtureMissing):
                raise cause from None
            import openai

            status = next((e.status_code for e in _chain(error) if isinstance(e, openai.APIStatusError)), None)
            raise BatchError(f"{what}: {_describe_api_error(error)}", status) from error

    async def upload(self, path: Any) -> str:
        """Upload a batch input file (JSONL); its file id."""
        with open(path, "rb") as handle:
            uploaded = await self._call(
                f"uploading {path.name}",
                self._openai.files.create(file=(path.name, handle, "application/jsonl"), purpose="batch"),
            )
        return str(uploaded.id)

    async def create(self, input_file_id: str, metadata: dict[str, str]) -> dict[str, Any]:
        batch = await self._call(
            "creating the batch",
            self._openai.batches.create(
                input_file_id=input_file_id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                metadata=metadata,
                extra_headers={ONCE_HEADER: "1"},
            ),
        )
        return dict(batch.model_dump())

    async def retrieve(self, batch_id: str) -> dict[str, Any]:
        batch = await self._call(f"checking batch {batch_id}", self._openai.batches.retrieve(batch_id))
        return dict(batch.model_dump())

    async def cancel(self, batch_id: str) -> dict[str, Any]:
        batch = await self._call(f"cancelling batch {batch_id}", self._openai.batches.cancel(batch_id))
        return dict(batch.model_dump())

    async def find(self, input_file_id: str, pages: int = 5) -> dict[str, Any] | None:
        """The batch made from ``input_file_id``, among the most recent ones (a run killed between creating
        a batch and writing its id down finds it here instead of creating it twice)."""
        after: str | None = None
        for _ in range(pages):
            kwargs: dict[str, Any] = {"limit": 100} if after is None else {"limit": 100, "after": after}
            page = await self._call("listing batches", self._openai.batches.list(**kwargs))
            batches = list(page.data)
            for batch in batches:
                if batch.input_file_id == input_file_id:
                    return dict(batch.model_dump())
            if not batches or not getattr(page, "has_more", False):
                return None
            after = batches[-1].id
        return None

    async def download(self, file_id: str) -> bytes:
        content = await self._call(f"downloading file {file_id}", self._openai.files.content(file_id))
        return bytes(content.content)

    async def aclose(self) -> None:
        await self._openai.close()
