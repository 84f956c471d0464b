from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from summarizer.documents import document_id, from_text, read_document
from summarizer.errors import DocumentError

from .conftest import SEED, SEEDS
from .test_bad_inputs import UNUSABLE_FILES


def test_reads_utf8_text_with_metadata() -> None:
    doc = read_document(str(SEEDS / "wikinews" / "korea.txt"))
    assert doc.title == "North Korea puts military in 'quasi-state of war'"
    assert doc.date == "Friday, August 21, 2015"
    assert doc.id == document_id(doc.text) and len(doc.id) == 64
    seed = read_document(str(SEED))
    assert seed.title is None  # the seed starts with a sentence, not a headline


def test_offsets_index_the_text_as_decoded_line_endings_kept(tmp_path: Path) -> None:
    """The byte-order mark is not text; CRLF stays CRLF, so offsets index what was decoded; sha256 is of the
    file's bytes, the id of the text."""
    path = tmp_path / "doc.md"
    raw = "\ufeff# Title\r\n\r\nBody text.\r\n".encode()
    path.write_bytes(raw)
    doc = read_document(str(path))
    assert doc.text == "# Title\r\n\r\nBody text.\r\n" and doc.title == "Title"
    assert doc.sha256 == hashlib.sha256(raw).hexdigest() and doc.id == hashlib.sha256(doc.text.encode()).hexdigest()


@pytest.mark.parametrize(("name", "content", "message"), UNUSABLE_FILES)
def test_bad_inputs_get_one_clear_error(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentError, match=re.escape(message)) as caught:
        read_document(str(path))
    assert str(caught.value).startswith(str(path))


def test_missing_path_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no such file"):
        read_document(str(tmp_path / "missing.txt"))
    with pytest.raises(DocumentError, match="is a folder"):
        read_document(str(tmp_path))


def test_from_text_rejects_blank() -> None:
    with pytest.raises(DocumentError):
        from_text("   ")
