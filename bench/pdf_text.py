"""Benchmark: which PDF text-extraction library should the summarizer read PDFs with?

    .venv/bin/python bench/pdf_text.py [--runs 3] [--repeat 1] [--keep DIR]

It builds test PDFs in a temporary folder (removed at exit; ``--keep DIR`` copies them to DIR, which must be
outside the repository) from six seed articles (the first five of ``seeds/wikinews/*.txt`` by name and
``seeds/000_09fe83c6082f21eb.txt``); each kind is one multi-page document of the six articles, --repeat times:

- ``rl-1col``: reportlab, A4, Helvetica 11 pt (WinAnsi), a running header and a page-number footer. Words of
  8+ letters carry soft hyphens, so reportlab hyphenates as a typesetter does: the PDF then holds a plain "-"
  at the line end, which no reader can tell from a real hyphen.
- ``rl-2col``: the same in two columns (two platypus Frames per page).
- ``chrome``: Chromium's headless print of an HTML page of the articles (with its own date/title header and
  URL/page footer); ``chrome-shy``: the same page with ``&shy;`` in long words (Chromium draws U+2010 at a
  break, and elsewhere a zero-advance space whose /ActualText is U+00AD). Both rows are skipped, with a note,
  when ``chromium`` is not installed.

Each candidate (pypdf, pdfminer.six, pypdfium2) reads each PDF two ways, each in a fresh child process --runs
times: ``raw``, its default text call (pypdf ``extract_text()``, pdfminer ``extract_text``, pdfium
``get_text_range``), and ``reflow``: the library's own layout data (pypdf's ``visitor_text`` positions,
pdfminer's LTTextBox paragraphs and LTChar boxes; for pypdfium2, the project's reader as shipped,
``summarizer.formats``, on pdfium's loose character boxes) through the project's reflow
(``formats.reflow`` / ``formats.join``): header/footer lines and page numbers dropped, paragraphs by the gaps
between lines (pdfminer: its boxes), a paragraph cut by a column or page break joined again, lines joined with
one space, soft hyphens removed, a line-end "-" kept unless the document writes the word whole elsewhere. So
the rows compare what each library gives the same reflow.

Measures of the reflowed text against the source (first table): word fidelity, the Indel similarity of the
whitespace-split words after NFKC and NBSP -> space (rapidfuzz: 2 x LCS / both lengths; ``raw`` is the same
for the library's default text) and the source words missing from the LCS; exact sentences, the share of
source sentences (split after . ! ?) found verbatim, spaces collapsed but nothing else normalised; non-ASCII
kept, the share of the source's curly quotes, dashes and accented letters found again; exact paragraphs, the
share of source paragraphs that are exactly one output line (NFKC), and output lines / source paragraphs;
milliseconds per page, the median over the runs, timed in the child around the extraction only; peak RSS of
the reflow child (``os.wait4``'s rusage: RUSAGE_CHILDREN for that one child). A second table gives each
library's version, licence, installed size (its own files, and with its required dependencies), import time and
the RSS of a bare import; then how each reads a PDF with no text layer and a truncated one (the first half of
``rl-1col``), and a verdict. Nothing is written to the repository: the results go to stdout.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer import formats
from summarizer.formats import Line

SEEDS = [*sorted((ROOT / "seeds" / "wikinews").glob("*.txt"))[:5], ROOT / "seeds" / "000_09fe83c6082f21eb.txt"]
LIBRARIES = {"pypdf": "pypdf", "pdfminer.six": "pdfminer.high_level", "pypdfium2": "pypdfium2"}  # distribution: module
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
HEADER = "Summarizer PDF benchmark \u2014 news briefing"


# --------------------------------------------------------------------------- the source and the test PDFs


def read_articles() -> list[list[str]]:
    """Each seed as its paragraphs (non-empty lines, spaces collapsed); the first is the headline."""
    return [
        [" ".join(line.split()) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()] for p in SEEDS
    ]


def soft_hyphens(text: str, mark: str = "\xad") -> str:
    """``mark`` at vowel-consonant-vowel seams of words of 8+ letters, 3+ letters each side (a stand-in
    for a hyphenation dictionary)."""

    def word(m: re.Match[str]) -> str:
        w = m[0]
        cuts = [
            i + 1 for i in range(2, len(w) - 3) if w[i] in "aeiou" and w[i + 1] not in "aeiouy" and w[i + 2] in "aeiou"
        ]
        return "".join(w[a:b] + (mark if b < len(w) else "") for a, b in zip([0, *cuts], [*cuts, len(w)], strict=True))

    return re.sub(r"\b[A-Za-z]{8,}\b", word, text)


def build_reportlab(articles: list[list[str]], path: Path, columns: int) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph

    body = ParagraphStyle("body", fontName="Helvetica", fontSize=11, leading=14, spaceAfter=7, embeddedHyphenation=1)
    head = ParagraphStyle("head", body, fontName="Helvetica-Bold", fontSize=14, leading=17, keepWithNext=1)

    def furniture(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 9)
        canvas.drawString(2 * cm, A4[1] - 1.3 * cm, HEADER)
        canvas.drawCentredString(A4[0] / 2, 1.2 * cm, f"Page {doc.page}")
        canvas.restoreState()

    doc = BaseDocTemplate(
        str(path), pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=2 * cm, bottomMargin=2 * cm
    )
    gap = 0.8 * cm
    width = (doc.width - gap * (columns - 1)) / columns
    frames = [Frame(doc.leftMargin + i * (width + gap), doc.bottomMargin, width, doc.height) for i in range(columns)]
    doc.addPageTemplates([PageTemplate("page", frames=frames, onPage=furniture)])
    story = [Paragraph(soft_hyphens(escape(p)), head if i == 0 else body) for a in articles for i, p in enumerate(a)]
    doc.build(story)


def build_chromium(articles: list[list[str]], folder: Path, name: str, shy: bool) -> Path | None:
    if CHROMIUM is None:
        return None
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>News briefing</title><style>"
        "body{font:12pt/1.35 serif} h1{font-size:16pt;break-after:avoid} p{margin:0 0 .7em}</style></head><body>"
    ]
    for article in articles:
        cooked = [soft_hyphens(escape(p), "&shy;") if shy else escape(p) for p in article]
        parts += [f"<h1>{cooked[0]}</h1>", *(f"<p>{p}</p>" for p in cooked[1:])]
    html = folder / f"{name}.html"
    html.write_text("\n".join([*parts, "</body></html>"]), encoding="utf-8")
    pdf = folder / f"{name}.pdf"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={folder / 'chromium-profile'}",
           f"--print-to-pdf={pdf}", html.as_uri()]  # fmt: skip
    subprocess.run(cmd, capture_output=True, timeout=180, check=False)
    return pdf if pdf.exists() and pdf.stat().st_size > 0 else None


def build_textless(path: Path) -> None:
    """One page, a filled rectangle and a grey image: no text operator at all."""
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(path), pagesize=A4)
    canvas.rect(100, 500, 300, 200, fill=1)
    canvas.drawImage(ImageReader(Image.new("RGB", (200, 100), (128, 128, 128))), 100, 200, 300, 150)
    canvas.showPage()
    canvas.save()


# --------------------------------------------------------------------------- extraction: raw and reflowed


def raw_text(lib: str, path: Path) -> tuple[str, int]:
    """The library's default text call, page texts joined by newlines."""
    if lib == "pypdf":
        from pypdf import PdfReader

        pages = PdfReader(path).pages
        return "\n".join(page.extract_text() for page in pages), len(pages)
    if lib == "pdfminer.six":
        from pdfminer.high_level import extract_text

        text = extract_text(path)
        return text, text.count("\f")
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf))), len(pdf)


