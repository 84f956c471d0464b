"""Claims with several claimants (schema 1.9: Claim.also): one statement that the document gives to several
sources ("NBC News and ABC News both reported") is one claim, found by the rules in the parse or named by a
capable model, shown under every claimant in the pages and the digest."""

from __future__ import annotations

import asyncio

from summarizer import guided
from summarizer.digest import group_claims
from summarizer.documents import from_text
from summarizer.models import Brief, ClaimRef, ClaimStatus, CoClaimant, joined
from summarizer.pipeline import brief_document as brief_document_async
from summarizer.render import to_html, to_markdown
from summarizer.settings import GUIDED_LIMITS, build_settings
from summarizer.structured import NoModel

from .test_pipeline import FakeLLM, brief_document, settings

TEXT = (
    "The senator will resign on Friday, NBC News and ABC News both reported on Tuesday. "
    "Her office declined to comment. "
    "Former Ohio Gov. and party Chairman Ed Lowell said the seat would be filled in May."
)


def rules_brief(text: str) -> Brief:
    return asyncio.run(brief_document_async(from_text(text, "senator.txt"), NoModel(), build_settings(environ={})))


def test_coordinated_sources_are_one_claim_with_every_claimant() -> None:
    found = guided.find(TEXT, GUIDED_LIMITS).claims
    reported = next(c for c in found if "both reported" in TEXT[c.start : c.end])
    assert (reported.claimant, reported.also) == ("NBC News", ("ABC News",))
    assert sum("both reported" in TEXT[c.start : c.end] for c in found) == 1  # not two claims on the words
    brief = rules_brief(TEXT)
    claim = next(c for c in brief.claims if "both reported" in c.evidence.quote)
    names = {a.id: a.name for a in brief.actors}
    assert claim.claimants == ["NBC News", "ABC News"]
    assert [names[i] for i in claim.claimant_ids] == ["NBC News", "ABC News"]
    assert claim.source is not None and claim.source.quote == "NBC News and ABC News"


def test_one_person_under_two_titles_is_one_claimant() -> None:
    found = guided.find(TEXT, GUIDED_LIMITS).claims
    lowell = next(c for c in found if "Ed Lowell said" in TEXT[c.start : c.end])
    assert (lowell.claimant, lowell.also) == ("Ed Lowell", ())
    text = 'American academic and professor Dana Whitfield commented, "Hoping that it works."'
    assert [(c.claimant, c.also) for c in guided.find(text, GUIDED_LIMITS).claims] == [("Dana Whitfield", ())]
    # a surname the parse names no entity is a source of its own, not a title
    text = "Harlow and Sen. Mara Quint said the bill would pass."
    assert [(c.claimant, c.also) for c in guided.find(text, GUIDED_LIMITS).claims] == [("Harlow", ("Mara Quint",))]


def test_a_name_beside_the_source_in_a_misread_phrase_is_a_further_claimant() -> None:
    """The parse reads "Mayor Ana Ruiz and Police Chief Tom Vale" as one noun phrase and finds no entity in
    "Ana Ruiz": the full name joined by "and" is still a claimant; a company's name with "and" is not two."""
    text = "Mayor Ana Ruiz and Police Chief Tom Vale told reporters that the pier would reopen."
    (found,) = guided.find(text, GUIDED_LIMITS).claims
    assert sorted((found.claimant, *found.also)) == ["Ana Ruiz", "Tom Vale"]
    assert "Ana Ruiz" in {a.name for a in guided.find(text, GUIDED_LIMITS).actors}
    for text in (
        "Procter and Gamble spokesman John Doe said sales would rise.",
        "Bosnia and Herzegovina's president Ivo Lanc said the vote was fair.",
    ):
        assert [c.also for c in guided.find(text, GUIDED_LIMITS).claims] == [()], text


def test_two_different_sources_stay_two_claimants() -> None:
    for text in (
        "U.S. officials and Senator Ed Lowell said the talks had failed on Monday.",
        "Apple executives and Google said the deal was done.",
    ):
        (found,) = guided.find(text, GUIDED_LIMITS).claims
        assert len(found.also) == 1 and found.claimant not in found.also, text
    # an unnamed source beside a named one: the named one is the claimant, the source's words say both
    text = "The governor and Senator Ed Lowell said the talks had failed on Monday."
    (found,) = guided.find(text, GUIDED_LIMITS).claims
    assert found.claimant == "Ed Lowell" and text[found.source_start : found.source_end].startswith("The governor and")


def test_names_in_a_list_are_joined_as_a_phrase() -> None:
    assert joined(["A"]) == "A" and joined(["A", "B"]) == "A and B" and joined(["A", "B", "C"]) == "A, B and C"


ACTORS = [
    {"name": "NBC News", "kind": "media", "role": "broadcaster"},
    {"name": "ABC News", "kind": "media", "role": "broadcaster"},
    {"name": "Ed Lowell", "kind": "person", "role": "party chairman"},
]
REPORTED = TEXT[: TEXT.index(" Her office")]
SEAT = TEXT[TEXT.index("Former Ohio") :]


def model_brief(*claims: dict[str, object]) -> Brief:
    answer = {"summary": "The senator will resign.", "actors": ACTORS, "claims": list(claims), "uncertainties": []}
    return brief_document(from_text(TEXT, "senator.txt"), FakeLLM(answer), settings())


def test_a_model_names_further_claimants_in_also_and_an_unlisted_one_is_set_aside() -> None:
    claim = {
        "claimant": "NBC News",
        "also": ["ABC News", "CNN", "NBC News"],
        "statement": "NBC News and ABC News reported that the senator will resign on Friday.",
        "evidence": REPORTED,
        "status": "reported",
    }
    brief = model_brief(claim)
    kept = brief.claims[0]
    assert kept.claimants == ["NBC News", "ABC News"] and kept.check is None
    assert [(r.kind, r.item["also"]) for r in brief.rejected if r.kind == "claimant"] == [("claimant", "CNN")]


