"""Pages, PDFs and feeds fetched over HTTP(S), bounded: the one place the program reads the web.

Every fetch has the same policy: a polite user agent; http and https only; at most ``MAX_REDIRECTS``
redirects; a connect and a read timeout, and a deadline for the whole transfer (a server that streams
without end is cut off); a size limit checked against Content-Length and while reading; a content-type
check; and one retry policy (``RETRY``) for what may pass: a dropped connection, a timeout, 429 and 5xx.
A failure is a ``FetchError`` (an input error, exit code 3) that says what happened and where.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Literal

import httpx2
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from . import __version__
from .documents import MAX_BYTES, Document, from_bytes, from_docx, from_html, from_pdf
from .errors import DocumentError

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


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


@dataclass(frozen=True)
class Fetched:
    url: str  # as asked
    final_url: str  # after redirects
    data: bytes
    content_type: str  # the media type, lower case, without parameters
    format: str  # html, pdf, docx or text (pages); "feed" for a feed

    @property
    def suffix(self) -> str:
        return SUFFIXES.get(self.format, ".xml")


def _transient(error: BaseException) -> bool:
    return isinstance(error, _Transient | httpx2.TimeoutException | httpx2.NetworkError | httpx2.RemoteProtocolError)


def _client() -> httpx2.Client:
    return httpx2.Client(
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


def fetch(url: str, kind: Kind = "page", *, client: httpx2.Client | None = None) -> Fetched:
    """The bytes at ``url`` within the limits of ``kind`` (pages: ``MAX_BYTES``; feeds: ``MAX_FEED_BYTES``)."""
    if not is_url(url):
        raise FetchError(f"{url}: only http:// and https:// addresses can be fetched")
    own = client is None
    client = client or _client()
    try:
        for attempt in Retrying(
            stop=stop_after_attempt(ATTEMPTS), wait=_wait, retry=retry_if_exception(_transient), reraise=True
        ):
            with attempt:
                return _fetch_once(client, url, kind)
    except _Transient as failed:
        raise failed.error from None
    except httpx2.TooManyRedirects:
        raise FetchError(
            f"{url}: more than {MAX_REDIRECTS} redirects; open it in a browser to see where it leads"
        ) from None
    except httpx2.TimeoutException:
        raise FetchError(f"{url}: no answer in time ({ATTEMPTS} attempts); the site may be down") from None
    except httpx2.UnsupportedProtocol as error:
        raise FetchError(f"{url}: redirected to an address that is not http(s) ({error})") from None
    except (httpx2.HTTPError, httpx2.InvalidURL) as error:
        raise FetchError(f"{url}: cannot fetch ({type(error).__name__}: {error})") from None
    finally:
        if own:
            client.close()
    raise AssertionError("unreachable")  # pragma: no cover


def _fetch_once(client: httpx2.Client, url: str, kind: Kind) -> Fetched:
    limit = MAX_BYTES if kind == "page" else MAX_FEED_BYTES
    deadline = time.monotonic() + DEADLINE_S
    with client.stream("GET", url) as response:
        if response.status_code == 429 or response.status_code >= 500:
            retry_after = response.headers.get("Retry-After", "")
            raise _Transient(
                FetchError(f"{url}: the server answered {response.status_code} ({ATTEMPTS} attempts); try later"),
                float(retry_after) if retry_after.isdigit() else None,
            )
        if response.status_code >= 400:
            raise FetchError(f"{url}: the server answered {response.status_code} {response.reason_phrase}")
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        format_ = _format(url, media, kind)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"{url}: it is {int(declared) / 1_048_576:.1f} MiB, over the {_mib(limit)} limit")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise FetchError(f"{url}: over the {_mib(limit)} limit for a {kind}; not read further")
            if time.monotonic() > deadline:
                raise FetchError(f"{url}: still sending after {DEADLINE_S:.0f} s; not read further")
            chunks.append(chunk)
        return Fetched(url, str(response.url), b"".join(chunks), media, format_)


def _mib(limit: int) -> str:
    return f"{limit / 1_048_576:g} MiB"


def _format(url: str, media: str, kind: Kind) -> str:
    if kind == "feed":
        if media and media not in FEED_TYPES and not media.endswith(("+xml", "/xml", "+json")):
            raise FetchError(f"{url}: is {media}, not a feed (RSS or Atom)")
        return "feed"
    if media in PAGE_TYPES:
        return PAGE_TYPES[media]
    raise FetchError(f"{url}: is {media or 'of no declared type'}; a page, PDF, Word or text document was expected")


def document_of(fetched: Fetched, path: str | None = None) -> Document:
    """The document of a fetched page, PDF, Word or text file (``path``: where it was saved, if it was)."""
    where = path or fetched.url
    if fetched.format == "html":
        document = from_html(fetched.data, where, url=fetched.final_url)
    elif fetched.format == "pdf":
        document = from_pdf(fetched.data, where)
    elif fetched.format == "docx":
        document = from_docx(fetched.data, where)
    else:
        document = from_bytes(fetched.data, where)
    # The address is where the text came from; the file it was saved to (if any) is its path.
    return replace(document, path=path, url=document.url or fetched.final_url, source=fetched.final_url)


def read_url(url: str) -> Document:
    """``summarizer brief URL``: the page fetched and read as a document."""
    return document_of(fetch(url))
