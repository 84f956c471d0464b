"""Reading inputs into Documents, with one clear error per bad input."""

from __future__ import annotations

import codecs
import hashlib
import json
import re
import sys
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import DocumentError
from .store import NotRegular, TooLarge, is_url, read_limited

if TYPE_CHECKING:
    from .formats import Extracted

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".text", ".html", ".htm", ".pdf", ".docx")
HTML_SUFFIXES = (".html", ".htm")
META_SUFFIX = ".meta.json"  # beside a document: its title, outlet, author, date and URL (see ``Meta``)
MIN_ARTICLE_WORDS = 5  # a page whose extracted text is a menu word or two holds no article
STDIN = "-"
# Far beyond any model's context: such a file is refused before anything is sent.
MAX_BYTES = 10 * 1024 * 1024

_DATE = re.compile(
    r"\b(?:(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday),\s+)?"
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+\d{1,2},\s+\d{4}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b"
)


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    path: str | None
    title: str | None
    date: str | None
    source: str | None = None  # where the text came from, when it is not ``path`` (an HTML page, a URL)
    format: str = "text"  # "text"; "html", "pdf" or "docx" when the text was extracted from such a file
    sha256: str | None = None  # of the file's bytes as read (None: the text did not come from bytes)
    outlet: str | None = None  # who published it (a site's or feed's name)
    author: str | None = None
    url: str | None = None  # where it was published (a fetched page, a feed entry's link)

    @property
    def extracted(self) -> bool:
        """The text was extracted from a page or a file: it is saved beside the brief, which indexes it."""
        return self.format != "text"

    @property
    def name(self) -> str:
        return Path(self.path).stem if self.path and self.path != STDIN else "stdin"


def document_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def from_text(text: str, path: str | None = None, sha256: str | None = None) -> Document:
    if not text.strip():
        raise DocumentError(f"{path or 'input'}: document is empty or whitespace only")
    title, date = _title_and_date(text)
    return Document(id=document_id(text), text=text, path=path, title=title, date=date, sha256=sha256)


def from_bytes(data: bytes, path: str) -> Document:
    """A text file's document: offsets index the text exactly as decoded (line endings kept)."""
    return from_text(_decode(data, path), path, hashlib.sha256(data).hexdigest())


def read_document(path: str, meta: dict[str, str] | None = None) -> Document:
    """Read a document file (or '-' for stdin): plain text as UTF-8; a page, PDF or Word file as its text.

    Its properties come from the file itself (a page's meta tags, a PDF's or DOCX's properties, a
    dateline), a date in the file's name, then a ``NAME.meta.json`` beside it, then ``meta``: each later
    one wins for the fields it gives.
    """
    if path == STDIN:
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise DocumentError(f"standard input is over {MAX_BYTES // 1_048_576} MiB, the limit")
        return with_meta(from_bytes(data, STDIN), meta, STDIN)
    file = Path(path)
    if file.is_symlink() and not file.exists():
        raise DocumentError(f"{path}: broken or looping symbolic link")
    if not file.exists():
        raise DocumentError(f"{path}: no such file")
    if file.is_dir():
        raise DocumentError(f"{path}: is a folder; pass the files in it (e.g. {path}/*.txt)")
    if file.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"{path}: unsupported file type '{file.suffix or '(none)'}'; use .txt, .md, .html, .pdf or .docx"
        )
    try:
        data = read_limited(file, MAX_BYTES)  # only a regular file, never more than the limit + 1 byte
    except TooLarge:
        raise DocumentError(
            f"{path}: file is over {MAX_BYTES // 1_048_576} MiB, the limit; split it into smaller documents"
        ) from None
    except NotRegular as error:
        raise DocumentError(f"{path}: {error}; give a document file") from None
    except OSError as error:
        raise DocumentError(f"{path}: cannot read file ({error.strerror or error})") from error
    suffix = file.suffix.lower()
    if suffix in HTML_SUFFIXES:
        document = from_html(data, path)
    elif suffix == ".pdf":
        document = from_pdf(data, path)
    elif suffix == ".docx":
        document = from_docx(data, path)
    else:
        document = from_bytes(data, path)
    if document.date is None and (named := date_in_name(file.stem)):
        document = replace(document, date=named)
    return with_meta(with_meta(document, sidecar_meta(file), path), meta, path)


def from_extracted(extracted: Extracted, data: bytes, path: str, fmt: str) -> Document:
    """A PDF's or Word file's document: its text (saved beside the brief) and properties."""
    if len(extracted.text.split()) < MIN_ARTICLE_WORDS:
        raise DocumentError(f"{path}: no text found in this {fmt.upper()} file")
    document = from_text(extracted.text, path)
    return replace(
        document,
        title=_real_title(extracted.title) or document.title,
        date=document.date or extracted.date,  # a dateline in the text says more than when the file was made
        author=extracted.author,
        source=path,
        format=fmt,
        sha256=hashlib.sha256(data).hexdigest(),
    )


_NO_TITLE = re.compile(r"^(?:untitled|document\d*|microsoft word - .*|.*\.(?:docx?|pdf|txt|rtf|odt|indd|qxd))$", re.I)


def _real_title(title: str | None) -> str | None:
    """A file's title property, unless it is a placeholder ("Untitled", "Microsoft Word - draft3.docx")."""
    return None if title is None or _NO_TITLE.match(title.strip()) else title


def from_pdf(data: bytes, path: str) -> Document:
    from .formats import pdf_text

    return from_extracted(pdf_text(data, path), data, path, "pdf")


def from_docx(data: bytes, path: str) -> Document:
    from .formats import docx_text

    return from_extracted(docx_text(data, path), data, path, "docx")


META_FIELDS = ("title", "outlet", "author", "date", "url")


