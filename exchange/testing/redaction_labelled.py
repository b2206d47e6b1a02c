"""A labelled corpus for the free-text scrubber, written independently of its word lists.

Sentences in the style of police, council, A&E and fire-service free text (incident descriptions,
modus operandi, weapon descriptions, caveats, handover notes), each carrying the exact character
spans of every direct identifier in it, by kind:

    name, phone, nhs_number, ni_number, email, postcode, house_number, date_of_birth,
    vehicle_registration

plus CLEAN sentences that hold no identifier at all and must come out of a scrubber unchanged,
with traps: offence wording ("Section 18", "Class A", crime code "28/3"), times ("23:15"), dates of
events that are not dates of birth ("on 12/03/2024"), amounts ("£50"), weapon words, police ranks
without names, ages ("aged 34"), road numbers ("A46"), street names without a house number.

The sentences are built from hand-written templates filled by a seeded generator, so the corpus is
deterministic. The name, street and template pools were written for this corpus and are not taken
from ``exchange.core._redact_words``. The corpus has two parts:

- ``dev``: what the scrubber may be tuned on (look at its misses with
  ``python bench/redaction_recall.py --misses``);
- ``held_out``: its own templates, names, streets and clean sentences; measured and reported, never
  used to tune word lists (the bench does not print its individual misses unless asked).

When an identifier counts as caught (the rule; ``leaked`` implements it):

- ``alnum(s)`` is ``s`` case-folded with every character that is not a letter or a digit removed.
- name: every word of the labelled span with two letters or more ("Smith", "O'Neill" as
  "oneill"; initials are ignored) must be gone from the output: the number of whole-word,
  case-insensitive occurrences of the word in the output may not exceed its occurrences in the
  input outside the span (so "Mr John [NAME]" still leaks "John").
- every other kind: its *probe* may not occur in ``alnum(output)``. The probe is
  ``alnum(span)``; for a house number it also takes the neighbouring word that makes it a premises
  (the street word after "12" in "12 Mill Lane" gives "12mill"; the word before in "Flat 3"
  gives "flat3"), as a bare "12" would be found in any time or amount. So a postcode reduced to
  its sector ("CV32 4AB" -> "CV32 4") is caught, and "Flat 3, Mill Lane" is not.

A clean sentence counts as changed when the output differs from the input in any character.

No real person's data: names are combinations of common names of many origins, numbers are random,
NHS numbers are random with a valid check digit (a few after an "NHS" cue have a mistyped one),
phone numbers are random (mostly in Ofcom's drama ranges), postcodes and registrations are random.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from exchange.testing.redaction_corpus import valid_nhs_digits

SEED = 20250214
KINDS: tuple[str, ...] = (
    "name",
    "phone",
    "nhs_number",
    "ni_number",
    "email",
    "postcode",
    "house_number",
    "date_of_birth",
    "vehicle_registration",
)
PARTS: tuple[str, ...] = ("dev", "held_out")


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int
    anchor: str = ""  # "next" or "prev": the neighbouring word that makes a house number a premises
    form: str = ""  # how it was written ("title_full", "mobile_intl", "prefix"...)


@dataclass(frozen=True)
class Labelled:
    text: str
    spans: tuple[Span, ...]
    part: str
    template: str  # the template it came from (for grouping misses), "" for clean sentences

    def value(self, span: Span) -> str:
        return self.text[span.start : span.end]


# ---------------------------------------------------------------------------------------------
# The rule


def alnum(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def _name_words(value: str) -> list[str]:
    return [w for w in _WORD_RE.findall(value) if sum(ch.isalpha() for ch in w) >= 2]


def _count_word(word: str, text: str) -> int:
    target = alnum(word)
    return sum(1 for w in _WORD_RE.findall(text) if alnum(w) == target)


def probe(sample: Labelled, span: Span) -> str:
    """The alphanumeric string whose presence in alnum(output) means the identifier leaked."""
    core = alnum(sample.value(span))
    if span.anchor == "next":
        m = re.search(r"[^\W_]+", sample.text[span.end :])
        return core + (alnum(m.group(0)) if m else "")
    if span.anchor == "prev":
        m = re.search(r"([^\W_]+)[\W_]*$", sample.text[: span.start])
        return (alnum(m.group(1)) if m else "") + core
    return core


def leaked(sample: Labelled, span: Span, output: str) -> bool:
    """True if the identifier at ``span`` survives in ``output`` (the rule in the module docstring)."""
    if span.kind == "name":
        outside = sample.text[: span.start] + " " + sample.text[span.end :]
        return any(
            _count_word(w, output) > _count_word(w, outside) for w in _name_words(sample.value(span))
        )
    return probe(sample, span) in alnum(output)


# ---------------------------------------------------------------------------------------------
# Pools (names of many origins; the two parts share none)

POOLS: dict[str, dict[str, list[str]]] = {
    "dev": {
        "first": [
            "James", "Chloe", "Tendai", "Wojciech", "Precious", "Siobhan", "Oluwaseun", "Priya",
            "Mehmet", "Ioana", "Bartosz", "Aaliyah", "Callum", "Niamh", "Dmitri", "Fatou", "Hamza",
            "Keisha", "Lukas", "Mariam", "Nkechi", "Rashid", "Saoirse", "Xiao", "Yasmin", "Zoltan",
            "Agnieszka", "Babajide", "Catalina", "Darius", "Ebony", "Farah", "Gintaras", "Hollie",
            "Ifeoma", "Jerome", "Kwame", "Leanne", "Mohammed", "Nuno", "Olamide", "Paulina",
            "Rhiannon", "Shanice", "Tomasz", "Usman", "Valentina", "Wiktoria", "Yusuf", "Zainab",
            "Łukasz", "Zoë", "Siân", "Dylan", "Kerry-Ann", "Jean-Paul", "Abdirahman", "Hodan",
            "Minh", "Arjun", "Gurpreet", "Deepa", "Connor", "Jade", "Marcus", "Shauna",
        ],
        "surname": [
            "Smith", "O'Neill", "McAllister", "Nowak", "Okonkwo", "Patel", "Nguyen", "Kowalczyk",
            "Yilmaz", "Popescu", "Mensah", "Ahmed", "Begum", "Jones", "Fitzpatrick", "da Silva",
            "van der Berg", "Smith-Jones", "Adeyemi-Cole", "MacLeod", "Wiśniewski", "Zhang",
            "Chaudhry", "Hussain", "Kaur", "Abdi", "Warsame", "Haile", "Osei", "Boateng", "Mahmoud",
            "Petrauskas", "Horvath", "Dimitrov", "Ferreira", "Lloyd-Williams", "Baker", "Green",
            "Wood", "Hall", "Young", "Khan", "Evans", "Murphy", "Gallagher", "O'Sullivan",
            "McGregor", "Ogunleye", "Mwangi", "Kaczmarek", "Sandhu", "Gill", "Rahman", "Ozturk",
            "Ivanova", "Schmidt", "Müller", "Çelik", "Walsh", "Doyle", "Henderson", "Ferguson",
        ],
        "street": [
            "Mill Lane", "Foundry Road", "Carlton Avenue", "Beech Close", "Station Approach",
            "Priory Road", "Elmfield Drive", "Grange Crescent", "Tannery Way", "Church Street",
            "Orchard Gardens", "Canal Walk", "Hatton Terrace", "Barley Mews", "Kingfisher Court",
            "Market Place", "Castle Hill", "Osier Row", "Fairfield Rise", "Albion Parade",
            "Brook Green", "Nelson Square", "St Mary's Road", "Old Forge Lane", "Queen's Road",
            "Holloway Grove", "Meadowsweet View", "Willow Bank Road", "Chapel Street", "Sandy Lane",
        ],
        "town": ["Nexford", "Lower Brayton", "Ashcombe", "Kings Wendle", "Hollinsworth", "Castle Tarrow"],
    },
    "held_out": {
        "first": [
            "Thomas", "Aisling", "Chidi", "Magdalena", "Rohan", "Esi", "Emre", "Andreea", "Kacper",
            "Naledi", "Fionnuala", "Rory", "Anjali", "Hyun-woo", "Efua", "Simone", "Bogdan", "Iwona",
            "Kamal", "Shazia", "Ewan", "Morag", "Kieran", "Leila", "Marcel", "Nadia", "Orla", "Pavel",
            "Sadia", "Tariq", "Uchenna", "Vytautas", "Wanjiru", "Xavier", "Yaw", "Zofia", "Ciarán",
            "Dorota", "Elif", "Florin", "Gareth", "Halima", "Ilir", "Jovana", "Kofi", "Lindiwe",
            "Marta", "Nikhil", "Obinna", "Petra", "Qasim", "Samir", "Teodora", "Vikram", "Wei",
            "Zeynep", "Ayodele", "Björn", "Reuben", "Stacey-Marie", "Hannah", "Ruby", "Bradley",
        ],
        "surname": [
            "Taylor", "O'Connor", "McKenzie", "Wójcik", "Eze", "Shah", "Tran", "Lewandowski", "Kaya",
            "Ionescu", "Asante", "Hassan", "Akter", "Davies", "Quinn", "dos Santos", "de Groot",
            "Barnes-Whitfield", "Oyelaran-Smith", "MacDonald", "Dąbrowski", "Liu", "Mirza", "Iqbal",
            "Dhillon", "Jama", "Tesfaye", "Owusu", "Appiah", "Abdullah", "Jankauskas", "Kovács",
            "Georgiev", "Pereira", "Price-Jones", "Fisher", "Black", "Marsh", "Cook", "Parker",
            "Stone", "Hughes", "Roberts", "Kelly", "Byrne", "O'Reilly", "McLaughlin", "Adebayo",
            "Kamau", "Bakker", "Zielinski", "Bains", "Sidhu", "Uddin", "Hossain", "Malik", "Aydin",
            "Şahin", "Petrova", "Kuznetsov", "Fischer", "Lynch", "Reid", "Sinclair", "Nwosu",
        ],
        "street": [
            "Tanners Lane", "Brickfield Road", "Laburnum Avenue", "Rowan Close", "Wharf Street",
            "Abbey Road", "Hazel Drive", "Ferndale Crescent", "Ropewalk Way", "Cross Street",
            "Cherry Tree Gardens", "Towpath Walk", "Victoria Terrace", "Coach House Mews",
            "Heron Court", "Corn Exchange Place", "Windmill Hill", "Weavers Row", "Ridgeway Rise",
            "Sovereign Parade", "Village Green", "Trinity Square", "St John's Road", "Bell Lane",
            "Prince's Avenue", "Lime Grove", "Larkspur View", "Bridge End Road", "Union Street",
        ],
        "town": ["Welham", "Upper Caddon", "Marshby", "Stoke Ferrers", "Oldacre", "Penrith Vale"],
    },
}

TITLES = ["Mr", "Mrs", "Ms", "Miss", "Dr", "Mx", "Mr", "Mrs", "Ms"]
RANKS = ["DC", "PC", "DS", "Sgt", "Insp", "PCSO", "DI", "Sgt.", "Insp.", "DCI", "PC", "DC"]
LOWER_TITLES = ["mr", "mrs", "ms", "miss"]

# Cues the name forms use on their own ({who}); templates add their own cues around {name}.
CUES = {
    "dev": ["victim", "suspect", "offender", "witness", "complainant", "informant", "caller",
            "the patient", "casualty", "occupant", "her partner", "his brother", "their neighbour",
            "a male named", "a female called", "a youth known as", "landlord", "tenant", "driver",
            "IP", "her son", "mother", "aggrieved", "the resident"],
    "held_out": ["suspect", "victim", "the injured party", "the occupier", "resident",
                 "her ex-partner", "his stepson", "next of kin", "NOK", "pt", "a man calling himself",
                 "the caller", "their carer", "the tenant", "the householder", "the cyclist",
                 "her grandson", "a woman known as", "the driver", "witness", "father", "passenger",
                 "sister", "complainant"],
}
LOWER_CUES = {
    "dev": ["victim", "suspect", "witness", "caller", "patient", "her son", "his partner", "a male named",
            "a female called", "a lad known as"],
    "held_out": ["suspect", "victim", "offender", "informant", "pt", "her daughter", "the tenant",
                 "a woman called", "someone named", "a youth known as"],
}
STRONG_LOWER_CUES = {
    "dev": ["a male named ", "a female called ", "a lad known as ", "someone called "],
    "held_out": ["a woman called ", "someone named ", "a youth known as ", "a man calling himself "],
}

# ---------------------------------------------------------------------------------------------
# Rendering: a template is text with {slots}; each slot renders to text plus labelled spans.

Piece = tuple[str, list[Span]]  # text, spans relative to the piece


def _cased(text: str, case: str) -> str:
    if case == "lower":
        out = text.lower()
    elif case == "upper":
        out = text.upper()
    else:
        return text
    return out if len(out) == len(text) else text


class _Gen:
    def __init__(self, part: str, rng: random.Random) -> None:
        self.part = part
        self.rng = rng
        self.pool = POOLS[part]

    def pick(self, items: list[str]) -> str:
        return self.rng.choice(items)

    def digits(self, n: int) -> str:
        return "".join(str(self.rng.randrange(10)) for _ in range(n))

    # -- names ------------------------------------------------------------------------------

    def _first(self) -> str:
        return self.pick(self.pool["first"])

    def _sur(self) -> str:
        return self.pick(self.pool["surname"])

    def bare_name(self, case: str) -> Piece:
        """A name to put after a cue the template already has ("Victim {name} states")."""
        first, sur = self._first(), self._sur()
        if case == "lower":
            form = self.rng.choice(["full", "full", "full", "first"])
            text = {"full": f"{first} {sur}", "first": first}[form].lower()
        elif case == "upper":
            form = self.rng.choice(["full", "full", "surname_first"])
            text = {"full": f"{first} {sur}", "surname_first": f"{sur}, {first}"}[form].upper()
        else:
            form = self.rng.choices(
                ["full", "first_SURNAME", "SURNAME_comma_first", "initial_surname", "first", "three_part"],
                weights=[8, 3, 3, 2, 2, 1],
            )[0]
            middle = self._first()
            text = {
                "full": f"{first} {sur}",
                "first_SURNAME": f"{first} {sur.upper()}",
                "SURNAME_comma_first": f"{sur.upper()}, {first}",
                "initial_surname": f"{first[0]}. {sur}",
                "first": first,
                "three_part": f"{first} {middle} {sur}",
            }[form]
        return text, [Span("name", 0, len(text), form=f"cued_{form}_{case}")]

    def who(self, case: str, at_start: bool = False) -> Piece:
        """A self-contained mention of a person: the form carries its own title or cue (or none).
        At the start of a sentence (the template's own verb follows) a bare name is one of the forms."""
        first, sur = self._first(), self._sur()
        rng = self.rng
        if case == "lower":
            form = rng.choices(["title", "title_full", "cue_full", "strong_cue_first", "hard_uncued"],
                               weights=[4, 4, 8, 3, 1 if at_start else 0])[0]
            if form == "title":
                head, name = rng.choice(LOWER_TITLES) + " ", sur.lower()
            elif form == "title_full":
                head, name = rng.choice(LOWER_TITLES) + " ", f"{first} {sur}".lower()
            elif form == "cue_full":
                head, name = rng.choice(LOWER_CUES[self.part]) + " ", f"{first} {sur}".lower()
            elif form == "strong_cue_first":
                head, name = rng.choice(STRONG_LOWER_CUES[self.part]), first.lower()
            else:
                head, name = "", f"{first} {sur}".lower()
        elif case == "upper":
            form = rng.choices(["title", "title_full", "cue_full", "hard_uncued"],
                               weights=[4, 4, 6, 1 if at_start else 0])[0]
            if form == "title":
                head, name = rng.choice(["MR ", "MRS ", "MS ", "MISS ", "DR "]), sur.upper()
            elif form == "title_full":
                head, name = rng.choice(["MR ", "MRS ", "MS ", "MISS "]), f"{first} {sur}".upper()
            elif form == "cue_full":
                head, name = rng.choice(CUES[self.part]).upper() + " ", f"{first} {sur}".upper()
            else:
                head, name = "", f"{first} {sur}".upper()
        else:
            form = rng.choices(
                ["title_surname", "title_full", "title_initial", "rank_surname", "rank_collar",
                 "initial_surname", "SURNAME_comma_first", "first_SURNAME", "cue_full", "cue_first",
                 "title_particle", "uncued_full", "hard_lone_surname", "hard_uncued"],
                weights=[10, 8, 5, 7, 3, 5, 6, 5, 14, 4, 2, 8 if at_start else 0, 1, 1],
            )[0]
            if form == "title_surname":
                head, name = rng.choice(TITLES) + " ", sur
            elif form == "title_full":
                head, name = rng.choice(TITLES) + " ", f"{first} {sur}"
            elif form == "title_initial":
                initials = rng.choice([f"{first[0]}. ", f"{first[0]} ", f"{first[0]}.{self._first()[0]}. "])
                head, name = rng.choice(TITLES) + " ", f"{initials}{sur}"
            elif form == "rank_surname":
                head, name = rng.choice(RANKS) + " ", sur
            elif form == "rank_collar":
                rank = rng.choice(["PC", "DC", "PCSO", "PS"])
                head = rng.choice([f"{rank} {self.digits(4)} ", f"{rank}{self.digits(4)} "])
                name = sur
            elif form == "initial_surname":
                head, name = "", rng.choice([f"{first[0]}. {sur}", f"{first[0]}.{self._first()[0]}. {sur}",
                                             f"{first[0]} {sur}"])
            elif form == "SURNAME_comma_first":
                head, name = "", rng.choice([f"{sur.upper()}, {first}", f"{sur.upper()}, {first} {self._first()}"])
            elif form == "first_SURNAME":
                head, name = "", f"{first} {sur.upper()}"
            elif form == "cue_full":
                head, name = rng.choice(CUES[self.part]) + " ", f"{first} {sur}"
            elif form == "cue_first":
                head, name = rng.choice(CUES[self.part]) + " ", first
            elif form == "title_particle":
                particle_sur = rng.choice(["da Silva", "van der Berg", "de Groot", "dos Santos", "al-Rashid",
                                           "bin Yusof", "de la Cruz", "ap Rhys", "Ní Bhriain", "van Dijk"])
                head, name = rng.choice(TITLES) + " ", rng.choice([particle_sur, f"{first} {particle_sur}"])
            elif form == "uncued_full":  # at the start, before the template's verb ("... reported that")
                head, name = "", f"{first} {sur}"
            elif form == "hard_lone_surname":
                head, name = "", sur
            else:  # hard_uncued
                head, name = "", f"{first} {sur}"
        text = head + name
        return text, [Span("name", len(head), len(text), form=form)]

    # -- numbers ----------------------------------------------------------------------------

    def phone(self, case: str) -> Piece:
        rng, d = self.rng, self.digits
        form = rng.choice(["mobile", "mobile_compact", "mobile_grouped", "mobile_intl", "mobile_intl_compact",
                           "mobile_intl_zero", "mobile_dashed", "mobile_0044", "landline_area5",
                           "landline_area4_dashed", "landline_bracket", "landline_bracket4", "london",
                           "london_intl", "landline_intl_zero", "landline_compact", "03", "foreign"])
        mob = "7" + rng.choice(["700", "400", "500", "800", "900", "300"]) + d(6)
        area5 = rng.choice(["1632", "1926", "1788", "1522", "1392", "1603", "1865", "1223"])
        area4 = rng.choice(["113", "114", "115", "116", "117", "118", "121", "131", "141", "151", "161", "191"])
        text = {
            "mobile": f"0{mob[:4]} {mob[4:]}",
            "mobile_compact": f"0{mob}",
            "mobile_grouped": f"0{mob[:4]} {mob[4:7]} {mob[7:]}",
            "mobile_intl": f"+44 {mob[:4]} {mob[4:]}",
            "mobile_intl_compact": f"+44{mob}",
            "mobile_intl_zero": f"+44 (0) {mob[:4]} {mob[4:7]} {mob[7:]}",
            "mobile_dashed": f"0{mob[:4]}-{mob[4:7]}-{mob[7:]}",
            "mobile_0044": f"0044 {mob[:4]} {mob[4:]}",
            "landline_area5": f"0{area5} {d(6)}",
            "landline_area4_dashed": f"0{area4}-{d(3)}-{d(4)}",
            "landline_bracket": f"(0{area5}) {d(3)} {d(3)}",
            "landline_bracket4": f"(0{area4}) {d(3)} {d(4)}",
            "london": f"020 {rng.choice('378')}{d(3)} {d(4)}",
            "london_intl": f"+44 20 {rng.choice('378')}{d(3)} {d(4)}",
            "landline_intl_zero": f"+44 (0){area5} {d(6)}",
            "landline_compact": f"0{area4}{d(7)}",
            "03": f"0{rng.choice(['300', '330', '345'])} {d(3)} {d(4)}",
            "foreign": rng.choice([f"+48 {d(3)} {d(3)} {d(3)}", f"+353 8{d(1)} {d(3)} {d(4)}",
                                   f"+40 7{d(2)} {d(3)} {d(3)}", f"+33 6 {d(2)} {d(2)} {d(2)} {d(2)}",
                                   f"+234 80{d(1)} {d(3)} {d(4)}", f"+370 6{d(2)} {d(5)}"]),
        }[form]
        return text, [Span("phone", 0, len(text), form=form)]

    def nhs(self, case: str, cued: bool = True) -> Piece:
        rng = self.rng
        digits = valid_nhs_digits(rng)
        check = int(digits[9])
        form = "valid"
        if cued and rng.random() < 0.12:  # a typing error in the check digit, after an NHS cue
            digits = digits[:9] + str((check + rng.randrange(1, 9)) % 10)
            form = "mistyped"
        style = rng.choice(["spaced", "spaced", "compact", "dashed", "spaced_3_7"])
        text = {
            "spaced": f"{digits[:3]} {digits[3:6]} {digits[6:]}",
            "compact": digits,
            "dashed": f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
            "spaced_3_7": f"{digits[:3]} {digits[3:]}",
        }[style]
        return text, [Span("nhs_number", 0, len(text), form=f"{form}_{style}")]

    def ni(self, case: str) -> Piece:
        rng = self.rng
        first_ok, second_ok = "ABCEGHJKLMNOPRSTWXYZ", "ABCEGHJKLMNPRSTWXYZ"
        while True:
            prefix = rng.choice(first_ok) + rng.choice(second_ok)
            if prefix not in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}:
                break
        if rng.random() < 0.08:
            prefix = "QQ"  # the specimen prefix HMRC prints on forms, copied into notes
        d, suffix = self.digits(6), rng.choice("ABCD")
        form = rng.choice(["compact", "pairs", "block", "dashed", "lower", "pairs_nosuffix_space"])
        text = {
            "compact": f"{prefix}{d}{suffix}",
            "pairs": f"{prefix} {d[:2]} {d[2:4]} {d[4:]} {suffix}",
            "block": f"{prefix} {d} {suffix}",
            "dashed": f"{prefix}-{d[:2]}-{d[2:4]}-{d[4:]}-{suffix}",
            "lower": f"{prefix}{d}{suffix}".lower(),
            "pairs_nosuffix_space": f"{prefix}{d[:2]} {d[2:4]} {d[4:]}{suffix}",
        }[form]
        return _cased(text, case), [Span("ni_number", 0, len(text), form=form)]

    def email(self, case: str) -> Piece:
        rng = self.rng
        first = re.sub(r"[^a-z]", "", self._first().lower().encode("ascii", "ignore").decode())
        last = re.sub(r"[^a-z]", "", self._sur().lower().encode("ascii", "ignore").decode())
        local = rng.choice([f"{first}.{last}", f"{first[0]}{last}{rng.randrange(1, 99)}", f"{first}_{last}",
                            f"{first}{rng.randrange(1960, 2012)}", f"{first}.{last}+housing", f"{last}.{first}",
                            f"{first}-{last}", f"{last}{first[0]}"])
        domain = rng.choice(["gmail.com", "hotmail.co.uk", "outlook.com", "yahoo.co.uk", "btinternet.com",
                             "icloud.com", "nexford.gov.uk", "nhs.net", "live.co.uk", "protonmail.com",
                             "student.nexford-college.ac.uk", "northshire.police.uk", "mail.example-isp.net"])
        text = f"{local}@{domain}"
        form = "plain"
        if rng.random() < 0.1:
            text, form = text.upper(), "upper"
        return _cased(text, case), [Span("email", 0, len(text), form=form)]

    def postcode(self, case: str) -> Piece:
        rng = self.rng
        inward = str(rng.randrange(10)) + "".join(rng.choice("ABDEFGHJLNPQRSTUWXYZ") for _ in range(2))
        fmt = rng.choice(["A9", "A99", "A9A", "AA9", "AA99", "AA9A"])
        area1 = rng.choice("BEGLMNS")
        area2 = rng.choice(["CV", "LE", "NX", "OX", "GL", "WR", "WS", "DY", "NE", "LS", "BS", "CF", "EH", "BT", "PL",
                            "SW", "EC", "WC", "NW", "SE"])
        outward = {
            "A9": f"{area1}{rng.randrange(1, 10)}",
            "A99": f"{area1}{rng.randrange(10, 100)}",
            "A9A": f"{rng.choice('EWN')}{rng.randrange(1, 10)}{rng.choice('ABCDEFGHJKPSTUW')}",
            "AA9": f"{area2}{rng.randrange(1, 10)}",
            "AA99": f"{area2}{rng.randrange(10, 100)}",
            "AA9A": (f"{rng.choice(['SW', 'EC', 'WC', 'NW', 'SE'])}{rng.randrange(1, 10)}"
                     f"{rng.choice('ABCDEFGHJKPSTUW')}"),
        }[fmt]
        style = rng.choice(["spaced", "spaced", "compact", "lower", "lower_compact"])
        text = {"spaced": f"{outward} {inward}", "compact": f"{outward}{inward}",
                "lower": f"{outward} {inward}".lower(), "lower_compact": f"{outward}{inward}".lower()}[style]
        return _cased(text, case), [Span("postcode", 0, len(text), form=f"{fmt}_{style}")]

    def address(self, case: str) -> Piece:
        """A house number and street; may carry a flat number too (two spans)."""
        rng = self.rng
        street = self.pick(self.pool["street"])
        n = str(rng.randrange(1, 300))
        form = rng.choice(["plain", "plain", "letter", "comma", "no_dot", "no_space", "number_word", "range",
                           "flat_comma", "flat_space", "flat_letter", "apartment", "flat_block", "upper",
                           "lower", "house_number_words"])
        spans: list[Span] = []

        def add(text: str, piece: str, anchor: str) -> None:
            at = text.index(piece)
            spans.append(Span("house_number", at, at + len(piece), anchor, form))

        if form == "plain":
            text = f"{n} {street}"
            add(text, n, "next")
        elif form == "letter":
            num = n + rng.choice("abAB")
            text = f"{num} {street}"
            add(text, num, "next")
        elif form == "comma":
            text = f"{n}, {street}"
            add(text, n, "next")
        elif form == "no_dot":
            text = f"No {n} {street}"
            add(text, n, "next")
        elif form == "no_space":
            text = f"No.{n} {street}"
            spans.append(Span("house_number", 3, 3 + len(n), "next", form))
        elif form == "number_word":
            text = f"{rng.choice(['no.', 'number', 'No.'])} {n} {street}"
            at = text.index(f" {n} ") + 1
            spans.append(Span("house_number", at, at + len(n), "next", form))
        elif form == "range":
            num = f"{n}-{int(n) + 2}"
            text = f"{num} {street}"
            add(text, num, "next")
        elif form in ("flat_comma", "flat_space", "flat_letter", "apartment"):
            word = "Apartment" if form == "apartment" else "Flat"
            k = str(rng.randrange(1, 40)) + ("" if form != "flat_letter" else rng.choice("ABC"))
            sep = " " if form == "flat_space" else ", "
            text = f"{word} {k}{sep}{n} {street}"
            spans.append(Span("house_number", len(word) + 1, len(word) + 1 + len(k), "prev", form))
            at = len(word) + 1 + len(k) + len(sep)
            spans.append(Span("house_number", at, at + len(n), "next", form))
        elif form == "flat_block":
            block = rng.choice(["Heron Court", "Tannery House", "Foundry Court", "Alder House"])
            k = str(rng.randrange(1, 60))
            text = f"Flat {k}, {block}, {street}"
            spans.append(Span("house_number", 5, 5 + len(k), "prev", form))
        elif form == "upper":
            text = f"{n} {street.upper()}"
            add(text, n, "next")
        elif form == "lower":
            text = f"{n} {street.lower()}"
            add(text, n, "next")
        else:  # house_number_words
            text = f"house number {n}, {street}"
            at = len("house number ")
            spans.append(Span("house_number", at, at + len(n), "next", form))
        return _cased(text, case), spans

    def dob(self, case: str, with_cue: bool = True) -> Piece:
        rng = self.rng
        year = rng.randrange(1938, 2016)
        month = rng.randrange(1, 13)
        day = rng.randrange(1, 29)
        months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December"]
        mname = months[month - 1]
        ordinal = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(day, "th")
        form = rng.choice(["dmy_slash", "dmy_slash_short", "dmy_dash_short", "dmy_dot", "iso", "d_month_y",
                           "dth_mon_y", "d_mon_y_short", "dmy_slash_nopad", "month_d_y", "dth_of_month_y"])
        date = {
            "dmy_slash": f"{day:02d}/{month:02d}/{year}",
            "dmy_slash_short": f"{day:02d}/{month:02d}/{year % 100:02d}",
            "dmy_dash_short": f"{day:02d}-{month:02d}-{year % 100:02d}",
            "dmy_dot": f"{day:02d}.{month:02d}.{year}",
            "iso": f"{year}-{month:02d}-{day:02d}",
            "d_month_y": f"{day} {mname} {year}",
            "dth_mon_y": f"{day}{ordinal} {mname[:3]} {year}",
            "d_mon_y_short": f"{day}-{mname[:3]}-{year % 100:02d}",
            "dmy_slash_nopad": f"{day}/{month}/{year}",
            "month_d_y": f"{mname} {day}, {year}",
            "dth_of_month_y": f"{day}{ordinal} of {mname} {year}",
        }[form]
        if not with_cue:
            text = _cased(date, case)
            return text, [Span("date_of_birth", 0, len(text), form=form)]
        cue = rng.choice(["born ", "born on ", "DOB ", "DOB: ", "D.O.B. ", "D.O.B: ", "dob ", "date of birth ",
                          "Date of birth: ", "b. ", "DoB ", "(DOB ", "born on the "])
        if cue == "born on the " and not form.startswith(("dth", "d_month")):
            cue = "born on "
        text = cue + date + (")" if cue.startswith("(") else "")
        text = _cased(text, case)
        return text, [Span("date_of_birth", len(cue), len(cue) + len(date), form=form)]

    def vrm(self, case: str) -> Piece:
        rng = self.rng
        letters = "ABCDEFGHJKLMNOPRSTUVWXY"
        form = rng.choice(["current", "current", "current_compact", "current_lower", "prefix", "prefix_compact",
                           "suffix", "suffix_compact", "prefix_lower", "current_two_spaces"])
        age = rng.choice([f"{y:02d}" for y in range(2, 25)] + [str(y) for y in range(51, 75)])
        area = rng.choice(["AB", "BD", "CV", "DY", "EF", "FN", "GX", "HK", "KP", "LR", "MA", "NX", "OU", "PK",
                           "RV", "SN", "WK", "YC", "YR", "LN", "EY", "VU"])
        rand3 = "".join(rng.choice("ABCDEFGHJKLMNOPRSTUVWXYZ") for _ in range(3))
        year_letter = rng.choice("ABCDEFGHJKLMNPRSTVWXY")
        digits = str(rng.randrange(1, 1000))
        text = {
            "current": f"{area}{age} {rand3}",
            "current_compact": f"{area}{age}{rand3}",
            "current_lower": f"{area}{age} {rand3}".lower(),
            "current_two_spaces": f"{area} {age} {rand3}",
            "prefix": f"{year_letter}{digits} {rng.choice(letters)}{rng.choice(letters)}{rng.choice(letters)}",
            "prefix_compact": f"{year_letter}{digits}{rand3}",
            "prefix_lower": f"{year_letter}{digits} {rand3}".lower(),
            "suffix": f"{rand3} {digits}{year_letter}",
            "suffix_compact": f"{rand3}{digits}{year_letter}",
        }[form]
        return _cased(text, case), [Span("vehicle_registration", 0, len(text), form=form)]

    # -- fillers (no identifier) ------------------------------------------------------------

    def street(self, case: str) -> Piece:
        return _cased(self.pick(self.pool["street"]), case), []

    def town(self, case: str) -> Piece:
        return _cased(self.pick(self.pool["town"]), case), []

    def time(self, case: str) -> Piece:
        h, m = self.rng.randrange(24), self.rng.choice([0, 5, 10, 15, 20, 30, 40, 45, 50, 55])
        return self.rng.choice([f"{h:02d}:{m:02d}", f"{h:02d}{m:02d} hrs", f"{h:02d}:{m:02d}hrs"]), []

    def date(self, case: str) -> Piece:
        y, mo, d = self.rng.randrange(2019, 2026), self.rng.randrange(1, 13), self.rng.randrange(1, 29)
        return self.rng.choice([f"{d:02d}/{mo:02d}/{y}", f"{d}/{mo}/{y % 100}", f"{y}-{mo:02d}-{d:02d}",
                                f"{d:02d}.{mo:02d}.{y}"]), []

    def amount(self, case: str) -> Piece:
        rng = self.rng
        return rng.choice([f"£{rng.randrange(5, 95)}", f"£{rng.randrange(1, 9)},{rng.randrange(100, 999)}",
                           f"£{rng.randrange(100, 999)}.00"]), []

    def age(self, case: str) -> Piece:
        return str(self.rng.randrange(13, 90)), []


