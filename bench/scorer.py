"""An independent scorer: briefs (plain JSON) against the Wikinews gold, by rules of its own.

It imports nothing from ``summarizer`` and shares no word list with it: a brief is
read as the JSON a run wrote (dicts, not the package's models), and every rule
below, with its word lists, is this module's own. docs/quality.md states them for
readers; tests/test_quality.py pins them on hand-made spans.

Gold (``seeds/wikinews/``): ``attributions.jsonl`` (219 source/cue/content spans,
GUM eRST, CC BY 4.0) and ``meta.jsonl`` (salient entities). A brief is paired with
its gold by the basename of ``document.path``, and only if its text is the very
text the gold annotates; briefs without gold (the seed article) count for span
exactness only.

Words. A text's tokens are its runs of letters and digits, dots and apostrophes
inside a run kept ("U.S.", "CBC.ca", "O'Neil"), hyphens splitting ("al-Amr" is
"al", "Amr"). A token is compared *normalised*: accents dropped, lower case, a
possessive "'s" dropped (GUM's detached "Trump 's" as well), dots and apostrophes
dropped ("U.S." -> "us"). Four word lists of this module: ``PRONOUNS``,
``FUNCTION_WORDS`` (determiners, quantifiers, prepositions, conjunctions),
``GENERIC_WORDS`` (nouns and adjectives that describe a source without naming
it: "officials", "reports", "researchers", "recent") and ``TITLES`` (offices,
honorifics and roles: "Mr", "Professor", "Minister", "spokeswoman", "coach").

* distinctive words of a name: its normalised tokens not in any of the four lists
  ("Professor John Burrows" -> john, burrows; "the Afghan team's coach" -> afghan, team).
* name token: a token not in ``TITLES`` that is either an acronym (two capitals or
  more: "WHO", "U.S.", "KCNA") or capitalised and not in the other three lists
  ("Wilkins", "Microsoft"; not "He", "The", "Officials", "Reports", "Professor").
* named gold source: a source span with at least one name token; an *unnamed* gold
  source names no one: no source, or pronouns and descriptions only ("he", "We",
  "The report", "Officials", "researchers", "a teacher").

Measures (counts summed over documents, then divided: documents weigh by size):

* match: a claim matches a gold attribution when its evidence overlaps the gold
  content or the gold cue, or its cue overlaps the gold cue (character offsets,
  half-open). The gold keeps GUM's segment boundaries, so overlap, not equality.
* attribution recall: gold attributions matched by at least one claim.
* claim precision: claims that match at least one gold attribution.
* attributed-claim precision: the same over the claims given to a source, not to
  "author": the gold annotates attribution, so the author's own statements ("the
  article makes it in its own voice") are outside what it can match. Reported
  beside claim precision, never instead of it.
* claimant agreement, strict: over matched gold attributions with a named source,
  the share where some matching claim names it: the claimant, or the name or an
  alias of the actor its ``claimant_id`` points to, has distinctive words, and
  every one of them is among the source's normalised words ("Hamdullah Mohib" in
  "Afghan Ambassador to the United States Hamdullah Mohib"; not "Kristen Wilkins"
  in "Wilkins" unless the actor has the alias "Wilkins"; not "New Zealand Herald"
  in "New Zealand's Prime Minister John Key"). "author" and "unnamed source" never
  name a named source.
* claimant agreement, lenient: the same pairs; a name agrees when it shares one
  distinctive word with the source's distinctive words (the old figure's idea).
* "unnamed source" on unnamed gold: over matched gold attributions that some
  matching claim gives to "unnamed source", the share whose gold source is
  unnamed ("unnamed source" agrees only with a source that names no one).
* source span agreement: over matched gold attributions whose source GUM marks as
  a span, the share where some matching claim's ``source`` span overlaps it (the
  words the document uses for the source, whatever they resolve to); "given" is
  the share where some matching claim gives a source span at all.
* actor recall: gold actors are persons, organisations and places of salience >= 3
  in meta.jsonl; one is found when a brief actor's name or alias has a distinctive
  word among the name tokens of the actor's first mention ("Trump 's" -> trump).
* span exactness: kept spans (actor mentions, claim evidence, cues and sources, uncertainty
  evidence) with text[start:end] == quote, and those with match "exact".
* completion tokens per matched attribution (gold documents only): what
  ``run.usage.completion_tokens`` says; for the reference answers that is their
  characters / 4 (the reference server counts so), not a model's tokens.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOLD_DIR = ROOT / "seeds" / "wikinews"
ACTOR_TYPES = frozenset({"person", "organization", "place"})
MIN_SALIENCE = 3
AUTHOR = "author"
UNNAMED = "unnamed source"


def _listed(text: str) -> frozenset[str]:
    return frozenset(text.split())


PRONOUNS = _listed(
    """i me my mine myself we us our ours ourselves you your yours yourself yourselves he him his himself
    she her hers herself it its itself they them their theirs themselves one ones someone somebody anyone
    anybody everyone everybody nobody none who whom whose which what whoever"""
)
FUNCTION_WORDS = _listed(
    """the a an this that these those some any all each every both either neither many much most more
    several few other others another such same own no not of for to in on at by with from into onto about
    over under after before between among against within without through during per via than as and or
    but nor so if then also according including like"""
)
GENERIC_WORDS = _listed(
    """official officials authority authorities police government governments court courts report reports
    study studies result results finding findings figure figures estimate estimates data statistics survey
    surveys poll polls analysis analyses research researcher researchers scientist scientists expert experts
    analyst analysts author authors critic critics source sources witness witnesses resident residents
    people person persons individual individuals man men woman women child children girl girls boy boys
    family families student students teacher teachers member members poster posters post posts posting
    postings message messages letter letters document documents statement statements website websites
    site sites internet web media press agency agencies company companies firm firms group groups team teams city
    organisers organizers observers campaigners activists protesters users fans voters workers
    recent new latest former local early further certain various unnamed anonymous senior"""
)
TITLES = _listed(
    """mr mrs ms miss mx dr prof professor emeritus sir dame lord lady madam president vice prime minister
    ministers secretary undersecretary shadow chancellor senator senators congressman congresswoman
    representative governor mayor ambassador envoy consul general major colonel lieutenant captain
    sergeant commander admiral marshal judge justice prosecutor attorney lawyer qc kc sc king queen
    prince princess pope bishop archbishop cardinal reverend rev pastor rabbi imam sheikh chief head
    director administrator chairman chairwoman chairperson chair ceo cfo cto coo executive founder
    cofounder co spokesperson spokesman spokeswoman spokespeople representative coach manager curator
    editor reporter correspondent deputy assistant associate acting interim junior st saint"""
)
NOT_NAMES = PRONOUNS | FUNCTION_WORDS | GENERIC_WORDS | TITLES

_TOKEN = re.compile(r"[^\W_]+(?:[.'\u2019][^\W_]+)*\.?")
_POSSESSIVE = re.compile(r"\s?['\u2019]s\b")


# --------------------------------------------------------------------------
# Inputs: what scoring needs of a brief and of the gold
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
    source: Span | None = None  # the source as the document words it, where the brief gives it


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
    source_span: Span | None = None


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
    attributed: int = 0  # claims whose claimant is not "author"
    attributed_matched: int = 0
    gold: int = 0
    gold_matched: int = 0
    named: int = 0
    named_strict: int = 0
    named_lenient: int = 0
    sourced: int = 0  # matched gold attributions with a source span
    sourced_given: int = 0  # of those, some matching claim gives a source span
    sourced_agree: int = 0  # ... that overlaps the gold source span
    unnamed_claimed: int = 0
    unnamed_claimed_ok: int = 0
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
    run_failed: bool = False  # the run that wrote the briefs exited non-zero


# --------------------------------------------------------------------------
# Words (pure)
# --------------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    """Runs of letters and digits with inner dots and apostrophes; a possessive 's is not a token."""
    return _TOKEN.findall(_POSSESSIVE.sub(" ", text))


