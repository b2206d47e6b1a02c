"""The pattern-based kinds of the free-text scrubber (exchange.core.redact): identifiers with a fixed
shape, each a compiled pattern and a callback that checks a candidate and gives its replacement
(``None`` leaves it).

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
  canonical sector ("CV32 4"). Sectors already in the text are left alone (and sealed, ``SECTOR_RE``).
- ``vehicle_registration`` -> "[VEHICLE REGISTRATION]": current marks ("AB12 CDE", "AB12CDE",
  "AB 12 CDE", "ab12 cde"; the age identifier must be a real one, 02-29 or 51-79), prefix marks
  ("A123 BCD", "a123bcd") and suffix marks ("ABC 123D"), unless the letters are an English word,
  a category word or an acronym ("A46 RTC", "S18 GBH", "B2 and", "THE 12A", "ON 12 MAY"); lower
  case suffix marks and spaced lower-case current marks only near a vehicle word (car, van, reg,
  Ford, parked...); dateless marks ("1 ABC", "K1 NGS") only after "reg", "registration", "VRM",
  "VRN", "index" or "plate".

What is NOT caught:

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

False positives to expect: a ten-digit reference that passes the NHS check digit (about one in
eleven random ten-digit numbers does) or follows "NHS", an 11-digit reference starting
01/02/03/07, a code shaped like a registration ("AB12 CDE").

Every pattern is bounded, and every look around a match (the cues before an NHS or NI number, a
vehicle word near a registration) reads a bounded window, so each pass is linear in the text.
"""

from __future__ import annotations

import re

from exchange.core import _redact_words as wordlists
from exchange.core._redact_work import TOKENS
from exchange.core.postcode import normalise_postcode, postcode_sector
from exchange.errors import InvalidPostcode

# The small patterns the checks below use.
_SPACE_OR_DASH_RE = re.compile(r"[\s-]")
_NOT_DIGIT_RE = re.compile(r"\D")
_LETTER_RE = re.compile(r"[A-Za-z]")
_LETTERS_RE = re.compile(r"[A-Za-z]+")
_DIGIT_RE = re.compile(r"\d")

# --------------------------------------------------------------------------------------------
# NHS numbers


def nhs_number_is_valid(digits: str) -> bool:
    """True if ``digits`` is ten digits (spaces and dashes allowed) with a correct modulus-11 check
    digit. Ten copies of one digit pass the arithmetic but are rejected as placeholders."""
    compact = _SPACE_OR_DASH_RE.sub("", digits or "")
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
EMAIL_RE = re.compile(
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
DOB_RE = re.compile(
    r"(?i)(?P<cue>(?<![\w.])(?:born(?:\s+on)?(?:\s+the)?|d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|birth\s*date|b\.)"
    r"(?:\s*[:\-=–]|\s+(?:is|was|given\s+as|recorded\s+as|as|of|on))?\s*\(?\s*)"
    rf"(?P<date>{_DATE})(?![\w/]|[.\-]\d)"
)

NHS_RE = re.compile(r"(?<![\w+])(?<!\d[ -])\d{3}[ -]?\d{3}[ -]?\d{4}(?![ -]?\d)(?!\w)")
_NHS_CUE_RE = re.compile(r"(?i)\bnhs\b[^;!?\n\d]{0,25}$")

_NI_DIGITS = r"(?:\d{2}[ -]?\d{2}[ -]?\d{2}|\d{3}[ -]\d{3})"
NI_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]|QQ)"  # QQ: HMRC's specimen
    rf"[ -]?{_NI_DIGITS}[ -]?[A-D](?![A-Za-z0-9])",
    re.IGNORECASE,
)
# After an "NI", "NINO" or "National Insurance" cue: any two letters, the suffix letter optional.
NI_LOOSE_RE = re.compile(rf"(?<![A-Za-z0-9])[A-Z]{{2}}[ -]?{_NI_DIGITS}(?:[ -]?[A-D])?(?![A-Za-z0-9])", re.IGNORECASE)
_NI_CUE_RE = re.compile(r"(?i)\b(?:ni|nino|national\s+insurance)\b[^;!?\n\d]{0,25}$")

PHONE_RE = re.compile(
    r"(?<![\w+])(?<!\d[ -])(?:"
    r"(?:\+|00)[ ]?44[ -]?(?:\(0\)[ -]?)?(?P<intl>[1-37](?:[ -]?\d){8,9})"
    r"|\((?P<area>0[1-37]\d{1,3})\)[ -]?(?P<local>\d(?:[ -]?\d){5,7})"
    r"|(?P<nat>0[1-37](?:[ -]?\d){8,9})"
    r"|\+(?!44)(?P<foreign>[1-9](?:[ -]?\d){7,14})"
    r")(?!\w)"
)

# A postcode sector ("CV32 4") already in the text: sealed so "4 Acacia Avenue" is not a house.
SECTOR_RE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\s[0-9](?![\w/:.-])")

