"""What a name looks like on the page, for the scrubber's name rules (exchange.core._redact_names):
the letters names are written in, the shapes of name words, the titles and ranks and the cue words
that come before a name, and one compiled candidate pattern per rule.

These patterns find candidates only: each is generous, and the rule with the same name in
_redact_names decides, with the word tests in _redact_name_checks, whether a candidate is a name.

Letters: Latin-1 and Latin Extended-A/B ("Zoë", "Łukasz", "Şahin", "Siân"); surname shapes
"O'Brien", "McDonald", "MacLeod", "Smith-Jones", upper case "O'NEILL", "LLOYD-WILLIAMS", with up to
two particles before ("da Silva", "van der Berg", "al-Rashid", "ap Rhys").

Limits: names in other scripts (Cyrillic, Arabic, Chinese...: "victim Андрей Иванов" stays) or
with letters beyond Latin Extended-B are not candidates at all; a candidate is at most three name
words after its cue or title (initials aside), so the rest of a longer name stays ("victim Ana
Maria Lopez Garcia" -> "victim [NAME] Garcia"); cue words are English only.
"""

from __future__ import annotations

import re

# Letters of names in many languages: Latin-1 and Latin Extended-A/B ("Zoë", "Łukasz", "Şahin").
UP = "A-ZÀ-ÖØ-Þ" + "".join(ch for ch in map(chr, range(0x100, 0x250)) if ch.isupper())
_LO = "a-zß-öø-ÿ" + "".join(ch for ch in map(chr, range(0x100, 0x250)) if ch.islower())
_LETTER = "A-Za-zÀ-ÖØ-öø-ɏ"
_END = rf"(?![{_LETTER}0-9_])"
_START = rf"(?<![{_LETTER}0-9_'’-])"
# Written to start with a character class, so the regex engine skips quickly to candidates:
# "Smith", "McDonald", "MacLeod", "O'Neill", "Smith-Jones"; "SMITH", "O'NEILL", "LLOYD-WILLIAMS".
_TITLEWORD = rf"[{UP}](?:(?<=M)a?c(?=[{UP}])[{UP}]|['’][{UP}])?[{_LO}]+(?:[-'’][{_LETTER}][{_LO}]+)*"
_CAPSWORD = rf"[{UP}](?:['’][{UP}])?[{UP}]+(?:[-'’][{UP}]{{2,}})*"
_NAMEWORD = rf"(?:{_TITLEWORD}|{_CAPSWORD}){_END}"
_PARTICLE = (
    r"(?:van|von|der|den|de|del|della|di|da|dos|das|du|la|le|al|el|bin|binti|ibn|ap|ní|nic|ó"
    r"|VAN|VON|DER|DEN|DE|DEL|DI|DA|DOS|DAS|DU|LA|LE|AL|EL|BIN|IBN|AP|NÍ|Ó)"
)
_PARTICLES = rf"(?:{_PARTICLE}(?: +|-)){{0,2}}"
_CAPS_SUR_EARLY = rf"(?:{_PARTICLE}\s+){{0,2}}(?:MC|MAC|[{UP}]['’])?[{UP}]{{2,}}(?:[-'’][{UP}]{{2,}})*"
_NAMESEQ = rf"{_PARTICLES}{_NAMEWORD}(?:\s+{_PARTICLES}{_NAMEWORD}){{0,2}}"
_INITIALS = rf"(?:[{UP}]\.\s*|[{UP}]\s+)"
_LOWWORD = rf"[{_LO}]+(?:['’-][{_LO}]+)*"
_LOWSEQ = rf"{_LOWWORD}(?: +{_LOWWORD}){{0,2}}"

_TITLES = (
    r"Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Rev|Revd|Sir|Dame|Mstr|MR|MRS|MS|MISS|MX|DR|PROF"
    r"|PC|PCSO|DC|DS|DI|DCI|DSI|DSupt|PS|Sgt|SGT|Insp|INSP|Supt|SUPT|Cllr|CLLR|Councillor"
    r"|Det\.?\s?Sgt|Det\.?\s?Con|Det\.?\s?Insp|Ch\.?\s?Insp|Sergeant|Inspector|Constable|SERGEANT|INSPECTOR|CONSTABLE"
)
TITLE_RE = re.compile(
    rf"(?P<title>{_TITLES})(?![{_LETTER}])(?:\.?\s+(?P<collar>\d{{1,6}}\s+)?|(?P<collar2>\d{{1,6}})\s+)"
    rf"(?P<name>{_INITIALS}{{0,3}}{_NAMESEQ})"
)
LOWER_TITLE_RE = re.compile(rf"(?P<title>mr|mrs|ms|miss)\.?\s+(?P<name>{_LOWSEQ}){_END}")