_SLOTS: dict[str, Callable[[_Gen, str], Piece]] = {
    "who": _Gen.who,
    "name": _Gen.bare_name,
    "phone": _Gen.phone,
    "nhs": _Gen.nhs,
    "ni": _Gen.ni,
    "email": _Gen.email,
    "postcode": _Gen.postcode,
    "address": _Gen.address,
    "dob": _Gen.dob,
    "dob_date": lambda g, case: g.dob(case, with_cue=False),
    "vrm": _Gen.vrm,
    "street": _Gen.street,
    "street2": _Gen.street,
    "town": _Gen.town,
    "time": _Gen.time,
    "date": _Gen.date,
    "amount": _Gen.amount,
    "age": _Gen.age,
    "who2": _Gen.who,
    "phone2": _Gen.phone,
}


def _render(gen: _Gen, template: str, case: str) -> tuple[str, list[Span]]:
    out: list[str] = []
    spans: list[Span] = []
    pos = 0
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        out.append(literal)
        pos += len(literal)
        if field is None:
            continue
        text, rel = gen.who(case, at_start=True) if field == "who" and pos == 0 else _SLOTS[field](gen, case)
        for s in rel:
            spans.append(Span(s.kind, pos + s.start, pos + s.end, s.anchor, s.form))
        out.append(text)
        pos += len(text)
    return "".join(out), spans


