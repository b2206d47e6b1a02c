"""exchange.core.redact: the free-text scrubber, unit cases, properties and measured recall."""

from __future__ import annotations

import dataclasses
import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.core.redact import KINDS, Scrubbed, nhs_number_is_valid, scrub
from exchange.testing.redaction_corpus import KINDS as CORPUS_KINDS
from exchange.testing.redaction_corpus import build_corpus, format_table, measure

# ---------------------------------------------------------------------------------------------
# The result type


def test_scrubbed_is_immutable_and_counts_per_kind() -> None:
    result = scrub("Call Mr Smith on 07700 900123 or 07700 900456.")
    assert isinstance(result, Scrubbed)
    assert result.text == "Call Mr [NAME] on [PHONE] or [PHONE]."
    assert dict(result.redactions) == {"phone": 2, "name": 1}
    assert result.total == 3
    with pytest.raises(TypeError):
        result.redactions["phone"] = 0  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.text = "x"  # type: ignore[misc]
    assert set(result.redactions) <= set(KINDS)


def test_clean_text_is_unchanged_with_no_redactions() -> None:
    text = "Entry gained via the rear door; 2 youths seen at 14:30 on 12/03/2024 on Church Lane."
    result = scrub(text)
    assert result.text == text
    assert dict(result.redactions) == {}
    assert result.total == 0
    assert scrub("").text == ""


# ---------------------------------------------------------------------------------------------
# NHS numbers


@pytest.mark.parametrize(
    "digits, valid",
    [
        ("9434765919", True),  # the published example
        ("943 476 5919", True),
        ("943-476-5919", True),
        ("9434765918", False),  # wrong check digit
        ("4010232137", True),
        ("0000000000", False),  # repeated digit: arithmetic passes, not a number
        ("1111111111", False),
        ("943476591", False),  # nine digits
        ("94347659190", False),  # eleven
        ("94347659a9", False),
        ("", False),
    ],
)
def test_nhs_number_is_valid(digits: str, valid: bool) -> None:
    assert nhs_number_is_valid(digits) is valid


def test_nhs_check_digit_of_ten_is_invalid() -> None:
    # A first nine whose modulus-11 check would be 10 never makes a valid number.
    for first9 in ("000000001", "123456781"):
        total = sum(int(d) * w for d, w in zip(first9, range(10, 1, -1), strict=True))
        if 11 - total % 11 == 10:
            assert not any(nhs_number_is_valid(first9 + str(d)) for d in range(10))


@pytest.mark.parametrize("fmt", ["{a} {b} {c}", "{a}{b}{c}", "{a}-{b}-{c}"])
def test_nhs_numbers_are_replaced(fmt: str) -> None:
    text = "NHS number " + fmt.format(a="943", b="476", c="5919") + " recorded."
    result = scrub(text)
    assert result.text == "NHS number [NHS NUMBER] recorded."
    assert dict(result.redactions) == {"nhs_number": 1}


def test_ten_digits_failing_the_check() -> None:
    # Starts 01: a landline, so a phone number.
    assert scrub("ring 0192612345 now").text == "ring [PHONE] now"
    # Neither an NHS number nor a UK phone number: left.
    assert scrub("ref 9434765918 logged").text == "ref 9434765918 logged"


# ---------------------------------------------------------------------------------------------
# National Insurance numbers


@pytest.mark.parametrize("ni", ["AB123456C", "AB 12 34 56 C", "ab123456c", "JG 123456 A", "CE-12-34-56-D"])
def test_ni_numbers_are_replaced(ni: str) -> None:
    result = scrub(f"NINO {ni} given.")
    assert result.text == "NINO [NI NUMBER] given."
    assert dict(result.redactions) == {"ni_number": 1}


@pytest.mark.parametrize(
    "not_ni",
    ["DA123456C", "FA123456C", "IA123456C", "QA123456C", "UA123456C", "VA123456C",  # first letter
     "AD123456C", "AO123456C", "AQ123456C",  # second letter
     "BG123456C", "GB123456C", "NK123456C", "KN123456C", "TN123456C", "NT123456C", "ZZ123456C",
     "AB123456E",  # suffix must be A-D
     "AB12345C"],  # five digits
)
def test_invalid_ni_numbers_are_not_ni(not_ni: str) -> None:
    assert "[NI NUMBER]" not in scrub(f"ref {not_ni} here").text


