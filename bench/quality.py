"""Quality benchmark: briefs scored against GUM's gold attributions and salient entities.

    python bench/quality.py                                   # replay each fixture set offline and score it
    python bench/quality.py --briefs out/day/ --label mine    # score briefs already written
    python bench/quality.py --per-document --json             # per-document rows; numbers as JSON

With no --briefs it runs, for each fixture set that has recordings ("embedded"
= fixtures/daily, "strong" = fixtures/strong), the project's own command
``summarizer daily seeds/ --out TMP --replay SET --force -q`` and scores
TMP/briefs/*.json. A "rules" baseline (no model: one claim per sentence that
carries a lexicon cue) is always scored too, so model runs have a floor.

Gold (seeds/wikinews/): ``attributions.jsonl`` (219 source/cue/content spans,
GUM eRST, CC BY 4.0) and ``meta.jsonl`` (salient entities). A brief is paired
with its gold by the basename of ``document.path``; briefs without gold (the
seed article) count for span exactness only.

Measures and matching rules (the pure functions below; tests/test_quality.py):

* match: a claim matches a gold attribution when its evidence overlaps the
  gold content or the gold cue, or its cue overlaps the gold cue (character
  offsets, half-open intervals). The gold keeps GUM's segment boundaries, so
  overlap, not equality, is the fair test.
* attribution recall: gold attributions matched by at least one claim.
* claim precision: claims that match at least one gold attribution.
* claimant agreement: over matched gold attributions whose source is a name,
  the share where some matching claim's claimant (or the name and aliases of
  the actor its claimant_id points to) shares a content word with the source.
  A source is a name when one of its words is a *name word*: capitalised, not
  a pronoun, determiner or title, and either an acronym ("WHO", "KCNA") or a
  word whose lower-case form never occurs in the article (so a sentence-initial
  "Officials" or "The report" is not a name, "Wilkins" is). Claimants
  "author" and "unnamed source" never agree with a named source.
* actor recall: gold actors are salient persons, organizations and places
  (salience >= 3); one is found when a brief actor's name or alias shares a
  content word with the capitalised words of its first mention ("Trump 's").
* span exactness: kept spans (actor mentions, claim evidence and cues,
  uncertainty evidence) with text[start:end] == quote, and with match "exact".
* completion tokens per matched attribution (gold documents only).

The rules baseline's actors are its distinct claimants (it has no other notion
of an actor), and it spends no tokens.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer.cues import cue_lexicon, find_cues  # noqa: E402
from summarizer.grounding import sentences  # noqa: E402
from summarizer.models import Brief  # noqa: E402

GOLD_DIR = ROOT / "seeds" / "wikinews"
# Each set: its fixtures and the options it was recorded with (the request bodies depend on the model).
FIXTURE_SETS = {
    "embedded": (ROOT / "fixtures" / "daily", []),
    "strong": (ROOT / "fixtures" / "strong", ["--model", "gpt-4o-mini"]),
}
ACTOR_TYPES = frozenset({"person", "organization", "place"})
MIN_SALIENCE = 3
SPECIAL_CLAIMANTS = frozenset({"author", "unnamed source"})

PRONOUNS = frozenset(
    [
        "i",
        "me",
        "my",
        "mine",
        "myself",
        "we",
        "us",
        "our",
        "ours",
        "ourselves",
        "you",
        "your",
        "yours",
        "he",
        "him",
        "his",
        "himself",
        "she",
        "her",
        "hers",
        "herself",
        "it",
        "its",
        "itself",
        "they",
        "them",
        "their",
        "theirs",
        "themselves",
        "someone",
        "somebody",
        "anyone",
        "anybody",
        "everyone",
        "everybody",
        "nobody",
        "one",
        "who",
        "whom",
        "whose",
    ]
)
STOPWORDS = PRONOUNS | frozenset(
    [
        "the",
        "a",
        "an",
        "this",
        "that",
        "these",
        "those",
        "some",
        "any",
        "all",
        "each",
        "other",
        "such",
        "and",
        "or",
        "but",
        "nor",
        "of",
        "to",
        "for",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "as",
        "into",
        "about",
        "over",
        "under",
        "after",
        "before",
        "than",
        "so",
        "not",
        "no",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "also",
        "according",
    ]
)
TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "prof",
        "professor",
        "president",
        "vice",
        "prime",
        "minister",
        "secretary",
        "senator",
        "governor",
        "ambassador",
        "general",
        "major",
        "colonel",
        "captain",
        "sir",
        "dame",
        "lord",
        "lady",
        "chief",
        "director",
        "spokesperson",
        "spokesman",
        "spokeswoman",
        "ceo",
        "chairman",
        "chairwoman",
        "chair",
        "administrator",
        "emeritus",
        "senior",
        "junior",
        "deputy",
        "undersecretary",
        "mayor",
        "king",
        "queen",
        "prince",
        "princess",
        "judge",
        "justice",
        "rev",
        "reverend",
        "st",
        "saint",
    ]
)
_TOKEN = re.compile(r"[^\W_](?:[\w.'\u2019-]*[^\W_])?")


# --------------------------------------------------------------------------
# Lightweight inputs: what scoring needs of a brief and of the gold
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A character span [start, end) and what a brief says it holds."""

    start: int
    end: int
    quote: str = ""
    match: str = "exact"


