"""Names in free text, for the scrubber (exchange.core.redact): one rule per candidate pattern of
_redact_name_patterns, each a callback that decides, with the word tests of _redact_name_checks,
whether a candidate is a name, and gives its replacement ("[NAME]", with the title, cue or words
that are not part of the name kept) or ``None``.

What is caught (kind ``name`` -> "[NAME]"; names are best effort, unlike the structured kinds).
A name is read:

* after a title or rank (Mr, Mrs, Ms, Miss, Mx, Dr, Prof, Rev, Sir, Dame; PC, PCSO, PS, DC, DS,
  DI, DCI, Sgt, Insp, Supt, Det Sgt, Sergeant, Inspector, Constable, Cllr; also upper case; a
  collar number may follow, "PC 1234 Jones", "PC1234 Jones") with optional initials: "Mrs J. P.
  Patel" -> "Mrs [NAME]"; and after a lower-case "mr", "mrs", "ms", "miss" ("mr kwame hussain");
* after a cue: strong cues (named, called, known as, aka, "name is", "name:", "name given as",
  identified as, "calling himself"), relations and roles (victim, suspect, offender,
  complainant, witness, informant, caller, IP, injured party, partner, son, mother, neighbour,
  tenant, landlord, carer, patient, pt, casualty, occupant, occupier, resident, householder,
  driver, passenger, next of kin...) and verbs (arrested, detained, interviewed, charged,
  cautioned, spoke to, visited, statement from; these need two name words or a listed first
  name): "suspect Kyle Jones" -> "suspect [NAME]". In upper-case text ("CALLER HODAN KAUR
  REPORTS") a listed first name, or two or three words that are not English words, verb forms
  or acronyms; also "NAMED AS ADEYEMI-COLE, AGNIESZKA". In lower-case text (no capital letter
  within 60 characters) two words that are not common English words after a relation or a verb
  ("pt says his partner chloe kowalczyk hit him"); one after "aka", "known as", "name is", and
  after "called"/"named" when a person noun comes before ("a lad called dave");
* an initial and a surname: "J. Smith", "J.P. Smith", "J Smith" (not after a category word,
  "Class A Drugs", "graded C. Dealing", not "A", "I" only after by/to/from/with, not before a
  business word, "J Lock Ltd");
* a first name from the embedded lists of forenames (``wordlists.FORENAMES``: about 300 common
  UK forenames and about 570 more of the communities the partners serve) in Title Case followed
  by a capitalised or UPPER CASE surname ("John Smith", "John SMITH"), or on its own when
  followed by a possessive or a reporting verb ("Kyle said", "Sarah's car");
* police surname notation in mixed-case text: "Kerry SINGH", "Ana Maria POPESCU" and "SINGH,
  Kerry", "DA SILVA, Ana" with any first name when the surname has four or more letters
  (three-letter capitals are read as acronyms, "Northshire YOT", unless the first name is
  listed: "Kyle COX"); and "KYLE NOWAK" (both upper case) when the first name is listed;
* a first name and surname with no cue before a verb only people do ("Tendai Moyo stated",
  "... was arrested", "... reported that") or next to a name already found ("[NAME] and Hodan
  Hall"), unless "the" comes before ("The Red Lion reported that").

Surnames that are also ordinary words ("White", "Green", "Hall", "Wood") are accepted after a
title, a cue or an initial ("Mrs White"). A candidate is rejected when it is followed by, or made
of, a street suffix, building or institution word ("Victoria Road", "Rose Cottage", "Victoria
Park", "John Radcliffe Hospital", "Joseph Chamberlain Sixth Form College"), when it follows
"St", "Saint", "King", "Queen", "Prince" ("St John Ambulance", "King Charles Street", "King
Henry VIII"), when it is a known brand ("Ted Baker", "John Lewis", "Jack Daniels", "Dr
Martens", "Paul Smith"), or when the word is in the stop list (pronouns, days, months,
ethnicity and nationality words, offence, police and service words: "suspect Vehicle", "victim
States", "Victim Support", "Offender Management").

What is NOT caught:

- Names without a title, a cue, an initial, a listed first name, the surname notation or a
  person-only verb: a lone surname ("Smith was seen", "completed by O'Neill"), a first name not
  in the lists followed by a surname with no verb after ("saw Tinashe Moyo outside"), a first name
  alone with no possessive or reporting verb ("saw Kyle outside"), lower-case names in mixed-case
  text or with no cue ("john smith was seen"), upper-case names whose first name is not listed
  after no cue ("NADIA PATEL"), nicknames ("known locally as Tinker"), a lower-case name after
  "called"/"named" with no person noun before it.
- A person's name that is part of an institution or street name is deliberately left ("Kyle Jones
  School"), and a listed first name followed by a street word ("Jade Wood", "Rose Hill") is read as
  a place.

False positives to expect: a capitalised word after a cue word that is not a name, two uncommon
lower-case words after a cue in lower-case text, a brand or place made of a listed first name and
a surname-shaped word not in the exclusion lists, a Title Case word followed by an UPPER CASE word
of four or more letters that is not in the acronym list ("Kenilworth WARWICKSHIRE", "Northshire
CAMHS" is listed, "Area SNOW" is not) read as "First SURNAME", a capitalised pair before "said" or
"stated" that is an organisation ("Severn Trent said").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from exchange.core import _redact_words as wordlists
from exchange.core._redact_name_checks import (
    accept_words,
    caps_text_name,
    is_acronym,
    is_brand,
    is_common,
    is_particle,
    is_street_word,
    listed_first,
    lower_case_text,
    lower_words,
    next_word,
    place_follows,
    prev_word,
    split_initials,
    verb_like,
)
from exchange.core._redact_name_patterns import STRONG_CUE_FULL_RE, VERB_CUE_FULL_RE
from exchange.core._redact_work import TOKENS, Work

_POSSESSIVE_RE = re.compile(r"['’]s\b")
_ROMAN_RE = re.compile(r"^[IVXLC]+$")


def _replace_name(work: Work, match: re.Match[str], group: str, words: list[str], kept: list[str]) -> str:
    """Text of the match with the name words replaced by [NAME]; words cut after the name stay."""
    text = match.string
    head = text[match.start() : match.start(group)]
    tail_words = words[len(kept) :]
    tail = (" " + " ".join(tail_words)) if tail_words else ""
    return head + work.seal(TOKENS["name"]) + tail


def make_title_cb(work: Work) -> Callable[[re.Match[str]], str | None]:
    """After a title or rank: "Mrs J. P. Patel", "PC 1234 Jones"; not "Acacia Dr", "PS Please call"."""

    def cb(match: re.Match[str]) -> str | None:
        text = match.string
        title = match.group("title")
        if is_brand(text[match.start() : match.start() + 40]):
            return None
        if title in ("Dr", "DR"):
            prev = prev_word(text, match.start())
            if prev and prev[0].isupper() and not prev.endswith("."):
                return None  # "Acacia Dr Leamington": Drive, not Doctor
        initials, words = split_initials(match.group("name"))
        if not words:
            return None
        if title == "PS" and not (match.group("collar") or match.group("collar2")) and is_common(words[0]):
            return None  # "PS Please call back": a postscript
        if place_follows(text, match.end()):
            return None  # "Dr Green Lane"
        if len(words) >= 2 and is_street_word(words[-1]) and words[0] not in wordlists.FORENAMES:
            return None  # "Mr Acacia Avenue" (what "Mr 12 Acacia Avenue" becomes), "Mr Green Lane"
        kept = accept_words(words, strong=True)
        if not kept:
            return None
        return _replace_name(work, match, "name", words, kept)

    return cb


def make_lower_title_cb(work: Work) -> Callable[[re.Match[str]], str | None]:
    """"mr smith", "mrs jane o'neill" in lower-case text."""

    def cb(match: re.Match[str]) -> str | None:
        words = match.group("name").split()
        kept = lower_words(words, strong_first=True)
        if not kept:
            return None
        return _replace_name(work, match, "name", words, kept)

    return cb


def make_cue_cb(work: Work) -> Callable[[re.Match[str]], str | None]:
    """Capitalised names after a cue: "suspect Kyle Jones", "named as Tendai Moyo", "CALLER HODAN KAUR"."""

    def cb(match: re.Match[str]) -> str | None:
        text = match.string
        cue = match.group("cue")
        strong_cue = STRONG_CUE_FULL_RE.fullmatch(cue) is not None
        verb_cue = VERB_CUE_FULL_RE.fullmatch(cue) is not None
        initials, words = split_initials(match.group("name"))
        if not words:
            return None
        if is_brand(" ".join(words)) or place_follows(text, match.end()):
            return None
        first = words[0]
        if is_particle(first) and len(words) > 1:
            first = words[1]
        if is_street_word(first) or first in wordlists.NAME_STOP or first in wordlists.NOT_FIRST_NAMES:
            return None  # "witness Park", "victim Support"
        if (
            len(words) >= 2
            and is_street_word(words[-1])
            and words[0].title() not in wordlists.FORENAMES
            and words[-1].title() not in wordlists.SURNAME_COLLISIONS
        ):
            return None  # "caller Mill Lane" is a place
        kept = accept_words(words, strong=True)
        if kept and kept[0].isupper() and not is_particle(kept[0]):
            kept = caps_text_name(kept)
        if kept and verb_cue and not initials and len(kept) < 2 and kept[0].title() not in wordlists.FORENAMES:
            return None  # "arrested Smith"? too little to go on after a verb
        if kept and not strong_cue and not initials and len(kept) == 1 and is_common(kept[0]):
            return None  # "victim Will"
        if not kept:
            return None
        return _replace_name(work, match, "name", words, kept)

    return cb


def make_cue_caps_comma_cb(work: Work) -> Callable[[re.Match[str]], str | None]:
    """"NAMED AS ADEYEMI-COLE, AGNIESZKA": surname, comma, first name, all upper case, after a cue."""

    def cb(match: re.Match[str]) -> str | None:
        surname, _, firsts = match.group("name").partition(",")
        first_words = firsts.split()
        kept: list[str] = []
        for w in first_words:
            if is_common(w) or verb_like(w) or is_acronym(w) or is_street_word(w):
                break
            kept.append(w)
        core = [w for w in surname.split() if not is_particle(w)]
        if not kept or not core or any(is_common(w) or verb_like(w) or is_acronym(w) or is_street_word(w)
                                       for w in core):
            return None
        tail = first_words[len(kept) :]
        head = match.group(0)[: match.start("name") - match.start()]
        return head + work.seal(TOKENS["name"]) + ("" if not tail else " " + " ".join(tail))

    return cb


def make_cue_lower_cb(work: Work) -> Callable[[re.Match[str]], str | None]:
    """Lower-case names after a cue: one word after a strong cue ("a male called dave"), two after
    a relation or a verb ("victim jane doe"), none of them an ordinary English word."""

    def cb(match: re.Match[str]) -> str | None:
        text, cue = match.string, match.group("cue")
        strong_cue = STRONG_CUE_FULL_RE.fullmatch(cue) is not None
        if cue.lower() in ("called", "named") and prev_word(text, match.start()).lower() not in wordlists.PERSON_NOUNS:
            return None  # "she called mum", "Mrs White called back"; but "a male called dave"
        if not lower_case_text(text, match.start(), match.end()) and not (
                strong_cue and cue.lower() not in ("called", "named")):
            return None  # "Victim emailed photographs": in mixed-case text, names are capitalised
        words = match.group("name").split()
        kept = lower_words(words, strong_first=False)
        if len([w for w in kept if not is_particle(w)]) < (1 if strong_cue else 2):
            return None
        return _replace_name(work, match, "name", words, kept)

    return cb


_NOT_BEFORE_PRONOUN = frozenset("by to from with for and or of".split())


def make_initial_cb(work: Work) -> Callable[[re.Match[str]], str | None]:
    """"J. Smith", "J.P. Smith", "J Smith" with no title: not after a category word ("Class A
    Drugs", "graded C. Dealing ..."), and the surname not an ordinary word or a place."""

    def cb(match: re.Match[str]) -> str | None:
        text = match.string
        init = match.group("init")
        words = match.group("name").split()
        surname = words[-1]
        prev = prev_word(text, match.start())
        if prev.lower().rstrip(".") in wordlists.CATEGORY_WORDS:
            return None
        if "." not in init:
            letter = init.strip()
            if letter == "A" or (prev and (prev[0].isupper() or prev[0].isdigit())):
                return None  # "A Ford Focus"; "Class A Drugs"
            if letter == "I" and prev.lower() not in _NOT_BEFORE_PRONOUN:
                return None  # "I Think", but "by I Dimitrov"
        colliding = surname.title() in wordlists.SURNAME_COLLISIONS
        if not colliding and (surname in wordlists.NAME_STOP or surname.title() in wordlists.NAME_STOP
                              or is_street_word(surname) or is_common(surname)
                              or surname in wordlists.NOT_FIRST_NAMES):
            return None
        if surname.isupper() and is_acronym(surname):
            return None
        if place_follows(text, match.end()) or is_brand(match.group(0)):
            return None
        if next_word(text, match.end()) in wordlists.NAME_STOP:
            return None  # "J Lock Ltd", "A Smith Motors": a business
        return work.seal(TOKENS["name"])

    return cb


def make_forename_cb(work: Work) -> Callable[[re.Match[str]], str | None]:
    """A listed first name and a surname ("John Smith", "John SMITH"), or the first name alone
    before a possessive or a reporting verb ("Sarah's car", "Kyle said")."""

    def cb(match: re.Match[str]) -> str | None:
        first = match.group("first")
        if not listed_first(first):
            return None
        text = match.string
        if prev_word(text, match.start()).lower() in wordlists.PLACE_PREFIX:
            return None  # "St John", "King Charles", "Queen Victoria"
        if is_brand(text[match.start() : match.start() + 40]):
            return None
        rest_words = match.group("rest").split()
        if place_follows(text, match.end()) or any(
            is_street_word(w) and w.title() not in wordlists.SURNAME_COLLISIONS_UNCUED for w in rest_words
        ):
            return None  # "Victoria Road", "John Radcliffe Hospital", "Rose Cottage"
        kept = accept_words(rest_words, strong=True)
        if kept:
            tail_words = rest_words[len(kept) :]
            tail = (" " + " ".join(tail_words)) if tail_words else ""
            return work.seal(TOKENS["name"]) + tail
        if is_street_word(next_word(text, match.start("rest"))):
            return None
        # A listed first name on its own: only with a possessive or a reporting verb after it.
        nxt = next_word(text, match.start("rest"))
        if _POSSESSIVE_RE.match(text, match.start("rest")) or (nxt in wordlists.REPORTING_VERBS):
            return work.seal(TOKENS["name"]) + match.group("rest")
        return None

    return cb


def _notation_ok(text: str, match: re.Match[str], firsts: list[str], surs: list[str]) -> bool:
    """The checks shared by "Kerry SINGH" and "SINGH, Kerry"."""
    core = [w for w in surs if not is_particle(w)]
    if not core or any(_ROMAN_RE.match(w) for w in core):
        return False  # "Henry VIII"
    if prev_word(text, match.start()).lower() in wordlists.PLACE_PREFIX or place_follows(text, match.end()):
        return False  # "King Henry VIII School"
    colliding = all(w.title() in wordlists.SURNAME_COLLISIONS for w in core)
    if not colliding and any(is_acronym(w) or is_street_word(w) or w in wordlists.NAME_STOP for w in core):
        return False
    for f in firsts:
        if f in wordlists.NAME_STOP or is_street_word(f) or f in wordlists.NOT_FIRST_NAMES or is_common(f):
            return False
    if not listed_first(firsts[0]) and len(core[-1].strip("'’-")) < 4 and not colliding:
        return False  # "Northshire YOT", "Monthly IOM": three capitals are an acronym here
    joined_first, joined_sur = " ".join(firsts), " ".join(surs)
    return not (is_brand(f"{joined_first} {joined_sur}") or is_brand(f"{joined_sur} {joined_first}"))


def make_caps_cb(work: Work) -> Callable[[re.Match[str]], str | None]:
    """Police notation: "Kerry SINGH", "Ana Maria POPESCU", in mixed-case text."""

    def cb(match: re.Match[str]) -> str | None:
        text = match.string
        firsts, surs = match.group("first").split(), match.group("sur").split()
        lead = ""
        if len(firsts) == 2 and (firsts[0] not in wordlists.FORENAMES or firsts[0] in wordlists.NAME_STOP):
            lead, firsts = firsts[0] + " ", firsts[1:]  # "Meeting Kerry SINGH": only "Kerry SINGH"
        if not _notation_ok(text, match, firsts, surs):
            return None
        # Shouting: the words around are upper case too, so "SMITH" is not a notation.
        before = lead.strip() or prev_word(text, match.start())
        after = next_word(text, match.end())
        if (len(before) > 1 and before.isupper()) or (len(after) > 1 and after.isupper()):
            return None
        return lead + work.seal(TOKENS["name"])

    return cb


def make_surname_first_cb(work: Work) -> Callable[[re.Match[str]], str | None]:
    """"SINGH, Kerry", "DA SILVA, Ana Maria"."""

    def cb(match: re.Match[str]) -> str | None:
        text = match.string
        firsts, surs = match.group("first").split(), match.group("sur").split()
        if not _notation_ok(text, match, firsts, surs):
            return None
        after = next_word(text, match.end())
        if len(after) > 1 and after.isupper():
            return None
        return TOKENS["name"]

    return cb


def make_allcaps_cb(work: Work) -> Callable[[re.Match[str]], str | None]:
    """"KYLE NOWAK" (both upper case) in mixed-case text, with a listed first name."""

    def cb(match: re.Match[str]) -> str | None:
        text = match.string
        first, sur = match.group("first"), match.group("sur")
        if first.title() not in wordlists.FORENAMES:
            return None
        if not _notation_ok(text, match, [first.title()], [sur]):
            return None
        before, after = prev_word(text, match.start()), next_word(text, match.end())
        if (len(before) > 1 and before.isupper()) or (len(after) > 1 and after.isupper()):
            return None
        return TOKENS["name"]

    return cb


_ARTICLE_OR_PLACE_PREFIX = frozenset({"the", "a", "an"}) | wordlists.PLACE_PREFIX


def make_person_cb(work: Work) -> Callable[[re.Match[str]], str | None]:
    """"Tendai Moyo stated", "[NAME] and Tendai Moyo": a first name and a surname with no cue."""

    def cb(match: re.Match[str]) -> str | None:
        text = match.string
        words = [w for w in match.group("name").split() if not is_particle(w)]
        if prev_word(text, match.start()).lower() in _ARTICLE_OR_PLACE_PREFIX:
            return None  # "The Red Lion reported that"
        for i, w in enumerate(words):
            colliding = i > 0 and w.title() in wordlists.SURNAME_COLLISIONS
            if colliding:
                continue
            if (w in wordlists.NAME_STOP or is_street_word(w) or w in wordlists.NOT_FIRST_NAMES
                    or (is_common(w) and w not in wordlists.FORENAMES)):
                return None
        if is_brand(match.group("name")):
            return None
        return _replace_name(work, match, "name", match.group("name").split(), match.group("name").split())

    return cb