def test_a_claimant_that_names_several_listed_actors_is_split() -> None:
    claim = {
        "claimant": "NBC News and ABC News",
        "statement": "Both networks reported that the senator will resign on Friday.",
        "evidence": REPORTED,
        "status": "reported",
    }
    assert model_brief(claim).claims[0].claimants == ["NBC News", "ABC News"]
    # one part is no listed actor: the one listed actor it names, alone
    unknown = {**claim, "claimant": "NBC News and the Daily Planet"}
    assert model_brief(unknown).claims[0].claimants == ["NBC News"]


def test_the_authors_own_statement_has_no_further_claimants_and_a_split_needs_exact_names() -> None:
    author = {
        "claimant": "author",
        "also": ["ABC News"],
        "statement": "The senator will resign on Friday.",
        "evidence": REPORTED,
        "status": "asserted",
    }
    brief = model_brief(author)
    assert brief.claims[0].claimants == ["author"]
    assert [r.item["also"] for r in brief.rejected if r.kind == "claimant"] == ["ABC News"]
    # a claimant is split only into listed names: "Simon & Schuster" is not Paul Simon and the Schuster Institute
    from summarizer.assembly import Assembly
    from summarizer.models import ActorDraft, ClaimDraft

    assembly = Assembly(text="Simon & Schuster said that Paul Simon and the Schuster Institute agreed.", origin="model")
    assembly.add_actors(
        [ActorDraft(name=n, kind="person", role="r") for n in ("Paul Simon", "Schuster Institute")]  # type: ignore[arg-type]
    )
    draft = ClaimDraft(claimant="Simon & Schuster", statement="s", evidence="x", status=ClaimStatus.asserted)
    assert assembly.claimants(draft) is None
    both = draft.model_copy(update={"claimant": "Paul Simon & Schuster Institute"})
    assert assembly.claimants(both) == (
        ("Paul Simon", "A1"),
        [CoClaimant(name="Schuster Institute", actor_id="A2")],
        [],
    )


def test_the_capable_schema_offers_also_and_the_embedded_one_does_not() -> None:
    from summarizer.models import Extraction
    from summarizer.settings import REMOTE_LIMITS, Limits

    capable = Extraction.bounded(REMOTE_LIMITS).model_json_schema()
    embedded = Extraction.bounded(Limits()).model_json_schema()
    assert "also" in capable["$defs"]["ClaimDraft"]["properties"]
    assert "also" not in embedded["$defs"]["ClaimDraft"]["properties"]


def test_pages_show_every_claimant_and_the_digest_lists_the_claim_under_each() -> None:
    brief = rules_brief(TEXT)
    claim = next(c for c in brief.claims if "both reported" in c.evidence.quote)
    assert f"**{claim.id}** NBC News and ABC News" in to_markdown(brief)
    html = to_html(brief, TEXT)
    assert f"{claim.id} · NBC News and ABC News" in html and "'Claimants'" in html
    ref = ClaimRef(
        ref=f"d1:{claim.id}",
        brief="senator.json",
        claimant=claim.claimant,
        also=[o.name for o in claim.also],
        statement=claim.statement,
        evidence=claim.evidence.quote,
        status=ClaimStatus.reported,
    )
    groups = group_claims([ref], {})
    assert [(g.actor, [c.ref for c in g.claims]) for g in groups] == [
        ("ABC News", [ref.ref]),
        ("NBC News", [ref.ref]),
    ]


def test_a_candidate_kept_as_the_rules_claim_keeps_its_further_claimants() -> None:
    """The answer claims only Ed Lowell's sentence; the networks' candidate, kept as the rules' claim, names
    both networks, and both are actors of the brief though the answer listed neither."""
    lowell = {
        "claimant": "Ed Lowell",
        "statement": "Ed Lowell said the seat would be filled in May.",
        "evidence": SEAT,
        "status": "asserted",
    }
    answer = {"summary": "The senator will resign.", "actors": ACTORS[2:], "claims": [lowell], "uncertainties": []}
    brief = brief_document(from_text(TEXT, "senator.txt"), FakeLLM(answer), settings(candidates=True))
    (kept,) = [c for c in brief.claims if "both reported" in c.evidence.quote]
    assert kept.origin == "rules" and kept.claimants == ["NBC News", "ABC News"]
    assert {a.name for a in brief.actors} >= {"NBC News", "ABC News"}


def test_a_correction_to_one_of_the_claimants_leaves_that_one_alone() -> None:
    from summarizer.reviews import Reviewed, apply, decided, mark

    brief = rules_brief(TEXT)
    claim = next(c for c in brief.claims if c.also)
    reviewed = Reviewed(decisions={claim.id: decided(claim, None, "ann", claimant="NBC News")})
    judged = next(c for c in apply(brief, reviewed).claims if c.id == claim.id)
    assert judged.claimants == ["NBC News"] and judged.claimant_id == claim.claimant_id
    assert mark(reviewed, claim.id, joined(claim.claimants)) == "claimant corrected by ann from “NBC News and ABC News”"
    # an actor rejected in review leaves the claim's other claimant
    gone = next(a for a in brief.actors if a.name == "ABC News")
    rejected = Reviewed(decisions={gone.id: decided(gone, None, "ann", decision="rejected", reason="not a source")})
    assert next(c for c in apply(brief, rejected).claims if c.id == claim.id).claimants == ["NBC News"]