@dataclass(frozen=True)
class Claim:
    """A claim as scoring sees it: ``names`` are the resolved actor's name and aliases."""

    evidence: Span
    claimant: str
    cue: Span | None = None
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocBrief:
    """One brief reduced to what is scored, with the source text its offsets point into."""

    file: str
    text: str
    claims: tuple[Claim, ...] = ()
    actors: tuple[tuple[str, ...], ...] = ()  # per actor: name, then aliases
    spans: tuple[Span, ...] = ()  # every kept span, for exactness
    completion_tokens: int = 0


@dataclass(frozen=True)
class GoldAttribution:
    source: str | None
    cue: Span | None
    content: Span | None


@dataclass(frozen=True)
class GoldDoc:
    file: str
    attributions: tuple[GoldAttribution, ...]
    actors: tuple[str, ...]  # first mentions, tokenised as GUM writes them


@dataclass
class DocScore:
    """Counts for one document; rates are computed only after summing, so documents weigh by size."""

    file: str
    has_gold: bool = False
    claims: int = 0
    claims_matched: int = 0
    gold: int = 0
    gold_matched: int = 0
    named: int = 0
    named_agree: int = 0
    actors: int = 0
    actors_matched: int = 0
    spans: int = 0
    spans_hold: int = 0
    spans_exact: int = 0
    completion_tokens: int = 0


@dataclass
class SetScore:
    """A scored set of briefs: its label, where they came from, and per-document counts."""

    label: str
    origin: str
    documents: list[DocScore] = field(default_factory=list)
    failed: int = 0
    note: str | None = None


# --------------------------------------------------------------------------
# Words: tokenising names the same way on both sides
# --------------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    """Words with internal dots, hyphens and apostrophes kept ("U.S.", "al-Amr", "Trump's")."""
    return _TOKEN.findall(text)


def norm_word(word: str) -> str:
    """Lower case, possessive 's and dots dropped: "Trump's" and "Trump 's" -> "trump", "U.S." -> "us"."""
    word = word.lower().replace("\u2019", "'")
    if word.endswith("'s"):
        word = word[:-2]
    return word.replace(".", "").strip("'-")


def is_acronym(token: str) -> bool:
    """Two capitals or more ("WHO", "U.S.", "KCNA"): a name even where its letters spell a function word."""
    return sum(char.isupper() for char in token) >= 2


def key_word(token: str) -> str | None:
    """The normalised word if it can identify a name: stopwords, pronouns and titles ("Mr", "President") cannot."""
    word = norm_word(token)
    if not word or word in TITLES or (word in STOPWORDS and not is_acronym(token)):
        return None
    return word


def content_words(text: str) -> set[str]:
    """The words of a name or source that can identify it, normalised for comparison."""
    return {word for word in map(key_word, tokens(text)) if word}


def lowercase_words(text: str) -> frozenset[str]:
    """Words the article writes in lower case: a capitalised word among them is capitalised by position only."""
    return frozenset(norm_word(token) for token in tokens(text) if token[0].islower())


def is_name_word(token: str, lower: frozenset[str]) -> bool:
    """Capitalised, not a function word or title, and an acronym or a word the article never writes in lower case."""
    word = key_word(token)
    return token[0].isupper() and word is not None and (is_acronym(token) or word not in lower)


