"""A run over many inputs: the provider opened once, each input briefed in turn.

The embedded server is started only when some input can be briefed and the
briefs ask the model something, and is always stopped; a bad input or a failed call never stops the others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from .documents import Document, read_document, with_meta
from .errors import DocumentError, FixtureMissing, LLMError, SummarizerError
from .models import Brief
from .pipeline import brief_document
from .settings import Settings, require_model
from .store import is_url
from .structured import NoModel, StructuredLLM

FailureProbe = Callable[[], SummarizerError | None]


@dataclass
class Outcome:
    """One input's result: a brief, or the error that stopped it."""

    source: str
    brief: Brief | None = None
    error: SummarizerError | None = None
    text: str | None = None  # the document's text, to save beside a brief of an HTML page
    wall_s: float = 0.0  # the brief's real time, reading aside (``run.latency_s`` is the model's share)


@asynccontextmanager
async def llm_session(
    settings: Settings, *, model_needed: bool = True, what: str = "this run"
) -> AsyncIterator[tuple[StructuredLLM, Settings, FailureProbe]]:
    """Open the provider once for a run: start the embedded server when needed, always stop it.

    Yields the LLM client, the settings it runs with (the local server's URL
    filled in) and a probe that describes a provider that died mid-run. A run
    that asks no model (``model_needed`` false) opens nothing and gets ``NoModel``.
    """
    from .llm import LLM

    if not model_needed:
        yield NoModel(), settings, lambda: None
        return
    if settings.provider == "local" and settings.replay_dir is None and settings.base_url is None:
        from .local import LocalServer

        require_model(settings, what)

        server = LocalServer(
            settings.model_path,
            n_ctx=settings.n_ctx,
            port=settings.local_port,
            startup_timeout_s=settings.server_start_timeout_s,
        )
        with server:
            running = settings.model_copy(update={"base_url": server.base_url})
            llm = LLM(running)
            try:
                yield llm, running, server.failure
            finally:
                await llm.aclose()
        return
    llm = LLM(settings)
    try:
        yield llm, settings, lambda: None
    finally:
        await llm.aclose()


def read_inputs(
    sources: list[str], meta: dict[str, str] | None = None, failed: dict[str, DocumentError] | None = None
) -> list[tuple[str, Document | None, DocumentError | None]]:
    """Every input read before anything is sent: (source, document, error). An http(s) address is fetched
    (``fetch.read_url``); ``meta`` (``--meta``) is given to every input; ``failed``: inputs already known
    to be bad (a feed entry that could not be fetched), with their error."""
    documents: list[tuple[str, Document | None, DocumentError | None]] = []
    for source in sources:
        if failed and source in failed:
            documents.append((source, None, failed[source]))
            continue
        try:
            if is_url(source):
                from .fetch import read_url  # the web stack (httpx2, tenacity) only for a run that fetches

                document = with_meta(read_url(source), meta, source)
            else:
                document = read_document(source, meta)
            documents.append((source, document, None))
        except DocumentError as error:
            documents.append((source, None, error))
    return documents


async def brief_inputs(
    sources: list[str],
    settings: Settings,
    *,
    on_start: Callable[[str, Settings], None] | None = None,
    meta: dict[str, str] | None = None,
) -> AsyncIterator[Outcome]:
    """Brief each input in turn; a bad input or a failed call never stops the others.

    Inputs are read before the provider starts, so a run of only bad inputs
    starts no server.
    """
    # In a worker thread: fetching an address blocks, and Ctrl-C must still reach the event loop.
    documents = await asyncio.to_thread(read_inputs, sources, meta)
    if not any(document for _, document, _ in documents):
        for source, _, error in documents:
            yield Outcome(source, error=error)
        return
    what = f"--method {settings.extraction_method}" if settings.profile == "embedded" else "briefing"
    async with llm_session(settings, model_needed=settings.briefs_ask_model, what=what) as (llm, running, failure):
        dead: SummarizerError | None = None
        for source, document, error in documents:
            if document is None or dead is not None:
                yield Outcome(source, error=error or dead)
                continue
            if on_start:
                on_start(source, running)
            try:
                started = time.perf_counter()
                brief = await brief_document(document, llm, running)
                yield Outcome(source, brief=brief, text=document.text, wall_s=time.perf_counter() - started)
            except (LLMError, FixtureMissing) as failed:
                dead = failure()
                yield Outcome(source, error=dead or failed)
