"""The digest by story: grouping, comparisons of the same counted thing only, bounded synthesis, reruns."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from summarizer.daily import NO_CLAIMS
from summarizer.digest import (
    STORY_DOCUMENTS,
    Entry,
    answer_reserve,
    build_digest,
    counted_words,
    merge_actors,
    plan_batches,
    same_counted_thing,
    synthesis_overhead,
    synthesise,
    verdict,
)
from summarizer.errors import LLMError
from summarizer.models import VALIDATION_CONTEXT, Brief, Digest, Synthesis, Usage
from summarizer.render import digest_markdown, format_figure
from summarizer.store import load_digest
from summarizer.structured import CallStats, StructuredLLM

from .test_daily import DocumentFake, brief_with, inbox, run, use_fake


def claim(claimant: str, evidence: str, *figures: dict[str, Any], status: str = "reported") -> dict[str, Any]:
    return {
        "claimant": claimant,
        "statement": evidence[:60],
        "status": status,
        "evidence": evidence,
        "figures": list(figures),
    }


def hand_made_day() -> list[Entry]:
    """Two reports of one stampede that give different death tolls, and an unrelated story; both the
    stampede's and the unrelated story's claims carry a 'year' figure."""
    saudi = brief_with(
        "saudi.txt",
        [{"name": "Saudi Civil Defence", "kind": "government", "role": "rescue service"}],
        [
            claim(
                "Saudi Civil Defence",
                "769 people were killed in the crush at Mina",
                {"value": 769, "unit": "people killed"},
            ),
            claim("author", "the worst Hajj disaster since 1990", {"value": 1990, "unit": "year"}),
        ],
    )
    iran = brief_with(
        "iran.txt",
        [
            {"name": "Iranian officials", "kind": "government", "role": "critics"},
            {"name": "Saudi Civil Defence", "kind": "government", "role": "rescue service"},
        ],
        [
            claim(
                "Iranian officials",
                "at least 4,700 people were killed at Mina",
                {"value": 4700, "unit": "people killed", "qualifier": "at least"},
            ),
            claim("Saudi Civil Defence", "934 people were wounded", {"value": 934, "unit": "people wounded"}),
        ],
    )
    museum = brief_with(
        "museum.txt",
        [{"name": "The museum", "kind": "organisation", "role": "host"}],
        [
            claim("The museum", "the museum opened in 1980", {"value": 1980, "unit": "year"}),
            claim(
                "The museum",
                "about 800 people were killed in the war it remembers",
                {"value": 800, "unit": "people killed", "qualifier": "about"},
            ),
        ],
    )
    return [
        Entry("d1", "briefs/saudi.json", saudi),
        Entry("d2", "briefs/iran.json", iran),
        Entry("d3", "briefs/museum.json", museum),
    ]


def synthesis_of(entries: list[Entry], answer: dict[str, Any]) -> Synthesis:
    known = {f"{e.key}:{c.id}" for e in entries for c in e.brief.claims}
    token = VALIDATION_CONTEXT.set({"claim_ids": known, "documents": [e.key for e in entries]})
    try:
        return Synthesis.model_validate(answer)
    finally:
        VALIDATION_CONTEXT.reset(token)


def comparisons(digest: Digest) -> list[tuple[str, str, list[str]]]:
    return [(s.id, c.subject, [f.ref for f in c.figures]) for s in digest.stories for c in s.figures]


def test_a_hand_made_day_compares_death_tolls_inside_the_story_and_never_the_years() -> None:
    entries = hand_made_day()
    synthesis = synthesis_of(
        entries,
        {
            "stories": [{"name": "Hajj stampede at Mina", "documents": ["d1", "d2"]}],
            "contradictions": [{"description": "Death tolls differ", "side_a": ["d1:C1"], "side_b": ["d2:C1"]}],
            "open_questions": [{"question": "How many died?", "claim_ids": ["d1:C1", "d2:C1"]}],
        },
    )
    digest = build_digest(entries, [], synthesis=synthesis)
    hajj, museum = digest.stories
    assert (hajj.name, hajj.named_by, hajj.documents) == ("Hajj stampede at Mina", "model", ["d1", "d2"])
    assert (museum.named_by, museum.documents) == ("title", ["d3"])
    # the two death tolls of the story are compared and flagged; the museum's war dead, the wounded and
    # every "year" are not
    assert comparisons(digest) == [("S1", "people killed", ["d1:C1", "d2:C1"])]
    toll = hajj.figures[0]
    assert toll.verdict == "differ"
    assert [(f.claimant, f.figure.value, f.figure.qualifier) for f in toll.figures] == [
        ("Saudi Civil Defence", 769, None),
        ("Iranian officials", 4700, "at least"),
    ]
    assert [c.description for c in hajj.contradictions] == ["Death tolls differ"] and not museum.contradictions
    assert [q.question for q in hajj.open_questions] == ["How many died?"]
    # claims by claimant, merged across the story's documents
    groups = {g.actor: [c.ref for c in g.claims] for g in hajj.claim_groups}
    assert groups == {"Saudi Civil Defence": ["d1:C1", "d2:C2"], "Iranian officials": ["d2:C1"], "author": ["d1:C2"]}
    names = {a.id: a.name for a in digest.actors}
    assert [names[a] for a in hajj.actors] == ["Saudi Civil Defence", "Iranian officials"]
    markdown = digest_markdown(digest)
    assert "## Hajj stampede at Mina" in markdown and "- people killed: **differ**" in markdown
    assert "  - d2:C1 Iranian officials (reported): at least 4,700 people killed" in markdown


def test_without_a_models_synthesis_the_stories_are_made_by_rule_and_the_failure_is_said() -> None:
    entries = hand_made_day()
    digest = build_digest(entries, [], synthesis=None, synthesis_error="synthesis call failed: HTTP 503")
    # the two Hajj reports share their names (Mina, Hajj, Saudi ...); the museum story shares none
    assert [(s.documents, s.named_by) for s in digest.stories] == [(["d1", "d2"], "rules"), (["d3"], "title")]
    assert "may be missing: synthesis call failed: HTTP 503" in digest_markdown(digest)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("North Korean troops killed or wounded", "North Korean soldiers killed or wounded", True),
        ("people killed", "people killed in the stampede", True),
        ("Troops", "troop", True),
        ("people killed", "people wounded", False),
        ("year", "year", False),  # says how, not what: never compared
        ("percent", "percent", False),
        ("votes", "votes margin", False),
        ("visitors last year", "visitors expected this year", False),
        ("North Korean troops killed or wounded in the past week", "North Korean soldiers killed or wounded", False),
        ("percent of voters", "voters", False),
        ("US dollars per hard drive", "hard drives", False),
        ("jobs lost this year", "jobs created this year", False),
        ("jobs lost this year", "jobs lost", False),
        ("times", "times", False),
        ("previous estimates of deaths", "deaths", False),
    ],
)
def test_what_a_figure_counts(a: str, b: str, same: bool) -> None:
    assert same_counted_thing(counted_words(a), counted_words(b)) is same
    assert same_counted_thing(counted_words(b), counted_words(a)) is same


def test_ranges_that_overlap_and_values_that_agree() -> None:
    entries = [
        *hand_made_day()[:1],
        Entry(
            "d2",
            "briefs/b.json",
            brief_with(
                "b.txt",
                [{"name": "Red Crescent", "kind": "organisation", "role": "aid"}],
                [
                    claim(
                        "Red Crescent",
                        "between 700 and 800 people were killed",
                        {"low": 700, "high": 800, "unit": "people killed"},
                    ),
                    claim(
                        "Red Crescent", "769 people were killed, it confirmed", {"value": 769, "unit": "people killed"}
                    ),
                ],
            ),
        ),
    ]
    both = synthesis_of(entries, {"stories": [{"name": "Mina", "documents": ["d1", "d2"]}]})
    (story,) = build_digest(entries, [], synthesis=both).stories
    assert [c.verdict for c in story.figures] == ["overlap"]
    only_points = [f for f in story.figures[0].figures if f.figure.value is not None]
    assert [f.ref for f in only_points] == ["d1:C1", "d2:C2"]
    assert verdict([(769, 769), (769, 769)]) == "agree" and verdict([(700, 800), (900, 900)]) == "differ"


# ------------------------------------------------------------------ bounded synthesis


def many_entries(count: int, shared_every: int = 3) -> list[Entry]:
    """``count`` one-claim briefs; every ``shared_every`` consecutive documents share an actor."""
    template = hand_made_day()[0].brief
    entries = []
    for number in range(1, count + 1):
        group = (number - 1) // shared_every
        actor = template.actors[0].model_copy(update={"name": f"Agency {group}", "aliases": []})
        claim_ = template.claims[0].model_copy(
            update={"claimant": f"Agency {group}", "statement": f"Statement {number} " + "word " * 20}
        )
        brief = template.model_copy(
            update={
                "actors": [actor],
                "claims": [claim_],
                "document": template.document.model_copy(update={"title": f"Report {number}"}),
            }
        )
        entries.append(Entry(f"d{number}", f"briefs/r{number}.json", brief))
    return entries


def test_batches_fit_the_budget_and_keep_documents_that_share_an_actor_together() -> None:
    entries = many_entries(200)
    actors = merge_actors(entries)
    budget = 1_000
    batches = plan_batches(entries, actors, budget)
    assert [e.key for b in batches for e in b.entries] == [e.key for e in entries]  # each once, in order
    assert all(b.tokens <= budget and len(b.entries) <= STORY_DOCUMENTS for b in batches)
    batch_of = {e.key: n for n, b in enumerate(batches) for e in b.entries}
    for start in range(1, 201, 3):  # d1-d3 share an actor, d4-d6 another, ...
        assert len({batch_of[f"d{n}"] for n in range(start, min(start + 3, 201))}) == 1
    assert len(batches) > 5


class StoryFake(StructuredLLM):
    """Answers each synthesis batch with one story named after its first document's actor group (so a
    group split across batches comes back under one name twice), and a question on the first claim."""

    def __init__(self, fail_batch: int | None = None) -> None:
        self.prompts: list[str] = []
        self.fail_batch = fail_batch

    async def extract(self, response_model: Any, prompt: Any, **kwargs: Any) -> tuple[Any, CallStats]:
        self.prompts.append(prompt.user)
        if self.fail_batch is not None and len(self.prompts) == self.fail_batch:
            raise LLMError("HTTP 503 from the fake model")
        keys = re.findall(r"^Document (d\d+):", prompt.user, re.M)
        ids = re.findall(r"^  (d\d+:C\d+) ", prompt.user, re.M)
        answer = {
            "stories": [{"name": "The long thread", "documents": keys}],
            "open_questions": [{"question": f"About {ids[0]}?", "claim_ids": ids[:1]}],
        }
        token = VALIDATION_CONTEXT.set(kwargs.get("context"))
        try:
            stats = CallStats(usage=Usage(prompt_tokens=1000, completion_tokens=50, total_tokens=1050), attempts=1)
            return response_model.model_validate(answer), stats
        finally:
            VALIDATION_CONTEXT.reset(token)


def test_synthesis_in_batches_is_merged_and_counted() -> None:
    entries = many_entries(70)
    fake = StoryFake()
    result = asyncio.run(synthesise(entries, merge_actors(entries), fake, reasks=0, context_tokens=10_000))
    assert result.calls == len(fake.prompts) == 3 and result.error is None  # 70 documents, at most 30 a request
    assert result.usage.total_tokens == 3 * 1050
    for prompt in fake.prompts:  # every request within the context: briefs + overhead + answer
        assert len(prompt) / 3 + synthesis_overhead() + 2_000 <= 10_000
    digest = build_digest(entries, [], synthesis=result.synthesis, usage=result.usage, calls=result.calls)
    (story,) = digest.stories  # the same story name from each batch: merged
    assert len(story.documents) == 70 and len(story.open_questions) == 3
    assert digest.synthesis_calls == 3 and digest.usage.total_tokens == 3150


def test_a_failed_batch_leaves_its_documents_alone_and_says_so() -> None:
    entries = many_entries(70)
    result = asyncio.run(
        synthesise(entries, merge_actors(entries), StoryFake(fail_batch=2), reasks=0, context_tokens=10_000)
    )
    assert result.error == "1 of 3 synthesis batches: synthesis call failed: HTTP 503 from the fake model"
    digest = build_digest(entries, [], synthesis=result.synthesis, synthesis_error=result.error)
    assert len(digest.stories[0].documents) == 40 and all(len(s.documents) == 1 for s in digest.stories[1:])


def test_the_token_budget_stops_further_synthesis_batches() -> None:
    entries = many_entries(70)
    spent = [0]
    result = asyncio.run(
        synthesise(
            entries,
            merge_actors(entries),
            StoryFake(),
            reasks=0,
            context_tokens=10_000,
            may_send=lambda: spent[0] < 1_000,
            spend=lambda usage: spent.__setitem__(0, spent[0] + usage.total_tokens),
        )
    )
    assert result.calls == 1 and spent[0] == 1050
    assert result.error == "2 of 3 synthesis batches: token budget reached"


# ------------------------------------------------------------------ reruns and --since


def documents(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.txt") if not p.name.startswith("."))


def test_since_says_per_story_what_is_new_repeated_or_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = inbox(tmp_path, 3)
    use_fake(monkeypatch, DocumentFake())
    run(folder, tmp_path / "day1")
    third = documents(folder)[2]
    third.write_text("Officials announced a new inquiry today.\n" + third.read_text())
    _, digest = run(folder, tmp_path / "day2", since=tmp_path / "day1")
    changes = [(s.documents, s.change) for s in digest.stories]
    # A story's documents in the order they were published: d2 (18 May 2015) before d1 (21 July 2017).
    assert changes == [(["d2", "d1"], "repeated"), (["d3"], "new")]
    assert digest.published == {"d1": "21 Jul 2017", "d2": "18 May 2015", "d3": "22 Sep 2015"}
    assert "## The first two *[repeated]*" in (tmp_path / "day2" / "digest.md").read_text()


def test_a_digest_from_before_stories_is_read_and_its_synthesis_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = inbox(tmp_path, 2)
    use_fake(monkeypatch, DocumentFake())
    _, digest = run(folder, tmp_path / "out")
    # the same day as an earlier summarizer wrote it: claims grouped by claimant and figure unit
    old = {
        "schema_version": "1.2",
        "kind": "digest",
        "documents": digest.documents,
        "actors": [a.model_dump(mode="json") for a in digest.actors],
        "claim_groups": [
            {"actor": g.actor, "topic": "general", "claims": [c.model_dump(mode="json") for c in g.claims]}
            for s in digest.stories
            for g in s.claim_groups
        ],
        "figures": [],
        "contradictions": [],
        "open_questions": [{"question": "Old?", "claim_ids": []}],
        "failures": [],
    }
    (tmp_path / "out" / "digest.json").write_text(json.dumps(old))
    upgraded = load_digest(tmp_path / "out" / "digest.json")
    assert [s.documents for s in upgraded.stories] == [["d1"], ["d2"]]
    assert {c.ref for c in upgraded.claims()} == {c.ref for c in digest.claims()}
    fake = DocumentFake()
    use_fake(monkeypatch, fake)
    _, again = run(folder, tmp_path / "out")
    assert fake.calls == ["synthesis"] and again.synthesis_error is None  # no brief re-sent
    _, since = run(folder, tmp_path / "next", since=tmp_path / "out")
    assert {c.change for c in since.claims()} == {"repeated"}


def test_a_removed_input_makes_the_synthesis_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = inbox(tmp_path, 3)
    use_fake(monkeypatch, DocumentFake())
    run(folder, tmp_path / "out")
    documents(folder)[0].unlink()  # the keys d1, d2 now name other documents
    fake = DocumentFake()
    use_fake(monkeypatch, fake)
    _, digest = run(folder, tmp_path / "out")
    assert fake.calls == ["synthesis"] and len(digest.documents) == 2
    assert {k for s in digest.stories for k in s.documents} == {"d1", "d2"}


def test_a_brief_with_a_figure_without_a_number_keeps_it_out_of_comparisons() -> None:
    entries = hand_made_day()
    thousands = brief_with(
        "crowd.txt",
        [{"name": "Police", "kind": "government", "role": "police"}],
        [
            claim(
                "Police",
                "thousands of people were killed, police said",
                {"unit": "people killed", "qualifier": "thousands"},
            )
        ],
    )
    figure = thousands.claims[0].figures[0]
    assert figure.value is None and figure.qualifier == "thousands (no number written)"
    assert format_figure(figure) == "people killed: thousands (no number written)"
    entries.append(Entry("d4", "briefs/crowd.json", thousands))
    synthesis = synthesis_of(entries, {"stories": [{"name": "Mina", "documents": ["d1", "d2", "d4"]}]})
    digest = build_digest(entries, [], synthesis=synthesis)
    assert comparisons(digest) == [("S1", "people killed", ["d1:C1", "d2:C1"])]
    assert isinstance(digest.stories[0].claim_groups[0].claims[0].figures, list)
    Brief.model_validate(thousands.model_dump())  # a figure without a number round-trips


def test_a_context_too_small_for_a_synthesis_request_is_said_not_overrun() -> None:
    entries = many_entries(5)
    fake = StoryFake()
    result = asyncio.run(synthesise(entries, merge_actors(entries), fake, reasks=0, context_tokens=2_048))
    assert fake.prompts == [] and result.synthesis is None
    assert result.error is not None and "context of 2048 tokens leaves no room" in result.error


def test_the_answer_reserve_covers_a_retry_at_the_ceiling_when_it_fits() -> None:
    assert answer_reserve(8_192, 1_024, 1_024) == 1_024  # embedded
    assert answer_reserve(8_192, 2_000, 4_096) == 4_096  # an 8k remote model: a cut answer is asked up to 4,096
    assert answer_reserve(128_000, 2_000, 16_384) == 16_384
    assert answer_reserve(128_000, 2_000, 128_000) == 2_000  # a ceiling as large as the context is not reserved


def test_the_error_names_the_first_failed_batch_in_input_order() -> None:
    entries = many_entries(70)
    result = asyncio.run(
        synthesise(
            entries, merge_actors(entries), StoryFake(fail_batch=1), reasks=0, context_tokens=10_000, concurrency=3
        )
    )
    assert result.error is not None and result.error.startswith("1 of 3 synthesis batches: synthesis call failed")


class Claimless(DocumentFake):
    """Briefs every document with an actor and no claim."""

    async def extract(self, response_model: Any, prompt: Any, **kwargs: Any) -> tuple[Any, CallStats]:
        if response_model.__name__ != "Extraction":
            return await super().extract(response_model, prompt, **kwargs)
        self.calls.append("extraction")
        answer = {"summary": "s", "actors": [{"name": "A", "kind": "other", "role": "r"}], "claims": []}
        return response_model.model_validate({**answer, "uncertainties": []}), CallStats(attempts=1)


def test_a_kept_synthesis_never_names_other_documents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys are input positions: a rerun with an input removed and no claim left must not keep old stories."""
    folder = inbox(tmp_path, 3)
    use_fake(monkeypatch, DocumentFake())
    _, first = run(folder, tmp_path / "out")
    assert first.stories[0].named_by == "model"
    for path in documents(folder)[1:]:
        path.unlink()
    documents(folder)[0].write_text("A plain notice without any attribution at all.\n")
    use_fake(monkeypatch, Claimless())
    _, digest = run(folder, tmp_path / "out")
    assert [s.named_by for s in digest.stories] == ["title"] and digest.synthesis_error == NO_CLAIMS
