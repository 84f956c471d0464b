"""An analyst's judgement on a brief, kept beside it: accept, reject, correct the claimant, follow up.

A brief ``NAME.json`` has its review in ``NAME.review.json`` (``review_path``); the brief itself is never
changed. Each decision names its item (C3, U1, A2) and, so that it survives the brief being made again,
the item's evidence span (an actor's: its name): ``match`` pairs the decisions with the items of the brief
as it is now, whatever their ids became, and lists the decisions whose items are gone as orphaned.
``apply`` gives the brief as the analyst judged it (corrected claimants, rejected items left out): what
the digest, the history database and ``export`` read; ``render`` and ``show`` mark items with ``Reviewed``.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import BriefError
from .models import Actor, Brief, Claim, Uncertainty
from .store import NotRegular, TooLarge, atomic_write_text, inert_json, read_limited

REVIEW_SUFFIX = ".review.json"
REVIEW_VERSION = "1"
MAX_REVIEW_BYTES = 16 * 1024 * 1024
REJECT_REASONS = ("wrong claimant", "not an attribution", "evidence does not say this", "duplicate")

Item = Claim | Uncertainty | Actor
Verdict = Literal["accepted", "rejected"]


class Decision(BaseModel):
    """One item's judgement, as last recorded."""

    model_config = ConfigDict(extra="forbid")

    item: str = Field(pattern=r"^[CUA]\d+$", description="The item's id in the brief when it was decided")
    start: int | None = Field(None, description="Its evidence span (claims, uncertainties): how it is found again")
    end: int | None = None
    quote: str = Field(description="Its evidence quote (an actor's name), as it was")
    decision: Verdict | None = Field(None, description="accepted or rejected; null: not decided (a follow-up only)")
    reason: str | None = Field(None, description="Why it was rejected")
    claimant: str | None = Field(None, description="The claimant as corrected (claims only)")
    follow_up: bool = Field(False, description="Marked for follow-up")
    reviewer: str
    at: str = Field(description="When (UTC, ISO 8601)")

    @property
    def checked(self) -> bool:
        """Whether a person has signed the item off one way or the other (a correction counts as checking)."""
        return self.decision is not None or self.claimant is not None


class Review(BaseModel):
    """The review file of one brief (``NAME.review.json``)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal["1"] = "1"
    kind: Literal["review"] = "review"
    brief: str = Field(description="The brief's file name")
    document_id: str = Field(description="sha256 of the text the brief indexes (Brief.document.id)")
    decisions: list[Decision] = Field(default_factory=list)
    orphaned: list[Decision] = Field(
        default_factory=list, description="Decisions whose items the brief, made again, no longer has"
    )


def review_path(brief_path: Path) -> Path:
    """``NAME.json`` → ``NAME.review.json`` beside it."""
    return brief_path.with_name(f"{brief_path.stem}{REVIEW_SUFFIX}")


def reviewer_name(given: str | None = None) -> str:
    """Who is reviewing: ``--reviewer``, else the login name, else "unknown"."""
    if given and given.strip():
        return " ".join(given.split())[:100]
    try:
        return os.environ.get("USER") or getpass.getuser() or "unknown"
    except (OSError, KeyError):
        return "unknown"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_review(brief_path: Path, brief: Brief) -> Review:
    """The review beside ``brief_path`` (an empty one when there is none)."""
    path = review_path(brief_path)
    if not path.exists():
        return Review(brief=brief_path.name, document_id=brief.document.id)
    try:
        raw = read_limited(path, MAX_REVIEW_BYTES)
        return Review.model_validate_json(raw)
    except (TooLarge, NotRegular, OSError) as error:
        raise BriefError(f"{path}: cannot read the review ({error})") from None
    except ValueError as error:
        first = str(error).splitlines()[:3]
        raise BriefError(f"{path}: not a valid review file ({' '.join(first)})") from None


def is_review(path: Path) -> Review | None:
    """The review a file holds, judged by its content (a document may be named "book.review.txt"), or None."""
    try:
        data = read_limited(path, MAX_REVIEW_BYTES)
    except (TooLarge, NotRegular, OSError):
        return None
    if b'"kind"' not in data[:4096] or b'"review"' not in data[:4096]:
        return None
    try:
        return Review.model_validate_json(data)
    except ValueError:
        return None


def save_review(brief_path: Path, review: Review) -> Path:
    path = review_path(brief_path)
    atomic_write_text(path, inert_json(review.model_dump_json(indent=2)) + "\n")
    return path


def items(brief: Brief) -> list[Item]:
    """Every item a person can decide on, in the order a review shows them: claims, uncertainties, actors."""
    return [*brief.claims, *brief.uncertainties, *brief.actors]


def anchor(item: Item) -> tuple[str, int | None, int | None, str]:
    """How an item is found again in a brief made anew: its kind, evidence span and quote (an actor: its name)."""
    if isinstance(item, Actor):
        return "A", None, None, " ".join(item.name.split()).casefold()
    return item.id[0], item.evidence.start, item.evidence.end, item.evidence.quote


def decided(item: Item, before: Decision | None, reviewer: str, **change: object) -> Decision:
    """The item's decision after ``change`` (decision, reason, claimant, follow_up) by ``reviewer``."""
    _, start, end, quote = anchor(item)
    base = before.model_dump() if before else {}
    base.update(item=item.id, start=start, end=end, quote=item.name if isinstance(item, Actor) else quote)
    base.update(change, reviewer=reviewer, at=now())
    if base.get("decision") != "rejected":
        base["reason"] = None
    return Decision.model_validate(base)


