"""Guided extraction (the embedded default): attributions found by rule, the model asked only for a summary."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from typing import Any

import pytest
from typer.testing import CliRunner

from summarizer import attribution, guided
from summarizer.cli import app
from summarizer.documents import from_text
from summarizer.errors import ProviderError
from summarizer.models import Brief, Limits
from summarizer.pipeline import brief_document
from summarizer.render import to_html, to_markdown
from summarizer.settings import GUIDED_LIMITS, LOCAL_LIMITS, build_settings

from .conftest import FIXTURES, SEED
from .test_pipeline import FakeLLM

runner = CliRunner()
SEED_TEXT = SEED.read_text(encoding="utf-8")


def claims_of(text: str, limits: Limits = GUIDED_LIMITS) -> list[tuple[str, str]]:
    """(claimant, evidence) of every claim the rules find."""
    found = guided.find(text, limits)
    return [(c.claimant, text[c.start : c.end]) for c in found.claims]


def claimant_of(sentence: str, context: str = "") -> str:
    text = f"{context} {sentence}".strip()
    found = [c for c in guided.find(text, GUIDED_LIMITS).claims if text[c.start : c.end].endswith(sentence)]
    assert found, f"no claim found in {sentence!r}"
    return found[-1].claimant


# --------------------------------------------------------------------------
# Claimants
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "claimant"),
    [
        (
            "The soldier died, according to South Korea's National Intelligence Service (NIS).",
            "National Intelligence Service",  # the named entity; "(NIS)" is its alias
        ),
        ('"Seventeen years ago, this would not have been possible," said Ambassador Mohib.', "Mohib"),
        ("The North Korean soldiers were expendable, South Korean politician Lee said recently.", "Lee"),
        ("In a briefing, White House spokesperson John Kirby echoed it: The United States believes it.", "John Kirby"),
        ("Major general Fuad Basya, spokesman for the Indonesian military, said fishermen saw them.", "Fuad Basya"),
        ("The US State Department said John Kerry contacted Thailand.", "US State Department"),
        ("Pyongyang has reportedly deployed thousands of troops.", "unnamed source"),
        ("Officials said the road was closed.", "unnamed source"),
    ],
)
def test_claimant_rules(sentence: str, claimant: str) -> None:
    assert claimant_of(sentence) == claimant


def test_a_name_right_before_its_verb_wins_over_a_later_one() -> None:
    # "Whitmore" starts the sentence: a name because the article writes it capitalised elsewhere too
    sentence = "Whitmore told LA Weekly that the case was theft."
    assert claimant_of(sentence, "Steve Whitmore works for the sheriff.") == "Steve Whitmore"  # as listed


def test_a_quoted_name_is_not_the_claimant() -> None:
    sentence = '"I think America\'s obsession with Warhol is strong today," Kathryn Waters said.'
    assert claimant_of(sentence, "America and Warhol are mentioned.") == "Kathryn Waters"


def test_he_said_is_the_previous_claimant() -> None:
    text = (
        "John Kirby spoke. Kirby noted that 1,000 troops were hit. "
        "He accused the leadership of treating them as expendable."
    )
    assert [c for c, _ in claims_of(text)] == ["John Kirby", "John Kirby"]  # the actor's listed name


def test_according_to_a_description_keeps_it_and_its_apposition_as_alias() -> None:
    text = (
        "According to Ukraine's military intelligence agency, the GUR, units suffered heavy losses. "
        "The GUR later said more."
    )
    found = guided.find(text, GUIDED_LIMITS)
    assert found.claims[0].claimant == "Ukraine's military intelligence agency"
    actor = next(a for a in found.actors if a.name == "Ukraine's military intelligence agency")
    assert actor.aliases == ["GUR"]
    assert actor.claims == 2  # "The GUR later said" is the same actor


def test_a_quote_ending_in_a_comma_is_joined_to_its_attribution() -> None:
    text = 'The soldiers were used as "expendable front-line assault units," South Korean politician Lee said.'
    assert claims_of(text) == [("Lee", text)]


# --------------------------------------------------------------------------
# What is found, and its limits
# --------------------------------------------------------------------------


def test_every_span_is_the_documents_own_text_and_sentences_without_cues_are_not_claims() -> None:
    text = "The bridge opened in 1990. Mayor Ann Lee said it cost $5 million. It is unclear who will pay."
    found = guided.find(text, GUIDED_LIMITS)
    claims = [(text[c.start : c.end], c.cue) for c in found.claims]
    assert claims == [("Mayor Ann Lee said it cost $5 million.", "said")]
    assert [(text[u.start : u.end], u.kind.value) for u in found.uncertainties] == [
        ("It is unclear who will pay.", "unknown")
    ]


def test_status_follows_the_cue() -> None:
    text = (
        "Police denied the report. Officials estimated 300 dead. The minister may resign, aides said. "
        "The army reportedly moved. Ann said it rained."
    )
    statuses = [c.status.value for c in guided.find(text, GUIDED_LIMITS).claims]
    assert statuses == ["denied", "estimated", "hedged", "reported", "asserted"]


def test_caps_keep_the_first_items_and_a_long_sentence_keeps_a_window_around_its_cue() -> None:
    text = " ".join(f"Officer Number{i} said item {i} was found." for i in range(10))
    assert len(guided.find(text, Limits(actors=3, claims=4, uncertainties=0, min_claims=0)).claims) == 4
    long = "Background " * 80 + "and then Ann Lee said the result was final " + "detail " * 80 + "."
    claim = guided.find(long, GUIDED_LIMITS).claims[0]
    evidence = long[claim.start : claim.end]
    assert len(evidence) <= guided.MAX_EVIDENCE_CHARS and "Ann Lee said" in evidence
    assert not evidence.startswith(" ") and not evidence.endswith(" ")


def test_actors_claimants_first_surnames_as_aliases_ambiguous_surnames_kept_apart() -> None:
    text = (
        "John Kirby said troops died. Kirby noted more. North Korean troops fought near Kursk. "
        "South Korean officials watched Kursk. The Korean war was recalled."
    )
    actors = guided.find(text, GUIDED_LIMITS).actors
    assert actors[0].name == "John Kirby" and actors[0].aliases == ["Kirby"] and actors[0].claims == 2
    names = [a.name for a in actors]
    assert not any("Korean" in name for name in names)  # an adjective of nationality is no actor
    assert all(a.aliases == [] for a in actors[1:])


@pytest.mark.parametrize(
    ("label", "name", "kind"),
    [
        ("ORG", "Yonhap News Agency", "media"),
        ("ORG", "Ministry of Defence", "government"),
        ("ORG", "White House", "government"),
        ("ORG", "Korean People's Army", "military"),
        ("ORG", "Church of Scientology", "organisation"),
        ("PERSON", "Joe Biden", "person"),
        ("PERSON", "Post Malone", "person"),  # a person's name is never read for kind words
        ("PERSON", "Jack White", "person"),
        ("ORG", "Opera House", "organisation"),  # "house" alone is no government: "White House" is
        ("GPE", "Ukraine", "government"),
        ("NORP", "Ukrainian", "other"),
    ],
)
def test_kind_from_the_entity_and_whole_phrases_of_the_name(label: str, name: str, kind: str) -> None:
    assert attribution.kind_of(label, name).value == kind


# --------------------------------------------------------------------------
# The model's summary, checked
# --------------------------------------------------------------------------


def test_a_summary_sentence_naming_or_counting_what_the_document_does_not_is_dropped() -> None:
    summary = (
        "A soldier died in Ukrainian custody. Kim Jong-un was accused by Russia. "
        "It happened in 1962. Close to 3,000 soldiers were killed or wounded."
    )
    kept, dropped = guided.checked_summary(summary, SEED_TEXT)
    assert kept == "A soldier died in Ukrainian custody. Close to 3,000 soldiers were killed or wounded."
    assert [reason for _, reason in dropped] == [
        "names Kim, Jong-un, which the document does not",
        "gives the number 1962, which the document does not",
    ]


def test_the_lead_is_whole_sentences_up_to_its_size() -> None:
    lead = guided.lead(SEED_TEXT)
    assert SEED_TEXT.startswith(lead.split(" The announcement")[0])
    assert lead.endswith(".") and len(lead) <= guided.LEAD_CHARS
    assert guided.lead("") == ""


def _guided_brief(summary: str | None, text: str = SEED_TEXT) -> tuple[Brief, FakeLLM]:
    """A guided brief; with ``summary``, a capable model's (``--method guided`` on it) that answers it."""
    if summary is None:
        settings = build_settings(provider="replay", replay_dir=FIXTURES, environ={})
        llm = FakeLLM()
    else:
        settings = build_settings(provider="openai", method="guided", environ={"OPENAI_API_KEY": "k"})
        llm = FakeLLM({"summary": summary})
    brief = asyncio.run(brief_document(from_text(text, path="seed.txt"), llm, settings))
    return brief, llm


