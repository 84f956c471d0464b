"""PDF and Word files to plain text and their properties, bounded against hostile files.

A document's text here is what every offset of its brief indexes: paragraphs one per block, separated by a
blank line, as in the project's plain-text articles. The text is saved beside the brief (``.source.txt``),
so ``check`` and the pages never need the PDF or DOCX again.

PDF: pypdfium2 (PDFium), chosen on ``bench/pdf_text.py``: the same text fidelity as pdfminer.six and better
than pypdf's on soft hyphens, at a fifth of pdfminer's time. PDFium is C and a PDF can be a bomb (a content
stream of a few KiB that inflates to gigabytes) or crash it, so it runs in a child process of its own
(``python -m summarizer.formats``) with an address-space limit (``PDF_MEMORY``) and a time limit
(``PDF_SECONDS``): a hostile PDF costs that child, never the run. The page text is rebuilt from each
character's box: lines, paragraphs by the gaps between lines, running headers and page numbers dropped,
paragraphs cut by a page or column break joined again, line-end hyphens resolved (``reflow``).

Limits: a file is at most ``documents.MAX_BYTES`` before it reaches here; a DOCX's zip members may not
expand past ``MAX_EXPANDED`` (a zip bomb), a PDF may have at most ``MAX_PAGES`` pages, and the text of
either at most ``MAX_TEXT_CHARS`` characters. Every refusal is a ``DocumentError`` that says why.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import re
import statistics
import subprocess
import sys
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .errors import DocumentError

MAX_EXPANDED = 200 * 1024 * 1024  # a DOCX's zip members, expanded, all together
MAX_DOCUMENT_XML = 50 * 1024 * 1024  # its text part: a book is a few MiB; past this the parse costs gigabytes
MAX_PAGES = 2_000
MAX_TEXT_CHARS = 10 * 1024 * 1024  # as a text file's limit: far beyond any model's context
TOO_LONG = f"its text is over {MAX_TEXT_CHARS // 1_048_576} M characters, the limit; split the file"
MIN_TEXT_CHARS = 20  # a PDF with less text than this over all its pages has no text layer worth briefing
PDF_MEMORY = 1024 * 1024 * 1024  # the PDF reader's address space (its child process)
PDF_SECONDS = 120.0  # the PDF reader's time: 2,000 pages take about 20 s here


@dataclass(frozen=True)
class Extracted:
    """A file's text and the properties it declares (None where it declares none)."""

    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None  # ISO 8601 (YYYY-MM-DD) when the file gives one


def _clean(value: Any) -> str | None:
    """A property as one short line, or None when empty."""
    if value is None:
        return None
    text = " ".join(str(value).split())[:300]
    return text or None


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    return None


def _bounded(text: str, path: str) -> str:
    if len(text) > MAX_TEXT_CHARS:
        raise _too_long(path)
    return text


def _too_long(path: str) -> DocumentError:
    return DocumentError(f"{path}: {TOO_LONG}")


# --------------------------------------------------------------------------
# Word (.docx)
# --------------------------------------------------------------------------


