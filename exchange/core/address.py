"""Address strings: remove premises identifiers (Home Office guidance, Appendix 1). Pure, no I/O.

An address string loses the house number, the house name and the flat/apartment/unit/room/
maisonette number; street, locality and town stay. Any postcode (or postcode sector) inside the
string is removed as well: the postcode travels in its own field and is replaced there by a
qualifying one.

How ``strip_address`` reads an address (all heuristics, chosen to over-remove rather than leak):

1. Postcodes, postcode sectors, PO boxes and premises descriptors ("Flat 3", "Apartment 2B",
   "Unit 4", "Room 5", "1st Floor Flat", "Basement Flat", "Block C", "No. 12") are removed, then
   every token that looks like a premises number ("12", "12a", "12-14", "12 - 14", "12/14").
2. The comma-separated components are classified: a *street* (a word after the first ends with a
   street suffix such as Road, Street, Lane, Avenue, Close, Green, Hill...), a *building* (the last
   word is Court, House, Cottage, Farm, Lodge, Rectory, Mill, Tower, Mansions...), or *other*.
3. House names are recognised by position and form, not by a list of names: in a UK address the
   premises name comes before the thoroughfare, so everything before the street component is a
   house or building name and is dropped, whatever it says ("Meadow View", "The Laurels",
   "Dunroamin", "Ty Gwyn"); localities and the town after the street stay (a building component
   after it is dropped too). The street component is the first street component: one whose last
   word (after the first) is a thoroughfare type, a one-word thoroughfare ("Broadway"), a Welsh
   thoroughfare whose type comes first ("Heol y Bont"), or a classified road ("A46"); a component
   that carried a house number ("12 Broadway") is the street if it comes first; a court ("12 Acacia
   Court", or "Mill Court" after what sits where a house name does: "The Laurels, Mill Court")
   counts as a street only when no street with a core type (below) follows and no flat descriptor
   precedes it (otherwise Court is a block name: "Flat 3, Mill Court", "Riverside Court, Mill
   Lane"). "X Town Centre" and "X City Centre" are localities, not premises.
   Thoroughfare types that may also end a house name or a locality (View, Bank, End, Hill, Green,
   Orchard...) are weak: such a component directly followed by a street with a core type (Road,
   Street, Lane, Avenue, Close, Drive, Way, Place, Approach, Broadway...) or by a court is a house
   name ("Meadow View, Station Approach", "Holly Bank, Mill Court"). With no street at all,
   building components and the first remaining component (which sits where a house name would)
   are dropped.
4. Inside the street component, a house name written without a comma ("Rose Cottage Church Lane",
   "The Old Rectory Church Lane", "Meadow View Acacia Avenue", "The Laurels Acacia Avenue") is
   dropped when it ends with a building word, ends with a street-like word before a core suffix,
   or starts with "The".

With ``keep_premises_name=True`` (premises that are not dwellings: pubs, shops, schools) nothing is
dropped as a house name: the premises name, the street and the localities stay, without numbers,
flat or unit descriptors and postcodes ("The Red Lion, 12 High Street" -> "The Red Lion, High
Street").

Not caught: a house name with no building word, no "The" and no comma in front of the street
("Greenacres Church Lane" stays whole); a house name that ends in a core suffix ("Hillside Close,
Church Lane" keeps "Hillside Close", read as the street: it may be a dependent thoroughfare).
Over-removal (the safe direction): an address with no street loses a genuine locality in first
position, and a street name of two words or more after "The X" loses its first words.
"""

from __future__ import annotations

import re
from typing import Any

from exchange.core.postcode import POSTCODE_IN_TEXT_RE

__all__ = [
    "strip_address",
    "contains_house_number",
    "STREET_SUFFIXES",
    "CORE_STREET_SUFFIXES",
    "BUILDING_WORDS",
]

