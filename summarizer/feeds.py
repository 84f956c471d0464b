"""RSS and Atom feeds into a day's inputs: each entry's link fetched once, saved, and kept for reruns.

``daily --feed URL_OR_FILE`` reads each feed (feedparser, given only bytes this program fetched within its
limits), fetches every entry's link (``fetch.fetch``) and saves the page as it came into the day's
``inputs/`` folder, with a ``NAME.meta.json`` beside it (the entry's title, author, date and link, and the
feed's name as the outlet) that ``read_document`` reads. ``inputs/fetched.json`` records what was
fetched, so a rerun of the day fetches no entry again and ``check`` never needs the web; an entry
whose link, or whose page's bytes, an earlier day's folder already holds is not briefed again.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from .documents import META_SUFFIX
from .errors import DocumentError
from .fetch import MAX_FEED_BYTES, FetchError, fetch, private_address
from .store import NotRegular, TooLarge, atomic_write_text, is_url, read_limited, url_stem
from .store import atomic_open as _atomic_open

INPUTS = "inputs"
INDEX = "fetched.json"
MAX_FEED_ENTRIES = 500
_ENTRY_TAG = re.compile(rb"<(?:[A-Za-z0-9_]+:)?(?:item|entry)[\s>/]")


@dataclass(frozen=True)
class Entry:
    link: str
    title: str | None
    author: str | None
    date: str | None
    outlet: str | None

    def meta(self) -> dict[str, str]:
        found = {"title": self.title, "author": self.author, "date": self.date, "outlet": self.outlet}
        return {"url": self.link} | {key: value for key, value in found.items() if value}


@dataclass
class Gathered:
    """What the feeds gave the day: files to brief, links that failed, links an earlier day holds."""

    files: list[str] = field(default_factory=list)
    failed: dict[str, DocumentError] = field(default_factory=dict)
    earlier: list[str] = field(default_factory=list)
    fetched: int = 0  # pages fetched by this run
    reused: int = 0  # pages this day's folder already held


def _one_line(value: Any) -> str | None:
    text = " ".join(str(value).split())[:300] if value else ""
    return text or None


def read_feed(source: str, warn: Callable[[str], None] = lambda message: None) -> list[Entry]:
    """The entries of an RSS or Atom feed at an http(s) address or in a file, newest as the feed orders them;
    relative links resolved against the feed's address."""
    base = source
    if is_url(source):
        fetched = fetch(source, "feed")
        data, base = fetched.data, fetched.final_url
    else:
        try:
            data = read_limited(Path(source), MAX_FEED_BYTES)
        except TooLarge:
            raise DocumentError(f"{source}: feed file is over {MAX_FEED_BYTES // 1_048_576} MiB, the limit") from None
        except (NotRegular, OSError) as error:
            raise DocumentError(
                f"{source}: cannot read the feed ({getattr(error, 'strerror', None) or error})"
            ) from None
    _at_most(source, len(_ENTRY_TAG.findall(data)))  # counted before parsing: 100,000 entries cost nothing
    import feedparser

    # A stream, never bytes or a string: given those, feedparser first tries them as a file name or an address
    # of its own to open (a feed whose body is "/dev/zero" would be read from this machine).
    headers = {"content-location": base} if is_url(base) else {}
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
    entries = parsed.get("entries") or []
    if not entries:
        why = f" ({parsed.get('bozo_exception')})" if parsed.get("bozo") else ""
        kind = "an empty feed" if parsed.get("version") else "not an RSS or Atom feed"
        raise DocumentError(f"{source}: {kind}{why}")
    _at_most(source, len(entries))  # entries in tags the count above does not know
    outlet = _plain(parsed.get("feed", {}).get("title"))
    found: list[Entry] = []
    skipped = 0
    for item in entries:
        link = _one_line(item.get("link"))
        if link and not is_url(link) and is_url(base):
            link = urljoin(base, link)
        if not link or not is_url(link):
            skipped += 1
            continue
        stamp = item.get("published_parsed") or item.get("updated_parsed")
        day = _day(stamp) if stamp else _one_line(item.get("published"))
        author = (item.get("author_detail") or {}).get("name") or item.get("author")
        found.append(Entry(link, _plain(item.get("title")), _plain(author), day, outlet))
    if skipped:
        warn(f"{source}: {skipped} entr{'y' if skipped == 1 else 'ies'} without an http(s) link, left out")
    return found


def _at_most(source: str, count: int) -> None:
    if count > MAX_FEED_ENTRIES:
        raise DocumentError(
            f"{source}: the feed has {count} entries, over the {MAX_FEED_ENTRIES} a day's run takes; "
            "give a feed of recent entries"
        )


