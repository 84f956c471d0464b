"""Many briefs → one daily brief (digest).

Deterministic parts: actors merged across documents by normalised names and
aliases; claims grouped by claimant and topic; figures on the same topic
compared across documents; failures carried over from the manifest; claims
marked new / repeated / changed against an earlier daily brief. One LLM call
over the compact briefs (never the raw text) proposes contradictions and open
questions; its validator refuses claim ids that do not exist (Instructor
re-asks) and a contradiction without two distinct sides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .grounding import name_key
from .models import (
    AUTHOR,
    UNNAMED_SOURCE,
    ActorMention,
    Brief,
    ClaimGroup,
    ClaimRef,
    Contradiction,
    Digest,
    DigestActor,
    DigestFailure,
    FigureComparison,
    OpenQuestion,
    Synthesis,
)
from .prompts import render
from .sizing import SYNTHESIS_CALL_TOKENS
from .structured import CallStats, StructuredLLM


@dataclass(frozen=True)
class Entry:
    key: str  # d1, d2, ... in input order
    file: str  # brief file relative to the daily folder
    brief: Brief


def ref(entry: Entry, claim_id: str) -> str:
    return f"{entry.key}:{claim_id}"


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
                claim_ids=[c.id for c in entry.brief.claims if c.claimant_id == actor.id],
            )
        )
    return list(groups.values())


def actor_components(nodes: list[tuple[int, str, set[str]]]) -> list[int]:
    """The merge groups of actors given as (document, name key, name and alias keys): a root per node.

    An actor joins every actor of *another* document whose name key is one of
    its keys. Linear in the actors: when the actors named by a key span two or
    more documents they are all one group already (each joins the others), so a
    key's holders join its first named actor; when they all sit in one document,
    only holders from elsewhere join them (two actors of one brief are never
    merged directly).
    """
    parent = list(range(len(nodes)))

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(a: int, b: int) -> None:
        low, high = sorted((find(a), find(b)))
        parent[high] = low

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


# ------------------------------------------------------------------ claims and figures


def topic_of(unit: str) -> str:
    """A figure's unit reduced to a comparable topic: 'Troops' and 'troop' meet."""
    words = re.sub(r"[^\w\s]", " ", unit.lower()).split()
    return " ".join(w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words) or "(no unit)"


def claim_refs(entries: list[Entry]) -> list[tuple[ClaimRef, str]]:
    """(ref, merged claimant name) for every claim of every brief."""
    refs = []
    for entry in entries:
        for claim in entry.brief.claims:
            refs.append(
                (
                    ClaimRef(
                        ref=ref(entry, claim.id),
                        brief=entry.file,
                        claimant=claim.claimant,
                        statement=claim.statement,
                        evidence=claim.evidence.quote,
                        status=claim.status,
                        figures=claim.figures,
                    ),
                    claim.claimant,
                )
            )
    return refs


def group_claims(entries: list[Entry], actors: list[DigestActor]) -> list[ClaimGroup]:
    canonical = {name_key(alias): actor.name for actor in actors for alias in [actor.name, *actor.aliases]}
    groups: dict[tuple[str, str], ClaimGroup] = {}
    for claim, claimant in claim_refs(entries):
        actor = canonical.get(name_key(claimant), claimant)
        topic = topic_of(claim.figures[0].unit) if claim.figures else "general"
        group = groups.setdefault((actor, topic), ClaimGroup(actor=actor, topic=topic, claims=[]))
        group.claims.append(claim)
    order = {AUTHOR: 1, UNNAMED_SOURCE: 1}
    return sorted(groups.values(), key=lambda g: (order.get(g.actor, 0), g.actor.lower(), g.topic))


def _figures_differ(claims: list[ClaimRef], topic: str) -> bool:
    ranges = []
    for claim in claims:
        for figure in claim.figures:
            if topic_of(figure.unit) == topic:
                ranges.append(figure.bounds())
    if len(ranges) < 2:
        return False
    # Values agree when every pair of values or ranges overlaps.
    return any(a[1] < b[0] or b[1] < a[0] for i, a in enumerate(ranges) for b in ranges[i + 1 :])


def compare_figures(entries: list[Entry]) -> list[FigureComparison]:
    """Topics with figures from two or more documents; flagged when their values differ."""
    by_topic: dict[str, list[ClaimRef]] = {}
    for claim, _ in claim_refs(entries):
        for topic in dict.fromkeys(topic_of(f.unit) for f in claim.figures):
            by_topic.setdefault(topic, []).append(claim)
    comparisons = []
    for topic, claims in sorted(by_topic.items()):
        if len({c.brief for c in claims}) < 2:
            continue
        comparisons.append(FigureComparison(topic=topic, claims=claims, differs=_figures_differ(claims, topic)))
    return comparisons


# ------------------------------------------------------------------ what changed


