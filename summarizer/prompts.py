"""Loads and renders prompts/*.j2 (sandboxed Jinja, StrictUndefined).

The prompt version is a hash of every template's source, so a brief records
exactly which prompt text produced it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

TEMPLATE_NAMES = ("system.j2", "extract.j2", "continue.j2", "repair.j2", "summary.j2", "guided.j2", "digest.j2")
# The templates a per-document brief depends on: its cache key and run metadata.
BRIEF_TEMPLATES = ("system.j2", "extract.j2", "continue.j2", "repair.j2", "summary.j2", "guided.j2")
QUOTE_IN_LIST_CHARS = 100  # items already found are listed by the start of their quote


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str
    version: str

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]


def prompts_dir() -> Path:
    """The templates shipped in the wheel, or the repository's prompts/ in a checkout."""
    packaged = Path(str(resources.files("summarizer"))) / "prompts"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "prompts"


@lru_cache(maxsize=1)
def _sources() -> dict[str, str]:
    folder = prompts_dir()
    return {name: (folder / name).read_text(encoding="utf-8") for name in TEMPLATE_NAMES}


def prompt_version(names: tuple[str, ...] = BRIEF_TEMPLATES) -> str:
    """A short hash of the named templates."""
    return _version(tuple(sorted((n, s) for n, s in _sources().items() if n in names)))


@lru_cache(maxsize=8)
def _version(sources: tuple[tuple[str, str], ...]) -> str:
    digest = hashlib.sha256()
    for name, source in sources:
        digest.update(name.encode() + b"\0" + source.encode() + b"\0")
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import DictLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(
        loader=DictLoader(_sources()),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )


def render(name: str, **variables: Any) -> Prompt:
    """Render the system prompt and the named user template."""
    environment = _environment()
    system = environment.get_template("system.j2").render().strip()
    user = environment.get_template(name).render(**variables).strip()
    return Prompt(system=system, user=user, version=prompt_version())


def fence(document: str) -> str:
    """Keep the document from closing its own delimiter (a cheap injection)."""
    return document.replace("</document>", "</ document>")


def _inert(text: str) -> str:
    """A candidate's words (the document's, so hostile) on one line, with no angle bracket to open or close
    a tag ("</candidates>", "</DOCUMENT >") and no straight double quote to end its quotation early."""
    return " ".join(text.split()).replace("<", "\u2039").replace(">", "\u203a").replace('"', "\u201d")


def extraction_prompt(
    document: str, limits: Any, *, complete: bool = False, candidates: Sequence[tuple[str, str]] = ()
) -> Prompt:
    """The extraction request; ``limits`` has .actors, .claims and .uncertainties.

    ``complete`` asks a capable model for every attribution (the embedded
    model gets the shorter request it was tuned on). ``candidates`` are the
    program's own attributions, (likely claimant, words), numbered from 1 in
    the request: the answer accounts for each.
    """
    return render(
        "extract.j2",
        document=fence(document),
        max_actors=limits.actors,
        max_claims=limits.claims,
        max_uncertainties=limits.uncertainties,
        complete=complete,
        candidates=[(_inert(name), _inert(words)) for name, words in candidates],
    )


def continuation_prompt(
    document: str,
    limits: Any,
    actors: list[str],
    claims: list[tuple[str, str]],
    uncertainties: list[str],
    gaps: list[str],
    candidates: list[tuple[int, tuple[str, str]]] | None = None,
) -> Prompt:
    """Ask for what a brief still misses: ``claims`` are (claimant, quote), ``gaps`` uncovered cue sentences,
    ``candidates`` the program's candidates that the brief neither claims nor declined, with their numbers in
    the first request (their words made inert as there)."""
    return render(
        "continue.j2",
        document=fence(document),
        actors=actors or ["(none)"],
        claims=[{"claimant": c, "evidence": _start_of(q)} for c, q in claims],
        uncertainties=[{"evidence": _start_of(q)} for q in uncertainties],
        gaps=gaps,
        candidates=[(number, _inert(claimant), _inert(words)) for number, (claimant, words) in candidates or []],
        max_actors=limits.actors,
        max_claims=limits.claims,
        max_uncertainties=limits.uncertainties,
    )


def _start_of(quote: str) -> str:
    """The start of a quote, enough to recognise it, cut at a word boundary."""
    flat = " ".join(quote.split())
    if len(flat) <= QUOTE_IN_LIST_CHARS:
        return flat
    cut = flat[:QUOTE_IN_LIST_CHARS]
    return cut[: cut.rfind(" ")] + " …" if " " in cut else cut + "…"


def repair_prompt(document: str, actors: list[str], items: list[dict[str, Any]]) -> Prompt:
    return render("repair.j2", document=fence(document), actors=actors or ["(none)"], items=items)


def guided_prompt(document: str) -> Prompt:
    """The one request of guided extraction: the document's summary (the program finds the items)."""
    return render("guided.j2", document=fence(document))


def summary_prompt(summaries: list[str]) -> Prompt:
    return render("summary.j2", summaries=summaries)
