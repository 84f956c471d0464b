"""How big a request is: caps that follow the document, completion budgets that follow the caps.

A capable model's first answer fills every cap it is given (measured: 8 actors,
10 claims, 5 uncertainties are 1,300-1,700 completion tokens), and a political
article carries 10-20 attributions. So the caps follow the document — its
sentences with an attribution or estimate cue, and those with a hedge — and
each request asks for the completion tokens its caps need, within the model's
output ceiling. The embedded profile keeps its fixed small caps and limit.
"""

from __future__ import annotations

import math

from .cues import cue_kinds, cue_sentences
from .models import Limits
from .settings import REMOTE_LIMITS, Settings

# Completion tokens per item, from strong answers (about 4 characters a token):
# an actor ~30, a claim with a long verbatim quote ~100-170, an uncertainty ~65.
ACTOR_TOKENS = 40
CLAIM_TOKENS = 150
UNCERTAINTY_TOKENS = 90
SUMMARY_TOKENS = 250  # the summary and the JSON around the lists
MARGIN = 1.25
MAX_LIMITS = Limits(actors=25, claims=40, uncertainties=12, min_claims=0, quote_chars=600, name_chars=120)
SUMMARY_CALL_TOKENS = 300
# A synthesis answer: every document of its batch in a story, five contradictions and five questions.
SYNTHESIS_CALL_TOKENS = 2_000


def answer_tokens(limits: Limits) -> int:
    """Completion tokens an answer that fills every cap needs, with a margin."""
    items = limits.actors * ACTOR_TOKENS + limits.claims * CLAIM_TOKENS + limits.uncertainties * UNCERTAINTY_TOKENS
    return math.ceil((items + SUMMARY_TOKENS) * MARGIN)


def repair_tokens(items: int, limits: Limits) -> int:
    """Completion tokens of a repair answer: a quote and a claimant per item."""
    return math.ceil((items * (limits.quote_chars / 3 + 40) + 100) * MARGIN)


def document_limits(text: str, settings: Settings) -> Limits:
    """The caps for ``text``: fixed when the settings fix them, else from its cue sentences."""
    if settings.limits is not None:
        return settings.limits
    kinds = cue_kinds()
    sentences = cue_sentences(text)
    attributed = sum(1 for s in sentences if any(kinds[c] in ("attribution", "estimate") for c in s.cues))
    hedged = sum(1 for s in sentences if any(kinds[c] == "hedge" for c in s.cues))
    floor = REMOTE_LIMITS
    claims = _clamp(attributed + math.ceil(attributed / 4) + 2, floor.claims, MAX_LIMITS.claims)
    limits = floor.model_copy(
        update={
            "claims": claims,
            "actors": _clamp(claims, floor.actors, MAX_LIMITS.actors),
            "uncertainties": _clamp(hedged + 2, floor.uncertainties, MAX_LIMITS.uncertainties),
        }
    )
    return fit_ceiling(limits, settings.output_ceiling)


def fit_ceiling(limits: Limits, ceiling: int) -> Limits:
    """Smaller caps until a full answer fits the model's output ceiling (continuation passes fetch the rest)."""
    while answer_tokens(limits) > ceiling and limits.claims > 1:
        claims = max(1, limits.claims * 4 // 5)
        limits = limits.model_copy(
            update={
                "claims": claims,
                "actors": max(1, min(limits.actors, claims)),
                "uncertainties": min(limits.uncertainties, max(1, claims // 2)),
            }
        )
    return limits


def answer_budget(settings: Settings, limits: Limits) -> int:
    """The completion tokens one extraction request carries room for (used to size chunks)."""
    return min(settings.max_tokens or answer_tokens(limits), settings.output_ceiling)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(value, high))
