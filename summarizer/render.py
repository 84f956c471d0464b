"""Brief and digest → JSON, Markdown, HTML and the terminal."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote as url_quote

from .cues import coverage_gaps
from .grounding import name_key
from .models import Brief, Claim, Digest, Figure, joined
from .reviews import Reviewed, apply, mark
from .settings import LOCAL_MODEL_NAME as EMBEDDED_MODEL
from .settings import RULES_PROVIDER
from .store import brief_json

if TYPE_CHECKING:
    from .daily import Manifest

FORMATS = ("json", "md")

# Characters a terminal acts on (C0 and C1 controls, DEL: ESC starts clear-screen, colours, OSC 8 links)
# or that reorder what is shown (bidirectional overrides); tab and newline excepted.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What CommonMark (and GFM) reads as markup inside a line: backslash, code, emphasis, strikethrough, raw
# HTML and autolinks ("<"), an entity ("&amp;"), and the "]" that closes a link or image ("](", "][",
# "]:"). An underscore inside a word ("snake_case") and a lone "[" or "]" ("[sic]") are plain text.
_MD_ACTIVE = re.compile(r"[\\`*<~_]|&(?=#?\w+;)|\](?=[(\[:])")
_MD_LINE_START = re.compile(r"^(\s*)(?:([#>+=-])|(\d+)([.)]))")


def inert(text: str, *, newlines: bool = True) -> str:
    """A model's or a document's string made safe to print: every control character shown as an escape
    (``\\x1b``) instead of acted on; CRLF shown as a newline; newlines kept, or spaces when ``newlines``
    is false (one-line contexts)."""
    text = text.replace("\r\n", "\n")
    if not newlines:
        text = text.replace("\n", " ")
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}", text
    )


# What a renderer with autolinks (GitHub's) turns into a link although no markup asks for one: a scheme
# and "://", "www.", or an e-mail address. Such text is set as a code span, which nothing links.
_AUTOLINK = re.compile(
    r"(?i)\b(?:[a-z][a-z0-9+.\-]{1,30}://|www\.)[^\s<>]*[^\s<>.,;:!?\"')\]]|[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+"
)


def md(text: str | None) -> str:
    """A string from a model or a document as inert Markdown text on one line: no raw HTML, no links (not
    even a bare URL a renderer would autolink: it is set as code), no emphasis, no block markers, no control
    characters; it reads as the characters it holds."""
    plain = inert(text or "", newlines=False)
    out, at = [], 0
    for match in _AUTOLINK.finditer(plain):
        out.append(_md_text(plain, at, match.start()))
        out.append(_code_span(match.group()))
        at = match.end()
    out.append(_md_text(plain, at, len(plain)))
    escaped = "".join(out)
    return _MD_LINE_START.sub(
        lambda m: m.group(1) + (f"\\{m.group(2)}" if m.group(2) else f"{m.group(3)}\\{m.group(4)}"), escaped, count=1
    )


def _md_text(plain: str, start: int, end: int) -> str:
    """``plain[start:end]`` with what could form markup backslash-escaped (an ``_`` inside a word is kept)."""

    def escape(match: re.Match[str]) -> str:
        at = start + match.start()
        if match.group() == "_" and 0 < at < len(plain) - 1 and plain[at - 1].isalnum() and plain[at + 1].isalnum():
            return "_"
        return "\\" + match.group()

    return _MD_ACTIVE.sub(escape, plain[start:end])


def _code_span(text: str) -> str:
    """``text`` as a Markdown code span: a fence of more backticks than any run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render(brief: Brief, fmt: str, reviewed: Reviewed | None = None) -> str:
    if fmt == "json":
        return brief_json(as_judged(brief, reviewed)[0])
    if fmt == "md":
        return to_markdown(brief, reviewed)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def format_figure(figure: Figure) -> str:
    def number(value: float) -> str:
        return f"{value:,.0f}" if value == int(value) else f"{value:,}"

    bounds = figure.bounds()
    if bounds is None:  # words without a number: "protesters: thousands (no number written)"
        return f"{figure.unit}: {figure.qualifier or 'no number written'}"
    low, high = bounds
    amount = number(low) if figure.value is not None else f"{number(low)}–{number(high)}"
    return " ".join(part for part in (figure.qualifier, amount, figure.unit) if part)


def _figures(figures: list[Figure]) -> str:
    return "; ".join(format_figure(f) for f in figures)


def source_words(claimant: str, source: str | None) -> str | None:
    """How the document named the source, where that says more than the claimant's name: "an official
    familiar with the matter" for an unnamed source, "He" or "the senator" for the person they resolve to."""
    if not source or source == claimant or _key(source) == _key(claimant):
        return None
    return source


_key = lru_cache(maxsize=4096)(name_key)  # a digest names the same claimants thousands of times


def _as_written_md(claimant: str, source: str | None) -> str:
    words = source_words(claimant, source)
    return f"{md(claimant)}" + (f" — *{md(words)}*" if words else "")