# ---------------------------------------------------------------------------------------------
# Templates: (case, text). "case" is how the template is written ("normal", "lower", "upper"); the
# slot values follow it.

TEMPLATES: dict[str, dict[str, list[tuple[str, str]]]] = {
    "dev": {
        "name": [
            ("normal", "{who} reported that the bicycle was taken from the communal hallway overnight."),
            ("normal", "Officers attended and spoke to {who}, who was intoxicated and abusive."),
            ("normal", "Letter sent to {who} regarding fly-tipping behind the garages on {street}."),
            ("normal", "Victim {name} states the male punched her twice to the face with a closed fist."),
            ("normal", "Suspect {name} made off on foot towards {street} carrying a lock knife."),
            ("normal", "Statement taken from {who} at {time}; no injuries sustained."),
            ("normal", "Repeat ASB: {who} shouting abuse at neighbours most evenings since {date}."),
            ("normal", "Pt brought in by ambulance; {who} (next of kin) informed at {time}."),
            ("normal", "Fire crews were met by {who}, who had escaped through the rear door."),
            ("normal", "Witness {name} saw two males kicking the door of the takeaway."),
            ("normal", "Safeguarding referral completed by {who} following the disclosure."),
            ("normal", "Cannabis factory found; tenancy in the name of {who}."),
            ("normal", "Complainant {name} has received 40 messages since {date}, all from withheld numbers."),
            ("normal", "{who} was seen on CCTV leaving the shop with 3 bottles of vodka."),
            ("normal", "Council officer visited {who} about the untidy garden and the rats."),
            ("normal", "Dealt with by {who}; words of advice given and the matter filed."),
            ("normal", "Domestic incident: {who} pushed the victim against the wall during an argument."),
            ("normal", "Arson: wheelie bin set alight; {who} admits being in the area at {time}."),
            ("normal", "Injured party {name} treated for a laceration to the left forearm."),
            ("normal", "Landlord {name} has served notice on the tenants after repeated complaints."),
            ("normal", "Kitchen fire caused by unattended cooking; {who} treated for smoke inhalation."),
            ("normal", "Offender {name} is subject to a Community Protection Notice."),
            ("lower", "spoke to {who} re the noise, advised to keep it down after 2300."),
            ("lower", "{who} came to the counter to report her purse stolen on the bus."),
            ("lower", "pt says {who} hit him with a bottle outside the club at approx {time}."),
            ("upper", "{who} REPORTS THAT HIS VAN WAS BROKEN INTO OVERNIGHT AND TOOLS TAKEN."),
            ("upper", "OFFICERS SPOKE TO {who} AT THE SCENE, WHO DENIED ANY INVOLVEMENT."),
            ("normal", "{who} and {who2} were both arrested for affray outside the Crown at {time}."),
            ("normal", "Officers arrested {name} on suspicion of burglary at {time}."),
            ("normal", "Male identified as {name} from the CCTV stills circulated on {date}."),
            ("normal", "Spoke to {name} about the parking outside the school gates."),
            ("lower", "spoke to {name} who says the dog is not hers"),
            ("upper", "MALE NAMED AS {name} ARRESTED AT THE SCENE."),
        ],
        "phone": [
            ("normal", "Victim can be contacted on {phone} after 6pm."),
            ("normal", "Caller gave a mobile number of {phone} and asked for an update."),
            ("normal", "Threatening texts received from {phone} between 22:00 and 23:30."),
            ("normal", "Landlord contact {phone} for access to the communal areas."),
            ("normal", "Next of kin contact number: {phone} (daughter)."),
            ("normal", "Silent calls to the victim's landline from {phone} on {date}."),
            ("normal", "Housing officer left a voicemail on {phone} asking for a call back."),
            ("normal", "Please call back on {phone}, not the landline."),
            ("normal", "Neighbour's number ({phone}) given for the key holder."),
            ("lower", "tel {phone} - prefers text, works nights"),
            ("upper", "CONTACT NUMBER {phone} FOR THE OCCUPIER."),
            ("normal", "Suspect's phone {phone} seized and sent for download."),
        ],
        "nhs_number": [
            ("normal", "Patient NHS number {nhs} recorded by the ambulance crew."),
            ("normal", "Safeguarding referral made, NHS no. {nhs}, to adult social care."),
            ("normal", "Mental health team notified (NHS {nhs}) following the welfare check."),
            ("normal", "NHS Number: {nhs}. Discharged from ED at 0400 hrs."),
            ("normal", "Handover sheet shows NHS No {nhs} and a history of falls."),
            ("lower", "nhs no {nhs} - frequent attender, known to the crisis team"),
            ("normal", "GP surgery confirmed the NHS number as {nhs} for the referral."),
            ("upper", "NHS NO: {nhs} ATTENDED ED WITH A HEAD INJURY."),
        ],
        "ni_number": [
            ("normal", "Suspect gave NI number {ni} when booked into custody."),
            ("normal", "Benefit fraud referral: claimant NINO {ni} linked to two addresses."),
            ("normal", "Employer provided National Insurance number {ni} for the staff member."),
            ("normal", "Documents seized included a payslip showing {ni}."),
            ("normal", "Identity confirmed from NI no {ni} held by the housing team."),
            ("lower", "ni {ni} given verbally, not checked"),
            ("upper", "NINO {ni} PROVIDED BY THE DETAINED PERSON."),
            ("normal", "Housing benefit claim (NI {ni}) suspended pending review."),
        ],
        "email": [
            ("normal", "Victim emailed photographs of the damage from {email} this morning."),
            ("normal", "Contact via {email} preferred, victim works nights."),
            ("normal", "Abusive messages sent from the account {email} over the weekend."),
            ("normal", "Statement to be sent to {email} for signature."),
            ("normal", "Complaint received by e-mail ({email}) about the noise from the pub."),
            ("normal", "Please copy {email} into all updates."),
            ("lower", "email: {email}"),
            ("normal", "Fake account <{email}> used to message the child."),
        ],
        "postcode": [
            ("normal", "Vehicle recovered burnt out near {postcode} at approx 0500 hrs."),
            ("normal", "Youths gathering by the parade of shops, {town} {postcode}, most evenings."),
            ("normal", "Fly-tipping reported on the verge, postcode {postcode}."),
            ("normal", "Suspect believed to be staying at an address in {postcode}."),
            ("normal", "Cannabis smell reported from a property near {postcode}."),
            ("normal", "Fire crews sent to a shed fire at the allotments ({postcode})."),
            ("lower", "youths on bikes again by the shops {postcode}"),
            ("upper", "REPORT OF A MALE WITH A KNIFE NEAR {postcode}."),
        ],
        "house_number": [
            ("normal", "Burglary at {address}: entry gained via an insecure rear door."),
            ("normal", "Suspects seen outside {address} at approx {time}."),
            ("normal", "Criminal damage to a vehicle parked outside {address}, {town}."),
            ("normal", "Neighbour dispute between the residents of {address} and the house next door."),
            ("normal", "Bin store set alight behind {address} in the early hours."),
            ("normal", "Parcel stolen from the doorstep of {address} shortly after delivery."),
            ("normal", "Smoke alarm fitted at {address} during the home fire safety visit."),
            ("normal", "Noise complaint about loud music from {address} until 0300."),
            ("lower", "door kicked in at {address}, nothing taken"),
            ("upper", "FIRE IN THE KITCHEN AT {address}, ALL OCCUPANTS OUT ON ARRIVAL."),
        ],
        "date_of_birth": [
            ("normal", "Suspect described as white male, {dob}, slim build, shaved head."),
            ("normal", "Patient {dob} self-presented to ED with a stab wound to the thigh."),
            ("normal", "Missing person, {dob}, last seen near the bus station at {time}."),
            ("normal", "Detained person gave {dob} and refused to give an address."),
            ("normal", "Child ({dob}) placed with grandparents by the duty social worker."),
            ("normal", "Occupier, {dob}, lives alone and uses oxygen; referred for a safe and well visit."),
            ("normal", "Victim is a female {dob}, aged {age} at the time."),
            ("lower", "male {dob}, no fixed abode"),
            ("upper", "FEMALE {dob} TAKEN TO HOSPITAL WITH A BROKEN WRIST."),
            ("normal", "Person arrested was born on {dob_date} according to the PNC."),
            ("normal", "Youth, date of birth {dob_date}, spoken to with his mother present."),
        ],
        "vehicle_registration": [
            ("normal", "Suspect vehicle a silver Ford Focus {vrm} seen leaving at speed."),
            ("normal", "ANPR hit on {vrm} on the A46 northbound at {time}."),
            ("normal", "Vehicle {vrm} damaged, nearside wing mirror snapped off."),
            ("normal", "Abandoned car, reg {vrm}, reported on {street} for 3 weeks."),
            ("normal", "Moped {vrm} used in the robbery, false plates suspected."),
            ("normal", "Fire crews attended a car fire, VRM {vrm}, on waste ground."),
            ("normal", "Driver of {vrm} failed to stop for officers on {street}."),
            ("lower", "white transit van reg {vrm} seen dumping rubbish"),
            ("upper", "VEHICLE {vrm} SEEN AT THE SCENE BY A WITNESS."),
            ("normal", "Index {vrm} registered keeper traced, no reply at the address."),
            ("normal", "Black BMW, {vrm}, involved in a road rage incident at {time}."),
        ],
        "mixed": [
            ("normal", "Victim {name} ({dob}) can be contacted on {phone}; lives at {address}."),
            ("normal", "{who}, {dob}, NI {ni}, arrested for theft and taken to custody."),
            ("normal", "Patient {name}, NHS no. {nhs}, {dob}, discharged to {address}, {postcode}."),
            ("normal", "Complainant {name} of {address} emailed from {email} about {vrm} blocking the drive."),
            ("normal", "Caller {name} on {phone} reports {vrm} parked across the dropped kerb at {address}."),
            ("normal", "Referral from {who} ({email}, {phone2}) about a hoarding risk at {address}."),
        ],
    },
    "held_out": {
        "name": [
            ("normal", "CCTV review completed by {who}; footage shows the suspect entering at {time}."),
            ("normal", "Neighbour {name} reports a strong smell of cannabis from the flat below."),
            ("normal", "Hate incident: {who} was called racist names outside the shop on {street}."),
            ("normal", "Fire investigation officer met {who} at the scene to discuss the cause."),
            ("normal", "Victim's partner {name} arrived at ED and became aggressive towards staff."),
            ("normal", "Anti-social behaviour warning issued to {who} by the housing team."),
            ("normal", "Robbery: {who} had her phone snatched by a male on a pedal cycle."),
            ("normal", "Suspect {name} was found hiding in the loft and arrested at {time}."),
            ("normal", "Community trigger application received from {who} after 5 reports in 6 months."),
            ("normal", "Ambulance crew handed over to {who} at 02:10; patient alert and orientated."),
            ("normal", "Informant {name} believes the flat is being used to deal Class A drugs."),
            ("normal", "Shoplifting at the Co-op; {who} detained by staff until police arrived."),
            ("normal", "Bail conditions explained to {who}: not to contact the victim directly or indirectly."),
            ("normal", "Missing from home: {who} left the children's home after an argument with staff."),
            ("normal", "Criminal damage: {who} states that her car windows were smashed with a brick."),
            ("normal", "Wheelie bin fire spread to a fence; {who} used a garden hose before crews arrived."),
            ("normal", "Caller {name} saw a male trying car door handles on {street}."),
            ("normal", "Tenancy warning letter sent to {who} about the dog fouling in the communal garden."),
            ("lower", "{who} says the youths threw eggs at the window again last night"),
            ("lower", "advised {who} to keep a diary sheet and report any further incidents"),
            ("upper", "{who} STATES SHE WAS PUSHED TO THE GROUND AND HER BAG TAKEN."),
            ("upper", "VICTIM {name} REFUSED TO SUPPORT A PROSECUTION."),
            ("normal", "{who} and {who2} were seen arguing in the street shortly before the assault."),
            ("normal", "Detained {name} under Section 136 at {time} and took her to the place of safety."),
            ("normal", "Name given as {name}, not verified; no identification on him."),
            ("normal", "Interviewed {name} under caution, no comment to all questions."),
            ("lower", "name given as {name}, could not confirm"),
            ("upper", "IDENTIFIED AS {name} FROM THE BODY WORN VIDEO."),
        ],
        "phone": [
            ("normal", "Owner of the dog can be reached on {phone}."),
            ("normal", "Voicemail left for the caller on {phone} at {time}."),
            ("normal", "Harassing calls continue from {phone} despite the warning."),
            ("normal", "Key holder for the premises: {phone}."),
            ("normal", "Mother's mobile {phone}, happy to attend the interview."),
            ("lower", "call back on {phone} after 4pm pls"),
            ("upper", "OCCUPIER CONTACTABLE ON {phone}."),
            ("normal", "The scam text came from {phone} claiming to be from the bank."),
            ("normal", "Tel. {phone} (work) or e-mail preferred."),
        ],
        "nhs_number": [
            ("normal", "Ambulance service record lists NHS number {nhs} for the casualty."),
            ("normal", "Referral to the drug and alcohol service, NHS {nhs}."),
            ("normal", "NHS no: {nhs} - known to the community mental health team."),
            ("lower", "nhs number {nhs} on the triage notes"),
            ("normal", "Child protection medical booked; NHS Number {nhs} confirmed with the GP."),
            ("upper", "NHS NUMBER {nhs} RECORDED ON THE PATIENT REPORT FORM."),
        ],
        "ni_number": [
            ("normal", "Tenancy fraud investigation: NI number {ni} used on two applications."),
            ("normal", "Custody record shows National Insurance No. {ni}."),
            ("normal", "Payslips in the name of another person with NINO {ni} found in the car."),
            ("lower", "nino {ni} checked with dwp"),
            ("upper", "NI NO {ni} GIVEN ON ARREST."),
            ("normal", "The claimant's NI number ({ni}) does not match the records held."),
        ],
        "email": [
            ("normal", "Screenshots forwarded from {email} to the investigating officer."),
            ("normal", "Online report submitted by {email} at {time}."),
            ("normal", "Threats made from the e-mail address {email} to the school."),
            ("lower", "contact {email} for the cctv"),
            ("normal", "Housing officer ({email}) to arrange a joint visit."),
            ("normal", "Please reply to {email}, as the victim does not want phone calls."),
        ],
        "postcode": [
            ("normal", "Stolen moped found dumped on the verge near {postcode}."),
            ("normal", "Reports of drug dealing from a car parked near {postcode}."),
            ("normal", "Grass fire on the embankment behind {postcode}, approx 50m by 20m."),
            ("lower", "rubbish dumped again near {postcode}"),
            ("upper", "LOOSE HORSES ON THE ROAD NEAR {postcode}."),
            ("normal", "Victim's home postcode {postcode}; incident took place in {town}."),
        ],
        "house_number": [
            ("normal", "Attempted burglary at {address}, scratch marks on the lock."),
            ("normal", "Smoke seen coming from the roof of {address}."),
            ("normal", "Eggs thrown at the windows of {address} for the third night."),
            ("normal", "Welfare check requested for the elderly occupant of {address}."),
            ("lower", "youths sitting on the wall of {address} smoking cannabis"),
            ("upper", "WATER LEAKING THROUGH THE CEILING AT {address}."),
            ("normal", "Noise abatement notice served on the occupiers of {address}."),
        ],
        "date_of_birth": [
            ("normal", "Detained person ({dob}) declined a solicitor."),
            ("normal", "Casualty, {dob}, conveyed to the major trauma centre."),
            ("normal", "Referral concerns a girl {dob} who is not attending school."),
            ("lower", "female {dob} found collapsed in the stairwell"),
            ("upper", "MALE {dob} ARRESTED FOR BREACH OF THE PEACE."),
            ("normal", "Tenant {dob} has lived at the property since {date}."),
            ("normal", "The passenger, who gave her date of birth as {dob_date}, was uninjured."),
        ],
        "vehicle_registration": [
            ("normal", "Red Vauxhall Corsa {vrm} seen circling the estate."),
            ("normal", "Dashcam footage shows {vrm} cutting across the junction."),
            ("normal", "Motorbike {vrm} ridden on the playing fields without lights."),
            ("lower", "blue astra {vrm} parked on the pavement every day"),
            ("upper", "SUSPECT VEHICLE {vrm} FAILED TO STOP."),
            ("normal", "Car parked across the driveway, registration {vrm}, for 3 days."),
            ("normal", "Taxi {vrm} involved in a fare dispute outside the station."),
        ],
        "mixed": [
            ("normal", "Occupier {name}, {dob}, of {address} contactable on {phone}."),
            ("normal", "{who} ({email}) reported {vrm} being driven dangerously near {postcode}."),
            ("normal", "Custody: {who}, NI {ni}, NHS no {nhs}, released under investigation."),
            ("normal", "Witness {name} of {address} gave mobile {phone} and will provide a statement."),
        ],
    },
}