def normal(token: str) -> str:
    """Accents dropped, lower case, dots and apostrophes dropped: "U.S." -> "us", "Hernán" -> "hernan"."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", token) if not unicodedata.combining(c))
    return re.sub(r"[.'\u2019]", "", plain.lower())


def is_acronym(token: str) -> bool:
    return sum(c.isupper() for c in token) >= 2


def is_name_token(token: str) -> bool:
    """An acronym that is no title ("WHO", "US"), or a capitalised word in none of the lists ("Wilkins")."""
    word = normal(token)
    if not word or word in TITLES:
        return False
    return is_acronym(token) or (token[0].isupper() and word not in NOT_NAMES)


def is_distinctive(token: str) -> bool:
    """A word that can identify a name: in none of the four lists, or an acronym that is no title ("WHO")."""
    word = normal(token)
    return bool(word) and word not in TITLES and (word not in NOT_NAMES or is_acronym(token))


def distinctive(text: str) -> frozenset[str]:
    """The normalised distinctive words of a name ("Professor John Burrows" -> john, burrows)."""
    return frozenset(normal(t) for t in tokens(text) if is_distinctive(t))


def words(text: str) -> frozenset[str]:
    return frozenset(w for w in map(normal, tokens(text)) if w)


def is_named(source: str | None) -> bool:
    """A gold source names someone when one of its tokens is a name token."""
    return source is not None and any(is_name_token(t) for t in tokens(source))


def name_words(text: str) -> frozenset[str]:
    """The normalised name tokens of a text ("U.S. President Donald Trump 's" -> us, donald, trump)."""
    return frozenset(normal(t) for t in tokens(text) if is_name_token(t))


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


def is_special(claimant: str) -> bool:
    return claimant.strip().lower() in (AUTHOR, UNNAMED)


def claim_names(claim: Claim) -> tuple[str, ...]:
    """The claimant and its actor's name and aliases; none for "author" and "unnamed source"."""
    return () if is_special(claim.claimant) else (claim.claimant, *claim.names)


