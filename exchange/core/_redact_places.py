"""House numbers and flat numbers inside free text, for the scrubber (exchange.core.redact). Whole
address fields are exchange.core.address's business; this is an address written into a sentence.

What is caught (kind ``house_number``; the replacement is the street or the premises word without
the number):

- A premises number (digits, a letter suffix, ranges "12-14", "12 - 14", "12/14", "10 and 12",
  "No. 12", "No.12", "number 12") followed by one to three street-name words ending in a street
  suffix (Road, Rd, Street, St, Lane, Avenue, Close, Drive, Way, Green, Court...): "12a High St"
  -> "High St". Title Case and UPPER CASE street names with any suffix; lower-case street names
  with an unambiguous suffix (road, street, lane, avenue, crescent, terrace, gardens, close,
  drive, grove...) or, after a word that is not a count ("3 men walk", "2 minutes walk"), way,
  place, row, square, hill, green, walk, rise, view, court.
- "Flat 3", "Apartment 2B", "Unit 4", "Room 5", "Maisonette 2", "Flat A" -> the word without its
  number ("Flat").

What is NOT caught: house numbers without a street suffix after them ("12 Broadway", "5 The Butts",
"236 Coten End"), house names ("Rose Cottage" stays), and a street suffix more than three words
away. Nor a number before "The" and a suffix that is also an ordinary word ("5 The Way"), or
before a lower-case street name with a word of the stop list in it ("5 the green").

False positives to expect: a count before a capitalised phrase with a street word in it ("3 Park
Lane Hotels" -> "Park Lane Hotels", "3 Old Road Signs").
"""

from __future__ import annotations

import re

from exchange.core import _redact_words as wordlists
from exchange.core.address import STREET_SUFFIXES

_FREE_TEXT_SUFFIXES = sorted((STREET_SUFFIXES | {"court"}) - {
    "garden", "park", "estate", "wood", "woods", "field", "market", "ring", "top", "side", "end", "bank",
    "corner", "link", "reach", "ride", "steps", "path"}, key=len, reverse=True)
_SUFFIX_ALT = "|".join(_FREE_TEXT_SUFFIXES)
_LOWER_OK_SUFFIXES = frozenset(
    "road street lane avenue crescent terrace gardens close drive grove mews parade rd ave".split()
)
# Lower-case suffixes that are also ordinary words ("3 men walk"): only after uncommon words.
_LOWER_MAYBE_SUFFIXES = frozenset("way place row square hill green walk rise view court approach".split())
_NUMBER = r"\d{1,4}[A-Za-z]?"
HOUSE_RE = re.compile(
    r"(?<![\w/:.,£$€#-])(?<!\d\s)(?:(?:[Nn]o\.?|[Nn]umber)\s*)?"
    rf"(?P<num>{_NUMBER}(?:(?:\s*(?:-|–|/|&)\s*|\s+(?:and|to)\s+|\s+){_NUMBER})*)(?![\w/:.%£-])"
    r",?\s+"
    rf"(?P<street>(?:[A-Za-z][\w'’-]*\.?\s+){{1,3}}(?i:{_SUFFIX_ALT})\b\.?)"
)
# The words before a flat or unit number; the scrubber skips FLAT_RE for text with none of them.
PREMISES_WORDS = ("flat", "apartment", "apt", "unit", "room", "maisonette", "bedsit", "studio")
_PREMISES_WORDS = "(?:" + "|".join(PREMISES_WORDS) + ")"
FLAT_RE = re.compile(
    rf"\b(?P<word>(?i:{_PREMISES_WORDS}))\.?\s+(?:(?i:no\.?|number)\s*)?"
    rf"(?P<id>{_NUMBER}(?:\s*[-/]\s*{_NUMBER})?(?![\w/:.%£-])|[A-HJ-Z](?![\w'’]))"
)

_THE_SUFFIXES = frozenset("green parade mews crescent square grove avenue drive close broadway".split())


# Words that make "<number> <word> walk/way/row..." a count, not an address.
_NOT_STREET_NAME = wordlists.FUNCTION_WORDS | wordlists.PERSON_NOUNS | frozenset(
    "minutes minute mins hours hour days day weeks week months seconds miles mile metres yards steps times".split())


def house(match: re.Match[str]) -> str | None:
    street = match.group("street")
    words = street.split()
    suffix = words[-1].rstrip(".")
    names = words[:-1]
    if suffix.lower() not in STREET_SUFFIXES and suffix.lower() != "court":
        return None
    if suffix[0].isupper() and all(w[0].isupper() for w in names):
        if names[0].lower() in wordlists.STREET_STOP and names[0] != "The":
            return None
        if len(names) == 1 and names[0] == "The" and suffix.lower() not in _THE_SUFFIXES:
            return None  # "5 The Green" is a street; "5 The Way" is not
        return street
    if street == street.lower() and (suffix in _LOWER_OK_SUFFIXES or suffix in _LOWER_MAYBE_SUFFIXES):
        if any(w.lower().strip(".") in wordlists.STREET_STOP for w in names):
            return None
        if suffix in _LOWER_MAYBE_SUFFIXES and any(w.strip(".") in _NOT_STREET_NAME for w in names):
            return None  # "3 men walk", "2 minutes walk"
        return street
    return None


def flat(match: re.Match[str]) -> str | None:
    return match.group("word")