# How many sentences of each template group to draw per part (names get more: they have many forms).
COUNTS: dict[str, dict[str, int]] = {
    "dev": {"name": 170, "mixed": 40, "other": 60},
    "held_out": {"name": 130, "mixed": 30, "other": 45},
}

# ---------------------------------------------------------------------------------------------
# Clean sentences: no identifier at all, each with traps. Slots fill in non-identifying values.

CLEAN: dict[str, list[str]] = {
    "dev": [
        "Entry gained by forcing the rear patio door with a screwdriver; untidy search of all rooms.",
        "Property stolen: iPhone 14, black, a Michael Kors handbag and £40 cash.",
        "Section 18 wounding outside the kebab shop at 23:15; victim has a stab wound to the back.",
        "Suspect described as a white male, aged 34, slim build, wearing a grey tracksuit.",
        "Class A drugs found in a sock in the glovebox, approx 10 wraps.",
        "Crime code 28/3 recorded; attempt burglary dwelling, nothing taken.",
        "Incident occurred on 12/03/2024 between 22:00 and 23:30.",
        "Youths congregating near the play area on {street}, throwing stones at buses.",
        "Offender made off towards the town centre on a black mountain bike.",
        "Victim punched once to the face, declined medical attention at the scene.",
        "Knife recovered from the drain: 8-inch kitchen knife with a black handle.",
        "Weapon used was a claw hammer, recovered from the garden.",
        "Machete seen in the waistband of one of the males.",
        "Zombie knife and a baseball bat found in the boot of the car.",
        "Suspect brandished a BB gun and demanded cash from the till.",
        "PC attended and took a first account; DC to follow up.",
        "Sgt to review the file before it goes to the CPS.",
        "Insp authorised the Section 60 search powers for the evening.",
        "DS on call informed at 02:40; scene preserved.",
        "Two PCSOs on foot patrol saw the group disperse.",
        "The Dr on duty reviewed the patient and discharged her.",
        "Fire crews from two appliances attended; fire confined to the kitchen.",
        "Smoke alarm not working; home fire safety visit offered and accepted.",
        "Wheelie bin fire spread to the fence panels, approx 3m of damage.",
        "Caveat: information is graded B2 and must not be disclosed to the subject.",
        "Caveat: do not share outside the partnership without the originator's consent.",
        "Aged 16, attends the local academy; referred to the youth offending service.",
        "Victim aged 78, lives alone; referred to the Safer Neighbourhood Team.",
        "Approx £250 cash taken from a charity box on the counter at 09:15.",
        "Shop staff say the same 2 females stole from the store twice this week.",
        "Catalytic converter cut from a Toyota Prius parked at the railway station.",
        "Vehicle damaged on {street}; nearside wing mirror snapped off.",
        "Road traffic collision on the A46 northbound near junction 15; no injuries.",
        "Car left on bricks, all 4 alloy wheels taken, on {street}.",
        "Drugs paraphernalia found in the stairwell, 4 needles recovered.",
        "Section 47 assault: victim kicked to the legs while on the ground.",
        "Public Order Section 4 offence, threats made towards the door staff.",
        "Theft from motor vehicle: sat nav and sunglasses taken, window smashed.",
        "Fraud: victim tricked into transferring £1,200 to a 'safe account'.",
        "Cuckooing concerns: vulnerable adult's flat believed to be used by dealers.",
        "Referral to MARAC made; DASH risk assessment scored high.",
        "Victim Support referral offered and accepted.",
        "Witness Care Unit to update the victim on the court date.",
        "Offender Management Unit informed of the breach.",
        "Noise complaint about a party, music until 0400 hrs.",
        "Fly-tipping at the rear of the shops on {street}, approx 6 black bags.",
        "Graffiti sprayed on the bus shelter opposite the park, approx 2m x 1m.",
        "Dog fouling and littering raised at the PACT meeting on {date}.",
        "Abandoned shopping trolleys in the brook near {street}.",
        "Motorbikes ridden on the playing fields every evening after 19:00.",
        "Suspect wore a dark hoodie, jeans and white trainers; approx 5ft 10in.",
        "Approx 10-15 youths setting off fireworks near the primary school.",
        "Victim's Ring doorbell ripped off the wall at 03:40.",
        "Wallet containing bank cards taken from a handbag hung on a chair in the cafe.",
        "Attempted break-in: scratch marks around the lock of the uPVC front door.",
        "Victim states the male was known to her but refused to give further details.",
        "Suspect made off in a dark hatchback heading towards the M40.",
        "Bus driver reports stones thrown at the number 64 bus.",
        "Tyres slashed on 4 vehicles in the multi-storey car park.",
        "Mother states her son has not been home since Friday.",
        "Patient self-presented with a laceration to the right hand, 4cm, glued.",
        "Assault patient, punched at 01:30, CT head clear, discharged.",
        "Intoxicated male brought in by ambulance, GCS 14 on arrival.",
        "Dog bite to the left calf, wound cleaned and dressed.",
        "Fall from height, approx 2m, from a ladder while clearing gutters.",
        "Burns to both hands from a chip pan fire; cooled for 20 minutes.",
        "Crews used 2 breathing apparatus sets and a hose reel.",
        "Deliberate fire in a derelict building; police informed.",
        "Grass fire, approx 100m x 50m, on the embankment by the railway.",
        "Rubbish set alight in the communal bin store; crews extinguished at {time}.",
        "Council CCTV camera 14 captured the incident at 22:14.",
        "Victim states she heard the letterbox rattle at 0230 hrs.",
        "Neighbours complain of a strong smell of cannabis from the flats on {street}.",
        "Group of youths on e-scooters riding on the footpath near {street}.",
        "Beggars reported outside the cash machine from 10:00.",
        "Trespass on the railway line, British Transport Police informed.",
        "Welfare check carried out, occupant safe and well, no further action.",
        "Domestic: verbal argument overheard, no injuries, both parties spoken to.",
        "Victim Personal Statement to be taken next week.",
        "Suspect Vehicle Index unknown, described as a white van.",
        "Operation Sceptre knife arch used at the station entrance.",
        "Stop and search under Section 23 Misuse of Drugs Act, nothing found.",
        "Two males arrested on suspicion of GBH with intent and taken to custody.",
        "Offence: S18 GBH. Weapon: broken bottle.",
        "S47 ABH and S39 common assault recorded as one incident.",
        "Vehicle seen at 23:15 on 03/11/2023 near the recreation ground.",
        "Crime ref 23/45678/24 linked to incident log 0412 of {date}.",
        "Incident log 1183 of 14/02/2025 refers.",
        "Born and raised locally, the victim knows most of the youths by sight.",
        "DOB not known; the male refused to give any details.",
        "Date of birth not recorded on the referral form.",
        "The Red Lion reported a fight in the beer garden at closing time.",
        "Assault outside the Crown, victim declined medical attention.",
        "Youths seen on the roof of the sports hall at 21:00.",
        "Bike stolen from outside the library, D lock cut.",
        "Stolen scooter found abandoned near the canal.",
        "Lead taken from the church roof, estimated cost £12,000.",
        "Shed broken into at the allotments, 2 petrol strimmers taken.",
        "Cash machine pulled from the wall of the convenience store using a tow rope.",
        "Vehicle travelling at 50mph in a 30mph zone on {street}.",
        "On 12/03/2024 at 14:30 the victim was approached by two males.",
        "Between 01.02.2023 and 28.02.2023 the victim received 12 letters.",
        "Report made on 2024-03-12 at 09:10 by the store manager.",
        "The incident happened on the 12th March 2024 outside the school gates.",
        "Tier 2 response; Cat 2 call answered within 10 minutes.",
        "IC1 male, 6ft, stocky, with a tattoo on the neck.",
        "Three males, aged 17 to 19, all wearing face coverings.",
        "Approx £50 of meat taken from the chiller; staff did not intervene.",
        "Street drinking reported on {street} near the church.",
        "Suspicious male looking into cars on {street} at {time}.",
        "Following 12 reports this month, patrols increased on {street} and {street2}.",
        # Lower-case and upper-case narratives, cue words followed by ordinary words.
        "victim states suspect came round at 2am banging on the door shouting",
        "suspect made off on foot towards the park, no trace",
        "victim sustained minor injuries to her face, declined ambulance",
        "caller advised police not needed, just wants it logged",
        "witness saw two lads climbing over the fence carrying a telly",
        "patient self presented with chest pain after being punched",
        "occupant escaped before crews arrived, minor smoke inhalation",
        "her partner left before police arrived, whereabouts unknown",
        "neighbour reports dogs barking all night again",
        "driver failed to stop and drove off towards the bypass",
        "she called mum who came and picked her up",
        "a male called out to the victim from across the road",
        "known as a hotspot for drug dealing after dark",
        "spoke to staff at the shop who will check their cctv",
        "VICTIM STATES SUSPECT PUNCHED HIM TWICE AND RAN OFF.",
        "SUSPECT DESCRIBED AS WHITE MALE, SLIM BUILD, BLACK HOODIE.",
        "OFFICERS ATTENDED, NO TRACE OF THE SUSPECTS ON ARRIVAL.",
        "CALLER REPORTS A LARGE GROUP FIGHTING OUTSIDE THE PUB AT 23:40.",
        "WITNESS SAW THE VAN LEAVE TOWARDS THE M6 AT SPEED.",
        "PATIENT INTOXICATED AND ABUSIVE TO STAFF, SECURITY CALLED.",
        "FIRE CREWS FROM BLUE WATCH ATTENDED A BIN FIRE ON THE ESTATE.",
        "S18 GBH, VICTIM STABBED IN THE ARM, SUSPECT OUTSTANDING.",
        "ON 12 MAY THE VICTIM WAS ASSAULTED NEAR THE BUS STATION.",
        "DOB NOT GIVEN, MALE AGED ABOUT 30.",
        "Suspect described as 6ft with a Liverpool accent.",
        "Victim Support and Women's Aid both offered help.",
        "Caller from the Samaritans concerned about a man on the bridge.",
        "Witness statement to follow from the bus company.",
        "Offender known to the Youth Offending Team.",
        "Victim was treated by North West Ambulance Service at the scene.",
        "Suspect vehicle was a Vauxhall Astra, colour unknown, index not obtained.",
        "Partial index only, believed to start with a letter Y.",
        "The car had false plates; registration not known.",
        "Moped with no plates seen riding on the pavement.",
        "ANPR cameras on the A38 checked, no hits.",
        "Plan B: officers to revisit at 18:00 if there is no answer.",
        "Information graded C, reliability unknown.",
        "The victim was in Cubicle 4 and then moved to Bay 12.",
        "Category A prisoner transferred under escort.",
        "Grade 1 response; PC and PCSO attended within 8 minutes.",
        "Met with staff at the GP surgery to discuss the referral.",
        "Spoke to the landlord, who agreed to change the locks.",
        "Arrested on suspicion of assault and taken to the custody suite.",
        "Interviewed under caution; denied the offence.",
        "Charged with theft and bailed to court on {date}.",
        "Detained under Section 136 and taken to the place of safety.",
        "Aged 14, born locally, known to early help.",
        "Born in 1990 according to the victim, exact date unknown.",
        "The incident was 3 minutes walk from the station.",
        "2 men walk past the camera at 23:02 carrying a bag each.",
        "A Ford Transit and a Vauxhall Corsa both damaged.",
        "I Love Ink tattoo parlour had its window smashed.",
        "J Lock Ltd replaced the door at the victim's request.",
        "Youths threw eggs at the windows of the Jade Garden takeaway.",
        "Victim states Karen from the council told her to call the police.",
        "Mother and Baby unit staff raised a safeguarding concern.",
        "Fire started in the Grace Mews bin store.",
    ],
    "held_out": [
        "Victim was struck with a metal pole and sustained a fractured cheekbone.",
        "Lock knife with a 3-inch blade found during a search of the suspect.",
        "Section 20 wounding; victim glassed in the face at closing time.",
        "Possession with intent to supply Class B, 14 bags of cannabis recovered.",
        "Crime code 8N/20 applied; domestic-related flag set.",
        "The assault took place on 21/06/2023 at about 23:50.",
        "Offenders fled across the field towards the industrial estate.",
        "Suspect described as Asian male, aged 25-30, with a beard and glasses.",
        "DC to review the CCTV from the petrol station.",
        "PC on scene requested an ambulance at 02:15.",
        "Insp informed and agreed the scene could be released.",
        "Sgt authorised the use of handcuffs on arrest.",
        "Dr reviewed the x-ray; no fracture seen.",
        "Paramedic crew treated a male for a head wound on the pavement.",
        "Crews used a thermal imaging camera to check the cavity wall.",
        "Fire started in a tumble dryer in the utility room.",
        "Candle left unattended on a windowsill set fire to the curtains.",
        "Car fire on waste ground, believed to be a stolen vehicle; police informed.",
        "Aged 15, referred to early help after repeated missing episodes.",
        "Male aged 42 found unresponsive; CPR commenced by the crew.",
        "Victim lost £3,400 in a romance scam over 6 months.",
        "Shopkeeper assaulted after refusing to sell alcohol to a youth.",
        "Noise from a barking dog reported most mornings from 06:00.",
        "Flytip of builders' waste in the lay-by, approx 2 tonnes.",
        "Graffiti tags on the underpass walls, reported to the council.",
        "Off-road bikes using the bridleway; horse riders put at risk.",
        "Vehicle keys taken through the letterbox with a fishing rod.",
        "Catalytic converter stolen from a Honda Jazz parked at the surgery.",
        "RTC on the B4100 at 17:45, 2 vehicles, minor injuries.",
        "Drugs litter, including nitrous oxide canisters, in the car park.",
        "Victim Support contacted the victim within 48 hours.",
        "Integrated Offender Management review held on {date}.",
        "Domestic Abuse Protection Notice served by the duty Inspector.",
        "Caveat: third-party information, seek the originator's consent before any disclosure.",
        "Caveat: do not act on this intelligence without the handler's authority.",
        "Patient reports a stab wound to the abdomen; police attended ED.",
        "Head injury after a fall while intoxicated; admitted for observation.",
        "Assault victim with a swollen jaw; referred to maxillofacial.",
        "Overdose of prescribed medication; mental health liaison team informed.",
        "Burns to the face from a firework, irrigated in resus.",
        "Shoplifter took 12 packs of razor blades from the pharmacy shelf.",
        "Two youths on a moped snatched a phone at 16:20.",
        "Attempted theft of a motorbike; steering lock broken.",
        "Bogus caller claiming to be from the water board entered the house.",
        "Suspect threatened staff with a screwdriver and took £80 from the till.",
        "Windows smashed at the community centre over the weekend.",
        "Arson with intent to endanger life; petrol poured through the letterbox.",
        "Firearms officers deployed after reports of a handgun; nothing found.",
        "Dispersal order authorised for the town centre from 18:00 to 06:00.",
        "Victim states she was followed from the bus stop to the cashpoint.",
        "Witness states the car was travelling well over the speed limit.",
        "Stolen goods recovered from a lock-up garage, value approx £6,000.",
        "Car broken into on {street}; a laptop bag taken from the back seat.",
        "Youths kicking a football against parked cars on {street} at {time}.",
        "Bins left on the pavement on {street} blocking wheelchair users.",
        "Incident on 05.09.2024 at 20:10, reported the next day.",
        "Log 0987 of 2024-11-02 refers; linked to the earlier burglary.",
        "Complaint received on the 3rd of January 2025 about the same premises.",
        "Report of a fight between 2 males on 14/02/2025 at 22:45.",
        "Offence: S4 Public Order. Outcome: community resolution.",
        "S18 GBH with intent; weapon a broken glass.",
        "Exhibit JH/1 a black-handled knife, exhibit JH/2 a phone.",
        "Cat 1 call, response within 12 minutes.",
        "Aged 9, the child was found wandering near the main road.",
        "Estimated damage £750; landlord to repair the door.",
        "Multi-agency meeting agreed a joint visit next week.",
        "Suspect left in a grey hatchback heading towards the M5.",
        "No witnesses; house-to-house enquiries negative.",
        "The victim's date of birth is on the original report, not copied here.",
        "DOB refused; identity to be confirmed in custody.",
        "Born abroad, the victim needs a Polish interpreter.",
        "Two casualties conveyed to hospital, one with smoke inhalation.",
        "Hoarding risk at the property; fire safety advice given to the tenant.",
        "Victim punched, aged 19, treated by paramedics at the scene.",
        "Cannabis grow of 40 plants found in the loft.",
        "ASB case closed after 3 months with no further reports.",
        "Between 23:00 and 23:30 on 2/3/24 the car was damaged.",
        "Reports of rough sleeping in the doorway of the bank on {street}.",
        "Suspicious package left outside the station at {time}; area cordoned.",
        "Bicycle recovered near {street} and returned to the owner.",
    ],
}
CLEAN_REPEATS = 2  # each clean template is drawn this many times, with different slot values


