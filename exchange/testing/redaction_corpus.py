"""A labelled corpus for measuring the free-text scrubber (exchange.core.redact).

Every sentence is synthetic, built deterministically from a seeded random generator, in the style
of police and council free-text fields (method of entry, property stolen, location descriptions,
ASB descriptions). Identifiers are inserted at known places; each carries a label with its kind,
the inserted substring and a *leak probe*, a regular expression that finds the identifier (or a
telling part of it: the digits of a phone number, each word of a name) in the scrubbed text.

``measure(scrub)`` reports, per kind, the recall (fraction of labelled identifiers whose probe no
longer matches the output), plus the number of clean sentences (no identifier at all) that the
scrubber altered, the false-positive measure. Names are also broken down by the form they were
written in, some of which the scrubber is documented not to catch (lone surnames, lower case...).

No real person's data is used: names are common UK names combined at random, numbers are random,
NHS numbers are random with a valid check digit, phone numbers are random.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

SEED = 20240611
KINDS = ("email", "nhs_number", "ni_number", "phone", "postcode", "house_number", "name", "vehicle_registration")


@dataclass(frozen=True)
class Label:
    kind: str
    value: str  # the inserted substring
    probe: str  # regex: matches the output if the identifier (or a telling part) is still there
    form: str = ""  # how it was written (names, house numbers)


@dataclass(frozen=True)
class Sample:
    text: str
    labels: tuple[Label, ...]


# --------------------------------------------------------------------------------------------
# Vocabulary

TOWNS = [
    "Leamington Spa", "Warwick", "Kenilworth", "Whitnash", "Lillington", "Rugby", "Coventry",
    "Stratford-upon-Avon", "Southam", "Bishops Tachbrook", "Cubbington", "Nuneaton", "Bedworth",
]
STREET_NAMES = [
    ("Acacia", "Avenue"), ("Church", "Lane"), ("High", "Street"), ("Mill", "Lane"),
    ("Warwick", "Road"), ("Victoria", "Road"), ("Park", "Road"), ("Station", "Road"),
    ("Kenilworth", "Road"), ("Queens", "Road"), ("Albert", "Street"), ("Brunswick", "Street"),
    ("Clarendon", "Square"), ("Willow", "Close"), ("Holly", "Walk"), ("Regent", "Street"),
    ("Tachbrook", "Road"), ("Lillington", "Avenue"), ("Cubbington", "Road"), ("Rugby", "Road"),
    ("Bath", "Street"), ("Chandos", "Street"), ("Russell", "Terrace"), ("Binswood", "Avenue"),
    ("Beauchamp", "Hill"), ("Newbold", "Terrace"), ("Lansdowne", "Crescent"), ("Milverton", "Hill"),
    ("Guys Cliffe", "Avenue"), ("Emscote", "Road"), ("Sydenham", "Drive"), ("Campion", "Green"),
    ("Oak", "Tree Close"), ("St Margarets", "Road"), ("Windmill", "Way"), ("Foxglove", "Grove"),
    ("Orchard", "Mews"), ("Rosefield", "Place"), ("Heathcote", "Gardens"), ("Kingsway", "Parade"),
    ("Radford", "Rd"), ("Lime", "Ave"), ("Market", "St"), ("Ash", "Dr"),
]
STREETS = [f"{a} {b}" for a, b in STREET_NAMES]

CORPUS_FORENAMES = [
    "James", "Emma", "Kyle", "Sarah", "Mohammed", "Wayne", "Chloe", "Liam", "Stacey", "Darren",
    "Kerry", "Tendai", "Wojciech", "Precious", "Reece", "Shane", "Lacey", "Kian", "Mason", "Aisha",
    "Jordan", "Bradley", "Tanya", "Gavin", "Nadia", "Ravi", "Chantelle", "Dwayne", "Leon", "Jade",
    "Nathan", "Megan", "Connor", "Amir", "Kasia", "Florin", "Abdul", "Sinead", "Declan", "Tyrone",
    "Courtney", "Kelly", "Jamal", "Ellie", "Harvey", "Tom", "Gemma", "Marek", "Yusuf", "Kofi",
    "Shelby", "Brooke", "Ross", "Zara", "Keira", "Callum", "Paul", "Michelle", "Gary", "Lisa",
]
CORPUS_SURNAMES = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "Khan", "Ahmed", "Hussain", "Begum",
    "O'Brien", "McDonald", "Kowalski", "Nowak", "Popescu", "Okafor", "Mensah", "Murphy",
    "Campbell", "Stewart", "Clarke", "Hughes", "Edwards", "Turner", "Cooper", "Morris",
    "Harrison", "Shaw", "Lloyd", "Rahman", "Singh", "Kaur", "Sharma", "Moyo", "Gallagher",
    "Fitzgerald", "Doherty", "Bailey", "Cox", "Richardson", "Fletcher", "Barnes", "Ellis",
    "Smith-Jones", "White", "Hall", "Green", "King", "Wood",
]
TITLES = ["Mr", "Mrs", "Miss", "Ms", "Dr", "Mr", "Mrs"]

EMAIL_DOMAINS = [
    "gmail.com", "hotmail.co.uk", "outlook.com", "yahoo.co.uk", "btinternet.com", "icloud.com",
    "warwickdc.gov.uk", "nhs.net", "live.co.uk", "sky.com",
]
POSTCODE_AREAS = ["CV", "B", "LE", "NN", "OX", "GL", "WR", "M", "L", "SW", "E", "N", "W", "SE", "NW", "WS", "DY"]
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
NI_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
NI_SECOND = "ABCEGHJKLMNPRSTWXYZ"
NI_BANNED = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}


# --------------------------------------------------------------------------------------------
# Probes: a leak is the identifier, or a telling part of it, still in the output.


def _digits_probe(digits: str, tail: int = 6) -> str:
    """The last ``tail`` digits, allowing spaces, dashes, dots and brackets between them."""
    core = digits[-tail:]
    return r"[\s().\-]*".join(core)


def _words_probe(words: list[str], flags: str = "") -> str:
    alternatives = "|".join(re.escape(w) for w in words if len(w) > 1)
    return rf"{flags}(?<![A-Za-z])(?:{alternatives})(?![a-z])"


# --------------------------------------------------------------------------------------------
# Identifier generators: each returns (text to insert, label)


def valid_nhs_digits(rng: random.Random) -> str:
    """Ten digits with a valid NHS modulus-11 check digit (the corpora's generators share it)."""
    while True:
        first9 = [rng.choice([4, 6, 7, 9])] + [rng.randrange(10) for _ in range(8)]
        total = sum(d * w for d, w in zip(first9, range(10, 1, -1), strict=True))
        check = 11 - total % 11
        check = 0 if check == 11 else check
        if check != 10:
            return "".join(map(str, first9)) + str(check)


def _nhs(rng: random.Random) -> tuple[str, Label]:
    digits = valid_nhs_digits(rng)
    style = rng.choice(["spaced", "spaced", "compact", "dashed"])
    text = {
        "spaced": f"{digits[:3]} {digits[3:6]} {digits[6:]}",
        "compact": digits,
        "dashed": f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
    }[style]
    return text, Label("nhs_number", text, _digits_probe(digits), style)


def nhs_digits_from(rng: random.Random) -> str:
    return re.sub(r"\D", "", _nhs(rng)[0])


def _ni(rng: random.Random) -> tuple[str, Label]:
    while True:
        prefix = rng.choice(NI_FIRST) + rng.choice(NI_SECOND)
        if prefix not in NI_BANNED:
            break
    digits = "".join(str(rng.randrange(10)) for _ in range(6))
    suffix = rng.choice("ABCD")
    style = rng.choice(["compact", "compact", "pairs", "lower", "block"])
    text = {
        "compact": f"{prefix}{digits}{suffix}",
        "pairs": f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}",
        "lower": f"{prefix}{digits}{suffix}".lower(),
        "block": f"{prefix} {digits} {suffix}",
    }[style]
    return text, Label("ni_number", text, _digits_probe(digits), style)