def _claim_line(claim: Claim, judgement: str | None = None) -> str:
    figures = md(_figures(claim.figures))
    cue = f" ({md(claim.cue.quote)})" if claim.cue else ""
    who = _as_written_md(joined(claim.claimants), claim.source.quote if claim.source else None)
    lines = [f"- **{claim.id}** {who}{cue} — *{claim.status.value}*: {md(claim.statement)}"]
    if judgement:
        lines.append(f"  - **review**: {md(judgement)}")
    if figures:
        lines.append(f"  - figures: {figures}")
    if claim.check:
        lines.append(f"  - **check**: {md(claim.check)}")
    lines.append(
        f"  - > {md(claim.evidence.quote)}  `[{claim.evidence.start}:{claim.evidence.end}]`"
        + ("" if claim.evidence.match == "exact" else f" ({claim.evidence.match})")
    )
    return "\n".join(lines)


def how_made(brief: Brief) -> str | None:
    """A line saying who wrote what, for a brief whose items the program found (guided extraction)."""
    if brief.run.method != "guided":
        return None
    if brief.run.summary_origin == "model":
        summary = "the summary is the model's"
    elif brief.run.attempts == 0:
        summary = "the summary is the document's opening sentences (the model was not asked)"
    else:
        summary = (
            "no sentence of the model's summary held up against the document (see rejected), so the document's "
            "opening sentences stand in for it"
        )
    return f"Guided extraction: the program found the actors, claims and uncertainties by rule; {summary}."


RULE_STORIES = (
    "Stories made by rule (no model): documents that share salient names are grouped and named from their titles. "
    "A model finds contradictions and open questions (daily --synthesis model, or a capable model)."
)


def made_by(brief: Brief) -> str:
    """What made a brief, as its header says it: ``provider · model``, or ``rules (no model)``."""
    if brief.run.provider == RULES_PROVIDER:
        return "rules (no model)"
    return f"{brief.run.provider} · {brief.run.model}"


def published(outlet: str | None, date: str | None, author: str | None = None) -> str:
    """Where and when a document was published, as a reader says it: "New York Times, 18 Aug 2016" (the
    date as given when it cannot be read); "" when the input says neither."""
    from .documents import date_key

    day = date_key(date)
    when = f"{int(day[8:])} {_MONTHS[int(day[5:7]) - 1]} {day[:4]}" if day else date
    parts = [part for part in (outlet, when) if part]
    return ", ".join(parts) + (f" (by {author})" if author and parts else author or "")


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def as_judged(brief: Brief, reviewed: Reviewed | None) -> tuple[Brief, dict[str, str]]:
    """The brief as a person's review left it (rejected items out unless asked for, corrected claimants in
    place) and each decided item's mark in words."""
    if reviewed is None or not reviewed.decisions:
        return brief, {}
    originals = {claim.id: joined(claim.claimants) for claim in brief.claims}
    marks = {
        item_id: text for item_id in reviewed.decisions if (text := mark(reviewed, item_id, originals.get(item_id)))
    }
    return apply(brief, reviewed, keep_rejected=reviewed.show_rejected), marks


def review_line(brief: Brief, reviewed: Reviewed | None) -> str | None:
    """ "Review: 3 of 44 items checked, 1 rejected (left out: --show-rejected shows it), 2 orphaned"."""
    if reviewed is None or not (reviewed.decisions or reviewed.orphaned):
        return None
    checked, unchecked, rejected = reviewed.counts(brief)
    line = f"Review: {checked} of {checked + unchecked} items checked, {rejected} rejected"
    if rejected and not reviewed.show_rejected:
        line += " (left out: --show-rejected shows them)"
    if reviewed.orphaned:
        line += f", {len(reviewed.orphaned)} decision(s) on items the brief no longer has"
    return line


