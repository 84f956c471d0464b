"""A model's statement checked against its own evidence (pure over text, with the NLP layer's parse).

Evidence is verbatim by construction (grounding); the statement is the model's own words, and a model
can write a true quote under a false statement ("Kirby confirmed 50,000 civilians were executed", over
Kirby's sentence about 1,000 troops). So each statement is read against its evidence:

* **a number** the evidence does not write (in any of the forms ``grounding.written_numbers`` reads):
  rejected when the document writes it nowhere, flagged (kept with a check mark) when it is elsewhere
  in the document (a date or a total the model brought in from the next sentence);
* **a name** (a capitalised word after the statement's first, or an acronym; not a title or a single
  letter) that neither the evidence, the claimant's names nor the document write — as a word, a form of
  one of its capitalised words ("Asian" of "Asia", "British" of "Britain") or the initials of a name it
  writes ("UN", "USDA", "US" of "U.S."): rejected. A name from elsewhere in the
  document is allowed: it is how a statement says who "he" or "the country" is;
* **a negation** on one side only: the statement negates ("not", "no", "never", "n't", …) and its
  evidence has no negation and no verb of denial — "said no troops were killed" over "troops were
  reported killed"; or the evidence negates words that the statement repeats without a negation or a
  denial — "X attacked" over "X did not attack": flagged;
* **the claimant**: when the evidence does not write the claimant's name and the rules read the
  evidence's sentence as another named source's words (``attribution.Reader``), flagged with that name.

A flag is the claim's ``check`` (shown in ``review``, the pages and the JSON); ``check --strict`` fails
on a brief that carries any of them. A rejection is in ``rejected`` with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from . import attribution, grounding, nlp
from .models import UNNAMED_SOURCE, Span

_WORD = re.compile(r"[^\W_]+(?:['\u2019`][^\W_]+)*")
_DIGITS = re.compile(r"(?<![\w.,])\d[\d,]*(?:\.\d+)?(?![\w])")  # not "3rd", "1990s", "4G"
_SEPARATOR = re.compile(r"(?<=\d)[,.\s\u202f\u00a0](?=\d)")
TITLES = frozenset({"mr", "mrs", "ms", "dr", "prof", "sir", "gen", "sen", "rep", "gov", "pres", "st", "lt", "col"})
DEMONYMS = {  # a people's word whose country the document may write instead (and no shared stem shows it)
    "french": "france",
    "spanish": "spain",
    "swiss": "switzerland",
    "irish": "ireland",
    "dutch": "netherlands",
    "welsh": "wales",
    "scottish": "scotland",
    "danish": "denmark",
    "swedish": "sweden",
    "finnish": "finland",
    "polish": "poland",
    "british": "britain",
    "english": "england",
    "greek": "greece",
    "thai": "thailand",
    "filipino": "philippines",
    "israeli": "israel",
    "iraqi": "iraq",
    "afghan": "afghanistan",
    "pakistani": "pakistan",
}
NEGATIONS = frozenset(
    {"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "cannot", "nowhere"}
)
DENIALS = frozenset(
    {"deny", "denies", "denied", "denying", "denial", "reject", "rejects", "rejected", "refuse", "refused"}
    | {"decline", "declined", "declines", "declining"}
    | {"refuses", "dismiss", "dismissed", "dismisses", "false", "untrue", "disputed", "disputes", "dispute"}
)


UNSTRESSED = frozenset(  # words between a negation and what it negates
    {"be", "been", "being", "to", "a", "an", "the", "have", "has", "had", "do", "does", "did", "ever", "yet"}
    | {"even", "only", "quite", "very", "always", "so"}
)
PREFIXES = frozenset({"ex", "co", "vice", "non", "pre", "post", "anti", "pro", "self", "mid", "former"})


@dataclass(frozen=True)
class Problem:
    reason: str
    reject: bool  # True: the claim is not kept; False: it is kept with the reason as its check mark


def _words(text: str) -> list[str]:
    return [_key(m.group()) for m in _WORD.finditer(text)]


def _key(word: str) -> str:
    word = word.lower().replace("\u2019", "'").replace("`", "'")
    return word[:-2] if word.endswith("'s") else word


def _negation(words: list[str], at: int) -> bool:
    """Whether ``words[at]`` negates: "not", "never", "n't", … but not "not only", "not just"."""
    word = words[at]
    following = words[at + 1] if at + 1 < len(words) else ""
    return (word in NEGATIONS or word.endswith("n't")) and following not in ("only", "just", "merely")


def _negated(words: list[str]) -> str | None:
    return next((words[at] for at in range(len(words)) if _negation(words, at)), None)


@lru_cache(maxsize=8)
def _document_words(text: str) -> frozenset[str]:
    return frozenset(_words(text))


@lru_cache(maxsize=8)
def _document_names(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The document's words of four letters or more (for "Asian" of "Asia"), and the initials of its runs of
    capitalised words and of every stretch of such a run ("UN", "UNHCR", "USDA", "EPA")."""
    # capitalised words only: "Grant" is no form of "granted"
    words = frozenset(_key(m.group()) for m in _WORD.finditer(text) if m.group()[:1].isupper() and len(m.group()) >= 4)
    initials = {m.group().replace(".", "") for m in re.finditer(r"\b(?:[A-Z]\.){2,}", text)}  # "U.S.", "U.N."
    for run in re.finditer(r"[A-Z][\w.'\u2019-]*(?:\s+(?:(?:of|for|and|the|on)\s+)?[A-Z][\w.'\u2019-]*)*", text):
        letters = [w.replace(".", "") if re.fullmatch(r"(?:[A-Z]\.)+", w) else w[0] for w in run.group().split()]
        letters = [w for w in letters if w[:1].isupper()]  # "U.S. Department of Agriculture": U S D A
        for low in range(len(letters)):
            for high in range(low + 2, min(len(letters), low + 8) + 1):
                initials.add("".join(letters[low:high]))
    return words, frozenset(initials)