def lines_pypdf(path: Path) -> tuple[list[Line], list[float]]:
    """Lines from pypdf's visitor: text runs with their matrices, a new line when the baseline moves. pypdf gives
    no widths: a line's is estimated at half its type size per character."""
    from pypdf import PdfReader

    reader, lines = PdfReader(path), []
    for number, page in enumerate(reader.pages):
        runs: list[tuple[str, float, float, float]] = []

        def visit(text: str, cm: list[float], tm: list[float], _font: Any, size: float, runs: list[Any] = runs) -> None:
            x, y = tm[4] * cm[0] + tm[5] * cm[2] + cm[4], tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            runs.append((text.replace("\n", ""), x, y, size * abs(tm[3] * cm[3] or 1)))

        page.extract_text(visitor_text=visit)
        cur: list[Any] | None = None  # [x0, y, size, text]
        for text, x, y, size in runs:
            if cur is not None and (not text.strip() or abs(y - cur[1]) <= 0.4 * max(size, cur[2], 1)):
                cur[3] += text
                continue
            if not text.strip():
                continue
            if cur is not None:
                lines.append(pypdf_line(number, cur))
            cur = [x, y, size, text]
        if cur is not None:
            lines.append(pypdf_line(number, cur))
    return lines, [float(page.mediabox.height) for page in reader.pages]


def pypdf_line(page: int, run: list[Any]) -> Line:
    x, y, size, text = run
    return Line(page, x, x + 0.5 * size * len(text), y, size, text)