def test_the_embedded_default_asks_the_model_nothing_and_marks_every_item_as_rules() -> None:
    brief, llm = _guided_brief(None)
    assert llm.calls == [] and brief.run.attempts == 0 and brief.run.usage.total_tokens == 0
    assert brief.run.method == "guided" and brief.run.summary_origin == "rules"
    assert brief.summary == guided.lead(SEED_TEXT)
    assert brief.claims and all(c.origin == "rules" for c in brief.claims)
    assert all(a.origin == "rules" for a in brief.actors) and all(u.origin == "rules" for u in brief.uncertainties)
    for span in [c.evidence for c in brief.claims] + [c.cue for c in brief.claims if c.cue]:
        assert SEED_TEXT[span.start : span.end] == span.quote and span.match == "exact"
    assert all(c.claimant_id for c in brief.claims if c.claimant != "unnamed source")
    assert "the summary is the document's opening sentences" in to_markdown(brief)


def test_guided_on_a_capable_model_asks_only_for_the_summary() -> None:
    brief, llm = _guided_brief("A North Korean soldier died in Ukrainian custody.")
    assert [name for name, _ in llm.calls] == ["Summary"] and brief.run.attempts == 1
    assert brief.run.method == "guided" and brief.run.summary_origin == "model"
    assert brief.summary == "A North Korean soldier died in Ukrainian custody."
    assert brief.claims and all(c.origin == "rules" for c in brief.claims)


