"""Re-verify a saved brief against its source: schema, hash, every span, coverage gaps."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from . import statements
from .cues import Gap, coverage_gaps
from .documents import Document, document_id, read_document
from .errors import DocumentError
from .grounding import name_words, only_names
from .models import Brief, Span
from .store import source_candidates


def source_for(brief: Brief, source: Path | None, brief_file: Path | None = None) -> Document:
    """The brief's source document: the path given, else the one the brief records, looked up relative
    to the brief file's folder and then to the working directory."""
    if source is not None:
        return _as_briefed(brief, read_document(str(source)))
    recorded = brief.document.path
    if not recorded or recorded == "-":
        raise DocumentError("the brief records no source file; pass --source PATH")
    candidates = source_candidates(recorded, brief_file)
    found = next((path for path in candidates if path.exists() or path.is_symlink()), candidates[0])
    return _as_briefed(brief, read_document(str(found)))


def _as_briefed(brief: Brief, document: Document) -> Document:
    """The text a brief's offsets index. Briefs made before schema 1.2 (no ``sha256``) indexed the text with
    CRLF line endings read as LF: such a brief of an unchanged CRLF file is checked against that text."""
    if brief.document.sha256 is None and brief.document.id != document.id and "\r\n" in document.text:
        text = document.text.replace("\r\n", "\n")
        if document_id(text) == brief.document.id:
            return replace(document, text=text, id=brief.document.id, sha256=None)
    return document


def source_changed(brief: Brief, document: Document) -> bool:
    """The source differs from the one the brief was made from: its file's bytes (or, for a brief that
    does not record them, its text)."""
    if brief.document.sha256 is not None and document.sha256 is not None:
        return brief.document.sha256 != document.sha256
    return brief.document.id != document.id


@dataclass(frozen=True)
class SpanFailure:
    item: str  # "C3.evidence"
    span: Span
    found: str

    def __str__(self) -> str:
        return (
            f"{self.item} [{self.span.start}:{self.span.end}] should be {self.span.quote!r} "
            f"but the source has {self.found!r}"
        )


@dataclass
class CheckReport:
    brief: Brief
    source: str
    hash_matches: bool
    spans_checked: int = 0
    failures: list[SpanFailure] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)  # claim ids whose evidence only names a source
    mismatched: list[tuple[str, str]] = field(default_factory=list)  # (claim id, why): a model's statement
    # that says what its evidence does not, or evidence the rules give to another source (``statements``)

    @property
    def grounding_rate(self) -> float:
        """Share of the brief's spans whose offsets hold their quote in the source."""
        return 1.0 if not self.spans_checked else (self.spans_checked - len(self.failures)) / self.spans_checked

    @property
    def kept_rate(self) -> float:
        """Share of the model's items that were grounded and kept (the rest are in `rejected`)."""
        kept = len(self.brief.actors) + len(self.brief.claims) + len(self.brief.uncertainties)
        rejected = sum(1 for r in self.brief.rejected if r.kind in ("actor", "claim", "uncertainty"))
        return 1.0 if kept + rejected == 0 else kept / (kept + rejected)

    @property
    def clean(self) -> bool:
        return self.hash_matches and not self.failures


def named_spans(brief: Brief) -> list[tuple[str, Span]]:
    spans: list[tuple[str, Span]] = [(f"{a.id}.mention", a.mention) for a in brief.actors]
    for claim in brief.claims:
        spans.append((f"{claim.id}.evidence", claim.evidence))
        if claim.cue:
            spans.append((f"{claim.id}.cue", claim.cue))
        if claim.source:
            spans.append((f"{claim.id}.source", claim.source))
    spans += [(f"{u.id}.evidence", u.evidence) for u in brief.uncertainties]
    return spans


def check_brief(brief: Brief, document: Document, cues: list[str] | None = None) -> CheckReport:
    text = document.text
    report = CheckReport(brief=brief, source=document.path or "-", hash_matches=not source_changed(brief, document))
    for name, span in named_spans(brief):
        report.spans_checked += 1
        found = text[span.start : span.end]
        if found != span.quote:
            report.failures.append(SpanFailure(name, span, found))
    covered = [(s.start, s.end) for name, s in named_spans(brief) if not name.endswith((".mention", ".cue", ".source"))]
    report.gaps = coverage_gaps(text, covered, cues)
    named = name_words(n for actor in brief.actors for n in (actor.name, *actor.aliases))
    report.unsupported = [c.id for c in brief.claims if only_names(c.evidence.quote, named | name_words(c.claimants))]
    if report.hash_matches:
        report.mismatched = mismatched_claims(brief, text)
    return report


def mismatched_claims(brief: Brief, text: str) -> list[tuple[str, str]]:
    """Each model claim whose statement carries a number, a name or a negation its evidence does not, or
    whose evidence the rules give to another named source (the checks ``assembly`` makes as it grounds an
    answer, made again on the saved brief: a brief made before them, or edited by hand, is checked too)."""
    found = []
    aliases = {actor.id: actor.aliases for actor in brief.actors}
    for claim in brief.claims:
        if claim.origin != "model":
            continue
        names = [*claim.claimants, *(alias for i in claim.claimant_ids for alias in aliases.get(i, []))]
        listed = claim.claimant_id is not None
        problems = statements.claim_problems(claim.statement, claim.evidence, text, names, listed)
        if problems:
            found.append((claim.id, "; ".join(p.reason for p in problems)))
    return found
