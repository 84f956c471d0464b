"""Every recorded fixture set replays to the same spans, labels and rejections.

``tests/data/spans.json`` holds, for every brief that the recorded fixtures
produce (extract, faults, long, daily, strong, strong long and cut), each
span's (start, end, match) and each rejection's kind and reason. It was written
by this module (``python -m tests.test_spans``) with the grounding code it
guards; a change to alignment, hints or thresholds that moves a single span, or
changes a repair request (whose hint is part of the recorded request, so the
replay would miss), fails here.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.documents import read_document
from summarizer.fixtures import Replayer
from summarizer.llm import LLM
from summarizer.models import Brief
from summarizer.pipeline import brief_document
from summarizer.settings import build_settings

from .conftest import FAULTS, FIXTURES, SEEDS, recorded_scenarios, source_of

GOLDEN = Path(__file__).parent / "data" / "spans.json"
STRONG = FIXTURES / "strong"
STRONG_MODEL = "gpt-4o-mini"
FAULT_SOURCES = {
    "fault-429-then-200": "flag",
    "fault-malformed-then-valid": "ie9",
    "fault-bad-quote-then-corrected": "imprisoned",
}


def summary(brief: dict[str, Any]) -> dict[str, Any]:
    """What grounding decided for one brief: every span and every rejection."""

    def span(raw: dict[str, Any] | None) -> list[Any] | None:
        return None if raw is None else [raw["start"], raw["end"], raw["match"], round(raw["score"], 2)]

    return {
        "actors": [span(a["mention"]) for a in brief["actors"]],
        "claims": [[span(c["evidence"]), span(c.get("cue"))] for c in brief["claims"]],
        "uncertainties": [span(u["evidence"]) for u in brief["uncertainties"]],
        "rejected": [[r["kind"], r["reason"]] for r in brief["rejected"]],
    }


def _replayed(folder: Path, source: Path, **overrides: Any) -> dict[str, Any]:
    settings = build_settings(provider="replay", replay_dir=folder, environ={}, **overrides)
    llm = LLM(settings)
    brief: Brief = asyncio.run(brief_document(read_document(str(source)), llm, settings))
    assert isinstance(llm.transport.inner, Replayer) and llm.transport.inner.unused() == []
    return summary(json.loads(brief.model_dump_json()))


def _day(out: Path, replay: Path, *extra: str) -> dict[str, Any]:
    # --no-history: also run as ``python -m tests.test_spans``, outside conftest's environment, and a replay
    # is no day of the user's
    command = ["daily", str(SEEDS), "--out", str(out), "--replay", str(replay), "-q", "--no-history", *extra]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    return {
        path.stem: summary(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted((out / "briefs").glob("*.json"))
    }


def replayed_spans(tmp: Path) -> dict[str, Any]:
    """Every fixture set replayed offline, summarised per brief."""
    found: dict[str, Any] = {}
    for scenario in recorded_scenarios():
        found[f"extract/{scenario.stem}"] = _replayed(scenario, source_of(scenario), method="extract")
    for fault, stem in FAULT_SOURCES.items():
        source = SEEDS / "wikinews" / f"{stem}.txt"
        found[f"faults/{fault}"] = _replayed(FAULTS / f"{fault}.jsonl", source, method="extract")
    long = FIXTURES / "long" / "wikinews-long.txt"
    found["long/wikinews-long"] = _replayed(FIXTURES / "long", long, n_ctx=4096, method="extract")
    long_strong = STRONG / "long" / "wikinews-4000.txt"
    found["strong-long/wikinews-4000"] = _replayed(STRONG / "long", long_strong, model=STRONG_MODEL)
    korea = SEEDS / "wikinews" / "korea.txt"
    found["strong-cut/korea"] = _replayed(STRONG / "cut", korea, model=STRONG_MODEL, max_tokens=800)
    for stem, brief in _day(tmp / "daily", FIXTURES / "daily").items():
        found[f"daily/{stem}"] = brief
    for stem, brief in _day(tmp / "strong", STRONG, "--model", STRONG_MODEL).items():
        found[f"strong/{stem}"] = brief
    return found


def test_every_fixture_set_replays_to_the_recorded_spans(tmp_path: Path) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    found = replayed_spans(tmp_path)
    assert sorted(found) == sorted(golden)
    for name in golden:
        assert found[name] == golden[name], name


@pytest.mark.parametrize("kind", ["fuzzy", "normalized"])
def test_the_golden_file_covers_every_match_kind(kind: str) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    text = json.dumps(golden)
    assert f'"{kind}"' in text


if __name__ == "__main__":  # python -m tests.test_spans: rewrite the golden file
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        spans = replayed_spans(Path(folder))
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(spans, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{GOLDEN}: {len(spans)} briefs", file=sys.stderr)