# ---------------------------------------------------------------------------------------------


def _generate(part: str, seed: int) -> list[Labelled]:
    rng = random.Random(f"{seed}-{part}")
    gen = _Gen(part, rng)
    templates = TEMPLATES[part]
    samples: list[Labelled] = []
    for group, pool in templates.items():
        count = COUNTS[part]["name"] if group == "name" else COUNTS[part]["mixed"] if group == "mixed" \
            else COUNTS[part]["other"]
        for i in range(count):
            case, template = pool[i % len(pool)] if i < len(pool) else rng.choice(pool)
            text, spans = _render(gen, template, case)
            if text and text[0].islower() and case == "normal":
                text = text[0].upper() + text[1:]
            samples.append(Labelled(text, tuple(spans), part, template))
    for template in CLEAN[part]:
        for _ in range(CLEAN_REPEATS):
            text, spans = _render(gen, template, "normal")
            assert not spans, template
            samples.append(Labelled(text, (), part, ""))
    return samples


@lru_cache(maxsize=4)
def build(seed: int = SEED) -> tuple[Labelled, ...]:
    """The whole corpus: the dev part then the held-out part (deterministic for a seed)."""
    out: list[Labelled] = []
    for part in PARTS:
        out.extend(_generate(part, seed))
    return tuple(out)


