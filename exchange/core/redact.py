"""Free-text scrubbing: remove direct identifiers from police, council, health and fire free text.

Pure domain code: no I/O, no logging, the input text is never stored or reported anywhere but in
the returned ``Scrubbed.text``.

``scrub(text)`` returns a ``Scrubbed`` holding the scrubbed text and a count per kind of what was
replaced. The passes run in this order, each on the text the previous ones left (a replaced item
is sealed so later passes cannot re-match or split it), and the whole set repeats until the text is
stable, so ``scrub`` is idempotent: ``scrub(scrub(x).text).text == scrub(x).text``. Every pattern
is bounded (no nested unbounded repetition) and every look around a match reads a bounded window,
so the time is linear in the text (tests/test_worst_case_records.py, bench/sanitise_worst_case.py).

What is caught (kind: replacement):

- ``email`` -> "[EMAIL]": ``local@domain.tld`` with RFC 5322 "atext" in the local part and a
  dotted domain ("jo.bloggs+asb@example.co.uk").
- ``date_of_birth`` -> "[DATE OF BIRTH]": a date right after a cue (born, born on (the), DOB,
  D.O.B., DoB, date of birth, birth date, b.; then optionally ":", "-", "is", "was", "as"),
  in the forms 12/03/1985, 12/3/85, 12-03-85, 12.03.1985, 1985-03-12, 12 March 1985, 12th Mar
  1985, 12th of March 1985, 12-Mar-85, March 12, 1985, 12031985. The cue stays ("DOB [DATE OF
  BIRTH]"). Dates without a cue are dates of events and stay ("on 12/03/2024").
- ``nhs_number`` -> "[NHS NUMBER]": ten digits, bare or grouped 3-3-4 (or 3-7) with spaces or
  dashes, whose modulus-11 check digit is right (``nhs_number_is_valid``), or any such ten digits
  within 25 characters after "NHS" ("NHS no. 943 476 5918", a mistyped check digit). Ten digits
  that fail the check with no cue go on to the phone pass, and are left alone if they are not a
  phone number either.
- ``ni_number`` -> "[NI NUMBER]": two prefix letters allowed by HMRC (first not D F I Q U V,
  second not D F I O Q U V, not BG GB NK KN TN NT ZZ) or HMRC's specimen "QQ", six digits (pairs
  or 3-3), suffix letter A-D; spaces or dashes between the groups; any letter case. After an
  "NI", "NINO" or "National Insurance" cue: any two letters, the suffix optional.
- ``phone`` -> "[PHONE]": UK numbers starting 01, 02, 03 or 07 (10 or 11 digits, 07 always 11),
  with spaces, dashes, "(01926) 123456" brackets, "+44 7700 900123", "+44 (0)121 ...", "0044 ...";
  and international numbers written with "+" and a country code (8 to 15 digits).
- ``postcode`` -> its sector: a full postcode in any case and spacing ("cv324ab") becomes the
  canonical sector ("CV32 4"). Sectors already in the text are left alone.
- ``vehicle_registration`` -> "[VEHICLE REGISTRATION]": current marks ("AB12 CDE", "AB12CDE",
  "AB 12 CDE", "ab12 cde"; the age identifier must be a real one, 02-29 or 51-79), prefix marks
  ("A123 BCD", "a123bcd") and suffix marks ("ABC 123D"), unless the letters are an English word,
  a category word or an acronym ("A46 RTC", "S18 GBH", "B2 and", "THE 12A", "ON 12 MAY"); lower
  case suffix marks and spaced lower-case current marks only near a vehicle word (car, van, reg,
  Ford, parked...); dateless marks ("1 ABC", "K1 NGS") only after "reg", "registration", "VRM",
  "VRN", "index" or "plate".
- ``house_number`` -> the street without the number: a premises number (digits, a letter suffix,
  ranges "12-14", "12 - 14", "12/14", "10 and 12", "No. 12", "No.12", "number 12") followed by
  one to three street-name words ending in a street suffix (Road, Rd, Street, St, Lane, Avenue,
  Close, Drive, Way, Green, Court...): "12a High St" -> "High St". Title Case and UPPER CASE
  street names with any suffix; lower-case street names with an unambiguous suffix (road, street,
  lane, avenue, crescent, terrace, gardens, close, drive, grove...) or, after a word that is not a
  count ("3 men walk", "2 minutes walk"), way, place, row, square, hill, green, walk, rise, view,
  court. Also "Flat 3", "Apartment 2B", "Unit 4", "Room 5", "Maisonette 2", "Flat A" -> the word
  without its number ("Flat").
- ``name`` -> "[NAME]". Letters of many languages count ("Zoë", "Łukasz", "Şahin", "Siân");
  surnames may be "O'Brien", "McDonald", "MacLeod", "Smith-Jones", "da Silva", "van der Berg",
  "al-Rashid", "ap Rhys". A name is read:
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

What is NOT caught (documented limits; the structured kinds are reliable, names are best effort):

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
- Dates of birth with no cue ("male, 12/03/1985,"), or with only the year ("born in 1990"); ages
  stay on purpose.
- Lower-case suffix registrations with no vehicle word near ("abc 123d" alone), partial
  registrations with no cue ("ending in XYZ"), and registrations whose letters happen to be an
  English word or an acronym.
- Crime and incident reference numbers, bank card and account numbers, passport and driving
  licence numbers, IP addresses, social media handles.
- E-mail addresses written out ("jo at example dot com") and phone numbers written in words or
  with dots; UK numbers starting 08 or 09; short codes; international numbers without "+".
- NHS numbers that fail the check digit with no "NHS" cue, and ten-digit strings of one repeated
  digit; an NHS number or phone number run into other digits ("5 943 476 5919").
- NI numbers without the suffix letter and with no cue, or temporary ("TN") numbers.
- House numbers without a street suffix after them ("12 Broadway", "5 The Butts", "236 Coten
  End"), house names ("Rose Cottage" stays), and a street suffix more than three words away.
- Any identifier split across lines or obfuscated with extra characters.

Measured on two labelled corpora (run ``python bench/redaction_recall.py`` for the tables): the
old one (exchange/testing/redaction_corpus.py), written alongside the scrubber, and
exchange/testing/redaction_labelled.py, written independently of these word lists, with a
held-out part that was not used to tune them; see the README for the current figures.

False positives to expect: a ten-digit reference that passes the NHS check digit (about one in
eleven random ten-digit numbers does) or follows "NHS", an 11-digit reference starting
01/02/03/07, a capitalised word after a cue word that is not a name, two uncommon lower-case words
after a cue in lower-case text, a brand or place made of a listed first name and a surname-shaped
word not in the exclusion lists, a Title Case word followed by an UPPER CASE word of four or more
letters that is not in the acronym list ("Kenilworth WARWICKSHIRE", "Northshire CAMHS" is
listed, "Area SNOW" is not) read as "First SURNAME", a capitalised pair before "said" or "stated"
that is an organisation ("Severn Trent said"), a code shaped like a registration ("AB12 CDE").
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
    "date_of_birth",
    "nhs_number",
    "ni_number",
    "phone",
    "postcode",
    "vehicle_registration",
    "house_number",
    "name",
)

TOKENS: Mapping[str, str] = types.MappingProxyType(
    {
        "email": "[EMAIL]",
        "nhs_number": "[NHS NUMBER]",
        "ni_number": "[NI NUMBER]",
        "phone": "[PHONE]",
        "date_of_birth": "[DATE OF BIRTH]",
        "vehicle_registration": "[VEHICLE REGISTRATION]",
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

# Dates of birth: a date right after a cue (born, DOB, D.O.B., date of birth, b.). Dates with no
# cue before them are the dates of events and stay.
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_YEAR = r"(?:\d{4}|['’]?\d{2})"
_DATE = (
    r"(?:\d{1,2}\s?[/.\-]\s?\d{1,2}\s?[/.\-]\s?(?:\d{4}|\d{2})"
    r"|\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?(?:\s+of)?[ \-/]+{_MONTH}\.?,?[ \-/]+{_YEAR}"
    rf"|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    r"|\d{8}|\d{6})"
)
_DOB_RE = re.compile(
    r"(?i)(?P<cue>(?<![\w.])(?:born(?:\s+on)?(?:\s+the)?|d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|birth\s*date|b\.)"
    r"(?:\s*[:\-=–]|\s+(?:is|was|given\s+as|recorded\s+as|as|of|on))?\s*\(?\s*)"
    rf"(?P<date>{_DATE})(?![\w/]|[.\-]\d)"
)

_NHS_RE = re.compile(r"(?<![\w+])(?<!\d[ -])\d{3}[ -]?\d{3}[ -]?\d{4}(?![ -]?\d)(?!\w)")
_NHS_CUE_RE = re.compile(r"(?i)\bnhs\b[^;!?\n\d]{0,25}$")

_NI_DIGITS = r"(?:\d{2}[ -]?\d{2}[ -]?\d{2}|\d{3}[ -]\d{3})"
_NI_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]|QQ)"  # QQ: HMRC's specimen
    rf"[ -]?{_NI_DIGITS}[ -]?[A-D](?![A-Za-z0-9])",
    re.IGNORECASE,
)
# After an "NI", "NINO" or "National Insurance" cue: any two letters, the suffix letter optional.
_NI_LOOSE_RE = re.compile(rf"(?<![A-Za-z0-9])[A-Z]{{2}}[ -]?{_NI_DIGITS}(?:[ -]?[A-D])?(?![A-Za-z0-9])", re.IGNORECASE)
_NI_CUE_RE = re.compile(r"(?i)\b(?:ni|nino|national\s+insurance)\b[^;!?\n\d]{0,25}$")

_PHONE_RE = re.compile(
    r"(?<![\w+])(?<!\d[ -])(?:"
    r"(?:\+|00)[ ]?44[ -]?(?:\(0\)[ -]?)?(?P<intl>[1-37](?:[ -]?\d){8,9})"
    r"|\((?P<area>0[1-37]\d{1,3})\)[ -]?(?P<local>\d(?:[ -]?\d){5,7})"
    r"|(?P<nat>0[1-37](?:[ -]?\d){8,9})"
    r"|\+(?!44)(?P<foreign>[1-9](?:[ -]?\d){7,14})"
    r")(?!\w)"
)

# A postcode sector ("CV32 4") already in the text: sealed so "4 Acacia Avenue" is not a house.
_SECTOR_RE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\s[0-9](?![\w/:.-])")

# Vehicle registration marks: current (2001-: "AB12 CDE"), prefix (1983-2001: "A123 BCD"), suffix
# (1963-83: "ABC 123D"); dateless ("1 ABC", "K1 NGS") and lower case only near a vehicle word.
_VRM_EDGE = r"(?<![\w/£$€#.:-])"
_VRM_END = r"(?![\w/-]|[.:]\d)"
_VRM_CURRENT_RE = re.compile(
    rf"{_VRM_EDGE}(?P<vrm>(?P<area>[A-Z]{{2}})(?P<sp> ?)(?P<age>\d{{2}}) ?(?P<rand>[A-Z]{{3}})"
    rf"|(?P<area_l>[a-z]{{2}})(?P<sp_l> ?)(?P<age_l>\d{{2}}) ?(?P<rand_l>[a-z]{{3}})){_VRM_END}"
)
_VRM_PREFIX_RE = re.compile(
    rf"{_VRM_EDGE}(?P<vrm>[A-HJ-NPR-TV-Y]\d{{1,3}} ?(?P<letters>[A-Z]{{3}})"
    rf"|[a-hj-npr-tv-y]\d{{1,3}} ?(?P<letters_l>[a-z]{{3}})){_VRM_END}"
)
_VRM_SUFFIX_RE = re.compile(
    rf"{_VRM_EDGE}(?P<vrm>(?P<letters>[A-Z]{{3}}) ?\d{{1,3}}[A-HJ-NPR-TV-Y]"
    rf"|(?P<letters_l>[a-z]{{3}}) ?\d{{1,3}}[a-hj-npr-tv-y]){_VRM_END}"
)
_VRM_CUED_RE = re.compile(
    r"(?i)(?P<cue>\b(?:reg(?:istration)?(?:\s+(?:no|number|mark|plate))?|vrm|vrn|index(?:\s+(?:no|number|plate))?"
    r"|(?:number\s+)?plates?)\b\.?(?:\s*[:\-]\s*|\s+(?:is\s+|was\s+|of\s+)?))"
    rf"(?P<vrm>[A-Za-z0-9]{{1,4}}(?: [A-Za-z0-9]{{1,4}})?){_VRM_END}"
)
_VEHICLE_CUE_RE = re.compile(r"(?i)(?<![\w-])(?:" + "|".join(sorted(wordlists.VEHICLE_WORDS)) + r")(?![\w-])")
_VALID_AGE_RE = re.compile(r"^(?:0[2-9]|[12]\d|5[1-9]|[67]\d)$")

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

# Letters of names in many languages: Latin-1 and Latin Extended-A/B ("Zoë", "Łukasz", "Şahin").
_UP = "A-ZÀ-ÖØ-Þ" + "".join(ch for ch in map(chr, range(0x100, 0x250)) if ch.isupper())
_LO = "a-zß-öø-ÿ" + "".join(ch for ch in map(chr, range(0x100, 0x250)) if ch.islower())
_LETTER = "A-Za-zÀ-ÖØ-öø-ɏ"
_END = rf"(?![{_LETTER}0-9_])"
_START = rf"(?<![{_LETTER}0-9_'’-])"
# Written to start with a character class, so the regex engine skips quickly to candidates:
# "Smith", "McDonald", "MacLeod", "O'Neill", "Smith-Jones"; "SMITH", "O'NEILL", "LLOYD-WILLIAMS".
_TITLEWORD = rf"[{_UP}](?:(?<=M)a?c(?=[{_UP}])[{_UP}]|['’][{_UP}])?[{_LO}]+(?:[-'’][{_LETTER}][{_LO}]+)*"
_CAPSWORD = rf"[{_UP}](?:['’][{_UP}])?[{_UP}]+(?:[-'’][{_UP}]{{2,}})*"
_NAMEWORD = rf"(?:{_TITLEWORD}|{_CAPSWORD}){_END}"
_PARTICLE = (
    r"(?:van|von|der|den|de|del|della|di|da|dos|das|du|la|le|al|el|bin|binti|ibn|ap|ní|nic|ó"
    r"|VAN|VON|DER|DEN|DE|DEL|DI|DA|DOS|DAS|DU|LA|LE|AL|EL|BIN|IBN|AP|NÍ|Ó)"
)
_PARTICLES = rf"(?:{_PARTICLE}(?: +|-)){{0,2}}"
_CAPS_SUR_EARLY = rf"(?:{_PARTICLE}\s+){{0,2}}(?:MC|MAC|[{_UP}]['’])?[{_UP}]{{2,}}(?:[-'’][{_UP}]{{2,}})*"
_NAMESEQ = rf"{_PARTICLES}{_NAMEWORD}(?:\s+{_PARTICLES}{_NAMEWORD}){{0,2}}"
_INITIALS = rf"(?:[{_UP}]\.\s*|[{_UP}]\s+)"
_LOWWORD = rf"[{_LO}]+(?:['’-][{_LO}]+)*"
_LOWSEQ = rf"{_LOWWORD}(?: +{_LOWWORD}){{0,2}}"

_TITLES = (
    r"Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Rev|Revd|Sir|Dame|Mstr|MR|MRS|MS|MISS|MX|DR|PROF"
    r"|PC|PCSO|DC|DS|DI|DCI|DSI|DSupt|PS|Sgt|SGT|Insp|INSP|Supt|SUPT|Cllr|CLLR|Councillor"
    r"|Det\.?\s?Sgt|Det\.?\s?Con|Det\.?\s?Insp|Ch\.?\s?Insp|Sergeant|Inspector|Constable|SERGEANT|INSPECTOR|CONSTABLE"
)
_TITLE_RE = re.compile(
    rf"(?P<title>{_TITLES})(?![{_LETTER}])(?:\.?\s+(?P<collar>\d{{1,6}}\s+)?|(?P<collar2>\d{{1,6}})\s+)"
    rf"(?P<name>{_INITIALS}{{0,3}}{_NAMESEQ})"
)
_LOWER_TITLE_RE = re.compile(rf"(?P<title>mr|mrs|ms|miss)\.?\s+(?P<name>{_LOWSEQ}){_END}")

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
_STRONG_CUE_FULL_RE = re.compile(rf"(?i:{_STRONG_CUES})")
_VERB_CUE_FULL_RE = re.compile(rf"(?i:{_VERB_CUES})")
# The first word of every cue, to find where a cue may start without running the cue patterns
# over the whole text.
_CUE_FIRST_WORDS = frozenset(
    w.lower()
    for alt in re.split(r"\|", re.sub(r"\(\?:[^)]*\)\??|\\s[*+]|\[[^]]*\]|\?", " ", _ALL_CUES))
    for w in alt.split()[:1]
) | {"ip", "rp", "v1", "v2", "s1", "s2", "a.k.a", "a.k.a."}
_WORD_START_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9.\-]*")


def _cue_starts(text: str) -> list[int]:
    return [m.start() for m in _WORD_START_RE.finditer(text)
            if m.group(0).lower().rstrip(".") in _CUE_FIRST_WORDS or m.group(0).lower() in _CUE_FIRST_WORDS]


_CUE_RE = re.compile(
    rf"(?P<cue>{_START}(?i:{_ALL_CUES})(?!\w)|\b(?:IP|RP|V1|V2|S1|S2)\b)\s*[:,\-]?\s+"
    rf"(?P<name>{_INITIALS}{{0,3}}{_NAMESEQ})"
)
# Upper-case text: "NAMED AS ADEYEMI-COLE, AGNIESZKA".
_CUE_CAPS_COMMA_RE = re.compile(
    rf"(?P<cue>\b(?i:{_ALL_CUES})(?!\w))\s*[:\-]?\s+(?P<name>{_CAPS_SUR_EARLY},\s*{_CAPSWORD}(?:\s+{_CAPSWORD})?){_END}"
)
_CUE_LOWER_RE = re.compile(rf"(?P<cue>\b(?i:{_ALL_CUES})(?!\w))\s*[:,\-]?\s+(?P<name>{_LOWSEQ}){_END}")

# An initial and a surname with no title: "J. Smith", "J.P. Smith", "J Smith".
_INITIAL_RE = re.compile(
    rf"(?P<init>(?:[{_UP}]\.\s*){{1,3}}|[{_UP}] +)(?P<name>{_PARTICLES}{_NAMEWORD})"
)

_STREET_OR_BUILDING = STREET_SUFFIXES | BUILDING_WORDS | {
    "hospital", "school", "academy", "college", "university", "station", "surgery", "practice",
    "church", "centre", "center", "stadium", "park", "primary", "infant", "junior", "memorial",
    "arms", "inn", "hotel", "tavern", "library", "museum", "theatre", "cinema", "airport", "bridge",
    "line", "coach", "ward", "clinic", "fc", "nursery", "garden", "gardens", "estate",
}
_FORENAME_RE = re.compile(
    rf"(?P<first>[{_UP}][{_LO}]+(?:-[{_UP}][{_LO}]+)?)(?![{_LETTER}0-9_-]|['’][{_LETTER}]{{2}})"
    rf"(?P<rest>(?:\s+{_PARTICLES}{_NAMEWORD}){{0,2}})"
)
# Police notation for surnames: "Kerry SINGH", "Ana Maria POPESCU", "SINGH, Kerry", "DA SILVA, Ana".
_CAPS_SUR = rf"(?:{_PARTICLE}\s+){{0,2}}(?:MC|MAC|[{_UP}]['’])?[{_UP}]{{3,}}(?:[-'’][{_UP}]{{2,}})*"
_CAPS_SURNAME_RE = re.compile(
    rf"(?P<first>{_TITLEWORD}(?:\s+{_TITLEWORD})?)\s+(?P<sur>{_CAPS_SUR}){_END}"
)
_ALLCAPS_NAME_RE = re.compile(
    r"(?P<first>[A-Z]{3,})\s+(?P<sur>(?:MC|MAC|O['’])?[A-Z]{3,}(?:[-'’][A-Z]{2,})?)(?![A-Za-z0-9_])"
)
_ROMAN_RE = re.compile(r"^[IVXLC]+$")
_SURNAME_FIRST_RE = re.compile(
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
_PERSON_VERB_RE = re.compile(
    rf"(?P<name>{_TITLEWORD}\s+{_PARTICLES}{_TITLEWORD}){_END}(?=\s+(?:{_PERSON_VERBS})(?!\w))"
)
_AND_NAME_RE = re.compile(
    rf"\[NAME\]\s+(?:and|&)\s+(?P<name>{_TITLEWORD}\s+{_PARTICLES}{_TITLEWORD}){_END}"
)

_FOLLOWING_WORD_RE = re.compile(r"\s*([^\W\d_][\w'’-]*)")
_PRECEDING_WORD_RE = re.compile(r"([^\W\d_][\w.'’-]*)\s*$")


# --------------------------------------------------------------------------------------------
# The work area: matches are sealed behind one private-use character each, so later passes cannot
# see inside them, and restored at the end.


# Characters that may not come right before a name (so "Kerry-Ann" is not read from "Ann").
_NOT_BEFORE_NAME = "_'’-"


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

    def scan(self, pattern: re.Pattern[str], kind: str, fn: Callable[[re.Match[str]], str | None],
             not_after: str = _NOT_BEFORE_NAME) -> None:
        """Like ``sub``, but a candidate the callback rejects does not hide the text it spanned: the
        search resumes one character after its start ("spoke to their neighbour Kerry Lloyd": the
        verb cue fails on "their", the relation cue "neighbour" is still found). Matches are
        bounded in length, so this stays linear."""
        text, out, pos, last = self.text, [], 0, 0
        while True:
            match = pattern.search(text, pos)
            if match is None:
                break
            start = match.start()
            # A match must start a word: checked here, not by a lookbehind at the start of the
            # pattern, which would stop the regex engine skipping quickly to candidates.
            replacement = None if start and (text[start - 1].isalnum() or text[start - 1] in not_after) else fn(match)
            if replacement is None:
                pos = match.start() + 1
                continue
            out.append(text[last : match.start()])
            out.append(self.seal(replacement))
            self.counts[kind] = self.counts.get(kind, 0) + 1
            pos = last = match.end()
        if out:
            out.append(text[last:])
            self.text = "".join(out)

    def scan_at(self, starts: Callable[[str], list[int]],
                rules: list[tuple[re.Pattern[str], str, Callable[[re.Match[str]], str | None]]]) -> None:
        """Try ``rules`` (pattern, kind, callback) in order, anchored at each position ``starts``
        gives (cheap to find), instead of scanning the whole text once per pattern."""
        text, out, last = self.text, [], 0
        for at in starts(text):
            if at < last:
                continue
            for pattern, kind, fn in rules:
                match = pattern.match(text, at)
                if match is None:
                    continue
                replacement = fn(match)
                if replacement is None:
                    continue
                out.append(text[last : match.start()])
                out.append(self.seal(replacement))
                self.counts[kind] = self.counts.get(kind, 0) + 1
                last = match.end()
                break
        if out:
            out.append(text[last:])
            self.text = "".join(out)

    def result(self) -> str:
        """The text with every sealed replacement restored (replacements may nest)."""
        text = self.text
        if not self.sealed:
            return text
        table = {ord(key): value for key, value in self.sealed.items()}
        while True:
            restored = text.translate(table)
            if restored == text:
                return text
            text = restored


# --------------------------------------------------------------------------------------------
# Callbacks


def _cue_before(cue: re.Pattern[str], text: str, pos: int, span: int = 40) -> bool:
    """True if ``cue`` ends within the ``span`` characters before ``pos`` (bounded: linear overall)."""
    return cue.search(text, max(0, pos - span), pos) is not None


def _nhs(match: re.Match[str]) -> str | None:
    if nhs_number_is_valid(match.group(0)) or _cue_before(_NHS_CUE_RE, match.string, match.start()):
        return TOKENS["nhs_number"]
    return None  # left for the phone pass


def _ni_loose(match: re.Match[str]) -> str | None:
    return TOKENS["ni_number"] if _cue_before(_NI_CUE_RE, match.string, match.start()) else None


def _phone(match: re.Match[str]) -> str | None:
    if match.group("foreign"):
        digits = re.sub(r"\D", "", match.group("foreign"))
        return TOKENS["phone"] if 8 <= len(digits) <= 15 else None
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


def _dob(match: re.Match[str]) -> str | None:
    return match.group("cue") + TOKENS["date_of_birth"]


def _is_word(letters: str) -> bool:
    """True if the letters of a registration candidate are a word or an acronym ("A46 RTC",
    "S18 GBH", "THE 12A"), not a registration."""
    low = letters.lower()
    return (low in wordlists.COMMON_WORDS or low in wordlists.CATEGORY_WORDS or letters.upper() in wordlists.ACRONYMS
            or letters.title() in wordlists.NAME_STOP)


def _vehicle_near(match: re.Match[str]) -> bool:
    """A vehicle word in the 60 characters before the match or the 30 after it."""
    text = match.string
    return (_cue_before(_VEHICLE_CUE_RE, text, match.start(), span=60)
            or _VEHICLE_CUE_RE.search(text, match.end(), min(len(text), match.end() + 30)) is not None)


def _vrm_current(match: re.Match[str]) -> str | None:
    upper = match.group("area") is not None
    area, age, rand = (match.group("area"), match.group("age"), match.group("rand")) if upper else (
        match.group("area_l"), match.group("age_l"), match.group("rand_l"))
    spaced = bool(match.group("sp") if upper else match.group("sp_l"))
    if not _VALID_AGE_RE.match(age) or "I" in (area + rand).upper() or "Q" in (area + rand).upper():
        return None
    if _is_word(rand) or (spaced and _is_word(area)):
        return None  # "ON 12 MAY", "at 12 the"
    if not upper and (spaced or _is_word(area)) and not _vehicle_near(match):
        return None  # "ab 12 cde" only next to a vehicle word
    return TOKENS["vehicle_registration"]


def _vrm_prefix(match: re.Match[str]) -> str | None:
    """Prefix marks ("A123 BCD", "a123 bcd"): not when the letters are a word or an acronym
    ("A46 RTC", "S18 GBH", "B2 and"). Lower case too, as presidio's pattern reads it (its
    false positives, offence codes, are the acronyms excluded here)."""
    return None if _is_word(match.group("letters") or match.group("letters_l")) else TOKENS["vehicle_registration"]


def _vrm_suffix(match: re.Match[str]) -> str | None:
    """Suffix marks ("ABC 123D"): not when the letters are a word or an acronym ("THE 12A",
    "BUS 64A"); in lower case only next to a vehicle word."""
    letters = match.group("letters") or match.group("letters_l")
    if _is_word(letters):
        return None
    if match.group("letters_l") and not _vehicle_near(match):
        return None
    return TOKENS["vehicle_registration"]


def _vrm_cued(match: re.Match[str]) -> str | None:
    """After "reg", "VRM", "index": any short mix of letters and digits ("1 ABC", "K1 NGS")."""
    vrm = match.group("vrm")
    compact = vrm.replace(" ", "")
    if not (2 <= len(compact) <= 7) or not re.search(r"[A-Za-z]", vrm) or not re.search(r"\d", vrm):
        return None
    if any(_is_word(tok) for tok in re.findall(r"[A-Za-z]+", vrm) if len(tok) > 1):
        return None
    return match.group("cue") + TOKENS["vehicle_registration"]


_THE_SUFFIXES = frozenset("green parade mews crescent square grove avenue drive close broadway".split())


# Words that make "<number> <word> walk/way/row..." a count, not an address.
_NOT_STREET_NAME = wordlists.FUNCTION_WORDS | wordlists.PERSON_NOUNS | frozenset(
    "minutes minute mins hours hour days day weeks week months seconds miles mile metres yards steps times".split())


def _house(match: re.Match[str]) -> str | None:
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


def _flat(match: re.Match[str]) -> str | None:
    return match.group("word")


_BRANDS_BY_FIRST_WORD: dict[str, tuple[str, ...]] = {}
for _brand in wordlists.BRANDS:
    _BRANDS_BY_FIRST_WORD[_brand.split(" ", 1)[0]] = _BRANDS_BY_FIRST_WORD.get(_brand.split(" ", 1)[0], ()) + (_brand,)


def _is_brand(text: str) -> bool:
    low = " ".join(text.split()).lower()
    candidates = _BRANDS_BY_FIRST_WORD.get(low.split(" ", 1)[0], ())
    return any(low.startswith(b) for b in candidates)


def _next_word(text: str, pos: int) -> str:
    m = _FOLLOWING_WORD_RE.match(text, pos)
    return m.group(1) if m else ""


# Bounded: only the first few words after a name decide, and an unbounded run would make every
# name candidate read to the end of a long capitalised text (quadratic time).
_CAPITALISED_RUN_RE = re.compile(rf"(?:\s+(?:[{_UP}][\w'’-]*|of|and|the|de|upon|on)){{1,12}}")
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


def _is_particle(word: str) -> bool:
    return word.lower() in wordlists.NAME_PARTICLES


def _is_common(word: str) -> bool:
    """An ordinary English word, not also a listed first name or a surname-word ("Wood")."""
    bare = word.strip(".,'’")
    return (bare.lower() in wordlists.COMMON_WORDS and bare.title() not in wordlists.FORENAMES
            and bare.title() not in wordlists.SURNAME_COLLISIONS)


def _accept_words(words: list[str], strong: bool) -> list[str]:
    """The leading words that can be part of a name. ``strong`` (after a title, a cue or a listed
    first name) lets through surnames that are also ordinary words ("White", "Hall", "Green").
    Particles ("da", "van der") count only inside a name."""
    kept: list[str] = []
    for w in words:
        bare = w.rstrip(".")
        if _is_particle(bare) and not bare.isupper():
            kept.append(w)
            continue
        if not bare[:1].isupper():
            break
        colliding = strong and bare.title() in wordlists.SURNAME_COLLISIONS
        if not colliding and (bare in wordlists.NAME_STOP or bare.title() in wordlists.NAME_STOP
                              or _is_street_word(bare)):
            break
        if bare.isupper() and _is_acronym(bare) and not colliding and not _is_particle(bare):
            break
        kept.append(w)
    while kept and _is_particle(kept[-1]):
        kept.pop()
    return kept


def _split_initials(name: str) -> tuple[str, list[str]]:
    """"J. P. Smith Jones" -> ("J. P. ", ["Smith", "Jones"])."""
    m = _LEADING_INITIALS_RE.match(name)
    initials = m.group(0) if m else ""
    return initials, name[len(initials) :].split()


_LEADING_INITIALS_RE = re.compile(rf"(?:[{_UP}]\.\s*|[{_UP}]\s+(?=[{_UP}]))*")


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
        title = match.group("title")
        if _is_brand(text[match.start() : match.start() + 40]):
            return None
        if title in ("Dr", "DR"):
            prev = _prev_word(text, match.start())
            if prev and prev[0].isupper() and not prev.endswith("."):
                return None  # "Acacia Dr Leamington": Drive, not Doctor
        initials, words = _split_initials(match.group("name"))
        if not words:
            return None
        if title == "PS" and not (match.group("collar") or match.group("collar2")) and _is_common(words[0]):
            return None  # "PS Please call back": a postscript
        if _place_follows(text, match.end()):
            return None  # "Dr Green Lane"
        if len(words) >= 2 and _is_street_word(words[-1]) and words[0] not in wordlists.FORENAMES:
            return None  # "Mr Acacia Avenue" (what "Mr 12 Acacia Avenue" becomes), "Mr Green Lane"
        kept = _accept_words(words, strong=True)
        if not kept:
            return None
        return _replace_name(work, match, "name", words, kept)

    return cb


def _lower_words(words: list[str], strong_first: bool) -> list[str]:
    """Leading lower-case words that can be a name: not ordinary English words, not street words.
    ``strong_first``: the first word may be a surname that is also a word ("mrs wood")."""
    kept: list[str] = []
    for i, w in enumerate(words):
        if _is_particle(w) and i > 0:
            kept.append(w)
            continue
        if w in wordlists.FUNCTION_WORDS or _is_street_word(w) or w.title() in wordlists.NAME_STOP and not (
                strong_first and i == 0 and w.title() in wordlists.SURNAME_COLLISIONS):
            break
        if _is_common(w) and not (strong_first and i == 0 and w.title() in wordlists.SURNAME_COLLISIONS):
            break
        kept.append(w)
    while kept and _is_particle(kept[-1]):
        kept.pop()
    return kept


def _make_lower_title_cb(work: _Work) -> Callable[[re.Match[str]], str | None]:
    """"mr smith", "mrs jane o'neill" in lower-case text."""

    def cb(match: re.Match[str]) -> str | None:
        words = match.group("name").split()
        kept = _lower_words(words, strong_first=True)
        if not kept:
            return None
        return _replace_name(work, match, "name", words, kept)

    return cb


def _verb_like(word: str) -> bool:
    """"REPORTS", "ASSAULTED", "SHOUTING": an upper-case word that is an English verb form."""
    low = word.lower()
    if low in wordlists.COMMON_WORDS or low in wordlists.REPORTING_VERBS:
        return word.title() not in wordlists.SURNAME_COLLISIONS
    return any(low.endswith(suf) and low[: -len(suf)] in wordlists.COMMON_WORDS
               for suf in ("s", "es", "ed", "d", "ing"))


def _caps_text_name(kept: list[str]) -> list[str]:
    """In upper-case text ("SUSPECT KYLE NOWAK ASSAULTED"): a listed first name and at most one
    surname word that does not look like a verb, or two or three words that are not ordinary
    English words ("CALLER HODAN KAUR REPORTS"). An upper-case word alone after a cue is an acronym
    more often than not."""
    if kept[0].title() in wordlists.FORENAMES:
        kept = kept[:2]
        if len(kept) == 2 and _verb_like(kept[1]):
            kept = kept[:1]
        return kept
    plain: list[str] = []
    for w in kept:
        if _is_common(w) or (_is_acronym(w) and not _is_particle(w)):
            break
        plain.append(w)
    while plain and _is_particle(plain[-1]):
        plain.pop()
    return plain if sum(not _is_particle(w) for w in plain) >= 2 else []


def _make_cue_cb(work: _Work) -> Callable[[re.Match[str]], str | None]:
    def cb(match: re.Match[str]) -> str | None:
        text = match.string
        cue = match.group("cue")
        strong_cue = _STRONG_CUE_FULL_RE.fullmatch(cue) is not None
        verb_cue = _VERB_CUE_FULL_RE.fullmatch(cue) is not None
        initials, words = _split_initials(match.group("name"))
        if not words:
            return None
        if _is_brand(" ".join(words)) or _place_follows(text, match.end()):
            return None
        first = words[0]
        if _is_particle(first) and len(words) > 1:
            first = words[1]
        if _is_street_word(first) or first in wordlists.NAME_STOP or first in wordlists.NOT_FIRST_NAMES:
            return None  # "witness Park", "victim Support"
        if (
            len(words) >= 2
            and _is_street_word(words[-1])
            and words[0].title() not in wordlists.FORENAMES
            and words[-1].title() not in wordlists.SURNAME_COLLISIONS
        ):
            return None  # "caller Mill Lane" is a place
        kept = _accept_words(words, strong=True)
        if kept and kept[0].isupper() and not _is_particle(kept[0]):
            kept = _caps_text_name(kept)
        if kept and verb_cue and not initials and len(kept) < 2 and kept[0].title() not in wordlists.FORENAMES:
            return None  # "arrested Smith"? too little to go on after a verb
        if kept and not strong_cue and not initials and len(kept) == 1 and _is_common(kept[0]):
            return None  # "victim Will"
        if not kept:
            return None
        return _replace_name(work, match, "name", words, kept)

    return cb


def _make_cue_caps_comma_cb(work: _Work) -> Callable[[re.Match[str]], str | None]:
    """"NAMED AS ADEYEMI-COLE, AGNIESZKA": surname, comma, first name, all upper case, after a cue."""

    def cb(match: re.Match[str]) -> str | None:
        surname, _, firsts = match.group("name").partition(",")
        first_words = firsts.split()
        kept: list[str] = []
        for w in first_words:
            if _is_common(w) or _verb_like(w) or _is_acronym(w) or _is_street_word(w):
                break
            kept.append(w)
        core = [w for w in surname.split() if not _is_particle(w)]
        if not kept or not core or any(_is_common(w) or _verb_like(w) or _is_acronym(w) or _is_street_word(w)
                                       for w in core):
            return None
        tail = first_words[len(kept) :]
        head = match.group(0)[: match.start("name") - match.start()]
        return head + work.seal(TOKENS["name"]) + ("" if not tail else " " + " ".join(tail))

    return cb


_PLACEHOLDER_RE = re.compile(r"\[[A-Z ]+\]")


def _lower_case_text(text: str, start: int, end: int) -> bool:
    """True if the text around a match (60 characters either side, placeholders aside) has no
    capital letter: the writer is not capitalising, so a name may well be in lower case."""
    window = _PLACEHOLDER_RE.sub("", text[max(0, start - 60) : end + 60])
    return not any(ch.isupper() for ch in window)


def _make_cue_lower_cb(work: _Work) -> Callable[[re.Match[str]], str | None]:
    """Lower-case names after a cue: one word after a strong cue ("a male called dave"), two after
    a relation or a verb ("victim jane doe"), none of them an ordinary English word."""

    def cb(match: re.Match[str]) -> str | None:
        text, cue = match.string, match.group("cue")
        strong_cue = _STRONG_CUE_FULL_RE.fullmatch(cue) is not None
        if cue.lower() in ("called", "named") and _prev_word(text, match.start()).lower() not in wordlists.PERSON_NOUNS:
            return None  # "she called mum", "Mrs White called back"; but "a male called dave"
        if not _lower_case_text(text, match.start(), match.end()) and not (
                strong_cue and cue.lower() not in ("called", "named")):
            return None  # "Victim emailed photographs": in mixed-case text, names are capitalised
        words = match.group("name").split()
        kept = _lower_words(words, strong_first=False)
        if len([w for w in kept if not _is_particle(w)]) < (1 if strong_cue else 2):
            return None
        return _replace_name(work, match, "name", words, kept)

    return cb


_NOT_BEFORE_PRONOUN = frozenset("by to from with for and or of".split())


def _make_initial_cb(work: _Work) -> Callable[[re.Match[str]], str | None]:
    """"J. Smith", "J.P. Smith", "J Smith" with no title: not after a category word ("Class A
    Drugs", "graded C. Dealing ..."), and the surname not an ordinary word or a place."""

    def cb(match: re.Match[str]) -> str | None:
        text = match.string
        init = match.group("init")
        words = match.group("name").split()
        surname = words[-1]
        prev = _prev_word(text, match.start())
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
                              or _is_street_word(surname) or _is_common(surname)
                              or surname in wordlists.NOT_FIRST_NAMES):
            return None
        if surname.isupper() and _is_acronym(surname):
            return None
        if _place_follows(text, match.end()) or _is_brand(match.group(0)):
            return None
        if _next_word(text, match.end()) in wordlists.NAME_STOP:
            return None  # "J Lock Ltd", "A Smith Motors": a business
        return work.seal(TOKENS["name"])

    return cb