def _phone(rng: random.Random) -> tuple[str, Label]:
    d = lambda n: "".join(str(rng.randrange(10)) for _ in range(n))  # noqa: E731
    style = rng.choice(
        ["mobile", "mobile", "mobile_compact", "mobile_grouped", "mobile_intl", "mobile_intl_compact",
         "mobile_dashed", "landline_5", "landline_4", "london", "bracket", "intl_landline", "03"]
    )
    if style.startswith("mobile"):
        body = "7" + d(9)
        text = {
            "mobile": f"0{body[:4]} {body[4:]}",
            "mobile_compact": f"0{body}",
            "mobile_grouped": f"0{body[:4]} {body[4:7]} {body[7:]}",
            "mobile_intl": f"+44 {body[:4]} {body[4:]}",
            "mobile_intl_compact": f"+44{body}",
            "mobile_dashed": f"0{body[:4]}-{body[4:7]}-{body[7:]}",
        }[style]
        digits = "0" + body
    elif style == "landline_5":
        area, local = "1" + rng.choice(["926", "788", "789", "675", "203", "543"]), d(6)
        text, digits = f"0{area} {local}", f"0{area}{local}"
    elif style == "landline_4":
        area, local = rng.choice(["121", "116", "161", "151", "117"]), d(7)
        text, digits = f"0{area} {local[:3]} {local[3:]}", f"0{area}{local}"
    elif style == "london":
        local = rng.choice("378") + d(7)
        text, digits = f"020 {local[:4]} {local[4:]}", f"020{local}"
    elif style == "bracket":
        area, local = "1" + rng.choice(["926", "788", "789"]), d(6)
        text, digits = f"({'0' + area}) {local}", f"0{area}{local}"
    elif style == "intl_landline":
        area, local = "1" + rng.choice(["926", "788", "789"]), d(6)
        text, digits = f"+44 (0){area} {local}", f"0{area}{local}"
    else:  # 03 numbers
        local = d(7)
        text, digits = f"0300 {local[:3]} {local[3:]}", f"0300{local}"
    return text, Label("phone", text, _digits_probe(digits), style)