# Cues: a name follows. Strong cues say so ("named", "known as"); relations and roles ("victim",
# "her partner", "patient") usually do; verbs ("arrested", "spoke to") need two name words.
_STRONG_CUES = (
    r"named(?:\s+as)?|called|known\s+as|aka|a\.k\.a\.?|name\s+(?:is|was)|name\s*[:\-]|names?\s+given\s+as"
    r"|gave\s+(?:his|her|their)\s+name\s+as|identified\s+as|calling\s+(?:himself|herself|themselves)"
    r"|introduced\s+(?:himself|herself|themselves)\s+as|goes\s+by"
)
_RELATION_CUES = (
    r"victim|suspect|offender|complainant|witness|informant|caller|aggrieved|injured\s+party|reporting\s+person"
    r"|perpetrator|son|daughter|wife|husband|ex-partner|ex-boyfriend|ex-girlfriend|ex-husband|ex-wife|partner"
    r"|boyfriend|girlfriend|neighbour|neighbor|brother|sister|mother|father|mum|mom|dad|stepdad|stepfather"
    r"|stepmother|stepson|stepdaughter|uncle|aunt|auntie|cousin|nephew|niece|grandson|granddaughter"
    r"|grandmother|grandfather|nan|friend|tenant|landlord|landlady|carer|patient|pt|casualty|occupant|occupier"
    r"|resident|householder|homeowner|driver|passenger|pedestrian|cyclist|rider|next\s+of\s+kin|nok|deceased"
)
_VERB_CUES = (
    r"arrested|detained|interviewed|charged|cautioned|spoke\s+to|spoken\s+to|visited|statement\s+(?:taken\s+)?from"
)
_ALL_CUES = f"{_STRONG_CUES}|{_RELATION_CUES}|{_VERB_CUES}"
STRONG_CUE_FULL_RE = re.compile(rf"(?i:{_STRONG_CUES})")
VERB_CUE_FULL_RE = re.compile(rf"(?i:{_VERB_CUES})")
# The first word of every cue, to find where a cue may start without running the cue patterns
# over the whole text.
_CUE_FIRST_WORDS = frozenset(
    w.lower()
    for alt in re.split(r"\|", re.sub(r"\(\?:[^)]*\)\??|\\s[*+]|\[[^]]*\]|\?", " ", _ALL_CUES))
    for w in alt.split()[:1]
) | {"ip", "rp", "v1", "v2", "s1", "s2", "a.k.a", "a.k.a."}
_WORD_START_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9.\-]*")


def cue_starts(text: str) -> list[int]:
    """Where a cue may start: the start of every word that is the first word of a cue."""
    return [m.start() for m in _WORD_START_RE.finditer(text)
            if m.group(0).lower().rstrip(".") in _CUE_FIRST_WORDS or m.group(0).lower() in _CUE_FIRST_WORDS]


CUE_RE = re.compile(
    rf"(?P<cue>{_START}(?i:{_ALL_CUES})(?!\w)|\b(?:IP|RP|V1|V2|S1|S2)\b)\s*[:,\-]?\s+"
    rf"(?P<name>{_INITIALS}{{0,3}}{_NAMESEQ})"
)
# Upper-case text: "NAMED AS ADEYEMI-COLE, AGNIESZKA".
CUE_CAPS_COMMA_RE = re.compile(
    rf"(?P<cue>\b(?i:{_ALL_CUES})(?!\w))\s*[:\-]?\s+(?P<name>{_CAPS_SUR_EARLY},\s*{_CAPSWORD}(?:\s+{_CAPSWORD})?){_END}"
)
CUE_LOWER_RE = re.compile(rf"(?P<cue>\b(?i:{_ALL_CUES})(?!\w))\s*[:,\-]?\s+(?P<name>{_LOWSEQ}){_END}")

# An initial and a surname with no title: "J. Smith", "J.P. Smith", "J Smith".
INITIAL_RE = re.compile(
    rf"(?P<init>(?:[{UP}]\.\s*){{1,3}}|[{UP}] +)(?P<name>{_PARTICLES}{_NAMEWORD})"
)

FORENAME_RE = re.compile(
    rf"(?P<first>[{UP}][{_LO}]+(?:-[{UP}][{_LO}]+)?)(?![{_LETTER}0-9_-]|['’][{_LETTER}]{{2}})"
    rf"(?P<rest>(?:\s+{_PARTICLES}{_NAMEWORD}){{0,2}})"
)
# Police notation for surnames: "Kerry SINGH", "Ana Maria POPESCU", "SINGH, Kerry", "DA SILVA, Ana".
_CAPS_SUR = rf"(?:{_PARTICLE}\s+){{0,2}}(?:MC|MAC|[{UP}]['’])?[{UP}]{{3,}}(?:[-'’][{UP}]{{2,}})*"
CAPS_SURNAME_RE = re.compile(
    rf"(?P<first>{_TITLEWORD}(?:\s+{_TITLEWORD})?)\s+(?P<sur>{_CAPS_SUR}){_END}"
)
ALLCAPS_NAME_RE = re.compile(
    r"(?P<first>[A-Z]{3,})\s+(?P<sur>(?:MC|MAC|O['’])?[A-Z]{3,}(?:[-'’][A-Z]{2,})?)(?![A-Za-z0-9_])"
)
SURNAME_FIRST_RE = re.compile(
    rf"(?P<sur>{_CAPS_SUR}),\s*(?P<first>{_TITLEWORD}(?:\s+{_TITLEWORD})?){_END}"
)
# A first name and surname with no cue, before a verb only people do, or next to a name already
# found: "Tendai Moyo stated", "[NAME] and Tendai Moyo".
_PERSON_VERBS = (
    r"said|says|stated|states|told|admitted|admits|denied|denies|alleged|alleges|claimed|claims"
    r"|reported\s+that|reports\s+that|was\s+(?:seen|arrested|assaulted|punched|stabbed|detained|interviewed|charged"
    r"|spoken\s+to|threatened|injured)|has\s+been\s+(?:seen|arrested|charged|detained|interviewed)"
    r"|and\s+(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+)?\[NAME\]"
)
PERSON_VERB_RE = re.compile(
    rf"(?P<name>{_TITLEWORD}\s+{_PARTICLES}{_TITLEWORD}){_END}(?=\s+(?:{_PERSON_VERBS})(?!\w))"
)
AND_NAME_RE = re.compile(
    rf"\[NAME\]\s+(?:and|&)\s+(?P<name>{_TITLEWORD}\s+{_PARTICLES}{_TITLEWORD}){_END}"
)
