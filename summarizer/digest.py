"""Many briefs → one daily brief (digest), organised by story.

Deterministic parts: actors merged across documents by normalised names and
aliases; each story's claims grouped by claimant; figures compared only inside
a story and only when they count the same thing; failures carried over from the
manifest; claims and stories marked new / repeated / changed against an earlier
daily brief.

The synthesis (LLM) groups the documents into stories, names them, and lists
the contradictions and open questions inside each story. It sees the compact
briefs (titles, actors, claim statements), never the raw text, in batches that
fit the model's context: documents that share an actor are kept in one batch
when they fit, and stories of the same name from different batches are merged.
Its validator refuses ids that do not exist, a document in two stories, a
contradiction without two distinct sides and an item citing claims of two
stories (Instructor re-asks). Without a synthesis every document stands alone.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .chunking import estimate_tokens
from .documents import date_key
from .errors import Deferred, FixtureMissing, LLMError, ReasksExhausted
from .grounding import name_key
from .models import (
    AUTHOR,
    UNNAMED_SOURCE,
    ActorMention,
    Brief,
    ClaimGroup,
    ClaimRef,
    ComparedFigure,
    Contradiction,
    ContradictionDraft,
    Digest,
    DigestActor,
    DigestFailure,
    FigureComparison,
    OpenQuestion,
    OpenQuestionDraft,
    Story,
    StoryDraft,
    Synthesis,
    Usage,
    clip,
    document_of,
    joined,
    word_set,
)
from .prompts import render
from .render import published
from .sizing import SYNTHESIS_CALL_TOKENS
from .stories import group
from .structured import StructuredLLM

# Documents in one synthesis request at most: its answer lists every one of them in a story.
STORY_DOCUMENTS = 30
# Actors of one document shown to the synthesis (those named first: a brief lists claimants early).
COMPACT_ACTORS = 20
# The share of a synthesis request's prompt budget kept free: the briefs' size is estimated per line.
SYNTHESIS_MARGIN = 0.05
# Fewer prompt tokens than this for the briefs of one request: the context is too small for a synthesis.
MIN_SYNTHESIS_BUDGET = 300
# Characters of a claimant or statement shown to the synthesis (one line, unable to close the briefs' tag).
INERT_CHARS = 200


@dataclass(frozen=True)
class Entry:
    key: str  # d1, d2, ... in input order
    file: str  # brief file relative to the daily folder
    brief: Brief


def ref(entry: Entry, claim_id: str) -> str:
    return f"{entry.key}:{claim_id}"


def label(entry: Entry) -> str:
    """What a document is called: its title, else the start of its summary, else its brief file."""
    summary = " ".join(entry.brief.summary.split())
    return entry.brief.document.title or (clip(summary, 80) if summary else entry.file)


# ------------------------------------------------------------------ actors


def merge_actors(entries: list[Entry]) -> list[DigestActor]:
    """Actors of different documents merged when one's name is the other's name or alias.

    Two actors of the same brief are never merged directly (the brief already
    tells them apart); order follows the input, so the result is deterministic.
    """
    nodes = [(index, actor) for index, entry in enumerate(entries) for actor in entry.brief.actors]
    roots = actor_components(
        [
            (document, name_key(actor.name), {name_key(n) for n in [actor.name, *actor.aliases]})
            for document, actor in nodes
        ]
    )

    groups: dict[int, DigestActor] = {}
    for node, (document, actor) in enumerate(nodes):
        entry = entries[document]
        root = roots[node]
        merged = groups.get(root)
        if merged is None:
            merged = groups[root] = DigestActor(
                id=f"DA{len(groups) + 1}", name=actor.name, kinds=[], aliases=[], documents=[]
            )
        if actor.kind not in merged.kinds:
            merged.kinds.append(actor.kind)
        for alias in [actor.name, *actor.aliases]:
            if alias != merged.name and alias not in merged.aliases:
                merged.aliases.append(alias)
        merged.documents.append(
            ActorMention(
                brief=entry.file,
                document_id=entry.brief.document.id,
                actor_id=actor.id,
                claim_ids=[c.id for c in entry.brief.claims if actor.id in c.claimant_ids],
            )
        )
    return list(groups.values())


class Groups:
    """Disjoint sets of 0..n-1 (union-find); a group's root is its smallest member."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, node: int) -> int:
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(self, a: int, b: int) -> None:
        low, high = sorted((self.find(a), self.find(b)))
        self.parent[high] = low