# ---------------------------------------------------------------------------------------------
# Phone numbers


@pytest.mark.parametrize(
    "phone",
    [
        "07700 900123", "07700900123", "0770 090 0123", "07700-900-123", "+44 7700 900123",
        "+447700900123", "0044 7700 900123", "01926 123456", "0121 496 0000", "020 7946 0000",
        "(01926) 123456", "(0121) 496 0000", "+44 (0)121 496 0000", "+44 (0)1926 123456",
        "0300 123 4567", "024 7655 5555",
    ],
)
def test_phone_numbers_are_replaced(phone: str) -> None:
    result = scrub(f"Contact on {phone}, after 6pm.")
    assert result.text == "Contact on [PHONE], after 6pm."
    assert dict(result.redactions) == {"phone": 1}


@pytest.mark.parametrize(
    "not_phone",
    ["0800 123 4567", "999", "101", "12/03/2024", "14:30", "£1,250", "0770090012", "crime 23/45678/24"],
)
def test_not_phone_numbers(not_phone: str) -> None:
    assert "[PHONE]" not in scrub(f"noted {not_phone} today").text


# ---------------------------------------------------------------------------------------------
# E-mail addresses


@pytest.mark.parametrize(
    "email",
    ["jo.bloggs@example.co.uk", "jo.bloggs+asb@example.co.uk", "J_Smith99@Hotmail.COM",
     "o'neill@btinternet.com", "a@b.io", "first.last@sub.domain.gov.uk"],
)
def test_emails_are_replaced(email: str) -> None:
    result = scrub(f"Emailed from {email}.")
    assert result.text == "Emailed from [EMAIL]."
    assert dict(result.redactions) == {"email": 1}


# ---------------------------------------------------------------------------------------------
# Postcodes


@pytest.mark.parametrize(
    "postcode, sector",
    [("CV32 4AB", "CV32 4"), ("cv324ab", "CV32 4"), ("B1 1AA", "B1 1"), ("SW1A 1AA", "SW1A 1"), ("M60 2LA", "M60 2")],
)
def test_postcodes_become_sectors(postcode: str, sector: str) -> None:
    result = scrub(f"Car found near {postcode} at 0500.")
    assert result.text == f"Car found near {sector} at 0500."
    assert dict(result.redactions) == {"postcode": 1}


def test_sectors_are_left() -> None:
    for text in ["Hotspot in sector CV32 4 again.", "Area CV32 only."]:
        assert scrub(text).text == text


def test_registrations_are_no_longer_left() -> None:
    # Registrations were a documented limit; they are identifiers and are replaced now.
    assert scrub("Vehicle AB12 CDE seen.").text == "Vehicle [VEHICLE REGISTRATION] seen."


# ---------------------------------------------------------------------------------------------
# House numbers


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Burglary at 12 Acacia Avenue overnight.", "Burglary at Acacia Avenue overnight."),
        ("Seen outside 12a High St.", "Seen outside High St."),
        ("Damage to 12-14 High Street.", "Damage to High Street."),
        ("Damage to 12 - 14 High Street.", "Damage to High Street."),
        ("Entry via No. 7 Mill Lane.", "Entry via Mill Lane."),
        ("at 12 acacia avenue", "at acacia avenue"),
        ("AT 12 ACACIA AVENUE", "AT ACACIA AVENUE"),
        ("Parcel stolen from Flat 3, 45 High Street.", "Parcel stolen from Flat, High Street."),
        ("Noise from Flat 3 again.", "Noise from Flat again."),
        ("Apartment 2B door kicked in.", "Apartment door kicked in."),
        ("Unit 4 broken into.", "Unit broken into."),
        ("Youths outside 5 The Green.", "Youths outside The Green."),
        ("Between 10 and 12 High Street.", "Between High Street."),
        ("12 12 943 0 0 0 0 High Street", "High Street"),  # found by hypothesis: one pass, not seven
    ],
)
def test_house_numbers(text: str, expected: str) -> None:
    result = scrub(text)
    assert result.text == expected
    assert set(result.redactions) == {"house_number"}


