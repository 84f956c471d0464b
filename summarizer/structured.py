"""The interface the pipeline calls to get a structured answer from a model.

``StructuredLLM`` is the one seam between the pipeline and any model: the real
client (``llm.LLM``: Instructor over the OpenAI SDK) and every test fake
subclass it, so a fake cannot drift from the signature the pipeline uses.
``CallStats`` is what each call reports back.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from .errors import LLMError
from .models import Usage

if TYPE_CHECKING:
    from .prompts import Prompt

# daily --batch: the document whose requests the current task makes (its batch key). A batch request's
# custom_id is ``{batch key}-{request key}``, so the same request made again finds its batch answer.
BATCH_DOCUMENT: ContextVar[str | None] = ContextVar("batch_document", default=None)


def batch_key(document_id: str) -> str:
    """A document's part of its custom_ids: the first 24 hex digits of its id (96 bits), so that a custom_id
    stays within the 64 characters some OpenAI-compatible batch APIs allow."""
    return document_id[:24]


Model = TypeVar("Model", bound=BaseModel)


@dataclass
class CallStats:
    """Attempts, tokens and time of one call (re-asks included), or a sum of calls."""

    usage: Usage = field(default_factory=Usage)
    attempts: int = 0
    latency_s: float = 0.0
    last_completion_tokens: int | None = None  # of the last answer received (a cut one says where it stopped)

    def add(self, other: CallStats) -> None:
        self.usage = self.usage + other.usage
        self.attempts += other.attempts
        self.latency_s += other.latency_s


class StructuredLLM(ABC):
    """A model that answers a prompt with an instance of a Pydantic model."""

    #: The Instructor mode the answers are requested in (recorded in each brief).
    mode_name: str = "tools"

    @abstractmethod
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

        ``context`` is the validation context the response model's validators
        read (see models.VALIDATION_CONTEXT); ``max_tokens`` the completion
        tokens the answer is expected to need (None: the model's ceiling).
        Raises LLMError (ReasksExhausted when every attempt was invalid) or
        FixtureMissing.
        """

    def output_ceiling(self, configured: int) -> int:
        """The completion tokens one answer can have: ``configured`` (the settings'), or less where the endpoint
        has shown that it stops answers sooner."""
        return configured

    def start_scenario(self, name: str) -> None:  # noqa: B027 - optional: a model that records nothing ignores it
        """Name what the following calls of this task are about (the fixture file when recording)."""

    async def aclose(self) -> None:  # noqa: B027 - optional: a model without connections has nothing to close
        """Release connections."""


class NoModel(StructuredLLM):
    """The model of a run that asks none (guided briefs on the embedded profile): any call is a bug, said so."""

    mode_name = "none"

    async def extract(
        self,
        response_model: type[Model],
        prompt: Prompt,
        *,
        reasks: int,
        context: dict[str, Any] | None = None,
        max_tokens: int | None = None,
    ) -> tuple[Model, CallStats]:
        raise LLMError(f"this run asks no model, but a {response_model.__name__} was requested")


def parse_lenient(model: type[Model], arguments: str | None) -> Model | None:
    """Validate raw arguments without a context (no grounding checks); None if unusable.

    What salvages the items of a repair answer whose re-asks ran out.
    """
    if not arguments:
        return None
    try:
        return model.model_validate(json.loads(arguments))
    except (ValueError, TypeError):
        return None