def blocks_pdfminer(path: Path) -> tuple[list[list[Line]], list[float]]:
    """pdfminer's own paragraphs: each LTTextBox of the layout (default LAParams) with its LTTextLines. A space
    glyph that the next glyph overprints (no advance: how Chromium draws an unbroken soft hyphen, its real
    text given only as /ActualText, which pdfminer ignores) is left out."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTChar, LTTextBox, LTTextLine

    def text(line: LTTextLine) -> str:
        items = list(line)
        overprinted = {
            i for i, (a, b) in enumerate(itertools.pairwise(items))
            if isinstance(a, LTChar) and isinstance(b, LTChar) and a.get_text() == " " and b.x0 < a.x0 + a.width / 2
        }  # fmt: skip
        return "".join(item.get_text() for i, item in enumerate(items) if i not in overprinted)

    blocks: list[list[Line]] = []
    heights: list[float] = []
    for number, layout in enumerate(extract_pages(path, laparams=LAParams())):
        heights.append(layout.height)
        for box in layout:
            if isinstance(box, LTTextBox):
                lines = [
                    Line(number, ln.x0, ln.x1, ln.y0, ln.height, text(ln)) for ln in box if isinstance(ln, LTTextLine)
                ]
                blocks.append([ln for ln in lines if ln.text.strip()])
    return blocks, heights


def reflow(lib: str, path: Path) -> tuple[str, int]:
    """The project's text form from the library's own layout data, through the project's reflow
    (``summarizer.formats``); pypdfium2's is the project's reader as shipped, run in-process."""
    if lib == "pypdfium2":
        import pypdfium2 as pdfium

        return _lines(formats._pdf_here(path.read_bytes()).get("text", "")), len(pdfium.PdfDocument(path))
    if lib == "pdfminer.six":
        blocks, heights = blocks_pdfminer(path)
        flat = [line for block in blocks for line in block]
        kept = set(formats.body(flat, heights))
        parts = [b for b in ([line for line in block if line in kept] for block in blocks) if b]
        return _lines(formats.join(parts, [line for line in flat if line in kept])), len(heights)
    lines, heights = lines_pypdf(path)
    return _lines(formats.reflow(lines, heights)), len(heights)


def _lines(text: str) -> str:
    """The project's text (paragraphs between blank lines) as the measures read it: one paragraph a line."""
    return text.replace("\n\n", "\n")


# --------------------------------------------------------------------------- child processes


def child(lib: str, mode: str, path: Path) -> dict[str, Any]:
    """Run in a child: import the library, then one extraction; JSON with seconds, pages, text or error."""
    import logging
    import warnings

    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(f"{record.levelname}: {record.getMessage()}")

    logging.getLogger().addHandler(Keep())
    started = time.perf_counter()
    __import__(LIBRARIES[lib])
    imported = time.perf_counter()
    result: dict[str, Any] = {"import_s": imported - started, "text": "", "pages": 0, "error": None}
    if mode == "import":
        return result
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            text, pages = raw_text(lib, path) if mode == "raw" else reflow(lib, path)
        messages += [f"{w.category.__name__}: {w.message}" for w in caught]
        result.update(text=text, pages=pages)
    except Exception as error:  # noqa: BLE001 - the probe reports whatever the library raises
        result["error"] = f"{type(error).__module__}.{type(error).__name__}: {error}"
    result.update(seconds=time.perf_counter() - imported, messages=messages[:3], message_count=len(messages))
    return result