def is_name_source(source: str | None, lower: frozenset[str]) -> bool:
    """A gold source names someone (see module docstring); pronouns and generic phrases do not."""
    return source is not None and any(is_name_word(token, lower) for token in tokens(source))


def capitalised_words(text: str) -> set[str]:
    """Content words of a tokenised GUM mention that are written with a capital ("all - girl Afghan team" -> afghan)."""
    return {word for word in (key_word(token) for token in tokens(text) if token[0].isupper()) if word}


# --------------------------------------------------------------------------
# Matching rules (pure)
# --------------------------------------------------------------------------


def overlaps(a: Span | None, b: Span | None) -> bool:
    """Half-open intervals share at least one character; a missing span overlaps nothing."""
    return a is not None and b is not None and a.start < b.end and b.start < a.end


def claim_matches(claim: Claim, gold: GoldAttribution) -> bool:
    """Evidence on the gold content or cue, or the claim's cue on the gold cue."""
    return overlaps(claim.evidence, gold.content) or overlaps(claim.evidence, gold.cue) or overlaps(claim.cue, gold.cue)


def match_pairs(claims: tuple[Claim, ...], golds: tuple[GoldAttribution, ...]) -> list[tuple[int, int]]:
    """Every (claim index, gold index) that matches; both recall and precision are read off it."""
    return [(c, g) for c, claim in enumerate(claims) for g, gold in enumerate(golds) if claim_matches(claim, gold)]


def claimant_agrees(claim: Claim, source: str) -> bool:
    """The claimant or its actor's names share a content word with the gold source; author/unnamed never do."""
    if claim.claimant.strip().lower() in SPECIAL_CLAIMANTS:
        return False
    names = set().union(*(content_words(name) for name in (claim.claimant, *claim.names)))
    return bool(names & content_words(source))


def actor_found(first_mention: str, actors: tuple[tuple[str, ...], ...]) -> bool:
    """Some brief actor's name or alias shares a word with the capitalised words of the gold mention."""
    gold = capitalised_words(first_mention)
    return any(gold & content_words(name) for names in actors for name in names)


# --------------------------------------------------------------------------
# Measures (pure)
# --------------------------------------------------------------------------


def score_claims(brief: DocBrief, gold: GoldDoc, score: DocScore) -> None:
    """Recall, precision and claimant agreement counts of one document."""
    pairs = match_pairs(brief.claims, gold.attributions)
    lower = lowercase_words(brief.text)
    score.claims, score.gold = len(brief.claims), len(gold.attributions)
    score.claims_matched = len({c for c, _ in pairs})
    score.gold_matched = len({g for _, g in pairs})
    for g, attribution in enumerate(gold.attributions):
        matching = [brief.claims[c] for c, gg in pairs if gg == g]
        if matching and is_name_source(attribution.source, lower):
            score.named += 1
            score.named_agree += any(claimant_agrees(claim, attribution.source or "") for claim in matching)


def score_spans(brief: DocBrief, score: DocScore) -> None:
    """Kept spans that hold their quote in the source, and those the program found verbatim."""
    score.spans = len(brief.spans)
    score.spans_hold = sum(brief.text[s.start : s.end] == s.quote for s in brief.spans)
    score.spans_exact = sum(s.match == "exact" for s in brief.spans)


def score_document(brief: DocBrief, gold: GoldDoc | None) -> DocScore:
    """All counts of one brief; without gold only its spans are scored."""
    score = DocScore(file=brief.file, has_gold=gold is not None)
    score_spans(brief, score)
    if gold is None:
        return score
    score_claims(brief, gold, score)
    score.actors = len(gold.actors)
    score.actors_matched = sum(actor_found(mention, brief.actors) for mention in gold.actors)
    score.completion_tokens = brief.completion_tokens
    return score


def rate(part: int, whole: int) -> float | None:
    """A share, or None when there is nothing to share (printed as n/a, not as a misleading 0)."""
    return part / whole if whole else None