def docx_text(data: bytes, path: str) -> Extracted:
    """The paragraphs (and table cells, in reading order) of a Word file, with its core properties."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DocumentError(
            f"{path}: not a Word (.docx) file: it is not a zip archive (a .doc needs converting)"
        ) from None
    with archive:
        expanded = sum(member.file_size for member in archive.infolist())
        if expanded > MAX_EXPANDED:
            raise DocumentError(
                f"{path}: its parts expand to {expanded / 1_048_576:.0f} MiB, over the "
                f"{MAX_EXPANDED // 1_048_576} MiB limit (a zip bomb, or a file of mostly images)"
            )
        if "word/document.xml" not in archive.namelist():
            raise DocumentError(f"{path}: not a Word (.docx) file: it has no word/document.xml")
        body = archive.getinfo("word/document.xml").file_size
        if body > MAX_DOCUMENT_XML:
            raise DocumentError(
                f"{path}: its text part is {body / 1_048_576:.0f} MiB, over the {MAX_DOCUMENT_XML // 1_048_576} "
                "MiB limit; split the document"
            )
    import docx  # python-docx

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = _docx_blocks(document, path)
    except DocumentError:
        raise
    except Exception as error:  # noqa: BLE001 — any parser failure is a bad input, said once
        raise DocumentError(f"{path}: cannot read this Word file ({type(error).__name__}: {error})") from None
    properties = document.core_properties
    return Extracted(
        text=_bounded("\n\n".join(blocks), path),
        title=_clean(properties.title),
        author=_clean(properties.author),
        date=_iso(properties.created),
    )


def _docx_blocks(document: Any, path: str) -> list[str]:
    from docx.table import Table

    blocks: list[str] = []
    size = 0
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            seen: set[int] = set()
            texts = []
            for row in block.rows:
                for cell in row.cells:
                    if id(cell._tc) in seen:  # a merged cell is returned once per grid column it spans
                        continue
                    seen.add(id(cell._tc))
                    texts.append(cell.text)
        else:
            texts = [block.text]
        for text in texts:
            text = _paragraph(text)
            if text:
                blocks.append(text)
                size += len(text) + 2
        if size > MAX_TEXT_CHARS:
            raise _too_long(path)
    return blocks


_SPACES = re.compile(r"[ \t\u00a0]*\n[ \t\u00a0]*")


def _paragraph(text: str) -> str:
    """One paragraph: a line break inside it (Shift+Enter) kept as a single newline, the ends trimmed."""
    return _SPACES.sub("\n", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


# --------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------


def pdf_text(data: bytes, path: str) -> Extracted:
    """The text layer of a PDF, read by PDFium in a child process bounded in memory and time."""
    memory, seconds = PDF_MEMORY, PDF_SECONDS
    if b"%PDF-" not in data[:1024]:  # where PDF readers look for the header
        raise DocumentError(f"{path}: cannot read this PDF: no %PDF- header in its first KiB (not a PDF file)")
    command = [sys.executable, "-m", "summarizer.formats", "pdf", str(memory)]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=seconds, check=False)
    except subprocess.TimeoutExpired:
        raise DocumentError(f"{path}: reading this PDF took over {seconds:g} s; it was stopped") from None
    if done.returncode != 0 or not done.stdout:
        trouble = done.stderr.decode("utf-8", "replace")
        if "MemoryError" in trouble or "bad_alloc" in trouble or done.returncode < 0:
            raise DocumentError(
                f"{path}: reading this PDF needed over {memory // 1_048_576} MiB of memory (a PDF bomb?); "
                "it was stopped"
            )
        last = trouble.strip().splitlines()[-1:] or ["no reason given"]
        raise DocumentError(f"{path}: cannot read this PDF ({last[0][:200]})")
    answer = json.loads(done.stdout)
    if "error" in answer:
        raise DocumentError(f"{path}: {answer['error']}")
    extracted = Extracted(**answer)
    if len(extracted.text.strip()) < MIN_TEXT_CHARS:
        raise DocumentError(
            f"{path}: no text found in this PDF (a scan or pictures of text?); it needs OCR first, which "
            "summarizer does not do"
        )
    _bounded(extracted.text, path)
    return extracted


@dataclass(frozen=True)
class Line:
    page: int
    left: float
    right: float
    bottom: float
    height: float
    text: str


def _pdf_here(data: bytes) -> dict[str, Any]:
    """In the child: the PDF's text and properties (an ``error`` key for a refusal)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        return {"error": f"cannot read this PDF ({error})"}
    pages = len(pdf)
    if pages > MAX_PAGES:
        return {"error": f"it has {pages} pages, over the {MAX_PAGES} limit; split it"}
    lines: list[Line] = []
    heights: list[float] = []
    size = 0
    for number in range(pages):
        page = pdf[number]
        heights.append(page.get_height())
        textpage = page.get_textpage()
        first = len(lines)
        current: list[Any] | None = None  # [left, right, bottom, height, characters]
        for index in range(textpage.count_chars()):
            char = chr(raw.FPDFText_GetUnicode(textpage.raw, index))
            if char in "\r\n":
                continue
            left, bottom, right, top = textpage.get_charbox(index, loose=True)
            if current is not None and abs(bottom - current[2]) <= 0.5 * current[3] and left >= current[1] - current[3]:
                current[1], current[3] = max(current[1], right), max(current[3], top - bottom)
                current[4].append(char)
                continue
            if current is not None:
                lines.append(
                    Line(number, current[0], current[1], current[2], current[3], _hyphens("".join(current[4])))
                )
            current = [left, right, bottom, top - bottom, [char]]
        if current is not None:
            lines.append(Line(number, current[0], current[1], current[2], current[3], _hyphens("".join(current[4]))))
        size += sum(len(line.text) + 1 for line in lines[first:])
        if size > MAX_TEXT_CHARS:
            return {"error": TOO_LONG}
    properties = pdf.get_metadata_dict(skip_empty=True)
    return {
        "text": reflow(lines, heights),
        "title": _clean(properties.get("Title")),
        "author": _clean(properties.get("Author")),
        "date": _pdf_date(properties.get("CreationDate")),
    }


