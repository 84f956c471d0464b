"""Check hand-written reference answers (fixtures/strong/answers/*.json) against their documents.

Each answer file is what a careful strong model would return for the whole
document: ``{"document": "seeds/...txt", "summary", "actors", "claims",
"uncertainties"}`` with the field names of the extraction schema. This script
only checks the letter of an answer: valid JSON, known fields and enum values,
every evidence and uncertainty quote verbatim in the document, every actor name
(or an alias) in the document, every claimant a listed actor, "author" or
"unnamed source" (and every further claimant in ``also`` another listed actor),
every cue found in the document near its evidence, every claim's source (when
not null) verbatim in the document near its evidence: an occurrence ending at
most 400 characters before the evidence's sentence starts and starting at most
120 characters after the evidence ends.

Usage: python scripts/check_answers.py [fixtures/strong/answers/NAME.json ...]
(by default every answer but digest.json, the synthesis, which has no document)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ROOT / "fixtures" / "strong" / "answers"
ACTOR_KINDS = {"person", "organisation", "government", "military", "media", "other"}
STATUSES = {"asserted", "reported", "estimated", "hedged", "denied"}
UNCERTAINTY_KINDS = {"unconfirmed", "estimated", "disputed", "conflicting", "unknown"}
SPECIAL = {"author", "unnamed source"}
SENTENCE_END = re.compile(r"[.!?][\"'”’)]*\s+|\n")
SOURCE_BEFORE = 400  # characters a source may end before the evidence's sentence starts
SOURCE_AFTER = 120  # characters a source may start after the evidence ends


def sentence_start(text: str, where: int) -> int:
    """Where the sentence holding position ``where`` of ``text`` starts."""
    return max((m.end() for m in SENTENCE_END.finditer(text, 0, where) if m.end() <= where), default=0)


def source_near(text: str, source: str, where: int, end: int) -> bool:
    """Whether ``source`` occurs in ``text`` near the evidence at ``where``..``end``."""
    earliest = sentence_start(text, where) - SOURCE_BEFORE
    at = text.find(source)
    while 0 <= at <= end + SOURCE_AFTER:
        if at + len(source) >= earliest:
            return True
        at = text.find(source, at + 1)
    return False


def problems(path: Path) -> list[str]:
    answer = json.loads(path.read_text(encoding="utf-8"))
    text = (ROOT / answer["document"]).read_text(encoding="utf-8")
    found: list[str] = []
    extra = set(answer) - {"document", "summary", "actors", "claims", "uncertainties"}
    if extra:
        found.append(f"unknown top-level fields {sorted(extra)}")
    names = set()
    for number, actor in enumerate(answer["actors"], 1):
        if actor.get("kind") not in ACTOR_KINDS:
            found.append(f"actor {number}: kind {actor.get('kind')!r} not one of {sorted(ACTOR_KINDS)}")
        if not any(n in text for n in [actor["name"], *actor.get("aliases", [])]):
            found.append(f"actor {number}: neither {actor['name']!r} nor an alias is in the document")
        for alias in actor.get("aliases", []):
            if alias not in text:
                found.append(f"actor {number}: alias {alias!r} is not in the document")
        names |= {actor["name"], *actor.get("aliases", [])}
    for number, claim in enumerate(answer["claims"], 1):
        where = text.find(claim["evidence"])
        if where < 0:
            found.append(f"claim {number}: evidence not verbatim in the document: {claim['evidence'][:80]!r}")
        if claim["claimant"] not in names | SPECIAL:
            found.append(f"claim {number}: claimant {claim['claimant']!r} is not a listed actor name or alias")
        also = claim.get("also", [])
        if not isinstance(also, list) or any(name not in names or name == claim["claimant"] for name in also):
            found.append(f"claim {number}: also {also!r} is not a list of other listed actor names or aliases")
        if claim.get("status") not in STATUSES:
            found.append(f"claim {number}: status {claim.get('status')!r}")
        source = claim.get("source")
        if source is not None:
            if not isinstance(source, str) or not source:
                found.append(f"claim {number}: source {source!r} is not a non-empty string or null")
            elif source not in text:
                found.append(f"claim {number}: source {source!r} not verbatim in the document")
            elif where >= 0 and not source_near(text, source, where, where + len(claim["evidence"])):
                found.append(f"claim {number}: source {source!r} not within reach of its evidence")
        cue = claim.get("cue")
        if cue and cue not in text:
            found.append(f"claim {number}: cue {cue!r} not in the document")
        for figure in claim.get("figures", []):
            if figure.get("value") is None and (figure.get("low") is None or figure.get("high") is None):
                found.append(f"claim {number}: a figure needs value, or low and high")
    for number, item in enumerate(answer["uncertainties"], 1):
        if item["evidence"] not in text:
            found.append(f"uncertainty {number}: evidence not verbatim: {item['evidence'][:80]!r}")
        if item.get("kind") not in UNCERTAINTY_KINDS:
            found.append(f"uncertainty {number}: kind {item.get('kind')!r}")
    return found


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted(p for p in ANSWERS.glob("*.json") if p.name != "digest.json")
    failed = 0
    for path in paths:
        issues = problems(path)
        failed += bool(issues)
        print(f"{path.name}: {'ok' if not issues else f'{len(issues)} problem(s)'}")
        for issue in issues:
            print(f"  - {issue}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