def in_document(word: str, text: str) -> bool:
    """Whether the document writes ``word``: as a word, as a form of one of its words ("Asian", "Afghans"),
    or, for an acronym, as the initials of a name it writes in full ("UN" of "United Nations")."""
    key = _key(word)
    if key in _document_words(text):
        return True
    parts = [part for part in key.split("-") if part and part not in PREFIXES]
    if "-" in key and parts and all(part in _document_words(text) for part in parts):
        return True  # "Ex-member" where the document writes "member"
    words, initials = _document_names(text)
    if word.isupper() and len(word) > 1 and word.replace(".", "") in initials:
        return True
    if DEMONYMS.get(key) in words:
        return True
    return len(key) >= 4 and any(_stem_shared(key, w) for w in words)


def _stem_shared(one: str, other: str) -> bool:
    """ "Asian" and "Asia", "Ukrainian" and "Ukraine", "Chinese" and "China": one word's form of the other."""
    shared = next((at for at, (a, b) in enumerate(zip(one, other, strict=False)) if a != b), min(len(one), len(other)))
    return shared >= 4 and shared >= min(len(one), len(other)) - 3


@lru_cache(maxsize=8)
def _document_numbers(text: str) -> frozenset[float]:
    return grounding.written_numbers(text)


def claim_problems(statement: str, evidence: Span, text: str, names: list[str], listed: bool) -> list[Problem]:
    """Every problem of one model claim: its statement against its ``evidence`` (``statement_problems``), and,
    for a claimant that is a ``listed`` actor (not "author" or "unnamed source"), its evidence against the
    rules' reading of who said it (``claimant_problem``). ``names``: the claimant's name and aliases. Used as
    an answer is grounded (``assembly``) and again on a saved brief (``check``)."""
    problems = statement_problems(statement, evidence.quote, text, names)
    swapped = claimant_problem(names, evidence.start, evidence.end, text) if listed else None
    return [*problems, swapped] if swapped else problems