def _email(rng: random.Random) -> tuple[str, Label]:
    first = rng.choice(CORPUS_FORENAMES).lower()
    last = re.sub(r"[^a-z]", "", rng.choice(CORPUS_SURNAMES).lower())
    local = rng.choice(
        [f"{first}.{last}", f"{first[0]}{last}{rng.randrange(1, 99)}", f"{first}_{last}",
         f"{first}{rng.randrange(1970, 2010)}", f"{first}.{last}+asb", f"{last}.{first}"]
    )
    domain = rng.choice(EMAIL_DOMAINS)
    if rng.random() < 0.1:
        local, domain = local.title(), domain.upper()
    text = f"{local}@{domain}"
    return text, Label("email", text, r"(?i)" + re.escape(local) + r"\s*@")


def _postcode(rng: random.Random) -> tuple[str, Label]:
    area = rng.choice(POSTCODE_AREAS)
    district = str(rng.randrange(1, 40 if len(area) == 2 else 20))
    if rng.random() < 0.1 and len(district) == 1:
        district += rng.choice("ABEHMNPRVWXY")
    outward = area + district
    inward = str(rng.randrange(10)) + rng.choice(INWARD_LETTERS) + rng.choice(INWARD_LETTERS)
    style = rng.choice(["spaced", "spaced", "spaced", "compact", "lower"])
    text = {"spaced": f"{outward} {inward}", "compact": f"{outward}{inward}",
            "lower": f"{outward} {inward}".lower()}[style]
    return text, Label("postcode", text, rf"(?i)(?<![A-Za-z0-9]){outward}\s*{inward}(?![A-Za-z0-9])", style)


def _house(rng: random.Random) -> tuple[str, list[Label]]:
    """A house number and street, in one of several forms; may give two labels (flat + house)."""
    name, suffix = rng.choice(STREET_NAMES)
    street = f"{name} {suffix}"
    first_word = street.split()[0]
    n = rng.randrange(1, 240)
    style = rng.choice(
        ["plain", "plain", "plain", "letter", "range", "spaced_range", "flat_comma", "flat_space",
         "number_word", "lower", "upper", "apartment", "no_suffix"]
    )

    def house_label(num: str, form: str, street_text: str) -> Label:
        w = re.escape(street_text.split()[0])
        return Label("house_number", f"{num} {street_text}", rf"(?i)(?<![\w/]){re.escape(num)}\s*,?\s+{w}", form)

    if style == "plain":
        return f"{n} {street}", [house_label(str(n), style, street)]
    if style == "letter":
        num = f"{n}{rng.choice('abcAB')}"
        return f"{num} {street}", [house_label(num, style, street)]
    if style == "range":
        num = f"{n}-{n + 2}"
        return f"{num} {street}", [Label("house_number", f"{num} {street}",
                                         rf"(?i)(?<![\w/]){n}\b[^,.]*{re.escape(first_word)}", style)]
    if style == "spaced_range":
        num = f"{n} - {n + 2}"
        return f"{num} {street}", [Label("house_number", f"{num} {street}",
                                         rf"(?i)(?<![\w/]){n}\b[^,.]*{re.escape(first_word)}", style)]
    if style in ("flat_comma", "flat_space", "apartment"):
        word = "Apartment" if style == "apartment" else "Flat"
        k = f"{rng.randrange(1, 30)}{rng.choice(['', '', 'A', 'B'])}"
        sep = ", " if style != "flat_space" else " "
        text = f"{word} {k}{sep}{n} {street}"
        return text, [
            Label("house_number", f"{word} {k}", rf"(?i){word}\s+{re.escape(k)}\b", style),
            house_label(str(n), style, street),
        ]
    if style == "number_word":
        return f"No. {n} {street}", [house_label(str(n), style, street)]
    if style == "lower":
        return f"{n} {street.lower()}", [house_label(str(n), style, street.lower())]
    if style == "upper":
        return f"{n} {street.upper()}", [house_label(str(n), style, street.upper())]
    # A street without a suffix word (documented as not caught).
    bare = rng.choice(["Saltisford", "Broadway", "The Butts", "Coten End"])
    return f"{n} {bare}", [house_label(str(n), "no_suffix", bare)]


