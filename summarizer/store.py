"""Every file the program reads back or writes: briefs, digests, manifests, fixtures.

Writes are atomic (a temporary file beside the target, then a rename), so no
output file is ever half-written; a new file gets the mode the umask allows
(like any file a shell would create), a replaced one keeps its mode. Reads have one rule for failure: a file that
cannot be read, is not JSON or is not what was asked for raises ``BriefError``
with the path and the reason.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import BriefError, OutputError
from .models import SCHEMA_VERSION, Brief, Digest

M = TypeVar("M", bound=BaseModel)


PART_SUFFIX = ".part"
# The most a saved brief, digest or manifest may weigh when read back: far above what a day of 10,000
# documents writes, far below what would exhaust memory. Only regular files are read, never more than this.
MAX_SAVED_BYTES = 256 * 1024 * 1024
# C1 controls and bidirectional overrides: valid in JSON strings, but a terminal acts on them (U+009B is
# a CSI) and an editor reorders text around them. Written as \u escapes: the same data, inert on screen.
_JSON_INERT = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class TooLarge(ValueError):
    """A file over the size limit of what it is read as."""


class NotRegular(ValueError):
    """A path that is not a regular file (a device, a pipe, a socket, a folder)."""


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path`` (symbolic links followed), refusing anything else (``/dev/zero``,
    a FIFO) and reading at most ``limit`` + 1 bytes: ``TooLarge`` past ``limit``, whatever the file claims."""
    import stat

    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a device, pipe or socket)"
        raise NotRegular(f"is {kind}")
    with open(path, "rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"is over {limit / 1_048_576:g} MiB, the limit for this kind of file")
    return data


def inert_json(text: str) -> str:
    """JSON text with C1 controls and bidirectional overrides written as ``\\uXXXX`` escapes (still valid
    JSON, the same data). They can only stand inside strings, where any character may be escaped."""
    return _JSON_INERT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def model_json(model: BaseModel, *, indent: int | None = 2) -> str:
    """A model as JSON text, made inert (``inert_json``); a newline after it when indented."""
    return inert_json(model.model_dump_json(indent=indent)) + ("\n" if indent else "")


def cannot_write(path: Path | str, error: OSError) -> OutputError:
    """The one message for an output that cannot be written: what, why, and what to do."""
    reason = error.strerror or str(error)
    hints = {
        errno.ENOSPC: "free some space and run again",
        errno.EDQUOT: "free some space and run again",
        errno.EROFS: "the disk is read-only: choose another output",
        errno.EACCES: "no permission: choose another output or fix its permissions",
        errno.EPERM: "no permission: choose another output or fix its permissions",
        errno.ENOTDIR: "a file stands where a folder is needed: move it or choose another output",
        errno.EEXIST: "a file stands where a folder is needed: move it or choose another output",
        errno.EISDIR: "a folder stands where a file is needed: choose another output",
    }
    hint = hints.get(error.errno or 0, "choose another output")
    where = error.filename or path
    return OutputError(f"cannot write {where} ({reason}); {hint}")


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename: never a half-written file.

    Any failure (read-only or full disk, no permission, a file where a folder
    should be) raises ``OutputError`` naming the path; nothing is left behind.
    """
    with atomic_open(path) as stream:
        stream.write(text.encode("utf-8"))


@contextmanager
def atomic_open(path: Path) -> Iterator[BinaryIO]:
    """A binary stream whose bytes become ``path`` only when the block ends without an error (written to a
    temporary file beside it, synced, renamed): a large file written piece by piece is never half there."""
    path = Path(path)
    if _is_special(path):
        # A device or a pipe (/dev/null, /dev/stdout, a FIFO) is written in place: renaming a file over it
        # would replace the device itself.
        try:
            with open(path, "wb") as stream:
                yield stream
        except OSError as error:
            raise cannot_write(path, error) from error
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PART_SUFFIX, dir=path.parent)
    except OSError as error:
        raise cannot_write(path, error) from error
    try:
        os.fchmod(handle, _mode_for(path))  # mkstemp makes it 0600 whatever the umask
        with os.fdopen(handle, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise cannot_write(path, error) from error
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _is_special(path: Path) -> bool:
    """Whether ``path`` is a device, pipe or socket (/dev/null, a FIFO), or one of the system's links
    (/dev/stdout, /dev/fd/1). A link elsewhere that points at a device (a day's manifest.json linked to
    /dev/zero) is not: it is replaced by the file, as any link is."""
    import stat

    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    if stat.S_ISLNK(mode) and os.path.abspath(path).startswith(("/dev/", "/proc/")):
        return True  # /dev/stdout and the like: whatever they lead to (a terminal, a pipe, a file), written there
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode))


def make_folder(folder: Path) -> None:
    """``folder`` and its parents, or ``OutputError`` (a file in the way, no permission)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise cannot_write(folder, error) from error
    if not folder.is_dir():
        raise cannot_write(folder, OSError(errno.ENOTDIR, "not a folder", str(folder)))


def ensure_writable(folder: Path) -> None:
    """Make ``folder`` (and its parents) and prove a file can be written and renamed there; ``OutputError``
    otherwise. Run before the first LLM call, so a bad output costs no tokens."""
    make_folder(folder)
    probe = folder / f".summarizer-probe-{os.getpid()}"
    atomic_write_text(probe, "")
    probe.unlink(missing_ok=True)


def remove_leftovers(folder: Path) -> list[Path]:
    """Delete the hidden ``.NAME.*.part`` files an interrupted write (kill -9) left in ``folder``.

    Only call it while holding the folder (the daily lock): a part file is then
    nobody's write in progress.
    """
    removed = []
    for part in folder.glob(f".*{PART_SUFFIX}"):
        if part.is_file():
            part.unlink(missing_ok=True)
            removed.append(part)
    return removed


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
    return model_json(brief, indent=indent)


def save_model(path: Path, model: BaseModel) -> None:
    """A manifest, digest or brief as indented JSON, atomically."""
    atomic_write_text(path, model_json(model))


def save_brief(
    brief: Brief, target: Path, source_text: str | None = None, render: Callable[[Brief], str] = brief_json
) -> Brief:
    """Write a brief atomically (JSON unless ``render`` says otherwise); returns the brief as saved.

    ``document.path`` is recorded relative to the brief's folder, so ``check``
    and ``render`` find the source from any working directory. For a brief of an
    HTML page, a PDF, a Word file or a fetched address (``document.source``) the text is saved beside
    it: the offsets point into that text, so ``summarizer check`` can verify the brief without the page
    (document.path names it, document.source the page).
    """
    meta = brief.document
    if meta.source is not None and source_text is not None:
        text_path = target.with_name(f"{target.stem}.source.txt")
        atomic_write_text(text_path, source_text)
        meta = meta.model_copy(
            update={"path": text_path.name, "sha256": hashlib.sha256(source_text.encode("utf-8")).hexdigest()}
        )
    elif meta.path and meta.path != "-":
        meta = meta.model_copy(update={"path": relative_to_folder(meta.path, target.parent)})
    if meta is not brief.document:
        brief = brief.model_copy(update={"document": meta})
    atomic_write_text(target, render(brief))
    return brief


def relative_to_folder(path: str, folder: Path) -> str:
    """A path given relative to the working directory, as seen from ``folder``; an absolute one as given
    (it holds from anywhere already)."""
    if os.path.isabs(path):
        return path
    return os.path.relpath(os.path.abspath(path), os.path.abspath(folder))


def source_candidates(recorded: str, brief_file: Path | None) -> list[Path]:
    """Where a brief's recorded source may be: relative to the brief's folder (what ``save_brief`` records),
    then to the working directory (a brief printed to stdout, or written by summarizer before 1.2)."""
    path = Path(recorded)
    if path.is_absolute() or brief_file is None:
        return [path]
    return [brief_file.parent / path, path]


# What a file name or a link cannot carry: control characters (a newline), separators, "#" and "?"
# (they end a link's path), the characters other systems refuse, and bidirectional overrides.
_UNSAFE = re.compile('[\x00-\x1f\x7f-\x9f/\\\\#?:*<>|"\u202a-\u202e\u2066-\u2069]+')


def safe_stem(name: str) -> str:
    """A file-name stem that is safe in a file name and a link: the characters above become ``_``; no
    leading dot (hidden) or space, at most 100 characters. Ordinary names ("my notes (v2)") are kept."""
    return _UNSAFE.sub("_", name).strip(". ")[:100].rstrip(". ") or "document"


def is_url(source: str) -> bool:
    """Whether an input or a link is an http(s) address (what the program fetches, never a file name)."""
    return source.startswith(("http://", "https://"))


def url_stem(source: str) -> str | None:
    """The file stem for an http(s) address: its host and last path segment, made safe, and a short hash of the
    whole address (two links to one site's "index.html" get two files); None for anything else."""
    if not is_url(source):
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(source)
    last = next((segment for segment in reversed(parts.path.split("/")) if segment), "")
    name = f"{parts.hostname or 'page'}_{Path(last).stem}" if last else (parts.hostname or "page")
    digest = hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{safe_stem(name)[:80]}-{digest}"


def output_stems(sources: Iterable[str]) -> dict[str, str]:
    """source → the stem of its output file, unique among ``sources`` and stable across runs: the input's
    own stem (made safe), with a hash of its path added when another input has the same stem."""
    sources = list(dict.fromkeys(sources))
    stems = {
        source: "stdin" if source == "-" else url_stem(source) or safe_stem(Path(source).stem) for source in sources
    }
    counts = Counter(stems.values())
    return {source: f"{stem}-{_path_hash(source)}" if counts[stem] > 1 else stem for source, stem in stems.items()}


def _path_hash(source: str) -> str:
    """A short hash of where the input is (its absolute path: the same however the path is spelled)."""
    return hashlib.sha256(os.path.abspath(source).encode("utf-8", "surrogateescape")).hexdigest()[:8]


def _read_bytes(path: Path) -> bytes:
    try:
        return read_limited(path, MAX_SAVED_BYTES)
    except OSError as error:
        raise BriefError(f"{path}: cannot read ({error.strerror or error})") from error
    except ValueError as error:
        raise BriefError(f"{path}: cannot read: it {error}") from error


def _parse(path: Path, raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except RecursionError:
        raise BriefError(f"{path}: not a brief (its JSON is nested too deeply to be one)") from None
    except ValueError as error:
        raise BriefError(
            f"{path}: not a brief (not JSON: {error}); a brief is what `summarizer brief FILE -o BRIEF.json` writes"
        ) from error


def _validate(path: Path, data: Any, model: type[M], what: str) -> M:
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, str) and _major(version) > _major(SCHEMA_VERSION):
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


def _major(version: str) -> int:
    """The major number of a schema version ("1.1" → 1); -1 when it is not one (then validation says why)."""
    head = version.split(".")[0]
    return int(head) if head.isdigit() and len(head) < 6 else -1


def _is_digest(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == "digest"


def load_saved(path: Path) -> Brief | Digest:
    """A saved brief or daily digest, whichever the file holds (read once)."""
    data = _parse(path, _read_bytes(path))
    if _is_digest(data):
        return _validate(path, data, Digest, "digest")
    _not_a_review(path, data)
    return _validate(path, data, Brief, "brief")


def _not_a_review(path: Path, data: Any) -> None:
    if isinstance(data, dict) and data.get("kind") == "review":
        brief = data.get("brief") if isinstance(data.get("brief"), str) else "its brief"
        raise BriefError(f"{path}: is a review file (a person's decisions on {brief}), not a brief; give {brief}")


def load_brief(path: Path) -> Brief:
    raw = _read_bytes(path)
    try:
        return Brief.model_validate_json(raw)  # the common case, and the fast one (daily reruns read thousands)
    except ValidationError:
        pass
    data = _parse(path, raw)
    if _is_digest(data):
        raise BriefError(f"{path}: is a daily digest, not a brief")
    _not_a_review(path, data)
    return _validate(path, data, Brief, "brief")


def load_digest(path: Path) -> Digest:
    data = _parse(path, _read_bytes(path))
    if not _is_digest(data):
        raise BriefError(f"{path}: is not a daily digest")
    return _validate(path, data, Digest, "digest")


def write_jsonl(path: Path, items: Iterable[dict[str, Any]]) -> None:
    """JSON Lines, keys sorted, non-ASCII kept, atomically (a fixture file)."""
    lines = (inert_json(json.dumps(item, ensure_ascii=False, sort_keys=True)) + "\n" for item in items)
    atomic_write_text(path, "".join(lines))


def read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, value) of every non-blank line."""
    text = path.read_text(encoding="utf-8")
    return [(number, json.loads(line)) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