def measures(scores: list[DocScore]) -> dict[str, Any]:
    """Rates and their counts over documents summed (micro-averaged)."""
    total = {
        name: sum(getattr(s, name) for s in scores)
        for name in DocScore.__dataclass_fields__
        if name not in ("file", "has_gold")
    }
    gold_docs = sum(s.has_gold for s in scores)
    return {
        "documents": len(scores),
        "documents_with_gold": gold_docs,
        "claims": total["claims"],
        "attribution_recall": _measure(total["gold_matched"], total["gold"]),
        "claim_precision": _measure(total["claims_matched"], total["claims"]),
        "claimant_agreement": _measure(total["named_agree"], total["named"]),
        "actor_recall": _measure(total["actors_matched"], total["actors"]),
        "span_holds_quote": _measure(total["spans_hold"], total["spans"]),
        "span_match_exact": _measure(total["spans_exact"], total["spans"]),
        "completion_tokens": total["completion_tokens"],
        "completion_tokens_per_matched": rate(total["completion_tokens"], total["gold_matched"]),
    }


def _measure(part: int, whole: int) -> dict[str, Any]:
    return {"rate": rate(part, whole), "n": part, "of": whole}


# --------------------------------------------------------------------------
# Rules baseline (pure): no model
# --------------------------------------------------------------------------


def first_name(sentence: str, lower: frozenset[str]) -> str | None:
    """The first run of capitalised words that starts with a name word ("Afghan Ambassador Hamdullah Mohib")."""
    words = tokens(sentence)
    for index, token in enumerate(words):
        if is_name_word(token, lower):
            run = [token]
            for following in words[index + 1 :]:
                if not following[0].isupper():
                    break
                run.append(following)
            return " ".join(run)
    return None


def rules_brief(file: str, text: str, cues: list[str]) -> DocBrief:
    """One claim per sentence that carries a lexicon cue; its claimant is the first name in it."""
    lower = lowercase_words(text)
    claims = []
    for start, end in sentences(text):
        sentence = text[start:end]
        if find_cues(sentence, cues):
            claimant = first_name(sentence, lower) or "unnamed source"
            claims.append(Claim(evidence=Span(start, end, sentence), claimant=claimant))
    actors = tuple(dict.fromkeys((c.claimant,) for c in claims if c.claimant != "unnamed source"))
    return DocBrief(file=file, text=text, claims=tuple(claims), actors=actors, spans=tuple(c.evidence for c in claims))


# --------------------------------------------------------------------------
# I/O: gold, briefs, the daily command, output
# --------------------------------------------------------------------------


def _span(raw: dict[str, Any] | None) -> Span | None:
    return None if raw is None else Span(raw["start"], raw["end"], raw.get("text", ""))


def load_gold(folder: Path = GOLD_DIR) -> dict[str, GoldDoc]:
    """Gold per article file name, from attributions.jsonl and meta.jsonl."""
    actors = {
        row["file"]: tuple(
            e["first_mention"]
            for e in row["salient_entities"]
            if e["gum_type"] in ACTOR_TYPES and e["salience"] >= MIN_SALIENCE
        )
        for row in _jsonl(folder / "meta.jsonl")
    }
    gold = {}
    for row in _jsonl(folder / "attributions.jsonl"):
        attributions = tuple(
            GoldAttribution(a["source"]["text"] if a["source"] else None, _span(a["cue"]), _span(a["content"]))
            for a in row["attributions"]
        )
        gold[row["file"]] = GoldDoc(row["file"], attributions, actors.get(row["file"], ()))
    return gold


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def source_text(brief: Brief, folder: Path) -> str | None:
    """The text the brief's offsets point into: its document.path, tried from here, the project and the folder.

    Only a text whose sha256 is the brief's document id is accepted, so offsets are never scored against
    a different version of the article.
    """
    path = Path(brief.document.path or "")
    candidates = [path, ROOT / path, folder / path, folder.parent / path, GOLD_DIR / path.name]
    for candidate in candidates:
        if path.name and candidate.is_file():
            text = candidate.read_text(encoding="utf-8")
            if hashlib.sha256(text.encode("utf-8")).hexdigest() == brief.document.id:
                return text
    return None


def to_doc_brief(brief: Brief, text: str) -> DocBrief:
    """The scored view of a Brief: claims with their actor's names, every kept span, completion tokens."""
    actors = {a.id: (a.name, *a.aliases) for a in brief.actors}
    claims = tuple(
        Claim(
            evidence=_kept(c.evidence),
            claimant=c.claimant,
            cue=_kept(c.cue) if c.cue else None,
            names=actors.get(c.claimant_id or "", ()),
        )
        for c in brief.claims
    )
    spans = [a.mention for a in brief.actors] + [c.evidence for c in brief.claims]
    spans += [c.cue for c in brief.claims if c.cue] + [u.evidence for u in brief.uncertainties]
    return DocBrief(
        file=Path(brief.document.path or "").name,
        text=text,
        claims=claims,
        actors=tuple(actors.values()),
        spans=tuple(_kept(s) for s in spans),
        completion_tokens=brief.run.usage.completion_tokens,
    )