NAME_FORMS = [
    # (form, weight)
    ("title_surname", 15), ("title_initial_surname", 5), ("title_full", 5), ("cue_full", 15),
    ("cue_first", 8), ("first_surname", 15), ("first_SURNAME", 8), ("possessive", 4),
    ("first_verb", 5), ("hard_lone_first", 5), ("hard_lone_surname", 5), ("hard_lowercase", 4),
    ("allcaps", 3), ("surname_first", 3),
]
CUES = [
    "victim", "suspect", "her ex-partner", "his neighbour", "a male called", "a female named",
    "the complainant", "witness", "her son", "his girlfriend", "a youth known as", "caller",
]
NAME_CONTEXTS = [
    "{who} reported that the bicycle was taken from the communal hallway overnight.",
    "Caller states {who} has been shouting abuse at neighbours since 2100 hrs.",
    "Witness saw {who} climb over the rear fence carrying a large holdall.",
    "Officers spoke to {who} at the scene, who denied any involvement.",
    "Repeat ASB complaint: {who} playing loud music until 0300 hrs most nights.",
    "Letter sent to {who} regarding the fly-tipping at the rear of the garages.",
    "Shoplifting: {who} detained by store security with 3 bottles of spirits.",
    "Ongoing boundary dispute, {who} alleges damage to 4 fence panels.",
    "Harassment: {who} sent over 40 messages in one evening.",
    "Door-to-door enquiries completed; {who} did not answer.",
]
LONE_FIRST_CONTEXTS = [
    "CCTV shows {who} near the bins shortly before the fire started.",
    "The youths were heard calling out to {who} across the car park.",
    "Security recognised {who} from previous incidents at the store.",
]
FIRST_VERB_CONTEXTS = [
    "{who} said the door had been left unlocked by the carer.",
    "When spoken to, {who} stated nothing had been taken.",
    "The victim believes {who} was responsible for the graffiti.",
]
LONE_SURNAME_CONTEXTS = [
    "{who} was seen leaving the premises at 2330 hrs with a holdall.",
    "According to staff, {who} had been banned from the shop last year.",
]
POSSESSIVE_CONTEXTS = [
    "{who}'s car was keyed overnight while parked on the driveway.",
    "Stones were thrown at {who}'s bedroom window at approx 2200 hrs.",
]


