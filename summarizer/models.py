"""Pydantic models: what the LLM fills in, and the Brief the program emits.

Two families live here on purpose:

* ``*Draft`` / ``Extraction`` / ``Repair*`` are the LLM-facing models. They are
  small, loosely validated (a tiny model must be able to fill them) and carry no
  ids or offsets: the program assigns those.
* ``Brief`` and its parts are the output. They are strict: every evidence span
  satisfies ``text[start:end] == quote`` by construction in the pipeline, ids are
  program-assigned, figures are either a value or a range.

This module imports nothing else from the package.
"""

from __future__ import annotations

import json
import re
from contextvars import ContextVar
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal

import annotated_types
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic.json_schema import model_json_schema

# 1.6: Claim.source, the source as the document names it;
# 1.7: DocumentMeta.outlet, author, url; formats pdf and docx; Digest.published;
# 1.8: Rejected kind "candidate" (a rules candidate a capable model declined, with its reason);
# 1.9: Claim.also and ClaimRef.also, the further claimants of a statement several sources make; Rejected kind
# "claimant" (a further claimant that is no listed actor).
SCHEMA_VERSION = "1.9"  # 1.5: provider "rules" for briefs that asked no model; digest stories_by, synthesis_final

AUTHOR = "author"
UNNAMED_SOURCE = "unnamed source"
SPECIAL_CLAIMANTS = (AUTHOR, UNNAMED_SOURCE)
# Where an item of a brief came from: the model's answer, or the program's own rules (guided extraction).
Origin = Literal["model", "rules"]
# How a brief was extracted: "extract" (the model writes every item; grounded after) or "guided" (the
# program finds the items by rule and the model writes the summary).
Method = Literal["extract", "guided"]
METHODS: tuple[str, ...] = ("extract", "guided")

# The validation context of the current LLM call (document checks). It is set
# around the call rather than passed as Instructor's ``context=``, because
# Instructor also renders every message as a Jinja template when given a
# context: document text must never be evaluated as a template.
VALIDATION_CONTEXT: ContextVar[dict[str, Any] | None] = ContextVar("validation_context", default=None)


class ActorKind(str, Enum):
    person = "person"
    organisation = "organisation"
    government = "government"
    military = "military"
    media = "media"
    other = "other"


class ClaimStatus(str, Enum):
    asserted = "asserted"
    reported = "reported"
    estimated = "estimated"
    hedged = "hedged"
    denied = "denied"


class UncertaintyKind(str, Enum):
    unconfirmed = "unconfirmed"
    estimated = "estimated"
    disputed = "disputed"
    conflicting = "conflicting"
    unknown = "unknown"


# --------------------------------------------------------------------------
# LLM-facing models
# --------------------------------------------------------------------------


Short = Annotated[str, StringConstraints(max_length=60)]


@lru_cache(maxsize=256)
def _cached_schema(model: type[BaseModel], args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]) -> str:
    # pydantic's own function, which BaseModel.model_json_schema calls: not the cached override below.
    # Kept as JSON text: a fresh copy per caller is then one json.loads, several times cheaper than deepcopy.
    return json.dumps(model_json_schema(model, *args, **dict(kwargs)))


ClipMode = Literal["words", "chars", "verbatim", "inert"]
_CLOSING_BRIEFS = re.compile(r"(?i)</\s*briefs")


def clip(text: str, limit: int, mode: ClipMode = "words") -> str:
    """``text`` in at most ``limit`` characters; unchanged when it fits (after ``inert``'s rewriting).

    * ``words``: cut at a word boundary (when one is in the second half), trailing ``,;:`` and spaces
      dropped, then an ellipsis;
    * ``chars``: the first ``limit - 1`` characters, then an ellipsis;
    * ``verbatim``: a prefix cut at the last word boundary, no ellipsis (still the text's own words, so it
      can be copied back as evidence);
    * ``inert``: a string placed in a prompt: on one line (runs of whitespace made one space), unable to
      close the prompt's ``<briefs>`` tag, then as ``words``.
    """
    if mode == "inert":
        text = " ".join(_CLOSING_BRIEFS.sub("</ briefs", text).split())
    if len(text) <= limit:
        return text
    if mode == "chars":
        return text[: limit - 1] + "…"
    if mode == "verbatim":
        cut = text[:limit]
        return cut[: cut.rfind(" ")] if " " in cut else cut
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:") + "…"


def word_set(text: str) -> frozenset[str]:
    """The words of a whitespace-separated word list (the lexicons written inline)."""
    return frozenset(text.split())


