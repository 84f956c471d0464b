"""check, review, render: what brief and daily wrote, verified, reviewed in the terminal or made a page;
and schema, the format they read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ..errors import ExitCode
from . import _READ_CODES, _Command, _error, _exit_codes, _say, app, examples, exit_codes_epilog
from .options import ReviewerOption, ShowRejectedOption, SourceOption, VersionOption

if TYPE_CHECKING:
    from ..documents import Document
    from ..models import Brief, Digest


def _load_for_review(path: Path, source: Optional[Path], *, required: bool) -> tuple[Brief, Optional[Document]]:
    """The brief and, when it can be read, its source document (a DocumentError when ``required``)."""
    from ..store import load_brief

    return _with_source(path, load_brief(path), source, required=required)


def _with_source(
    path: Path, brief: Brief, source: Optional[Path], *, required: bool
) -> tuple[Brief, Optional[Document]]:
    from ..check import source_for
    from ..errors import DocumentError

    try:
        return brief, source_for(brief, source, path)
    except DocumentError as error:
        if required:
            raise DocumentError(f"source of {path}: {error}") from error
        _say(f"summarizer: note: source not available ({error}); showing quotes without context")
        return brief, None


_CHECK_CODES = (ExitCode.OK, ExitCode.INTERNAL, ExitCode.USAGE, ExitCode.INPUT, ExitCode.CHECK_FAILED)


@app.command(
    cls=_Command,
    epilog=examples("summarizer check briefs/korea.json", "summarizer check brief.json --source article.txt --strict")
    + """Exit 0 when every span is verified (and, with --strict, no coverage gap is
found, every claim's evidence says more than a name, and every model statement
says only what its evidence does); 7 also when --strict
finds coverage gaps or evidence that only names a source, or --require-reviewed
finds items no person has decided on (see review and mark).

"""
    + exit_codes_epilog(_CHECK_CODES),
)
def check(
    path: Annotated[Path, typer.Argument(help="A brief written by 'summarizer brief'.")],
    source: SourceOption = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Also fail on coverage gaps, on evidence that only names a source, and on a model's statement "
            "that carries a number, a name or a negation its evidence does not (or evidence given to another source).",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the verdict line.")] = False,
    require_reviewed: Annotated[
        bool,
        typer.Option("--require-reviewed", help="Also fail (exit 7) while any item has no person's decision."),
    ] = False,
    version: VersionOption = False,
) -> None:
    """Re-verify a brief against its source: schema, hash, every span, and coverage gaps."""
    from ..check import check_brief
    from ..render import inert
    from ..reviews import reviewed_brief

    with _exit_codes():
        brief, document = _load_for_review(path, source, required=True)
        judged = reviewed_brief(path, brief)
    assert document is not None
    report = check_brief(brief, document)
    if not report.hash_matches:
        now, then = (
            (document.sha256, brief.document.sha256) if brief.document.sha256 else (document.id, brief.document.id)
        )
        _error(f"{report.source} has changed since the brief was made (sha256 {(now or '')[:12]}… != {then[:12]}…)")
    for failure in report.failures:
        _error(str(failure))
    claims = {claim.id: claim for claim in brief.claims}
    for claim_id in report.unsupported if not quiet else []:
        quote = claims[claim_id].evidence.quote
        typer.echo(f"unsupported {claim_id}: evidence {quote!r} only names a source; it does not say what was asserted")
    for claim_id, why in report.mismatched if not quiet else []:
        typer.echo(inert(f"mismatched {claim_id}: {why}", newlines=False))
    if not quiet:
        for gap in report.gaps:
            typer.echo(inert(f"gap [{gap.start}:{gap.end}] ({', '.join(gap.cues)}): {gap.sentence}", newlines=False))
    verdict = "ok" if report.clean else "FAILED"
    kept = len(brief.claims) + len(brief.uncertainties) + len(brief.actors)
    typer.echo(
        f"{verdict}: {report.spans_checked - len(report.failures)}/{report.spans_checked} spans verified "
        f"(grounding rate {report.grounding_rate:.0%}); {kept} "
        f"items kept, {len(brief.rejected)} rejected (kept rate {report.kept_rate:.0%}); "
        f"{len(report.gaps)} coverage gap(s); {len(report.unsupported)} claim(s) whose evidence only names a source; "
        f"{len(report.mismatched)} whose statement says what its evidence does not"
    )
    checked, unchecked, rejected = judged.counts(brief)
    if not quiet:
        orphaned = f", {len(judged.orphaned)} orphaned decision(s)" if judged.orphaned else ""
        typer.echo(f"review: {checked} checked, {unchecked} unchecked, {rejected} rejected{orphaned}")
        for old in judged.orphaned:
            typer.echo(inert(f"orphaned {old.item} ({old.decision or 'no verdict'}): {old.quote}", newlines=False))
    failed_strictly = strict and (report.gaps or report.unsupported or report.mismatched)
    if not report.clean or failed_strictly or (require_reviewed and unchecked):
        if require_reviewed and unchecked and not quiet:
            _error(f"{unchecked} item(s) not yet reviewed (--require-reviewed); see `summarizer review {path}`")
        raise typer.Exit(ExitCode.CHECK_FAILED)


@app.command(
    cls=_Command,
    epilog=examples(
        "summarizer review briefs/korea.json                  # interactive on a terminal",
        "summarizer review days/2026-11-28/digest.json        # every document of the day",
        "summarizer review briefs/korea.json --print | less -R",
    )
    + """On a terminal, review is interactive: the brief's claims, uncertainties and
