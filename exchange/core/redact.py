"""Free-text scrubbing: remove direct identifiers from police and council free-text fields.

Pure domain code: no I/O, no logging, the input text is never stored or reported anywhere but in
the returned ``Scrubbed.text``.

``scrub(text)`` returns a ``Scrubbed`` holding the scrubbed text and a count per kind of what was
replaced. The passes run in this order, each on the text the previous ones left (a replaced item
is sealed so later passes cannot re-match or split it), and the whole set repeats until the text is
stable, so ``scrub`` is idempotent: ``scrub(scrub(x).text).text == scrub(x).text``.

What is caught (kind: replacement):

- ``email`` -> "[EMAIL]": ``local@domain.tld`` with RFC 5322 "atext" in the local part and a
  dotted domain ("jo.bloggs+asb@example.co.uk").
- ``nhs_number`` -> "[NHS NUMBER]": ten digits, bare or grouped 3-3-4 with spaces or dashes,
  whose modulus-11 check digit is right (``nhs_number_is_valid``). Ten digits that fail the check
  go on to the phone pass, and are left alone if they are not a phone number either.
- ``ni_number`` -> "[NI NUMBER]": two prefix letters allowed by HMRC (first not D F I Q U V,
  second not D F I O Q U V, not BG GB NK KN TN NT ZZ), six digits, suffix letter A-D; spaces or
  dashes between the pairs; any letter case.
- ``phone`` -> "[PHONE]": UK numbers starting 01, 02, 03 or 07 (10 or 11 digits, 07 always 11),
  with spaces, dashes, "(01926) 123456" brackets, "+44 7700 900123", "+44 (0)121 ...", "0044 ...".
- ``postcode`` -> its sector: a full postcode in any case and spacing ("cv324ab") becomes the
  canonical sector ("CV32 4"). Sectors already in the text are left alone.
- ``house_number`` -> the street without the number: a premises number (digits, a letter suffix,
  ranges "12-14", "12 - 14", "12/14", "10 and 12", "No. 12") followed by one to three street-name
  words ending in a street suffix (Road, Rd, Street, St, Lane, Avenue, Close, Drive, Way, Green...):
  "12a High St" -> "High St". Title Case and UPPER CASE street names with any suffix; lower-case
  street names only with an unambiguous suffix (road, street, lane, avenue, crescent, terrace,
  gardens, close, drive, grove...). Also "Flat 3", "Apartment 2B", "Unit 4", "Room 5",
  "Maisonette 2", "Flat A" -> the word without its number ("Flat").
- ``name`` -> "[NAME]":
  * a title (Mr, Mrs, Ms, Miss, Mx, Dr, Prof, Rev, Sir, Dame; also upper case) or a police rank
    or councillor (PC, PCSO, DC, DS, DI, DCI, Sgt, Insp, Supt, Cllr; a collar number may follow)
    followed by optional initials and one to three capitalised words: "Mrs J. Patel" ->
    "Mrs [NAME]", "PC 1234 Jones" -> "PC 1234 [NAME]";
  * a cue word followed by one to three capitalised words: named, called, known as, aka,
    "name is/was", name:, victim, suspect, offender, complainant, witness, informant, caller,
    aggrieved, injured party, IP, RP, perpetrator, and relatives and relations (son, daughter,
    wife, husband, partner, ex-partner, boyfriend, girlfriend, neighbour, brother, sister, mother,
    father, mum, dad, friend, tenant, landlord, carer...): "suspect Kyle Jones" ->
    "suspect [NAME]";
  * a first name from the embedded list of common UK forenames (``wordlists.FORENAMES``, about 300) in
    Title Case followed by a capitalised or UPPER CASE surname ("John Smith", "John SMITH"), or
    on its own when followed by a possessive or a reporting verb ("Kyle said", "Sarah's car");
  * police surname notation in mixed-case text: "Kerry SINGH" and "SINGH, Kerry" with any first
    name when the surname has four or more letters (three-letter capitals are read as acronyms,
    "Northshire YOT", unless the first name is listed: "Kyle COX"); and "KYLE NOWAK" (both upper
    case) when the first name is in the list. In
    all-upper-case text only titles ("MR SMITH") and cues followed by a listed first name
    ("SUSPECT KYLE NOWAK") are read.
  Surnames may be "O'Brien", "McDonald", "Smith-Jones"; surnames that are also ordinary words
  ("White", "Green", "Hall", "Wood") are accepted after a title or cue ("Mrs White"). A candidate
  is rejected when it is followed by, or made of, a street suffix, building or institution word
  ("Victoria Road", "Rose Cottage", "Victoria Park", "John Radcliffe Hospital", "Joseph
  Chamberlain Sixth Form College"), when it follows "St", "Saint", "King", "Queen", "Prince"
  ("St John Ambulance", "King Charles Street", "King Henry VIII"), when it is a known brand ("Ted
  Baker", "John Lewis", "Jack Daniels", "Dr Martens", "Paul Smith"), or when the word is in the
  stop list (pronouns, days, months, ethnicity and nationality words, offence, police and
  service words: "suspect Vehicle", "victim States", "Victim Support", "Offender Management").

What is NOT caught (documented limits; the structured kinds are reliable, names are best effort):

- Names without a title, a cue, a listed first name or the surname notation: a lone surname
  ("Smith was seen"), a first name not in the list followed by a Title Case surname ("Tendai
  Moyo"), a first name alone with no possessive or reporting verb ("saw Kyle outside"; "Tendai
  said" when Tendai is not listed), names in lower case ("john smith"), upper-case names whose
  first name is not listed ("NADIA PATEL"; "SUSPECT NADIA PATEL"), nicknames ("known locally as
  Tinker"); a surname ending in -S, -ED or -ING after an upper-case first name in all-caps text
  ("SUSPECT KYLE JONES" keeps "JONES").
- A person's name that is part of an institution or street name is deliberately left ("Kyle Jones
  School"), and a listed first name followed by a street word ("Jade Wood", "Rose Hill") is read as
  a place.
- Dates of birth, ages, vehicle registrations, crime and incident reference numbers, bank card
  and account numbers, passport and driving licence numbers, IP addresses, social media handles.
- E-mail addresses written out ("jo at example dot com") and phone numbers written in words or
  with dots; non-UK phone numbers; UK numbers starting 08 or 09; short codes.
- NHS numbers that fail the check digit, and ten-digit strings of one repeated digit; an NHS
  number or phone number run into other digits ("5 943 476 5919").
- NI numbers without the suffix letter, or temporary ("TN") numbers.
- House numbers without a street suffix after them ("12 Broadway", "5 The Butts", "236 Coten
  End"), house names ("Rose Cottage" stays), and a street suffix more than three words away.
- Any identifier split across lines or obfuscated with extra characters.

Measured on the labelled synthetic corpus in tests/redaction_corpus.py (run
bench/redaction_recall.py for the table): see the README for the current figures.

False positives to expect: a ten-digit reference that passes the NHS check digit (about one in
eleven random ten-digit numbers does), an 11-digit reference starting 01/02/03/07, a capitalised
word after a cue word that is not a name, a brand or place made of a listed first name and a
surname-shaped word not in the exclusion lists, a Title Case word followed by an UPPER CASE word of
four or more letters that is not in the acronym list ("Kenilworth WARWICKSHIRE", "Northshire
CAMHS" is listed, "Area SNOW" is not) read as "First SURNAME".
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from exchange.core import _redact_words as wordlists
from exchange.core.address import BUILDING_WORDS, STREET_SUFFIXES
from exchange.core.postcode import (
    POSTCODE_IN_TEXT_RE,
    normalise_postcode,
    postcode_sector,
)
from exchange.errors import InvalidPostcode

__all__ = [
    "Scrubbed",
    "scrub",
    "nhs_number_is_valid",
    "KINDS",
    "TOKENS",
    "FORENAMES",
]

FORENAMES = wordlists.FORENAMES

KINDS: tuple[str, ...] = (
    "email",
    "nhs_number",
    "ni_number",
    "phone",
    "postcode",
    "house_number",
    "name",
)

TOKENS: Mapping[str, str] = types.MappingProxyType(
    {
        "email": "[EMAIL]",
        "nhs_number": "[NHS NUMBER]",
        "ni_number": "[NI NUMBER]",
        "phone": "[PHONE]",
        "name": "[NAME]",
    }
)


@dataclass(frozen=True)
class Scrubbed:
    """The scrubbed text and how many identifiers of each kind were replaced (non-zero kinds only)."""

    text: str
    redactions: Mapping[str, int] = field(default_factory=lambda: types.MappingProxyType({}))

    @property
    def total(self) -> int:
        return sum(self.redactions.values())


# --------------------------------------------------------------------------------------------
# NHS numbers


def nhs_number_is_valid(digits: str) -> bool:
    """True if ``digits`` is ten digits (spaces and dashes allowed) with a correct modulus-11 check
    digit. Ten copies of one digit pass the arithmetic but are rejected as placeholders."""
    compact = re.sub(r"[\s-]", "", digits or "")
    if len(compact) != 10 or not compact.isascii() or not compact.isdigit():
        return False
    if len(set(compact)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(compact[:9], range(10, 1, -1), strict=False))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        return False
    return check == int(compact[9])


# --------------------------------------------------------------------------------------------
# Patterns

_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
_EMAIL_RE = re.compile(
    rf"(?<![{_ATEXT}.@])[{_ATEXT}]+(?:\.[{_ATEXT}]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?![A-Za-z0-9-]|\.[A-Za-z0-9])"
)

_NHS_RE = re.compile(r"(?<![\w+])(?<!\d[ -])\d{3}[ -]?\d{3}[ -]?\d{4}(?![ -]?\d)(?!\w)")

_NI_RE = re.compile(
    r"(?<![A-Za-z0-9])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r"[ -]?\d{2}[ -]?\d{2}[ -]?\d{2}[ -]?[A-D](?![A-Za-z0-9])",
    re.IGNORECASE,
)

_PHONE_RE = re.compile(
    r"(?<![\w+])(?<!\d[ -])(?:"
    r"(?:\+|00)[ ]?44[ -]?(?:\(0\)[ -]?)?(?P<intl>[1-37](?:[ -]?\d){8,9})"
    r"|\((?P<area>0[1-37]\d{1,3})\)[ -]?(?P<local>\d(?:[ -]?\d){5,7})"
    r"|(?P<nat>0[1-37](?:[ -]?\d){8,9})"
    r")(?!\w)"
)

# A postcode sector ("CV32 4") already in the text: sealed so "4 Acacia Avenue" is not a house.
_SECTOR_RE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\s[0-9](?![\w/:.-])")

_FREE_TEXT_SUFFIXES = sorted(STREET_SUFFIXES - {"garden", "park", "estate", "wood", "woods", "field",
                                                 "market", "ring", "top", "side", "end", "bank",
                                                 "corner", "link", "reach", "ride", "steps", "path"},
                             key=len, reverse=True)
_SUFFIX_ALT = "|".join(_FREE_TEXT_SUFFIXES)
_LOWER_OK_SUFFIXES = frozenset(
    "road street lane avenue crescent terrace gardens close drive grove mews parade rd ave".split()
)
_NUMBER = r"\d{1,4}[A-Za-z]?"
_HOUSE_RE = re.compile(
    r"(?<![\w/:.,£$€#-])(?<!\d\s)(?:(?:[Nn]o\.?|[Nn]umber)\s*)?"
    rf"(?P<num>{_NUMBER}(?:(?:\s*(?:-|–|/|&)\s*|\s+(?:and|to)\s+|\s+){_NUMBER})*)(?![\w/:.%£-])"
    r",?\s+"
    rf"(?P<street>(?:[A-Za-z][\w'’-]*\.?\s+){{1,3}}(?i:{_SUFFIX_ALT})\b\.?)"
)
_PREMISES_WORDS = r"(?:flat|apartment|apt|unit|room|maisonette|bedsit|studio)"
_FLAT_RE = re.compile(
    rf"\b(?P<word>(?i:{_PREMISES_WORDS}))\.?\s+(?:(?i:no\.?|number)\s*)?"
    rf"(?P<id>{_NUMBER}(?:\s*[-/]\s*{_NUMBER})?(?![\w/:.%£-])|[A-HJ-Z](?![\w'’]))"
)

_NAMEWORD = (
    r"(?:(?:Mc|Mac|O['’]|D['’])?[A-Z][a-z]+(?:[-'’][A-Z][a-z]+)?"
    r"|(?:MC|MAC|O['’])?[A-Z]{2,}(?:[-'’][A-Z]{2,})?)(?![A-Za-z0-9_])"
)
_TITLE_RE = re.compile(
    r"\b(?P<title>Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Rev|Revd|Sir|Dame|MR|MRS|MS|MISS|DR"
    r"|PC|PCSO|DC|DS|DI|DCI|DSI|Sgt|SGT|Insp|Supt|Cllr|Councillor)\b\.?\s+(?:\d{1,6}\s+)?"
    rf"(?P<name>(?:[A-Z]\.?\s+){{0,3}}{_NAMEWORD}(?:\s+{_NAMEWORD}){{0,2}})"
)
_CUES_CI = (
    r"named|called|known\s+as|aka|a\.k\.a\.?|name\s+(?:is|was)|name\s*[:\-]|victim|suspect|offender|"
    r"complainant|witness|informant|caller|aggrieved|injured\s+party|reporting\s+person|perpetrator|"
    r"son|daughter|wife|husband|ex-partner|ex-boyfriend|ex-girlfriend|ex-husband|ex-wife|partner|"
    r"boyfriend|girlfriend|neighbour|neighbor|brother|sister|mother|father|mum|mom|dad|stepdad|"
    r"stepfather|stepmother|stepson|stepdaughter|uncle|aunt|auntie|cousin|nephew|niece|grandson|"
    r"granddaughter|grandmother|grandfather|nan|friend|tenant|landlord|landlady|carer"
)
_CUE_RE = re.compile(
    rf"(?P<cue>\b(?i:{_CUES_CI})\b|\b(?:IP|RP|V1|V2|S1|S2)\b)\s*[:,\-]?\s+"
    rf"(?P<name>{_NAMEWORD}(?:\s+{_NAMEWORD}){{0,2}})"
)


_STREET_OR_BUILDING = STREET_SUFFIXES | BUILDING_WORDS | {
    "hospital", "school", "academy", "college", "university", "station", "surgery", "practice",
    "church", "centre", "center", "stadium", "park", "primary", "infant", "junior", "memorial",
    "arms", "inn", "hotel", "tavern", "library", "museum", "theatre", "cinema", "airport", "bridge",
    "line", "coach", "ward", "clinic", "fc", "nursery", "garden", "gardens", "estate",
}
_FORENAME_RE = re.compile(
    r"\b(?P<first>[A-Z][a-z]+)(?![A-Za-z0-9_-]|['’][A-Za-z]{2})"
    rf"(?P<rest>(?:\s+{_NAMEWORD}){{0,2}})"
)
# Police notation for surnames: "Kerry SINGH", "SINGH, Kerry".
_CAPS_SURNAME_RE = re.compile(
    r"\b(?P<first>[A-Z][a-z]+(?:-[A-Z][a-z]+)?)\s+"
    r"(?P<sur>(?:MC|MAC|O['’])?[A-Z]{3,}(?:[-'’][A-Z]{2,})?)(?![A-Za-z0-9_])"
)
_ALLCAPS_NAME_RE = re.compile(
    r"\b(?P<first>[A-Z]{3,})\s+(?P<sur>(?:MC|MAC|O['’])?[A-Z]{3,}(?:[-'’][A-Z]{2,})?)(?![A-Za-z0-9_])"
)
_ROMAN_RE = re.compile(r"^[IVXLC]+$")
_SURNAME_FIRST_RE = re.compile(
    r"\b(?P<sur>(?:MC|MAC|O['’])?[A-Z]{3,}(?:[-'’][A-Z]{2,})?),\s*"
    r"(?P<first>[A-Z][a-z]+(?:-[A-Z][a-z]+)?)(?![A-Za-z0-9_])"
)

_FOLLOWING_WORD_RE = re.compile(r"\s*([A-Za-z][\w'’-]*)")
_PRECEDING_WORD_RE = re.compile(r"([A-Za-z][\w.'’-]*)\s*$")


# --------------------------------------------------------------------------------------------
# The work area: matches are sealed behind one private-use character each, so later passes cannot
# see inside them, and restored at the end.


class _Work:
    def __init__(self, text: str) -> None:
        self.text = text
        self.sealed: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        used = set(text)
        self._codes = (chr(c) for c in range(0xF0000, 0x10FFFE) if chr(c) not in used)

    def seal(self, replacement: str) -> str:
        key = next(self._codes)
        self.sealed[key] = replacement
        return key

    def sub(self, pattern: re.Pattern[str], kind: str | None, fn: Callable[[re.Match[str]], str | None]) -> None:
        def repl(match: re.Match[str]) -> str:
            out = fn(match)
            if out is None:
                return match.group(0)
            if kind is not None:
                self.counts[kind] = self.counts.get(kind, 0) + 1
            return self.seal(out)

        self.text = pattern.sub(repl, self.text)

    def result(self) -> str:
        """The text with every sealed replacement restored (replacements may nest)."""
        text = self.text
        while self.sealed and any(ch in self.sealed for ch in text):
            text = "".join(self.sealed.get(ch, ch) for ch in text)
        return text


# --------------------------------------------------------------------------------------------
# Callbacks


def _phone(match: re.Match[str]) -> str | None:
    if match.group("intl"):
        national = re.sub(r"\D", "", match.group("intl"))
    elif match.group("area"):
        national = re.sub(r"\D", "", match.group("area") + match.group("local"))[1:]
    else:
        national = re.sub(r"\D", "", match.group("nat"))[1:]
    first = national[:1]
    if first == "7" and len(national) == 10:
        return TOKENS["phone"]
    if first == "1" and len(national) in (9, 10):
        return TOKENS["phone"]
    if first in ("2", "3") and len(national) == 10:
        return TOKENS["phone"]
    return None


def _postcode(match: re.Match[str]) -> str | None:
    try:
        return postcode_sector(normalise_postcode(match.group(0)))
    except InvalidPostcode:
        return None


_THE_SUFFIXES = frozenset("green parade mews crescent square grove avenue drive close broadway".split())


def _house(match: re.Match[str]) -> str | None:
    street = match.group("street")
    words = street.split()
    suffix = words[-1].rstrip(".")
    names = words[:-1]
    if suffix.lower() not in STREET_SUFFIXES:
        return None
    if suffix[0].isupper() and all(w[0].isupper() for w in names):
        if names[0].lower() in wordlists.STREET_STOP and names[0] != "The":
            return None
        if len(names) == 1 and names[0] == "The" and suffix.lower() not in _THE_SUFFIXES:
            return None  # "5 The Green" is a street; "5 The Way" is not
        return street
    if street == street.lower() and suffix in _LOWER_OK_SUFFIXES:
        if any(w.lower().strip(".") in wordlists.STREET_STOP for w in names):
            return None
        return street
    return None


def _flat(match: re.Match[str]) -> str | None:
    return match.group("word")


def _is_brand(text: str) -> bool:
    low = re.sub(r"\s+", " ", text).lower()
    return any(low.startswith(b) for b in wordlists.BRANDS)


def _next_word(text: str, pos: int) -> str:
    m = _FOLLOWING_WORD_RE.match(text, pos)
    return m.group(1) if m else ""


# Bounded: only the first few words after a name decide, and an unbounded run would make every
# name candidate read to the end of a long capitalised text (quadratic time).
_CAPITALISED_RUN_RE = re.compile(r"(?:\s+(?:[A-Z][\w'’-]*|of|and|the|de|upon|on)){1,12}")
_POSSESSIVE_RE = re.compile(r"['’]s\b")


def _place_follows(text: str, pos: int) -> bool:
    """True if the capitalised words right after ``pos`` name a place or an institution ("Road",
    "Sixth Form College", "Memorial Hall"): then the name before them is part of that name."""
    run = _CAPITALISED_RUN_RE.match(text, pos)
    if not run:
        return False
    words = [w for w in run.group(0).split() if w[0].isupper()][:4]
    return any(_is_street_word(w) for w in words)


def _prev_word(text: str, pos: int) -> str:
    m = _PRECEDING_WORD_RE.search(text, max(0, pos - 60), pos)
    return m.group(1) if m else ""


def _is_street_word(word: str) -> bool:
    return word.lower().rstrip(".,") in _STREET_OR_BUILDING


def _is_acronym(word: str) -> bool:
    return word.isupper() and (word in wordlists.NAME_STOP or word in wordlists.ACRONYMS or len(word) < 3)


def _accept_words(words: list[str], strong: bool) -> list[str]:
    """The leading words that can be part of a name. ``strong`` (after a title, a cue or a listed
    first name) lets through surnames that are also ordinary words ("White", "Hall", "Green")."""
    kept: list[str] = []
    for w in words:
        bare = w.rstrip(".")
        colliding = strong and bare.title() in wordlists.SURNAME_COLLISIONS
        if not colliding and (bare in wordlists.NAME_STOP or bare.title() in wordlists.NAME_STOP
                              or _is_street_word(bare)):
            break
        if bare.isupper() and _is_acronym(bare) and not colliding:
            break
        kept.append(w)
    return kept


def _replace_name(work: _Work, match: re.Match[str], group: str, words: list[str], kept: list[str]) -> str:
    """Text of the match with the name words replaced by [NAME]; words cut after the name stay."""
    text = match.string
    head = text[match.start() : match.start(group)]
    tail_words = words[len(kept) :]
    tail = (" " + " ".join(tail_words)) if tail_words else ""
    return head + work.seal(TOKENS["name"]) + tail


def _make_title_cb(work: _Work) -> Callable[[re.Match[str]], str | None]:
    def cb(match: re.Match[str]) -> str | None:
        text = match.string
        if _is_brand(text[match.start() : match.start() + 40]):
            return None
        if match.group("title") in ("Dr", "DR"):
            prev = _prev_word(text, match.start())
            if prev and prev[0].isupper() and not prev.endswith("."):
                return None  # "Acacia Dr Leamington": Drive, not Doctor
        parts = match.group("name").split()
        initials = [p for p in parts if re.fullmatch(r"[A-Z]\.?", p)]
        words = parts[len(initials) :]
        if _place_follows(text, match.end()):
            return None  # "Dr Green Lane"
        if len(words) >= 2 and _is_street_word(words[-1]) and words[0] not in wordlists.FORENAMES:
            return None  # "Mr Acacia Avenue" (what "Mr 12 Acacia Avenue" becomes), "Mr Green Lane"
        kept = _accept_words(words, strong=True)
        if not kept:
            return None
        return _replace_name(work, match, "name", words, kept)

    return cb


def _make_cue_cb(work: _Work) -> Callable[[re.Match[str]], str | None]:
    def cb(match: re.Match[str]) -> str | None:
        text = match.string
        words = match.group("name").split()
        if _is_brand(match.group("name")) or _place_follows(text, match.end()):
            return None
        if _is_street_word(words[0]) or words[0] in wordlists.NAME_STOP or words[0] in wordlists.NOT_FIRST_NAMES:
            return None  # "witness Park", "victim Support"
        if (
            len(words) >= 2
            and _is_street_word(words[-1])
            and words[0].title() not in wordlists.FORENAMES
            and words[-1].title() not in wordlists.SURNAME_COLLISIONS
        ):
            return None  # "caller Mill Lane" is a place
        kept = _accept_words(words, strong=words[0].title() in wordlists.FORENAMES or len(words) == 1)
        if kept and kept[0].isupper():
            # Upper-case text ("SUSPECT KYLE NOWAK ASSAULTED"): only a listed first name, and at
            # most one surname word that does not look like a verb. An upper-case word alone after
            # a cue is an acronym more often than not.
            if kept[0].title() not in wordlists.FORENAMES:
                return None
            kept = kept[:2]
            if len(kept) == 2 and (
                re.search(r"(?:ED|ING|S)$", kept[1]) and kept[1].title() not in wordlists.SURNAME_COLLISIONS
                or kept[1].lower() in wordlists.REPORTING_VERBS
            ):
                kept = kept[:1]
        if not kept:
            return None
        return _replace_name(work, match, "name", words, kept)

    return cb


def _make_forename_cb(work: _Work) -> Callable[[re.Match[str]], str | None]:
    def cb(match: re.Match[str]) -> str | None:
        first = match.group("first")
        if first not in wordlists.FORENAMES:
            return None
        text = match.string
        if _prev_word(text, match.start()).lower() in wordlists.PLACE_PREFIX:
            return None  # "St John", "King Charles", "Queen Victoria"
        if _is_brand(text[match.start() : match.start() + 40]):
            return None
        rest_words = match.group("rest").split()
        if _place_follows(text, match.end()) or any(
            _is_street_word(w) and w.title() not in wordlists.SURNAME_COLLISIONS_UNCUED for w in rest_words
        ):
            return None  # "Victoria Road", "John Radcliffe Hospital", "Rose Cottage"
        kept = _accept_words(rest_words, strong=True)
        if kept:
            tail_words = rest_words[len(kept) :]
            tail = (" " + " ".join(tail_words)) if tail_words else ""
            return work.seal(TOKENS["name"]) + tail
        if _is_street_word(_next_word(text, match.start("rest"))):
            return None
        # A listed first name on its own: only with a possessive or a reporting verb after it.
        nxt = _next_word(text, match.start("rest"))
        if _POSSESSIVE_RE.match(text, match.start("rest")) or (nxt in wordlists.REPORTING_VERBS):
            return work.seal(TOKENS["name"]) + match.group("rest")
        return None

    return cb


def _make_caps_cb(work: _Work) -> Callable[[re.Match[str]], str | None]:
    """Police notation: "Kerry SINGH" and "SINGH, Kerry", in mixed-case text."""

    def cb(match: re.Match[str]) -> str | None:
        text = match.string
        first, sur = match.group("first"), match.group("sur")
        if _ROMAN_RE.match(sur) or _prev_word(text, match.start()).lower() in wordlists.PLACE_PREFIX:
            return None  # "Henry VIII", "King Henry VIII School"
        if _place_follows(text, match.end()):
            return None
        colliding = sur.title() in wordlists.SURNAME_COLLISIONS
        if not colliding and (_is_acronym(sur) or _is_street_word(sur) or sur in wordlists.NAME_STOP):
            return None
        if first.isupper():
            if first.title() not in wordlists.FORENAMES:
                return None  # "KYLE NOWAK" only with a listed first name
        elif first in wordlists.NAME_STOP or _is_street_word(first) or first in wordlists.NOT_FIRST_NAMES:
            return None
        elif first not in wordlists.FORENAMES and len(sur.strip("'’-")) < 4 and not colliding:
            return None  # "Northshire YOT", "Monthly IOM": three capitals are an acronym here
        if _is_brand(f"{first} {sur}") or _is_brand(f"{sur} {first}"):
            return None
        # Shouting: the words around are upper case too, so "SMITH" is not a notation.
        before, after = _prev_word(text, match.start()), _next_word(text, match.end())
        if (len(before) > 1 and before.isupper()) or (len(after) > 1 and after.isupper()):
            return None
        return TOKENS["name"]

    return cb


def _unchanged(match: re.Match[str]) -> str:
    return match.group(0)


# --------------------------------------------------------------------------------------------


def _one_pass(text: str) -> tuple[str, dict[str, int]]:
    work = _Work(text)
    work.sub(_EMAIL_RE, "email", lambda m: TOKENS["email"])
    work.sub(_NHS_RE, "nhs_number", lambda m: TOKENS["nhs_number"] if nhs_number_is_valid(m.group(0)) else None)
    work.sub(_NI_RE, "ni_number", lambda m: TOKENS["ni_number"])
    work.sub(_PHONE_RE, "phone", _phone)
    work.sub(POSTCODE_IN_TEXT_RE, "postcode", _postcode)
    work.sub(_SECTOR_RE, None, _unchanged)  # sealed, so "CV32 4 Acacia Avenue" keeps its 4
    work.sub(_FLAT_RE, "house_number", _flat)
    work.sub(_HOUSE_RE, "house_number", _house)
    work.sub(_TITLE_RE, "name", _make_title_cb(work))
    work.sub(_CUE_RE, "name", _make_cue_cb(work))
    work.sub(_SURNAME_FIRST_RE, "name", _make_caps_cb(work))
    work.sub(_FORENAME_RE, "name", _make_forename_cb(work))
    work.sub(_CAPS_SURNAME_RE, "name", _make_caps_cb(work))
    work.sub(_ALLCAPS_NAME_RE, "name", _make_caps_cb(work))
    return work.result(), work.counts


def scrub(text: str) -> Scrubbed:
    """Replace direct identifiers in free text; see the module docstring for what is caught."""
    current = text or ""
    totals: dict[str, int] = {}
    for _ in range(12):
        new, counts = _one_pass(current)
        for kind, n in counts.items():
            totals[kind] = totals.get(kind, 0) + n
        if new == current:
            break
        current = new
    ordered = {k: totals[k] for k in KINDS if totals.get(k)}
    return Scrubbed(text=current, redactions=types.MappingProxyType(ordered))
