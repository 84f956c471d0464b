"""The rules baseline: briefs with no model, one claim per sentence that carries a cue of the project's lexicon.

    python bench/baseline.py --out DIR [ARTICLE ...]     # default: every seeds/wikinews/*.txt

It is a *system* that ``bench/quality.py`` scores, as it scores ``summarizer daily``:
it writes one brief JSON per article into DIR (``document.path`` and ``sha256``, the
claims with their evidence spans, the actors) and the scorer reads them as plain
JSON, in its own process. So the baseline may use the project's cue lexicon and
sentence splitter (``summarizer.cues``, ``summarizer.grounding``) while the scorer
imports nothing of the project.

Each claim's evidence is its whole sentence; its claimant is the first run of
capitalised words that starts with a name word (capitalised, none of this
module's function words or titles, and an acronym or a word the article never
writes in lower case), else "unnamed source". Its actors are its distinct named
claimants (it has no other notion of an actor), and it spends no tokens.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer.cues import cue_lexicon, find_cues
from summarizer.grounding import sentences

ARTICLES = ROOT / "seeds" / "wikinews"
UNNAMED = "unnamed source"


def _listed(text: str) -> frozenset[str]:
    return frozenset(text.split())


FUNCTION_WORDS = _listed(
    """i me my mine myself we us our ours ourselves you your yours he him his himself she her hers herself it
    its itself they them their theirs themselves someone somebody anyone anybody everyone everybody nobody one
    who whom whose the a an this that these those some any all each other such and or but nor of to for in on
    at by with from as into about over under after before than so not no is are was were be been being has
    have had do does did will would shall should can could may might must also according"""
)
TITLES = _listed(
    """mr mrs ms miss dr prof professor president vice prime minister secretary senator governor ambassador
    general major colonel captain sir dame lord lady chief director spokesperson spokesman spokeswoman ceo
    chairman chairwoman chair administrator emeritus senior junior deputy undersecretary mayor king queen
    prince princess judge justice rev reverend st saint"""
)
_TOKEN = re.compile(r"[^\W_](?:[\w.'\u2019-]*[^\W_])?")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def norm_word(word: str) -> str:
    word = word.lower().replace("\u2019", "'")
    if word.endswith("'s"):
        word = word[:-2]
    return word.replace(".", "").strip("'-")


def lowercase_words(text: str) -> frozenset[str]:
    """Words the article writes in lower case: a capitalised word among them is capitalised by position only."""
    return frozenset(norm_word(token) for token in tokens(text) if token[0].islower())


def is_name_word(token: str, lower: frozenset[str]) -> bool:
    word = norm_word(token)
    acronym = sum(char.isupper() for char in token) >= 2
    if not word or word in TITLES or (word in FUNCTION_WORDS and not acronym):
        return False
    return token[0].isupper() and (acronym or word not in lower)


def first_name(sentence: str, lower: frozenset[str]) -> str | None:
    """The first run of capitalised words that starts with a name word ("Afghan Ambassador Hamdullah Mohib")."""
    words = tokens(sentence)
    for index, token in enumerate(words):
        if is_name_word(token, lower):
            run = [token]
            for following in words[index + 1 :]:
                if not following[0].isupper():
                    break
                run.append(following)
            return " ".join(run)
    return None


def _span(text: str, start: int, end: int) -> dict[str, Any]:
    return {"quote": text[start:end], "start": start, "end": end, "match": "exact"}


def rules_brief(path: str, text: str, cues: list[str]) -> dict[str, Any]:
    """One claim per sentence that carries a lexicon cue, as brief JSON; its claimant is the first name in it."""
    lower = lowercase_words(text)
    claims: list[dict[str, Any]] = []
    for start, end in sentences(text):
        if find_cues(text[start:end], cues):
            claimant = first_name(text[start:end], lower) or UNNAMED
            claims.append({"id": f"C{len(claims) + 1}", "claimant": claimant, "evidence": _span(text, start, end)})
    names = dict.fromkeys(c["claimant"] for c in claims if c["claimant"] != UNNAMED)
    actors = [{"id": f"A{n}", "name": name, "aliases": []} for n, name in enumerate(names, 1)]
    ids = {a["name"]: a["id"] for a in actors}
    for claim in claims:
        claim["claimant_id"] = ids.get(claim["claimant"])
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return {
        "document": {"id": digest, "sha256": digest, "path": path},
        "run": {"provider": "rules", "model": "none", "usage": {"completion_tokens": 0}},
        "actors": actors,
        "claims": claims,
        "uncertainties": [],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the brief JSON files")
    parser.add_argument("articles", nargs="*", type=Path, help="text files (default: seeds/wikinews/*.txt)")
    args = parser.parse_args(argv)
    cues = cue_lexicon()
    args.out.mkdir(parents=True, exist_ok=True)
    for article in args.articles or sorted(ARTICLES.glob("*.txt")):
        path = article.resolve()
        shown = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
        brief = rules_brief(shown, path.read_text(encoding="utf-8"), cues)
        (args.out / f"{path.stem}.json").write_text(json.dumps(brief, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