def test_an_invented_summary_gives_way_to_the_lead_and_is_listed_as_rejected() -> None:
    brief, _ = _guided_brief("Kim Jong-un was attacked in March 1962.")
    assert brief.run.summary_origin == "rules" and brief.summary == guided.lead(SEED_TEXT)
    invented = "Kim Jong-un was attacked in March 1962."
    assert [(r.kind, r.item) for r in brief.rejected] == [("summary", {"summary": invented})]
    page = to_html(brief, SEED_TEXT)
    assert "opening sentences stand in" in to_markdown(brief) and "opening sentences stand in" in page


# --------------------------------------------------------------------------
# Settings and the command line
# --------------------------------------------------------------------------


def test_the_method_follows_the_profile_and_the_flag_overrides_it() -> None:
    embedded = build_settings(provider="replay", replay_dir=FIXTURES, environ={})
    assert embedded.extraction_method == "guided" and embedded.limits == GUIDED_LIMITS
    extract = build_settings(provider="replay", replay_dir=FIXTURES, method="extract", environ={})
    assert extract.extraction_method == "extract" and extract.limits == LOCAL_LIMITS
    capable = build_settings(provider="openai", environ={"OPENAI_API_KEY": "k"})
    assert capable.extraction_method == "extract" and capable.limits is None
    forced = build_settings(provider="openai", method="guided", environ={"OPENAI_API_KEY": "k"})
    assert forced.extraction_method == "guided" and forced.limits == GUIDED_LIMITS
    with pytest.raises(ProviderError, match="unknown method 'magic'; choose one of: extract, guided"):
        build_settings(provider="replay", replay_dir=FIXTURES, method="magic", environ={})


def test_the_recorded_seed_brief_attributes_the_six_sources() -> None:
    """The embedded default on the seed article, replayed from its recording (``make fixtures``)."""
    result = runner.invoke(app, ["brief", str(SEED), "--replay", str(FIXTURES), "-q"])
    assert result.exit_code == 0, result.output
    brief = Brief.model_validate(json.loads(result.stdout))
    by_claimant: dict[str, list[str]] = {}
    for claim in brief.claims:
        by_claimant.setdefault(claim.claimant, []).append(claim.evidence.quote)

    def said(claimant: str, words: str) -> bool:
        return any(words in quote for quote in by_claimant.get(claimant, []))

    assert said("National Intelligence Service", "has died from serious injuries")
    assert said("Volodymyr Zelenskyy", "close to 3,000")
    assert said("Ukraine’s military intelligence agency", "heavy losses")
    assert said("John Kirby", "as many as 1,000")
    assert said("Vladimir Putin", "breakthrough document")
    assert said("Lee Seong-kweun", "expendable front-line assault units")
    assert brief.run.nlp_model and brief.run.nlp_model.startswith("en_core_web_sm")
    gur = next(a for a in brief.actors if a.name == "Ukraine’s military intelligence agency")
    assert gur.aliases == ["GUR"]


