"""The options several commands share, and the Settings they become."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from .. import __version__

if TYPE_CHECKING:
    from ..settings import Settings


def _version(value: bool) -> None:
    if value:
        typer.echo(f"summarizer {__version__}")
        raise typer.Exit()


VerboseOption = Annotated[
    int,
    typer.Option(
        "--verbose",
        "-v",
        count=True,
        show_default=False,
        help="-v: a line per request, retry and re-ask; -vv: with request bodies.",
    ),
]
VersionOption = Annotated[
    bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
]


ProviderOption = Annotated[
    Optional[str],
    typer.Option(
        "--provider",
        "-p",
        help="openai | local | replay. Default: $SUMMARIZER_PROVIDER, then openai when "
        "OPENAI_API_KEY or OPENAI_BASE_URL is set, then the embedded local model.",
    ),
]
ModelOption = Annotated[Optional[str], typer.Option("--model", "-m", help="Model name sent to the endpoint.")]
BaseUrlOption = Annotated[
    Optional[str],
    typer.Option(
        "--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 (default: $OPENAI_BASE_URL)."
    ),
]
RecordOption = Annotated[
    Optional[Path],
    typer.Option(
        "--record", help="Record every LLM exchange as fixtures in DIR (one .jsonl per document).", metavar="DIR"
    ),
]
ReplayOption = Annotated[
    Optional[Path],
    typer.Option(
        "--replay",
        help="Answer from fixtures recorded in DIR (or one .jsonl file); no network. Default: $SUMMARIZER_REPLAY.",
        metavar="DIR",
        envvar="SUMMARIZER_REPLAY",
        show_envvar=False,
    ),
]


ProfileOption = Annotated[
    Optional[str],
    typer.Option(
        "--profile",
        help="embedded (a small local model: guided extraction unless --method extract, then small fixed caps, "
        "one pass) | capable (caps follow the document, continuation passes). "
        "Default: embedded for the local provider or the embedded model's name, else capable.",
    ),
]
MethodOption = Annotated[
    Optional[str],
    typer.Option(
        "--method",
        help="guided (the program finds the attributions by rule; a capable model writes the summary, on the "
        "embedded profile it is the document's lead) | extract (the model writes every item; grounded after). "
        "Default: guided for the embedded profile, else extract.",
    ),
]
ModelPathOption = Annotated[
    Optional[Path],
    typer.Option("--model-path", help="GGUF file for the local provider (default: the bundled SmolLM2-135M-Instruct)."),
]
NCtxOption = Annotated[Optional[int], typer.Option("--n-ctx", min=512, help="Context size of the local server.")]
ContextTokensOption = Annotated[
    Optional[int],
    typer.Option(
        "--context-tokens",
        min=1024,
        help="The model's context in tokens: long documents are split, and the digest's synthesis batched, to fit "
        "(default: 128000; --n-ctx for the embedded model).",
    ),
]
MaxTokensOption = Annotated[
    Optional[int],
    typer.Option(
        "--max-tokens", min=1, help="Completion tokens per request (default: sized to each request; 1024 embedded)."
    ),
]
MaxOutputTokensOption = Annotated[
    Optional[int],
    typer.Option(
        "--max-output-tokens",
        min=1,
        help="The model's completion ceiling: an answer cut short is asked again up to it "
        "(default: known for common OpenAI models, else 4096).",
    ),
]
TemperatureOption = Annotated[Optional[float], typer.Option("--temperature", help="Sampling temperature.")]
MaxClaimsOption = Annotated[
    Optional[int],
    typer.Option(
        "--max-claims",
        min=1,
        max=60,
        help="Most claims one request (or, guided, one part) may return (default: guided 60; embedded with "
        "--method extract 3; capable: from the document's attribution sentences, 10 to 40).",
    ),
]
PassesOption = Annotated[
    Optional[int],
    typer.Option(
        "--passes",
        min=0,
        max=5,
        help="Continuation passes asking for what is still missing (default: 2 capable, 0 embedded).",
    ),
]


# The options of brief and daily that become Settings (the CLI's names are Settings' names).
_REQUEST_OPTIONS = (
    "profile",
    "method",
    "model_path",
    "n_ctx",
    "context_tokens",
    "max_tokens",
    "max_output_tokens",
    "temperature",
    "max_claims",
    "passes",
)


def _settings(params: dict[str, Any]) -> Settings:
    """Settings from a command's parsed parameters (``ctx.params``): provider, endpoint, fixtures and the
    request options, each left to its default when not given."""
    from ..settings import build_settings

    record, replay = params.get("record"), params.get("replay")
    if record is not None and replay is not None:
        raise typer.BadParameter("use either --record or --replay, not both")
    if replay is not None and not replay.exists():
        raise typer.BadParameter(f"replay folder {replay} does not exist", param_hint="--replay")
    values = {key: params[key] for key in _REQUEST_OPTIONS if params.get(key) is not None}
    return build_settings(
        provider=params.get("provider"),
        model=params.get("model"),
        base_url=params.get("base_url"),
        replay_dir=replay,
        record_dir=record,
        **values,
    )


SourceOption = Annotated[
    Optional[Path],
    typer.Option("--source", "-s", help="The source document (default: the path recorded in the brief)."),
]

ReviewerOption = Annotated[
    Optional[str],
    typer.Option("--reviewer", help="Who is deciding, as the review file records it (default: $USER)."),
]
ShowRejectedOption = Annotated[
    bool,
    typer.Option("--show-rejected", help="Show the items a person rejected, marked (by default they are left out)."),
]