@pytest.mark.parametrize(
    "text",
    [
        "2 youths on the green kicking footballs.",
        "3 men walk towards the park.",
        "Incident at 14:30 on 12/03/2024 near Church Lane.",
        "Stole 2 Samsung phones and £40 cash.",
        "Following 12 reports this month on Mill Lane.",
        "Bus number 64 on Warwick Road.",
        "Flat roof of the garage used to climb in.",
        "Lives in a flat on High Street.",
    ],
)
def test_not_house_numbers(text: str) -> None:
    assert scrub(text).text == text


# ---------------------------------------------------------------------------------------------
# Names


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Mr Smith reported the theft.", "Mr [NAME] reported the theft."),
        ("Spoke to Mrs J. Patel at home.", "Spoke to Mrs [NAME] at home."),
        ("Dr Okafor attended.", "Dr [NAME] attended."),
        ("Mrs White called back.", "Mrs [NAME] called back."),
        ("Victim John Smith reports his bike stolen.", "Victim [NAME] reports his bike stolen."),
        ("A male called Dave made threats.", "A male called [NAME] made threats."),
        ("The suspect named Tendai Moyo left.", "The suspect named [NAME] left."),
        ("Her ex-partner Kyle Jones attended.", "Her ex-partner [NAME] attended."),
        ("suspect Emma Green seen.", "suspect [NAME] seen."),
        ("Sarah Jones saw the youths.", "[NAME] saw the youths."),
        ("Saw Kyle SMITH leave.", "Saw [NAME] leave."),
        ("Saw Kerry SINGH leave.", "Saw [NAME] leave."),  # police notation, any first name
        ("Saw Kyle COX leave.", "Saw [NAME] leave."),  # three letters: only with a listed first name
        ("PATEL, Kofi detained.", "[NAME] detained."),
        ("Letter to KYLE NOWAK sent.", "Letter to [NAME] sent."),
        ("Kyle said he saw it.", "[NAME] said he saw it."),
        ("Sarah's car was keyed.", "[NAME]'s car was keyed."),
        ("Seen with Sean O'Brien and Mark McDonald.", "Seen with [NAME] and [NAME]."),
        ("MR SMITH REPORTS THEFT", "MR [NAME] REPORTS THEFT"),
        ("VICTIM JOHN SMITH REPORTS THEFT", "VICTIM [NAME] REPORTS THEFT"),
        ("SUSPECT KYLE ASSAULTED HIM", "SUSPECT [NAME] ASSAULTED HIM"),
        ("his neighbour Kyle Hill said", "his neighbour [NAME] said"),
        ("PCSO Jones spoke to the school.", "PCSO [NAME] spoke to the school."),
        ("Dealt with by PC 1234 Okafor.", "Dealt with by PC 1234 [NAME]."),
        ("Cllr Patel raised it.", "Cllr [NAME] raised it."),
    ],
)
def test_names(text: str, expected: str) -> None:
    result = scrub(text)
    assert result.text == expected
    assert set(result.redactions) == {"name"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Smith was seen leaving.", "Smith was seen leaving."),  # a lone surname
        ("saw Tinashe Moyo outside", "saw Tinashe Moyo outside"),  # first name not listed, no cue, no verb
        ("saw Kyle outside", "saw Kyle outside"),  # a lone first name, no cue
        ("john smith was seen", "john smith was seen"),  # lower case
        ("Kenilworth WARWICKSHIRE", "[NAME]"),  # a known false positive of the SURNAME notation
        ("Leaving 12 Broadway at 5pm", "Leaving 12 Broadway at 5pm"),  # no street suffix
    ],
)
def test_documented_limits(text: str, expected: str) -> None:
    """What the module docstring says is not caught (or wrongly caught) stays that way; if one of
    these starts failing, update the docstring and the README."""
    assert scrub(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "Burglary reported on Victoria Road overnight.",
        "Graffiti on the shelter opposite Victoria Park.",
        "St John Ambulance attended the scene.",
        "Ted Baker coat and a John Lewis bag stolen.",
        "Jack Daniels bottles taken from Tesco.",
        "Offender wore Dr Martens boots.",
        "Victim Support referral made.",
        "Referred to the Integrated Offender Management team.",
        "Suspect Vehicle Index unknown.",
        "Damage to the Rose Cottage sign on Church Lane.",
        "Queen Elizabeth Hospital informed.",
        "King Charles Street car park CCTV requested.",
        "Burglary Dwelling: entry via window.",
        "Theft From Motor Vehicle on Albert Street.",
        "The victim States she was not hurt.",
        "Victim states the male was known to her.",
        "Suspect described as White male, Asian female with him.",
        "Harry Potter books taken.",
        "Warwick Hospital and Grace Academy informed.",
        "Acacia Dr Leamington closed.",
        "A Ford KUGA and Nissan QASHQAI damaged.",
        "Officers checked CCTV and ANPR.",
        "SUSPECT CCTV REVIEWED",
        "Joseph Chamberlain Sixth Form College reported cyber bullying.",
        "King Henry VIII School pupils involved.",
        "Mr Whippy van in a collision.",
        "Dr Green Lane closed.",
        "Fight outside The Rose and Crown at closing time.",
        "Laptop bought from PC World was taken.",
        "Nintendo DS Lite taken from the car.",
        "Referred to Northshire YOT.",
        "Monthly IOM review held.",
        "Discussed at the Northtown MARAC.",
    ],
)
def test_not_names(text: str) -> None:
    assert scrub(text).text == text


