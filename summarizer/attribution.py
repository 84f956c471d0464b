"""Attribution on the parse: who said what, read off spaCy's dependency parse (pure over a ``Parsed``).

* **Predicates.** A sentence attributes when one of its verbs is a *reporting*
  predicate by lemma (say, tell, add, claim, warn, deny, tweet, write, …; any
  tense), or a *stance* predicate (believe, want, plan, support, criticise, show,
  find, …) whose subject is a source; or it holds "according to X"; or it opens
  with a name and a colon ("Sanders: …", a transcript's "PENCE: …"); or it is
  a quotation continuing the previous claim's quote (a follow-on quote).
* **Source.** The predicate's subject (the agent of a passive one, the object of
  "according to"); a verb with none of its own (", saying that …") takes the
  subject of the verb it depends on. Its words in the document are the claim's
  *source span*: the subject's noun phrase, cut before a relative clause or an
  apposition after a comma.
* **Claimant.** A source that is or holds a named entity (PERSON, ORG, GPE, NORP)
  is that entity's actor; a personal pronoun, or a definite description headed
  by a role noun ("the senator", "the Florida senator", "the official"), is the
  nearest earlier compatible source (a person for he/she and role nouns); an
  indefinite description ("an official familiar with the matter", "sources",
  "three people briefed on the discussions") is an unnamed source; a definite
  description of a thing ("the report", "the Clinton campaign") is named as
  written. A source inside quotation marks ("I", "we" in a quote) is no source.
* **Check marks** on what the rules are unsure of: a pronoun or description
  resolved further back than the previous sentence, a follow-on quote, a stance
  predicate, a colon-introduced quote.
* **Actors** are the named entities (PERSON and ORG always; GPE and NORP when
  they are a claimant) and the claimants, merged across a document's forms of
  one name: a surname or first name alone is the full name's alias when exactly
  one full name ends or starts with it, an acronym in parentheses after a name
  or spelling its initials is its alias, a title ("Sen.", "President") is no
  part of the name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources

from .models import UNNAMED_SOURCE, ActorKind
from .nlp import Entity, Parsed

SOURCE_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP"})
# Speech verbs whose bare object is a thing done, not said ("the library added a reading room", "added 200
# jobs"): they attribute with a clause or a quotation, or as the carrier of one ("…," he added).
ACTS_WITH_OBJECT = frozenset({"add"})
ALWAYS_ACTORS = frozenset({"PERSON", "ORG"})
PERSON_PRONOUNS = frozenset({"he", "she", "him", "her"})
GROUP_PRONOUNS = frozenset({"they", "it", "we", "them"})
FIRST_PERSON = frozenset({"i", "we", "me", "us", "you"})
SUBJECTS = frozenset({"nsubj", "nsubjpass", "csubj"})
# A verb that carries a reporting verb's clause up to a subject of its own: ", saying …", "…, adding …".
CARRIERS = frozenset({"advcl", "xcomp", "conj", "ccomp", "acl", "relcl", "pcomp"})
INDEFINITE = frozenset({"a", "an", "some", "several", "many", "few", "other", "another", "one", "two", "three", "four"})
DEFINITE = frozenset({"the", "this", "that", "these", "those"})
# Frames beyond "a predicate that holds a clause" (see ``Reader.accepts``), measured on PolNeAR train and the
# Wikinews gold (each family's gain is in docs/quality.md):
FINDING = frozenset({"show", "find", "reveal", "indicate", "suggest", "conclude"})  # "polls show that …"
INTENT = frozenset({"refuse", "decline", "vow", "promise", "threaten", "pledge"})  # "X refused to comment"
POSITION = frozenset({"support", "endorse", "oppose", "favor", "favour", "prefer", "back", "defend", "reject"})
REGARD = frozenset({"see", "view", "regard", "describe", "call", "consider", "dismiss", "portray", "label", "brand"})
REPORT_OBJECT = frozenset(  # reporting verbs whose object is what was said ("Ross described the protests as …")
    {"describe", "cite", "stress", "emphasize", "emphasise", "mention", "predict", "reveal", "disclose", "recall"}
    | {"indicate", "signal", "hint", "respond", "reply", "answer", "comment", "repeat", "clarify", "caution"}
    | {"speculate"}
)
JUDGED = frozenset({"question", "attack", "charge", "call", "thank", "welcome"})  # acts, when done by no one named
SURVEYS = frozenset({"poll", "survey", "polling"})
TOPICS = frozenset({"speak", "talk"})  # "Trump spoke about trade": an evaluation of its topic


@lru_cache(maxsize=1)
def lexicon() -> dict[str, str]:
    """Predicate lemma → "speech", "reporting" or "stance" (``summarizer/data/predicates.txt``)."""
    kinds: dict[str, str] = {}
    section = "reporting"
    text = (resources.files("summarizer") / "data" / "predicates.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif line and not line.startswith("#"):
            for word in line.split():
                kinds[word.lower()] = section
    return kinds


@lru_cache(maxsize=1)
def role_nouns() -> frozenset[str]:
    """Nouns naming a person by role ("senator", "spokeswoman"): such a description is a person."""
    text = (resources.files("summarizer") / "data" / "roles.txt").read_text(encoding="utf-8")
    return frozenset(w.lower() for line in text.splitlines() if not line.startswith("#") for w in line.split())


@dataclass(frozen=True)
class Source:
    claimant: str  # the actor's name as the document writes it, or UNNAMED_SOURCE
    start: int  # the source span in the text ([start, end), -1 when the document names no source)
    end: int
    person: bool  # a person (he/she may refer back to it)
    check: str | None = None  # why the rules are unsure, if they are
    aliases: tuple[str, ...] = ()  # other names the sentence gives it (an apposition)
    also: tuple[str, ...] = ()  # further named sources coordinated with it ("NBC News and ABC News reported")


@dataclass(frozen=True)
class Attribution:
    sentence: int  # index into Parsed.sentences
    cue_start: int
    cue_end: int
    source: Source
    kind: str  # "reporting", "stance", "according", "colon", "follow-on", "adverb"
    depth: int = 0  # how far below its sentence's root the predicate stands
    first: int | None = None  # the sentence its evidence starts at, when before its own (a quote it closes)


def quoted_regions(parsed: Parsed) -> list[tuple[int, int]]:
    """[start, end) of quoted stretches: marks paired over each paragraph (curly ones by direction)."""
    found: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", parsed.text):
        opened: int | None = None
        for mark in re.finditer(r"[\"\u201c\u201d]", line.group()):
            at, char = line.start() + mark.start(), mark.group()
            if opened is None and char != "\u201d":
                opened = at
            elif opened is not None and char != "\u201c":
                found.append((opened, at + 1))
                opened = None
        if opened is not None:
            found.append((opened, line.end()))
    return found


@lru_cache(maxsize=8)
def read(parsed: Parsed) -> tuple[Attribution, ...]:
    """The attributions of a parse, read once (guided extraction, the capable request's candidates and the
    check of a model's claimant share it; ``nlp.parse`` hands out one ``Parsed`` per text)."""
    return tuple(Reader(parsed).read())


class Reader:
    """Reads the attributions of one parsed document, sentence by sentence, remembering earlier sources."""

    def __init__(self, parsed: Parsed) -> None:
        self.parsed = parsed
        self.regions = quoted_regions(parsed)
        self.kinds = lexicon()
        self.roles = role_nouns()
        self.sources: list[tuple[int, Source]] = []  # (sentence, source) of every named source so far
        first = {sentence.first for sentence in parsed.sentences}
        self.lower = {t.text for t in parsed.tokens if t.text.islower()}
        self.inside_caps = {t.text for i, t in enumerate(parsed.tokens) if i not in first and t.text[:1].isupper()}
        self.first_tokens = first
        self.persons: list[tuple[int, str]] = []  # (sentence, name) of every PERSON entity so far
        self.extra: list[Attribution] = []
        self.turn: tuple[int, Source] | None = None  # (paragraph start, speaker) of a transcript's "NAME: …"

    def namelike(self, index: int) -> bool:
        """A proper name, though the small model may tag it a noun: PROPN, an entity, or a capitalised word
        the text never writes in lower case (and capitalises inside a sentence too, when this one starts with it)."""
        token = self.parsed.tokens[index]
        if token.pos == "PROPN" or self.parsed.entity_of(index) is not None:
            return True
        if (
            not token.text[:1].isupper()
            or token.text.lower() in self.lower
            or (token.text.isupper() and len(token.text) < 2)
        ):
            return False
        return index not in self.first_tokens or token.text in self.inside_caps

    # -------------------------------------------------------------- quotes

    def inside_quote(self, offset: int) -> bool:
        return any(a < offset < b for a, b in self.regions)

    def quoted_share(self, start: int, end: int) -> float:
        covered = sum(max(0, min(b, end) - max(a, start)) for a, b in self.regions)
        return covered / max(1, end - start)

    # -------------------------------------------------------------- reading

    def read(self) -> list[Attribution]:
        found: list[Attribution] = []
        previous: Attribution | None = None
        for number, sentence in enumerate(self.parsed.sentences):
            if self.turn is not None and self.turn[0] != self.paragraph(number):
                self.turn = None
            self.extra = []
            attribution = self.sentence(number, previous)
            if attribution is not None and attribution.kind == "colon":
                self.turn = (self.paragraph(number), attribution.source)
                if len(self.parsed.text[sentence.start : sentence.end].split()) < 2:
                    attribution = None  # "FALLIN:" alone: the turn's sentences are its claims
            for i in range(sentence.first, sentence.last):
                if self.parsed.tokens[i].ent == "PERSON":
                    entity = self.parsed.entity_of(i)
                    if entity and entity.first == i:
                        self.persons.append((number, self.parsed.text[entity.start : entity.end]))
            if attribution is not None:
                while attribution.first is not None and found and found[-1].sentence >= attribution.first:
                    if found[-1].kind != "follow-on":
                        attribution = replace(attribution, first=found[-1].sentence + 1)
                        break
                    found.pop()  # the quote this sentence closes was read as the previous speaker's
                found.append(attribution)
                found.extend(self.extra)
                if attribution.source.claimant != UNNAMED_SOURCE:
                    self.sources.append((number, attribution.source))
                previous = attribution
        return found

    def paragraph(self, number: int) -> int:
        """Where the paragraph (line) of sentence ``number`` starts."""
        return self.parsed.text.rfind("\n", 0, self.parsed.sentences[number].start) + 1

    def title_case(self, number: int) -> bool:
        """Most of the sentence's longer words capitalised ("Howard Dean Tells Convention …")."""
        sentence = self.parsed.sentences[number]
        words = [
            t.text for t in self.parsed.tokens[sentence.first : sentence.last] if t.text.isalpha() and len(t.text) > 3
        ]
        return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.7 * len(words)

    def headline(self, number: int) -> bool:
        """A line in Title Case ("Pentagon Says Troops Died In Kursk"): a headline, whose verbs attribute nothing."""
        sentence = self.parsed.sentences[number]
        ends = self.parsed.text[sentence.start : sentence.end].rstrip("\"'\u201d\u2019)").endswith((".", "!", "?"))
        return not ends and self.title_case(number)

    def sentence(self, number: int, previous: Attribution | None) -> Attribution | None:
        parsed = self.parsed
        sentence = parsed.sentences[number]
        tokens = parsed.tokens
        turn = self.colon(number)
        if turn is not None and self.paragraph(number) == sentence.start:
            return turn  # a transcript's "NAME: …" opens the paragraph: the turn is the speaker's
        if self.headline(number):
            return self.colon(number) or self.titled_verb(number)
        best: Attribution | None = None
        candidates: list[Attribution] = []
        for i in range(sentence.first, sentence.last):
            token = tokens[i]
            if self.inside_quote(token.start):
                continue
            word = token.lemma
            if word == "accord" and i + 1 < sentence.last and tokens[i + 1].text.lower() == "to":
                source = self.according(i + 1, number)
                if source is not None:
                    return Attribution(number, token.start, tokens[i + 1].end, source, "according")
            kind = self.kinds.get(word)
            if (
                kind is None
                and word in TOPICS
                and any(tokens[c].dep == "prep" and tokens[c].text.lower() == "about" for c in parsed.children(i))
            ):
                kind = "evaluation"
            if kind is None or token.pos not in ("VERB", "AUX") or (token.pos == "AUX" and word != "say"):
                continue
            source = self.subject_source(i, number)
            if source is None and self.passive(i):
                continue  # "had been denied visas", "was charged with": the subject is no source
            closes = self.closes_quote(number, i)
            inverted = kind == "speech" and source is not None and source.start > token.start
            if not (inverted or closes is not None or self.accepts(kind, source, i, sentence.start, sentence.end)):
                continue
            if source is None:
                named = self.name_before(i, number)
                source = (
                    replace(named, check="no subject in the parse: the name before the verb")
                    if named is not None
                    else Source(UNNAMED_SOURCE, -1, -1, False, "no source found for the predicate")
                )
            candidate = Attribution(number, token.start, token.end, source, kind, self.depth(i), closes)
            candidates.append(candidate)
            if best is None or _better(candidate, best):
                best = candidate
        if best is not None:
            # Another source the sentence names, with a predicate of its own ("Comey called it careless; Lynch
            # said …"): a second claim on the same words.
            claimants = {best.source.claimant, UNNAMED_SOURCE}
            for other in candidates:
                if other.source.check is not None or other.kind not in ("speech", "reporting", "evaluation"):
                    continue
                if other.source.claimant in claimants or not any(
                    t.ent in ("PERSON", "ORG")
                    for t in tokens[sentence.first : sentence.last]
                    if other.source.start <= t.start < other.source.end
                ):
                    continue
                claimants.add(other.source.claimant)
                self.extra.append(other)
            return best
        return (
            self.colon(number)
            or self.signed(number)
            or self.in_turn(number, previous)
            or self.follow_on(number, previous)
            or self.polled(number)
            or (self.titled_verb(number) if self.title_case(number) else None)
            or self.adverb(number)
        )

    def closes_quote(self, number: int, verb: int) -> int | None:
        """The first sentence of a quotation that this short sentence attributes ("“… no?” Freddy Ortega
        said.", "“…,” he added."): a speech or reporting verb with no clause of its own, in a sentence that
        opens right after a closing quotation mark; None otherwise."""
        parsed = self.parsed
        sentence = parsed.sentences[number]
        if number == 0 or self.kinds.get(parsed.tokens[verb].lemma) not in ("speech", "reporting"):
            return None
        if sentence.last - sentence.first > 12:
            return None
        before = parsed.text[parsed.sentences[number - 1].start : sentence.start].rstrip()
        if not before.endswith(('"', "\u201d")) or self.holds_clause(verb, sentence.start, sentence.end):
            return None  # the cheap tests first: this runs for every reporting verb of the document
        region = next((r for r in self.regions if r[1] == parsed.sentences[number - 1].start + len(before)), None)
        if region is None:
            return None
        first = number - 1
        while first > 0 and parsed.sentences[first - 1].end > region[0]:
            first -= 1
        return first

    def depth(self, index: int) -> int:
        steps, node = 0, index
        while self.parsed.tokens[node].head != node and steps < 50:
            node, steps = self.parsed.tokens[node].head, steps + 1
        return steps

    def accepts(self, kind: str, source: Source | None, verb: int, start: int, end: int) -> bool:
        """Whether a predicate of this kind attributes here (see ``predicates.txt`` and the frames above).

        * speech: a clause, a quotation or an object ("Kirby spoke." says nothing);
        * reporting: a clause or a quotation; a passive with its agent; a named source with what was said as
          its object ("Ross described the protests as peaceful", REPORT_OBJECT);
        * evaluation: a clause or a named source; a described source with an object ("critics dismissed
          the plan"; "call" only with its predicate: "critics call it a tax");
        * stance: a clause with a source that is no one's pronoun ("some believe that …"; "see" only with
          a named one) or a finding ("polls show that …"); a named source with an infinitive of refusal or
          promise (INTENT), an object it takes a side on (POSITION), or a judgement ("views X as Y")."""
        clause = self.holds_clause(verb, start, end)
        if kind == "speech":
            if self.parsed.tokens[verb].lemma in ACTS_WITH_OBJECT:  # "added a reading room": an act
                return clause or self.parsed.tokens[verb].dep in ("parataxis", "ccomp", "advcl")
            return clause or self.says_something(verb)
        tokens = self.parsed.tokens
        named = source is not None and source.claimant != UNNAMED_SOURCE
        described = source is not None and source.start >= 0  # the sentence gives the source some words
        lemma = tokens[verb].lemma
        kids = [tokens[c] for c in self.parsed.children(verb)]
        deps = {k.dep for k in kids}
        as_prep = any(k.dep == "prep" and k.text.lower() == "as" for k in kids)
        if kind == "reporting":
            said = deps & {"dobj", "xcomp", "oprd", "dative"} or any(
                k.dep == "prep" and k.text.lower() in ("as", "for", "about") for k in kids
            )
            return (
                clause or (named and self.agent(verb) is not None) or (named and lemma in REPORT_OBJECT and bool(said))
            )
        if kind == "evaluation":
            if clause or named:
                return True
            if not described or tokens[verb].tag == "VBN" or not deps & SUBJECTS:  # "a group called …": a name
                return False
            return "oprd" in deps if lemma == "call" else lemma not in JUDGED and bool(deps & {"dobj", "oprd"})
        if clause and (
            (lemma in FINDING and source is not None)
            or (described and (lemma != "see" or (source is not None and source.person)))
        ):
            return True
        if not named:
            return False
        return (
            (lemma in INTENT and "xcomp" in deps)
            or (lemma in POSITION and "dobj" in deps)
            or (lemma in REGARD and ("oprd" in deps or as_prep))
        )

    def says_something(self, verb: int) -> bool:
        parsed = self.parsed
        if parsed.tokens[verb].dep in ("parataxis", "ccomp", "advcl"):
            return True
        spoken = ("dobj", "dative", "xcomp", "attr", "oprd", "parataxis", "advcl", "prep", "npadvmod", "dep")
        return any(parsed.tokens[c].dep in spoken for c in parsed.children(verb))

    def holds_clause(self, verb: int, start: int, end: int) -> bool:
        """Whether a predicate holds a proposition: a clausal complement ("warned that …"), or a quotation in
        its sentence."""
        if any(self.parsed.tokens[c].dep == "ccomp" for c in self.parsed.children(verb)):
            return True
        return self.quoted_share(start, end) > 0.2

    def subject_source(self, verb: int, number: int) -> Source | None:
        """The source of a predicate: its subject, the agent of its passive ("by X" anywhere below it), the
        noun it qualifies ("reports indicating …"), or for a carrier (", saying …") the governing verb's
        subject when that verb reports too, else the nearest name before it."""
        parsed, seen = self.parsed, set()
        node = verb
        while node not in seen:
            seen.add(node)
            token = parsed.tokens[node]
            agent = self.agent(node)
            if agent is not None:
                return self.source_of(agent, number)
            subjects = [c for c in parsed.children(node) if parsed.tokens[c].dep in SUBJECTS]
            if subjects:
                # several (a misparse, or "X, said Mauer,"): the one that names someone, else the nearest
                naming = [c for c in subjects if parsed.entity_of(c) is not None]
                subject = naming[-1] if naming else subjects[-1]
                if parsed.tokens[subject].dep == "nsubjpass" and parsed.tokens[subject].lemma in ("it", "this"):
                    return Source(UNNAMED_SOURCE, -1, -1, False)  # "it was reported that": nobody named
                if parsed.tokens[subject].dep == "nsubjpass":
                    return None
                return self.source_of(subject, number)
            if node == verb and token.tag == "VBN" and token.dep in ("acl", "amod", "relcl"):
                return None  # "a group called …", "photos released …": no one says anything
            if token.dep == "acl" and parsed.tokens[token.head].pos in ("NOUN", "PROPN"):
                return self.source_of(token.head, number)
            if token.dep not in CARRIERS or token.head == node:
                return None
            head = parsed.tokens[token.head]
            if node != verb or head.lemma in self.kinds or token.dep == "conj":  # "met X and said": who met
                node = token.head
                continue
            named = self.name_before(verb, number)
            if named is not None:
                return named
            node = token.head
        return None

    def passive(self, verb: int) -> bool:
        return any(self.parsed.tokens[c].dep in ("nsubjpass", "auxpass") for c in self.parsed.children(verb)) or (
            self.parsed.tokens[verb].tag == "VBN" and self.parsed.tokens[verb].dep in ("acl", "amod", "relcl")
        )

    def agent(self, verb: int) -> int | None:
        """The object of "by" that is the agent of a passive ``verb`` (its own child, or below its object)."""
        parsed = self.parsed
        if not any(parsed.tokens[c].dep in ("nsubjpass", "auxpass") for c in parsed.children(verb)):
            return None
        stack = list(parsed.children(verb))
        while stack:
            node = stack.pop(0)
            token = parsed.tokens[node]
            if token.dep in ("agent",) or (token.text.lower() == "by" and token.dep == "prep"):
                objects = [o for o in parsed.children(node) if parsed.tokens[o].dep == "pobj"]
                if objects:
                    return objects[0]
            if token.dep in ("ccomp", "xcomp", "advcl", "conj"):
                continue  # another clause
            stack.extend(parsed.children(node))
        return None

    def name_before(self, verb: int, number: int) -> Source | None:
        """The nearest PERSON or ORG named before ``verb`` in its sentence, outside quotation marks."""
        parsed = self.parsed
        sentence = parsed.sentences[number]
        found: list[Entity] = []
        for i in range(verb - 1, sentence.first - 1, -1):
            entity = parsed.entity_of(i)
            outside = entity is not None and not self.inside_quote(entity.start)
            if outside and entity is not None and entity.label in ("PERSON", "ORG") and entity not in found:
                found.append(entity)
        chosen = next((e for e in found if e.label == "PERSON"), found[0] if found else None)
        if chosen is None:
            return None
        return Source(_name(parsed.text[chosen.start : chosen.end]), chosen.start, chosen.end, chosen.label == "PERSON")

    def according(self, to: int, number: int) -> Source | None:
        objects = [c for c in self.parsed.children(to) if self.parsed.tokens[c].dep == "pobj"]
        return self.source_of(objects[0], number) if objects else None

    # -------------------------------------------------------------- sources

    def source_of(self, head: int, number: int) -> Source | None:
        """The source that the noun phrase headed by ``head`` names (see the module docstring), with the named
        sources coordinated with it ("NBC News and ABC News both reported") as its further claimants."""
        source = self._source_of(head, number)
        if source is None:
            return source
        also, end, people = self.coordinated(head, source.claimant)
        if not also:
            other = self.named_beside(head, source.claimant) if source.claimant != UNNAMED_SOURCE else None
            return replace(source, also=(other,)) if other else source
        if source.claimant == UNNAMED_SOURCE:  # "the governor and Senator Ed Lowell": the named ones, as written
            first, *rest = also
            return replace(source, claimant=first, person=True, end=max(end, source.end), also=tuple(rest), check=None)
        token = self.parsed.tokens[head]
        # a title without a name of its own, for one person: not "officials", "the governor", "Trump's aide"
        titled = token.pos in ("NOUN", "ADJ") or token.lemma in TITLE_ROLES or token.lemma in self.roles  # not "Toomey"
        title = (
            titled
            and token.tag not in ("NNS", "NNPS")
            and not any(self.parsed.tokens[c].dep in ("det", "poss") for c in self.parsed.children(head))
        )
        if title and people == 1 and len(also) == 1 and self.parsed.entity_of(head) is None:
            # "former Vermont Gov. and party Chairman Ed Rendell": one person under two titles
            return Source(also[-1], source.start, max(end, source.end), True, source.check)
        if source.start >= 0 and end > source.end:  # "Russia, China and Iran": the phrase was cut at the comma
            source = replace(source, end=end)
        return replace(source, also=also)

    def named_beside(self, head: int, claimant: str) -> str | None:
        """A full name joined to the source's by "and" in its phrase where the parse coordinates nothing
        ("Mayor Ana Ruiz and Police Chief Tom Vale", read as one noun phrase): its words after the last title,
        two at least ("Procter and Gamble" and "Bosnia and Herzegovina" name no one beside)."""
        parsed = self.parsed
        first, last = self.phrase(head)
        runs: list[list[int]] = [[]]
        for i in range(first, last):
            token = parsed.tokens[i]
            if token.text.lower() == "and" and token.dep == "cc":
                runs.append([])
            elif self.namelike(i) or token.tag == ".":
                runs[-1].append(i)
            else:
                runs[-1] = []
        if len(runs) != 2 or not all(runs):
            return None
        key = actor_key(claimant)
        names = []
        for run in runs:
            titles = [n for n, i in enumerate(run) if parsed.tokens[i].lemma.lower() in self.roles | TITLE_ROLES.keys()]
            words = run[titles[-1] + 1 :] if titles else run
            text = _name(parsed.text[parsed.tokens[words[0]].start : parsed.tokens[words[-1]].end]) if words else ""
            names.append(text if len(words) >= 2 and " " in text else "")
        mine = [n for n in names if n and actor_key(n) == key]
        others = [n for n in names if n and actor_key(n) != key]
        return others[0] if mine and others else None

    def coordinated(self, head: int, claimant: str) -> tuple[tuple[str, ...], int, int]:
        """The names of the entities coordinated with ``head`` ("and", commas), other than ``claimant``, where
        the last of them ends, and how many of them are people."""
        parsed = self.parsed
        found: dict[str, str] = {}
        end, people = -1, 0
        queue = [c for c in parsed.children(head) if parsed.tokens[c].dep == "conj"]
        while queue:
            i = queue.pop(0)
            queue += [c for c in parsed.children(i) if parsed.tokens[c].dep == "conj"]
            entity = parsed.entity_of(i)
            if entity is None or entity.label not in SOURCE_LABELS or self.inside_quote(parsed.tokens[i].start):
                continue
            name = _name(parsed.text[entity.start : entity.end])
            key = actor_key(name)
            if name and "\n" not in name and key != actor_key(claimant) and key not in found:
                found[key] = name
                people += entity.label == "PERSON"
                end = max(end, entity.end)
        return tuple(found.values()), end, people

    def _source_of(self, head: int, number: int) -> Source | None:
        parsed = self.parsed
        token = parsed.tokens[head]
        if self.inside_quote(token.start):
            return None
        first, last = self.phrase(head)
        start, end = parsed.tokens[first].start, parsed.tokens[last - 1].end
        word = token.text.lower()
        verb = parsed.tokens[token.head]
        if token.tag in ("WP", "WDT") and verb.dep == "relcl" and verb.head != token.head:
            return self.source_of(verb.head, number)  # "X, who said": X
        for child in parsed.children(head):  # "a lawyer for the outlets, David Schulz,": David Schulz
            entity = parsed.entity_of(child)
            if parsed.tokens[child].dep == "appos" and entity is not None and entity.label == "PERSON":
                return Source(_name(parsed.text[entity.start : entity.end]), start, end, True)
        if token.pos == "PRON" or word in PERSON_PRONOUNS | GROUP_PRONOUNS | FIRST_PERSON:
            if word in FIRST_PERSON:
                if self.turn is not None and word in ("i", "we", "me", "us"):  # a transcript's speaker
                    speaker = self.turn[1]
                    return Source(speaker.claimant, start, end, speaker.person, "the speaker of a transcript turn")
                return None
            return self.resolve(number, start, end, person=word in PERSON_PRONOUNS, what=f'"{token.text}"')
        aliases = self.appositions(head)
        entity = parsed.entity_of(head)
        if entity is not None and entity.label in SOURCE_LABELS:
            name = _name(parsed.text[entity.start : entity.end])
            return Source(name, start, end, entity.label == "PERSON", aliases=aliases)
        # the names of this source, not of those coordinated with it ("U.S. officials and Senator Ed Lowell")
        others = {i for c in parsed.children(head) if parsed.tokens[c].dep == "conj" for i in range(*parsed.subtree(c))}
        named = [parsed.entity_of(i) for i in range(first, last) if i not in others]
        named += [parsed.entity_of(i) for i in self.appended(head) if not first <= i < last]
        inner = [e for e in named if e is not None and e.label in SOURCE_LABELS]
        determiner = parsed.tokens[first].lemma
        role = token.lemma in self.roles
        if role and determiner in DEFINITE:
            described = f'"{parsed.span_text(first, last)}"'
            titled = self.titled(token.lemma, first, number)
            if titled is not None:
                return Source(titled, start, end, True)
            if not any(e is not None and e.label == "ORG" for e in named):  # "the Florida senator": not Florida
                return Source(UNNAMED_SOURCE, start, end, True, f"{described}: no person titled so named before")
        if inner:

            def owns(entity: Entity) -> bool:  # "Trump's spokeswoman": Trump owns the phrase's head
                return parsed.tokens[entity.last - 1].dep == "poss" or (
                    entity.last < last and parsed.tokens[entity.last].tag == "POS"
                )

            people = [e for e in inner if e.label == "PERSON" and not owns(e)]
            if role and people and people[0] is not inner[0]:  # "Afghan Ambassador … Hamdullah Mohib": the person
                inner = people
            possessive = owns(inner[0])
            if role and inner[0].label == "PERSON" and possessive:
                return Source(UNNAMED_SOURCE, start, end, True, aliases=aliases)  # "Trump's spokeswoman"
            if possessive and not role and token.pos == "NOUN":  # "Ukraine's military intelligence agency"
                return Source(_described(parsed.text[start : token.end]), start, end, False, aliases=aliases)
            name = _name(parsed.text[inner[0].start : inner[0].end])
            return Source(name, start, end, inner[0].label == "PERSON", aliases=aliases)
        owner = [i for i in range(first, head) if self.namelike(i) and parsed.tokens[i].dep == "poss"]
        if owner and not role:  # "Cornyn's statement": Cornyn's words
            low, _ = parsed.subtree(owner[0])
            return Source(_name(parsed.text[parsed.tokens[low].start : parsed.tokens[owner[0]].end]), start, end, True)
        proper = [i for i in range(first, head) if self.namelike(i) and parsed.tokens[i].dep == "compound"]
        if proper and determiner not in INDEFINITE:  # "Scientology officials", "Pentagon spokesman"
            return Source(_described(parsed.text[start : token.end]), start, end, role)
        if self.namelike(head) and determiner not in INDEFINITE:  # "Sanders", though tagged a plural noun
            return Source(_described(parsed.text[start : token.end]), start, end, False)
        if determiner in INDEFINITE or (token.tag == "NNS" and determiner not in DEFINITE):
            return Source(UNNAMED_SOURCE, start, end, role)
        if determiner in DEFINITE and not role and token.pos in ("NOUN", "PROPN"):
            return Source(_described(parsed.text[start : token.end]), start, end, False)

        return Source(UNNAMED_SOURCE, start, end, role)

    def appended(self, head: int) -> list[int]:
        """The tokens of a noun phrase's appositions and compounds (", Tom Molomby, SC,", "co-founder Mark
        Zuckerberg" parsed apart), not of its relative clauses."""
        parsed = self.parsed
        found: list[int] = []
        for child in parsed.children(head):
            if parsed.tokens[child].dep in ("appos", "compound", "npadvmod"):
                low, high = parsed.subtree(child)
                found.extend(range(low, high))
        return found

    def appositions(self, head: int) -> tuple[str, ...]:
        """Names in apposition to a source (", the GUR,", "(NIS)"): its aliases."""
        parsed = self.parsed
        found = []
        _, last = self.phrase(head)
        after = parsed.text[parsed.tokens[last - 1].end : parsed.tokens[last - 1].end + 16]
        acronym = re.match(r"(?:,\s+(?:the\s+)?|\s*\()([A-Z][A-Z.&-]{1,9}|(?<=the )[A-Z][a-z]+)[,)]", after)
        if acronym:
            found.append(acronym.group(1))
        for child in parsed.children(head):
            token = parsed.tokens[child]
            if token.dep != "appos":
                continue
            entity = parsed.entity_of(child)
            if entity is not None and entity.label in SOURCE_LABELS:
                found.append(_name(parsed.text[entity.start : entity.end]))
            elif token.text.isupper() and 2 <= len(token.text) <= 8:
                found.append(token.text)
        return tuple(found)

    def phrase(self, head: int) -> tuple[int, int]:
        """The noun phrase of ``head``: its subtree, cut before a comma that opens a relative clause or an
        apposition, and without leading or trailing punctuation."""
        parsed = self.parsed
        first, last = parsed.subtree(head)
        sentence = parsed.sentences[parsed.tokens[head].sentence]  # the parse may run over a line break
        first, last = max(first, sentence.first), min(last, sentence.last)
        for i in range(head + 1, last):
            token = parsed.tokens[i]
            if token.text in (",", "(", "\u2014", "--") or (token.dep in ("relcl", "appos", "acl") and i > head + 1):
                last = i
                break
        while first < last - 1 and parsed.tokens[first].pos == "PUNCT":
            first += 1
        while last - 1 > first and parsed.tokens[last - 1].pos == "PUNCT":
            last -= 1
        return first, last

    def titled(self, role: str, before: int, number: int) -> str | None:
        """The nearest person named earlier with ``role`` as a title or in apposition ("FBI Director James
        Comey", "Lindsey Graham, the South Carolina senator") for a description that refers back to them."""
        parsed = self.parsed
        low = parsed.sentences[max(0, number - 8)].first
        for entity in reversed([e for e in parsed.entities if e.label == "PERSON" and low <= e.first < before]):
            near = range(max(low, entity.first - 4), min(before, entity.last + 6))
            if any(_role(parsed.tokens[i].lemma) == role for i in near if not entity.first <= i < entity.last):
                return _name(parsed.text[entity.start : entity.end])
        return None

    def resolve(self, number: int, start: int, end: int, *, person: bool, what: str) -> Source:
        """A pronoun or description: the nearest earlier source (a person when ``person``), else the nearest
        person named; marked when it lies further back than the previous sentence."""
        if person:  # he, she: the person named last before this sentence, when near
            for at, name in reversed(self.persons):
                if at < number and number - at <= 3:
                    check = (
                        f"{what} read as {_name(name)}, named {number - at} sentences back" if number - at > 1 else None
                    )
                    return Source(_name(name), start, end, True, check)
        for at, source in reversed(self.sources):
            if number - at > 6:
                break
            if source.person or not person:
                check = (
                    f"{what} resolved to {source.claimant}, {number - at} sentences back" if number - at > 1 else None
                )
                return Source(source.claimant, start, end, source.person, check)
        for at, name in reversed(self.persons):
            if number - at > 6 or not person:
                break
            check = f"{what} resolved to {name}, mentioned {number - at} sentences back" if number - at > 1 else None
            return Source(_name(name), start, end, True, check)
        return Source(UNNAMED_SOURCE, start, end, person, f"{what}: no earlier source to refer to")

    # -------------------------------------------------------------- sentences without a predicate

    def colon(self, number: int) -> Attribution | None:
        """ "Sanders: Clinton needs …", "PENCE: Well, …": a name, then a colon, opening the sentence."""
        parsed = self.parsed
        sentence = parsed.sentences[number]
        head = parsed.text[sentence.start : sentence.end + 2]  # "FALLIN:" may be a sentence of its own
        match = re.match(r"([A-Z][\w.'\u2019-]*(?: [A-Z][\w.'\u2019-]*){0,3}):\s+\S", head)
        if not match:
            return None
        name = match.group(1)
        entity = parsed.entity_of(sentence.first)
        if not (name.isupper() or (entity and entity.label in ("PERSON", "ORG"))):
            return None
        end = sentence.start + len(name)
        source = Source(
            _name(name.title() if name.isupper() else name), sentence.start, end, True, "a quote introduced by a colon"
        )
        return Attribution(number, end, end + 1, source, "colon")

    def signed(self, number: int) -> Attribution | None:
        """A quotation signed with a dash: "… ” ― Beck Pimentel", "“…” — Jane Doe, a voter"."""
        parsed = self.parsed
        sentence = parsed.sentences[number]
        text = parsed.text[sentence.start : sentence.end]
        match = re.search(
            r"[\u201d\"]\s*[\u2015\u2014-]{1,2}\s*([A-Z][\w.'\u2019-]*(?: [A-Z][\w.'\u2019-]*){0,3})", text
        )
        if not match or match.end() < len(text.rstrip(" .")) - 40:  # the signature ends the sentence
            return None
        at = sentence.start + match.start(1)
        source = Source(_name(match.group(1)), at, at + len(match.group(1)), True, "a quotation signed with a dash")
        dash = sentence.start + match.start()
        return Attribution(number, dash, dash + 1, source, "signed")

    def in_turn(self, number: int, previous: Attribution | None) -> Attribution | None:
        """A sentence of a transcript's turn ("FALLIN: Well, … . I believe …"): its speaker's, going on from
        the claim before it when that is the speaker's too."""
        if self.turn is None or self.turn[0] != self.paragraph(number):
            return None
        speaker = replace(self.turn[1], check="a transcript turn: its speaker is the turn's")
        sentence = self.parsed.sentences[number]
        going_on = previous is not None and previous.source.claimant == speaker.claimant
        going_on = going_on and previous is not None and self.paragraph(previous.sentence) == self.turn[0]
        kind = "follow-on" if going_on else "colon"
        return Attribution(number, sentence.start, sentence.start, speaker, kind)

    def follow_on(self, number: int, previous: Attribution | None) -> Attribution | None:
        """A sentence that is mostly a quotation, right after a claim whose sentence holds a quote: the same
        speaker goes on (the next paragraph of a quote, or "…," she added's continuation)."""
        sentence = self.parsed.sentences[number]
        if previous is None or number - previous.sentence > 2 or previous.source.claimant == UNNAMED_SOURCE:
            return None
        if (
            self.quoted_share(sentence.start, sentence.end) < 0.6
            or len(self.parsed.text[sentence.start : sentence.end].split()) < 4
        ):
            return None
        earlier = self.parsed.sentences[previous.sentence]
        if self.quoted_share(earlier.start, earlier.end) == 0:
            return None
        source = Source(
            previous.source.claimant,
            previous.source.start,
            previous.source.end,
            previous.source.person,
            "a follow-on quote: its speaker is the previous claim's",
        )
        return Attribution(number, sentence.start, sentence.start, source, "follow-on")

    def titled_verb(self, number: int) -> Attribution | None:
        """A headline's "Howard Dean Tells Convention …", "Le Pen Backs Trump": a name, then a reporting or
        evaluating verb in the third person (Title Case hides the parse, so the words are read as written)."""
        parsed = self.parsed
        sentence = parsed.sentences[number]
        text = parsed.text[sentence.start : sentence.end]
        for match in re.finditer(
            r"(?:^|(?<=[,:\"\u201d\u2019]\s))((?:[A-Z][\w.'\u2019-]*\s){1,4})(?:Just\s|Finally\s)?([A-Z][a-z]+)s\b",
            text,
        ):
            verb = match.group(2).lower()  # "Tell" of "Tells"; "Denounce" of "Denounces"
            lemma = verb if verb in self.kinds or verb in POSITION else verb[:-1]  # "Pushe" of "Pushes"
            if self.kinds.get(lemma) not in ("speech", "reporting", "evaluation") and lemma not in POSITION:
                continue
            cue = sentence.start + match.start(2)
            entity = next((e for e in parsed.entities if e.start < cue < e.end), None)
            if entity is not None and entity.label != "PERSON":  # "United States Navy": not "United" "States"
                continue
            name = match.group(1).strip()
            at = sentence.start + match.start(1)
            source = Source(_name(name), at, at + len(name), True, "a headline's name and verb")
            return Attribution(number, cue, cue + len(match.group(2)) + 1, source, "headline")
        return None

    def polled(self, number: int) -> Attribution | None:
        """ "… leads in the latest CNN/ORC poll", "In the CBS poll, …": figures a poll or survey gives."""
        parsed = self.parsed
        sentence = parsed.sentences[number]
        for i in range(sentence.first, sentence.last):
            token = parsed.tokens[i]
            if token.lemma not in SURVEYS or token.dep != "pobj" or self.inside_quote(token.start):
                continue
            preposition = parsed.tokens[token.head]
            if preposition.text.lower() not in ("in", "by", "from", "of"):
                continue
            source = self.source_of(i, number)
            if source is None:
                continue
            return Attribution(number, token.start, token.end, source, "poll")  # the cue: "poll"
        return None

    def adverb(self, number: int) -> Attribution | None:
        """ "reportedly", "allegedly": attributed, to nobody named."""
        sentence = self.parsed.sentences[number]
        for i in range(sentence.first, sentence.last):
            token = self.parsed.tokens[i]
            if token.text.lower() in ("reportedly", "allegedly") and not self.inside_quote(token.start):
                return Attribution(number, token.start, token.end, Source(UNNAMED_SOURCE, -1, -1, False), "adverb")
        return None


def _better(candidate: Attribution, best: Attribution) -> bool:
    """A reporting predicate beats a stance one; then the one nearer the root of the sentence's parse (the
    main clause's "said", not a quoted clause's); then the first."""

    def rank(a: Attribution) -> tuple[int, int]:
        return (a.kind in ("speech", "reporting", "evaluation"), -a.depth)

    return rank(candidate) > rank(best)


_TITLES = re.compile(
    r"^(?:(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Sgt|Capt|Prof|St)\.?|President|Senator|Governor|Representative)\s+"
)


def _name(text: str) -> str:
    """A name as the document writes it, without a possessive, a leading title or surrounding punctuation
    (and within ``MAX_NAME_CHARS``, cut at a word)."""
    # as written (a non-breaking space stays one: the name is found verbatim), one line, before a comma
    name = text.strip().splitlines()[0].split(", ")[0] if text.strip() else ""
    name = name.strip(" \u00a0,;:\"'\u201c\u201d\u2018\u2019()\u2015\u2014\u2013-")
    name = re.sub(r"['\u2019]s$", "", name)
    name = re.sub(r"^[Tt]he\s+(?=\S)", "", name)
    previous = None
    while previous != name:
        previous, name = name, _TITLES.sub("", name)
    while len(name) > MAX_NAME_CHARS and " " in name:
        name = name.rsplit(" ", 1)[0]
    return name[:MAX_NAME_CHARS]


MAX_NAME_CHARS = 60
# Titles as written before a name, and the role noun a later description uses for them.
TITLE_ROLES = {
    "sen.": "senator",
    "rep.": "representative",
    "gov.": "governor",
    "gen.": "general",
    "pres.": "president",
    "sec.": "secretary",
    "amb.": "ambassador",
    "lt.": "lieutenant",
    "col.": "colonel",
    "sgt.": "sergeant",
    "capt.": "captain",
    "prof.": "professor",
    "dr.": "doctor",
    "atty.": "attorney",
    "supt.": "superintendent",
}


def _role(lemma: str) -> str:
    return TITLE_ROLES.get(lemma, lemma)


def _described(text: str) -> str:
    """A description's words as a name: no determiner in front, at most ``MAX_NAME_CHARS`` (whole words)."""
    name = _name(_strip_determiner(text))
    while len(name) > MAX_NAME_CHARS and " " in name:
        name = name.rsplit(" ", 1)[0]
    return name[:MAX_NAME_CHARS]


def _strip_determiner(text: str) -> str:
    return re.sub(r"(?i)^(?:the|this|that|these|those)\s+", "", text.strip())


def kind_of(label: str, name: str) -> ActorKind:
    """An actor's kind from its entity label and its name's words (phrases matched whole)."""
    if label == "PERSON":
        return ActorKind.person
    words = " " + " ".join(re.findall(r"[a-z]+", name.lower())) + " "
    for kind, phrases in KIND_PHRASES:
        if any(f" {phrase} " in words for phrase in phrases):
            return kind
    if label == "GPE":
        return ActorKind.government
    if label == "ORG":
        return ActorKind.organisation
    return ActorKind.other


# Phrases in a name that tell its kind, matched as whole words or phrases; the first kind that matches wins.
KIND_PHRASES: tuple[tuple[ActorKind, tuple[str, ...]], ...] = (
    (
        ActorKind.media,
        (
            "news",
            "times",
            "post",
            "herald",
            "gazette",
            "press",
            "journal",
            "radio",
            "television",
            "tribune",
            "telegraph",
            "magazine",
            "broadcasting",
            "news agency",
        ),
    ),
    (ActorKind.military, ("army", "navy", "air force", "armed forces", "military", "marines", "defense forces")),
    (
        ActorKind.government,
        (
            "ministry",
            "department",
            "government",
            "parliament",
            "congress",
            "senate",
            "white house",
            "police",
            "commission",
            "administration",
            "cabinet",
            "embassy",
            "intelligence service",
            "state department",
            "authority",
            "council",
        ),
    ),
)


# ---------------------------------------------------------------------------------------------------------
# Actors
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Actor:
    name: str
    label: str  # the entity label, or "" for a claimant that is no entity ("the report")
    mentions: int = 0
    claims: int = 0
    aliases: list[str] = field(default_factory=list)


def actor_key(name: str) -> str:
    """What two spellings of one name share (case, composition, punctuation and possessives aside)."""
    name = unicodedata.normalize("NFC", name).lower()
    return " ".join(re.findall(r"\w+", re.sub(r"['\u2019]s\b", "", name)))


def _initials(name: str) -> str:
    return "".join(w[0] for w in re.findall(r"[A-Za-z][\w-]*", name) if w[0].isupper())


def actors(parsed: Parsed, attributions: list[Attribution], cap: int) -> tuple[list[Actor], dict[str, str]]:
    """The document's actors (named entities and claimants, forms of one name merged) and, for every form's
    key, the name of the actor it belongs to: claimants first (most claims first), then most mentioned."""
    forms: dict[str, Actor] = {}
    for entity in parsed.entities:
        if entity.label not in SOURCE_LABELS or "\n" in parsed.text[entity.start : entity.end]:
            continue  # an entity across a line break is a misreading of two lines
        name = _name(parsed.text[entity.start : entity.end])
        if not name or len(name) > 60 or not any(c.isupper() for c in name):
            continue
        actor = forms.setdefault(actor_key(name), Actor(name, entity.label))
        actor.mentions += 1
        tail = parsed.text[entity.end : entity.end + 12]
        acronym = re.match(r"\s*\(([A-Z][A-Z.&-]{1,9})\)", tail)
        if acronym and _initials(name).upper().startswith(acronym.group(1).replace(".", "")[:1]):
            actor.aliases.append(acronym.group(1))
    for attribution in attributions:
        claimant = attribution.source.claimant
        if claimant != UNNAMED_SOURCE:
            actor = forms.setdefault(actor_key(claimant), Actor(claimant, ""))
            actor.claims += 1
            actor.aliases += [a for a in attribution.source.aliases if a not in actor.aliases]
        for name in attribution.source.also:
            forms.setdefault(actor_key(name), Actor(name, "")).claims += 1
    parent: dict[str, str] = {}
    keys = list(forms)
    for key, actor in forms.items():  # acronyms given in parentheses, or spelling one name's initials
        for alias in actor.aliases:
            if actor_key(alias) != key:
                parent.setdefault(actor_key(alias), key)
    singles = [k for k in keys if " " not in k]
    for key in singles:
        if key in parent:
            continue
        word = key
        longer = [k for k in keys if " " in k and (k.split()[-1] == word or k.split()[0] == word)]
        persons = [k for k in longer if forms[k].label == "PERSON"]
        if not persons and forms[key].label == "PERSON":  # the full name misread as another kind of entity
            persons = [k for k in longer if forms[k].label in ("ORG", "")]
        if len(persons) == 1 and forms[key].label in ("PERSON", "ORG", ""):
            parent[key] = persons[0]
        elif forms[key].name.isupper() and 2 <= len(key) <= 6:
            spelled = [k for k in keys if " " in k and _initials(forms[k].name).lower() == word]
            if len(spelled) == 1:
                parent[key] = spelled[0]
    # a longer name that holds a known person's full name ("Senator Bernie Sanders" of "Bernie Sanders")
    for key in keys:
        if key in parent or " " not in key:
            continue
        inside = [k for k in keys if k != key and " " in k and f" {k} " in f" {key} " and forms[k].label == "PERSON"]
        if len(inside) == 1 and forms[key].label in ("PERSON", ""):
            parent[key] = inside[0]

    def root(key: str) -> str:
        seen = {key}
        while key in parent and parent[key] not in seen:
            key = parent[key]
            seen.add(key)
        return key

    merged: dict[str, Actor] = {}
    for key, actor in forms.items():
        top = root(key)
        into = merged.setdefault(top, Actor(forms[top].name, forms[top].label))
        into.mentions += actor.mentions
        into.claims += actor.claims
        for alias in [actor.name, *actor.aliases]:
            if actor_key(alias) != top and alias not in into.aliases:
                into.aliases.append(alias)
    chosen = [
        a for a in merged.values() if a.claims or a.label in ALWAYS_ACTORS or (a.label == "GPE" and a.mentions >= 2)
    ]
    chosen.sort(key=lambda a: (-a.claims, -a.mentions))
    claimants = [a for a in chosen if a.claims]
    listed = claimants + [a for a in chosen if not a.claims][: max(0, cap - len(claimants))]
    names = {key: merged[root(key)].name for key in forms}
    return listed, names