# Vehicle registration marks: current (2001-: "AB12 CDE"), prefix (1983-2001: "A123 BCD"), suffix
# (1963-83: "ABC 123D"); dateless ("1 ABC", "K1 NGS") and lower case only near a vehicle word.
_VRM_EDGE = r"(?<![\w/£$€#.:-])"
_VRM_END = r"(?![\w/-]|[.:]\d)"
VRM_CURRENT_RE = re.compile(
    rf"{_VRM_EDGE}(?P<vrm>(?P<area>[A-Z]{{2}})(?P<sp> ?)(?P<age>\d{{2}}) ?(?P<rand>[A-Z]{{3}})"
    rf"|(?P<area_l>[a-z]{{2}})(?P<sp_l> ?)(?P<age_l>\d{{2}}) ?(?P<rand_l>[a-z]{{3}})){_VRM_END}"
)
VRM_PREFIX_RE = re.compile(
    rf"{_VRM_EDGE}(?P<vrm>[A-HJ-NPR-TV-Y]\d{{1,3}} ?(?P<letters>[A-Z]{{3}})"
    rf"|[a-hj-npr-tv-y]\d{{1,3}} ?(?P<letters_l>[a-z]{{3}})){_VRM_END}"
)
VRM_SUFFIX_RE = re.compile(
    rf"{_VRM_EDGE}(?P<vrm>(?P<letters>[A-Z]{{3}}) ?\d{{1,3}}[A-HJ-NPR-TV-Y]"
    rf"|(?P<letters_l>[a-z]{{3}}) ?\d{{1,3}}[a-hj-npr-tv-y]){_VRM_END}"
)
# Every cue of VRM_CUED_RE holds one of these words; the scrubber skips it for text with none.
VRM_CUE_WORDS = ("reg", "vrm", "vrn", "index", "plate")
VRM_CUED_RE = re.compile(
    r"(?i)(?P<cue>\b(?:reg(?:istration)?(?:\s+(?:no|number|mark|plate))?|vrm|vrn|index(?:\s+(?:no|number|plate))?"
    r"|(?:number\s+)?plates?)\b\.?(?:\s*[:\-]\s*|\s+(?:is\s+|was\s+|of\s+)?))"
    rf"(?P<vrm>[A-Za-z0-9]{{1,4}}(?: [A-Za-z0-9]{{1,4}})?){_VRM_END}"
)
_VEHICLE_CUE_RE = re.compile(r"(?i)(?<![\w-])(?:" + "|".join(sorted(wordlists.VEHICLE_WORDS)) + r")(?![\w-])")
_VALID_AGE_RE = re.compile(r"^(?:0[2-9]|[12]\d|5[1-9]|[67]\d)$")


# --------------------------------------------------------------------------------------------
# Callbacks


def _cue_before(cue: re.Pattern[str], text: str, pos: int, span: int = 40) -> bool:
    """True if ``cue`` ends within the ``span`` characters before ``pos`` (bounded: linear overall)."""
    return cue.search(text, max(0, pos - span), pos) is not None


def nhs(match: re.Match[str]) -> str | None:
    if nhs_number_is_valid(match.group(0)) or _cue_before(_NHS_CUE_RE, match.string, match.start()):
        return TOKENS["nhs_number"]
    return None  # left for the phone pass


def ni_loose(match: re.Match[str]) -> str | None:
    return TOKENS["ni_number"] if _cue_before(_NI_CUE_RE, match.string, match.start()) else None


def phone(match: re.Match[str]) -> str | None:
    if match.group("foreign"):
        digits = _NOT_DIGIT_RE.sub("", match.group("foreign"))
        return TOKENS["phone"] if 8 <= len(digits) <= 15 else None
    if match.group("intl"):
        national = _NOT_DIGIT_RE.sub("", match.group("intl"))
    elif match.group("area"):
        national = _NOT_DIGIT_RE.sub("", match.group("area") + match.group("local"))[1:]
    else:
        national = _NOT_DIGIT_RE.sub("", match.group("nat"))[1:]
    first = national[:1]
    if first == "7" and len(national) == 10:
        return TOKENS["phone"]
    if first == "1" and len(national) in (9, 10):
        return TOKENS["phone"]
    if first in ("2", "3") and len(national) == 10:
        return TOKENS["phone"]
    return None


def postcode(match: re.Match[str]) -> str | None:
    try:
        return postcode_sector(normalise_postcode(match.group(0)))
    except InvalidPostcode:
        return None


def dob(match: re.Match[str]) -> str | None:
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


def vrm_current(match: re.Match[str]) -> str | None:
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


def vrm_prefix(match: re.Match[str]) -> str | None:
    """Prefix marks ("A123 BCD", "a123 bcd"): not when the letters are a word or an acronym
    ("A46 RTC", "S18 GBH", "B2 and"). Lower case too, as presidio's pattern reads it (its
    false positives, offence codes, are the acronyms excluded here)."""
    return None if _is_word(match.group("letters") or match.group("letters_l")) else TOKENS["vehicle_registration"]


def vrm_suffix(match: re.Match[str]) -> str | None:
    """Suffix marks ("ABC 123D"): not when the letters are a word or an acronym ("THE 12A",
    "BUS 64A"); in lower case only next to a vehicle word."""
    letters = match.group("letters") or match.group("letters_l")
    if _is_word(letters):
        return None
    if match.group("letters_l") and not _vehicle_near(match):
        return None
    return TOKENS["vehicle_registration"]


def vrm_cued(match: re.Match[str]) -> str | None:
    """After "reg", "VRM", "index": any short mix of letters and digits ("1 ABC", "K1 NGS")."""
    vrm = match.group("vrm")
    compact = vrm.replace(" ", "")
    if not (2 <= len(compact) <= 7) or not _LETTER_RE.search(vrm) or not _DIGIT_RE.search(vrm):
        return None
    if any(_is_word(tok) for tok in _LETTERS_RE.findall(vrm) if len(tok) > 1):
        return None
    return match.group("cue") + TOKENS["vehicle_registration"]
