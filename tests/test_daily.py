"""Daily runs: concurrency, manifest, cache and resume, token budget, the digest."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from summarizer import daily as daily_module
from summarizer.cli import app
from summarizer.daily import DailyOptions, Manifest, run_daily
from summarizer.digest import Entry, actor_components, claim_refs, compare_figures, counted_words, merge_actors
from summarizer.errors import ExitCode as Exit
from summarizer.errors import LLMError
from summarizer.grounding import sentences
from summarizer.models import VALIDATION_CONTEXT, Brief, Digest, Synthesis, Usage
from summarizer.settings import build_settings
from summarizer.store import load_brief
from summarizer.structured import CallStats, StructuredLLM

from .conftest import FIXTURES, SEEDS

runner = CliRunner()
DAILY_FIXTURES = FIXTURES / "daily"
STRONG_FIXTURES = FIXTURES / "strong"


class DocumentFake(StructuredLLM):
    """A fake model that briefs any document from its own first sentences; can fail chosen documents."""

    def __init__(self, fail: set[str] = frozenset(), delay: float = 0.0, synthesis_delay: float = 0.0):
        self.fail, self.delay, self.synthesis_delay = set(fail), delay, synthesis_delay
        self.calls: list[str] = []
        self.running = self.peak = 0

    def start_scenario(self, name: str) -> None:
        pass

    async def extract(
        self, response_model: Any, prompt: Any, *, reasks: int, context: Any = None, max_tokens: int | None = None
    ) -> tuple[Any, CallStats]:
        model = response_model
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await asyncio.sleep(self.delay)
            stats = CallStats(usage=Usage(prompt_tokens=90, completion_tokens=10, total_tokens=100), attempts=1)
            if model.__name__ == "Summary":
                self.calls.append("summary")
                return model(summary="The whole document."), stats
            if model.__name__ == "Additions":  # a continuation pass: nothing is missing
                self.calls.append("additions")
                return model(), stats
            if model.__name__ == "Synthesis":  # the first two documents are one story; a question on the first claim
                self.calls.append("synthesis")
                await asyncio.sleep(self.synthesis_delay)
                keys = re.findall(r"^Document (d\d+):", prompt.user, re.M)
                ids = re.findall(r"^  (d\d+:C\d+) ", prompt.user, re.M)
                answer = {
                    "stories": [{"name": "The first two", "documents": keys[:2]}] if len(keys) > 1 else [],
                    "open_questions": [{"question": "How many?", "claim_ids": ids[:1]}],
                }
                token = VALIDATION_CONTEXT.set(context)
                try:
                    return model.model_validate(answer), stats
                finally:
                    VALIDATION_CONTEXT.reset(token)
            text = re.search(r"<document>\n(.*)\n</document>", prompt.user, re.S).group(1)
            self.calls.append(text[:30])
            if any(marker in text for marker in self.fail):
                raise LLMError("HTTP 500 from the fake model")
            first = next(text[a:b] for a, b in sentences(text) if len(text[a:b].split()) >= 3)
            words = " ".join(first.split()[:6])  # whole words: a word cut short would be a name the text lacks
            answer = {
                "summary": "s",
                "actors": [{"name": first.split()[0], "kind": "other", "role": "r"}],
                "claims": [{"claimant": "author", "statement": words, "evidence": first, "status": "asserted"}],
                "uncertainties": [],
            }
            token = VALIDATION_CONTEXT.set(context)
            try:
                return model.model_validate(answer), stats
            finally:
                VALIDATION_CONTEXT.reset(token)
        finally:
            self.running -= 1


def questions(digest: Digest) -> list[Any]:
    return [q for story in digest.stories for q in story.open_questions]


def use_fake(monkeypatch: pytest.MonkeyPatch, fake: DocumentFake) -> None:
    @asynccontextmanager
    async def session(settings: Any, **_: Any):
        yield fake, settings, lambda: None

    monkeypatch.setattr(daily_module, "llm_session", session)


def inbox(tmp_path: Path, count: int = 6) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    for path in sorted((SEEDS / "wikinews").glob("*.txt"))[:count]:
        shutil.copyfile(path, folder / path.name)
    (folder / "notes.odt").write_bytes(b"PK")  # not a document type: ignored in a folder
    (folder / "README.md").write_text("About this inbox.")  # a folder's notes are not documents
    (folder / ".hidden.txt").write_text("An editor's backup.")
    return folder


def settings() -> Any:
    """One pass per document: these tests count calls per document (continuation passes: test_strong.py)."""
    # the fake answers are generic: the program's candidates (tests/test_statements.py) would add the rules'
    # claims to every brief, which is not what these tests are about
    return build_settings(provider="openai", base_url="http://127.0.0.1:9/v1", environ={}, passes=0, candidates=False)


def run(folder: Path | list[str], out: Path, **options: Any) -> tuple[Manifest, Digest]:
    paths = [str(folder)] if isinstance(folder, Path) else folder
    return asyncio.run(run_daily(paths, settings(), DailyOptions(out=out, **options)))


def test_batch_writes_briefs_manifest_and_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = DocumentFake(delay=0.01)
    use_fake(monkeypatch, fake)
    manifest, digest = run(inbox(tmp_path), tmp_path / "out", concurrency=3)
    assert [e.status for e in manifest.entries] == ["ok"] * 6 and manifest.finished
    assert 1 < fake.peak <= 3  # concurrent, and never above the bound
    for entry in manifest.entries:
        brief = Brief.model_validate_json((tmp_path / "out" / entry.brief).read_text())
        assert brief.document.id == entry.document_id and entry.usage.total_tokens == 100
    assert manifest.usage.total_tokens == 7 * 100  # six briefs and the synthesis
    assert len(digest.documents) == 6 and [q.question for q in questions(digest)] == ["How many?"]
    assert [len(s.documents) for s in digest.stories] == [2, 1, 1, 1, 1]  # the fake's story, five alone
    assert digest.stories[0].name == "The first two" and digest.stories[0].open_questions
    assert (tmp_path / "out" / "digest.md").read_text().startswith("# Daily brief")
    on_disk = Manifest.model_validate_json((tmp_path / "out" / "manifest.json").read_text())
    assert on_disk == manifest


def test_one_failing_document_never_stops_the_others_and_a_rerun_sends_only_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = inbox(tmp_path)
    third = sorted(folder.glob("*.txt"))[2]
    marker = third.read_text()[:25]
    use_fake(monkeypatch, DocumentFake(fail={marker}))
    manifest, digest = run(folder, tmp_path / "out")
    statuses = {Path(e.source).name: e.status for e in manifest.entries}
    assert statuses[third.name] == "failed" and list(statuses.values()).count("ok") == 5
    assert [f.source for f in digest.failures] == [str(third)]
    fake = DocumentFake()
    use_fake(monkeypatch, fake)
    manifest, _ = run(folder, tmp_path / "out")
    assert fake.calls[0] == third.read_text()[:30] and len(fake.calls) == 2  # that document + the synthesis
    assert sorted(e.status for e in manifest.entries) == ["ok"] + ["skipped-unchanged"] * 5


def test_unchanged_rerun_makes_no_llm_call_and_force_resends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = inbox(tmp_path, 3)
    use_fake(monkeypatch, DocumentFake())
    _first, digest = run(folder, tmp_path / "out")
    fake = DocumentFake()
    use_fake(monkeypatch, fake)
    again, kept = run(folder, tmp_path / "out")
    assert fake.calls == [] and again.usage.total_tokens == 0
    assert questions(kept) == questions(digest) and kept.stories == digest.stories
    run(folder, tmp_path / "out", force=True)
    assert len(fake.calls) == 4


def test_a_changed_document_is_sent_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = inbox(tmp_path, 3)
    use_fake(monkeypatch, DocumentFake())
    run(folder, tmp_path / "out")
    changed = sorted(folder.glob("*.txt"))[1]
    changed.write_text(changed.read_text() + "\nA late correction was published.")
    fake = DocumentFake()
    use_fake(monkeypatch, fake)
    manifest, _ = run(folder, tmp_path / "out")
    assert [e.status for e in manifest.entries].count("ok") == 1 and len(fake.calls) == 2


def test_a_killed_run_resumes_without_losing_finished_briefs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = inbox(tmp_path, 6)
    fake = DocumentFake(delay=0.05)
    use_fake(monkeypatch, fake)

    async def killed() -> None:
        task = asyncio.ensure_future(
            run_daily([str(folder)], settings(), DailyOptions(out=tmp_path / "out", concurrency=2))
        )
        while (
            len(list((tmp_path / "out" / "briefs").glob("*.json"))) < 2
            if (tmp_path / "out" / "briefs").exists()
            else True
        ):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(killed())
    written = {p.name for p in (tmp_path / "out" / "briefs").glob("*.json")}
    assert 2 <= len(written) < 6
    assert not list((tmp_path / "out").rglob("*.part"))  # no half-written file
    partial = Manifest.model_validate_json((tmp_path / "out" / "manifest.json").read_text())
    assert not partial.finished and "pending" in {e.status for e in partial.entries}
    fresh = DocumentFake()
    use_fake(monkeypatch, fresh)
    manifest, _ = run(folder, tmp_path / "out")
    assert len(fresh.calls) == 6 - len(written) + 1
    assert sorted(e.status for e in manifest.entries).count("skipped-unchanged") == len(written)


def test_token_budget_skips_the_rest_and_a_rerun_picks_them_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = inbox(tmp_path, 5)
    use_fake(monkeypatch, DocumentFake())
    manifest, digest = run(folder, tmp_path / "out", concurrency=1, token_budget=250)
    statuses = [e.status for e in manifest.entries]
    assert statuses == ["ok", "ok", "ok", "skipped-budget", "skipped-budget"]
    assert {f.status for f in digest.failures} == {"skipped-budget"}
    manifest, _ = run(folder, tmp_path / "out", concurrency=1)
    assert [e.status for e in manifest.entries] == ["skipped-unchanged"] * 3 + ["ok"] * 2


def test_prices_turn_tokens_into_money(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"gpt-4o-mini": {"input": 0.15, "output": 0.6}}))
    use_fake(monkeypatch, DocumentFake())
    manifest, _ = run(inbox(tmp_path, 2), tmp_path / "out", prices=prices)
    assert manifest.entries[0].cost == pytest.approx((90 * 0.15 + 10 * 0.6) / 1e6)
    assert manifest.cost == pytest.approx(3 * (90 * 0.15 + 10 * 0.6) / 1e6)


def test_since_marks_claims_new_repeated_or_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = inbox(tmp_path, 2)
    use_fake(monkeypatch, DocumentFake())
    run(folder, tmp_path / "day1")
    extra = tmp_path / "inbox" / "zz-new.txt"
    extra.write_text("Officials announced a new inquiry today.\n")
    _, digest = run(folder, tmp_path / "day2", since=tmp_path / "day1")
    changes = {c.ref: c.change for c in digest.claims()}
    assert sorted(changes.values()) == ["new", "repeated", "repeated"]


# ------------------------------------------------------------------ digest pieces


def brief_with(path: str, actors: list[dict], claims: list[dict]) -> Brief:
    names = [n for a in actors for n in [a["name"], *a.get("aliases", [])]]
    text = ". ".join(c["evidence"] for c in claims) + ". " + ", ".join(names) + "."
    from summarizer.documents import from_text
    from summarizer.pipeline import brief_document

    from .test_pipeline import FakeLLM

    extraction = {"summary": "s", "actors": actors, "claims": claims, "uncertainties": []}
    return asyncio.run(brief_document(from_text(text, path), FakeLLM(extraction), settings()))


def test_figures_compared_on_a_hand_checked_pair() -> None:
    a = brief_with(
        "a.txt",
        [{"name": "Zelenskyy", "kind": "person", "role": "president"}],
        [
            {
                "claimant": "Zelenskyy",
                "statement": "Casualties",
                "status": "estimated",
                "evidence": "close to 3,000 North Korean soldiers were killed",
                "figures": [{"value": 3000, "unit": "soldiers", "qualifier": "close to"}],
            },
            {
                "claimant": "author",
                "statement": "Troops sent",
                "status": "reported",
                "evidence": "as many as 10,000 to 12,000 troops were sent",
                "figures": [{"low": 10000, "high": 12000, "unit": "troops", "qualifier": "as many as"}],
            },
        ],
    )
    b = brief_with(
        "b.txt",
        [{"name": "Kirby", "kind": "person", "role": "spokesperson"}],
        [
            {
                "claimant": "Kirby",
                "statement": "Casualties",
                "status": "reported",
                "evidence": "some 3,500 soldiers were killed or wounded",
                "figures": [{"value": 3500, "unit": "Soldier"}],
            },
            {
                "claimant": "Kirby",
                "statement": "Troops",
                "status": "reported",
                "evidence": "about 11,000 troops are deployed",
                "figures": [{"value": 11000, "unit": "troops"}],
            },
        ],
    )
    entries = [Entry("d1", "a.json", a), Entry("d2", "b.json", b)]
    comparisons = {c.subject: c for c in compare_figures([c for e in entries for c in claim_refs(e)])}
    assert comparisons["soldiers"].verdict == "differ"  # 3,000 vs 3,500
    assert comparisons["troops"].verdict == "overlap"  # 11,000 lies within 10,000-12,000
    assert [f.ref for f in comparisons["soldiers"].figures] == ["d1:C1", "d2:C1"]
    assert [f.claimant for f in comparisons["soldiers"].figures] == ["Zelenskyy", "Kirby"]
    assert counted_words("Troops") == counted_words("troop") == {"troop"}


def test_actors_merge_across_documents_by_name_and_alias() -> None:
    a = brief_with(
        "a.txt",
        [{"name": "National Intelligence Service", "kind": "government", "role": "spy agency", "aliases": ["NIS"]}],
        [{"claimant": "NIS", "statement": "x", "status": "reported", "evidence": "the soldier died in custody"}],
    )
    b = brief_with(
        "b.txt",
        [
            {"name": "NIS", "kind": "government", "role": "agency"},
            {"name": "Yonhap", "kind": "media", "role": "agency"},
        ],
        [{"claimant": "Yonhap", "statement": "y", "status": "reported", "evidence": "a soldier was captured alive"}],
    )
    actors = merge_actors([Entry("d1", "a.json", a), Entry("d2", "b.json", b)])
    assert [x.name for x in actors] == ["National Intelligence Service", "Yonhap"]
    assert [m.brief for m in actors[0].documents] == ["a.json", "b.json"]
    assert actors[0].documents[0].claim_ids == ["C1"]


def test_synthesis_validator_refuses_unknown_ids_and_one_sided_contradictions() -> None:
    token = VALIDATION_CONTEXT.set({"claim_ids": {"d1:C1", "d2:C1"}})
    try:
        with pytest.raises(ValidationError, match="unknown claim ids"):
            Synthesis.model_validate(
                {"contradictions": [{"description": "x", "side_a": ["d1:C1"], "side_b": ["d9:C9"]}]}
            )
        with pytest.raises(ValidationError, match="same claim on both sides"):
            Synthesis.model_validate(
                {"contradictions": [{"description": "x", "side_a": ["d1:C1"], "side_b": ["d1:C1"]}]}
            )
        across = {"contradictions": [{"description": "x", "side_a": ["d1:C1"], "side_b": ["d2:C1"]}]}
        with pytest.raises(ValidationError, match="claims of different stories"):
            Synthesis.model_validate(across)  # d1 and d2 are each a story of their own
        assert Synthesis.model_validate({**across, "stories": [{"name": "One", "documents": ["d1", "d2"]}]})
        with pytest.raises(ValidationError, match="unknown documents"):
            Synthesis.model_validate({"stories": [{"name": "One", "documents": ["d1", "d7"]}]})
        with pytest.raises(ValidationError, match="document d1 is in stories 1 and 2"):
            Synthesis.model_validate(
                {"stories": [{"name": "One", "documents": ["d1"]}, {"name": "Two", "documents": ["d2", "d1"]}]}
            )
        with pytest.raises(ValidationError, match="open question 1 cites no claim"):
            Synthesis.model_validate({"open_questions": [{"question": "Why?"}]})
    finally:
        VALIDATION_CONTEXT.reset(token)


# ------------------------------------------------------------------ replayed real run


NO_PROVIDER = {"OPENAI_API_KEY": None, "OPENAI_BASE_URL": None, "SUMMARIZER_PROVIDER": None}
NO_PROVIDER |= {"SUMMARIZER_REPLAY": None, "SUMMARIZER_MODEL": None}


def test_the_default_daily_run_makes_its_stories_by_rule_with_no_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("summarizer.settings.llama_cpp_installed", lambda: False)  # the default install
    out = tmp_path / "day"
    result = runner.invoke(app, ["daily", str(SEEDS), "--out", str(out)], env=NO_PROVIDER)
    assert result.exit_code == Exit.OK, result.stderr
    assert "daily run with rules (no model)" in result.stderr and "asking" not in result.stderr
    manifest = Manifest.model_validate_json((out / "manifest.json").read_text())
    assert (manifest.provider, manifest.model, manifest.usage.total_tokens) == ("rules", "none", 0)
    digest = Digest.model_validate_json((out / "digest.json").read_text())
    assert digest.stories_by == "rules" and digest.synthesis_calls == 0 and digest.synthesis_error is None
    grouped = {
        frozenset(Path(digest.documents[k]).stem for k in s.documents): s
        for s in digest.stories
        if s.named_by == "rules"
    }
    scientology = grouped[frozenset({"defector", "hackers", "imprisoned"})]  # the three Scientology articles
    assert "Scientology" in scientology.name
    assert frozenset({"crane", "stampede"}) in grouped  # two reports from Mecca during the Hajj
    assert sum(len(s.documents) for s in digest.stories) == 25  # every document in one story
    assert {c.ref for c in digest.claims()} == {
        f"{key}:{c.id}" for key, file in digest.documents.items() for c in load_brief(out / file).claims
    }
    markdown = (out / "digest.md").read_text()
    assert "Stories made by rule (no model)" in markdown and "may be missing" not in markdown


def test_replayed_daily_run_over_the_seeds_with_the_embedded_models_synthesis(tmp_path: Path) -> None:
    """fixtures/daily: the embedded model asked for the digest's synthesis (--synthesis model)."""
    out = tmp_path / "day"
    result = runner.invoke(
        app,
        ["daily", str(SEEDS), "--out", str(out), "--replay", str(DAILY_FIXTURES), "--synthesis", "model"],
    )
    assert result.exit_code == Exit.OK, result.stderr
    assert "digest: asking smollm2-135m-instruct for the stories of 25 brief(s)" in result.stderr
    manifest = Manifest.model_validate_json((out / "manifest.json").read_text())
    seeds = sorted(SEEDS.glob("*.txt")) + sorted((SEEDS / "wikinews").glob("*.txt"))
    assert sorted(e.source for e in manifest.entries) == sorted(str(p) for p in seeds)
    assert {e.status for e in manifest.entries} == {"ok"}
    assert len(list((out / "briefs").glob("*.json"))) == len(seeds) == 25
    digest = Digest.model_validate_json((out / "digest.json").read_text())
    claims = {
        f"{key}:{c.id}"
        for key, file in digest.documents.items()
        for c in Brief.model_validate_json((out / file).read_text()).claims
    }
    for story in digest.stories:
        for contradiction in story.contradictions:
            assert set(contradiction.side_a + contradiction.side_b) <= claims
        for question in story.open_questions:
            assert set(question.claim_ids) <= claims
    assert {c.ref for c in digest.claims()} == claims  # every claim once, in its story
    assert sorted(k for s in digest.stories for k in s.documents) == sorted(digest.documents)
    for actor in digest.actors:
        for mention in actor.documents:
            brief = Brief.model_validate_json((out / mention.brief).read_text())
            assert mention.actor_id in {a.id for a in brief.actors}
    assert (
        manifest.usage.total_tokens
        == sum(e.usage.total_tokens for e in manifest.entries) + manifest.digest_usage.total_tokens
    )
    assert digest.stories_by == "model" and digest.synthesis_calls > 0 and manifest.digest_usage.total_tokens > 0
    assert "tokens" in result.stderr and "digest" in result.stderr


