"""The word tests the scrubber's name rules (exchange.core._redact_names) judge a candidate by: is a
word an ordinary English word, a street or building word, an acronym, a name particle, a listed
first name; is a phrase a brand; what word comes just before or after; does a place follow; is the
text around written in lower case. And the two ways of trimming a candidate to the words that can
be part of a name (``accept_words`` for capitalised text, ``lower_words`` for lower case), and the
reading of upper-case text (``caps_text_name``).

The word lists themselves are in _redact_words.

Limits: every test is by word, against finite lists, so an ordinary word missing from
``COMMON_WORDS`` passes for a name word, and a first name that is also an ordinary word and in
neither the forenames nor the surname-words ("Will") counts as the word wherever a rule wants an
uncommon word ("victim Will said" stays). Looking around a candidate reads at most 60 characters
before it and 60 characters or twelve words after it.
"""

from __future__ import annotations

import re

from exchange.core import _redact_words as wordlists
from exchange.core._redact_name_patterns import UP
from exchange.core.address import BUILDING_WORDS, STREET_SUFFIXES

_STREET_OR_BUILDING = STREET_SUFFIXES | BUILDING_WORDS | {
    "hospital", "school", "academy", "college", "university", "station", "surgery", "practice",
    "church", "centre", "center", "stadium", "park", "primary", "infant", "junior", "memorial",
    "arms", "inn", "hotel", "tavern", "library", "museum", "theatre", "cinema", "airport", "bridge",
    "line", "coach", "ward", "clinic", "fc", "nursery", "garden", "gardens", "estate",
}

_FOLLOWING_WORD_RE = re.compile(r"\s*([^\W\d_][\w'’-]*)")
_PRECEDING_WORD_RE = re.compile(r"([^\W\d_][\w.'’-]*)\s*$")

_BRANDS_BY_FIRST_WORD: dict[str, tuple[str, ...]] = {}
for _brand in wordlists.BRANDS:
    _BRANDS_BY_FIRST_WORD[_brand.split(" ", 1)[0]] = _BRANDS_BY_FIRST_WORD.get(_brand.split(" ", 1)[0], ()) + (_brand,)


def is_brand(text: str) -> bool:
    low = " ".join(text.split()).lower()
    candidates = _BRANDS_BY_FIRST_WORD.get(low.split(" ", 1)[0], ())
    return any(low.startswith(b) for b in candidates)


def next_word(text: str, pos: int) -> str:
    m = _FOLLOWING_WORD_RE.match(text, pos)
    return m.group(1) if m else ""


# Bounded: only the first few words after a name decide, and an unbounded run would make every
# name candidate read to the end of a long capitalised text (quadratic time).
_CAPITALISED_RUN_RE = re.compile(rf"(?:\s+(?:[{UP}][\w'’-]*|of|and|the|de|upon|on)){{1,12}}")


def place_follows(text: str, pos: int) -> bool:
    """True if the capitalised words right after ``pos`` name a place or an institution ("Road",
    "Sixth Form College", "Memorial Hall"): then the name before them is part of that name."""
    run = _CAPITALISED_RUN_RE.match(text, pos)
    if not run:
        return False
    words = [w for w in run.group(0).split() if w[0].isupper()][:4]
    return any(is_street_word(w) for w in words)


def prev_word(text: str, pos: int) -> str:
    m = _PRECEDING_WORD_RE.search(text, max(0, pos - 60), pos)
    return m.group(1) if m else ""


def is_street_word(word: str) -> bool:
    return word.lower().rstrip(".,") in _STREET_OR_BUILDING


def is_acronym(word: str) -> bool:
    return word.isupper() and (word in wordlists.NAME_STOP or word in wordlists.ACRONYMS or len(word) < 3)


def is_particle(word: str) -> bool:
    return word.lower() in wordlists.NAME_PARTICLES


def is_common(word: str) -> bool:
    """An ordinary English word, not also a listed first name or a surname-word ("Wood")."""
    bare = word.strip(".,'’")
    return (bare.lower() in wordlists.COMMON_WORDS and bare.title() not in wordlists.FORENAMES
            and bare.title() not in wordlists.SURNAME_COLLISIONS)