def _hyphens(text: str) -> str:
    """PDFium marks a hyphen at a line end as U+0002 (or U+FFFE): it is the "-" drawn there."""
    return re.sub("[\x02\ufffe]", "-", text)


def _pdf_date(value: str | None) -> str | None:
    """A PDF date ("D:20170721093000+02'00'") as YYYY-MM-DD."""
    match = re.match(r"(?:D:)?(\d{4})(\d{2})(\d{2})", value or "")
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return None


def _furniture(lines: list[Line], pages: int) -> set[tuple[str, int]]:
    """Running headers and footers: the same text (its numbers aside) at the same height on at least half the
    pages, and on two at least."""
    seen: defaultdict[tuple[str, int], set[int]] = defaultdict(set)
    for line in lines:
        seen[_place(line)].add(line.page)
    need = max(2, math.ceil(pages / 2))
    return {key for key, found in seen.items() if len(found) >= need}


def _place(line: Line) -> tuple[str, int]:
    return re.sub(r"\d+", "#", " ".join(line.text.split())), round(line.bottom / 3)


def _paragraphs(lines: list[Line]) -> list[list[Line]]:
    """Lines into paragraphs: a new one where the step down is over 1.3 times the usual leading of lines of
    that size, where the next line is higher (a new column), or on another page."""
    steps: defaultdict[int, list[float]] = defaultdict(list)
    for above, below in itertools.pairwise(lines):
        if above.page == below.page and round(above.height) == round(below.height) and above.bottom > below.bottom:
            steps[round(below.height)].append(above.bottom - below.bottom)
    leading = {height: statistics.median(found) for height, found in steps.items()}
    blocks: list[list[Line]] = []
    for line in lines:
        last = blocks[-1][-1] if blocks else None
        usual = leading.get(round(line.height), 1.25 * line.height)
        if last is None or last.page != line.page or not 0 < last.bottom - line.bottom <= 1.3 * usual:
            blocks.append([line])
        else:
            blocks[-1].append(line)
    return blocks


_SOFT_END = re.compile(r"(\w)\s*[\xad\u2010]$")  # a soft hyphen, or U+2010 as Chromium draws one at a break
_HARD_END = re.compile(r"(\w)-$")
_ENDS_SENTENCE = tuple('.!?:;"”’)…')


_PAGE_NUMBER = re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$|^[-–—]\s*\d{1,4}\s*[-–—]$", re.I)