def test_hand_made_fault_fails_one_document_in_the_middle(tmp_path: Path) -> None:
    """Fault fixture made here from a recording (the strong set: the embedded default asks nothing per
    document): one document's first answer becomes HTTP 400."""
    faulty = tmp_path / "fixtures"
    shutil.copytree(STRONG_FIXTURES, faulty)
    victim = faulty / "iodine.jsonl"
    entries = [json.loads(line) for line in victim.read_text().splitlines()]
    entries[0]["response"] = {"status": 400, "body": {"error": {"message": "injected fault"}}}
    victim.write_text("\n".join(json.dumps(e) for e in entries) + "\n")
    out = tmp_path / "day"
    args = ["daily", str(SEEDS), "--out", str(out), "--model", "gpt-4o-mini", "-q"]
    result = runner.invoke(app, [*args, "--replay", str(faulty)])
    assert result.exit_code == Exit.LLM
    manifest = Manifest.model_validate_json((out / "manifest.json").read_text())
    failed = [e for e in manifest.entries if e.status == "failed"]
    assert [Path(e.source).name for e in failed] == ["iodine.txt"] and "HTTP 400" in failed[0].error
    assert sum(e.status == "ok" for e in manifest.entries) == 24
    result = runner.invoke(app, [*args, "--replay", str(STRONG_FIXTURES)])
    assert result.exit_code == Exit.OK, result.stderr
    manifest = Manifest.model_validate_json((out / "manifest.json").read_text())
    assert [Path(e.source).name for e in manifest.entries if e.status == "ok"] == ["iodine.txt"]