def _kept(span: Any) -> Span:
    return Span(span.start, span.end, span.quote, span.match)


def load_brief(path: Path) -> Brief | str | None:
    """The brief in ``path``; None for the daily's other JSON (manifest, digest); a warning if unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "claims" not in data:
            return None
        return Brief.model_validate(data)
    except ValueError as error:  # not JSON, or not a valid brief (pydantic's error is a ValueError)
        return f"{path.name}: not a valid brief ({str(error).splitlines()[0]})"


def read_briefs(folder: Path) -> tuple[list[DocBrief], list[str]]:
    """Briefs in a daily --out folder, its briefs/ subfolder or any folder of brief JSON; and warnings."""
    if (folder / "briefs").is_dir():
        folder = folder / "briefs"
    briefs, warnings = [], []
    for path in sorted(folder.glob("*.json")):
        brief = load_brief(path)
        text = source_text(brief, folder) if isinstance(brief, Brief) else None
        if isinstance(brief, str):
            warnings.append(brief)
        elif isinstance(brief, Brief) and text is None:
            warnings.append(f"{path.name}: source text not found or changed (document.path {brief.document.path})")
        elif isinstance(brief, Brief) and text is not None:
            briefs.append(to_doc_brief(brief, text))
    return briefs, warnings


def failed_documents(folder: Path) -> int:
    """Manifest entries with status failed (a daily run still writes the other briefs)."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return 0
    entries = json.loads(manifest.read_text(encoding="utf-8")).get("entries", [])
    return sum(entry.get("status") == "failed" for entry in entries)


def summarizer_command() -> list[str]:
    """The summarizer installed beside this Python, else the package run as a module."""
    executable = Path(sys.executable).parent / "summarizer"
    return [str(executable)] if executable.is_file() else [sys.executable, "-m", "summarizer"]