def _max_length(field: FieldInfo) -> int | None:
    return next((m.max_length for m in field.metadata if isinstance(m, annotated_types.MaxLen)), None)


class _Draft(BaseModel):
    # Models sometimes add fields; ignore them rather than spend a re-ask.
    model_config = ConfigDict(extra="ignore")

    # Fields whose limit only keeps the answer short (text, item counts): an answer over
    # the limit is clipped, not refused. The limits stay in the schema the model sees;
    # what grounding depends on (names, claimants, evidence) is still validated strictly.
    _clipped: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _clip_cosmetic(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not cls._clipped:
            return data
        clipped = dict(data)
        for name in cls._clipped:
            if name not in cls.model_fields:  # "declined": only a request that lists candidates has it
                continue
            limit, value = _max_length(cls.model_fields[name]), clipped.get(name)
            if limit is None:
                continue
            if isinstance(value, str) and len(value) > limit:
                clipped[name] = clip(value, limit)
            elif isinstance(value, list) and len(value) > limit:
                clipped[name] = value[:limit]
        return clipped

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The JSON schema, computed once per class and arguments.

        Instructor asks for it on every call; at a few milliseconds each it was
        a visible share of a concurrent daily run's time.
        """
        schema: dict[str, Any] = json.loads(_cached_schema(cls, args, tuple(sorted(kwargs.items()))))
        return schema


class ActorDraft(_Draft):
    """A person or organisation involved in the story."""

    name: str = Field(max_length=60, description="Name exactly as written in the document")
    kind: ActorKind
    role: str = Field(max_length=40, description="Role in this story, a few words")
    aliases: list[Short] = Field(default_factory=list, max_length=2, description="Other names used in the document")

    _clipped = ("role", "aliases")

    @field_validator("aliases", mode="before")
    @classmethod
    def _drop_long_aliases(cls, value: Any) -> Any:
        """An alias longer than a name may be is not a name: dropped, not a reason to refuse the actor."""
        if isinstance(value, list):
            return [alias for alias in value if not isinstance(alias, str) or len(alias) <= 60]
        return value


class FigureDraft(_Draft):
    """A number stated in the evidence."""

    value: float | None = Field(default=None, description="The number, if a single value")
    low: float | None = Field(default=None, description="Lower bound, if a range")
    high: float | None = Field(default=None, description="Upper bound, if a range")
    unit: str = Field(max_length=40, description="What is counted, e.g. 'troops'")
    qualifier: str | None = Field(default=None, max_length=40, description="e.g. 'close to', 'as many as'")

    _clipped = ("unit", "qualifier")


class ClaimDraft(_Draft):
    """Who asserted what."""

    claimant: str = Field(max_length=60, description="An actor's name, or 'author', or 'unnamed source'")
    statement: str = Field(max_length=150, description="One sentence: what is claimed")
    evidence: str = Field(max_length=250, description="Verbatim quote from the document")
    cue: str | None = Field(default=None, max_length=30, description="Attribution words as written, e.g. 'said'")
    status: ClaimStatus
    figures: list[FigureDraft] = Field(default_factory=list, max_length=2)

    _clipped = ("statement", "cue", "figures", "also")


class UncertaintyDraft(_Draft):
    """Something unconfirmed, estimated, disputed, conflicting or unknown."""

    description: str = Field(max_length=150)
    kind: UncertaintyKind
    evidence: str = Field(max_length=250, description="Verbatim words from the document that signal it")

    _clipped = ("description",)


class Declined(_Draft):
    """One of the program's attribution candidates that the answer judges is not an attribution."""

    _clipped = ("reason",)

    candidate: int = Field(description="The candidate's number")  # one out of range is ignored, not refused
    reason: str = Field(max_length=120, description="Why it is not an attribution, in a few words")


class Extraction(_Draft):
    """A brief of the document."""

    actors: list[ActorDraft] = Field(min_length=1, max_length=30)
    claims: list[ClaimDraft] = Field(min_length=1, max_length=30)
    uncertainties: list[UncertaintyDraft] = Field(max_length=30)
    summary: str = Field(max_length=300, description="What happened, in two or three sentences")

    _clipped = ("actors", "claims", "uncertainties", "summary", "declined")

    @classmethod
    @lru_cache(maxsize=64)
    def bounded(cls, limits: Limits, candidates: int = 0) -> type[Extraction]:
        """This model with at most ``limits`` items of each kind.

        Under a grammar-constrained provider the bounds cap the answer's length,
        which is what a brief costs on a small local model. One class per
        limits (cached): Instructor prepares a response model's schema once.
        With ``candidates`` (the program's numbered attribution candidates in the
        request), the answer may decline each one that is not an attribution.
        """
        actor, claim, uncertainty = _drafts(limits.quote_chars, limits.name_chars)
        return create_model(
            "Extraction",
            __base__=cls,
            __doc__=cls.__doc__,
            actors=(list_of[actor], Field(min_length=1, max_length=limits.actors)),
            claims=(list_of[claim], Field(min_length=limits.min_claims, max_length=limits.claims)),
            uncertainties=(list_of[uncertainty], Field(max_length=limits.uncertainties)),
            **_declined(candidates),
        )


class Additions(_Draft):
    """What a brief of the document still misses: claims, uncertainties and the actors they need."""

    actors: list[ActorDraft] = Field(default_factory=list, max_length=30, description="Only actors not listed yet")
    claims: list[ClaimDraft] = Field(default_factory=list, max_length=30)
    uncertainties: list[UncertaintyDraft] = Field(default_factory=list, max_length=30)

    _clipped = ("actors", "claims", "uncertainties", "declined")

    @classmethod
    @lru_cache(maxsize=64)
    def bounded(cls, limits: Limits, candidates: int = 0) -> type[Additions]:
        """This model with at most ``limits`` items of each kind; with ``candidates`` (the program's candidates
        that a continuation request asks about once more), the answer may decline each."""
        actor, claim, uncertainty = _drafts(limits.quote_chars, limits.name_chars)
        return create_model(
            "Additions",
            __base__=cls,
            __doc__=cls.__doc__,
            actors=(list_of[actor], Field(default_factory=list, max_length=limits.actors)),
            claims=(list_of[claim], Field(default_factory=list, max_length=limits.claims)),
            uncertainties=(list_of[uncertainty], Field(default_factory=list, max_length=limits.uncertainties)),
            **_declined(candidates),
        )


# A list type of an item class made at run time (below): mypy cannot check such a type, so it is built through Any.
list_of: Any = list


def _declined(candidates: int) -> dict[str, Any]:
    """The ``declined`` field of an answer to a request that lists ``candidates`` (none without them)."""
    if not candidates:
        return {}
    description = "The program's candidates that are not attributions, each with a short reason"
    return {
        "declined": (list_of[Declined], Field(default_factory=list, max_length=candidates, description=description))
    }


@lru_cache(maxsize=8)
def _drafts(quote_chars: int, name_chars: int) -> tuple[type[ActorDraft], type[ClaimDraft], type[UncertaintyDraft]]:
    """The item models with room for quotes of ``quote_chars`` and names of ``name_chars`` characters.

    The defaults are the classes above, unchanged (the embedded model's recorded requests
    depend on their schema); a capable model gets room for long verbatim quotes.
    """
    if (quote_chars, name_chars) == (DEFAULT_QUOTE_CHARS, DEFAULT_NAME_CHARS):
        return ActorDraft, ClaimDraft, UncertaintyDraft
    actor = create_model(
        "ActorDraft",
        __base__=ActorDraft,
        __doc__=ActorDraft.__doc__,
        name=(str, Field(max_length=name_chars, description=ActorDraft.model_fields["name"].description)),
    )
    figure = create_model(
        "FigureDraft",
        __base__=FigureDraft,
        __doc__=FigureDraft.__doc__,
        unit=(str, Field(max_length=CAPABLE_UNIT_CHARS, description=FigureDraft.model_fields["unit"].description)),
    )
    claim = create_model(
        "ClaimDraft",
        __base__=ClaimDraft,
        __doc__=ClaimDraft.__doc__,
        claimant=(str, Field(max_length=name_chars, description=ClaimDraft.model_fields["claimant"].description)),
        evidence=(str, Field(max_length=quote_chars, description=ClaimDraft.model_fields["evidence"].description)),
        source=(str | None, Field(default=None, description=SOURCE_DESCRIPTION)),
        also=(list[str], Field(default_factory=list, max_length=MAX_ALSO, description=ALSO_DESCRIPTION)),
        figures=(list_of[figure], Field(default_factory=list, max_length=2)),
    )
    uncertainty = create_model(
        "UncertaintyDraft",
        __base__=UncertaintyDraft,
        __doc__=UncertaintyDraft.__doc__,
        evidence=(
            str,
            Field(max_length=quote_chars, description=UncertaintyDraft.model_fields["evidence"].description),
        ),
    )
    return actor, claim, uncertainty


DEFAULT_QUOTE_CHARS = 250
# A capable model is asked for the source as the document words it (the embedded model's requests, recorded,
# keep the schema they had: its briefs take the source from the parse when the rules find the claims).
# No length limit in the schema (a long description is a normal answer, and a limit would re-ask the whole
# answer); the assembly keeps a source of at most SOURCE_CHARS.
SOURCE_CHARS = 200
SOURCE_DESCRIPTION = (
    "Who asserted it, verbatim as the document names them at this claim: 'an official familiar with the matter', "
    "'the report', 'He', 'three people briefed on the discussions'; null for the author's own statement"
)
# A capable model names every source of a statement several make; the embedded model's schema is unchanged
# (its rules find the co-claimants in the parse). More than MAX_ALSO are clipped, not refused.
MAX_ALSO = 4
ALSO_DESCRIPTION = (
    "Other listed actors the document gives as asserting the same, by name ('NBC News and ABC News both "
    "reported': claimant 'NBC News', also ['ABC News']); empty when one source asserts it"
)
DEFAULT_NAME_CHARS = 60
# A capable model names what a figure counts in full ("North Korean troops killed or wounded in the past
# week"): the digest compares figures by it, so it is not cut at the embedded model's 40 characters.
CAPABLE_UNIT_CHARS = 100


def draft_models(
    quote_chars: int = DEFAULT_QUOTE_CHARS, name_chars: int = DEFAULT_NAME_CHARS
) -> tuple[type[ActorDraft], type[ClaimDraft], type[UncertaintyDraft]]:
    """The item models with room for quotes of ``quote_chars`` and names of ``name_chars`` characters."""
    return _drafts(quote_chars, name_chars)


class Limits(BaseModel):
    """How many items one request may return, and how long a quote or a name may be."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    actors: int = Field(8, ge=1, le=200)
    claims: int = Field(10, ge=1, le=200)
    uncertainties: int = Field(5, ge=0, le=200)
    min_claims: int = Field(1, ge=0, description="0: a document may carry no attribution at all")
    quote_chars: int = Field(DEFAULT_QUOTE_CHARS, ge=20, le=1000)
    name_chars: int = Field(DEFAULT_NAME_CHARS, ge=20, le=200)


class Summary(_Draft):
    """A summary of a whole document from the summaries of its parts."""

    summary: str = Field(max_length=400, description="Two or three sentences")

    _clipped = ("summary",)


class RepairedItem(_Draft):
    """A corrected version of one numbered item."""

    item: int = Field(description="The item's number as given")
    evidence: str = Field(max_length=250, description="Verbatim quote copied from the document")
    claimant: str | None = Field(
        default=None, max_length=60, description="For a claim: a listed actor, 'author' or 'unnamed source'"
    )


class Repairs(_Draft):
    """Corrections for the numbered items."""

    items: list[RepairedItem] = Field(max_length=20)

    @classmethod
    def for_items(cls, numbers: list[int], claimants: list[str]) -> type[Repairs]:
        """This model with exactly one item per number given and claimants limited to ``claimants``.

        Under a grammar-constrained provider the answer's length is bounded and
        every item number and claimant it gives is one the brief can use.
        """
        # Literal of values known only at run time: built through Any, which mypy cannot check.
        one_of: Any = Literal
        item = create_model(
            "RepairedItem",
            __base__=RepairedItem,
            __doc__=RepairedItem.__doc__,
            item=(one_of[tuple(numbers)], Field(description="The item's number as given")),
            claimant=(
                one_of[tuple(dict.fromkeys(claimants))] | None,
                Field(default=None, description=RepairedItem.model_fields["claimant"].description),
            ),
        )
        return create_model(
            "Repairs",
            __base__=cls,
            __doc__=cls.__doc__,
            items=(list[item], Field(min_length=len(numbers), max_length=len(numbers))),
        )

    @model_validator(mode="after")
    def _check_against_document(self, info: ValidationInfo) -> Repairs:
        """With a validation context, every repaired item must be grounded.

        The context (see VALIDATION_CONTEXT) carries a ``check`` callable from the
        pipeline that returns the problems of one item; raising here makes
        Instructor re-ask with those problems, and only the repair list is
        regenerated.
        """
        context = info.context or VALIDATION_CONTEXT.get() or {}
        check = context.get("check")
        if check is None:
            return self
        problems = [problem for item in self.items for problem in check(item)]
        missing = sorted(set(context.get("expected", ())) - {item.item for item in self.items})
        problems += [f"item {number}: missing from your answer" for number in missing]
        if problems:
            raise ValueError("; ".join(problems))
        return self


# --------------------------------------------------------------------------
# Output models
# --------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Span(_Out):
    """A verbatim quote and where it stands in the source: text[start:end] == quote."""

    quote: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    match: Literal["exact", "normalized", "fuzzy"] = Field(
        description="exact; normalized (whitespace, quote marks, dashes, case); fuzzy (similarity >= threshold)"
    )
    score: float = Field(ge=0, le=1, description="1.0 unless fuzzy")
    model_quote: str | None = Field(default=None, description="What the model wrote, when it differs from the source")

    @model_validator(mode="after")
    def _consistent(self) -> Span:
        if self.end - self.start != len(self.quote):
            raise ValueError(f"span [{self.start}, {self.end}) does not have the quote's length {len(self.quote)}")
        return self


class Figure(_Out):
    """A number of a claim: a value, a low-high range, or neither when the evidence gives none in figures
    ("thousands"): then the qualifier says what it gives."""

    value: float | None = None
    low: float | None = None
    high: float | None = None
    unit: str
    qualifier: str | None = None

    @model_validator(mode="after")
    def _value_or_range(self) -> Figure:
        if self.value is not None and (self.low is not None or self.high is not None):
            raise ValueError("a figure has either a value or a low-high range")
        if (self.low is None) != (self.high is None):
            raise ValueError("a figure's range needs both bounds")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError("a figure's low bound is above its high bound")
        return self

    def bounds(self) -> tuple[float, float] | None:
        """(low, high); a single value is a range of one point; None when the figure has no number."""
        if self.value is not None:
            return self.value, self.value
        if self.low is not None and self.high is not None:
            return self.low, self.high
        return None


class Actor(_Out):
    id: str = Field(pattern=r"^A\d+$")
    name: str
    kind: ActorKind
    role: str
    aliases: list[str] = Field(default_factory=list)
    mention: Span = Field(description="First mention of the name (or an alias) in the source")
    origin: Origin = Field("model", description="model: from the model's answer; rules: found by the program")


class CoClaimant(_Out):
    name: str = Field(description="The actor's name, as the brief lists it")
    actor_id: str = Field(pattern=r"^A\d+$", description="The actor's id")


class Claim(_Out):
    id: str = Field(pattern=r"^C\d+$")
    claimant: str = Field(description="The claimant as the model named it")
    claimant_id: str | None = Field(description="The actor id, or null for 'author' / 'unnamed source'")
    also: list[CoClaimant] = Field(
        default_factory=list,
        description="Further claimants of the same statement where the document gives several ('NBC News and ABC "
        "News both reported': claimant NBC News, also ABC News); each a listed actor",
    )
    statement: str
    evidence: Span
    cue: Span | None = None
    status: ClaimStatus
    figures: list[Figure] = Field(default_factory=list)
    origin: Origin = Field("model", description="model: from the model's answer; rules: found by the program")
    source: Span | None = Field(
        default=None,
        description="The words the document uses for who asserted it ('an official familiar with the matter', "
        "'the report', 'He'), grounded like the evidence; null where the document names no source (the author's "
        "own statement) or the words were not found. `claimant` is what they resolve to",
    )
    check: str | None = Field(
        default=None,
        description="Why the program's rules are unsure of this claim, so a person looks at it (a pronoun read as "
        "a name said sentences back, a follow-on quote, a source with no subject in the parse); null when they are not",
    )

    @property
    def claimants(self) -> list[str]:
        """The claimant and the further ones (``also``), in the document's order."""
        return [self.claimant, *(other.name for other in self.also)]

    @property
    def claimant_ids(self) -> list[str]:
        """The actor ids of every claimant (none for 'author' / 'unnamed source')."""
        return [i for i in (self.claimant_id, *(other.actor_id for other in self.also)) if i]


def joined(names: list[str]) -> str:
    """Names as one phrase: "A", "A and B", "A, B and C"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class Uncertainty(_Out):
    id: str = Field(pattern=r"^U\d+$")
    description: str
    kind: UncertaintyKind
    evidence: Span
    claim_ids: list[Annotated[str, Field(pattern=r"^C\d+$")]] = Field(
        default_factory=list, description="Claims whose evidence overlaps this one's sentence"
    )
    origin: Origin = Field("model", description="model: from the model's answer; rules: found by the program")


# A rejected item is the model's draft as it came: a few levels deep. Far deeper is not a brief (and
# would exhaust the serialiser's recursion).
MAX_ITEM_DEPTH = 20


def _depth(value: Any, limit: int) -> int:
    if limit < 0 or not isinstance(value, (dict, list)):
        return 0
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(child, limit - 1) for child in children), default=0)


class Rejected(_Out):
    kind: Literal[
        "actor", "alias", "claim", "uncertainty", "figure", "cue", "source", "summary", "candidate", "claimant"
    ]
    item: dict[str, Any]
    reason: str

    @field_validator("item")
    @classmethod
    def _not_too_deep(cls, value: dict[str, Any]) -> dict[str, Any]:
        if _depth(value, MAX_ITEM_DEPTH + 1) > MAX_ITEM_DEPTH:
            raise ValueError(f"nested more than {MAX_ITEM_DEPTH} levels deep")
        return value


class DocumentMeta(_Out):
    id: str = Field(description="sha256 of the document text (as UTF-8): the text every offset indexes")
    sha256: str | None = Field(
        None,
        description="sha256 of the source file's bytes as read (for an HTML page saved beside the brief: of the "
        "saved text file); what check compares",
    )
    title: str | None = None
    source: str | None = Field(
        None, description="The file or address the text was extracted from (a page, PDF or Word file, a URL)"
    )
    date: str | None = Field(None, description="Published date as the input gives it (ISO 8601 where it can)")
    outlet: str | None = Field(None, description="Who published it: the site's or feed's name")
    author: str | None = None
    url: str | None = Field(None, description="Where it was published: the fetched page, the feed entry's link")
    path: str | None = None
    chars: int
    format: Literal["text", "html", "pdf", "docx"] = Field(
        "text",
        description="html, pdf, docx: the text was extracted from the file or page in `source` and saved beside "
        "the brief (`path`)",
    )
    parts: int = Field(1, description="How many chunks the document was briefed in")


class Usage(_Out):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )


class RunMeta(_Out):
    provider: str
    base_url: str | None = Field(description="Endpoint without credentials")
    model: str
    mode: str = Field(description="Instructor mode")
    method: Method = Field(
        "extract", description="extract: the model wrote the items; guided: the program found them, the model summed up"
    )
    summary_origin: Origin = Field(
        "model", description="rules: the summary is the document's lead (guided extraction without a model's)"
    )
    rules_version: str | None = Field(None, description="Guided extraction: a hash of the rules that found the items")
    nlp_model: str | None = Field(
        None, description="Guided extraction: the spaCy pipeline that parsed the document ('name version')"
    )
    prompt_version: str
    temperature: float
    seed: int | None
    usage: Usage = Field(description="Tokens summed over every attempt, re-asks and repairs included")
    attempts: int = Field(description="LLM calls made for this brief")
    repaired: int = Field(0, description="Items fixed by a targeted repair request")
    passes: int = Field(1, description="Extraction passes per part: the first, plus continuation passes made")
    added: int = Field(0, description="Items kept from continuation passes")
    latency_s: float


class Brief(_Out):
    schema_version: str = SCHEMA_VERSION
    document: DocumentMeta
    run: RunMeta
    summary: str
    actors: list[Actor]
    claims: list[Claim]
    uncertainties: list[Uncertainty]
    rejected: list[Rejected] = Field(default_factory=list)

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: str) -> str:
        if value.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            newer = value.split(".")[0].isdigit() and int(value.split(".")[0]) > int(SCHEMA_VERSION.split(".")[0])
            advice = "upgrade summarizer" if newer else "brief the document again"
            raise ValueError(f"brief has schema version {value}; this summarizer reads {SCHEMA_VERSION}: {advice}")
        return value


# --------------------------------------------------------------------------
# Daily brief (digest) models
# --------------------------------------------------------------------------


class StoryDraft(_Draft):
    """Documents about the same event or thread."""

    name: str = Field(max_length=80, description="A short name for the event or thread, e.g. 'FBI email inquiry'")
    documents: list[str] = Field(min_length=1, description="Document keys, e.g. 'd2'")

    _clipped = ("name",)


class ContradictionDraft(_Draft):
    """Two sets of claims that cannot both be true."""

    description: str = Field(max_length=200)
    side_a: list[str] = Field(min_length=1, max_length=5, description="Claim ids on one side, e.g. 'd1:C2'")
    side_b: list[str] = Field(min_length=1, max_length=5, description="Claim ids on the other side")

    _clipped = ("description", "side_a", "side_b")


class OpenQuestionDraft(_Draft):
    """Something the documents leave open."""

    question: str = Field(max_length=200)
    claim_ids: list[str] = Field(default_factory=list, max_length=5, description="The claims it concerns")

    _clipped = ("question", "claim_ids")


def document_of(claim_id: str) -> str:
    """The document key of a digest claim id: 'd3:C2' → 'd3'."""
    return claim_id.split(":", 1)[0]


class Synthesis(_Draft):
    """The stories of the day's briefs, and the contradictions and open questions inside each story."""

    stories: list[StoryDraft] = Field(default_factory=list)
    contradictions: list[ContradictionDraft] = Field(default_factory=list, max_length=5)
    open_questions: list[OpenQuestionDraft] = Field(default_factory=list, max_length=5)

    _clipped = ("contradictions", "open_questions")

    def story_of(self) -> dict[str, int]:
        """Document key → the index of its story (documents in no story are absent)."""
        return {key: index for index, story in enumerate(self.stories) for key in story.documents}

    @model_validator(mode="after")
    def _cited_ids_exist(self, info: ValidationInfo) -> Synthesis:
        """Every document key and claim id must exist (context ``documents``, ``claim_ids``); a document is
        in one story at most; a contradiction has two distinct sides; the claims an item cites are of one
        story (a document in no story is a story of its own)."""
        context = info.context or VALIDATION_CONTEXT.get() or {}
        known = context.get("claim_ids")
        if known is None:
            return self
        documents = context.get("documents") or sorted({document_of(c) for c in known})
        problems = []
        seen: dict[str, int] = {}
        for number, story in enumerate(self.stories, 1):
            unknown = [d for d in story.documents if d not in documents]
            if unknown:
                problems.append(f"story {number} lists unknown documents {unknown}")
            for key in story.documents:
                if key in seen and seen[key] != number:
                    problems.append(f"document {key} is in stories {seen[key]} and {number}: put it in one")
                seen.setdefault(key, number)
        story_of = self.story_of()

        def stories(ids: list[str]) -> set[object]:
            return {story_of.get(document_of(i), document_of(i)) for i in ids}

        for number, item in enumerate(self.contradictions, 1):
            unknown = [c for c in item.side_a + item.side_b if c not in known]
            if unknown:
                problems.append(f"contradiction {number} cites unknown claim ids {unknown}")
            if set(item.side_a) & set(item.side_b):
                problems.append(f"contradiction {number} has the same claim on both sides")
            if len(stories(item.side_a + item.side_b)) > 1:
                problems.append(f"contradiction {number} cites claims of different stories: group their documents")
        for number, question in enumerate(self.open_questions, 1):
            unknown = [c for c in question.claim_ids if c not in known]
            if unknown:
                problems.append(f"open question {number} cites unknown claim ids {unknown}")
            if not question.claim_ids:
                problems.append(f"open question {number} cites no claim: give the ids of the claims it concerns")
            if len(stories(question.claim_ids)) > 1:
                problems.append(f"open question {number} cites claims of different stories: group their documents")
        if problems:
            listed = ", ".join(sorted(known)) if len(known) <= 200 else "those listed in the request"
            raise ValueError("; ".join(problems) + f". Use only these ids: {listed}")
        return self


class ActorMention(_Out):
    brief: str = Field(description="The per-document brief file, relative to the daily folder")
    document_id: str
    actor_id: str
    claim_ids: list[str]


class DigestActor(_Out):
    id: str = Field(pattern=r"^DA\d+$")
    name: str
    kinds: list[ActorKind]
    aliases: list[str]
    documents: list[ActorMention]


class ClaimRef(_Out):
    ref: str = Field(description="'<document key>:<claim id>', e.g. 'd3:C2'")
    brief: str
    claimant: str
    also: list[str] = Field(default_factory=list, description="Further claimants of the statement (see Claim.also)")
    statement: str
    evidence: str = Field(description="The claim's verbatim evidence (see the brief for its offsets)")
    source: str | None = Field(default=None, description="The source as the document names it (see Claim.source)")
    status: ClaimStatus
    figures: list[Figure] = Field(default_factory=list)
    origin: Origin = Field("model", description="model: from the model's answer; rules: found by the program")
    change: Literal["new", "repeated", "changed"] | None = Field(default=None, description="Against --since")

    @property
    def claimants(self) -> list[str]:
        """The claimant and the further ones (``also``)."""
        return [self.claimant, *self.also]


class ClaimGroup(_Out):
    actor: str = Field(description="The claimant (merged across documents)")
    claims: list[ClaimRef]


class ComparedFigure(_Out):
    ref: str = Field(description="The claim, e.g. 'd3:C2'")
    claimant: str
    status: ClaimStatus
    figure: Figure


class FigureComparison(_Out):
    subject: str = Field(description="What is counted, as the first figure's unit says it")
    figures: list[ComparedFigure] = Field(description="The figures of two or more claims that count this thing")
    verdict: Literal["agree", "overlap", "differ"] = Field(
        description="agree: the same value or range; overlap: ranges (or a value and a range) that overlap; "
        "differ: two that do not"
    )


class Contradiction(_Out):
    description: str
    side_a: list[str]
    side_b: list[str]


class OpenQuestion(_Out):
    question: str
    claim_ids: list[str]


class Story(_Out):
    id: str = Field(pattern=r"^S\d+$")
    name: str
    named_by: Literal["model", "rules", "title"] = Field(
        description="model: the synthesis grouped and named it; rules: documents that share salient names, grouped "
        "and named by the program (no model); title: a document standing alone, named by its title "
        "(or the start of its summary)"
    )
    documents: list[str] = Field(description="Document keys (see Digest.documents)")
    actors: list[str] = Field(description="Digest actor ids (DA…) of the story's documents, most claims first")
    claim_groups: list[ClaimGroup] = Field(description="The story's claims by claimant")
    figures: list[FigureComparison] = Field(description="Figures of the same counted thing, side by side")
    contradictions: list[Contradiction]
    open_questions: list[OpenQuestion]
    change: Literal["new", "repeated", "changed"] | None = Field(
        default=None, description="Against --since: new (no claim seen before), repeated (all seen), or changed"
    )


class DigestFailure(_Out):
    source: str
    status: str
    error: str | None


class Digest(_Out):
    schema_version: str = SCHEMA_VERSION
    kind: Literal["digest"] = "digest"
    documents: dict[str, str] = Field(description="Document key (d1, d2, ...) → brief file")
    published: dict[str, str] = Field(
        default_factory=dict,
        description="Document key → where and when it was published ('New York Times, 18 Aug 2016'), for the "
        "documents whose inputs say",
    )
    stories: list[Story] = Field(description="The day by story: documents about one event or thread together")
    actors: list[DigestActor]
    failures: list[DigestFailure]
    duplicates: dict[str, list[str]] = Field(
        default_factory=dict, description="Document key → the other inputs with the same text (briefed once)"
    )
    since: str | None = None
    synthesis_error: str | None = Field(default=None, description="Why stories or contradictions are missing")
    synthesis_calls: int = Field(0, description="Synthesis requests made (batches that fit the model's context)")
    stories_by: Literal["model", "rules"] = Field(
        "model",
        description="Who was asked for the stories: model (a synthesis; on its failure the stories are made by "
        "rule) or rules (documents sharing salient names grouped by the program, no model)",
    )
    synthesis_final: bool = Field(
        False,
        description="The synthesis ran past its time limit on these briefs: a rerun does not try again unless asked",
    )
    usage: Usage = Field(default_factory=Usage, description="Tokens of the synthesis calls")

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        """A digest written before schema 1.3 (claims grouped by figure unit, no stories) read as one story per
        document, so ``--since`` and ``review`` still read it; its synthesis is marked to be made again."""
        if not isinstance(data, dict) or "claim_groups" not in data or "stories" in data:
            return data
        upgraded = {k: v for k, v in data.items() if k in ("documents", "actors", "failures", "duplicates", "since")}
        claims: dict[str, dict[str, list[Any]]] = {}
        for group in data.get("claim_groups") or []:
            for claim in group.get("claims", []) if isinstance(group, dict) else []:
                if isinstance(claim, dict) and isinstance(claim.get("ref"), str):
                    by_actor = claims.setdefault(document_of(claim["ref"]), {})
                    by_actor.setdefault(str(group.get("actor")), []).append(claim)
        documents = data["documents"] if isinstance(data.get("documents"), dict) else {}
        upgraded["stories"] = [
            {
                "id": f"S{number}",
                "name": str(file),
                "named_by": "title",
                "documents": [key],
                "actors": [],
                "claim_groups": [{"actor": a, "claims": c} for a, c in claims.get(key, {}).items()],
                "figures": [],
                "contradictions": [],
                "open_questions": [],
            }
            for number, (key, file) in enumerate(documents.items(), 1)
        ]
        upgraded["synthesis_error"] = f"made by an earlier summarizer (schema {data.get('schema_version')})"
        return upgraded

    def claims(self) -> list[ClaimRef]:
        """Every claim of the stories once (a claim of several claimants is in each one's group)."""
        found = {claim.ref: claim for story in self.stories for group in story.claim_groups for claim in group.claims}
        return list(found.values())