def to_markdown(brief: Brief, reviewed: Reviewed | None = None) -> str:
    """The brief as Markdown; every string from the model or the document is escaped (``md``). With
    ``reviewed``, as a person judged it: rejected items left out (or marked), decisions marked."""
    line = review_line(brief, reviewed)
    brief, marks = as_judged(brief, reviewed)
    doc = brief.document
    title = doc.title or (Path(doc.path).name if doc.path else "Brief")
    out = [f"# {md(title)}", ""]
    meta = [md(m) for m in (published(doc.outlet, doc.date, doc.author), doc.url or doc.path, made_by(brief)) if m]
    out += [" · ".join(meta), "", md(brief.summary) if brief.summary else "*(no summary)*", ""]
    made = how_made(brief)
    out += [f"*{md(made)}*", ""] if made else []
    out += [f"*{md(line)}*", ""] if line else []
    out += ["## Actors", ""]
    out += [
        f"- **{a.id}** {md(a.name)} ({a.kind.value}) — {md(a.role)}"
        + (f"; also {md(', '.join(a.aliases))}" if a.aliases else "")
        + (f" — **review**: {md(marks[a.id])}" if a.id in marks else "")
        for a in brief.actors
    ] or ["*(none)*"]
    out += ["", "## Claims", ""]
    out += [_claim_line(c, marks.get(c.id)) for c in brief.claims] or ["*(none)*"]
    out += ["", "## Uncertainties", ""]
    out += [
        f"- **{u.id}** *{u.kind.value}*: {md(u.description)}"
        + (f" (concerns {', '.join(u.claim_ids)})" if u.claim_ids else "")
        + (f" — **review**: {md(marks[u.id])}" if u.id in marks else "")
        + f"\n  - > {md(u.evidence.quote)}  `[{u.evidence.start}:{u.evidence.end}]`"
        for u in brief.uncertainties
    ] or ["*(none)*"]
    if brief.rejected:
        out += ["", f"## Rejected ({len(brief.rejected)})", ""]
        out += [f"- {r.kind}: {md(r.reason)}" for r in brief.rejected]
    usage = brief.run.usage
    asked = (
        f"{usage.total_tokens} tokens in {brief.run.attempts} call(s), {brief.run.latency_s:.1f} s of model time"
        if brief.run.attempts
        else "no model call"
    )
    out += ["", f"*{asked}; prompt {md(brief.run.prompt_version)}*", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------
# HTML: one self-contained file, no external assets, every text escaped
# --------------------------------------------------------------------------

_HTML_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{padding:1rem 2rem;background:#fff;border-bottom:1px solid #ddd}
h1{font-size:1.3rem;margin:.2rem 0}.meta{color:#666;font-size:.85rem}
main{display:grid;grid-template-columns:minmax(0,3fr) minmax(18rem,2fr);gap:1.5rem;padding:1rem 2rem}
.text{white-space:pre-wrap;background:#fff;padding:1rem 1.2rem;border:1px solid #ddd;border-radius:6px}
mark{background:none;color:inherit;cursor:pointer;border-radius:2px}
mark.actor{border-bottom:2px solid #2a7ae2}
mark.claim{background:#fff1a8}
mark.uncertainty{background:#ffd6d6;text-decoration:underline dotted #c00}
mark.claim.uncertainty{background:linear-gradient(#fff1a8 55%,#ffd6d6 55%)}
mark.cue{font-weight:700;color:#7a4b00}
mark.source{text-decoration:underline dotted 2px}
mark.selected{outline:2px solid #e2742a}
.legend mark{padding:0 .3rem;margin-right:.5rem;cursor:default}
aside h2{font-size:1rem;margin:1rem 0 .3rem}aside ol,aside ul{padding-left:1.2rem;margin:0}
button.item{all:unset;cursor:pointer;display:block;padding:.15rem 0}button.item:hover{text-decoration:underline}
#details{background:#fff;border:1px solid #e2742a;border-radius:6px;padding:.6rem .9rem;margin-top:.6rem}
.status{font-variant:small-caps;color:#555}.check{color:#8a5a00;font-size:.85rem}.rejected{color:#777;font-size:.85rem}.review{color:#1a6b2a;font-size:.85rem}
"""

_HTML_SCRIPT = """
const data = JSON.parse(document.getElementById('brief-data').textContent);
const byId = {};
for (const c of data.claims) byId[c.id] = {kind: 'claim', item: c};
for (const u of data.uncertainties) byId[u.id] = {kind: 'uncertainty', item: u};
for (const a of data.actors) byId[a.id] = {kind: 'actor', item: a};
const details = document.getElementById('details');
function row(label, value) {
  const p = document.createElement('p');
  const b = document.createElement('b'); b.textContent = label + ': ';
  p.append(b, document.createTextNode(value)); return p;
}
function figure(f) {
  const n = x => Number(x).toLocaleString('en-US');
  if (f.value === null && f.low === null) return f.unit + ': ' + (f.qualifier || 'no number written');
  const amount = f.value !== null ? n(f.value) : n(f.low) + '–' + n(f.high);
  return [f.qualifier, amount, f.unit].filter(Boolean).join(' ');
}
function show(id) {
  const found = byId[id]; if (!found) return;
  const it = found.item;
  details.replaceChildren();
  const h = document.createElement('h3'); h.textContent = id + ' (' + found.kind + ')'; details.append(h);
  if (found.kind === 'claim') {
    const who = [it.claimant, ...(it.also || []).map(o => o.name)];
    const claimants = who.length > 1 ? who.slice(0, -1).join(', ') + ' and ' + who[who.length - 1] : who[0];
    details.append(row(who.length > 1 ? 'Claimants' : 'Claimant', claimants), row('Status', it.status), row('Statement', it.statement));
    if (it.figures.length) details.append(row('Figures', it.figures.map(figure).join('; ')));
    if (it.source) details.append(row('Source, as written', it.source.quote + ' [' + it.source.start + ':' + it.source.end + ']'));
    if (it.cue) details.append(row('Cue', it.cue.quote));
    details.append(row('Evidence', it.evidence.quote + ' [' + it.evidence.start + ':' + it.evidence.end + ', ' + it.evidence.match + ']'));
  } else if (found.kind === 'uncertainty') {
    details.append(row('Kind', it.kind), row('Description', it.description), row('Evidence', it.evidence.quote));
    if (it.claim_ids.length) details.append(row('Concerns', it.claim_ids.join(', ')));
  } else {
    details.append(row('Name', it.name), row('Kind', it.kind), row('Role', it.role));
  }
  details.hidden = false;
  document.querySelectorAll('mark.selected').forEach(m => m.classList.remove('selected'));
  const marks = document.querySelectorAll('mark[data-ids~="' + id + '"]');
  marks.forEach(m => m.classList.add('selected'));
  if (marks.length) marks[0].scrollIntoView({block: 'center'});
}
document.querySelectorAll('button.item').forEach(b => b.addEventListener('click', () => show(b.dataset.id)));
document.querySelectorAll('mark[data-ids]').forEach(m => m.addEventListener('click', () => {
  const ids = m.dataset.ids.split(' ');
  show(ids.find(i => i.startsWith('C')) || ids.find(i => i.startsWith('U')) || ids[0]);
}));
"""


def _html_spans(brief: Brief) -> list[tuple[int, int, str, str]]:
    """(start, end, css class, item id) of everything highlighted in the source."""
    spans = [(a.mention.start, a.mention.end, "actor", a.id) for a in brief.actors]
    for claim in brief.claims:
        spans.append((claim.evidence.start, claim.evidence.end, "claim", claim.id))
        if claim.cue:
            spans.append((claim.cue.start, claim.cue.end, "cue", claim.id))
        if claim.source:
            spans.append((claim.source.start, claim.source.end, "source", claim.id))
    spans += [(u.evidence.start, u.evidence.end, "uncertainty", u.id) for u in brief.uncertainties]
    return spans


def highlighted_source(text: str, brief: Brief) -> str:
    """The source as escaped HTML, each highlighted stretch one <mark> with every class covering it."""
    from html import escape

    spans = [s for s in _html_spans(brief) if 0 <= s[0] < s[1] <= len(text)]
    cuts = sorted({0, len(text), *(s[0] for s in spans), *(s[1] for s in spans)})
    starting: dict[int, list[int]] = {}  # cut → the spans (by their place in ``spans``) that open there
    ending: dict[int, list[int]] = {}
    for number, span in enumerate(spans):
        starting.setdefault(span[0], []).append(number)
        ending.setdefault(span[1], []).append(number)
    open_spans: set[int] = set()
    out = []
    for start, end in pairwise(cuts):  # one sweep: the spans open over a stretch are those covering it
        open_spans.difference_update(ending.get(start, ()))
        open_spans.update(starting.get(start, ()))
        covering = [spans[number] for number in sorted(open_spans)]
        piece = escape(text[start:end])
        if not covering:
            out.append(piece)
            continue
        classes = " ".join(sorted({s[2] for s in covering}))
        ids = " ".join(dict.fromkeys(s[3] for s in covering))
        anchors = "".join(f'<span id="at-{s[3]}-{s[2]}"></span>' for s in covering if s[0] == start)
        out.append(f'{anchors}<mark class="{classes}" data-ids="{ids}">{piece}</mark>')
    return "".join(out)


def to_html(brief: Brief, text: str, reviewed: Reviewed | None = None) -> str:
    """One self-contained HTML page: the source with highlights, a legend, clickable items (with
    ``reviewed``: rejected items left out or marked, corrected claimants, each decision marked)."""
    import json
    from html import escape

    line = review_line(brief, reviewed)
    brief, marks = as_judged(brief, reviewed)

    def judged(item_id: str) -> str:
        return f' <span class="review">{escape(marks[item_id])}</span>' if item_id in marks else ""

    doc = brief.document
    title = doc.title or (Path(doc.path).name if doc.path else "Brief")
    claims = (
        "".join(
            f'<li><button class="item" data-id="{c.id}">{c.id} · {escape(joined(c.claimants))}'
            + (
                f" — <i>{escape(words)}</i>"
                if (words := source_words(joined(c.claimants), c.source.quote if c.source else None))
                else ""
            )
            + " "
            f'<span class="status">{c.status.value}</span> — {escape(c.statement)}'
            + (f' <span class="check" title="{escape(c.check)}">check: {escape(c.check)}</span>' if c.check else "")
            + judged(c.id)
            + "</button></li>"
            for c in brief.claims
        )
        or "<li>none</li>"
    )
    uncertainties = (
        "".join(
            f'<li><button class="item" data-id="{u.id}">{u.id} · <span class="status">{u.kind.value}</span> '
            f"{escape(u.description)}{judged(u.id)}</button></li>"
            for u in brief.uncertainties
        )
        or "<li>none</li>"
    )
    actors = (
        "".join(
            f'<li><button class="item" data-id="{a.id}">{a.id} · {escape(a.name)} ({a.kind.value}) — '
            f"{escape(a.role)}{judged(a.id)}</button></li>"
            for a in brief.actors
        )
        or "<li>none</li>"
    )
    rejected = "".join(f"<li>{escape(r.kind)}: {escape(r.reason)}</li>" for r in brief.rejected) or "<li>none</li>"
    payload = (
        json.dumps(brief.model_dump(mode="json", include={"actors", "claims", "uncertainties"}), ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    meta = " · ".join(escape(m) for m in (published(doc.outlet, doc.date, doc.author), doc.url or doc.path, line) if m)
    run = brief.run
    made = (
        f"Made by the model {escape(run.model)} ({escape(run.provider)}): {run.attempts} call(s), "
        f"{run.usage.total_tokens} tokens, prompt version {escape(run.prompt_version)}."
        if run.provider != RULES_PROVIDER
        else "Made by rules (no model): no call, nothing sent out."
    )
    if how_made(brief):
        made += " " + escape(how_made(brief) or "")
    elif run.model == EMBEDDED_MODEL:
        made += " This is the embedded 135M demo model: its briefs are thin; use a capable model for real ones."

    covered = [(c.evidence.start, c.evidence.end) for c in brief.claims]
    covered += [(u.evidence.start, u.evidence.end) for u in brief.uncertainties]
    gaps = coverage_gaps(text, covered)
    gap_items = (
        "".join(
            f'<li><span class="status">{escape(", ".join(g.cues))}</span> [{g.start}:{g.end}] {escape(g.sentence)}</li>'
            for g in gaps
        )
        or "<li>none</li>"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>{escape(title)}</title><style>{_HTML_STYLE}</style></head>
<body>
<header><h1>{escape(title)}</h1><p class="meta">{meta}</p><p class="meta" id="made-by">{made}</p><p>{escape(brief.summary)}</p>
<p class="legend"><mark class="actor">actor</mark><mark class="claim">claim evidence</mark><mark class="cue">attribution cue</mark><mark class="source">source, as written</mark><mark class="uncertainty">uncertainty</mark></p></header>
<main><article><div class="text" id="source">{highlighted_source(text, brief)}</div></article>
<aside><div id="details" hidden></div>
<h2>Claims ({len(brief.claims)})</h2><ol id="claims">{claims}</ol>
<h2>Uncertainties ({len(brief.uncertainties)})</h2><ol id="uncertainties">{uncertainties}</ol>
<h2>Actors ({len(brief.actors)})</h2><ol id="actors">{actors}</ol>
<h2>Coverage gaps ({len(gaps)})</h2><p class="meta">Sentences with an attribution or hedging cue that no claim or uncertainty covers.</p><ul class="gaps" id="gaps">{gap_items}</ul>
<h2>Rejected ({len(brief.rejected)})</h2><ul class="rejected">{rejected}</ul></aside></main>
<script type="application/json" id="brief-data">{payload}</script>
<script>{_HTML_SCRIPT}</script>
</body></html>
"""


# --------------------------------------------------------------------------
# Terminal review (rich): colours on a terminal, plain text otherwise
# --------------------------------------------------------------------------


# Where colour is off (a pipe, a file, NO_COLOR) the highlighted evidence is marked in the text itself.
PLAIN_MARKS = (">>", "<<")


def in_sentence(text: str | None, span: Any, plain: bool = False) -> Any:
    """The evidence inside its sentence, the quote highlighted (a rich Text): by colour on a
    terminal, between ``PLAIN_MARKS`` otherwise. Every part is made inert first."""
    from rich.text import Text

    from .grounding import sentence_bounds

    if text is None or text[span.start : span.end] != span.quote:
        return Text(f"“{inert(span.quote, newlines=False)}”", style="italic")
    start, end = sentence_bounds(text, span.start)
    start, end = min(start, span.start), max(end, span.end)
    before, quote, after = (
        inert(part, newlines=False) for part in (text[start : span.start], span.quote, text[span.end : end])
    )
    if plain:
        return Text(f"{before}{PLAIN_MARKS[0]}{quote}{PLAIN_MARKS[1]}{after}")
    line = Text(before + quote + after)
    line.stylize("bold black on yellow", len(before), len(before) + len(quote))
    return line


def rich_text(value: str | None, style: str = "") -> Any:
    """A model's or a document's string for rich: inert, and a Text, so never read as markup."""
    from rich.text import Text

    return Text(inert(value or "", newlines=False), style=style)


def print_review(brief: Brief, text: str | None, console: Any, reviewed: Reviewed | None = None) -> None:
    """Summary, actors, claims with their evidence in context, uncertainties, rejected items (and, with
    ``reviewed``, a person's decisions).

    Every string from the model or the document goes through ``inert`` into a rich ``Text``: no
    terminal escape reaches the terminal and no "[…]" is read as markup, whatever the console."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    line = review_line(brief, reviewed)
    brief, marks = as_judged(brief, reviewed)

    plain = console.no_color or console.color_system is None or not console.is_terminal
    doc = brief.document
    title = doc.title or (Path(doc.path).name if doc.path else "Brief")
    console.print(
        Panel(
            Text(inert(brief.summary)) if brief.summary else Text("(no summary)"),
            title=rich_text(title),
            subtitle=rich_text(made_by(brief)),
        )
    )
    if where := published(doc.outlet, doc.date, doc.author):
        console.print(rich_text(where, "dim"))
    if how_made(brief):
        console.print(rich_text(how_made(brief), "dim"))
    if line:
        console.print(rich_text(line, "bold"))
    actors = Table(title=f"Actors ({len(brief.actors)})", show_lines=False)
    for column in ("id", "name", "kind", "role", "aliases"):
        actors.add_column(column)
    for a in brief.actors:
        role = rich_text(a.role + (f" [{marks[a.id]}]" if a.id in marks else ""))
        actors.add_row(a.id, rich_text(a.name), a.kind.value, role, rich_text(", ".join(a.aliases)))
    console.print(actors)
    console.print(Text(f"Claims ({len(brief.claims)})", style="bold underline"))
    for c in brief.claims:
        cue = f" ({inert(c.cue.quote, newlines=False)})" if c.cue else ""
        console.print(
            Text.assemble(
                (f"{c.id} ", "bold"),
                rich_text(joined(c.claimants), "cyan"),
                *(
                    (" — ", rich_text(words, "italic"))
                    if (words := source_words(joined(c.claimants), c.source.quote if c.source else None))
                    else ()
                ),
                cue,
                " — ",
                (c.status.value, "magenta"),
                ": ",
                rich_text(c.statement),
            )
        )
        if c.figures:
            console.print(Text.assemble("   figures: ", rich_text(_figures(c.figures))))
        if c.check:
            console.print(Text.assemble(("   check: ", "bold yellow"), rich_text(c.check)))
        if c.id in marks:
            console.print(Text.assemble(("   review: ", "bold green"), rich_text(marks[c.id])))
        console.print(Text("   ").append_text(in_sentence(text, c.evidence, plain)))
    console.print(Text(f"Uncertainties ({len(brief.uncertainties)})", style="bold underline"))
    for u in brief.uncertainties:
        concerns = f" (concerns {', '.join(u.claim_ids)})" if u.claim_ids else ""
        console.print(
            Text.assemble((f"{u.id} ", "bold"), (u.kind.value, "red"), ": ", rich_text(u.description), concerns)
        )
        if u.id in marks:
            console.print(Text.assemble(("   review: ", "bold green"), rich_text(marks[u.id])))
        console.print(Text("   ").append_text(in_sentence(text, u.evidence, plain)))
    if brief.rejected:
        console.print(Text(f"Rejected ({len(brief.rejected)})", style="bold underline"))
        for r in brief.rejected:
            console.print(rich_text(f"- {r.kind}: {r.reason}", "dim"))


VERDICT_STYLE = {"differ": "bold red", "overlap": "yellow", "agree": "green"}
VERDICT_WORDS = {"differ": "differ", "overlap": "ranges overlap", "agree": "agree"}


def digest_markdown(digest: Digest) -> str:
    """The daily brief as Markdown, by story; every string from a model, a document or a file name is escaped."""
    actors = {actor.id: actor for actor in digest.actors}
    out = ["# Daily brief", ""]
    stories = len(digest.stories)
    together = sum(1 for s in digest.stories if len(s.documents) > 1)
    out.append(
        f"{len(digest.documents)} documents briefed in {stories} "
        f"stor{'y' if stories == 1 else 'ies'} ({together} told by more than one document), "
        f"{len(digest.failures)} missing." + (f" Compared with {md(digest.since)}." if digest.since else "")
    )
    if digest.stories_by == "rules":
        out += ["", f"*{md(RULE_STORIES)}*"]
    elif digest.synthesis_error:
        out += ["", f"*Stories, contradictions and questions may be missing: {md(digest.synthesis_error)}*"]
    if digest.failures:
        out += ["", "## Missing", ""] + [
            f"- {md(f.source)}: {md(f.status)}" + (f" — {md(f.error)}" if f.error else "") for f in digest.failures
        ]
    for story in digest.stories:
        change = f" *[{story.change}]*" if story.change else ""
        out += ["", f"## {md(story.name)}{change}", ""]
        files = ", ".join(
            f"{key} ({md(digest.published[key] + ': ' if digest.published.get(key) else '')}"
            f"{md(digest.documents[key])})"
            for key in story.documents
        )
        out.append(f"Documents: {files}")
        names = [md(actors[a].name) for a in story.actors if a in actors]
        if names:
            out.append("")
            out.append("Actors: " + ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else ""))
        if story.contradictions:
            out += ["", "### Contradictions", ""]
            out += [
                f"- {md(c.description)} ({md(', '.join(c.side_a))} vs {md(', '.join(c.side_b))})"
                for c in story.contradictions
            ]
        if story.figures:
            out += ["", "### Figures compared", ""]
            for comparison in story.figures:
                flag = VERDICT_WORDS[comparison.verdict]
                out.append(
                    f"- {md(comparison.subject)}: {'**' + flag + '**' if comparison.verdict == 'differ' else flag}"
                )
                out += [
                    f"  - {md(item.ref)} {md(item.claimant)} ({item.status.value}): {md(format_figure(item.figure))}"
                    for item in comparison.figures
                ]
        if story.open_questions:
            out += ["", "### Open questions", ""]
            out += [f"- {md(q.question)} ({md(', '.join(q.claim_ids))})" for q in story.open_questions]
        if story.claim_groups:
            out += ["", "### Claims by claimant", ""]
            for group in story.claim_groups:
                out.append(f"- **{md(group.actor)}**")
                for claim in group.claims:
                    change = f" *[{md(claim.change)}]*" if claim.change else ""
                    words = source_words(group.actor, claim.source)
                    said = f" — *{md(words)}*" if words else ""
                    out.append(f"  - {md(claim.ref)}{said} *{claim.status.value}*: {md(claim.statement)}{change}")
    if digest.duplicates:
        out += ["", "## The same text under several names", ""] + [
            f"- {md(key)} ({md(digest.documents.get(key, ''))}): also {md(', '.join(paths))}"
            for key, paths in digest.duplicates.items()
        ]
    return "\n".join(out) + "\n"


def print_digest_review(digest: Any, console: Any) -> None:
    """The daily brief in the terminal, story by story: documents, actors, contradictions, figures compared,
    open questions, claims by claimant. Every string from a model, a document or a file name is inert (see
    ``print_review``)."""
    from rich.text import Text

    def heading(title: str, style: str = "bold underline") -> None:
        console.print(rich_text(title, style))

    def line(*parts: Any) -> None:
        console.print(Text.assemble(*(rich_text(part) if isinstance(part, str) else part for part in parts)))

    actors = {actor.id: actor.name for actor in digest.actors}
    console.print(
        Text(
            f"Daily brief: {len(digest.documents)} documents in {len(digest.stories)} stories, "
            f"{len(digest.failures)} missing",
            style="bold",
        )
    )
    if digest.stories_by == "rules":
        console.print(rich_text(f"({RULE_STORIES})", "dim"))
    elif digest.synthesis_error:
        console.print(
            rich_text(f"(stories, contradictions and questions may be missing: {digest.synthesis_error})", "dim")
        )
    if digest.failures:
        heading("Missing")
        for failure in digest.failures:
            console.print(rich_text(f"- {failure.source}: {failure.status} {failure.error or ''}", "red"))
    for story in digest.stories:
        console.print()
        heading(f"{story.id} {story.name}" + (f" [{story.change}]" if story.change else ""), "bold cyan")
        line("  documents: " + ", ".join(f"{k} {digest.documents.get(k, '')}" for k in story.documents))
        if story.actors:
            names = [actors[a] for a in story.actors if a in actors]
            line("  actors: " + ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else ""))
        for item in story.contradictions:
            line(
                Text("  contradiction: ", "bold red"),
                f"{item.description} ({', '.join(item.side_a)} vs {', '.join(item.side_b)})",
            )
        for comparison in story.figures:
            line(
                f"  figures, {comparison.subject}: ",
                Text(VERDICT_WORDS[comparison.verdict], VERDICT_STYLE[comparison.verdict]),
            )
            for item in comparison.figures:
                line(f"    {item.ref} {item.claimant} ({item.status.value}): {format_figure(item.figure)}")
        for question in story.open_questions:
            line(f"  open question: {question.question} ({', '.join(question.claim_ids)})")
        for group in story.claim_groups:
            console.print(rich_text(f"  {group.actor}", "cyan"))
            for claim in group.claims:
                change = f" [{claim.change}]" if claim.change else ""
                words = source_words(group.actor, claim.source)
                said = f" — {words}" if words else ""
                line(f"    {claim.ref}{said} {claim.status.value}: {claim.statement}{change}")
    if digest.duplicates:
        heading("The same text under several names")
        for key, paths in digest.duplicates.items():
            line(f"- {key} {digest.documents.get(key, '')}: also {', '.join(paths)}")


def digest_html(digest: Any, pages: dict[str, str]) -> str:
    """The daily brief as one self-contained page, story by story; ``pages`` maps brief files to their pages."""
    from html import escape

    def link(reference: str) -> str:
        key, _, claim = reference.partition(":")
        page = pages.get(digest.documents.get(key, ""))
        text = escape(reference)
        return f'<a href="{escape(url_quote(page))}#at-{escape(url_quote(claim))}-claim">{text}</a>' if page else text

    def document(key: str) -> str:
        file = digest.documents.get(key, "")
        name = f'<a href="{escape(url_quote(pages[file]))}">{escape(file)}</a>' if file in pages else escape(file)
        also = digest.duplicates.get(key)
        where = digest.published.get(key)
        return (
            f"{escape(key)}: "
            + (f"{escape(where)} — " if where else "")
            + name
            + (f" (the same text also in {escape(', '.join(also))})" if also else "")
        )

    def rows(title: str, items: list[str]) -> str:
        if not items:
            return ""
        return f"<h3>{title} ({len(items)})</h3><ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"

    actors = {actor.id: actor for actor in digest.actors}
    parts = []
    if digest.stories_by == "rules":
        parts.append(f'<p class="meta">{escape(RULE_STORIES)}</p>')
    elif digest.synthesis_error:
        parts.append(
            f'<p class="meta">Stories, contradictions and questions may be missing: '
            f"{escape(digest.synthesis_error)}</p>"
        )
    parts.append(
        rows("Missing", [f"{escape(f.source)}: {escape(f.status)} {escape(f.error or '')}" for f in digest.failures])
    )
    for story in digest.stories:
        change = f" <small>[{escape(story.change)}]</small>" if story.change else ""
        parts.append(f'<section id="{escape(story.id)}"><h2>{escape(story.name)}{change}</h2>')
        parts.append(rows("Documents", [document(key) for key in story.documents]))
        parts.append(
            rows(
                "Actors",
                [
                    f"{escape(actors[a].name)} ({escape(', '.join(k.value for k in actors[a].kinds))})"
                    for a in story.actors
                    if a in actors
                ],
            )
        )
        parts.append(
            rows(
                "Contradictions",
                [
                    f"{escape(c.description)} ({', '.join(map(link, c.side_a))} vs {', '.join(map(link, c.side_b))})"
                    for c in story.contradictions
                ],
            )
        )
        parts.append(
            rows(
                "Figures compared",
                [
                    f"{escape(c.subject)}: <b>{VERDICT_WORDS[c.verdict]}</b><ul>"
                    + "".join(
                        f"<li>{link(f.ref)} {escape(f.claimant)} <i>{f.status.value}</i>: "
                        f"{escape(format_figure(f.figure))}</li>"
                        for f in c.figures
                    )
                    + "</ul>"
                    for c in story.figures
                ],
            )
        )
        parts.append(
            rows(
                "Open questions",
                [f"{escape(q.question)} ({', '.join(map(link, q.claim_ids))})" for q in story.open_questions],
            )
        )
        parts.append(
            rows(
                "Claims by claimant",
                [
                    f"<b>{escape(g.actor)}</b><ul>"
                    + "".join(
                        f"<li>{link(c.ref)}"
                        + (f" — <i>{escape(w)}</i>" if (w := source_words(g.actor, c.source)) else "")
                        + f" <i>{c.status.value}</i>: {escape(c.statement)}"
                        f"{' [' + escape(c.change) + ']' if c.change else ''}</li>"
                        for c in g.claims
                    )
                    + "</ul>"
                    for g in story.claim_groups
                ],
            )
        )
        parts.append("</section>")
    sections = "".join(parts)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Daily brief</title><style>{_HTML_STYLE} main{{display:block}}</style></head>
<body><header><h1>Daily brief</h1><p class="meta">{len(digest.documents)} documents in {len(digest.stories)} stories,
 {len(digest.failures)} missing</p></header>
<main>{sections}</main></body></html>
"""


# --------------------------------------------------------------------------
# The closing lines of a daily run (the CLI prints them)
# --------------------------------------------------------------------------

ReportLine = tuple[Literal["error", "summary", "note"], str]


def status_counts(manifest: Manifest) -> str:
    """A manifest's entries counted by status: "3 ok, 1 failed"."""
    return ", ".join(f"{n} {status}" for status, n in sorted(manifest.counts().items()))


def failure_lines(manifest: Manifest) -> list[str]:
    """One line per failed document: its error, led by its source."""
    lines = []
    for entry in manifest.entries:
        if entry.status == "failed":
            error = entry.error or "failed"
            lines.append(error if error.startswith(entry.source) else f"{entry.source}: {error}")
    return lines


def daily_report(
    manifest: Manifest, out: Path, *, note: str | None = None, synthesis_error: str | None = None
) -> list[ReportLine]:
    """What a finished daily run says last, in order: its failures (errors), the closing line (counts,
    tokens and the Batch API's share of them, cost, time, the digest's path), ``note`` (an embedded run's,
    said of the daily command) and the digest's failed synthesis (an error)."""
    lines: list[ReportLine] = [("error", line) for line in failure_lines(manifest)]
    cost = f", ${manifest.cost:.4f}" if manifest.cost is not None else ""
    batched = manifest.batch_usage.total_tokens
    share = f"; {batched} of them answered by the Batch API" if batched else ""
    lines.append(
        (
            "summary",
            f"{status_counts(manifest)}; {manifest.usage.total_tokens} tokens ({manifest.usage.prompt_tokens} "
            f"prompt + {manifest.usage.completion_tokens} completion{share}){cost} in {manifest.wall_s:.1f} s; "
            f"digest: {out / 'digest.md'}",
        )
    )
    if note:
        lines.append(("note", note.replace("summarizer brief FILE", "summarizer daily INBOX --out DAY")))
    if synthesis_error is not None:
        lines.append(("error", f"the digest's synthesis: {synthesis_error}"))
    return lines