# ---------------------------------------------------------------------------------------------
# Everything together


def test_mixed_field() -> None:
    text = (
        "Victim Jane Smith (NHS 943 476 5919, NI AB123456C) of 12 Acacia Avenue, CV32 4AB reports "
        "texts from 07700 900123 and emails from kyle.j@example.com; suspect Kyle Jones."
    )
    result = scrub(text)
    assert result.text == (
        "Victim [NAME] (NHS [NHS NUMBER], NI [NI NUMBER]) of Acacia Avenue, CV32 4 reports "
        "texts from [PHONE] and emails from [EMAIL]; suspect [NAME]."
    )
    assert dict(result.redactions) == {
        "email": 1, "nhs_number": 1, "ni_number": 1, "phone": 1, "postcode": 1, "house_number": 1, "name": 2,
    }


def test_placeholder_characters_in_input_survive() -> None:
    text = "odd \U000F0000 and \U000F0001 chars, call 07700 900123"
    assert scrub(text).text == "odd \U000F0000 and \U000F0001 chars, call [PHONE]"


# ---------------------------------------------------------------------------------------------
# Properties

_WORD_ALPHABET = string.ascii_letters + ".,;:!?'\"()"
sentence_words = st.lists(st.text(alphabet=_WORD_ALPHABET, min_size=1, max_size=10), max_size=8)

fragments = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["Mr", "Mrs", "Dr", "victim", "suspect", "called", "John", "Sarah", "Smith", "SMITH", "Acacia",
         "Avenue", "Road", "High Street", "Flat", "12", "12a", "-", "/", ",", "CV32", "4AB", "CV32 4",
         "07700", "900123", "943", "476", "5919", "AB", "123456", "C", "@", "example.com", "[NAME]",
         "'s", "+44", "(0)", "said", "Victoria", "Park", "Ted", "Baker", "O'Brien", "KYLE", "JONES"]
    ),
    st.integers(0, 99999).map(str),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(fragments, max_size=14), st.sampled_from([" ", "", ", "]))
def test_scrub_is_idempotent(parts: list[str], sep: str) -> None:
    once = scrub(sep.join(parts)).text
    assert scrub(once).text == once


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_scrub_is_idempotent_on_any_text(text: str) -> None:
    once = scrub(text).text
    assert scrub(once).text == once


def _with_check_digit(first9: list[int]) -> str | None:
    check = 11 - sum(d * w for d, w in zip(first9, range(10, 1, -1), strict=True)) % 11
    check = 0 if check == 11 else check
    digits = "".join(map(str, first9)) + str(check)
    return None if check == 10 or len(set(digits)) == 1 else digits