# Words that end a street name (lower case, abbreviations without the dot). "St" and "Dr" only
# count after the first word, so "St Johns Road" and "Dr Smith" do not make "St"/"Dr" a suffix.
STREET_SUFFIXES: frozenset[str] = frozenset(
    """
    road rd street st lane ln avenue ave av close cl drive dr way crescent cres cresc terrace terr
    tce hill row walk grove gr square sq mews parade pde view green gardens gdns garden place pl
    rise mead meadow meadows vale wharf boulevard blvd broadway causeway chase circus croft dale
    embankment end fields field gate glade lea leys link mount passage path promenade prom quay
    ridge side spur steps wynd yard bank brow approach alley arcade common copse corner dell drove
    garth heath highway bypass loke mall nook orchard oval pavement precinct shaw strand twitten
    vennel villas walkway circle hollow park market acre acres brae gait paddock pastures reach
    ride ring sidings wold holt ley lees estate wood woods crossing hey rows grn hts
    """.split()
)

# The suffixes that only ever end a street (not a house name or a locality): used to tell
# "Meadow View, Acacia Avenue" (a house name, then the street) from "Acacia Avenue, Kings Hill".
CORE_STREET_SUFFIXES: frozenset[str] = frozenset(
    """
    road rd street st lane ln avenue ave av close cl drive dr way crescent cres cresc terrace terr
    tce grove gr place pl gardens gdns square sq mews parade pde row walk boulevard blvd approach
    broadway circus embankment promenade esplanade causeway highway bypass wynd vennel twitten loke
    """.split()
)

# Thoroughfares written as one word ("Broadway", "The Parade" has two) and Welsh thoroughfares,
# whose type comes first ("Heol y Bont", "Ffordd Las", "Stryd Fawr", "Lôn Goch").
_ONE_WORD_STREETS = frozenset("broadway promenade embankment causeway esplanade strand parade boulevard".split())
_PREFIX_STREET_TYPES = frozenset("heol ffordd stryd lon lôn rhodfa cilgant".split())

# Words that end the name of a building (a house name or a named block of flats).
BUILDING_WORDS: frozenset[str] = frozenset(
    """
    court ct house ho lodge mansions mansion tower towers heights point building buildings
    apartments flats hall chambers cottage cottages farm farmhouse barn barns rectory vicarage manor
    villa bungalow mill works centre plaza residence residences block granary stables chapel oast
    grange priory abbey castle manse coachhouse schoolhouse annexe annex studios
    """.split()
)

# Words that start a description of where, not a house name ("Land to rear of", "Outside").
_BOUNDARY_WORDS = frozenset(
    """
    of outside o/s near nr behind opposite opp at by beside adjacent to from rear front side back
    between and junction jct corner off on in
    """.split()
)