def statement_problems(statement: str, evidence: str, text: str, claimant_names: list[str]) -> list[Problem]:
    """What ``statement`` says that ``evidence`` does not carry (see the module docstring), worst first."""
    problems: list[Problem] = []
    evidence_words = set(_words(evidence))
    allowed = evidence_words | {w for name in claimant_names for w in _words(name)}
    written = grounding.written_numbers(evidence)
    as_written = set(re.findall(r"\d+", _SEPARATOR.sub("", evidence)))  # "10 000", "1,2 and 3", "2,5"
    for match in _DIGITS.finditer(statement):
        try:
            value = float(match.group().rstrip(",").replace(",", ""))
        except ValueError:
            continue
        if grounding.number_written(value, written) or _SEPARATOR.sub("", match.group().rstrip(",")) in as_written:
            continue
        shown = match.group().rstrip(",")
        elsewhere = grounding.number_written(value, _document_numbers(text))
        where = "its evidence does not (the document does, elsewhere)" if elsewhere else "the document does not"
        problems.append(Problem(f"the statement gives the number {shown}, which {where}", reject=not elsewhere))
    for position, match in enumerate(_WORD.finditer(statement)):
        word = match.group()
        acronym = word.isupper() and len(word) > 1
        if not word[:1].isupper() or len(word) < 2 or (position == 0 and not acronym) or _key(word) in allowed:
            continue  # a statement's first word is capitalised as a sentence's is ("Almost", "Following")
        if _key(word) in TITLES:
            continue  # "Mr Jones" over "Jones"
        if not in_document(word, text):
            problems.append(Problem(f"the statement names {word}, which the document does not", reject=True))
    statement_words = _words(statement)
    said = _negated(statement_words)
    if said and not _negated(_words(evidence)) and not evidence_words & DENIALS:
        problems.append(Problem(f'the statement says "{said}" where its evidence has no negation', reject=False))
    elif not said and not set(statement_words) & DENIALS:
        dropped = _dropped_negation(_words(evidence), statement_words)
        if dropped:
            problems.append(Problem(f'the statement drops its evidence\'s "{dropped}"', reject=False))
    return sorted(problems, key=lambda p: not p.reject)


def _stem(word: str) -> str:
    return word[:5]


def _dropped_negation(evidence: list[str], statement: list[str]) -> str | None:
    """The evidence's negation whose negated words the statement repeats without it ("did not attack" under
    "X attacked"); None when the statement does not take up what the evidence negates."""
    stems = {_stem(w) for w in statement if len(w) > 2}
    for at, word in enumerate(evidence):
        if _negation(evidence, at):
            negated = next((w for w in evidence[at + 1 : at + 4] if w not in UNSTRESSED), None)
            if negated is not None and len(negated) > 2 and _stem(negated) in stems:
                return word  # the word the negation bears on ("did not attack"), taken up without it
    return None


@lru_cache(maxsize=4)
def _read(text: str) -> tuple[tuple[int, int, tuple[attribution.Source, ...]], ...]:
    """Per sentence that attributes: its bounds and its sources, as the rules read them."""
    parsed = nlp.parse(text)
    found: dict[int, list[attribution.Source]] = {}
    for item in attribution.read(parsed):
        found.setdefault(item.sentence, []).append(item.source)
    return tuple(
        (parsed.sentences[number].start, parsed.sentences[number].end, tuple(sources))
        for number, sources in sorted(found.items())
    )


def claimant_problem(claimant_names: list[str], start: int, end: int, text: str) -> Problem | None:
    """A flag when the evidence ``text[start:end]`` does not write the claimant's name and the rules read its
    sentence as another named source's words whose name the evidence writes."""
    own = {w for name in claimant_names for w in _words(name) if w[:1].isalpha() and len(w) > 2}
    if not own or own & set(_words(text[start:end])):
        return None
    read = [(low, high, sources) for low, high, sources in _read(text) if low < end and start < high]
    if not read or own & set(_words(text[min(r[0] for r in read) : max(r[1] for r in read)])):
        return None  # its sentence names the claimant ("Dewar says that … the government says …")
    source = read[0][2][0]  # the rules' reading of the sentence: its main predicate's source
    names = {w for w in _words(source.claimant) if len(w) > 2}
    evidence_words = set(_words(text[start:end]))
    if source.claimant == UNNAMED_SOURCE or not names or names & own or source.check is not None:
        return None  # no named source, the same one, or one the rules are unsure of
    if not names <= evidence_words or not start <= source.start < source.end <= end:
        return None  # the evidence does not name it: a pronoun, or words outside the quote
    if not all(c.isalnum() or c in " .'\u2019-" for c in source.claimant):
        return None  # a reading that took punctuation into the name ('History" section')
    return Problem(f"its evidence gives these words to {source.claimant}, not to the claimant", reject=False)