valid_nhs = st.lists(st.integers(0, 9), min_size=9, max_size=9).map(_with_check_digit).filter(bool)


@settings(max_examples=300, deadline=None)
@given(valid_nhs, sentence_words, sentence_words, st.sampled_from(["{a} {b} {c}", "{a}{b}{c}", "{a}-{b}-{c}"]))
def test_valid_nhs_number_in_a_sentence_is_always_removed(digits, before, after, fmt) -> None:
    nhs = fmt.format(a=digits[:3], b=digits[3:6], c=digits[6:])
    result = scrub(" ".join(before + [nhs] + after))
    assert digits not in re.sub(r"\D", "", result.text)
    assert "[NHS NUMBER]" in result.text
    assert result.redactions.get("nhs_number") == 1


@settings(max_examples=300, deadline=None)
@given(st.emails(), sentence_words, sentence_words)
def test_emails_are_always_removed(email: str, before: list[str], after: list[str]) -> None:
    result = scrub(" ".join(before + [email] + after))
    assert email not in result.text
    assert "[EMAIL]" in result.text


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="0123456789", min_size=9, max_size=9),
    st.sampled_from(["0{b}", "0{b4} {b6}", "+44 {b4} {b6}", "0{b4}-{b3}-{b3b}", "+44{b}"]),
    sentence_words,
    sentence_words,
)
def test_mobile_numbers_are_always_removed(nine, fmt, before, after) -> None:
    body = "7" + nine
    phone = fmt.format(b=body, b4=body[:4], b6=body[4:], b3=body[4:7], b3b=body[7:])
    result = scrub(" ".join(before + [phone] + after))
    assert body[-6:] not in re.sub(r"\D", "", result.text)
    assert "[PHONE]" in result.text


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["CV", "B", "M", "SW", "LE", "NN", "E"]),
    st.integers(1, 29),
    st.integers(0, 9),
    st.text(alphabet="ABDEFGHJLNPQRSTUWXYZ", min_size=2, max_size=2),
    sentence_words,
    sentence_words,
)
def test_full_postcodes_become_sectors(area, district, sector, unit, before, after) -> None:
    postcode = f"{area}{district} {sector}{unit}"
    result = scrub(" ".join(before + [postcode] + after))
    assert postcode not in result.text
    assert f"{area}{district} {sector}" in result.text


# ---------------------------------------------------------------------------------------------
# The labelled corpus: recall per kind and false positives, measured

RECALL_FLOORS = {
    "email": 0.98,
    "nhs_number": 0.98,
    "ni_number": 0.98,
    "phone": 0.98,
    "postcode": 0.98,
    "house_number": 0.93,  # streets without a suffix word ("12 Broadway") are not caught
    "name": 0.85,  # lone first names and surnames, lower-case names with no cue
    "vehicle_registration": 0.95,  # the registrations this corpus once counted as clean text
}
MAX_CLEAN_ALTERED = 3


def test_corpus_is_large_and_deterministic() -> None:
    corpus = build_corpus()
    labelled = [s for s in corpus if s.labels]
    clean = [s for s in corpus if not s.labels]
    assert len(labelled) >= 500 and len(clean) >= 200
    assert {label.kind for s in labelled for label in s.labels} == set(CORPUS_KINDS)
    assert build_corpus.__wrapped__() == corpus  # same seed, same sentences
    for sample in labelled:
        for label in sample.labels:
            assert label.value in sample.text
            assert re.search(label.probe, sample.text), (label, sample.text)  # the probe finds it


def test_recall_per_kind_and_false_positives() -> None:
    result = measure(scrub)
    print("\n" + format_table(result))
    for kind, floor in RECALL_FLOORS.items():
        assert result["recall"][kind] >= floor, (kind, result["recall"][kind])
    assert result["clean_altered"] <= MAX_CLEAN_ALTERED, result["altered_examples"]


