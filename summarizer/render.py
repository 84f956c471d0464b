"""Brief → JSON / Markdown, and atomic file writes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .models import Brief, Claim, Figure

FORMATS = ("json", "md")


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def to_json(brief: Brief, *, indent: int | None = 2) -> str:
    return brief.model_dump_json(indent=indent) + ("\n" if indent else "")


def render(brief: Brief, fmt: str) -> str:
    if fmt == "json":
        return to_json(brief)
    if fmt == "md":
        return to_markdown(brief)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def format_figure(figure: Figure) -> str:
    def number(value: float) -> str:
        return f"{value:,.0f}" if value == int(value) else f"{value:,}"

    amount = number(figure.value) if figure.value is not None else f"{number(figure.low)}–{number(figure.high)}"  # type: ignore[arg-type]
    return " ".join(part for part in (figure.qualifier, amount, figure.unit) if part)


def _claim_line(claim: Claim) -> str:
    figures = "; ".join(format_figure(f) for f in claim.figures)
    cue = f" ({claim.cue.quote})" if claim.cue else ""
    lines = [f"- **{claim.id}** {claim.claimant}{cue} — *{claim.status.value}*: {claim.statement}"]
    if figures:
        lines.append(f"  - figures: {figures}")
    lines.append(f"  - > {claim.evidence.quote}  `[{claim.evidence.start}:{claim.evidence.end}]`"
                 + ("" if claim.evidence.match == "exact" else f" ({claim.evidence.match})"))
    return "\n".join(lines)


def to_markdown(brief: Brief) -> str:
    doc = brief.document
    title = doc.title or (Path(doc.path).name if doc.path else "Brief")
    out = [f"# {title}", ""]
    meta = [m for m in (doc.date, doc.path, f"{brief.run.provider} · {brief.run.model}") if m]
    out += [" · ".join(meta), "", brief.summary or "*(no summary)*", ""]
    out += ["## Actors", ""]
    out += [f"- **{a.id}** {a.name} ({a.kind.value}) — {a.role}" + (f"; also {', '.join(a.aliases)}" if a.aliases else "")
            for a in brief.actors] or ["*(none)*"]
    out += ["", "## Claims", ""]
    out += [_claim_line(c) for c in brief.claims] or ["*(none)*"]
    out += ["", "## Uncertainties", ""]
    out += [f"- **{u.id}** *{u.kind.value}*: {u.description}"
            + (f" (concerns {', '.join(u.claim_ids)})" if u.claim_ids else "")
            + f"\n  - > {u.evidence.quote}  `[{u.evidence.start}:{u.evidence.end}]`"
            for u in brief.uncertainties] or ["*(none)*"]
    if brief.rejected:
        out += ["", f"## Rejected ({len(brief.rejected)})", ""]
        out += [f"- {r.kind}: {r.reason}" for r in brief.rejected]
    usage = brief.run.usage
    out += ["", f"*{usage.total_tokens} tokens in {brief.run.attempts} call(s), {brief.run.latency_s:.1f} s; "
                f"prompt {brief.run.prompt_version}*", ""]
    return "\n".join(out)