def _margin_number(line: Line, heights: list[float]) -> bool:
    """A page number: a line that is only a number ("7", "Page 7 of 9", "- 7 -") in the top or bottom eighth."""
    height = heights[line.page]
    return bool(_PAGE_NUMBER.match(line.text.strip())) and not height / 8 < line.bottom < height * 7 / 8


def reflow(lines: list[Line], heights: list[float]) -> str:
    """The project's text form: paragraphs separated by a blank line, a paragraph's lines joined by a space.
    ``heights``: each page's height. (``bench/pdf_text.py`` runs the other candidate libraries' lines through
    it too.)"""
    kept = body(lines, heights)
    return join(_paragraphs(kept), kept)


def body(lines: list[Line], heights: list[float]) -> list[Line]:
    """The lines that are the document's: running headers and footers and page numbers dropped."""
    furniture = _furniture(lines, len(heights))
    return [
        line
        for line in lines
        if line.text.strip() and _place(line) not in furniture and not _margin_number(line, heights)
    ]


def join(blocks: list[list[Line]], lines: list[Line]) -> str:
    """Blocks of lines (paragraphs, or the parts a page or column break cut them into) as the text: the parts
    of one paragraph joined again, lines joined by a space, soft hyphens removed, line-end hyphens decided."""
    column: defaultdict[tuple[int, int], list[float]] = defaultdict(list)  # (page, left edge) → line widths
    for line in lines:
        column[(line.page, round(line.left / 10))].append(line.right - line.left)
    widest = {key: max(found) for key, found in column.items() if len(found) >= 3}
    merged: list[list[Line]] = []
    for block in blocks:
        if merged:
            end, start = merged[-1][-1], block[0]
            moved = end.page != start.page or start.bottom > end.bottom  # a page or column break between them
            # The part before fills its column's line (a column of one or two lines tells nothing).
            full = end.right - end.left >= 0.85 * widest.get((end.page, round(end.left / 10)), math.inf)
            same_type = abs(end.height - start.height) <= 0.15 * max(end.height, start.height)
            if (
                moved
                and same_type
                and not end.text.rstrip().endswith(_ENDS_SENTENCE)
                and (full or start.text.lstrip()[:1].islower())
            ):
                merged[-1] = merged[-1] + block
                continue
        merged.append(block)
    paragraphs = []
    for block in merged:
        out = ""
        for line in block:
            text = " ".join(line.text.split())
            if not out:
                out = text
            elif _SOFT_END.search(out):
                out = _SOFT_END.sub(r"\1", out) + text
            elif _HARD_END.search(out):
                out += "\x00" + text  # decided below, once the whole document's words are known
            else:
                out += " " + text
        paragraphs.append(out.replace("\xad", ""))
    text = "\n\n".join(paragraph for paragraph in paragraphs if paragraph)
    words = set(re.findall(r"\w+(?:-\w+)*", re.sub(r"\w+-\x00\w+", " ", text).lower()))

    def hyphen(match: re.Match[str]) -> str:
        """A word broken at a line end: joined when the document writes it whole elsewhere, never hyphenated."""
        whole = (match[1] + match[2]).lower() in words and f"{match[1]}-{match[2]}".lower() not in words
        return match[1] + match[2] if whole else f"{match[1]}-{match[2]}"

    return re.sub(r"(\w+)-\x00(\w+)", hyphen, text).replace("\x00", "")


def _child() -> None:
    """``python -m summarizer.formats pdf MEMORY``: a PDF on stdin, its text as JSON on stdout."""
    kind, memory = sys.argv[1], int(sys.argv[2])
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except (ImportError, ValueError, OSError):  # no such limit on this system: the time limit still holds
        pass
    if kind != "pdf":
        raise SystemExit(f"unknown kind {kind!r}")
    answer = _pdf_here(sys.stdin.buffer.read())
    sys.stdout.write(json.dumps(answer, ensure_ascii=True))


if __name__ == "__main__":
    _child()