# The scrubber skips the number patterns for text without a digit, and the e-mail pattern for text
# without "@": that is only right while no alternative of those patterns can match without one.
_NEEDS_A_DIGIT = ["DOB_RE", "NHS_RE", "NI_RE", "NI_LOOSE_RE", "PHONE_RE", "SECTOR_RE", "VRM_CURRENT_RE",
                  "VRM_PREFIX_RE", "VRM_SUFFIX_RE"]
_DIGITLESS = st.text(st.characters(blacklist_categories=("Nd", "Cs")), max_size=80) | st.builds(
    " ".join, st.lists(st.sampled_from(["born", "DOB", "on", "the", "3rd", "March", "NHS", "no", "tel", "Flat", "B",
                                        "reg", "AB", "CD", "EF", "High", "Street", "Road", "house", "number", "of",
                                        "Nov", "1st", "+", "(", ")", "-", "/", "."]).map(
        lambda w: "".join(c for c in w if not c.isdigit())), max_size=12))


@settings(max_examples=400, deadline=None)
@given(_DIGITLESS)
def test_no_number_pattern_matches_text_without_a_digit(text):
    from exchange.core import _redact_numbers as numbers
    from exchange.core import _redact_places as places
    from exchange.core.postcode import POSTCODE_IN_TEXT_RE

    for pattern in [getattr(numbers, name) for name in _NEEDS_A_DIGIT] + [POSTCODE_IN_TEXT_RE, places.HOUSE_RE]:
        assert pattern.search(text) is None, (pattern.pattern[:40], text)
    if "@" not in text:
        assert numbers.EMAIL_RE.search(text) is None


# The scrubber also skips a name or place pattern when the text lacks what every match needs: a
# comma, three capitals in a row, "m" (the lower-case titles), "[NAME]", or one of a few words
# (looked for in text lower-cased after folding the letters that match an ASCII letter only when
# case is ignored: "ſ", "ı", "İ", the Kelvin sign).
_NEAR_MISSES = ["REG", "ReG", "rEgistration", "ındex", "İNDEX", "VRM", "vrn", "plate", "PLATES", "number", "no",
                "AB12", "CDE", "Flat", "FLAT", "ﬂat", "ſtudio", "STUDIO", "unıt", "Room", "bedſit", "Apt.", "3", "B",
                "SMITH,", "SINGH,", "O'NEILL,", "Kerry", "KYLE", "NOWAK", "McDONALD", "DA", "SILVA,", "Ana", "mr",
                "Mr", "mrs", "MISS", "miss", "jones", "[NAME]", "and", "Hodan", "Hall", "victim", "NAMED", "AS",
                "ADEYEMI-COLE,", "AGNIESZKA", "ŁUKASZ", "ŞAHIN", ",", "Kelvin", "KELVIN", "ſmith"]
_GATED_TEXT = st.text(max_size=60) | st.builds(" ".join, st.lists(st.sampled_from(_NEAR_MISSES), max_size=10))


@settings(max_examples=600, deadline=None)
@given(_GATED_TEXT)
def test_a_pattern_skipped_for_lack_of_its_gate_could_not_have_matched(text):
    from exchange.core import _redact_name_patterns as names
    from exchange.core import _redact_numbers as numbers
    from exchange.core import _redact_places as places
    from exchange.core import redact

    folded = (text if text.isascii() else text.translate(redact._CASE_FOLD)).lower()
    capitals = redact._CAPITALS_RUN.search(text) is not None
    gated = [
        (numbers.VRM_CUED_RE, redact._has_any(numbers.VRM_CUE_WORDS, folded)),
        (places.FLAT_RE, redact._has_any(places.PREMISES_WORDS, folded)),
        (names.SURNAME_FIRST_RE, "," in text and capitals),
        (names.CUE_CAPS_COMMA_RE, "," in text),
        (names.LOWER_TITLE_RE, "m" in text),
        (names.CAPS_SURNAME_RE, capitals),
        (names.ALLCAPS_NAME_RE, capitals),
        (names.AND_NAME_RE, "[NAME]" in text),
    ]
    for pattern, gate_open in gated:
        if not gate_open:
            assert pattern.search(text) is None, (pattern.pattern[:40], text)