def test_review_and_render_a_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_fake(monkeypatch, DocumentFake())
    run(inbox(tmp_path, 3), tmp_path / "out")
    result = runner.invoke(app, ["review", str(tmp_path / "out" / "digest.json")])
    assert result.exit_code == 0, result.output
    assert "Daily brief: 3 documents in 2 stories" in result.stdout and "S1 The first two" in result.stdout
    assert "open question: How many? (d1:C1)" in result.stdout
    page = tmp_path / "report" / "index.html"
    result = runner.invoke(app, ["render", str(tmp_path / "out" / "digest.json"), "--html", str(page)])
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert "http://" not in html and "https://" not in html
    linked = set(re.findall(r'href="([^"#]+)', html))
    assert len(linked) == 3 and all((page.parent / name).is_file() for name in linked)
    assert 'href="' + sorted(linked)[0] + '#at-C1-claim"' in html  # claims link to their evidence


def pairwise_components(nodes: list[tuple[int, str, set[str]]]) -> list[list[int]]:
    """The reference: an edge for every pair (a node holding key k, a node named k) of different documents."""
    groups = [{node} for node in range(len(nodes))]
    for node, (document, _, keys) in enumerate(nodes):
        for other, (elsewhere, name, _) in enumerate(nodes):
            if elsewhere != document and name in keys:
                a = next(g for g in groups if node in g)
                b = next(g for g in groups if other in g)
                if a is not b:
                    a |= b
                    groups.remove(b)
    return sorted(sorted(g) for g in groups)