def listed_first(word: str) -> bool:
    """A listed first name, or a double-barrelled one with a listed part ("Kerry-Ann")."""
    return word in wordlists.FORENAMES or ("-" in word and any(p in wordlists.FORENAMES for p in word.split("-")))


def accept_words(words: list[str], strong: bool) -> list[str]:
    """The leading words that can be part of a name. ``strong`` (after a title, a cue or a listed
    first name) lets through surnames that are also ordinary words ("White", "Hall", "Green").
    Particles ("da", "van der") count only inside a name."""
    kept: list[str] = []
    for w in words:
        bare = w.rstrip(".")
        if is_particle(bare) and not bare.isupper():
            kept.append(w)
            continue
        if not bare[:1].isupper():
            break
        colliding = strong and bare.title() in wordlists.SURNAME_COLLISIONS
        if not colliding and (bare in wordlists.NAME_STOP or bare.title() in wordlists.NAME_STOP
                              or is_street_word(bare)):
            break
        if bare.isupper() and is_acronym(bare) and not colliding and not is_particle(bare):
            break
        kept.append(w)
    while kept and is_particle(kept[-1]):
        kept.pop()
    return kept


_LEADING_INITIALS_RE = re.compile(rf"(?:[{UP}]\.\s*|[{UP}]\s+(?=[{UP}]))*")


def split_initials(name: str) -> tuple[str, list[str]]:
    """"J. P. Smith Jones" -> ("J. P. ", ["Smith", "Jones"])."""
    m = _LEADING_INITIALS_RE.match(name)
    initials = m.group(0) if m else ""
    return initials, name[len(initials) :].split()


def lower_words(words: list[str], strong_first: bool) -> list[str]:
    """Leading lower-case words that can be a name: not ordinary English words, not street words.
    ``strong_first``: the first word may be a surname that is also a word ("mrs wood")."""
    kept: list[str] = []
    for i, w in enumerate(words):
        if is_particle(w) and i > 0:
            kept.append(w)
            continue
        if w in wordlists.FUNCTION_WORDS or is_street_word(w) or w.title() in wordlists.NAME_STOP and not (
                strong_first and i == 0 and w.title() in wordlists.SURNAME_COLLISIONS):
            break
        if is_common(w) and not (strong_first and i == 0 and w.title() in wordlists.SURNAME_COLLISIONS):
            break
        kept.append(w)
    while kept and is_particle(kept[-1]):
        kept.pop()
    return kept


def verb_like(word: str) -> bool:
    """"REPORTS", "ASSAULTED", "SHOUTING": an upper-case word that is an English verb form."""
    low = word.lower()
    if low in wordlists.COMMON_WORDS or low in wordlists.REPORTING_VERBS:
        return word.title() not in wordlists.SURNAME_COLLISIONS
    return any(low.endswith(suf) and low[: -len(suf)] in wordlists.COMMON_WORDS
               for suf in ("s", "es", "ed", "d", "ing"))


def caps_text_name(kept: list[str]) -> list[str]:
    """In upper-case text ("SUSPECT KYLE NOWAK ASSAULTED"): a listed first name and at most one
    surname word that does not look like a verb, or two or three words that are not ordinary
    English words ("CALLER HODAN KAUR REPORTS"). An upper-case word alone after a cue is an acronym
    more often than not."""
    if kept[0].title() in wordlists.FORENAMES:
        kept = kept[:2]
        if len(kept) == 2 and verb_like(kept[1]):
            kept = kept[:1]
        return kept
    plain: list[str] = []
    for w in kept:
        if is_common(w) or (is_acronym(w) and not is_particle(w)):
            break
        plain.append(w)
    while plain and is_particle(plain[-1]):
        plain.pop()
    return plain if sum(not is_particle(w) for w in plain) >= 2 else []


_PLACEHOLDER_RE = re.compile(r"\[[A-Z ]+\]")


def lower_case_text(text: str, start: int, end: int) -> bool:
    """True if the text around a match (60 characters either side, placeholders aside) has no
    capital letter: the writer is not capitalising, so a name may well be in lower case."""
    window = _PLACEHOLDER_RE.sub("", text[max(0, start - 60) : end + 60])
    return not any(ch.isupper() for ch in window)
