"""Long documents: briefed in parts with global offsets; HTML pages reduced to their article text."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.documents import from_text, read_document
from summarizer.errors import ExitCode as Exit
from summarizer.models import Brief
from summarizer.pipeline import brief_document, chunk_budget
from summarizer.settings import build_settings

from .conftest import FIXTURES, SEEDS
from .support.fake_server import FakeServer, document
from .test_daily import DocumentFake

runner = CliRunner()
LONG = FIXTURES / "long" / "wikinews-long.txt"


def spans_hold(brief: Brief, text: str) -> None:
    for span in (
        [c.evidence for c in brief.claims]
        + [u.evidence for u in brief.uncertainties]
        + [a.mention for a in brief.actors]
        + [c.cue for c in brief.claims if c.cue]
    ):
        assert text[span.start : span.end] == span.quote


def test_a_long_document_is_briefed_in_parts_with_global_offsets() -> None:
    text = "\n\n".join(p.read_text() for p in sorted((SEEDS / "wikinews").glob("*.txt")))
    settings = build_settings(
        provider="openai",
        base_url="http://127.0.0.1:9/v1",
        environ={},
        context_tokens=4000,
        max_tokens=512,
        candidates=False,  # the parts' own answers only (candidates: tests/test_statements.py)
    )
    fake = DocumentFake()
    brief = asyncio.run(brief_document(from_text(text, "long.txt"), fake, settings))
    extractions = [call for call in fake.calls if call not in ("summary", "additions")]
    assert brief.document.parts > 5 and brief.document.parts == len(extractions) and fake.calls[-1] == "summary"
    # a continuation pass per part that left cue sentences uncovered; it added nothing, so no second one
    assert 0 < fake.calls.count("additions") <= brief.document.parts and brief.run.added == 0
    assert brief.run.passes == brief.document.parts + fake.calls.count("additions")
    spans_hold(brief, text)
    assert len(brief.claims) >= brief.document.parts - 1
    starts = [c.evidence.start for c in brief.claims]
    assert max(starts) > len(text) // 2  # claims come from the whole document, not only its start
    assert len({(c.evidence.start, c.evidence.end) for c in brief.claims}) == len(brief.claims)
    assert [c.id for c in brief.claims] == [f"C{i}" for i in range(1, len(brief.claims) + 1)]


def test_the_budget_leaves_room_for_prompt_schema_and_answer() -> None:
    local = build_settings(provider="local", method="extract", environ={})
    assert local.max_tokens is not None and 0 < chunk_budget(local) < local.n_ctx - local.max_tokens
    assert chunk_budget(build_settings(provider="openai", environ={"OPENAI_API_KEY": "k"})) > 100_000


def test_replayed_real_run_of_a_document_several_times_the_context() -> None:
    """fixtures/long: the embedded model writing every item (--method extract) with --n-ctx 4096, 13 parts,
    recorded by the project's record command."""
    replay = ["--replay", str(FIXTURES / "long"), "--method", "extract", "--n-ctx", "4096"]
    result = runner.invoke(app, ["brief", str(LONG), *replay])
    assert result.exit_code == Exit.OK, result.stderr
    brief = Brief.model_validate_json(result.stdout)
    text = LONG.read_text(encoding="utf-8")
    assert len(text) / 4 > 3 * 4096 * 0.9  # about three times the model's context, at ~4 characters a token
    assert brief.document.parts == 13
    spans_hold(brief, text)
    entries = [json.loads(line) for line in (FIXTURES / "long" / "wikinews-long.jsonl").read_text().splitlines()]
    tools = [e["request"]["body"]["tool_choice"]["function"]["name"] for e in entries]
    assert tools.count("Extraction") >= 13 and tools[-1] == "Summary"
    assert brief.run.attempts == len(entries)
    # the embedded default on the same document: every part's attributions by rule, no model call
    guided = runner.invoke(app, ["brief", str(LONG), "--replay", str(FIXTURES / "long"), "--n-ctx", "4096"])
    assert guided.exit_code == Exit.OK, guided.stderr
    made = Brief.model_validate_json(guided.stdout)
    # parts of ~24,000 characters whatever --n-ctx: no model reads them
    assert made.run.method == "guided" and made.run.attempts == 0 and made.document.parts == 3
    assert len(made.claims) > 100 and made.rejected == []
    spans_hold(made, text)


def test_an_html_page_is_reduced_to_its_article_and_checkable(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Programme update</title></head><body><nav>Home | About | Contact</nav>"
        f"<article><h1>Programme update</h1><p>{document(5)}</p></article>"
        "<footer>Copyright 2026</footer><script>var x = 1;</script></body></html>"
    )
    doc = read_document(str(page))
    assert doc.format == "html" and "Officials said the programme reached 15 sites" in doc.text
    assert "Contact" not in doc.text and "var x" not in doc.text
    out = tmp_path / "brief.json"
    with FakeServer(latency_s=0.0) as server:
        result = runner.invoke(
            app,
            ["brief", str(page), "--base-url", server.base_url, "-o", str(out), "-q"],
            env={"OPENAI_API_KEY": "sk-x"},
        )
    assert result.exit_code == 0, result.stderr
    brief = json.loads(out.read_text())
    assert brief["document"]["format"] == "html" and brief["document"]["source"] == str(page)
    saved = out.parent / brief["document"]["path"]  # recorded relative to the brief's folder
    assert brief["document"]["path"] == "brief.source.txt" and saved.read_text() == doc.text
    check = runner.invoke(app, ["check", str(out)])
    assert check.exit_code == 0, check.output
