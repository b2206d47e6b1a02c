"""Free-text scrubbing: remove direct identifiers from police, council, health and fire free text.

Pure domain code: no I/O, no logging, the input text is never stored or reported anywhere but in
the returned ``Scrubbed.text``.

``scrub(text)`` returns a ``Scrubbed`` holding the scrubbed text and a count per kind of what was
replaced. The passes below run in order, each on the text the previous ones left (a replaced item
is sealed so later passes cannot re-match or split it), and the whole set repeats until the text is
stable, so ``scrub`` is idempotent: ``scrub(scrub(x).text).text == scrub(x).text``. Every pattern
is bounded (no nested unbounded repetition) and every look around a match reads a bounded window,
so the time is linear in the text (tests/test_worst_case_records.py, bench/sanitise_worst_case.py).

The kinds (``KINDS``), what replaces them, and where the rules are; each module's docstring says
what it catches, what it does not, and the false positives to expect:

    email                 "[EMAIL]"                      _redact_numbers
    date_of_birth         the cue, "[DATE OF BIRTH]"     _redact_numbers
    nhs_number            "[NHS NUMBER]"                 _redact_numbers
    ni_number             "[NI NUMBER]"                  _redact_numbers
    phone                 "[PHONE]"                      _redact_numbers
    postcode              its sector ("CV32 4")          _redact_numbers
    vehicle_registration  "[VEHICLE REGISTRATION]"       _redact_numbers
    house_number          the street, the word "Flat"    _redact_places
    name                  "[NAME]"                       _redact_names (the rules), _redact_name_patterns
                                                         (the candidates), _redact_name_checks (word tests)

_redact_work holds the sealing work area and the placeholders (``TOKENS``); _redact_words the word
lists (forenames, stop words, common English words, street, vehicle and brand words, acronyms).

The pipeline (``_one_pass``). The order matters because a pass sees only what the passes before it
left unsealed: each kind goes before the kinds that would take a piece of it. (The examples were
checked by moving the pass later: what the text would then become.)

1. email. First: an address holds digits and dots the number passes would take a piece of
   ("07700900123@example.com" -> "[PHONE]@example.com").
2. date_of_birth: a date after a cue (DOB, born, date of birth). Before the house-number pass,
   which reads "12/03/1985" as a range of house numbers ("DOB 12/03/1985 High Street" -> "DOB
   High Street", counted as a house number).
3. nhs_number: ten digits with a right check digit, or after "NHS". Before phone: ten digits that
   pass the check are an NHS number even when they start 01, 02, 03 or 07 ("0123456789"); those
   that fail with no cue fall through to the phone pass. Before the loose NI pass, which would
   read "no 751 964" after an earlier "NI" cue as an NI number ("NI ..., NHS no 751 964 0728").
4. ni_number: the strict pattern, then (5.) the loose one, any two letters after an "NI" cue.
6. phone.
7. postcode -> its sector; then (8.) sectors already in the text are sealed, uncounted, so no later
   pass reads the digit of a sector as a house number ("CV32 4 Acacia Avenue"; the house pattern,
   which wants no digit and space before a number, stops that too).
9. vehicle_registration: current, prefix and suffix marks, then dateless marks after a cue. The
   current marks first: the cued pattern reads at most two groups ("reg dy 68 kxj" -> "reg
   [VEHICLE REGISTRATION] kxj").
10. house_number: "Flat 3" first, so "Flat 21 98 Emscote Road" counts two premises numbers; then
    "12 High Street". Before the name rules, which could seal a street's words as a name and hide
    the street from this pass ("218 CHURCH LANE, Warwick": "LANE, Warwick" is read as "SURNAME,
    First"; with the house pass first, at least the number goes).
11. names, most specific first, so a looser rule does not take part of a name, or the title or
    cue before it, that a stricter one reads whole: police notation "SINGH, Kerry" (else "WHITE,
    [NAME]"; "Complainant KHAN, James" -> two names); after a title (else "spoke to Mr Chantelle
    Moyo" -> "spoke to [NAME]", the title gone with the name); after a lower-case title; after a
    cue (anchored at each cue word: upper-case "SURNAME, FIRST", then capitalised, then
    lower-case names; else "Complainant Catalina Nuno Smith" -> "[NAME] [NAME]", "NAMED AS
    ADEYEMI-COLE, AGNIESZKA" loses the first name only); an initial and a surname; a listed first
    name; "Kerry SINGH"; "KYLE NOWAK"; a first name and surname before a verb only people do;
    "[NAME] and Hodan Hall".

Replacements are sealed until the end of a round, so the rules that look for a "[NAME]" already in
the text ("... and [NAME]", "[NAME] and ...") see only the names of the rounds before: that is one
reason the whole pipeline repeats (at most 12 rounds) until nothing changes ("Hodan Hall and Mrs
Patel left": round one finds "Mrs [NAME]", round two "Hodan Hall"). A later round also sees the
text as earlier rounds left it ("Mr 12 Acacia Avenue" -> "Mr Acacia Avenue", which the title rule
rejects as a street).

What no pass catches: any identifier split across lines or obfuscated with extra characters.

Measured on two labelled corpora (run ``python bench/redaction_recall.py`` for the tables): the
old one (exchange/testing/redaction_corpus.py), written alongside the scrubber, and
exchange/testing/redaction_labelled.py, written independently of these word lists, with a
held-out part that was not used to tune them; see the README for the current figures.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field

from exchange.core import _redact_name_patterns as name_patterns
from exchange.core import _redact_names as name_rules
from exchange.core import _redact_numbers as numbers
from exchange.core import _redact_places as places
from exchange.core import _redact_words as wordlists
from exchange.core._redact_numbers import nhs_number_is_valid
from exchange.core._redact_work import TOKENS, Work
from exchange.core.postcode import POSTCODE_IN_TEXT_RE

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


@dataclass(frozen=True)
class Scrubbed:
    """The scrubbed text and how many identifiers of each kind were replaced (non-zero kinds only)."""

    text: str
    redactions: Mapping[str, int] = field(default_factory=lambda: types.MappingProxyType({}))

    @property
    def total(self) -> int:
        return sum(self.redactions.values())


def _unchanged(match: re.Match[str]) -> str:
    return match.group(0)


_ANY_DIGIT = re.compile(r"\d")  # the same digits the number patterns' \d match (Unicode Nd)
_CAPITALS_RUN = re.compile(f"[{name_patterns.UP}]{{3}}")  # an upper-case surname has three in a row
# The only letters outside ASCII that a case-insensitive pattern matches to an ASCII letter
# ("ſ" to "s", the Kelvin sign to "k"): folded to it, so a look for a cue word in lower-cased
# text finds every word such a pattern would.
_CASE_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u212a": "k", "\u017f": "s"})


def _has_any(words: tuple[str, ...], folded: str) -> bool:
    return any(map(folded.__contains__, words))


def _one_pass(text: str) -> tuple[str, dict[str, int]]:
    """One round of the pipeline (the order is explained in the module docstring).

    A pattern that cannot match the text is skipped: every one below needs what its gate looks
    for, and a replacement adds no letter, digit or punctuation (it is sealed), so the gate read
    on the round's text holds for every pass (tests/test_redact.py checks each gate)."""
    work = Work(text)
    if "@" in text:  # an address has one; most free text has none, and this pattern is the slowest to fail
        work.sub(numbers.EMAIL_RE, "email", lambda m: TOKENS["email"])
    # Every number pattern needs a digit, and replacements add none: text without one skips them all
    # (the cued registration and the flat, which may be letters only, always run).
    digits = _ANY_DIGIT.search(text) is not None
    folded = (text if text.isascii() else text.translate(_CASE_FOLD)).lower()
    comma = "," in text
    capitals = _CAPITALS_RUN.search(text) is not None
    if digits:
        work.sub(numbers.DOB_RE, "date_of_birth", numbers.dob)
        work.sub(numbers.NHS_RE, "nhs_number", numbers.nhs)
        work.sub(numbers.NI_RE, "ni_number", lambda m: TOKENS["ni_number"])
        work.sub(numbers.NI_LOOSE_RE, "ni_number", numbers.ni_loose)
        work.sub(numbers.PHONE_RE, "phone", numbers.phone)
        work.sub(POSTCODE_IN_TEXT_RE, "postcode", numbers.postcode)
        work.sub(numbers.SECTOR_RE, None, _unchanged)  # sealed, so "CV32 4 Acacia Avenue" keeps its 4
        work.sub(numbers.VRM_CURRENT_RE, "vehicle_registration", numbers.vrm_current)
        work.sub(numbers.VRM_PREFIX_RE, "vehicle_registration", numbers.vrm_prefix)
        work.sub(numbers.VRM_SUFFIX_RE, "vehicle_registration", numbers.vrm_suffix)
    if _has_any(numbers.VRM_CUE_WORDS, folded):
        work.sub(numbers.VRM_CUED_RE, "vehicle_registration", numbers.vrm_cued)
    if _has_any(places.PREMISES_WORDS, folded):
        work.sub(places.FLAT_RE, "house_number", places.flat)
    if digits:
        work.sub(places.HOUSE_RE, "house_number", places.house)
    if comma and capitals:
        work.scan(name_patterns.SURNAME_FIRST_RE, "name", name_rules.make_surname_first_cb(work))
    work.scan(name_patterns.TITLE_RE, "name", name_rules.make_title_cb(work))
    if "m" in text:  # "mr", "mrs", "ms", "miss"
        work.scan(name_patterns.LOWER_TITLE_RE, "name", name_rules.make_lower_title_cb(work))
    cue_rules = [(name_patterns.CUE_RE, "name", name_rules.make_cue_cb(work)),
                 (name_patterns.CUE_LOWER_RE, "name", name_rules.make_cue_lower_cb(work))]
    if comma:
        cue_rules.insert(0, (name_patterns.CUE_CAPS_COMMA_RE, "name", name_rules.make_cue_caps_comma_cb(work)))
    work.scan_at(name_patterns.cue_starts, cue_rules)
    work.scan(name_patterns.INITIAL_RE, "name", name_rules.make_initial_cb(work), not_after="_'’-.&/")
    work.scan(name_patterns.FORENAME_RE, "name", name_rules.make_forename_cb(work))
    if capitals:
        work.scan(name_patterns.CAPS_SURNAME_RE, "name", name_rules.make_caps_cb(work))
        work.scan(name_patterns.ALLCAPS_NAME_RE, "name", name_rules.make_allcaps_cb(work))
    work.scan(name_patterns.PERSON_VERB_RE, "name", name_rules.make_person_cb(work))
    if "[NAME]" in text:
        work.scan(name_patterns.AND_NAME_RE, "name", name_rules.make_person_cb(work))
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