def _listed_first(word: str) -> bool:
    """A listed first name, or a double-barrelled one with a listed part ("Kerry-Ann")."""
    return word in wordlists.FORENAMES or ("-" in word and any(p in wordlists.FORENAMES for p in word.split("-")))


def _make_forename_cb(work: _Work) -> Callable[[re.Match[str]], str | None]:
    def cb(match: re.Match[str]) -> str | None:
        first = match.group("first")
        if not _listed_first(first):
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


def _notation_ok(text: str, match: re.Match[str], firsts: list[str], surs: list[str]) -> bool:
    """The checks shared by "Kerry SINGH" and "SINGH, Kerry"."""
    core = [w for w in surs if not _is_particle(w)]
    if not core or any(_ROMAN_RE.match(w) for w in core):
        return False  # "Henry VIII"
    if _prev_word(text, match.start()).lower() in wordlists.PLACE_PREFIX or _place_follows(text, match.end()):
        return False  # "King Henry VIII School"
    colliding = all(w.title() in wordlists.SURNAME_COLLISIONS for w in core)
    if not colliding and any(_is_acronym(w) or _is_street_word(w) or w in wordlists.NAME_STOP for w in core):
        return False
    for f in firsts:
        if f in wordlists.NAME_STOP or _is_street_word(f) or f in wordlists.NOT_FIRST_NAMES or _is_common(f):
            return False
    if not _listed_first(firsts[0]) and len(core[-1].strip("'’-")) < 4 and not colliding:
        return False  # "Northshire YOT", "Monthly IOM": three capitals are an acronym here
    joined_first, joined_sur = " ".join(firsts), " ".join(surs)
    return not (_is_brand(f"{joined_first} {joined_sur}") or _is_brand(f"{joined_sur} {joined_first}"))


