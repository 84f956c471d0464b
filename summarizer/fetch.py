"""Pages, PDFs and feeds fetched over HTTP(S), bounded: the one place the program reads the web.

Every fetch has the same policy: a polite user agent; http and https only; at most ``MAX_REDIRECTS``
redirects; a connect and a read timeout, and a deadline for the whole transfer (a server that streams
without end is cut off); a size limit checked against Content-Length and while reading; a content-type
check; and one retry policy (``RETRY``) for what may pass: a dropped connection, a timeout, 429 and 5xx.
A failure is a ``FetchError`` (an input error, exit code 3) that says what happened and where.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urlsplit

import httpx2
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from . import __version__
from .documents import MAX_BYTES, Document, from_bytes, from_docx, from_html, from_pdf
from .errors import DocumentError
from .store import is_url

USER_AGENT = f"summarizer/{__version__} (document briefing; fetches one page per link it is given)"
MAX_REDIRECTS = 5
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 20.0  # between two chunks
DEADLINE_S = 60.0  # the whole transfer
MAX_FEED_BYTES = 5 * 1024 * 1024
ATTEMPTS = 3  # the first try and two more, for transient failures only

Kind = Literal["page", "feed"]

PAGE_TYPES = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/plain": "text",
    "text/markdown": "text",
}
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",
    "application/xml",
    "text/xml",
    "text/html",  # some servers label feeds as pages; feedparser decides
    "text/plain",
)
SUFFIXES = {"html": ".html", "pdf": ".pdf", "docx": ".docx", "text": ".txt"}


class FetchError(DocumentError):
    """A page or feed that could not be fetched, or was refused (size, type, redirects)."""


class _Transient(Exception):
    """A failure worth one more try (a 429 or 5xx answer); carries the final error."""

    def __init__(self, error: FetchError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True)
class Fetched:
    url: str  # as asked
    final_url: str  # after redirects
    data: bytes
    content_type: str  # the media type, lower case, without parameters
    format: str  # html, pdf, docx or text (pages); "feed" for a feed
    charset: str | None = None  # as the Content-Type header gives it

    def as_utf8(self) -> bytes:
        """The bytes of a page or text in UTF-8, when the header names another charset (what the page says
        of itself is then kept out of the way by a leading UTF-8 declaration); else as they came."""
        if self.format not in ("html", "text") or self.charset in (None, "utf-8", "utf8"):
            return self.data
        try:
            text = self.data.decode(self.charset or "utf-8")
        except (LookupError, UnicodeDecodeError):
            return self.data
        head = '<meta charset="utf-8">\n' if self.format == "html" else ""
        return (head + text).encode("utf-8")

    @property
    def suffix(self) -> str:
        return SUFFIXES.get(self.format, ".xml")


def _transient(error: BaseException) -> bool:
    return isinstance(error, _Transient | httpx2.TimeoutException | httpx2.NetworkError)


def _client(private_ok: bool = True) -> httpx2.Client:
    return httpx2.Client(
        event_hooks={"request": [] if private_ok else [_public_only]},
        headers={"User-Agent": USER_AGENT, "Accept": "text/html, application/xhtml+xml, application/pdf, */*;q=0.5"},
        timeout=httpx2.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        trust_env=True,
    )


# The retry policy: three attempts, waiting 1 s then 2 s (a Retry-After of up to 10 s is honoured instead).
def _wait(state: object) -> float:
    outcome = getattr(state, "outcome", None)
    error = outcome.exception() if outcome is not None else None
    if isinstance(error, _Transient) and error.retry_after is not None:
        return min(error.retry_after, 10.0)
    return float(wait_exponential(multiplier=1, max=4)(state))  # type: ignore[arg-type]


def fetch(url: str, kind: Kind = "page", *, private_ok: bool = True) -> Fetched:
    """The bytes at ``url`` within the limits of ``kind`` (pages: ``MAX_BYTES``; feeds: ``MAX_FEED_BYTES``).

    ``private_ok`` false (a feed's entries, which a third party wrote): an address on this machine or a
    private network — the first request or any redirect — is refused."""
    if not is_url(url):
        raise FetchError(f"{url}: only http:// and https:// addresses can be fetched")
    try:
        for attempt in Retrying(
            stop=stop_after_attempt(ATTEMPTS), wait=_wait, retry=retry_if_exception(_transient), reraise=True
        ):
            with attempt:
                return _attempt(url, kind, private_ok)
    except _Transient as failed:
        raise failed.error from None
    raise AssertionError("unreachable")  # pragma: no cover


def _attempt(url: str, kind: Kind, private_ok: bool) -> Fetched:
    """One exchange, bounded as a whole: a watchdog closes the connection at the deadline, so a server that
    sends its headers (or its body) a byte at a time is cut off too."""
    client = _client(private_ok)
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        client.close()

    watchdog = threading.Timer(DEADLINE_S, expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        return _fetch_once(client, url, kind)
    except (_Transient, FetchError):
        raise
    except Exception as error:  # noqa: BLE001 — every failure of the exchange is said as one FetchError
        if expired.is_set():
            raise FetchError(f"{url}: still sending after {DEADLINE_S:g} s; not read further") from None
        if _transient(error):
            message = f"{url}: no answer in time ({ATTEMPTS} attempts); the site may be down"
            raise _Transient(FetchError(message)) from None
        raise _failure(url, error) from None
    finally:
        watchdog.cancel()
        client.close()


def _failure(url: str, error: Exception) -> FetchError:
    if isinstance(error, httpx2.TooManyRedirects):
        return FetchError(f"{url}: more than {MAX_REDIRECTS} redirects; open it in a browser to see where it leads")
    if isinstance(error, httpx2.UnsupportedProtocol):
        return FetchError(f"{url}: not an address that can be fetched over http(s) ({error})")
    if isinstance(error, FetchError):
        return error
    if isinstance(error, (UnicodeError, ValueError, httpx2.InvalidURL)):
        return FetchError(f"{url}: not a valid address ({error})")
    return FetchError(f"{url}: cannot fetch ({type(error).__name__}: {error})")


def _fetch_once(client: httpx2.Client, url: str, kind: Kind) -> Fetched:
    limit = MAX_BYTES if kind == "page" else MAX_FEED_BYTES
    with client.stream("GET", url) as response:
        if response.status_code == 429 or response.status_code >= 500:
            retry_after = response.headers.get("Retry-After", "")
            raise _Transient(
                FetchError(f"{url}: the server answered {response.status_code} ({ATTEMPTS} attempts); try later"),
                float(retry_after) if retry_after.isdigit() else None,
            )
        if response.status_code >= 400:
            raise FetchError(f"{url}: the server answered {response.status_code} {response.reason_phrase}")
        header = response.headers.get("Content-Type", "")
        media = header.split(";")[0].strip().lower()
        format_ = _format(str(response.url), media, kind)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"{url}: it is {int(declared) / 1_048_576:.1f} MiB, over the {_mib(limit)} limit")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise FetchError(f"{url}: over the {_mib(limit)} limit for a {kind}; not read further")
            chunks.append(chunk)
        charset = _CHARSET.search(header)
        return Fetched(
            url, str(response.url), b"".join(chunks), media, format_, charset[1].lower() if charset else None
        )


_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)


def private_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address of ``host`` on this machine or a private network (loopback, private, link-local, reserved,
    multicast), or None; ``OSError`` when the name cannot be resolved."""
    try:
        found = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except UnicodeError as error:
        raise OSError(str(error)) from None
    for address in found:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            return ip
    return None


def _public_only(request: httpx2.Request) -> None:
    """Refuse a request (the first, or a redirect) to this machine or a private network."""
    host = request.url.host
    try:
        ip = private_address(host)
    except OSError as error:
        raise FetchError(f"{request.url}: cannot resolve {host} ({error})") from None
    if ip is not None:
        raise FetchError(
            f"{request.url}: {host} is on this machine or a private network ({ip}); a feed's entry may not "
            "point there unless the feed itself is on such a host"
        )


def _mib(limit: int) -> str:
    return f"{limit / 1_048_576:g} MiB"


def _format(url: str, media: str, kind: Kind) -> str:
    if kind == "feed":
        if media and media not in FEED_TYPES and not media.endswith(("+xml", "/xml", "+json")):
            raise FetchError(f"{url}: is {media}, not a feed (RSS or Atom)")
        return "feed"
    if media in PAGE_TYPES:
        return PAGE_TYPES[media]
    if not media or media == "application/octet-stream":  # no type said: the address's ending decides
        ending = urlsplit(url).path.lower().rsplit(".", 1)[-1]
        known = {"html": "html", "htm": "html", "pdf": "pdf", "docx": "docx", "txt": "text", "md": "text"}
        if ending in known:
            return known[ending]
    raise FetchError(f"{url}: is {media or 'of no declared type'}; a page, PDF, Word or text document was expected")


def document_of(fetched: Fetched, path: str | None = None) -> Document:
    """The document of a fetched page, PDF, Word or text file (``path``: where it was saved, if it was)."""
    where = path or fetched.url
    if fetched.format == "html":
        document = from_html(fetched.as_utf8(), where, url=fetched.final_url)
    elif fetched.format == "pdf":
        document = from_pdf(fetched.data, where)
    elif fetched.format == "docx":
        document = from_docx(fetched.data, where)
    else:
        document = from_bytes(fetched.as_utf8(), where)
    # The address is where the text came from; the file it was saved to (if any) is its path.
    return replace(document, path=path, url=document.url or fetched.final_url, source=fetched.final_url)


def read_url(url: str) -> Document:
    """``summarizer brief URL``: the page fetched and read as a document."""
    return document_of(fetch(url))
