"""Attribution on the parse (summarizer/attribution.py over summarizer/nlp.py): short constructed sentences
of the shapes that the old capital-letter rules got wrong (issue: attribution an analyst can trust)."""

from __future__ import annotations

import pytest

from summarizer import guided, nlp
from summarizer.models import UNNAMED_SOURCE
from summarizer.settings import GUIDED_LIMITS


def claims(text: str) -> list[tuple[str, str]]:
    """(claimant, evidence) of every claim the rules find in ``text``."""
    return [(c.claimant, text[c.start : c.end]) for c in guided.find(text, GUIDED_LIMITS).claims]


def claimant_of(text: str, words: str) -> str:
    found = [c for c, evidence in claims(text) if words in evidence]
    assert found, f"no claim holds {words!r} in {claims(text)}"
    return found[0]


def actors(text: str) -> list[tuple[str, list[str]]]:
    return [(a.name, a.aliases) for a in guided.find(text, GUIDED_LIMITS).actors]


# --------------------------------------------------------------------------
# The NLP layer
# --------------------------------------------------------------------------


def test_titles_and_initials_do_not_end_a_sentence() -> None:
    text = "Sen. Marco Rubio met Mr. Smith in Washington, D.C., on Friday and said that Mr. Trump was wrong. It rained."
    parsed = nlp.parse(text)
    assert [text[s.start : s.end] for s in parsed.sentences] == [text[: text.index(" It")], "It rained."]
    assert claims(text) == [("Marco Rubio", text[: text.index(" It")])]


def test_offsets_are_code_points_of_the_text_and_a_line_ends_a_sentence() -> None:
    text = "Curly “quotes”\u00a0and José.\nHEADLINE WITHOUT A STOP\nShe said it."
    parsed = nlp.parse(text)
    assert all(text[t.start : t.end] == t.text for t in parsed.tokens)
    assert [text[s.start : s.end] for s in parsed.sentences][-2:] == ["HEADLINE WITHOUT A STOP", "She said it."]


def test_a_parse_is_made_once_per_text() -> None:
    text = "Officials said the bridge was closed on Monday."
    assert nlp.parse(text) is nlp.parse(text)


def test_long_texts_are_parsed_in_pieces_with_offsets_into_the_whole() -> None:
    paragraph = "Ann Lee said the road was closed. " * 40
    text = "\n\n".join([paragraph] * 80)  # ~220,000 characters: several pieces
    assert len(nlp.pieces(text)) > 1
    parsed = nlp.parse(text)
    assert all(text[t.start : t.end] == t.text for t in parsed.tokens[-50:])
    assert parsed.sentences[-1].end == len(text.rstrip())


def test_the_summary_lead_is_not_cut_at_an_initial() -> None:
    text = "Donald J. Trump said he would win the state. His rival disagreed. A third sentence followed here."
    assert guided.lead(text).startswith("Donald J. Trump said he would win the state.")


# --------------------------------------------------------------------------
# Claimants
# --------------------------------------------------------------------------


def test_a_phrase_before_the_subject_is_not_the_claimant() -> None:
    text = "Instead of Cardin, Senator Chris Van Hollen said the bill would pass."
    assert claimant_of(text, "the bill would pass") == "Chris Van Hollen"


def test_a_name_inside_the_quotation_is_not_the_claimant() -> None:
    text = "\u201cI\u2019d do it again, and Obama knows it,\u201d Jane Smith said on Tuesday."
    assert claimant_of(text, "do it again") == "Jane Smith"


def test_a_description_refers_back_to_the_person_it_titles() -> None:
    text = (
        "Sen. Marco Rubio of Florida spoke on Monday. Hillary Clinton answered him. "
        "The Florida senator told reporters that he would run again."
    )
    assert claimant_of(text, "he would run again") == "Marco Rubio"


def test_according_to_anonymous_people_is_an_unnamed_source_not_the_subject() -> None:
    text = "Hillary Clinton considered the plan, according to three people briefed on the discussions."
    found = guided.find(text, GUIDED_LIMITS).claims
    assert [c.claimant for c in found] == [UNNAMED_SOURCE]
    assert text[found[0].source_start : found[0].source_end] == "three people briefed on the discussions"


def test_the_person_accused_is_not_the_accuser() -> None:
    text = "Corey Lewandowski was accused of grabbing a reporter at the rally."
    assert all(claimant != "Corey Lewandowski" for claimant, _ in claims(text))