def _make_caps_cb(work: _Work) -> Callable[[re.Match[str]], str | None]:
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
        before = lead.strip() or _prev_word(text, match.start())
        after = _next_word(text, match.end())
        if (len(before) > 1 and before.isupper()) or (len(after) > 1 and after.isupper()):
            return None
        return lead + work.seal(TOKENS["name"])

    return cb


def _make_surname_first_cb(work: _Work) -> Callable[[re.Match[str]], str | None]:
    """"SINGH, Kerry", "DA SILVA, Ana Maria"."""

    def cb(match: re.Match[str]) -> str | None:
        text = match.string
        firsts, surs = match.group("first").split(), match.group("sur").split()
        if not _notation_ok(text, match, firsts, surs):
            return None
        after = _next_word(text, match.end())
        if len(after) > 1 and after.isupper():
            return None
        return TOKENS["name"]

    return cb


def _make_allcaps_cb(work: _Work) -> Callable[[re.Match[str]], str | None]:
    """"KYLE NOWAK" (both upper case) in mixed-case text, with a listed first name."""

    def cb(match: re.Match[str]) -> str | None:
        text = match.string
        first, sur = match.group("first"), match.group("sur")
        if first.title() not in wordlists.FORENAMES:
            return None
        if not _notation_ok(text, match, [first.title()], [sur]):
            return None
        before, after = _prev_word(text, match.start()), _next_word(text, match.end())
        if (len(before) > 1 and before.isupper()) or (len(after) > 1 and after.isupper()):
            return None
        return TOKENS["name"]

    return cb