def select(corpus: Iterable[Labelled], part: str | None = None) -> list[Labelled]:
    return [s for s in corpus if part is None or s.part == part]


# ---------------------------------------------------------------------------------------------
# Measuring


def _output_text(result: object) -> str:
    return result if isinstance(result, str) else str(getattr(result, "text"))  # noqa: B009


def evaluate(scrub: Callable[[str], object], corpus: Iterable[Labelled] | None = None) -> dict:
    """Run ``scrub`` over the corpus. Returns {"recall": {kind: float}, "labelled": {kind: int},
    "missed": {kind: int}, "forms": {kind: {form: [caught, total]}}, "clean_sentences": int,
    "clean_changed": int, "missed_examples": [(part, kind, form, value, output)],
    "changed_examples": [(part, input, output)], "outputs": [str]}."""
    corpus = list(build() if corpus is None else corpus)
    labelled = dict.fromkeys(KINDS, 0)
    missed = dict.fromkeys(KINDS, 0)
    forms: dict[str, dict[str, list[int]]] = {k: {} for k in KINDS}
    missed_examples: list[tuple[str, str, str, str, str]] = []
    changed_examples: list[tuple[str, str, str]] = []
    clean_total = clean_changed = 0
    outputs: list[str] = []
    for sample in corpus:
        out = _output_text(scrub(sample.text))
        outputs.append(out)
        if not sample.spans:
            clean_total += 1
            if out != sample.text:
                clean_changed += 1
                changed_examples.append((sample.part, sample.text, out))
            continue
        for span in sample.spans:
            labelled[span.kind] += 1
            bucket = forms[span.kind].setdefault(span.form, [0, 0])
            bucket[1] += 1
            if leaked(sample, span, out):
                missed[span.kind] += 1
                missed_examples.append((sample.part, span.kind, span.form, sample.value(span), out))
            else:
                bucket[0] += 1
    recall = {k: (1 - missed[k] / labelled[k]) if labelled[k] else 1.0 for k in KINDS}
    return {
        "recall": recall,
        "labelled": labelled,
        "missed": missed,
        "forms": forms,
        "clean_sentences": clean_total,
        "clean_changed": clean_changed,
        "missed_examples": missed_examples,
        "changed_examples": changed_examples,
        "outputs": outputs,
    }