@dataclass
class Reviewed:
    """A review matched to a brief: item id (as the brief has it now) → decision; and what no longer matches."""

    decisions: dict[str, Decision] = field(default_factory=dict)
    orphaned: list[Decision] = field(default_factory=list)
    show_rejected: bool = False

    def of(self, item_id: str) -> Decision | None:
        return self.decisions.get(item_id)

    def rejected(self, item_id: str) -> bool:
        found = self.decisions.get(item_id)
        return found is not None and found.decision == "rejected"

    def hidden(self, item_id: str) -> bool:
        """Left out of what is shown: rejected, unless rejected items are asked for."""
        return self.rejected(item_id) and not self.show_rejected

    def counts(self, brief: Brief) -> tuple[int, int, int]:
        """(checked, unchecked, rejected) over the brief's items."""
        every = [item.id for item in items(brief)]
        checked = sum(1 for i in every if (d := self.decisions.get(i)) is not None and d.checked)
        rejected = sum(1 for i in every if self.rejected(i))
        return checked, len(every) - checked, rejected

    def to_review(self, brief_file: str, brief: Brief, kept: list[Decision] | None = None) -> Review:
        return Review(
            brief=brief_file,
            document_id=brief.document.id,
            decisions=sorted(self.decisions.values(), key=lambda d: _order(d.item)),
            orphaned=kept if kept is not None else self.orphaned,
        )


def _order(item_id: str) -> tuple[int, int]:
    return "CUA".index(item_id[0]), int(item_id[1:])


def _key(decision: Decision) -> tuple[str, int | None, int | None, str]:
    quote = decision.quote if decision.item[0] != "A" else " ".join(decision.quote.split()).casefold()
    return decision.item[0], decision.start, decision.end, quote


