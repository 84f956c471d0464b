"""PolNeAR's dev split as gold for make quality (POLNEAR=DIR): political news with every attribution annotated.

PolNeAR (networkdynamics/PolNeAR) states no license, so nothing of it is copied into this project: give
the folder of a checkout (``POLNEAR=DIR make quality``) and its ``data/dev`` split is read from there. Only
``data/dev`` is ever read: the held-out split is the project's measure and is never opened or scored.

Each ``data/dev/attributions/<article>_<annotator>.ann`` is brat standoff: ``T`` lines give Source, Cue and
Content spans (possibly discontinuous, "a b;c d"), ``E`` lines tie one attribution's parts together. An
article annotated twice is scored against its first annotation (by file name order). Imports nothing from
``summarizer/``.
"""

from __future__ import annotations

from pathlib import Path

from bench.scorer import GoldAttribution, GoldDoc, Span

SPLIT = "dev"


def split_folder(checkout: Path) -> Path:
    """``checkout/data/dev``: the only split this module builds a path to."""
    folder = (checkout / "data" / SPLIT).resolve()
    if not (folder / "text").is_dir() or not (folder / "attributions").is_dir():
        raise ValueError(f"{checkout}: no data/{SPLIT}/text and data/{SPLIT}/attributions (a PolNeAR checkout?)")
    return folder


def _span(spans: dict[str, tuple[str, list[tuple[int, int]], str]], key: str | None) -> Span | None:
    if not key or key not in spans:
        return None
    _, segments, text = spans[key]
    return Span(min(a for a, _ in segments), max(b for _, b in segments), text)


def read_ann(path: Path) -> tuple[GoldAttribution, ...]:
    """The attributions of one brat .ann file."""
    spans: dict[str, tuple[str, list[tuple[int, int]], str]] = {}
    relations: list[dict[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) < 2:
            continue
        if fields[0].startswith("T"):
            kind, _, offsets = fields[1].partition(" ")
            try:
                segments = [(int(a), int(b)) for a, b in (part.split() for part in offsets.split(";"))]
            except ValueError:
                continue
            spans[fields[0]] = (kind, segments, fields[2] if len(fields) > 2 else "")
        elif fields[0].startswith("E"):
            relations.append(dict(part.split(":", 1) for part in fields[1].split() if ":" in part))
    found = []
    for relation in relations:
        source = _span(spans, relation.get("Source"))
        found.append(
            GoldAttribution(
                source.quote if source else None,
                _span(spans, relation.get("Cue")),
                _span(spans, relation.get("Content")),
            )
        )
    return tuple(found)


def load(checkout: Path) -> tuple[Path, dict[str, GoldDoc]]:
    """The dev split's text folder and its gold per article file name."""
    folder = split_folder(checkout)
    first: dict[str, Path] = {}
    for ann in sorted((folder / "attributions").glob("*.ann")):
        first.setdefault(ann.name.rsplit("_", 1)[0] + ".txt", ann)
    gold = {name: GoldDoc(name, read_ann(ann), ()) for name, ann in first.items() if (folder / "text" / name).is_file()}
    return folder / "text", gold