def _name(rng: random.Random) -> tuple[str, Label]:
    forms, weights = zip(*NAME_FORMS, strict=True)
    form = rng.choices(forms, weights=weights)[0]
    first = rng.choice(CORPUS_FORENAMES)
    sur = rng.choice(CORPUS_SURNAMES)
    title = rng.choice(TITLES)
    context = rng.choice(NAME_CONTEXTS)
    if form == "title_surname":
        who, words = f"{title} {sur}", [sur]
    elif form == "title_initial_surname":
        dot = rng.choice(["", "."])
        who, words = f"{title} {first[0]}{dot} {sur}", [sur]
    elif form == "title_full":
        who, words = f"{title} {first} {sur}", [first, sur]
    elif form == "cue_full":
        who, words = f"{rng.choice(CUES)} {first} {sur}", [first, sur]
    elif form == "cue_first":
        who, words = f"{rng.choice(CUES)} {first}", [first]
    elif form == "first_surname":
        who, words = f"{first} {sur}", [first, sur]
    elif form == "first_SURNAME":
        who, words = f"{first} {sur.upper()}", [first, sur.upper()]
    elif form == "possessive":
        who, words = first, [first]
        context = rng.choice(POSSESSIVE_CONTEXTS)
    elif form == "first_verb":
        who, words = first, [first]
        context = rng.choice(FIRST_VERB_CONTEXTS)
    elif form == "hard_lone_first":
        who, words = first, [first]
        context = rng.choice(LONE_FIRST_CONTEXTS)
    elif form == "hard_lone_surname":
        who, words = sur, [sur]
        context = rng.choice(LONE_SURNAME_CONTEXTS)
    elif form == "hard_lowercase":
        who, words = f"{first.lower()} {sur.lower()}", [first.lower(), sur.lower()]
    elif form == "allcaps":
        who, words = f"{first.upper()} {sur.upper()}", [first.upper(), sur.upper()]
    else:  # surname_first
        who, words = f"{sur.upper()}, {first}", [sur.upper(), first]
    text = context.format(who=who)
    if text[0].islower():
        text = text[0].upper() + text[1:]
        if context.startswith("{who}"):
            who = text[: len(who)]
    probe_words: list[str] = []
    for w in words:
        probe_words.extend(p for p in re.split(r"[-\s]", w) if p)
    return text, Label("name", who, _words_probe(probe_words), form)


# --------------------------------------------------------------------------------------------
# Sentence templates for the structured kinds

TEMPLATES = {
    "phone": [
        "Victim can be contacted on {x} after 6pm.",
        "Caller gave mobile number {x} and asked for an update on the investigation.",
        "Informant's number is {x}, happy to be contacted by the PCSO.",
        "Threatening texts received from {x} between 22:00 and 23:30.",
        "Landlord contact {x} for access to the communal areas.",
        "Repeat silent calls from {x} to the victim's landline.",
    ],
    "nhs_number": [
        "Victim taken to hospital, NHS number {x} recorded by paramedics.",
        "Safeguarding referral made, NHS no. {x}, to adult social care.",
        "Patient {x} discharged from A&E at 0400 hrs and returned home.",
        "Mental health team notified (NHS {x}) following the welfare check.",
        "Ambulance crew noted NHS number {x} on the handover sheet.",
    ],
    "ni_number": [
        "Suspect gave NI number {x} when booked into custody.",
        "Benefit fraud referral: claimant NINO {x} linked to two addresses.",
        "Employer provided National Insurance number {x} for the staff member.",
        "Documents seized included a payslip showing {x}.",
        "Identity confirmed from NI no {x} held by the housing team.",
    ],
    "email": [
        "Victim emailed photographs of the damage from {x} this morning.",
        "Contact via {x} preferred, victim works nights.",
        "Abusive messages sent from the account {x} over the weekend.",
        "Statement to be sent to {x} for signature.",
        "Council officer {x} to be copied into all updates.",
    ],
    "postcode": [
        "Vehicle recovered burnt out near {x} at approx 0500 hrs.",
        "Youths gathering by the parade of shops, {town} {x}, most evenings.",
        "Fly-tipping reported on the verge, postcode {x}.",
        "Suspect vehicle registered to an address in {x}.",
        "Cannabis smell reported from a property near {x}.",
        "Stolen bike located on the towpath close to {x}.",
    ],
    "house_number": [
        "Burglary at {x}: entry gained via an insecure rear door.",
        "Suspects seen outside {x} at approx 2300 hrs.",
        "Criminal damage to a vehicle parked outside {x}, {town}.",
        "Neighbour dispute between the residents of {x} and the property next door.",
        "ASB: youths congregating on the wall of {x} shouting abuse.",
        "Bin store set alight behind {x} in the early hours.",
        "Parcel stolen from the doorstep of {x} shortly after delivery.",
    ],
}

# Extra identifiers sometimes added to a sentence so some sentences carry two.
SECOND_ID_TEMPLATES = [
    " Victim's mobile is {x}.",
    " Contact e-mail {x}.",
]

# --------------------------------------------------------------------------------------------
# Clean sentences: no identifier, with traps (street and place names, brands, numbers, times)