def match(review: Review, brief: Brief) -> Reviewed:
    """The decisions of ``review`` on the items of ``brief`` as it is now: each found by its evidence span and
    quote (an actor by its name), whatever its id; those that find no item are orphaned (and kept so).

    Two items may share a span (one sentence, two claimants): a decision stays on the item with its own id
    when that item still has its span, and otherwise takes the first item with the span that no other
    decision holds. A review made for another document (``document_id``) finds no actor by name: only
    spans with their quotes, which cannot match by chance."""
    by_anchor: dict[tuple[str, int | None, int | None, str], list[str]] = {}
    anchors: dict[str, tuple[str, int | None, int | None, str]] = {}
    same_document = review.document_id == brief.document.id
    for item in items(brief):
        if isinstance(item, Actor) and not same_document:
            continue
        key = anchor(item)
        anchors.setdefault(item.id, key)
        by_anchor.setdefault(key, []).append(item.id)
    reviewed = Reviewed()
    pending = []
    for old in [*review.decisions, *review.orphaned]:
        if anchors.get(old.item) == _key(old) and old.item not in reviewed.decisions:
            reviewed.decisions[old.item] = old  # the same item, where it was
        else:
            pending.append(old)
    for old in pending:
        found = next((i for i in by_anchor.get(_key(old), []) if i not in reviewed.decisions), None)
        if found is None:
            reviewed.orphaned.append(old)
            continue
        reviewed.decisions[found] = old.model_copy(update={"item": found})
    return reviewed


def reviewed_brief(brief_path: Path, brief: Brief, show_rejected: bool = False) -> Reviewed:
    """The review beside ``brief_path`` matched to ``brief``."""
    found = match(load_review(brief_path, brief), brief)
    found.show_rejected = show_rejected
    return found


def apply(brief: Brief, reviewed: Reviewed, *, keep_rejected: bool = False) -> Brief:
    """The brief as the analyst judged it: rejected claims, uncertainties and actors left out (an uncertainty
    no longer lists a rejected claim; ``keep_rejected``: kept, for a view that marks them), corrected
    claimants in place (linked to the brief's actor of that name, else to none)."""
    if not reviewed.decisions:
        return brief
    gone = (lambda item_id: False) if keep_rejected else reviewed.rejected
    claims = []
    for claim in brief.claims:
        decision = reviewed.of(claim.id)
        if gone(claim.id):
            continue
        if decision is not None and decision.claimant and [decision.claimant] != claim.claimants:
            actor = next((a.id for a in brief.actors if a.name == decision.claimant), None)
            claim = claim.model_copy(update={"claimant": decision.claimant, "claimant_id": actor, "also": []})
        claims.append(claim)
    gone_actors = {actor.id for actor in brief.actors if gone(actor.id)}
    if gone_actors:  # a rejected actor: its claims stay, under their claimant's name, linked to no actor
        claims = [
            c.model_copy(
                update={
                    "claimant_id": None if c.claimant_id in gone_actors else c.claimant_id,
                    "also": [o for o in c.also if o.actor_id not in gone_actors],
                }
            )
            if set(c.claimant_ids) & gone_actors
            else c
            for c in claims
        ]
    kept = {claim.id for claim in claims}
    uncertainties = [
        u.model_copy(update={"claim_ids": [c for c in u.claim_ids if c in kept]})
        for u in brief.uncertainties
        if not gone(u.id)
    ]
    actors = [actor for actor in brief.actors if not gone(actor.id)]
    return brief.model_copy(update={"claims": claims, "uncertainties": uncertainties, "actors": actors})


def mark(reviewed: Reviewed | None, item_id: str, original: str | None = None) -> str | None:
    """What a person decided on an item, in words ("accepted by ann; claimant corrected from “X”"), or None.
    ``original``: the claimant as the brief has it, for a correction."""
    decision = reviewed.of(item_id) if reviewed is not None else None
    if decision is None:
        return None
    words = []
    if decision.decision == "accepted":
        words.append(f"✓ accepted by {decision.reviewer}")
    elif decision.decision == "rejected":
        words.append(f"✗ rejected by {decision.reviewer}" + (f": {decision.reason}" if decision.reason else ""))
    if decision.claimant and decision.claimant != original:
        words.append(f"claimant corrected by {decision.reviewer}" + (f" from “{original}”" if original else ""))
    if decision.follow_up:
        words.append("⚑ follow up")
    return "; ".join(words) or None


def accepted_claims(brief: Brief, reviewed: Reviewed) -> list[Claim]:
    """The claims a person accepted, their corrections applied."""
    judged = apply(brief, reviewed)
    return [claim for claim in judged.claims if (d := reviewed.of(claim.id)) is not None and d.decision == "accepted"]