_ARTICLE_OR_PLACE_PREFIX = frozenset({"the", "a", "an"}) | wordlists.PLACE_PREFIX


def _make_person_cb(work: _Work) -> Callable[[re.Match[str]], str | None]:
    """"Tendai Moyo stated", "[NAME] and Tendai Moyo": a first name and a surname with no cue."""

    def cb(match: re.Match[str]) -> str | None:
        text = match.string
        words = [w for w in match.group("name").split() if not _is_particle(w)]
        if _prev_word(text, match.start()).lower() in _ARTICLE_OR_PLACE_PREFIX:
            return None  # "The Red Lion reported that"
        for i, w in enumerate(words):
            colliding = i > 0 and w.title() in wordlists.SURNAME_COLLISIONS
            if colliding:
                continue
            if (w in wordlists.NAME_STOP or _is_street_word(w) or w in wordlists.NOT_FIRST_NAMES
                    or (_is_common(w) and w not in wordlists.FORENAMES)):
                return None
        if _is_brand(match.group("name")):
            return None
        return _replace_name(work, match, "name", match.group("name").split(), match.group("name").split())

    return cb


def _unchanged(match: re.Match[str]) -> str:
    return match.group(0)


# --------------------------------------------------------------------------------------------


def _one_pass(text: str) -> tuple[str, dict[str, int]]:
    work = _Work(text)
    work.sub(_EMAIL_RE, "email", lambda m: TOKENS["email"])
    work.sub(_DOB_RE, "date_of_birth", _dob)
    work.sub(_NHS_RE, "nhs_number", _nhs)
    work.sub(_NI_RE, "ni_number", lambda m: TOKENS["ni_number"])
    work.sub(_NI_LOOSE_RE, "ni_number", _ni_loose)
    work.sub(_PHONE_RE, "phone", _phone)
    work.sub(POSTCODE_IN_TEXT_RE, "postcode", _postcode)
    work.sub(_SECTOR_RE, None, _unchanged)  # sealed, so "CV32 4 Acacia Avenue" keeps its 4
    work.sub(_VRM_CURRENT_RE, "vehicle_registration", _vrm_current)
    work.sub(_VRM_PREFIX_RE, "vehicle_registration", _vrm_prefix)
    work.sub(_VRM_SUFFIX_RE, "vehicle_registration", _vrm_suffix)
    work.sub(_VRM_CUED_RE, "vehicle_registration", _vrm_cued)
    work.sub(_FLAT_RE, "house_number", _flat)
    work.sub(_HOUSE_RE, "house_number", _house)
    work.scan(_SURNAME_FIRST_RE, "name", _make_surname_first_cb(work))
    work.scan(_TITLE_RE, "name", _make_title_cb(work))
    work.scan(_LOWER_TITLE_RE, "name", _make_lower_title_cb(work))
    work.scan_at(_cue_starts, [(_CUE_CAPS_COMMA_RE, "name", _make_cue_caps_comma_cb(work)),
                               (_CUE_RE, "name", _make_cue_cb(work)),
                               (_CUE_LOWER_RE, "name", _make_cue_lower_cb(work))])
    work.scan(_INITIAL_RE, "name", _make_initial_cb(work), not_after="_'’-.&/")
    work.scan(_FORENAME_RE, "name", _make_forename_cb(work))
    work.scan(_CAPS_SURNAME_RE, "name", _make_caps_cb(work))
    work.scan(_ALLCAPS_NAME_RE, "name", _make_allcaps_cb(work))
    work.scan(_PERSON_VERB_RE, "name", _make_person_cb(work))
    work.scan(_AND_NAME_RE, "name", _make_person_cb(work))
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