def parse_meta(text: str | bytes, where: str) -> dict[str, str]:
    """A metadata object ({"title": ..., "outlet": ..., "author": ..., "date": ..., "url": ...}): strings or
    null, nothing else; an unknown key is refused so that a misspelt one is not silently lost."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise DocumentError(f"{where}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise DocumentError(f"{where}: give a JSON object with any of {', '.join(META_FIELDS)}")
    unknown = sorted(set(data) - set(META_FIELDS))
    if unknown:
        raise DocumentError(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; use {', '.join(META_FIELDS)}")
    meta: dict[str, str] = {}
    for key, value in data.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise DocumentError(f"{where}: {key} must be a string or null")
        if one_line := " ".join(value.split())[:300]:
            meta[key] = one_line
    return meta


def sidecar_meta(file: Path) -> dict[str, str] | None:
    """The metadata in ``NAME.meta.json`` beside the document ``NAME.ext``, if there is one."""
    sidecar = file.with_name(file.stem + META_SUFFIX)
    if not sidecar.is_file():
        return None
    try:
        return parse_meta(read_limited(sidecar, 64 * 1024), str(sidecar))
    except (TooLarge, NotRegular, OSError) as error:
        raise DocumentError(f"{sidecar}: cannot read it ({error})") from None


def with_meta(document: Document, meta: dict[str, str] | None, where: str) -> Document:
    if not meta:
        return document
    if (url := meta.get("url")) and not is_url(url):
        raise DocumentError(f"{where}: metadata url must start with http:// or https://")
    return replace(document, **{key: value for key, value in meta.items() if key in META_FIELDS})


_NAMED_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])(?!\d)")


def date_in_name(stem: str) -> str | None:
    """A date written in a file name (nyt-2016-08-18-clinton, 20160818_report), as YYYY-MM-DD."""
    for match in _NAMED_DATE.finditer(stem):
        try:
            return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
        except ValueError:
            continue
    return None


def date_key(value: str | None) -> str:
    """A document's date as YYYY-MM-DD for ordering ("" when it cannot be read): ISO dates and timestamps,
    "Monday, August 18, 2016", "18 Aug 2016" and RFC 2822 ("Thu, 18 Aug 2016 10:00:00 GMT")."""
    if not value:
        return ""
    if match := re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", value):
        try:
            return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
        except ValueError:
            return ""  # 2017-13-01: no date at all
    from email.utils import parsedate_to_datetime

    with suppress(TypeError, ValueError, IndexError):
        return parsedate_to_datetime(value).date().isoformat()
    cleaned = re.sub(r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+", "", value.strip())
    for pattern in ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y"):
        with suppress(ValueError):
            return datetime.strptime(cleaned, pattern).date().isoformat()
    return ""


def from_html(data: bytes, path: str, url: str | None = None) -> Document:
    """The article text of a web page (trafilatura), with its title, site, author, date and address where its
    meta tags give them; offsets are into that text. ``url``: where the page was fetched from."""
    import trafilatura

    text = trafilatura.extract(data, include_comments=False, include_tables=False, favor_precision=True)
    if not text or len(text.split()) < MIN_ARTICLE_WORDS:
        raise DocumentError(f"{path}: no article text found in this HTML page")
    found = trafilatura.extract_metadata(data, default_url=url)
    document = from_text(text.replace("\r\n", "\n"), path)

    def field(name: str) -> str | None:
        value = getattr(found, name, None) if found is not None else None
        return " ".join(str(value).split())[:300] or None if value else None

    page_url = field("url")
    return replace(
        document,
        title=field("title") or document.title,
        date=field("date") or document.date,
        outlet=field("sitename"),
        author=field("author"),
        url=url or (page_url if page_url and is_url(page_url) else None),
        source=url or path,
        format="html",
        sha256=hashlib.sha256(data).hexdigest(),
    )


# Byte-order marks, longest first (UTF-32's starts like UTF-16's). The mark is not part of the text.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _decode(data: bytes, name: str) -> str:
    """The text of a file: UTF-8, or UTF-16/32 with a byte-order mark; the mark dropped, nothing else changed
    (line endings are kept as they are, so offsets index exactly what was decoded)."""
    encoding = "utf-8"
    for bom, codec in _BOMS:
        if data.startswith(bom):
            data, encoding = data[len(bom) :], codec
            break
    if encoding == "utf-8" and b"\x00" in data[:8192]:
        sample = data[:8192]
        if _looks_like_utf16(sample):
            raise DocumentError(
                f"{name}: looks like UTF-16 text without a byte-order mark; convert it first, "
                "e.g. iconv -f utf-16le -t utf-8"
            )
        raise DocumentError(f"{name}: looks like a binary file, not text")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        if encoding != "utf-8":
            raise DocumentError(f"{name}: not valid {encoding.upper()} (byte {error.start})") from error
        raise DocumentError(
            f"{name}: not valid UTF-8 (byte {error.start}); convert it first, e.g. iconv -f latin1 -t utf-8"
        ) from error


def _looks_like_utf16(sample: bytes) -> bool:
    """Mostly-ASCII UTF-16: a NUL in every other byte (odd positions for little endian, even for big)."""
    if len(sample) < 4:
        return False
    pairs = len(sample) // 2
    return any(sum(1 for i in range(start, 2 * pairs, 2) if sample[i] == 0) >= 0.9 * pairs for start in (0, 1))


def _title_and_date(text: str) -> tuple[str | None, str | None]:
    """A headline is a short first line without final punctuation; a dateline follows it."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    first = lines[0].lstrip("# ").strip()
    title = first if len(first) <= 200 and not first.endswith((".", "!", "?", ":")) else None
    date_match = next((m for line in lines[:3] if (m := _DATE.search(line))), None)
    return title, date_match.group(0) if date_match else None
