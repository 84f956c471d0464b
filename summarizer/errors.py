"""One error tree and the one table of exit codes.

Every error the library raises on purpose is a ``SummarizerError``. Each class
carries its exit code and a stable ``kind`` (what the daily manifest records),
so neither the CLI nor a manifest depends on class names. Subclasses carry the
data a caller needs (the attempts and tokens of a failed call, a fixture key).

This module imports nothing else from the package.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from .structured import CallStats


class ExitCode(IntEnum):
    """Exit codes scripts can rely on; ``EXIT_CODES`` says what each means."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    INPUT = 3
    PROVIDER = 4
    LLM = 5
    FIXTURE_MISSING = 6
    CHECK_FAILED = 7
    OUTPUT = 8
    BUSY = 9
    IN_PROGRESS = 10
    SYNTHESIS = 11
    INTERRUPTED = 130
    TERMINATED = 143


# The README's table and every command's --help are checked against this one table.
EXIT_CODES: dict[ExitCode, str] = {
    ExitCode.OK: "success: every input was briefed (check: every span verified)",
    ExitCode.INTERNAL: "internal error (a bug: please report it)",
    ExitCode.USAGE: "usage error (unknown option, bad --format, missing --replay folder)",
    ExitCode.INPUT: "an input could not be read: missing, a folder, empty or whitespace only, binary, "
    "not UTF-8, unsupported type, unreadable, no document in a daily inbox; for show/check/review/render: "
    "not a valid brief",
    ExitCode.PROVIDER: "provider unavailable: the embedded model asked for but not installed, a base URL with a "
    "password in it, bad GGUF path or file, the local server failed to start, its port was taken, or it died mid-run",
    ExitCode.LLM: "LLM failure: endpoint unreachable or erroring after the retry budget, or no valid "
    "answer after the re-ask budget",
    ExitCode.FIXTURE_MISSING: "replay: no recorded response for a request",
    ExitCode.CHECK_FAILED: "check (and render): a span does not hold its quote, or the source changed since the "
    "brief was made",
    ExitCode.OUTPUT: "an output cannot be written: read-only or full disk, no permission, a file where a folder "
    "should be (brief and daily find it before the first LLM call)",
    ExitCode.BUSY: "daily: another daily run is writing the same --out folder (it holds the folder's lock)",
    ExitCode.IN_PROGRESS: "daily --batch/--collect: a batch of the folder is still running; run again later, "
    "or with --wait",
    ExitCode.SYNTHESIS: "daily: the digest's synthesis by a model failed or ran past --synthesis-timeout (the "
    "digest keeps the stories made by rule)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C); the local server is stopped, no partial file is left",
    ExitCode.TERMINATED: "terminated (SIGTERM): stopped as after Ctrl-C; daily's manifest lists every brief on disk",
}

ErrorKind = Literal["internal", "input", "provider", "llm", "fixture-missing", "output", "busy", "check-failed"]


class SummarizerError(Exception):
    """The root of every error the library raises on purpose; its message says what to do."""

    exit_code: ClassVar[ExitCode] = ExitCode.INTERNAL
    # Printed on one line (a file name's newline cannot forge a line of its own), unless the message ends
    # with a log meant to be read as lines.
    multiline: ClassVar[bool] = False
    kind: ClassVar[ErrorKind] = "internal"


class InputError(SummarizerError):
    """An input that cannot be used: a document, a saved brief or digest, a price table."""

    exit_code = ExitCode.INPUT
    kind = "input"


class UsageError(SummarizerError):
    """Options that cannot go together, found after parsing (a --batch run on a provider without a Batch API)."""

    exit_code = ExitCode.USAGE


class DocumentError(InputError):
    """A document that cannot be briefed; the message names the input and the fix."""


class BriefError(InputError):
    """A brief or digest file that cannot be read or is not valid; says why."""


class OutputError(SummarizerError):
    """An output file or folder that cannot be written; names it, the reason and what to do."""

    exit_code = ExitCode.OUTPUT
    kind = "output"


class BusyError(SummarizerError):
    """Another daily run holds the output folder's lock; says which process."""

    exit_code = ExitCode.BUSY
    kind = "busy"


class SourceChanged(SummarizerError):
    """A brief's source no longer holds what the brief says it does (render without --force)."""

    exit_code = ExitCode.CHECK_FAILED
    kind = "check-failed"


class ProviderError(SummarizerError):
    """No usable provider, or a provider that cannot start or died; says how to fix it."""

    exit_code = ExitCode.PROVIDER
    kind = "provider"


class ServerError(ProviderError):
    """The embedded server failed to start or died; the message ends with the last lines of its log."""

    multiline = True


class LLMError(SummarizerError):
    """The model could not be reached or gave no usable answer; says why."""

    exit_code = ExitCode.LLM
    kind = "llm"


class Deferred(SummarizerError):
    """A request held back for a batch (``daily --batch``): captured, not sent. It stops that document's
    brief for now; the document waits for the batch's answer and is not a failure."""

    kind = "llm"

    def __init__(self, key: str):
        self.key = key
        super().__init__(f"request {key} deferred to a batch")


class BatchError(LLMError):
    """A Files or Batches call failed: ``status`` is the HTTP status the endpoint answered (None when it could
    not be reached, or its answer did not come)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class ReasksExhausted(LLMError):
    """Every validation attempt failed. Carries the last raw arguments for salvage and the calls spent."""

    def __init__(self, message: str, last_arguments: str | None, stats: CallStats):
        super().__init__(message)
        self.last_arguments = last_arguments
        self.stats = stats


class FixtureMissing(SummarizerError):
    """Replay found no recorded response for a request."""

    exit_code = ExitCode.FIXTURE_MISSING
    kind = "fixture-missing"

    def __init__(self, key: str, path: str, folder: Path):
        self.key = key
        self.path = path
        self.folder = folder
        super().__init__(
            f"no recorded response for request {key} ({path}) in {folder}. "
            f"Record it against a real model, e.g.: summarizer brief DOCUMENT --provider local --record {folder}"
        )


_BY_KIND: dict[str, ExitCode] = {
    kind.kind: kind.exit_code
    for kind in (
        SummarizerError,
        InputError,
        ProviderError,
        LLMError,
        FixtureMissing,
        OutputError,
        BusyError,
        SourceChanged,
    )
}


def exit_code_of(error: BaseException | str | None) -> ExitCode:
    """The exit code of an error, or of an error kind recorded in a manifest."""
    if isinstance(error, SummarizerError):
        return error.exit_code
    if isinstance(error, str):
        return _BY_KIND.get(error, ExitCode.INTERNAL)
    return ExitCode.INTERNAL


def kind_of(error: BaseException) -> ErrorKind:
    return error.kind if isinstance(error, SummarizerError) else "internal"


class CeilingLearned(LLMError):
    """The endpoint stops answers at fewer tokens than the request allowed; the run now sizes to that."""

    def __init__(self, served: int, asked: int, stats: Any = None):
        super().__init__(
            f"the endpoint cut the answer at {served} completion tokens (finish_reason length) though "
            f"{asked} were allowed; this run now sizes its requests to {served} tokens "
            "(--max-output-tokens sets it from the start)"
        )
        self.served = served
        self.stats = stats  # the cut attempts' tokens, which count though the answer is dropped
