"""Every file the program reads back or writes: briefs, digests, manifests, fixtures.

Writes are atomic (a temporary file beside the target, then a rename), so no
output file is ever half-written; a new file gets the mode the umask allows
(like any file a shell would create), a replaced one keeps its mode. Reads have one rule for failure: a file that
cannot be read, is not JSON or is not what was asked for raises ``BriefError``
with the path and the reason.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import BriefError
from .models import SCHEMA_VERSION, Brief, Digest

M = TypeVar("M", bound=BaseModel)


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(handle, _mode_for(path))  # mkstemp makes it 0600 whatever the umask
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without changing it where /proc tells (writes happen in worker threads too)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def brief_json(brief: Brief, *, indent: int | None = 2) -> str:
    return brief.model_dump_json(indent=indent) + ("\n" if indent else "")


def save_model(path: Path, model: BaseModel) -> None:
    """A manifest, digest or brief as indented JSON, atomically."""
    atomic_write_text(path, model.model_dump_json(indent=2) + "\n")


def save_brief(
    brief: Brief, target: Path, source_text: str | None = None, render: Callable[[Brief], str] = brief_json
) -> Brief:
    """Write a brief atomically (JSON unless ``render`` says otherwise); returns the brief as saved.

    For a brief of an HTML page the extracted text is saved beside it: the
    offsets point into that text, so ``summarizer check`` can verify the brief
    without the page (document.path names it, document.source the page).
    """
    if brief.document.format == "html" and source_text is not None:
        text_path = target.with_name(f"{target.stem}.source.txt")
        atomic_write_text(text_path, source_text)
        brief = brief.model_copy(update={"document": brief.document.model_copy(update={"path": str(text_path)})})
    atomic_write_text(target, render(brief))
    return brief


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise BriefError(f"{path}: cannot read ({error.strerror or error})") from error


def _parse(path: Path, raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError as error:
        raise BriefError(
            f"{path}: not a brief (not JSON: {error}); a brief is what `summarizer brief FILE -o BRIEF.json` writes"
        ) from error


def _validate(path: Path, data: Any, model: type[M], what: str) -> M:
    version = str(data.get("schema_version", "")) if isinstance(data, dict) else ""
    if version and version.split(".")[0] > SCHEMA_VERSION.split(".")[0]:
        raise BriefError(
            f"{path}: written by a newer summarizer (schema {version}; this one reads "
            f"{SCHEMA_VERSION}): upgrade summarizer"
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BriefError(f"{path}: not a valid {what}: {where + ': ' if where else ''}{first['msg']}") from error


def _is_digest(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == "digest"


def load_saved(path: Path) -> Brief | Digest:
    """A saved brief or daily digest, whichever the file holds (read once)."""
    data = _parse(path, _read_bytes(path))
    if _is_digest(data):
        return _validate(path, data, Digest, "digest")
    return _validate(path, data, Brief, "brief")


def load_brief(path: Path) -> Brief:
    raw = _read_bytes(path)
    try:
        return Brief.model_validate_json(raw)  # the common case, and the fast one (daily reruns read thousands)
    except ValidationError:
        pass
    data = _parse(path, raw)
    if _is_digest(data):
        raise BriefError(f"{path}: is a daily digest, not a brief")
    return _validate(path, data, Brief, "brief")


def load_digest(path: Path) -> Digest:
    data = _parse(path, _read_bytes(path))
    if not _is_digest(data):
        raise BriefError(f"{path}: is not a daily digest")
    return _validate(path, data, Digest, "digest")


def write_jsonl(path: Path, items: Iterable[dict[str, Any]]) -> None:
    """JSON Lines, keys sorted, non-ASCII kept, atomically (a fixture file)."""
    atomic_write_text(path, "".join(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n" for item in items))


def read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, value) of every non-blank line."""
    text = path.read_text(encoding="utf-8")
    return [(number, json.loads(line)) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