def run_daily(
    fixtures: Path, out: Path, inputs: list[str] | None = None, options: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The project's own daily command over the seeds, replayed offline; a non-zero exit is left to the caller."""
    command = [
        *summarizer_command(),
        "daily",
        *(inputs or ["seeds/"]),
        "--out",
        str(out),
        "--replay",
        str(fixtures),
        "--force",
        "-q",
        *(options or []),
    ]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def gold_for(brief: DocBrief, gold: dict[str, GoldDoc]) -> GoldDoc | None:
    """The gold of the brief's file name, only if the brief was made from the very text the gold annotates."""
    annotated = GOLD_DIR / brief.file
    if brief.file not in gold or not annotated.is_file():
        return None
    return gold[brief.file] if annotated.read_text(encoding="utf-8") == brief.text else None


def score_folder(folder: Path, gold: dict[str, GoldDoc], label: str, origin: str) -> SetScore:
    """Score every brief in ``folder`` against its gold (by source file name)."""
    briefs, warnings = read_briefs(folder)
    result = SetScore(
        label, origin, [score_document(b, gold_for(b, gold)) for b in briefs], failed=failed_documents(folder)
    )
    result.note = "; ".join(warnings) or None
    return result


def score_fixture_set(
    label: str, fixtures: Path, gold: dict[str, GoldDoc], options: list[str] | None = None
) -> SetScore:
    """Replay one fixture set through `summarizer daily` and score what it wrote (skipped if not recorded)."""
    origin = str(fixtures.relative_to(ROOT)) if fixtures.is_relative_to(ROOT) else str(fixtures)
    if not any(fixtures.glob("*.jsonl")):
        return SetScore(label, origin, note=f"skipped: {origin} has no *.jsonl fixtures")
    with tempfile.TemporaryDirectory(prefix="quality-") as tmp:
        process = run_daily(fixtures, Path(tmp), options=options)
        result = score_folder(Path(tmp), gold, label, origin)
    if process.returncode != 0:
        tail = [line.split("; digest:")[0] for line in process.stderr.strip().splitlines()[-1:]] or ["no message"]
        result.note = "; ".join(filter(None, [result.note, f"daily exited {process.returncode}: {tail[0]}"]))
    return result


def score_rules(gold: dict[str, GoldDoc]) -> SetScore:
    """The no-model baseline over every gold article."""
    cues = cue_lexicon()
    briefs = [rules_brief(name, (GOLD_DIR / name).read_text(encoding="utf-8"), cues) for name in sorted(gold)]
    return SetScore(
        "rules", "no model: one claim per cue sentence", [score_document(brief, gold[brief.file]) for brief in briefs]
    )


def _fmt(measure: dict[str, Any]) -> tuple[str, str]:
    value = "n/a" if measure["rate"] is None else f"{measure['rate']:.3f}"
    return value, f"{measure['n']}/{measure['of']}"


def table_rows(result: SetScore) -> list[tuple[str, str, str]]:
    """Measure, value, count for one set."""
    m = measures(result.documents)
    per_matched = m["completion_tokens_per_matched"]
    return [
        ("documents", str(m["documents"]), f"{m['documents_with_gold']} with gold, {result.failed} failed"),
        ("claims", str(m["claims"]), ""),
        ("attribution recall (gold matched)", *_fmt(m["attribution_recall"])),
        ("claim precision", *_fmt(m["claim_precision"])),
        ("claimant agreement (named sources)", *_fmt(m["claimant_agreement"])),
        ("actor recall", *_fmt(m["actor_recall"])),
        ("spans: text[start:end] == quote", *_fmt(m["span_holds_quote"])),
        ("spans: match == exact", *_fmt(m["span_match_exact"])),
        (
            "completion tokens / matched attribution",
            "n/a" if per_matched is None else f"{per_matched:.1f}",
            f"{m['completion_tokens']} tokens",
        ),
    ]


def render_table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Plain text, columns padded to their widest cell (first column left, the rest right-aligned)."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [title]
    for row in [header, *rows]:
        cells = [cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  " + "  ".join(cells).rstrip())
    return "\n".join(lines)


def document_rows(result: SetScore) -> list[tuple[str, ...]]:
    """One row per document with gold: its claims and the rates that depend on the gold."""
    rows = []
    for doc in sorted((d for d in result.documents if d.has_gold), key=lambda d: d.file):
        m = measures([doc])
        rows.append(
            (
                doc.file,
                str(doc.claims),
                *(
                    _fmt(m[k])[0]
                    for k in (
                        "attribution_recall",
                        "claim_precision",
                        "claimant_agreement",
                        "actor_recall",
                        "span_holds_quote",
                    )
                ),
            )
        )
    return rows


def render(result: SetScore, per_document: bool) -> str:
    """The set's table, its note, and with --per-document its documents."""
    if not result.documents:
        return f"{result.label} ({result.origin}): {result.note or 'no briefs'}"
    text = render_table(f"{result.label} ({result.origin})", ("measure", "value", "count"), table_rows(result))
    if result.note:
        text += f"\n  note: {result.note}"
    if per_document:
        header = ("document", "claims", "recall", "precision", "claimant", "actors", "spans ok")
        text += "\n" + render_table("  per document", header, document_rows(result))
    return text


def as_json(result: SetScore, per_document: bool) -> dict[str, Any]:
    data = {
        "label": result.label,
        "origin": result.origin,
        "failed": result.failed,
        "note": result.note,
        "skipped": not result.documents,
        "measures": measures(result.documents),
    }
    if per_document:
        data["per_document"] = {d.file: measures([d]) for d in result.documents if d.has_gold}
    return data


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--briefs", type=Path, help="score this folder of briefs instead of replaying the fixture sets")
    parser.add_argument("--label", help="name of the --briefs set (default: the folder name)")
    parser.add_argument("--per-document", action="store_true", help="also one row per document")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    gold = load_gold()
    if args.briefs:
        if not args.briefs.is_dir():
            print(f"no such folder: {args.briefs}", file=sys.stderr)
            return 2
        results = [score_folder(args.briefs, gold, args.label or args.briefs.resolve().name, str(args.briefs))]
    else:
        results = [score_fixture_set(label, path, gold, options) for label, (path, options) in FIXTURE_SETS.items()]
    results.append(score_rules(gold))
    wall = time.perf_counter() - started
    if args.json:
        print(
            json.dumps({"sets": [as_json(r, args.per_document) for r in results], "wall_s": round(wall, 2)}, indent=2)
        )
    else:
        print("\n\n".join(render(r, args.per_document) for r in results))
        print(f"\nwall time: {wall:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