def run_child(lib: str, mode: str, path: Path, timeout: float = 300) -> dict[str, Any]:
    """One child process; adds its peak RSS (MB, from os.wait4) and exit status."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", lib, mode, str(path)]
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=tempfile.gettempdir())
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
            time.sleep(0.005)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        try:
            result: dict[str, Any] = json.loads(out.read())
        except ValueError:
            tail = err.read().decode(errors="replace").strip().splitlines()[-1:]
            result = {"error": f"child exit {proc.returncode}: {' '.join(tail)}", "text": "", "pages": 0}
    result["rss_mb"] = usage.ru_maxrss / 1024
    return result


# --------------------------------------------------------------------------- measures


def words(text: str) -> list[str]:
    return unicodedata.normalize("NFKC", text.replace("\xa0", " ")).split()


def sentences(paragraph: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[\"“‘'(]?[A-Z0-9])", paragraph) if s]


def score(articles: list[list[str]], text: str, raw: str) -> dict[str, float]:
    from rapidfuzz.distance import Indel, LCSseq

    paragraphs = [p for a in articles for p in a]
    source = words("\n".join(paragraphs))
    out = words(text)
    flat = " ".join(text.split())
    lines = {unicodedata.normalize("NFKC", " ".join(line.split())) for line in text.splitlines()}
    special = Counter(c for p in paragraphs for c in p if ord(c) > 127)
    found = Counter(c for c in text if ord(c) > 127)
    all_sentences = [s for p in paragraphs for s in sentences(p)]
    return {
        "words": Indel.normalized_similarity(source, out),
        "raw": Indel.normalized_similarity(source, words(raw)),
        "missing": len(source) - LCSseq.similarity(source, out),
        "sentences": sum(s in flat for s in all_sentences) / len(all_sentences),
        "special": sum(min(n, found[c]) for c, n in special.items()) / max(1, sum(special.values())),
        "paragraphs": sum(unicodedata.normalize("NFKC", p) in lines for p in paragraphs) / len(paragraphs),
        "lines": len([line for line in text.splitlines() if line.strip()]),
        "source_paragraphs": len(paragraphs),
    }


def licence(dist: str) -> str:
    meta = importlib.metadata.metadata(dist)
    found = (meta.get_all("License-Expression") or meta.get_all("License") or [""])[0]
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    return (found if found and len(found) < 60 else ", ".join(classifiers)) or "?"


def fidelity(m: dict[str, float]) -> float:
    return (m["words"] + m["sentences"] + m["paragraphs"]) / 3


def footprint(dist: str) -> tuple[float, float, list[str]]:
    """Installed MB of the distribution's own files, and with its required (non-extra) dependencies."""
    from packaging.requirements import Requirement

    def size(name: str) -> float:
        d = importlib.metadata.distribution(name)
        return sum((f.size or 0) for f in d.files or []) / 1e6

    seen, todo = {dist}, [dist]
    while todo:
        for spec in importlib.metadata.distribution(todo.pop()).requires or []:
            req = Requirement(spec)
            if req.marker and not req.marker.evaluate({"extra": ""}):
                continue
            name = req.name.lower()
            if name not in seen:
                try:
                    importlib.metadata.distribution(name)
                except importlib.metadata.PackageNotFoundError:
                    continue
                seen.add(name)
                todo.append(name)
    return size(dist), sum(size(n) for n in seen), sorted(seen - {dist})


# --------------------------------------------------------------------------- main