_ORDINAL = r"(?:ground|first|second|third|fourth|fifth|sixth|top|basement|lower|upper|\d+(?:st|nd|rd|th))"
_PREMISES_WORD = (
    r"(?:flat|apartment|apt|unit|room|rm|maisonette|suite|studio|bedsit|penthouse|block|plot|"
    r"shop|stall|kiosk|garage|berth|mooring|pitch|caravan|chalet)"
)
# The identifier after a premises word: a number (maybe a range or with a letter), or one letter.
_PREMISES_ID = (
    r"(?:(?:no\.?|number|#)\s*)?"
    r"(?:\d+[a-z]?(?:\s*[-/]\s*\d+[a-z]?)?\b"
    r"|(?-i:[A-Z])\b(?!['’])"
    r"|[a-z]\b(?=\s*(?:$|,|\d)))"
)
_PREMISES_RE = re.compile(
    rf"\b(?:{_ORDINAL}\s+floor\s+(?:{_PREMISES_WORD}\b\.?\s*(?:{_PREMISES_ID})?)?"
    rf"|(?:garden|basement|top|ground|lower|upper|front|rear|back|first|second|attic)\s+"
    rf"(?:flat|maisonette|apartment)\b(?:\s*{_PREMISES_ID})?"
    rf"|{_PREMISES_WORD}\b\.?\s*{_PREMISES_ID})",
    re.IGNORECASE,
)
_PREMISES_ONLY_RE = re.compile(rf"^\s*{_PREMISES_WORD}\.?\s*$", re.IGNORECASE)
_PO_BOX_RE = re.compile(
    r"\b(?:p\.?\s*o\.?|post\s+office)\s*box\s*(?:no\.?\s*)?\d*\b|\bprivate\s+bag\s*\d*\b",
    re.IGNORECASE,
)
# A postcode sector ("CV32 4") or a lone outward code followed by a sector digit.
_SECTOR_RE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\s+[0-9]\b(?![-/]\d)", re.IGNORECASE)
# "No. 12", "Number 12", "#12" and ranges "12-14", "12 - 14", "12/14", "12 and 14", "12a-12c".
_NUMBER_RANGE_RE = re.compile(
    r"(?:\b(?:no\.?|number)\s*|#\s*)?"
    r"(?<![A-Za-z0-9])[0-9]+[A-Za-z]?(?:\s*(?:-|–|—|/|&|\+|\band\b|\bto\b)\s*[0-9]+[A-Za-z]?)*"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_TOKEN_RE = re.compile(r"[A-Za-z0-9]+")
# A classified road ("A46", "M40", "B4100", "A1(M)") is a street for our purposes.
_ROAD_NUMBER_RE = re.compile(r"^[ABM][0-9]{1,4}(?:\(M\))?[,.]?$")
_PREMISES_NUMBER_TOKEN_RE = re.compile(r"^[0-9]+[A-Za-z]?$")

# Postcodes, sectors, premises numbers and ranges all hold an ASCII digit (their patterns say
# [0-9]) and removing a part never adds one: text without one skips those patterns.
_ASCII_DIGIT_RE = re.compile(r"[0-9]")

_MARK = "\x00"
# Separators left orphaned next to a removed item ("12 - 14" -> " - ", "No. 12" -> ".").
_ORPHAN_CHARS = " \t\r\n\f\v-–—/&+#.:;"


def _drop_orphans(text: str) -> str:
    """Replace each removed item (a marker) and the separators around it by one space.
    Linear: split on the marker rather than a regex that rescans runs of separators."""
    parts = text.split(_MARK)
    if len(parts) == 1:
        return text
    last = len(parts) - 1
    cleaned = []
    for i, part in enumerate(parts):
        if i > 0:
            part = part.lstrip(_ORPHAN_CHARS)
        if i < last:
            part = part.rstrip(_ORPHAN_CHARS)
        cleaned.append(part)
    return " ".join(cleaned)


_EDGE_PUNCT = " \t\r\n,.;:-–—/&+#'\"()[]{}|\\_*"


def _remove_postcodes(text: str) -> str:
    text = POSTCODE_IN_TEXT_RE.sub(_MARK, text)
    return _SECTOR_RE.sub(_MARK, text)


def contains_house_number(text: str) -> bool:
    """True if any token looks like a premises number ("12", "12a", "12-14"), ignoring postcodes.

    A token is a run of ASCII letters and digits; it is a premises number when it is digits with at
    most one letter after them. Full postcodes ("CV32 4AB") and postcode sectors ("CV32 4") are not
    counted. Ordinals ("1st"), road numbers ("A46") and words with digits inside are not counted.
    Meant for address strings: in free text, times and quantities count too.
    """
    if not _ASCII_DIGIT_RE.search(text or ""):
        return False
    cleaned = _remove_postcodes(text)
    return any(_PREMISES_NUMBER_TOKEN_RE.match(tok) for tok in _TOKEN_RE.findall(cleaned))


def _clean_text(text: str) -> str:
    """Remove postcodes, PO boxes, premises descriptors and premises numbers; tidy separators."""
    numbered = _ASCII_DIGIT_RE.search(text) is not None
    for _ in range(4):
        before = text
        if numbered:
            text = _remove_postcodes(text)
        text = _PO_BOX_RE.sub(_MARK, text)
        text = _PREMISES_RE.sub(_MARK, text)
        if numbered:
            text = _NUMBER_RANGE_RE.sub(_MARK, text)
            # Anything still shaped like a premises number (e.g. "3" left between odd separators).
            text = _TOKEN_RE.sub(
                lambda m: _MARK if _PREMISES_NUMBER_TOKEN_RE.match(m.group(0)) else m.group(0), text
            )
        text = _drop_orphans(text)
        if text == before:
            break
    return text


def _words(component: str) -> list[str]:
    return component.split()


def _norm(word: str) -> str:
    return word.lower().strip(".,'’")


def _last_strong_index(words: list[str]) -> int:
    for i in range(len(words) - 1, 0, -1):
        if _norm(words[i]) in STREET_SUFFIXES:
            return i
    return -1


def _kind(component: str) -> str:
    words = _words(component)
    if not words:
        return "empty"
    last = _norm(words[-1])
    if len(words) >= 2 and last == "centre" and _norm(words[-2]) in ("town", "city"):
        return "other"  # "Nexford Town Centre" is a locality, not a premises like a shopping centre
    if len(words) >= 2 and last in BUILDING_WORDS:
        return "court" if last in ("court", "ct") else "building"
    if len(words) == 1 and last in BUILDING_WORDS:
        return "building"
    if _last_strong_index(words) >= 1 or any(_ROAD_NUMBER_RE.match(w) for w in words):
        return "street"
    if (len(words) == 1 and last in _ONE_WORD_STREETS) or (len(words) >= 2 and _norm(words[0]) in _PREFIX_STREET_TYPES):
        return "street"
    return "other"


def _ends_in_core_suffix(component: str) -> bool:
    """The component names a thoroughfare by a type that only ends streets ("Acacia Avenue",
    "Station Approach", "Broadway", "Heol y Bont"), not by one a house name or a locality may end
    in too ("Meadow View", "Holly Bank", "Kings Hill")."""
    words = _words(component)
    if len(words) == 1 and _norm(words[0]) in _ONE_WORD_STREETS:
        return True
    if len(words) >= 2 and _norm(words[0]) in _PREFIX_STREET_TYPES:
        return True
    at = _last_strong_index(words)
    return at >= 1 and _norm(words[at]) in CORE_STREET_SUFFIXES


def _drop_inline_house_name(component: str) -> str:
    """"Rose Cottage Church Lane" -> "Church Lane"; "Land to rear of Rose Cottage Mill Lane" keeps
    the description. A house name ends in a building word, or (before a core suffix such as Road or
    Avenue) in another street-like word ("Meadow View Acacia Avenue"), that is not the word just
    before the street suffix (so "Hall Farm Lane" and "Mill Lane" stay). A leading "The X" before
    a street ("The Laurels Acacia Avenue") is a house name too."""
    words = _words(component)
    suffix_at = _last_strong_index(words)
    if suffix_at < 2:
        return component
    core = _norm(words[suffix_at]) in CORE_STREET_SUFFIXES
    for k in range(suffix_at - 2, 0, -1):
        word = _norm(words[k])
        if word in BUILDING_WORDS or (core and word in STREET_SUFFIXES):
            start = 0
            for j in range(k - 1, -1, -1):
                if _norm(words[j]) in _BOUNDARY_WORDS:
                    start = j + 1
                    break
            if start == k:  # a bare building word after a boundary: "rear of Mill Lane"
                continue
            return " ".join(words[:start] + words[k + 1 :])
    if _norm(words[0]) == "the" and suffix_at >= 3:
        return " ".join(words[suffix_at - 1 :])
    return component


def _tidy(component: str) -> str:
    component = component.replace(_MARK, " ")
    component = re.sub(r"\s+", " ", component).strip(_EDGE_PUNCT)
    # Drop a dangling connector left at either end ("and High Street", "High Street &").
    component = re.sub(r"^(?:and|&)\s+|\s+(?:and|&)$", "", component, flags=re.IGNORECASE)
    if _PREMISES_ONLY_RE.match(component):
        return ""
    return component.strip(_EDGE_PUNCT)


def strip_address(address: str, *, keep_premises_name: bool = False) -> str:
    """Return the address without house number, house name, flat/unit number or postcode.

    Components are joined with ", "; whitespace is collapsed; the result has no leading or
    trailing punctuation and is "" when nothing safe is left.

    ``keep_premises_name``: for a place that is not a dwelling (a pub, shop, school: the caller
    knows from the record's location type), keep the premises name before the street ("The Red
    Lion, 12 High Street" -> "The Red Lion, High Street"); house, flat and unit numbers and
    postcodes still go. Licensed-premises analysis of night-time violence needs the name (Home
    Office guidance 4.3.1); a house name is personal data, a pub's name is not.
    """
    text = (address or "").replace(_MARK, " ")
    text = re.sub(r"[\r\n;|]+", ",", text)
    raw_components = text.split(",")

    comps: list[dict[str, Any]] = []
    premises_seen = False
    for raw in raw_components:
        had_premises = bool(_PREMISES_RE.search(raw)) or bool(_PREMISES_ONLY_RE.match(raw))
        had_number = contains_house_number(_PREMISES_RE.sub(_MARK, raw))
        cleaned = _tidy(_clean_text(raw))
        if not cleaned:
            premises_seen = premises_seen or had_premises
            continue
        comps.append(
            {
                "text": cleaned,
                "kind": _kind(cleaned),
                "had_number": had_number,
                "premises_before": premises_seen or had_premises,
            }
        )
        premises_seen = premises_seen or had_premises

    street_at = -1
    for i, comp in enumerate(comps):
        # A court is a block on a street only if a street named by a core type follows ("Riverside
        # Court, Mill Lane"); "Kings Hill" after it is a locality ("Mill Court, Kings Hill").
        later_street = any(c["kind"] == "street" and _ends_in_core_suffix(c["text"]) for c in comps[i + 1 :])
        kind = comp["kind"]
        if kind == "street":
            following = comps[i + 1] if i + 1 < len(comps) else None
            if (
                not comp["had_number"]
                and not _ends_in_core_suffix(comp["text"])
                and following is not None
                and (
                    (following["kind"] == "street" and _ends_in_core_suffix(following["text"]))
                    or following["kind"] == "court"
                )
            ):
                # "Meadow View, Acacia Avenue" or "Meadow View, Victoria Court": a house name that
                # looks like a street, since house names come before the street in UK addresses.
                continue
            street_at = i
            break
        if kind == "court":
            # A court is the street when it carries the number ("12 Acacia Court"), or when it
            # follows what sits where a house name does ("The Laurels, Mill Court"); never after a
            # flat or unit descriptor ("Flat 3, Mill Court": there it names the block), and not
            # when a street follows.
            if (comp["had_number"] or i > 0) and not later_street and not comp["premises_before"]:
                street_at = i
                break
            continue
        if kind == "building":
            continue
        if comp["had_number"]:
            street_at = i
            break

    if keep_premises_name:
        kept = [c["text"] for c in comps]  # the name of the premises, the street, what follows
    elif street_at >= 0:
        kept = [_drop_inline_house_name(comps[street_at]["text"])]
        kept += [c["text"] for c in comps[street_at + 1 :] if c["kind"] not in ("building",)]
    else:
        rest = [c for c in comps if c["kind"] not in ("building", "court")]
        # The first remaining component sits where a house name would; drop it if more follow.
        kept = [c["text"] for c in (rest[1:] if len(rest) >= 2 else rest)]

    out = [_tidy(_clean_text(k)) for k in kept]
    out = [k for k in out if k]
    result = ", ".join(out)
    # Self-check: removing parts can never expose a number, but make sure of it, and fail closed.
    for _ in range(3):
        if not _exposes_a_number(result):
            return result
        result = ", ".join(p for p in (_tidy(_clean_text(c)) for c in result.split(",")) if p)
    return "" if _exposes_a_number(result) else result


def _exposes_a_number(text: str) -> bool:
    return _ASCII_DIGIT_RE.search(text) is not None and (contains_house_number(text)
                                                        or POSTCODE_IN_TEXT_RE.search(text) is not None)