def name_appears(name: str, source: str) -> bool:
    """Strict: the name has distinctive words and every one of them is a word of the source."""
    own = distinctive(name)
    return bool(own) and own <= words(source)


def shares_word(name: str, source: str) -> bool:
    """Lenient: the name and the source share one distinctive word."""
    return bool(distinctive(name) & distinctive(source))


def names_source(claim: Claim, source: str) -> bool:
    return any(name_appears(name, source) for name in claim_names(claim))


def names_source_leniently(claim: Claim, source: str) -> bool:
    return any(shares_word(name, source) for name in claim_names(claim))


def actor_found(first_mention: str, actors: tuple[tuple[str, ...], ...]) -> bool:
    """Some brief actor's name or alias has a distinctive word among the name tokens of the gold mention."""
    gold = name_words(first_mention)
    return any(gold & distinctive(name) for names in actors for name in names)


# --------------------------------------------------------------------------
# Measures (pure)
# --------------------------------------------------------------------------


def score_claims(brief: DocBrief, gold: GoldDoc, score: DocScore) -> None:
    """Recall, precision and claimant agreement counts of one document."""
    pairs = match_pairs(brief.claims, gold.attributions)
    score.claims, score.gold = len(brief.claims), len(gold.attributions)
    score.claims_matched = len({c for c, _ in pairs})
    attributed = {c for c, claim in enumerate(brief.claims) if claim.claimant.strip().lower() != AUTHOR}
    score.attributed = len(attributed)
    score.attributed_matched = len({c for c, _ in pairs} & attributed)
    score.gold_matched = len({g for _, g in pairs})
    for g, attribution in enumerate(gold.attributions):
        matching = [brief.claims[c] for c, gg in pairs if gg == g]
        if not matching:
            continue
        source = attribution.source
        if is_named(source):
            score.named += 1
            score.named_strict += any(names_source(claim, source or "") for claim in matching)
            score.named_lenient += any(names_source_leniently(claim, source or "") for claim in matching)
        if attribution.source_span is not None:
            score.sourced += 1
            given = [claim.source for claim in matching if claim.source is not None]
            score.sourced_given += bool(given)
            score.sourced_agree += any(overlaps(span, attribution.source_span) for span in given)
        if any(claim.claimant.strip().lower() == UNNAMED for claim in matching):
            score.unnamed_claimed += 1
            score.unnamed_claimed_ok += not is_named(source)


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


def _measure(part: int, whole: int) -> dict[str, Any]:
    return {"rate": rate(part, whole), "n": part, "of": whole}


def measures(scores: list[DocScore]) -> dict[str, Any]:
    """Rates and their counts over documents summed (micro-averaged)."""
    total = {
        name: sum(getattr(s, name) for s in scores)
        for name in DocScore.__dataclass_fields__
        if name not in ("file", "has_gold")
    }
    return {
        "documents": len(scores),
        "documents_with_gold": sum(s.has_gold for s in scores),
        "claims": total["claims"],
        "attribution_recall": _measure(total["gold_matched"], total["gold"]),
        "claim_precision": _measure(total["claims_matched"], total["claims"]),
        "attributed_precision": _measure(total["attributed_matched"], total["attributed"]),
        "claimant_agreement_strict": _measure(total["named_strict"], total["named"]),
        "claimant_agreement_lenient": _measure(total["named_lenient"], total["named"]),
        "unnamed_source_agreement": _measure(total["unnamed_claimed_ok"], total["unnamed_claimed"]),
        "source_span_given": _measure(total["sourced_given"], total["sourced"]),
        "source_span_agreement": _measure(total["sourced_agree"], total["sourced"]),
        "actor_recall": _measure(total["actors_matched"], total["actors"]),
        "span_holds_quote": _measure(total["spans_hold"], total["spans"]),
        "span_match_exact": _measure(total["spans_exact"], total["spans"]),
        "completion_tokens": total["completion_tokens"],
        "completion_tokens_per_matched": rate(total["completion_tokens"], total["gold_matched"]),
    }


# --------------------------------------------------------------------------
# I/O: gold and briefs as plain JSON
# --------------------------------------------------------------------------


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _gold_span(raw: dict[str, Any] | None) -> Span | None:
    return None if raw is None else Span(raw["start"], raw["end"], raw.get("text", ""))