@examples(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from("abcd"), st.sets(st.sampled_from("abcde"), max_size=2)),
        max_size=12,
    )
)
def test_actor_groups_are_those_of_every_pair(raw: list[tuple[int, str, set[str]]]) -> None:
    nodes = [(document, name, {name, *aliases}) for document, name, aliases in raw]
    roots = actor_components(nodes)
    groups: dict[int, set[int]] = {}
    for node, root in enumerate(roots):
        groups.setdefault(root, set()).add(node)
    assert sorted(sorted(g) for g in groups.values()) == pairwise_components(nodes)


def test_identical_inputs_are_briefed_once_and_listed_with_every_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = inbox(tmp_path, count=2)
    first = sorted(p for p in folder.glob("*.txt") if not p.name.startswith("."))[0]
    (folder / "copy-of-first.txt").write_bytes(first.read_bytes())
    fake = DocumentFake()
    use_fake(monkeypatch, fake)
    manifest, digest = run(folder, tmp_path / "out")
    assert len([c for c in fake.calls if c != "synthesis"]) == 2  # two distinct texts, three inputs
    (copy,) = [e for e in manifest.entries if e.source.endswith("copy-of-first.txt")]
    original = next(e for e in manifest.entries if e.source == str(first))
    assert copy.status == "skipped-duplicate" and copy.brief == original.brief and str(first) in (copy.error or "")
    assert len(digest.documents) == 2 and list(digest.duplicates.values()) == [[copy.source]]
    assert "copy-of-first.txt" in (tmp_path / "out" / "digest.md").read_text()