def test_method_extract_replays_the_model_written_fault_fixtures(tmp_path: Any) -> None:
    source = FIXTURES.parent / "seeds" / "wikinews" / "imprisoned.txt"
    result = runner.invoke(
        app,
        [
            "brief",
            str(source),
            "--replay",
            str(FIXTURES / "faults" / "fault-bad-quote-then-corrected.jsonl"),
            "--method",
            "extract",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    brief = Brief.model_validate(json.loads(result.stdout))
    assert brief.run.method == "extract" and brief.run.repaired >= 1
    assert all(c.origin == "model" for c in brief.claims)


def test_a_verb_inside_a_name_or_a_caption_is_no_cue() -> None:
    text = "Image: United States Navy. The Navy states that all is well."
    assert [
        (cue, text[start:end])
        for start, end, cue in ((c.start, c.end, c.cue) for c in guided.find(text, GUIDED_LIMITS).claims)
    ] == [("states", "The Navy states that all is well.")]


def test_a_sentence_written_twice_is_one_claim_and_three_words_are_the_least() -> None:
    sentence = "Officials said the bridge was closed."
    text = f"{sentence} Rathbun stated. {sentence}"
    found = guided.find(text, GUIDED_LIMITS)
    assert [(c.start, c.end) for c in found.claims] == [(0, len(sentence))]


def test_every_claimant_stays_an_actor_however_many_names_the_cap_allows() -> None:
    text = " ".join(f"Officer Name{i} Surname{i} said item {i} was found." for i in range(8))
    found = guided.find(text, Limits(actors=3, claims=10, uncertainties=0, min_claims=0))
    assert len(found.actors) == 8 and {c.claimant for c in found.claims} <= {a.name for a in found.actors}


def test_parts_that_overlap_do_not_list_the_same_sentence_as_a_rejected_duplicate() -> None:
    text = (FIXTURES / "long" / "wikinews-long.txt").read_text(encoding="utf-8")
    settings = build_settings(provider="replay", replay_dir=FIXTURES, n_ctx=4096, environ={})
    brief = asyncio.run(brief_document(from_text(text, path="long.txt"), FakeLLM(), settings))
    assert brief.document.parts > 1 and len(brief.claims) > 60
    assert [r.reason for r in brief.rejected if r.reason.startswith("duplicate")] == []
    # a sentence with two named sources is two claims on its words; never one source's twice
    quotes = [(c.evidence.quote, c.claimant) for c in brief.claims]
    assert len(quotes) == len(set(quotes))


# --------------------------------------------------------------------------
# Review: what the pipeline must keep of what the rules found
# --------------------------------------------------------------------------


def embedded_brief(text: str) -> Brief:
    """The embedded default's brief of ``text`` (no model is asked)."""
    settings = build_settings(provider="replay", replay_dir=FIXTURES, environ={})
    return asyncio.run(brief_document(from_text(text, path="doc.txt"), FakeLLM(), settings))


def kept(brief: Brief) -> list[tuple[str, str]]:
    """(claimant, evidence) of each claim; the brief must reject nothing the rules built."""
    assert [r for r in brief.rejected if r.kind != "summary"] == []
    return [(c.claimant, c.evidence.quote) for c in brief.claims]


def test_a_sentence_repeated_inside_a_longer_one_keeps_its_own_place() -> None:
    text = (
        "Reporters were told on Monday that Ann Lee said the bridge was closed. On Tuesday it reopened. "
        "Ann Lee said the bridge was closed."
    )
    claims = embedded_brief(text).claims
    assert [(c.evidence.start, c.evidence.end) for c in claims] == [(0, 70), (95, 130)]


def test_a_later_part_names_an_actor_of_an_earlier_part_by_its_surname() -> None:
    filler = " ".join(f"The weather on day {i} was mild and dry." for i in range(1100))
    text = (
        f"Ann Lee said the bridge was closed. Tom Lee said it was not. {filler} "
        "Ann Lee spoke. Lee said the road would reopen soon."
    )
    brief = embedded_brief(text)
    assert brief.document.parts > 1
    claims = kept(brief)
    assert claims[-1] == ("Ann Lee", "Lee said the road would reopen soon.")
    assert [a.name for a in brief.actors].count("Ann Lee") == 1


def test_a_claimant_known_by_a_third_alias_keeps_its_claims() -> None:
    text = (
        "The Islamic State (IS) spoke. According to Islamic State, the Daesh, troops died. "
        "According to Islamic State, the Group, more died. The Group said the attack was planned."
    )
    brief = embedded_brief(text)
    assert [c for c, _ in kept(brief)] == ["Islamic State"] * 3
    assert len(brief.actors[0].aliases) == 2  # the actor lists two; the third still names it


def test_decomposed_accents_stay_inside_their_name() -> None:
    text = unicodedata.normalize("NFD", "José García said the vote was fair. García added that it was quiet.")
    assert [c for c, _ in kept(embedded_brief(text))] == [unicodedata.normalize("NFD", "José García")] * 2


def test_headline_case_and_names_that_spell_a_verb_are_no_attribution() -> None:
    assert guided.find("Pentagon Says Troops Died In Kursk\nThe war went on.", GUIDED_LIMITS).claims == []
    assert guided.find("Students at the Said Business School met the dean.", GUIDED_LIMITS).claims == []


def test_a_window_keeps_at_least_three_words_and_no_edge_whitespace() -> None:
    for text in ("Officials said that the " + "very " * 150 + "long road was closed.", "x" * 700 + " Ann Lee said it."):
        brief = embedded_brief(text)
        assert len(kept(brief)) == 1
        quote = brief.claims[0].evidence.quote
        assert len(quote) <= guided.MAX_EVIDENCE_CHARS and quote == quote.strip() and len(quote.split()) >= 3


def test_according_to_then_a_named_person_is_not_an_alias() -> None:
    text = "According to Reuters, Smith, the mayor, denied the charges. Smith said he was innocent of all of it."
    assert [c for c, _ in kept(embedded_brief(text))] == ["Reuters", "Smith"]


def test_a_dateline_agency_is_no_alias_of_the_city_and_aliases_chain() -> None:
    text = "LONDON (AP) — The talks ended. AP reported that both sides left early."
    assert kept(embedded_brief(text))[-1][0] == "AP"
    chained = "John Kirby spoke. According to Kirby, JK, the troops left. JK said they would return."
    assert [c for c, _ in kept(embedded_brief(chained))] == ["John Kirby", "John Kirby"]


def test_a_quote_opened_in_an_earlier_sentence_is_still_a_quote() -> None:
    text = (
        'Microsoft wrote: "It is time to say goodbye. Thanks for the years," Microsoft says on '
        '"The Internet Explorer 6 Countdown".'
    )
    assert kept(embedded_brief(text))[-1][0] == "Microsoft"


def test_spellings_of_one_name_are_one_actor() -> None:
    text = "Al-Qaeda said it was behind the attack. Al Qaeda later denied it."
    brief = embedded_brief(text)
    assert len(kept(brief)) == 2 and len({c.claimant_id for c in brief.claims}) == 1


def test_the_lead_starts_after_a_headline_and_a_dateline() -> None:
    text = (
        "Afghan team honored at robotics competition\nFriday, July 21, 2017\nA group of girls won a medal. It rained."
    )
    assert guided.lead(text) == "A group of girls won a medal. It rained."


def test_parts_follow_the_method() -> None:
    from summarizer.pipeline import GUIDED_PART_TOKENS, chunk_budget

    small = build_settings(provider="replay", replay_dir=FIXTURES, n_ctx=2048, environ={})
    assert chunk_budget(small) == GUIDED_PART_TOKENS  # no model asked: the context does not matter
    capable = build_settings(provider="openai", method="guided", context_tokens=16384, environ={"OPENAI_API_KEY": "k"})
    assert 15_000 < chunk_budget(capable) < 16384


def test_a_brief_made_by_other_rules_is_made_again(tmp_path: Any) -> None:
    from summarizer.daily import cached_brief
    from summarizer.documents import read_document

    saved = tmp_path / "seed.json"
    assert runner.invoke(app, ["brief", str(SEED), "--replay", str(FIXTURES), "-o", str(saved), "-q"]).exit_code == 0
    settings = build_settings(provider="replay", replay_dir=FIXTURES, environ={})
    document = read_document(str(SEED))
    assert cached_brief(saved, document, settings) is not None
    brief = json.loads(saved.read_text(encoding="utf-8"))
    brief["run"]["rules_version"] = "000000000000"
    saved.write_text(json.dumps(brief), encoding="utf-8")
    assert cached_brief(saved, document, settings) is None