actors above the evidence of the one under the cursor, in its sentence.
Keys: a accept · r reject (a reason chosen or typed) · c correct the claimant ·
f mark for follow-up · u undo · v next view (all, unchecked, follow-up, the
rules' check mark, rejected; 1-5 choose one) · / one claimant's items · q quit.
Each decision is written at once to NAME.review.json beside the brief (never
into the brief): show, render, check, export, the digest and the history read it.
In a pipe, or with --print, the brief is printed instead.

"""
    + exit_codes_epilog(_READ_CODES),
)
def review(
    path: Annotated[Path, typer.Argument(help="A brief written by 'summarizer brief', or a daily digest.json.")],
    source: SourceOption = None,
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the brief (as in a pipe), even on a terminal.")
    ] = False,
    reviewer: ReviewerOption = None,
    show_rejected: ShowRejectedOption = False,
    version: VersionOption = False,
) -> None:
    """Review a brief (or a day's digest): accept, reject, correct; or print it with its evidence in context."""
    import sys

    from rich.console import Console

    from ..models import Digest
    from ..render import print_digest_review, print_review
    from ..reviews import reviewed_brief
    from ..store import load_saved

    interactive = not print_only and sys.stdin.isatty() and sys.stdout.isatty()
    # Model and document strings are data: no markup ("[link=…]", "[/]"), no emoji codes, no highlighting.
    console = Console(highlight=False, markup=False, emoji=False)
    with _exit_codes():
        saved = load_saved(path)
        if interactive:
            from .marks import interactive_review

            interactive_review(path, saved, source, reviewer)
            return
        if isinstance(saved, Digest):
            print_digest_review(saved, console)
            return
        brief, document = _with_source(path, saved, source, required=False)
        judged = reviewed_brief(path, brief, show_rejected)
    print_review(brief, document.text if document else None, console, judged)


_RENDER_CODES = (*_READ_CODES, ExitCode.CHECK_FAILED, ExitCode.OUTPUT)


@app.command(
    cls=_Command,
    epilog=examples(
        "summarizer render briefs/korea.json --html report/korea.html",
        "summarizer render days/2026-11-28/digest.json --html report/index.html",
        "summarizer render edited.json --source article.txt --html page.html --force",
    )
    + """The source is verified first, as check does (its sha256, every span): a
source that changed since the brief was made would put the highlights in the
wrong places, so render refuses it (exit 7) unless --force.

"""
    + exit_codes_epilog(_RENDER_CODES),
)
def render(
    path: Annotated[Path, typer.Argument(help="A brief written by 'summarizer brief', or a daily digest.json.")],
    html: Annotated[Path, typer.Option("--html", "--output", "-o", help="Write a self-contained HTML page here.")],
    source: SourceOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Render even when the source changed since the brief was made (warns).")
    ] = False,
    show_rejected: ShowRejectedOption = False,
    version: VersionOption = False,
) -> None:
    """Render a brief as one self-contained HTML page: the source with highlights and clickable claims.

    Given a daily digest.json, writes a page per document beside the digest page
    and the digest page linking them. -o - prints a brief's page on stdout.
    """
    from ..models import Digest
    from ..render import to_html
    from ..reviews import reviewed_brief
    from ..store import atomic_write_text, load_saved

    to_stdout = str(html) == "-"
    with _exit_codes():
        saved = load_saved(path)
        if isinstance(saved, Digest):
            if to_stdout:
                raise typer.BadParameter(
                    "a digest is several pages (one per document): give a file, e.g. report/index.html",
                    param_hint="--html",
                )
            pages = _render_digest(path, saved, html, force, show_rejected)
            _say(f"wrote {html} and {len(pages)} document page(s) beside it")
            return
        brief, document = _with_source(path, saved, source, required=True)
        assert document is not None
        _verified(path, brief, document, force)
        page = to_html(brief, document.text, reviewed_brief(path, brief, show_rejected))
        if not to_stdout:
            atomic_write_text(html, page)
    if to_stdout:
        typer.echo(page, nl=False)
        return
    _say(f"wrote {html}")


def _verified(path: Path, brief: Brief, document: Document, force: bool) -> None:
    """Refuse (``SourceChanged``) a source that no longer holds what the brief says; warn with --force."""
    from ..check import check_brief
    from ..errors import SourceChanged

    report = check_brief(brief, document)
    if report.clean:
        return
    problem = "has changed since the brief was made" if not report.hash_matches else "does not match the brief"
    spans = f"{len(report.failures)} of {report.spans_checked} spans do not hold their quotes"
    failed = f", {spans}" if report.failures else ""
    message = f"{path}: its source {report.source} {problem}{failed}"
    if not force:
        raise SourceChanged(
            f"{message}; the highlights would be wrong. See `summarizer check {path}`, brief the document "
            "again, or pass --force to render anyway"
        )
    _say(f"summarizer: warning: {message}; rendering anyway (--force): highlights may be wrong")


def _render_digest(path: Path, digest: Digest, html: Path, force: bool, show_rejected: bool) -> dict[str, str]:
    """A page per document beside ``html``, then the digest page linking them; brief file → page name.

    Page names are the briefs' stems made safe for links, never the digest page's own name."""
    from ..render import digest_html, to_html
    from ..reviews import reviewed_brief
    from ..store import atomic_write_text, output_stems

    stems = output_stems([html.name, *digest.documents.values()])
    taken = {html.name.lower()}
    pages = {}
    for file in digest.documents.values():
        brief, document = _load_for_review(path.parent / file, None, required=True)
        assert document is not None
        _verified(path.parent / file, brief, document, force)
        name, n = f"{stems[file]}.html", 1
        while name.lower() in taken:
            n += 1
            name = f"{stems[file]}-{n}.html"
        taken.add(name.lower())
        judged = reviewed_brief(path.parent / file, brief, show_rejected)
        atomic_write_text(html.parent / name, to_html(brief, document.text, judged))
        pages[file] = name
    atomic_write_text(html, digest_html(digest, pages))
    return pages


@app.command(cls=_Command)
def schema(
    draft: Annotated[
        bool, typer.Option("--extraction", help="Print the LLM-facing extraction schema instead.")
    ] = False,
    version: VersionOption = False,
) -> None:
    """Print the JSON Schema of a Brief (the output format)."""
    from ..models import Brief, Extraction

    model = Extraction if draft else Brief
    typer.echo(json.dumps(model.model_json_schema(), indent=2))
