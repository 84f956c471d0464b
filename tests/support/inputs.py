"""Inputs made in the tests: Word and PDF files from an article's text, and a loopback web server.

Nothing here is a stand-in for the program's readers: the files are real DOCX (python-docx) and PDF
(ReportLab, standard fonts with WinAnsi encoding, wrapped paragraphs, a running header and page numbers)
files, and the server is a real HTTP server on 127.0.0.1 that the program fetches from.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def paragraphs(text: str) -> list[str]:
    """An article's paragraphs as the project's plain-text files hold them: blocks between blank lines."""
    return [block.strip() for block in text.split("\n\n") if block.strip()]


def make_docx(text: str, path: Path, *, title: str | None = None, author: str | None = None) -> Path:
    import docx

    document = docx.Document()
    properties = document.core_properties
    properties.title, properties.author = title or "", author or ""
    properties.created = datetime(2017, 7, 21)
    for block in paragraphs(text):
        document.add_paragraph(block)
    document.save(str(path))
    return path


def make_pdf(text: str, path: Path, *, title: str | None = None, author: str | None = None) -> Path:
    """A multi-page PDF of the article: justified paragraphs, a running header and page numbers."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    style = getSampleStyleSheet()["BodyText"]
    style.fontSize, style.leading, style.alignment = 11, 14, 4  # justified

    def furniture(canvas: object, document: object) -> None:
        canvas.saveState()  # type: ignore[attr-defined]
        canvas.setFont("Helvetica", 8)  # type: ignore[attr-defined]
        canvas.drawString(72, A4[1] - 40, "Briefing pack — not for circulation")  # type: ignore[attr-defined]
        canvas.drawString(A4[0] / 2, 30, str(document.page))  # type: ignore[attr-defined]
        canvas.restoreState()  # type: ignore[attr-defined]

    story: list[object] = []
    for block in paragraphs(text):
        story += [Paragraph(escape(block), style), Spacer(1, 6)]
    document = SimpleDocTemplate(str(path), pagesize=A4, title=title or "", author=author or "")
    document.build(story, onFirstPage=furniture, onLaterPages=furniture)
    return path


def make_scanned_pdf(path: Path) -> Path:
    """A PDF with no text layer: a page that is only a picture (here, drawn shapes)."""
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(str(path))
    for row in range(40):
        page.rect(72, 100 + row * 15, 400, 8, fill=1)
    page.save()
    return path


Handler = Callable[[BaseHTTPRequestHandler], None]


class Site:
    """Routes on a loopback server: path → (status, headers, body) or a handler; every request counted."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes] | Handler] = {}
        self.hits: Counter[str] = Counter()
        self.base = ""

    def add(
        self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8", status: int = 200
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = (status, {"Content-Type": content_type}, data)
        return self.base + path

    def handle(self, path: str, handler: Handler) -> str:
        self.routes[path] = handler
        return self.base + path


@contextmanager
def serving() -> Iterator[Site]:
    site = Site()

    class Request(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 — the standard library's name
            site.hits[self.path] += 1
            route = site.routes.get(self.path.split("?")[0])
            if route is None:
                self.send_error(404)
                return
            if callable(route):
                route(self)
                return
            status, headers, body = route
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Request)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def redirect_forever(request: BaseHTTPRequestHandler) -> None:
    request.send_response(302)
    request.send_header("Location", f"/loop?{time.monotonic_ns()}")
    request.send_header("Content-Length", "0")
    request.end_headers()


def stream_forever(request: BaseHTTPRequestHandler) -> None:
    """A page that never ends: a chunk every 50 ms, no Content-Length."""
    request.send_response(200)
    request.send_header("Content-Type", "text/html")
    request.end_headers()
    try:
        while True:
            request.wfile.write(b"<p>more</p>" * 100)
            request.wfile.flush()
            time.sleep(0.05)
    except (BrokenPipeError, ConnectionResetError):
        pass


def article_page(text: str, *, title: str, site: str, author: str, date: str, url: str) -> str:
    """A news page with the article and its meta tags (Open Graph and article:published_time)."""
    from html import escape

    body = "".join(f"<p>{escape(block)}</p>" for block in paragraphs(text)[1:])
    return (
        "<!doctype html><html><head>"
        f"<title>{escape(title)}</title>"
        f'<meta property="og:title" content="{escape(title)}">'
        f'<meta property="og:site_name" content="{escape(site)}">'
        f'<meta name="author" content="{escape(author)}">'
        f'<meta property="article:published_time" content="{escape(date)}">'
        f'<link rel="canonical" href="{escape(url)}">'
        "</head><body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article><h1>{escape(title)}</h1>{body}</article>"
        "<footer>© The Loopback Courier</footer></body></html>"
    )


def rss(title: str, items: list[dict[str, str]]) -> str:
    from html import escape

    entries = "".join(
        "<item>"
        f"<title>{escape(item['title'])}</title><link>{escape(item['link'])}</link>"
        f"<author>{escape(item.get('author', ''))}</author><pubDate>{escape(item['date'])}</pubDate>"
        f"<guid>{escape(item['link'])}</guid>"
        "</item>"
        for item in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://127.0.0.1/</link><description>news</description>"
        f"{entries}</channel></rss>"
    )