def mark_changes(groups: list[ClaimGroup], previous: Digest | None) -> None:
    """new / repeated / changed against an earlier digest.

    The same evidence (or the same claimant and statement) seen before is
    *repeated* when its status and figures are unchanged, else *changed*; a claim
    by the same claimant on the same figure topic is *changed*; the rest is *new*.
    """
    if previous is None:
        return
    by_evidence: dict[str, ClaimRef] = {}
    by_statement: dict[tuple[str, str], ClaimRef] = {}
    by_topic: set[tuple[str, str]] = set()
    for group in previous.claim_groups:
        for claim in group.claims:
            by_evidence[name_key(claim.evidence)] = claim
            by_statement[(name_key(claim.claimant), name_key(claim.statement))] = claim
            by_topic |= {(name_key(claim.claimant), topic_of(f.unit)) for f in claim.figures}
    for group in groups:
        for claim in group.claims:
            before = by_evidence.get(name_key(claim.evidence)) or by_statement.get(
                (name_key(claim.claimant), name_key(claim.statement))
            )
            if before is not None:
                same = (before.status, before.figures, name_key(before.statement)) == (
                    claim.status,
                    claim.figures,
                    name_key(claim.statement),
                )
                claim.change = "repeated" if same else "changed"
            elif any((name_key(claim.claimant), topic_of(f.unit)) in by_topic for f in claim.figures):
                claim.change = "changed"
            else:
                claim.change = "new"


# ------------------------------------------------------------------ synthesis (one LLM call)


def compact(entries: list[Entry]) -> list[dict[str, Any]]:
    """What the synthesis call sees: per document, its title and claims with their refs."""
    return [
        {
            "document": entry.key,
            "title": entry.brief.document.title or entry.file,
            "claims": [
                {"id": ref(entry, c.id), "claimant": c.claimant, "status": c.status.value, "statement": c.statement}
                for c in entry.brief.claims
            ],
        }
        for entry in entries
        if entry.brief.claims
    ]


async def synthesise(entries: list[Entry], llm: StructuredLLM, reasks: int) -> tuple[Synthesis, CallStats]:
    briefs = compact(entries)
    known = sorted(c["id"] for b in briefs for c in b["claims"])
    prompt = render("digest.j2", briefs=briefs)
    return await llm.extract(
        Synthesis, prompt, reasks=reasks, context={"claim_ids": set(known)}, max_tokens=SYNTHESIS_CALL_TOKENS
    )


# ------------------------------------------------------------------ assembly


def build_digest(
    entries: list[Entry],
    failures: list[DigestFailure],
    *,
    synthesis: Synthesis | None,
    synthesis_error: str | None = None,
    previous: Digest | None = None,
    since: str | None = None,
    usage: Any = None,
    duplicates: dict[str, list[str]] | None = None,
) -> Digest:
    actors = merge_actors(entries)
    groups = group_claims(entries, actors)
    mark_changes(groups, previous)
    digest = Digest(
        documents={e.key: e.file for e in entries},
        actors=actors,
        claim_groups=groups,
        figures=compare_figures(entries),
        contradictions=[Contradiction(**c.model_dump()) for c in synthesis.contradictions] if synthesis else [],
        open_questions=[OpenQuestion(**q.model_dump()) for q in synthesis.open_questions] if synthesis else [],
        failures=failures,
        duplicates=duplicates or {},
        since=since,
        synthesis_error=synthesis_error,
    )
    if usage is not None:
        digest.usage = usage
    return digest


def digest_markdown(digest: Digest) -> str:
    """The daily brief as Markdown; every string from a model, a document or a file name is escaped."""
    from .render import format_figure, md

    def figures(claim: Any) -> str:
        return md(", ".join(format_figure(f) for f in claim.figures))

    out = ["# Daily brief", ""]
    out.append(
        f"{len(digest.documents)} documents briefed, {len(digest.failures)} missing."
        + (f" Compared with {md(digest.since)}." if digest.since else "")
    )
    if digest.failures:
        out += ["", "## Missing", ""] + [
            f"- {md(f.source)}: {md(f.status)}" + (f" — {md(f.error)}" if f.error else "") for f in digest.failures
        ]
    out += ["", "## Contradictions", ""]
    out += [
        f"- {md(c.description)} ({md(', '.join(c.side_a))} vs {md(', '.join(c.side_b))})" for c in digest.contradictions
    ] or ["*(none found)*" + (f" — {md(digest.synthesis_error)}" if digest.synthesis_error else "")]
    out += ["", "## Open questions", ""]
    out += [
        f"- {md(q.question)}" + (f" ({md(', '.join(q.claim_ids))})" if q.claim_ids else "")
        for q in digest.open_questions
    ] or ["*(none)*"]
    out += ["", "## Figures compared across documents", ""]
    for comparison in digest.figures:
        flag = "**differ**" if comparison.differs else "agree"
        values = "; ".join(f"{md(c.ref)} {figures(c)}" for c in comparison.claims)
        out.append(f"- {md(comparison.topic)}: {flag} — {values}")
    if not digest.figures:
        out.append("*(no figure appears in two documents)*")
    out += ["", "## Claims by actor", ""]
    for group in digest.claim_groups:
        out.append(f"### {md(group.actor)} — {md(group.topic)}")
        for claim in group.claims:
            change = f" *[{md(claim.change)}]*" if claim.change else ""
            out.append(f"- {md(claim.ref)} *{claim.status.value}*: {md(claim.statement)}{change}")
        out.append("")
    out += ["## Actors", ""]
    out += [
        f"- **{md(a.name)}** ({', '.join(k.value for k in a.kinds)}) — in {len({m.brief for m in a.documents})} "
        "document(s)" + (f"; also {md(', '.join(a.aliases))}" if a.aliases else "")
        for a in digest.actors
    ] or ["*(none)*"]
    out += ["", "## Documents", ""] + [
        f"- {md(key)}: {md(file)}"
        + (f" (the same text also in {md(', '.join(digest.duplicates[key]))})" if key in digest.duplicates else "")
        for key, file in digest.documents.items()
    ]
    return "\n".join(out) + "\n"