def actor_components(nodes: list[tuple[int, str, set[str]]]) -> list[int]:
    """The merge groups of actors given as (document, name key, name and alias keys): a root per node.

    An actor joins every actor of *another* document whose name key is one of
    its keys. Linear in the actors: when the actors named by a key span two or
    more documents they are all one group already (each joins the others), so a
    key's holders join its first named actor; when they all sit in one document,
    only holders from elsewhere join them (two actors of one brief are never
    merged directly).
    """
    groups = Groups(len(nodes))
    union, find = groups.union, groups.find
    named: dict[str, list[int]] = {}
    holders: dict[str, list[int]] = {}
    for node, (_, name, keys) in enumerate(nodes):
        named.setdefault(name, []).append(node)
        for key in keys:
            holders.setdefault(key, []).append(node)
    for key, holding in holders.items():
        members = named.get(key, [])
        documents = {nodes[member][0] for member in members}
        joining = holding if len(documents) > 1 else [n for n in holding if nodes[n][0] not in documents]
        if not members or not joining:
            continue
        for member in members[1:]:
            union(members[0], member)
        for node in joining:
            union(node, members[0])
    return [find(node) for node in range(len(nodes))]


def canonical_claimants(actors: list[DigestActor]) -> dict[str, str]:
    """Name key of every name and alias → the merged actor's name."""
    return {name_key(alias): actor.name for actor in actors for alias in [actor.name, *actor.aliases]}


# ------------------------------------------------------------------ figures: what is counted


# Words that say how something is measured, not what is counted; and words that say over what time. A
# unit made of these alone ("year", "percent", "hours ago") does not say what it counts: never compared.
MEASURE_WORDS = word_set(
    "percent per cent percentage point fold times number total amount figure dollar us usd euro pound yuan "
    "rupee ruble million billion thousand hundred dozen rank old age"
)
TIME_WORDS = word_set(
    "year month week day hour minute second decade century annual annually daily weekly monthly yearly last "
    "past this next previous current today yesterday ago so far since"
)
FILLER_WORDS = word_set(
    "a an the of in on at to for by from with and or as that these those its their his her than about some "
    "who which were was is are be been has have had earlier later before after"
)


def counted_words(unit: str) -> frozenset[str]:
    """The words of a figure's unit, singular and lower-case, without filler: what and over what time it counts."""
    words = re.sub(r"[^\w\s]", " ", unit.lower()).split()
    listed = MEASURE_WORDS | TIME_WORDS | FILLER_WORDS
    stems = {w if w in listed else _singular(w) for w in words if not w.isdigit()}
    return frozenset(stems - FILLER_WORDS)


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _core(words: frozenset[str]) -> frozenset[str]:
    return words - MEASURE_WORDS - TIME_WORDS