class FailingSynthesis(DocumentFake):
    async def extract(self, response_model: Any, prompt: Any, **kwargs: Any) -> tuple[Any, CallStats]:
        if response_model.__name__ == "Synthesis":
            self.calls.append("synthesis")
            raise LLMError("HTTP 503 from the fake model")
        return await super().extract(response_model, prompt, **kwargs)


def test_a_failed_synthesis_is_tried_again_on_an_unchanged_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, out = inbox(tmp_path, count=2), tmp_path / "out"
    use_fake(monkeypatch, FailingSynthesis())
    _, digest = run(folder, out)
    assert digest.synthesis_error and digest.synthesis_error.startswith("synthesis call failed")
    fake = DocumentFake()
    use_fake(monkeypatch, fake)
    _, again = run(folder, out)
    assert fake.calls == ["synthesis"]  # no brief sent again, the synthesis tried again
    assert again.synthesis_error is None and [q.question for q in questions(again)] == ["How many?"]
    fake = DocumentFake()
    use_fake(monkeypatch, fake)
    _, third = run(folder, out)
    assert fake.calls == [] and [q.question for q in questions(third)] == ["How many?"]  # kept, not redone


def test_a_synthesis_past_its_time_limit_is_said_exits_11_and_is_not_repeated_on_the_same_briefs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, day = inbox(tmp_path, 3), tmp_path / "day"
    model = ["--provider", "openai", "--base-url", "http://127.0.0.1:9/v1", "--passes", "0"]
    slow = DocumentFake(synthesis_delay=60)
    use_fake(monkeypatch, slow)
    result = runner.invoke(app, ["daily", str(folder), "--out", str(day), *model, "--synthesis-timeout", "0.5"])
    assert result.exit_code == Exit.SYNTHESIS, result.stderr
    assert "digest: asking gpt-4o-mini for the stories of 3 brief(s), at most 0.5 s" in result.stderr
    assert "summarizer: error: the digest's synthesis: the synthesis ran past its time limit of 0.5 s" in result.stderr
    digest = Digest.model_validate_json((day / "digest.json").read_text())
    assert digest.synthesis_final and digest.stories_by == "model" and questions(digest) == []
    assert {s.named_by for s in digest.stories} <= {"rules", "title"}  # the stories by rule stand in
    assert sorted(k for s in digest.stories for k in s.documents) == ["d1", "d2", "d3"]
    rerun = DocumentFake()
    use_fake(monkeypatch, rerun)
    again = runner.invoke(app, ["daily", str(folder), "--out", str(day), *model])
    assert again.exit_code == Exit.SYNTHESIS and rerun.calls == [], again.stderr  # the same briefs: not asked
    asked = runner.invoke(app, ["daily", str(folder), "--out", str(day), *model, "--retry-synthesis"])
    assert asked.exit_code == Exit.OK and rerun.calls == ["synthesis"], asked.stderr
    digest = Digest.model_validate_json((day / "digest.json").read_text())
    assert not digest.synthesis_final and digest.synthesis_error is None and len(questions(digest)) == 1


def test_synthesis_rules_asks_no_model_even_for_a_capable_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = DocumentFake()
    use_fake(monkeypatch, fake)
    manifest, digest = run(inbox(tmp_path, 3), tmp_path / "out", synthesis="rules")
    assert "synthesis" not in fake.calls and len(fake.calls) == 3 and manifest.digest_usage.total_tokens == 0
    assert digest.stories_by == "rules" and digest.synthesis_error is None
