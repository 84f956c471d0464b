from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from summarizer.models import SCHEMA_VERSION, Brief, Extraction, Figure, RepairedItem, Repairs, Span


def test_span_length_must_match_offsets() -> None:
    Span(quote="abc", start=3, end=6, match="exact", score=1.0)
    with pytest.raises(ValidationError, match="length"):
        Span(quote="abc", start=3, end=7, match="exact", score=1.0)


@pytest.mark.parametrize(
    "values",
    [
        {"value": 3000, "unit": "soldiers"},
        {"low": 10000, "high": 12000, "unit": "troops", "qualifier": "as many as"},
    ],
)
def test_figure_is_a_value_or_a_range(values: dict) -> None:
    assert Figure(**values).unit


@pytest.mark.parametrize(
    "values",
    [
        {"value": 1, "low": 1, "high": 2, "unit": "troops"},
        {"low": 1, "unit": "troops"},
        {"low": 12000, "high": 10000, "unit": "troops"},
    ],
)
def test_figure_rejects_both_half_a_range_or_inverted(values: dict) -> None:
    with pytest.raises(ValidationError):
        Figure(**values)


def test_a_figure_without_a_number_has_no_bounds() -> None:
    figure = Figure(unit="protesters", qualifier="thousands; no number written")
    assert figure.value is None and figure.bounds() is None


def test_brief_schema_describes_actors_claims_uncertainties() -> None:
    schema = Brief.model_json_schema()
    for part in ("actors", "claims", "uncertainties", "rejected", "schema_version", "document", "run"):
        assert part in schema["properties"]
    claim = schema["$defs"]["Claim"]["properties"]
    assert {"claimant", "statement", "evidence", "cue", "status", "figures"} <= set(claim)
    assert schema["$defs"]["Span"]["required"] == ["quote", "start", "end", "match", "score"]


def test_extraction_schema_has_no_ids_or_offsets() -> None:
    text = json.dumps(Extraction.model_json_schema())
    for forbidden in ('"id"', '"start"', '"end"', "claim_ids"):
        assert forbidden not in text


def test_newer_major_schema_version_is_refused_with_a_clear_message() -> None:
    major = int(SCHEMA_VERSION.split(".")[0]) + 1
    with pytest.raises(ValidationError, match="upgrade summarizer"):
        Brief.model_validate({"schema_version": f"{major}.0"}, strict=False)


def test_repairs_for_items_bounds_count_and_claimants() -> None:
    model = Repairs.for_items([1, 2], ["John Kirby", "author"])
    schema = model.model_json_schema()
    assert schema["title"] == "Repairs"
    assert schema["properties"]["items"]["minItems"] == 2 == schema["properties"]["items"]["maxItems"]
    item_schema = json.dumps(schema["$defs"])
    assert "John Kirby" in item_schema and "author" in item_schema
    with pytest.raises(ValidationError):
        model.model_validate(
            {"items": [{"item": 1, "evidence": "x", "claimant": "Somebody Else"}, {"item": 2, "evidence": "y"}]}
        )
    with pytest.raises(ValidationError):
        model.model_validate({"items": [{"item": 1, "evidence": "x"}, {"item": 3, "evidence": "y"}]})
    ok = model.model_validate(
        {"items": [{"item": 1, "evidence": "x", "claimant": "John Kirby"}, {"item": 2, "evidence": "y"}]}
    )
    assert isinstance(ok.items[0], RepairedItem)


def test_repairs_validator_uses_the_context_check() -> None:
    from summarizer.models import VALIDATION_CONTEXT

    token = VALIDATION_CONTEXT.set(
        {"check": lambda item: [] if item.evidence == "good" else ["bad quote"], "expected": [1, 2]}
    )
    try:
        with pytest.raises(ValidationError, match="bad quote"):
            Repairs.model_validate({"items": [{"item": 1, "evidence": "nope"}, {"item": 2, "evidence": "good"}]})
        with pytest.raises(ValidationError, match="item 2: missing"):
            Repairs.model_validate({"items": [{"item": 1, "evidence": "good"}]})
        assert Repairs.model_validate({"items": [{"item": 1, "evidence": "good"}, {"item": 2, "evidence": "good"}]})
    finally:
        VALIDATION_CONTEXT.reset(token)
    # Without a context no document check runs.
    assert Repairs.model_validate({"items": [{"item": 1, "evidence": "nope"}]})


def test_bounded_extraction_caps_each_list_in_the_schema() -> None:
    from summarizer.models import Limits

    schema = Extraction.bounded(Limits(actors=3, claims=2, uncertainties=0)).model_json_schema()
    assert schema["title"] == "Extraction"
    assert schema["properties"]["actors"]["maxItems"] == 3
    assert schema["properties"]["claims"]["maxItems"] == 2
    assert schema["properties"]["uncertainties"]["maxItems"] == 0


def test_local_and_remote_limits_differ() -> None:
    from summarizer.settings import GUIDED_LIMITS, LOCAL_LIMITS, build_settings

    assert build_settings(provider="local", method="extract", environ={}).limits == LOCAL_LIMITS
    replay = build_settings(provider="replay", replay_dir=__import__("pathlib").Path("."), environ={})
    assert replay.limits == GUIDED_LIMITS and replay.extraction_method == "guided"  # the embedded default
    remote = build_settings(provider="openai", environ={"OPENAI_API_KEY": "k"})
    assert remote.profile == "capable" and remote.limits is None  # the caps follow each document
    from summarizer.sizing import document_limits

    assert document_limits("", remote).claims > LOCAL_LIMITS.claims
