"""The day's stories without a model: documents that share salient names, grouped (pure; no I/O).

A document's *names* are the runs of capitalised words in its text ("North Korea",
"Church of Scientology" gives "Church" and "Scientology"), less a short list of
function words and titles. Each document becomes a TF-IDF vector over its names
(sublinear term frequency, smoothed inverse document frequency over the day), and
two documents are linked when the cosine of their vectors reaches ``LINK``. Links
are taken strongest first; a link joins two groups only when the documents of the
merged group stay linked on average (``LINK`` again, over every pair), so a chain of
weak links does not pull unrelated stories together; a group never exceeds
``MAX_DOCUMENTS``. Names held by more than ``COMMON_SHARE`` of a large day are too
common to say what a story is about and are ignored.

A story is named from its documents: the names its documents share most, then the
title (or lead) of its most central document.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

# Cosine of two documents' name vectors from which they are one story. Chosen on the seed articles, where
# the same-event pairs score 0.13-0.43 and the closest unrelated pair 0.09; see docs/daily.md.
LINK = 0.12
MAX_DOCUMENTS = 30
# In a day of at least COMMON_MIN_DAY documents, a name in more than this share of them is ignored.
COMMON_SHARE = 0.2
COMMON_MIN_DAY = 20
NAME_CHARS = 80

# Capitalised words that are not names: function words at a sentence start, titles, calendar words.
NOT_NAMES = frozenset(
    """a an the in on at of for and but or nor so yet he she it they we i you his her their its our your this
    that these those as by from with to is was are were be been mr mrs ms dr sir according however after
    before when while if also then there here now today yesterday tomorrow monday tuesday wednesday thursday
    friday saturday sunday january february march april may june july august september october november
    december professor president minister prime secretary chairman spokesman spokeswoman spokesperson""".split()  # noqa: SIM905
)
_CAPITALISED = r"[A-Z][\w\-]*[A-Za-z0-9]"
_NAME_RUN = re.compile(rf"(?<![\w’'])({_CAPITALISED}(?:[ \u00a0]{_CAPITALISED})*)")


@dataclass(frozen=True)
class Grouped:
    """One story: its members (indexes into the input, in input order) and its name."""

    members: list[int]
    name: str


def names_in(text: str) -> Counter[str]:
    """The names of ``text`` (lower-cased runs of capitalised words, less ``NOT_NAMES``), counted."""
    counts: Counter[str] = Counter()
    for match in _NAME_RUN.finditer(text):
        words = [w for w in match.group().split() if w.lower() not in NOT_NAMES]
        if words:
            counts[" ".join(words).lower()] += 1
    return counts


def _forms(texts: Sequence[str]) -> dict[str, str]:
    """Each name's most frequent spelling as written (for the story's name)."""
    spelled: dict[str, Counter[str]] = {}
    for text in texts:
        for match in _NAME_RUN.finditer(text):
            words = [w for w in match.group().split() if w.lower() not in NOT_NAMES]
            if words:
                spelled.setdefault(" ".join(words).lower(), Counter())[" ".join(words)] += 1
    return {key: counts.most_common(1)[0][0] for key, counts in spelled.items()}


def _vectors(counts: list[Counter[str]]) -> list[dict[str, float]]:
    size = len(counts)
    frequency: Counter[str] = Counter(name for names in counts for name in names)
    common = size * COMMON_SHARE if size >= COMMON_MIN_DAY else size + 1
    vectors = []
    for names in counts:
        weights = {
            name: (1 + math.log(n)) * (1 + math.log((size + 1) / (frequency[name] + 1)))
            for name, n in names.items()
            if frequency[name] <= common
        }
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        vectors.append({name: w / norm for name, w in weights.items()})
    return vectors


def similarities(vectors: list[dict[str, float]]) -> dict[tuple[int, int], float]:
    """Cosine of every pair of documents that share a name (an inverted index: no pair shares nothing)."""
    holders: dict[str, list[int]] = {}
    for index, vector in enumerate(vectors):
        for name in vector:
            holders.setdefault(name, []).append(index)
    scores: dict[tuple[int, int], float] = {}
    for name, documents in holders.items():
        for position, a in enumerate(documents):
            weight = vectors[a][name]
            for b in documents[position + 1 :]:
                scores[(a, b)] = scores.get((a, b), 0.0) + weight * vectors[b][name]
    return scores


def group(texts: Sequence[str], titles: Sequence[str]) -> list[Grouped]:
    """The stories of documents with two or more members; a document in none stands alone."""
    counts = [names_in(text) for text in texts]
    vectors = _vectors(counts)
    scores = similarities(vectors)
    members: dict[int, list[int]] = {index: [index] for index in range(len(texts))}
    home = list(range(len(texts)))
    for (a, b), score in sorted(scores.items(), key=lambda item: (-item[1], item[0])):
        if score < LINK:
            break
        left, right = members[home[a]], members[home[b]]
        if left is right or len(left) + len(right) > MAX_DOCUMENTS:
            continue
        if _cohesion(left, right, scores) < LINK:
            continue
        root, other = (home[a], home[b]) if home[a] < home[b] else (home[b], home[a])
        members[root] = sorted(members[root] + members.pop(other))
        for index in members[root]:
            home[index] = root
    stories = [group for root, group in sorted(members.items()) if len(group) > 1]
    return [Grouped(group, _name(group, counts, vectors, scores, texts, titles)) for group in stories]


def _cohesion(left: list[int], right: list[int], scores: dict[tuple[int, int], float]) -> float:
    """The mean cosine over every pair of the merged group (pairs that share nothing count 0)."""
    joined = sorted(left + right)
    pairs = [(a, b) for position, a in enumerate(joined) for b in joined[position + 1 :]]
    return sum(scores.get(pair, 0.0) for pair in pairs) / len(pairs)


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _name(
    members: list[int],
    counts: list[Counter[str]],
    vectors: list[dict[str, float]],
    scores: dict[tuple[int, int], float],
    texts: Sequence[str],
    titles: Sequence[str],
) -> str:
    """The names most of the group shares (by weight), then the title of its most central document."""
    shared: dict[str, float] = {}
    for index in members:
        for name, weight in vectors[index].items():
            shared[name] = shared.get(name, 0.0) + weight
    held = [name for name in shared if sum(1 for i in members if name in counts[i]) >= 2]
    top = sorted(held, key=lambda name: -shared[name])[:2]
    forms = _forms([texts[i] for i in members])
    central = max(members, key=lambda i: (sum(scores.get(_pair(i, j), 0.0) for j in members), -i))
    head = " / ".join(forms.get(name, name) for name in top)
    name = f"{head}: {titles[central]}" if head else titles[central]
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1].rstrip() + "…"
