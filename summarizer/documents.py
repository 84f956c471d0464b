"""Reading inputs into Documents, with one clear error per bad input."""

from __future__ import annotations

import codecs
import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import DocumentError
from .store import NotRegular, TooLarge, read_limited

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".text", ".html", ".htm")
HTML_SUFFIXES = (".html", ".htm")
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
    source: str | None = None  # where the text came from, when it is not ``path`` (an HTML page)
    format: str = "text"  # "text", or "html" when the text was extracted from a page
    sha256: str | None = None  # of the file's bytes as read (None: the text did not come from bytes)

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


def read_document(path: str) -> Document:
    """Read a .txt/.md file (or '-' for stdin) as UTF-8 text."""
    if path == STDIN:
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise DocumentError(f"standard input is over {MAX_BYTES // 1_048_576} MiB, the limit")
        return from_bytes(data, STDIN)
    file = Path(path)
    if file.is_symlink() and not file.exists():
        raise DocumentError(f"{path}: broken or looping symbolic link")
    if not file.exists():
        raise DocumentError(f"{path}: no such file")
    if file.is_dir():
        raise DocumentError(f"{path}: is a folder; pass the files in it (e.g. {path}/*.txt)")
    if file.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise DocumentError(f"{path}: unsupported file type '{file.suffix or '(none)'}'; use .txt, .md or .html")
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
    if file.suffix.lower() in HTML_SUFFIXES:
        return from_html(data, path)
    return from_bytes(data, path)


def from_html(data: bytes, path: str) -> Document:
    """The article text of a saved web page (trafilatura); offsets are into that text."""
    import trafilatura

    text = trafilatura.extract(data, include_comments=False, include_tables=False, favor_precision=True)
    if not text or len(text.split()) < MIN_ARTICLE_WORDS:
        raise DocumentError(f"{path}: no article text found in this HTML page")
    metadata = trafilatura.extract_metadata(data)
    document = from_text(text.replace("\r\n", "\n"), path)
    title = (metadata.title if metadata else None) or document.title
    date = (metadata.date if metadata else None) or document.date
    return Document(
        id=document.id,
        text=document.text,
        path=path,
        title=title,
        date=date,
        source=path,
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