def test_a_follow_on_quote_keeps_its_speaker() -> None:
    text = "Jane Doe said the plan was sound. \u201cIt will work for everyone,\u201d she added."
    assert claimant_of(text, "It will work") == "Jane Doe"


def test_a_quotation_that_goes_on_in_the_next_paragraph_is_held_with_its_attribution() -> None:
    text = (
        "\u201cWe will win this state,\u201d Tom Smith said.\n"
        "\u201cAnd we will win it by a lot more than people think.\u201d"
    )
    assert claims(text) == [("Tom Smith", text)]


def test_a_quote_about_someone_is_attributed_to_its_speaker() -> None:
    text = "\u201cHe is not fit to serve,\u201d Hillary Clinton said of Donald Trump on Monday."
    assert claimant_of(text, "not fit to serve") == "Hillary Clinton"


def test_an_anonymous_official_keeps_the_description_as_source() -> None:
    text = "The talks will resume next week, an official familiar with the matter said Sunday."
    found = guided.find(text, GUIDED_LIMITS).claims
    assert [c.claimant for c in found] == [UNNAMED_SOURCE]
    assert text[found[0].source_start : found[0].source_end] == "an official familiar with the matter"


def test_he_said_is_the_person_named_before_and_far_back_is_marked() -> None:
    near = "John Kirby spoke on Friday. He said the troops had left."
    found = guided.find(near, GUIDED_LIMITS).claims
    assert [(c.claimant, c.check) for c in found] == [("John Kirby", None)]
    far = "John Kirby spoke on Friday. The talks went on. The weather was cold. He said the troops had left."
    (claim,) = guided.find(far, GUIDED_LIMITS).claims
    assert claim.claimant == "John Kirby" and claim.check and "3 sentences back" in claim.check


# --------------------------------------------------------------------------
# Actors
# --------------------------------------------------------------------------


def test_one_person_named_three_ways_is_one_actor() -> None:
    text = (
        "Bernie Sanders said the vote was rigged. Sanders added that he would fight on. "
        "Bernie also said the party needed change."
    )
    found = actors(text)
    assert found[0][0] == "Bernie Sanders" and sorted(found[0][1]) == ["Bernie", "Sanders"]
    assert {c for c, _ in claims(text)} == {"Bernie Sanders"}


def test_places_adjectives_and_pronouns_are_not_actors_unless_they_speak() -> None:
    text = "The Republican plan in Nebraska failed in the Third World, they said. He agreed."
    names = [name for name, _ in actors(text)]
    assert not {"Republican", "Nebraska", "Third World", "He", "They"} & set(names)


def test_a_building_that_speaks_is_not_a_person() -> None:
    found = guided.find("City Hall said the budget was balanced this year.", GUIDED_LIMITS)
    assert found.claims[0].claimant == "City Hall"
    assert found.actors[0].kind.value != "person"


@pytest.mark.parametrize(
    ("text", "claimant"),
    [
        ("\u201cIt is over,\u201d said Mauer, the curator.", "Mauer"),
        ("Sen. John Cornyn wrote. Cornyn\u2019s statement added that Houston should have been chosen.", "John Cornyn"),
        (
            "The Church of Scientology was sued. Scientology officials have stated they have not received it.",
            "Scientology officials",
        ),
        ("A lawyer for the news outlets, David Schulz, said the order was wrong.", "David Schulz"),
        # a title before the name holds a place or a nationality: the person is the source
        ("According to Kenyan Ambassador to the United Nations Laura Mwangi, the talks will resume.", "Laura Mwangi"),
        ("In a statement, Governor of Oregon Peter Hall said the bridge would reopen.", "Peter Hall"),
    ],
)
def test_the_source_of_unusual_subjects(text: str, claimant: str) -> None:
    assert [c for c, _ in claims(text)] == [claimant]