def _plain(value: Any) -> str | None:
    """A feed's title or name as plain text: its HTML tags dropped, entities read."""
    return _one_line(html.unescape(re.sub(r"<[^>]*>", " ", str(value)))) if value else None


def _day(stamp: time.struct_time) -> str | None:
    """A feed date as YYYY-MM-DD, or None for an impossible one (feedparser normalises 2017-13-45 silently)."""
    try:
        return date(stamp.tm_year, stamp.tm_mon, stamp.tm_mday).isoformat() if stamp.tm_year >= 1900 else None
    except ValueError:
        return None


def _load_index(folder: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(read_limited(folder / INPUTS / INDEX, 16 * 1024 * 1024))
    except (OSError, ValueError, TooLarge, NotRegular):
        return {}
    entries = data.get("entries") if isinstance(data, dict) else None
    return {
        url: value
        for url, value in (entries or {}).items()
        if isinstance(value, dict)
        and isinstance(value.get("file"), str)
        and "/" not in value["file"]
        and "\\" not in value["file"]
        and not value["file"].startswith(".")
    }


def _save_index(inputs: Path, index: dict[str, dict[str, str]]) -> None:
    atomic_write_text(inputs / INDEX, json.dumps({"version": 1, "entries": index}, indent=2) + "\n")


def _private(url: str) -> bool:
    """Whether the address's host is this machine or on a private network (an intranet feed)."""
    try:
        return private_address(urlsplit(url).hostname or "") is not None
    except OSError:
        return False


def _earlier(folders: list[Path]) -> tuple[set[str], set[str]]:
    """Links and page hashes held by earlier days' folders."""
    links: set[str] = set()
    hashes: set[str] = set()
    for folder in folders:
        for url, value in _load_index(folder).items():
            links.add(url)
            if sha := value.get("sha256"):
                hashes.add(sha)
    return links, hashes


def gather(
    feeds: list[str],
    out: Path,
    earlier: Sequence[Path] = (),
    *,
    on_fetch: Callable[[str], None] = lambda url: None,
    warn: Callable[[str], None] = lambda message: None,
) -> Gathered:
    """Every feed's entries as saved files of ``out/inputs`` (fetched once); a bad feed or page is recorded
    in ``failed`` under its address, and nothing else is affected. ``earlier``: earlier days' folders, whose
    entries (by link, or by the page's bytes) are not fetched or briefed again."""
    gathered = Gathered()
    inputs = out / INPUTS
    index = _load_index(out)
    earlier_links, earlier_hashes = _earlier(list(earlier))
    # Every page this day already fetched stays one of its inputs, whether or not the feed still lists it
    # (or can be read at all today): a rerun never loses a brief the day had.
    for known in index.values():
        if known.get("duplicate_of") is None and known["file"] and (inputs / known["file"]).is_file():
            gathered.files.append(str(inputs / known["file"]))
            gathered.reused += 1
    seen: set[str] = set(index)
    for feed in dict.fromkeys(feeds):
        try:
            entries = read_feed(feed, warn)
        except DocumentError as error:
            gathered.failed[feed] = error
            continue
        # A feed's entries may point at this machine or a private network only when the feed itself is there.
        private_ok = not is_url(feed) or _private(feed)
        for entry in entries:
            if entry.link in seen:
                continue
            seen.add(entry.link)
            if entry.link in earlier_links:
                gathered.earlier.append(entry.link)
                continue
            on_fetch(entry.link)
            try:
                page = fetch(entry.link, private_ok=private_ok)
            except FetchError as error:
                gathered.failed[entry.link] = error
                continue
            sha = hashlib.sha256(page.data).hexdigest()
            record = {
                "sha256": sha,
                "final_url": page.final_url,
                "feed": feed if is_url(feed) else Path(feed).name,
                "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            if sha in earlier_hashes:  # the same page under another address: recorded, not briefed again
                gathered.earlier.append(entry.link)
                index[entry.link] = {"file": "", "duplicate_of": "an earlier day", **record}
                _save_index(inputs, index)
                continue
            stem = url_stem(entry.link) or "page"
            name = stem + page.suffix
            with _atomic_open(inputs / name) as stream:
                stream.write(page.as_utf8())
            atomic_write_text(inputs / (stem + META_SUFFIX), json.dumps(entry.meta(), ensure_ascii=False, indent=2))
            index[entry.link] = {"file": name, **record}
            _save_index(inputs, index)  # after every page: a run stopped halfway fetches none of these again
            gathered.files.append(str(inputs / name))
            gathered.fetched += 1
    if gathered.earlier:
        count = len(gathered.earlier)
        warn(f"{count} feed entr{'y' if count == 1 else 'ies'} already fetched on an earlier day: not briefed again")
    return gathered
