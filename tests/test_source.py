"""The source as a grounded span: who said it, in the document's own words (``Claim.source``).

Short constructed sentences of the shapes the issue names: an anonymous official,
"according to the report", a pronoun whose name is a sentence back; the capable
path's source words grounded nearest the claim; old briefs read with no source;
the pages, review, the digest and ``check`` show and verify it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.documents import from_text
from summarizer.models import UNNAMED_SOURCE, Brief, Usage
from summarizer.pipeline import brief_document
from summarizer.render import to_html, to_markdown
from summarizer.settings import build_settings
from summarizer.structured import CallStats, NoModel, StructuredLLM

runner = CliRunner()

OFFICIAL = (
    "The army moved troops to the border on Friday. "
    "The move was planned weeks ago, an official familiar with the matter said Sunday."
)
REPORT = (
    "The Federal Reserve published its Beige Book on Wednesday. "
    "Growth slowed in most districts, according to the report."
)
KIRBY = "John Kirby spoke to reporters on Monday. He said the troops had suffered heavy losses in the fighting."


def rules_brief(text: str) -> Brief:
    return asyncio.run(brief_document(from_text(text, path="doc.txt"), NoModel(), build_settings(environ={})))


def only_claim(brief: Brief, words: str) -> Any:
    found = [c for c in brief.claims if words in c.evidence.quote]
    assert len(found) == 1, [c.evidence.quote for c in brief.claims]
    return found[0]


def test_an_anonymous_official_keeps_the_description_and_resolves_to_unnamed_source() -> None:
    brief = rules_brief(OFFICIAL)
    claim = only_claim(brief, "planned weeks ago")
    assert claim.claimant == UNNAMED_SOURCE
    assert claim.source is not None and claim.source.quote == "an official familiar with the matter"
    assert OFFICIAL[claim.source.start : claim.source.end] == claim.source.quote


def test_according_to_the_report_gives_the_report_as_written_resolved_to_an_actor() -> None:
    brief = rules_brief(REPORT)
    claim = only_claim(brief, "Growth slowed")
    assert claim.source is not None and claim.source.quote == "the report"
    assert REPORT[claim.source.start : claim.source.end] == "the report"
    assert claim.claimant_id is not None  # resolved to a listed actor, not left as words


def test_a_pronoun_is_the_span_and_the_person_named_before_is_the_claimant() -> None:
    brief = rules_brief(KIRBY)
    claim = only_claim(brief, "heavy losses")
    assert claim.claimant == "John Kirby"
    assert claim.source is not None and claim.source.quote == "He"
    assert claim.source.start == KIRBY.index("He said")


class SourceModel(StructuredLLM):
    """A capable model's answer with source words: one as written near the claim, one nowhere in the text,
    one a pronoun the document writes twice (the one nearest the claim is the source)."""

    async def extract(
        self, response_model: Any, prompt: Any, *, reasks: int, context: Any = None, max_tokens: int | None = None
    ) -> tuple[Any, CallStats]:
        stats = CallStats(usage=Usage(prompt_tokens=10, completion_tokens=10, total_tokens=20), attempts=1)
        if response_model.__name__ != "Extraction":
            return response_model.model_validate({"actors": [], "claims": [], "uncertainties": []}), stats
        claim = {"status": "reported", "statement": "A statement.", "cue": "said"}
        answer = {
            "summary": "Troops moved.",
            "actors": [{"name": "John Kirby", "kind": "person", "role": "spokesman"}],
            "claims": [
                {
                    **claim,
                    "claimant": "unnamed source",
                    "evidence": "The move was planned weeks ago",
                    "source": "an official familiar with the matter",
                },
                {**claim, "claimant": "John Kirby", "evidence": "the troops had suffered heavy losses", "source": "He"},
                {
                    **claim,
                    "claimant": "unnamed source",
                    "evidence": "The army moved troops to the border",
                    "source": "a diplomat in Seoul",
                },
            ],
            "uncertainties": [],
        }
        return response_model.model_validate(answer), stats


def test_a_capable_models_source_words_are_grounded_nearest_the_claim_or_rejected() -> None:
    text = f"He arrived late. {OFFICIAL} John Kirby spoke on Monday. He said the troops had suffered heavy losses."
    settings = build_settings(provider="openai", base_url="http://127.0.0.1:9/v1", environ={"OPENAI_API_KEY": "x"})
    brief = asyncio.run(brief_document(from_text(text, path="doc.txt"), SourceModel(), settings))
    official = only_claim(brief, "planned weeks ago")
    assert official.source is not None and official.source.quote == "an official familiar with the matter"
    kirby = only_claim(brief, "heavy losses")
    assert kirby.source is not None and kirby.source.start == text.index("He said")  # not the first "He"
    moved = only_claim(brief, "moved troops")
    assert moved.source is None  # words not in the document: the claim is kept without them
    assert [r.item["source"] for r in brief.rejected if r.kind == "source"] == ["a diplomat in Seoul"]


def test_the_capable_request_asks_for_the_source_and_the_embedded_one_keeps_its_schema() -> None:
    from summarizer.models import DEFAULT_NAME_CHARS, DEFAULT_QUOTE_CHARS, draft_models

    _, capable, _ = draft_models(1000, 120)
    _, embedded, _ = draft_models(DEFAULT_QUOTE_CHARS, DEFAULT_NAME_CHARS)
    assert "source" in capable.model_json_schema()["properties"]
    assert "source" not in embedded.model_json_schema()["properties"]


def test_a_brief_written_before_the_field_reads_with_no_source(tmp_path: Path) -> None:
    data = json.loads(rules_brief(OFFICIAL).model_dump_json())
    data["schema_version"] = "1.5"
    for claim in data["claims"]:
        del claim["source"]
    old = Brief.model_validate(data)
    assert all(claim.source is None for claim in old.claims)


def test_pages_review_and_check_show_and_verify_the_source(tmp_path: Path) -> None:
    source = tmp_path / "doc.txt"
    source.write_text(OFFICIAL + "\n", encoding="utf-8")
    saved = tmp_path / "doc.json"
    assert runner.invoke(app, ["brief", str(source), "-o", str(saved), "-q"]).exit_code == 0
    brief = Brief.model_validate_json(saved.read_text(encoding="utf-8"))
    assert "unnamed source — *an official familiar with the matter*" in to_markdown(brief)
    page = to_html(brief, source.read_text(encoding="utf-8"))
    assert '<mark class="claim source" data-ids="C1">an official familiar with the matter</mark>' in page
    review = runner.invoke(app, ["review", str(saved)])
    assert "unnamed source — an official familiar with the matter" in review.output
    checked = runner.invoke(app, ["check", str(saved)])
    assert checked.exit_code == 0, checked.output
    data = json.loads(saved.read_text(encoding="utf-8"))
    data["claims"][0]["source"]["start"] += 1  # the span no longer holds its words
    data["claims"][0]["source"]["end"] += 1
    saved.write_text(json.dumps(data), encoding="utf-8")
    failed = runner.invoke(app, ["check", str(saved)])
    assert failed.exit_code != 0 and "C1.source" in failed.output


def test_the_digest_shows_the_source_beside_the_claimant(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text(OFFICIAL + "\n", encoding="utf-8")
    (inbox / "b.txt").write_text(KIRBY + "\n", encoding="utf-8")
    day = tmp_path / "day"
    done = runner.invoke(app, ["daily", str(inbox), "--out", str(day), "-q"])
    assert done.exit_code == 0, done.output
    digest = (day / "digest.md").read_text(encoding="utf-8")
    assert "— *an official familiar with the matter*" in digest
    assert "— *He*" in digest