CLEAN_TEMPLATES = [
    "Entry gained by forcing the rear patio door with a screwdriver, untidy search of all rooms.",
    "Property stolen: 1 x Apple iPhone 14, black, 1 x Ted Baker handbag and £40 cash.",
    "Youths congregating near the play area on {street} throwing stones at passing buses.",
    "Vehicle {reg} damaged, nearside wing mirror snapped off while parked on {street}.",
    "Offender made off towards {town} town centre on a black mountain bike.",
    "Fly-tipping reported at the rear of the shops on {street}, approx 6 black bags.",
    "Suspect described as white male, 20-25 yrs, slim build, wearing a grey Nike tracksuit.",
    "Shoplifting at Tesco Express, {street}: 4 x Jack Daniels bottles taken at 14:30.",
    "Graffiti sprayed on the bus shelter opposite Victoria Park, approx 2m x 1m.",
    "Crime ref 23/45678/{yy} linked to incident log {log} of {date}.",
    "Victim states she heard the letterbox rattle at 0230 hrs and found the car keys missing.",
    "Caller reports 3 males on mopeds riding on the footpath near {street}.",
    "Items taken from John Lewis: 2 x Dr Martens boots and a Ralph Lauren shirt.",
    "St John Ambulance attended and treated the victim at the scene.",
    "Damage caused to the Rose Cottage sign and the planters on {street}.",
    "Noise complaint about a party in the flat above, music until 0400 hrs.",
    "Drug dealing reported from a grey Vauxhall Corsa parked on {street}, sector CV31 1.",
    "Burglary dwelling, method: ladder used to reach an open first floor window.",
    "Approx £250 cash taken from a charity box on the counter at 09:15.",
    "PCSO patrols increased around {street} and {street2} following 12 reports this month.",
    "Victoria Road closed for 2 hours while the fire service dealt with a car fire.",
    "Grace period given to the tenant to clear the garden of waste.",
    "Suspects were 2 youths aged 14-16, one wearing a North Face jacket.",
    "Queen Elizabeth Hospital informed; King Charles Street car park CCTV requested.",
    "Shed broken into at the allotments off {street}, 2 petrol strimmers and a Stihl chainsaw taken.",
    "Catalytic converter cut from a Toyota Prius parked at Warwick Parkway station.",
    "Victim received 6 silent calls to her mobile between 22:00 and 23:30.",
    "Drugs paraphernalia found in the stairwell of the block, 4 needles recovered.",
    "A window at the Co-op on {street} was smashed with a brick at approx 0130.",
    "Referred to the Integrated Offender Management team for review.",
    "Suspect vehicle a silver Ford Focus, partial registration {regpart}.",
    "Motorbikes being ridden on the playing fields behind {street} every evening.",
    "Two bikes stolen from the racks outside {town} railway station, locks cut.",
    "Victim is a 78 year old female living alone; referred to the Safer Neighbourhood Team.",
    "Beggars reported outside the cash machine on {street} from 10:00.",
    "Windows of 3 cars smashed on {street} overnight, nothing taken.",
    "The Red Lion pub reported a fight in the beer garden at closing time.",
    "Offender entered the rear garden via the alleyway and took a Trek mountain bike worth £600.",
    "Victim states the male was known to her but refused to give further details.",
    "Lead taken from the roof of St Mary's Church, Warwick, estimated cost £12,000.",
    "Dog fouling and littering on {street} raised at the PACT meeting on {date}.",
    "Suspect wore a dark hoodie, jeans and white Adidas trainers; approx 5ft 10in.",
    "Car parked across the driveway of a house on {street} for 3 days.",
    "Neighbours complain of a strong smell of cannabis from the flats on {street}.",
    "Attempted break-in, scratch marks around the lock of the UPVC front door.",
    "Group of 10-15 youths setting off fireworks on {street} near the primary school.",
    "Victim reports her Ring doorbell was ripped off the wall at 03:40.",
    "Wallet containing bank cards taken from a handbag hung on a chair in Costa Coffee.",
    "Stolen Yamaha scooter found abandoned near the canal in {town}.",
    "Victim states Harry Potter books and a PlayStation 5 were taken from the lounge.",
    "Store detective reports the same 2 females stole from Boots twice this week.",
    "Fence panels at {street} allotments kicked in; 3rd incident this month.",
    "Council CCTV camera 14 on {street} captured the incident at 22:14.",
    "Taxi driver assaulted after a fare dispute outside the Kebab House on {street}.",
    "Victim had left the keys in the ignition while de-icing the car on {street}.",
    "Bus driver reports stones thrown at the number 64 bus on {street}.",
    "Flat roof of the garage block used by youths to access the school grounds.",
    "Trespass on the railway line near {town}, British Transport Police informed.",
    "Offenders used a tow rope to pull the cash machine from the wall of the Spar.",
    "Welfare check carried out, occupant safe and well, no further action.",
    "Victim Support referral offered and accepted; Witness Care Unit to update.",
    "Suspect Vehicle Index unknown, described as a white Transit van.",
    "Victim Personal Statement to be taken next week.",
    "Mark on the door frame consistent with a jemmy; Rose bushes trampled in the front garden.",
    "Jack used to lift the car; all 4 alloy wheels taken, car left on bricks on {street}.",
    "Holly Lodge care home reports a resident's purse missing from her room.",
    "Kenilworth Castle car park: 2 vehicles broken into, sat navs taken.",
    "Youths seen on the roof of the Grace Academy sports hall at 21:00.",
    "Assault outside the Victoria pub, victim punched once, declined medical attention.",
    "Dr Martens boots worn by the offender left a clear footwear mark in the mud.",
    # Written after the scrubber, as a fresh check; the last three were false positives then.
    "Offender smashed the kitchen window with a hammer and climbed through, leaving blood on the frame.",
    "Taken: Bosch drill, Makita impact driver, DeWalt saw, total value approx £900.",
    "Youths riding e-scooters through Pump Room Gardens shouting at dog walkers.",
    "Caller reports a man sleeping in the doorway of the old Woolworths building on the Parade.",
    "Victim's purse taken from her basket while shopping in Sainsbury's, {town}.",
    "Criminal damage: tyres slashed on 4 vehicles in Kingsway car park.",
    "Bike stolen from outside the Jephson Gardens glasshouse, D lock cut.",
    "Domestic: verbal argument overheard, no injuries, both parties spoken to.",
    "Warwick Castle security report trespassers on the ramparts after closing.",
    "Suspect left in a dark Audi A3 heading towards the M40 junction 13.",
    "Reports of dealing from a blue Mini Cooper at the Newbold Comyn car park.",
    "Elderly victim tricked by a rogue trader claiming to be from Severn Trent.",
    "Stolen: Apple MacBook Pro, Canon EOS camera, Pandora bracelet.",
    "Paul Smith jacket and Hugo Boss belt taken.",
    "Grace Road flats communal door lock broken again.",
    "Victoria Terrace residents complain about students' parties.",
    "Vehicle {reg} sped through the red light at 50mph.",
    "Shoplifter took 12 packs of Lynx deodorant from Superdrug.",
    "Joseph Chamberlain Sixth Form College reported cyber bullying.",
    "King Henry VIII School pupils involved in a fight in the park.",
    "Mr Whippy van involved in a minor collision on the estate.",
]