def _attribution(raw: dict[str, Any]) -> GoldAttribution:
    source = raw["source"]["text"] if raw["source"] else None
    return GoldAttribution(source, _gold_span(raw["cue"]), _gold_span(raw["content"]), _gold_span(raw["source"]))


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
        attributions = tuple(_attribution(a) for a in row["attributions"])
        gold[row["file"]] = GoldDoc(row["file"], attributions, actors.get(row["file"], ()))
    return gold


def _span(raw: dict[str, Any]) -> Span:
    return Span(int(raw["start"]), int(raw["end"]), str(raw.get("quote", "")), str(raw.get("match", "")))


def is_brief(data: object) -> bool:
    """A brief is a JSON object with a document and claims; the daily's manifest and digest are not."""
    return isinstance(data, dict) and isinstance(data.get("document"), dict) and "claims" in data


def source_text(document: dict[str, Any], folder: Path) -> str | None:
    """The text the brief's offsets point into: its document.path, tried from here, the project and the folder.

    Only a text whose sha256 is the brief's document sha256 (or id) is accepted, so offsets are never scored
    against a different version of the article.
    """
    path = Path(document.get("path") or "")
    digest = document.get("sha256") or document.get("id")
    for candidate in (path, ROOT / path, folder / path, folder.parent / path, GOLD_DIR / path.name):
        if path.name and candidate.is_file():
            text = candidate.read_text(encoding="utf-8")
            if hashlib.sha256(text.encode("utf-8")).hexdigest() == digest:
                return text
    return None


def doc_brief(data: dict[str, Any], text: str) -> DocBrief:
    """The scored view of a brief's JSON: claims with their actor's names, every kept span, completion tokens."""
    actors = {a.get("id"): (a["name"], *a.get("aliases", [])) for a in data.get("actors", [])}
    claims = tuple(
        Claim(
            evidence=_span(c["evidence"]),
            claimant=str(c.get("claimant", "")),
            cue=_span(c["cue"]) if c.get("cue") else None,
            # the claimant's actor's names, and every further claimant's (schema 1.9: Claim.also)
            names=tuple(
                name
                for actor_id in [c.get("claimant_id"), *(o.get("actor_id") for o in c.get("also") or [])]
                if actor_id
                for name in actors.get(actor_id, ())
            ),
            source=_span(c["source"]) if c.get("source") else None,
        )
        for c in data["claims"]
    )
    spans = [_span(a["mention"]) for a in data.get("actors", []) if a.get("mention")]
    spans += [c.evidence for c in claims] + [c.cue for c in claims if c.cue] + [c.source for c in claims if c.source]
    spans += [_span(u["evidence"]) for u in data.get("uncertainties", [])]
    usage = (data.get("run") or {}).get("usage") or {}
    return DocBrief(
        file=Path(data["document"].get("path") or "").name,
        text=text,
        claims=claims,
        actors=tuple(actors.values()),
        spans=tuple(spans),
        completion_tokens=int(usage.get("completion_tokens") or 0),
    )


def read_briefs(folder: Path) -> tuple[list[DocBrief], list[str]]:
    """Briefs in a daily --out folder, its briefs/ subfolder or any folder of brief JSON; and warnings."""
    if (folder / "briefs").is_dir():
        folder = folder / "briefs"
    briefs, warnings = [], []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not is_brief(data):
                continue
            text = source_text(data["document"], folder)
            if text is None:
                warnings.append(f"{path.name}: source text not found or changed ({data['document'].get('path')})")
                continue
            briefs.append(doc_brief(data, text))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            warnings.append(f"{path.name}: not a readable brief ({type(error).__name__}: {error})")
    return briefs, warnings


def failed_documents(folder: Path) -> int:
    """Manifest entries with status failed (a daily run still writes the other briefs)."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return 0
    entries = json.loads(manifest.read_text(encoding="utf-8")).get("entries", [])
    return sum(entry.get("status") == "failed" for entry in entries)


def gold_for(brief: DocBrief, gold: dict[str, GoldDoc], gold_dir: Path = GOLD_DIR) -> GoldDoc | None:
    """The gold of the brief's file name, only if the brief was made from the very text the gold annotates."""
    annotated = gold_dir / brief.file
    if brief.file not in gold or not annotated.is_file():
        return None
    return gold[brief.file] if annotated.read_text(encoding="utf-8") == brief.text else None


def score_folder(
    folder: Path, gold: dict[str, GoldDoc], label: str, origin: str, gold_dir: Path = GOLD_DIR
) -> SetScore:
    """Score every brief in ``folder`` against its gold (by source file name; the texts in ``gold_dir``)."""
    briefs, warnings = read_briefs(folder)
    documents = [score_document(b, gold_for(b, gold, gold_dir)) for b in briefs]
    return SetScore(label, origin, documents, failed=failed_documents(folder), note="; ".join(warnings) or None)