def same_counted_thing(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two units (as ``counted_words``) count the same thing.

    They must measure alike and over the same time (the same measure and time
    words: "visitors last year" is not "visitors expected this year", "killed in
    the past week" is not "killed"), and share what they count: the same word
    when either names it in one word ("votes" is not "votes margin"), else at
    least half of their words together ("North Korean troops killed or wounded"
    and "North Korean soldiers killed or wounded" do; "people killed" and
    "people wounded" do not).
    """
    if a & MEASURE_WORDS != b & MEASURE_WORDS or a & TIME_WORDS != b & TIME_WORDS:
        return False
    core_a, core_b = _core(a), _core(b)
    if not core_a & core_b:
        return False
    if len(core_a) == 1 or len(core_b) == 1:
        return core_a == core_b
    return len(core_a & core_b) * 2 >= len(core_a | core_b)


def verdict(bounds: list[tuple[float, float]]) -> str:
    """agree: every figure the same; differ: two that do not overlap; overlap: the rest."""
    if len(set(bounds)) == 1:
        return "agree"
    if any(a[1] < b[0] or b[1] < a[0] for i, a in enumerate(bounds) for b in bounds[i + 1 :]):
        return "differ"
    return "overlap"


class CountedIndex:
    """Units (as ``counted_words``) filed so that those counting the same thing as a new one are found
    without comparing it with every unit filed: by their measure and time words, then by each word of
    what they count."""

    def __init__(self) -> None:
        # (measure words, time words, a word of what is counted) → each distinct unit filed → its smallest value
        self.by_word: dict[tuple[frozenset[str], frozenset[str], str], dict[frozenset[str], int]] = {}

    @staticmethod
    def _scope(words: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
        return words & MEASURE_WORDS, words & TIME_WORDS

    def add(self, words: frozenset[str], value: int) -> None:
        measure, time = self._scope(words)
        for word in _core(words):
            filed = self.by_word.setdefault((measure, time, word), {})
            filed[words] = min(value, filed.get(words, value))

    def find(self, words: frozenset[str]) -> int | None:
        """The smallest value filed with a unit that counts the same thing as ``words``, or None."""
        measure, time = self._scope(words)
        found: int | None = None
        for word in _core(words):
            for other, value in self.by_word.get((measure, time, word), {}).items():
                if (found is None or value < found) and same_counted_thing(words, other):
                    found = value
        return found


def compare_figures(claims: list[ClaimRef]) -> list[FigureComparison]:
    """Figures of two or more claims of one story that count the same thing, side by side.

    A figure joins the first group holding a figure of the same counted thing
    (input order, so the result is deterministic). Figures without a number and
    units of measure and time words alone are not compared.
    """
    groups: list[list[ComparedFigure]] = []
    index = CountedIndex()
    for claim in claims:
        for figure in claim.figures:
            words = counted_words(figure.unit)
            if figure.bounds() is None or not _core(words):
                continue
            item = ComparedFigure(ref=claim.ref, claimant=joined(claim.claimants), status=claim.status, figure=figure)
            group = index.find(words)
            if group is None:
                group = len(groups)
                groups.append([])
            groups[group].append(item)
            index.add(words, group)
    comparisons = []
    for items in groups:
        if len({item.ref for item in items}) < 2:
            continue
        bounds = [b for item in items if (b := item.figure.bounds()) is not None]
        comparisons.append(FigureComparison(subject=items[0].figure.unit, figures=items, verdict=verdict(bounds)))
    return comparisons


# ------------------------------------------------------------------ claims


def claim_refs(entry: Entry) -> list[ClaimRef]:
    return [
        ClaimRef(
            ref=ref(entry, claim.id),
            brief=entry.file,
            claimant=claim.claimant,
            also=[other.name for other in claim.also],
            statement=claim.statement,
            evidence=claim.evidence.quote,
            source=claim.source.quote if claim.source else None,
            status=claim.status,
            figures=claim.figures,
            origin=claim.origin,
        )
        for claim in entry.brief.claims
    ]


def group_claims(claims: list[ClaimRef], canonical: dict[str, str]) -> list[ClaimGroup]:
    """Claims by claimant (merged across documents); named claimants first, then unnamed sources and the author.
    A claim of several claimants is listed under each."""
    groups: dict[str, ClaimGroup] = {}
    for claim in claims:
        for name in dict.fromkeys(canonical.get(name_key(n), n) for n in claim.claimants):
            groups.setdefault(name, ClaimGroup(actor=name, claims=[])).claims.append(claim)
    order = {AUTHOR: 1, UNNAMED_SOURCE: 1}
    return sorted(groups.values(), key=lambda g: (order.get(g.actor, 0), -len(g.claims), g.actor.lower()))


# ------------------------------------------------------------------ what changed


class Changes:
    """new / repeated / changed against an earlier digest (indexed once, then asked per story).

    The same evidence (or the same claimant and statement) seen before is
    *repeated* when its status and figures are unchanged, else *changed*; a claim
    by the same claimant with a figure of the same counted thing is *changed*;
    the rest is *new*.
    """

    def __init__(self, previous: Digest | None) -> None:
        self.previous = previous
        self.by_evidence: dict[str, ClaimRef] = {}
        self.by_statement: dict[tuple[str, str], ClaimRef] = {}
        self.counted: dict[str, CountedIndex] = {}  # claimant → the units of their earlier figures
        for claim in previous.claims() if previous else []:
            self.by_evidence[name_key(claim.evidence)] = claim
            self.by_statement[(name_key(claim.claimant), name_key(claim.statement))] = claim
            for figure in claim.figures:
                self.counted.setdefault(name_key(claim.claimant), CountedIndex()).add(counted_words(figure.unit), 0)

    def mark(self, claims: list[ClaimRef]) -> None:
        if self.previous is None:
            return
        for claim in claims:
            who = name_key(claim.claimant)
            before = self.by_evidence.get(name_key(claim.evidence)) or self.by_statement.get(
                (who, name_key(claim.statement))
            )
            if before is not None:
                same = (before.status, before.figures, name_key(before.statement)) == (
                    claim.status,
                    claim.figures,
                    name_key(claim.statement),
                )
                claim.change = "repeated" if same else "changed"
            elif who in self.counted and any(
                self.counted[who].find(counted_words(f.unit)) is not None for f in claim.figures
            ):
                claim.change = "changed"
            else:
                claim.change = "new"


def story_change(claims: list[ClaimRef]) -> str | None:
    changes = {claim.change for claim in claims}
    if None in changes or not changes:
        return None
    if changes == {"new"}:
        return "new"
    if changes == {"repeated"}:
        return "repeated"
    return "changed"


# ------------------------------------------------------------------ synthesis: batches that fit


@dataclass
class Batch:
    entries: list[Entry] = field(default_factory=list)
    blocks: list[dict[str, Any]] = field(default_factory=list)
    tokens: int = 0


def compact(entry: Entry, max_tokens: int | None = None) -> tuple[dict[str, Any], int]:
    """What the synthesis sees of one document: its title, actors and claims with their refs; and its tokens.

    With ``max_tokens``, claims past the budget are left out (a document whose
    brief alone would not fit a request).
    """
    block: dict[str, Any] = {
        "document": entry.key,
        "title": clip(label(entry), 120, "inert"),
        "actors": [clip(a.name, 60, "inert") for a in entry.brief.actors[:COMPACT_ACTORS]],
        "claims": [],
    }
    tokens = estimate_tokens(f"Document {entry.key}: {block['title']}\n  Actors: {', '.join(block['actors'])}\n")
    for claim in entry.brief.claims:
        line = {
            "id": ref(entry, claim.id),
            "claimant": clip(joined(claim.claimants), INERT_CHARS, "inert"),
            "status": claim.status.value,
            "statement": clip(claim.statement, INERT_CHARS, "inert"),
        }
        cost = estimate_tokens(f"  {line['id']} [{line['claimant']}, {line['status']}] {line['statement']}\n")
        if max_tokens is not None and tokens + cost > max_tokens:
            break
        block["claims"].append(line)
        tokens += cost
    return block, tokens


def plan_batches(
    entries: list[Entry], actors: list[DigestActor], budget: int, max_documents: int = STORY_DOCUMENTS
) -> list[Batch]:
    """The synthesis requests: each at most ``budget`` prompt tokens of briefs and ``max_documents`` documents.

    Documents that share an actor (a likely story) are kept in one batch when
    they fit; a group too large for one request is split across consecutive ones.
    """
    index = {entry.file: position for position, entry in enumerate(entries)}
    sharing = Groups(len(entries))
    for actor in actors:
        members = sorted({index[m.brief] for m in actor.documents if m.brief in index})
        for member in members[1:]:
            sharing.union(members[0], member)
    groups: dict[int, list[int]] = {}
    for position in range(len(entries)):
        groups.setdefault(sharing.find(position), []).append(position)

    batches: list[Batch] = []
    current = Batch()
    for members in groups.values():  # in order of each group's first document
        blocks = [compact(entries[m], budget) for m in members]
        size = sum(tokens for _, tokens in blocks)
        if current.entries and (current.tokens + size > budget or len(current.entries) + len(members) > max_documents):
            batches.append(current)
            current = Batch()
        for member, (block, tokens) in zip(members, blocks, strict=True):
            if current.entries and (current.tokens + tokens > budget or len(current.entries) >= max_documents):
                batches.append(current)
                current = Batch()
            current.entries.append(entries[member])
            current.blocks.append(block)
            current.tokens += tokens
    if current.entries:
        batches.append(current)
    return batches


def synthesis_overhead() -> int:
    """Prompt tokens a synthesis request spends besides the briefs: system prompt, instructions, tool schema."""
    prompt = render("digest.j2", briefs=[])
    return estimate_tokens(prompt.system + prompt.user + json.dumps(Synthesis.model_json_schema()))


def synthesis_budget(context_tokens: int, reserve_tokens: int) -> int:
    """Prompt tokens of briefs one synthesis request may carry within the model's context, ``reserve_tokens``
    kept free for the answer; 0 when the context leaves no useful room."""
    room = int((context_tokens - reserve_tokens - synthesis_overhead()) * (1 - SYNTHESIS_MARGIN))
    return room if room >= MIN_SYNTHESIS_BUDGET else 0


def answer_reserve(context_tokens: int, output_tokens: int, ceiling: int) -> int:
    """Completion tokens a synthesis request keeps free: its answer's, or the model's ceiling when that fits in
    half the context (an answer cut at its limit is asked again with the ceiling)."""
    return ceiling if ceiling <= context_tokens // 2 else output_tokens


@dataclass
class SynthesisResult:
    synthesis: Synthesis | None
    usage: Usage
    calls: int
    error: str | None
    final: bool = False  # it failed in a way a rerun on the same briefs would meet again (its time limit)


async def synthesise(
    entries: list[Entry],
    actors: list[DigestActor],
    llm: StructuredLLM,
    *,
    reasks: int,
    context_tokens: int,
    output_tokens: int = SYNTHESIS_CALL_TOKENS,
    reserve_tokens: int | None = None,
    concurrency: int = 1,
    may_send: Callable[[], bool] = lambda: True,
    spend: Callable[[Usage], None] = lambda usage: None,
) -> SynthesisResult:
    """Stories, contradictions and open questions over ``entries``, in requests that fit the context.

    ``output_tokens`` is what each answer may take, ``reserve_tokens`` (default:
    the same) what the context keeps free for it. ``may_send`` is asked before
    each request (the run's token budget) and ``spend`` told each request's
    tokens. A batch that fails leaves its documents standing alone; the error
    names how many batches failed and the first of them in input order.
    """
    reserve = output_tokens if reserve_tokens is None else reserve_tokens
    budget = synthesis_budget(context_tokens, reserve)
    if budget == 0:
        return SynthesisResult(
            None,
            Usage(),
            0,
            f"the model's context of {context_tokens} tokens leaves no room for a synthesis request beside its "
            f"{reserve}-token answer (raise --context-tokens or --n-ctx)",
        )
    batches = plan_batches(entries, actors, budget)
    gate = asyncio.Semaphore(max(1, concurrency))
    usage = Usage()
    calls = 0
    errors: dict[int, str] = {}

    async def one(number: int, batch: Batch) -> Synthesis | None:
        nonlocal usage, calls
        async with gate:
            if not may_send():
                errors[number] = "token budget reached"
                return None
            known = {c["id"] for block in batch.blocks for c in block["claims"]}
            prompt = render("digest.j2", briefs=batch.blocks)
            context = {"claim_ids": known, "documents": [e.key for e in batch.entries]}
            calls += 1
            try:
                synthesis, stats = await llm.extract(
                    Synthesis, prompt, reasks=reasks, context=context, max_tokens=output_tokens
                )
            except ReasksExhausted as error:
                usage = usage + error.stats.usage
                spend(error.stats.usage)
                errors[number] = f"the synthesis answer was refused ({error})"
                return None
            except Deferred:  # daily --batch --follow-up batch: the request waits for its batch
                errors[number] = "deferred to a batch"
                return None
            except (LLMError, FixtureMissing) as error:
                errors[number] = f"synthesis call failed: {error}"
                return None
            usage = usage + stats.usage
            spend(stats.usage)
            return synthesis

    answers = await asyncio.gather(*(one(number, batch) for number, batch in enumerate(batches)))
    made = [answer for answer in answers if answer is not None]
    error = None
    if errors:
        first = errors[min(errors)]
        error = first if len(batches) == 1 else f"{len(errors)} of {len(batches)} synthesis batches: {first}"
    return SynthesisResult(merge_syntheses(made) if made else None, usage, calls, error)


def merge_syntheses(parts: list[Synthesis]) -> Synthesis:
    """One synthesis from the batches' answers: stories of the same name merged (a name without letters or
    digits merges with none), the rest concatenated."""
    stories: dict[str, tuple[StoryDraft, set[str]]] = {}
    for part in parts:
        for story in part.stories:
            key = name_key(story.name) or f"#{len(stories)}"
            if key not in stories:
                stories[key] = (StoryDraft.model_construct(name=story.name, documents=[]), set())
            merged, members = stories[key]
            for document in story.documents:
                if document not in members:
                    members.add(document)
                    merged.documents.append(document)
    return Synthesis.model_construct(
        stories=[story for story, _ in stories.values()],
        contradictions=[c for part in parts for c in part.contradictions],
        open_questions=[q for part in parts for q in part.open_questions],
    )


def kept_synthesis(digest: Digest) -> Synthesis:
    """The synthesis an earlier digest holds (an unchanged rerun keeps it rather than asking again)."""
    return Synthesis.model_construct(
        stories=[
            StoryDraft.model_construct(name=s.name, documents=list(s.documents))
            for s in digest.stories
            if s.named_by == "model"
        ],
        contradictions=[
            ContradictionDraft.model_construct(**c.model_dump()) for s in digest.stories for c in s.contradictions
        ],
        open_questions=[
            OpenQuestionDraft.model_construct(**q.model_dump()) for s in digest.stories for q in s.open_questions
        ],
    )


# ------------------------------------------------------------------ assembly


def entry_text(entry: Entry) -> str:
    """What a brief holds of its document's words (title, summary, evidence, names): the text stories are
    grouped on when the document itself is not at hand."""
    brief = entry.brief
    parts = [brief.document.title or "", brief.summary]
    parts += [c.evidence.quote for c in brief.claims] + [u.evidence.quote for u in brief.uncertainties]
    parts += [name for a in brief.actors for name in [a.name, *a.aliases]]
    return "\n".join(parts)


def rule_stories(entries: list[Entry], texts: dict[str, str] | None = None) -> list[StoryDraft]:
    """Stories without a model: documents that share salient names grouped (``stories`` module), each named
    from its documents; ``texts`` are the documents' texts by key (else what the briefs hold)."""
    texts = texts or {}
    grouped = group([texts.get(e.key) or entry_text(e) for e in entries], [label(e) for e in entries])
    return [
        StoryDraft.model_construct(name=story.name, documents=[entries[i].key for i in story.members])
        for story in grouped
    ]


def build_stories(
    entries: list[Entry],
    actors: list[DigestActor],
    synthesis: Synthesis | None,
    previous: Digest | None,
    texts: dict[str, str] | None = None,
) -> list[Story]:
    """The day's stories: the synthesis's groups (else those made by rule), every other document alone."""
    by_key = {entry.key: entry for entry in entries}
    grouped: list[tuple[str, str, list[Entry]]] = []
    placed: set[str] = set()
    drafts = (
        [(s, "model") for s in synthesis.stories] if synthesis else [(s, "rules") for s in rule_stories(entries, texts)]
    )
    for story, named_by in drafts:
        members = [by_key[k] for k in dict.fromkeys(story.documents) if k in by_key and k not in placed]
        if members:
            placed |= {m.key for m in members}
            grouped.append((story.name, named_by, members))
    for entry in entries:
        if entry.key not in placed:
            grouped.append((label(entry), "title", [entry]))
    position = {entry.key: index for index, entry in enumerate(entries)}
    grouped.sort(key=lambda g: (-len(g[2]), min(position[m.key] for m in g[2])))
    # A story's documents (and their claims) in the order they were published; undated ones after, as given.
    order = {entry.key: (date_key(entry.brief.document.date) or "~", position[entry.key]) for entry in entries}

    canonical = canonical_claimants(actors)
    changes = Changes(previous)
    key_of_file = {entry.file: entry.key for entry in entries}
    actor_claims: dict[str, dict[str, int]] = {}  # document key → actor id → its claims there
    for actor in actors:
        for mention in actor.documents:
            key = key_of_file.get(mention.brief)
            if key is not None:
                per_actor = actor_claims.setdefault(key, {})
                per_actor[actor.id] = per_actor.get(actor.id, 0) + len(mention.claim_ids)
    story_of = {m.key: number for number, (_, _, members) in enumerate(grouped) for m in members}

    def home(ids: list[str]) -> int | None:
        """The story every cited claim belongs to (None when they span stories: the validator refuses those)."""
        homes = {story_of.get(document_of(i)) for i in ids}
        return homes.pop() if len(homes) == 1 else None

    contradictions: dict[int | None, list[Contradiction]] = {}
    for item in synthesis.contradictions if synthesis else []:
        contradictions.setdefault(home(item.side_a + item.side_b), []).append(Contradiction(**item.model_dump()))
    questions: dict[int | None, list[OpenQuestion]] = {}
    for question in synthesis.open_questions if synthesis else []:
        questions.setdefault(home(question.claim_ids), []).append(OpenQuestion(**question.model_dump()))
    stories = []
    for number, (name, named_by, members) in enumerate(grouped):
        keys = sorted({m.key for m in members}, key=order.__getitem__)
        claims = [claim for member in sorted(members, key=lambda m: order[m.key]) for claim in claim_refs(member)]
        changes.mark(claims)
        weight: dict[str, int] = {}
        for key in keys:
            for actor_id, count in actor_claims.get(key, {}).items():
                weight[actor_id] = weight.get(actor_id, 0) + count
        stories.append(
            Story(
                id=f"S{number + 1}",
                name=name,
                named_by=named_by,
                documents=keys,
                actors=sorted(weight, key=lambda a: -weight[a]),
                claim_groups=group_claims(claims, canonical),
                figures=compare_figures(claims),
                contradictions=contradictions.get(number, []),
                open_questions=questions.get(number, []),
                change=story_change(claims),
            )
        )
    return stories


def build_digest(
    entries: list[Entry],
    failures: list[DigestFailure],
    *,
    synthesis: Synthesis | None,
    synthesis_error: str | None = None,
    previous: Digest | None = None,
    since: str | None = None,
    usage: Usage | None = None,
    calls: int = 0,
    duplicates: dict[str, list[str]] | None = None,
    texts: dict[str, str] | None = None,
    stories_by: Literal["model", "rules"] = "model",
    synthesis_final: bool = False,
) -> Digest:
    """The digest of ``entries``: by the synthesis's stories when there is one, else by stories made by rule
    (``texts``: the documents' texts by key, to group them on)."""
    actors = merge_actors(entries)
    return Digest(
        documents={e.key: e.file for e in entries},
        published={
            e.key: where
            for e in entries
            if (where := published(e.brief.document.outlet, e.brief.document.date, e.brief.document.author))
        },
        stories=build_stories(entries, actors, synthesis, previous, texts),
        actors=actors,
        failures=failures,
        duplicates=duplicates or {},
        since=since,
        synthesis_error=synthesis_error,
        synthesis_calls=calls,
        usage=usage or Usage(),
        stories_by=stories_by,
        synthesis_final=synthesis_final,
    )