# --------------------------------------------------------------------------
# Frames beyond "a verb with a clause" (developed on PolNeAR train, checked on the Wikinews gold)
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "claimant"),
    [
        # inverted: "…, said the company's chief executive, John Ferriola."
        (
            "The plant is under intense pressure from Asian imports, said the company's chief executive, "
            "John Ferriola.",
            "John Ferriola",
        ),
        # a finding, whoever (or whatever) finds it
        ("Recent polls show that Clinton leads in New York by ten points.", UNNAMED_SOURCE),
        # a belief held by a described group
        ("Some Democrats believe that the plan will fail in the Senate.", "Democrats"),
        # refusal and promise with an infinitive, a side taken on an object, a judgement "as"
        ("Senator Jane Smith refused to comment on the report.", "Jane Smith"),
        ("Governor Scott Walker endorsed the compromise on Tuesday.", "Scott Walker"),
        ("Senator Ted Cruz views the deal as a betrayal of voters.", "Ted Cruz"),
        # a reporting verb whose object is what was said
        ("Police Commissioner Richard Ross described the demonstrations as largely peaceful.", "Richard Ross"),
        # an evaluation by a described source
        ("Critics call it a tax on the poor.", UNNAMED_SOURCE),
        # figures a poll gives
        ("Trump leads Cruz by 13 points in the latest CBS News poll.", "CBS News"),
        # a headline in Title Case
        ("Howard Dean Tells Democratic Convention Guns Are A Crisis.", "Howard Dean"),
    ],
)
def test_frames_that_attribute_without_a_clause(text: str, claimant: str) -> None:
    assert claims(text) == [(claimant, text)]


@pytest.mark.parametrize(
    "text",
    [
        "He left the elite group within Scientology called the Sea Org in 2010.",  # a name, no judgement
        "The finals saw two teams from Brazil face off in the arena.",  # no one holds a view
        "In the 62nd minute Kim Min-Woo conceded a penalty to Sweden.",  # a penalty, not a point
        "Readers may learn more about the exhibit online.",
        "Wikinews spoke with a cosplayer at the convention.",  # spoke with, not about
        "The organization plans to hold the contest in a different country every year.",  # an intention
    ],
)
def test_acts_and_intentions_are_not_attributions(text: str) -> None:
    assert claims(text) == []


def test_a_quote_closed_by_a_short_attribution_is_held_with_it() -> None:
    text = (
        "Freddy Ortega watched the rally.\n"
        "\u201cHis strategy, his media campaign, it\u2019s all a show, no?\u201d Freddy Ortega said."
    )
    quote = text[text.index("\u201c") :]
    assert claims(text) == [("Freddy Ortega", quote)]


def test_a_quote_of_several_sentences_closed_by_its_speaker_is_one_claim_not_the_previous_speakers() -> None:
    text = "Ann Lee said the vote was fair.\n\u201cWe counted twice. We found nothing wrong.\u201d Tom Hart added."
    second = text[text.index("\u201c") :]
    assert claims(text) == [("Ann Lee", "Ann Lee said the vote was fair."), ("Tom Hart", second)]


def test_a_transcript_turn_is_its_speakers_and_i_is_the_speaker() -> None:
    text = (
        "TAPPER: Do you think he has campaigned as a healer?\n"
        "FALLIN: Well, the whole nation needs to work together. I believe we can do it.\n"
        "The interview ended there."
    )
    found = claims(text)
    assert found[0] == ("Tapper", "TAPPER: Do you think he has campaigned as a healer?")
    # the speaker as the document writes the label (the parse takes "FALLIN" for a name)
    assert [(c.lower(), evidence) for c, evidence in found[1:]] == [
        ("fallin", "Well, the whole nation needs to work together."),
        ("fallin", "I believe we can do it."),
    ]
    checks = [c.check for c in guided.find(text, GUIDED_LIMITS).claims]
    assert checks[1] is not None and "transcript" in checks[1]


def test_two_sources_in_one_sentence_are_two_claims_on_its_words() -> None:
    text = (
        "FBI Director James Comey called the email servers careless, and Attorney General Loretta Lynch "
        "said no charges would be filed."
    )
    assert claims(text) == [("James Comey", text), ("Loretta Lynch", text)]


def test_a_source_phrase_stops_at_the_line_break_the_parse_runs_over() -> None:
    text = (
        "In his film, D\u2019Souza argues that the party changed.\n<tweet id=1><tweet/>.\n\n"
        "D\u2019Souza told Beck that he is making a movie."
    )
    found = guided.find(text, GUIDED_LIMITS).claims
    last = found[-1]
    assert last.claimant == "D\u2019Souza" and text[last.source_start : last.source_end] == "D\u2019Souza"