def first_line(result: dict[str, Any]) -> str:
    seconds = result.get("seconds", 0) * 1000
    if result.get("error"):
        return f"raises `{result['error'][:110]}` after {seconds:.0f} ms"
    text = " ".join(result["text"].split())
    said = result.get("messages") or []
    note = f"; {result['message_count']} log/warning lines, first: `{said[0][:90]}`" if said else ""
    return f"returns {len(text)} chars from {result['pages']} page(s) ({text[:50]!r}) in {seconds:.0f} ms{note}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="child processes per library, kind and mode (median)")
    parser.add_argument("--repeat", type=int, default=1, help="the six articles this many times over (a longer PDF)")
    parser.add_argument("--keep", type=Path, help="copy the test PDFs to this folder (outside the repository)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        lib, mode, path = args.child
        print(json.dumps(child(lib, mode, Path(path))))
        return
    if args.keep and args.keep.resolve().is_relative_to(ROOT):
        parser.error("--keep must be outside the repository")
    started = time.perf_counter()
    articles = read_articles() * args.repeat
    with tempfile.TemporaryDirectory(prefix="bench-pdf-text-") as tmp:
        folder = Path(tmp)
        kinds: dict[str, Path | None] = {"rl-1col": folder / "rl-1col.pdf", "rl-2col": folder / "rl-2col.pdf"}
        build_reportlab(articles, folder / "rl-1col.pdf", 1)
        build_reportlab(articles, folder / "rl-2col.pdf", 2)
        kinds["chrome"] = build_chromium(articles, folder, "chrome", shy=False)
        kinds["chrome-shy"] = build_chromium(articles, folder, "chrome-shy", shy=True)
        build_textless(folder / "textless.pdf")
        whole = (folder / "rl-1col.pdf").read_bytes()
        (folder / "truncated.pdf").write_bytes(whole[: len(whole) // 2])
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for made in folder.glob("*.pdf"):
                shutil.copy(made, args.keep)
        built = time.perf_counter() - started

        rows: list[str] = []
        scores: dict[tuple[str, str], tuple[dict[str, float], float]] = {}
        for kind, pdf in kinds.items():
            for lib in LIBRARIES:
                if pdf is None:
                    rows.append(f"| {lib} | {kind} | skipped: chromium not found or printed nothing |" + " |" * 10)
                    continue
                raw = [run_child(lib, "raw", pdf) for _ in range(args.runs)]
                flowed = [run_child(lib, "reflow", pdf) for _ in range(args.runs)]
                if flowed[0]["error"] or raw[0]["error"]:
                    rows.append(f"| {lib} | {kind} | error: {flowed[0]['error'] or raw[0]['error']} |" + " |" * 10)
                    continue
                m = score(articles, flowed[0]["text"], raw[0]["text"])
                pages = flowed[0]["pages"]

                def per_page(results: list[dict[str, Any]], pages: int = pages) -> float:
                    return 1000 * float(statistics.median(r["seconds"] for r in results)) / pages

                rows.append(
                    f"| {lib} | {kind} | {pages} | {m['words']:.4f} | {m['missing']} | {m['raw']:.4f} "
                    f"| {m['sentences']:.1%} | {m['special']:.0%} | {m['paragraphs']:.1%} "
                    f"| {m['lines']}/{m['source_paragraphs']} | {per_page(raw):.1f} | {per_page(flowed):.1f} "
                    f"| {max(r['rss_mb'] for r in flowed):.0f} |"
                )
                scores[lib, kind] = m, per_page(flowed)

        info = []
        for lib in LIBRARIES:
            imports = [run_child(lib, "import", folder / "textless.pdf") for _ in range(args.runs)]
            own, total, deps = footprint(lib)
            info.append(
                f"| {lib} | {importlib.metadata.version(lib)} | {licence(lib)} | {own:.1f} "
                f"| {total:.1f} ({', '.join(deps) or 'none'}) "
                f"| {1000 * statistics.median(r['import_s'] for r in imports):.0f} "
                f"| {statistics.median(r['rss_mb'] for r in imports):.0f} |"
            )
        probes = []
        for name in ("textless", "truncated"):
            for lib in LIBRARIES:
                raw_probe = run_child(lib, "raw", folder / f"{name}.pdf", timeout=120)
                flow_probe = run_child(lib, "reflow", folder / f"{name}.pdf", timeout=120)
                probes.append(f"- {name}, {lib}: default call {first_line(raw_probe)}; reflow {first_line(flow_probe)}")

    import pypdfium2

    print(f"# PDF text extraction ({len(SEEDS)} seed articles x {args.repeat}, {sum(map(len, articles))} paragraphs, "
          f"{len(words(chr(10).join(p for a in articles for p in a)))} words; pdfium {pypdfium2.PDFIUM_INFO}; "
          f"{os.cpu_count()} CPUs; {args.runs} runs)\n")  # fmt: skip
    print(
        "| library | kind | pages | word fidelity | words missing | raw word fidelity | exact sentences "
        "| non-ASCII kept | exact paragraphs | lines/paras | ms/page raw | ms/page reflow | peak RSS MB |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print("\n| library | version | licence | installed MB | with dependencies MB | import ms | import-only RSS MB |")
    print("|---|---|---|---:|---|---:|---:|")
    print("\n".join(info))
    print("\nNo text layer / truncated file (first half of rl-1col.pdf):\n")
    print("\n".join(probes))
    print("\n## Verdict\n")
    print("Fidelity below is the mean of word fidelity, exact sentences and exact paragraphs of the reflowed text.\n")
    for kind in kinds:
        here = {lib: fidelity(scores[lib, kind][0]) for lib in LIBRARIES if (lib, kind) in scores}
        if here:
            top = max(here.values())
            others = ", ".join(f"{lib} {f:.3f}" for lib, f in here.items() if f < top - 0.001)
            best = [lib for lib, f in here.items() if f >= top - 0.001]
            print(f"- {kind}: best {' = '.join(best)} ({top:.3f})" + (f"; {others}" if others else "; a tie"))
    overall = {
        lib: (statistics.mean(fidelity(m) for (name, _), (m, _) in scores.items() if name == lib),
              statistics.mean(ms for (name, _), (_, ms) in scores.items() if name == lib))
        for lib in LIBRARIES if any(name == lib for name, _ in scores)
    }  # fmt: skip
    ranked = sorted(overall, key=lambda lib: (-round(overall[lib][0], 3), overall[lib][1]))
    for lib in ranked:
        print(f"- overall {lib}: fidelity {overall[lib][0]:.3f}, reflow {overall[lib][1]:.1f} ms/page")
    if ranked:
        print(f"\nChoose {ranked[0]}: the highest mean fidelity (ties broken by reflow speed).")
    print(f"\nBuilt the PDFs in {built:.1f} s; whole run {time.perf_counter() - started:.1f} s.")


if __name__ == "__main__":
    main()