REGS = ["AB12 CDE", "WK19 XYZ", "FN68 OPL", "YC21 TRV", "BD70 HJK", "LR15 MNB"]
REG_PARTS = ["AB12", "ending in XYZ", "WK19 X", "FN6"]


def _clean(rng: random.Random) -> tuple[str, list[Label]]:
    """A sentence from CLEAN_TEMPLATES. Vehicle registrations were once counted as clean here; they
    are identifiers now (the scrubber removes them), so a sentence that got one carries a label.
    The random draws are the same as before, so every other sentence is unchanged."""
    template = rng.choice(CLEAN_TEMPLATES)
    s1, s2 = rng.sample(STREETS, 2)
    town = rng.choice(TOWNS)
    reg, regpart = rng.choice(REGS), rng.choice(REG_PARTS)
    text = template.format(
        street=s1,
        street2=s2,
        town=town,
        reg=reg,
        regpart=regpart,
        yy=rng.randrange(19, 25),
        log=f"{rng.randrange(1, 999):04d}",
        date=f"{rng.randrange(1, 29):02d}/{rng.randrange(1, 13):02d}/20{rng.randrange(19, 25)}",
    )
    labels: list[Label] = []
    for slot, value in (("{reg}", reg), ("{regpart}", regpart)):
        if slot in template and not value.startswith("ending"):  # "ending in XYZ" identifies no vehicle
            chars = r"\s*".join(re.escape(ch) for ch in value if ch != " ")
            probe = r"(?i)(?<![A-Za-z0-9])" + chars + r"(?![A-Za-z0-9])"
            labels.append(Label("vehicle_registration", value, probe, "full" if slot == "{reg}" else "partial"))
    return text, labels


GENERATORS: dict[str, Callable[[random.Random], tuple[str, Label]]] = {
    "phone": _phone,
    "nhs_number": _nhs,
    "ni_number": _ni,
    "email": _email,
    "postcode": _postcode,
}


@lru_cache(maxsize=4)
def build_corpus(
    seed: int = SEED, per_kind: int = 100, names: int = 300, clean: int = 300
) -> tuple[Sample, ...]:
    """``per_kind`` labelled sentences for each structured kind, ``names`` for names (more, as
    there are many forms), plus ``clean`` sentences with no identifier."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    for kind in KINDS[:7]:  # registrations come only from the clean templates (see _clean)
        for _ in range(names if kind == "name" else per_kind):
            if kind == "name":
                text, label = _name(rng)
                labels = [label]
            elif kind == "house_number":
                x, labels = _house(rng)
                text = rng.choice(TEMPLATES[kind]).format(x=x, town=rng.choice(TOWNS))
            else:
                x, label = GENERATORS[kind](rng)
                text = rng.choice(TEMPLATES[kind]).format(x=x, town=rng.choice(TOWNS))
                labels = [label]
            if rng.random() < 0.1:
                second_kind = rng.choice(["phone", "email"])
                x2, label2 = GENERATORS[second_kind](rng)
                text += rng.choice(SECOND_ID_TEMPLATES[:1] if second_kind == "phone"
                                   else SECOND_ID_TEMPLATES[1:]).format(x=x2)
                labels.append(label2)
            samples.append(Sample(text, tuple(labels)))
    for _ in range(clean):
        text, labels = _clean(rng)
        samples.append(Sample(text, tuple(labels)))
    return tuple(samples)


def _output_text(result: object) -> str:
    return result if isinstance(result, str) else result.text


def measure(scrub: Callable[[str], object], corpus: tuple[Sample, ...] | None = None) -> dict:
    """Run ``scrub`` over the corpus; return recall per kind and the clean sentences altered.

    Returns {"recall": {kind: float}, "labelled": {kind: int}, "missed": {kind: int},
    "name_forms": {form: (caught, total)}, "clean_sentences": int, "clean_altered": int,
    "labelled_sentences": int, "missed_examples": [(kind, form, value, output)],
    "altered_examples": [(input, output)]}.
    """
    corpus = corpus if corpus is not None else build_corpus()
    labelled = {k: 0 for k in KINDS}
    missed = {k: 0 for k in KINDS}
    name_forms: dict[str, list[int]] = {}
    missed_examples: list[tuple[str, str, str, str]] = []
    altered_examples: list[tuple[str, str]] = []
    clean_total = clean_altered = labelled_sentences = 0
    for sample in corpus:
        out = _output_text(scrub(sample.text))
        if not sample.labels:
            clean_total += 1
            if out != sample.text:
                clean_altered += 1
                altered_examples.append((sample.text, out))
            continue
        labelled_sentences += 1
        for label in sample.labels:
            labelled[label.kind] += 1
            leaked = re.search(label.probe, out) is not None
            if label.kind == "name":
                caught_total = name_forms.setdefault(label.form, [0, 0])
                caught_total[1] += 1
                caught_total[0] += 0 if leaked else 1
            if leaked:
                missed[label.kind] += 1
                missed_examples.append((label.kind, label.form, label.value, out))
    recall = {k: (1 - missed[k] / labelled[k]) if labelled[k] else 1.0 for k in KINDS}
    return {
        "recall": recall,
        "labelled": labelled,
        "missed": missed,
        "name_forms": {f: tuple(v) for f, v in sorted(name_forms.items())},
        "clean_sentences": clean_total,
        "clean_altered": clean_altered,
        "labelled_sentences": labelled_sentences,
        "missed_examples": missed_examples,
        "altered_examples": altered_examples,
    }


def format_table(result: dict) -> str:
    lines = [f"{'kind':<22}{'labelled':>9}{'missed':>8}{'recall':>9}"]
    for kind in KINDS:
        lines.append(
            f"{kind:<22}{result['labelled'][kind]:>9}{result['missed'][kind]:>8}{result['recall'][kind]:>9.3f}"
        )
    lines.append("")
    lines.append("names by form (caught/total):")
    for form, (caught, total) in result["name_forms"].items():
        lines.append(f"  {form:<24}{caught:>4}/{total:<4}")
    lines.append("")
    lines.append(
        f"labelled sentences: {result['labelled_sentences']}; clean sentences altered: "
        f"{result['clean_altered']}/{result['clean_sentences']}"
    )
    return "\n".join(lines)
