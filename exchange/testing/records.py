"""Deterministic synthetic raw records for ANY dataset in the catalogue, placed on a gazetteer.

    records_for(dataset, gazetteer, n, seed)  typed records: `dataset.raw_codec.encode` accepts
                                              them and exchange.core.validation.cross_field_checks
                                              finds nothing wrong with them
    rows_for(dataset, gazetteer, n, seed)     the same records as CSV text keyed by schema field
                                              name (ISO dates, HH:MM times, Y/N booleans), which
                                              `exchange sanitise` and validate_row read back to
                                              exactly the records above

Values are driven by each field's schema type and sanitise rule, with a few names recognised
(addresses, postcodes and postcode districts, coordinates, dates of birth, names, references,
ages), so a dataset added to the catalogue later gets records without touching this module.
Nothing here is real data: postcodes come from the (synthetic) gazetteer, names from short
made-up lists, and the identifiers planted in free text (an NHS number with a valid modulus-11
check digit, a phone number in Ofcom's drama range, an e-mail at example.com) exist only to show
the sanitiser scrubbing them.

The same (dataset, gazetteer, n, seed, today) always gives the same records. Reference numbers
depend only on the seed, the pseudonym domain and the row index, so row i of police_crime_offence,
police_crime_offender and police_crime_victim generated with one seed share a crime reference,
as linked police extracts do.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from exchange.core.reference import HOME_OFFICE_OFFENCES
from exchange.core.schemas import Dataset, FieldPolicy, catalogue

__all__ = ["records_for", "rows_for", "row_from_record", "write_rows_csv", "nhs_number", "EVENT_WINDOW_DAYS"]

EVENT_WINDOW_DAYS = 28  # event dates fall in the 28 days before `today`
PLANT_RATE = 0.25  # share of free-text values that carry a planted direct identifier

_FORENAMES = ("Aaron", "Bethany", "Callum", "Danielle", "Ethan", "Fatima", "Gareth", "Hannah", "Imran",
              "Jade", "Kieran", "Leah", "Mohammed", "Nicole", "Owen", "Priya", "Ryan", "Sophie", "Tyler", "Zara")
_SURNAMES = ("Ashworth", "Begum", "Carter", "Davies", "Evans", "Fletcher", "Green", "Hughes", "Iqbal",
             "Jenkins", "Kowalski", "Lewis", "Morgan", "Nowak", "O'Brien", "Patel", "Quinn", "Roberts",
             "Smith", "Thompson", "Walsh", "Young")
_HOUSE_NAMES = ("Rose Cottage", "The Old Rectory", "Meadow View", "Ivy House", "The Laurels")
_NON_ADDRESSABLE = ("Victoria Park", "Station Car Park", "Canal towpath", "Recreation Ground", "Market Square",
                    "Riverside Walk", "Bus Station")
# 2011 Census ethnicity codes (16+1), as most agency systems record them.
_ETHNICITY = ("W1", "W2", "W3", "W9", "M1", "M2", "M3", "M9", "A1", "A2", "A3", "A9", "B1", "B2", "B9", "O1", "O9",
              "NS")

_FREE_TEXT = {
    "method_of_entry": ("Rear window forced with a screwdriver", "Front door lock snapped", "Insecure back door",
                        "Side gate climbed, patio door forced", "Window smashed", "Door panel kicked in"),
    "property_stolen": ("Laptop and jewellery", "Car keys and vehicle", "Cash and bank cards", "Mobile phone",
                        "Bicycle", "Tools from van", "Nothing taken"),
    "modus_operandi": ("Bag taken from luggage rack", "Phone snatched as doors closed", "Fare evasion, abuse to staff",
                       "Graffiti on carriage", "Cable theft at trackside"),
    "description": ("Youths gathering and shouting late at night", "Bins set alight behind shops",
                    "Stones thrown at passing vehicles", "Loud music reported by neighbours",
                    "Rubbish bags dumped on verge", "Verbal abuse towards staff", "Windows damaged"),
    "assault_location_name": ("Outside a takeaway on the high street", "Town centre taxi rank", "Pub car park",
                              "Near the bus station", "In the park by the play area"),
    "weapon": ("Knife", "Fist", "Feet, kicked while on the ground", "Broken bottle", "Glass", "Head butt",
               "Blunt instrument", "Bat"),
}
_GENERIC_FREE_TEXT = ("Reported by a member of the public", "Attended, no further action",
                      "Details passed to partner agency", "Repeat location, patrol requested")

_VOCABULARY: dict[str, tuple[str, ...]] = {
    "assault_place_type": ("Street", "Licensed premises", "Home", "Park", "Shop"),
    "call_category": ("Category 1", "Category 2", "Category 3", "Category 4"),
    "dispatch_code": ("AMPDS 04-D-1", "AMPDS 23-C-3", "AMPDS 17-B-1", "AMPDS 26-A-1"),
    "place_type": ("Street", "Licensed premises", "Home", "Public building"),
    "destination_hospital": ("Northshire General Hospital", "Northtown Community Hospital"),
    "station_name": ("Northtown", "Northtown Parkway", "Eastbrook", "Millford"),
    "line_of_route": ("Northshire Main Line", "Eastbrook Branch"),
    "operator": ("Northshire Buses", "County Connect", "Northshire Rail"),
    "route_number": ("1", "7", "12A", "X5", "22"),
    "vehicle_ref": ("Fleet 1043", "Fleet 2210", "Fleet 3307"),
    "incident_type": ("Anti-social behaviour", "Assault on staff", "Criminal damage", "Missile thrown", "Fare dispute"),
    "stop_name": ("High Street stop", "Interchange stand B", "Hospital stop", "Market Square stop"),
    "station_or_stop": ("Northtown Interchange", "Eastbrook station", "Market Square stop"),
    "route": ("Route 1", "Route 7", "Northshire Main Line"),
    "asb_type": ("Rowdy or inconsiderate behaviour", "Noise", "Fly-tipping", "Graffiti", "Abandoned vehicle"),
    "reporting_service": ("Housing", "Environmental Health", "Street Scene", "Community Safety"),
    "waste_type": ("Household", "Construction", "Green waste", "Tyres", "White goods"),
    "waste_types": ("Household", "Construction and demolition", "End-of-life vehicles", "Tyres"),
    "flytip_size": ("Single bag", "Car boot load", "Small van load", "Transit van load", "Tipper lorry load"),
    "action_taken": ("Cleared", "Warning letter", "Fixed penalty notice", "Referred to police", "No action"),
    "opening_code": ("ASB", "Concern for safety", "Suspicious circumstances", "Domestic incident", "Road related"),
    "closing_code": ("Advice given", "Crime recorded", "No trace", "Resolved by phone"),
    "grade": ("Immediate", "Priority", "Scheduled", "Resolution without deployment"),
    "property_type": ("Dwelling", "Vehicle", "Refuse container", "Grassland", "Derelict building"),
    "ignition_source": ("Naked flame", "Lighter", "Matches", "Unknown"),
    "primary_diagnosis": ("F10.0 Acute alcohol intoxication", "T40.2 Opioid poisoning", "F19.0 Mixed drug intoxication",
                          "K70.3 Alcoholic cirrhosis"),
    "secondary_diagnoses": ("S01.8 Open wound of head", "R40.2 Unconsciousness", "E86 Volume depletion"),
    "admission_method": ("Emergency via A&E", "Emergency via GP", "Elective"),
    "substance": ("Alcohol", "Heroin", "Crack cocaine", "Cannabis", "Benzodiazepines"),
    "primary_substance": ("Heroin", "Crack cocaine", "Alcohol", "Cannabis", "Amphetamine"),
    "secondary_substance": ("Alcohol", "Cannabis", "Benzodiazepines", "Cocaine"),
    "referral_source": ("Self", "GP", "Criminal justice", "Probation", "Youth offending service", "School"),
    "treatment_modality": ("Opioid substitution", "Psychosocial", "Inpatient detox", "Residential rehabilitation"),
    "intervention_type": ("Harm reduction", "Psychosocial", "Family work", "Pharmacological"),
    "discharge_reason": ("Completed, drug free", "Dropped out", "Transferred", "Incarcerated"),
    "legislation": ("Misuse of Drugs Act 1971 (section 23)", "Police and Criminal Evidence Act 1984 (section 1)",
                    "Criminal Justice and Public Order Act 1994 (section 60)"),
    "object_of_search": ("Controlled drugs", "Offensive weapons", "Stolen goods", "Articles for use in theft"),
    "outcome": ("A no further action disposal", "Arrest", "Community resolution", "Penalty Notice for Disorder"),
    "custody_suite": ("Northtown Custody", "Eastbrook Custody"),
    "relationship_to_offender": ("Stranger", "Acquaintance", "Partner", "Ex-partner", "Family member"),
    "exclusion_reason": ("Persistent disruptive behaviour", "Physical assault against a pupil",
                         "Verbal abuse against an adult", "Drug and alcohol related"),
    "sen_status": ("N", "K", "E"),
    "sentence_type": ("Community order", "Suspended sentence order", "Custody", "Youth rehabilitation order"),
    "disposal": ("Referral order", "Youth rehabilitation order", "Detention and training order", "Youth caution"),
    "main_offence_type": ("Burglary", "Vehicle crime", "Robbery", "Theft", "Drugs supply"),
    "lead_agency": ("Police", "Probation", "Youth offending service"),
    "releasing_establishment": ("HMP Northshire", "HMP Eastbrook", "HMYOI Millford"),
    "supervising_yot": ("Northshire YOT",),
    "enforcement_action": ("Warning letter", "Formal caution", "Prosecution", "Vehicle seized", "No action"),
    "enforcement_status": ("None", "Warning issued", "Enforcement notice", "Prosecution"),
    "land_type": ("Highway", "Farmland", "Woodland", "Industrial estate", "Private land"),
    "quantity": ("Single bag", "Car boot load", "Small van load", "Tipper lorry load"),
    "site_type": ("Scrap metal yard", "Skip hire", "Waste transfer station", "Vehicle dismantler"),
    "notes": ("Monthly IOM review", "Engaging well with services", "Breach proceedings pending"),
    "occupation": ("Unemployed", "Labourer", "Scaffolder", "Warehouse operative", "Care assistant", "Student",
                   "Self-employed mechanic", "Not known"),
}
# Makes and models of abandoned vehicles (council_asb), so a record never pairs a make with another's model.
_VEHICLES = {"Ford": ("Fiesta", "Focus", "Transit"), "Vauxhall": ("Corsa", "Astra"), "Volkswagen": ("Golf", "Polo"),
             "Renault": ("Clio", "Megane"), "Peugeot": ("206", "307")}
_VEHICLE_FIELDS = ("vehicle_make", "vehicle_model", "vehicle_age_years", "vehicle_registered_postcode_district")

_REF_PREFIX = {"crime_ref": "CR", "person_ref": "PN", "incident_ref": "INC", "episode_ref": "EP", "pupil_ref": "UPN",
               "stop_search_ref": "SS", "drug_test_ref": "DT", "patient_ref": "PT"}
_NAME_FIELDS = {"surname": "surname", "forename": "forename", "alias": "alias", "suspect_name": "full",
                "operator_name": "company", "offender_manager": "full", "case_worker": "full"}
# Dates other than the event date, as (earliest, latest) days relative to the event date
# (capped at `today`, as an export of what has happened would be, except the planned dates below).
_DATE_OFFSETS = {
    "committed_to_date": (0, 1), "assault_date": (-1, 0), "incident_date": (-3, 0), "report_date": (0, 2),
    "triage_date": (0, 7), "treatment_start_date": (3, 21), "discharge_date": (20, 120),
    "committed_from_date": (-90, 0), "deselection_date": (30, 365), "last_inspection_date": (-400, -30),
    "licence_end_date": (30, 400), "supervision_end_date": (30, 400), "planned_discharge_date": (28, 180),
}
_MAY_LIE_AHEAD = frozenset({"planned_discharge_date"})  # a plan: validation lets it be in the future
_DOB_YEARS_DEFAULT = (12, 80)
_DOB_YEARS_BY_DATASET = {"drug_treatment_young": (12, 17), "yos_assessment": (12, 17), "school_exclusion": (12, 16),
                         "yoi_release": (15, 20)}
# Datasets whose location is always premises that are not a dwelling (an exclusion is located at the school).
_PREMISES_ONLY = {"school_exclusion"}


# -- helpers ---------------------------------------------------------------------------------


def _kind(policy: FieldPolicy) -> tuple[str, str | None, Any]:
    """(primitive kind, logical type, base type) of a field."""
    base = policy.base
    if isinstance(base, dict):
        return base.get("type"), base.get("logicalType"), base
    return base, None, base


def nhs_number(rng: random.Random) -> str:
    """A ten-digit number with a valid NHS modulus-11 check digit, spaced 3-3-4 as it is written."""
    while True:
        digits = [rng.randint(0, 9) for _ in range(9)]
        if len(set(digits)) == 1:
            continue
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        check = 0 if check == 11 else check
        if check == 10:
            continue
        text = "".join(map(str, digits)) + str(check)
        return f"{text[:3]} {text[3:6]} {text[6:]}"


def _phone(rng: random.Random) -> str:
    return rng.choice([f"07700 900{rng.randint(0, 999):03d}", f"0113 496 {rng.randint(0, 999):04d}"])


def _email(rng: random.Random) -> str:
    return f"{rng.choice(_FORENAMES).lower()}.{rng.choice(_SURNAMES).lower().replace(chr(39), '')}@example.com"


def _plant(rng: random.Random, text: str) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return f"{text}; NHS number {nhs_number(rng)} given at scene"
    if kind == 1:
        return f"{text}; informant can be called on {_phone(rng)}"
    return f"{text}; reported by e-mail from {_email(rng)}"


def _reference(domain: str, seed: int, index: int) -> str:
    return f"{_REF_PREFIX.get(domain, domain[:3].upper())}/{seed}/{index + 1:05d}"


def _pnc_id(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPQRTUVWXYZ"
    return f"{rng.randint(0, 23):02d}/{rng.randint(1, 999999):07d}{rng.choice(letters)}"


def _location_fields(dataset: Dataset) -> dict[str, str]:
    """Which field carries the address, postcode, easting and northing, by rule or (personal) by name."""
    found: dict[str, str] = {}
    for policy in dataset.fields:
        if policy.rule == "address" or (dataset.personal and policy.name == "address"):
            found.setdefault("address", policy.name)
        elif policy.rule == "postcode" or (dataset.personal and policy.name == "postcode"):
            found.setdefault("postcode", policy.name)
        elif policy.rule == "coordinate" and policy.axis:
            found.setdefault(policy.axis, policy.name)
        elif dataset.personal and policy.name in ("easting", "northing"):
            found.setdefault(policy.name, policy.name)
    return found


class _Places:
    """Postcodes of the gazetteer, in a fixed order, with their streets and localities."""

    def __init__(self, gazetteer: Any):
        centroids = sorted(gazetteer, key=lambda c: c.postcode)
        if not centroids:
            raise ValueError("the gazetteer holds no postcodes")
        with_streets = [c for c in centroids if _streets(gazetteer, c.postcode)]
        self.centroids = with_streets or centroids
        self.gazetteer = gazetteer

    def place(self, rng: random.Random, non_addressable: bool) -> dict[str, Any]:
        centroid = rng.choice(self.centroids)
        streets = _streets(self.gazetteer, centroid.postcode) or ("High Street",)
        street = rng.choice(streets)
        locality = _locality(self.gazetteer, centroid.postcode) or "Northtown"
        if non_addressable:
            address = f"{rng.choice(_NON_ADDRESSABLE)}, {locality}"
            spread = 150
        else:
            number = rng.randint(1, 180)
            address = rng.choice([
                f"{number} {street}, {locality}", f"{number}a {street}, {locality}",
                f"Flat {rng.randint(1, 12)}, {number} {street}, {locality}",
                f"{rng.choice(_HOUSE_NAMES)}, {street}, {locality}", f"{number}-{number + 2} {street}, {locality}"])
            spread = 40
        # Whole metres: what agency systems hold, and a float that survives CSV text exactly.
        easting = float(round(centroid.easting + rng.uniform(-spread, spread)))
        northing = float(round(centroid.northing + rng.uniform(-spread, spread)))
        return {"address": address, "postcode": centroid.postcode, "easting": easting, "northing": northing}


def _streets(gazetteer: Any, postcode: str) -> tuple[str, ...]:
    streets = getattr(gazetteer, "streets", None)
    return tuple(streets(postcode)) if streets else ()


def _locality(gazetteer: Any, postcode: str) -> str | None:
    locality = getattr(gazetteer, "locality", None)
    return locality(postcode) if locality else None


# -- one record ------------------------------------------------------------------------------


def _date_of_birth(dataset: Dataset, rng: random.Random, event: dt.date) -> dt.date:
    low, high = _DOB_YEARS_BY_DATASET.get(dataset.id, _DOB_YEARS_DEFAULT)
    age_days = rng.randint(low * 365 + 1, high * 365 + 300)
    return event - dt.timedelta(days=age_days)


def _other_date(name: str, rng: random.Random, event: dt.date, today: dt.date) -> dt.date:
    low, high = _DATE_OFFSETS.get(name, (-7, 0))
    value = event + dt.timedelta(days=rng.randint(low, high))
    return value if name in _MAY_LIE_AHEAD else min(value, today)


def _string(dataset: Dataset, policy: FieldPolicy, rng: random.Random, *, seed: int, index: int,
            person: tuple[str, str]) -> str:
    name = policy.name
    if policy.rule == "pseudonymise" and name == "pnc_id":
        return _pnc_id(rng)
    if policy.rule == "pseudonymise":
        return _reference(policy.pseudonym_domain or name, seed, index)
    if name == "pnc_id":
        return _pnc_id(rng)
    if name == "prison_number":  # the natural key of a release: unique within a sample, as in a prison's system
        serial = (seed * 7919 + index) % (9000 * 64)
        return f"A{1000 + serial // 64}{'ABCDEFGH'[serial // 8 % 8]}{'ABCDEFGH'[serial % 8]}"
    if name.endswith("_ref"):
        return f"{name.removesuffix('_ref')[:3].upper()}/{seed}/{index + 1:05d}"
    if name in _NAME_FIELDS:
        forename, surname = person
        style = _NAME_FIELDS[name]
        if style == "surname":
            return surname
        if style == "forename":
            return forename
        if style == "alias":
            return f"{rng.choice(_FORENAMES)} {surname}"
        if style == "company":
            return f"{surname} Waste Services Ltd"
        return f"{rng.choice(_FORENAMES)} {rng.choice(_SURNAMES)}"
    if "ethnicity" in name:
        return rng.choice(_ETHNICITY)
    if "offence_code" in name:
        return rng.choice(sorted(HOME_OFFICE_OFFENCES))
    if name == "school_urn":
        return str(rng.randint(100000, 149999))
    if name == "site_name":
        return f"{rng.choice(_SURNAMES)}'s Yard"
    if name == "vehicle_registration":
        letters = "ABCDEFGHJKLMNOPRSTUVWXY"
        return (f"{rng.choice(letters)}{rng.choice(letters)}{rng.randint(51, 74)} "
                f"{rng.choice(letters)}{rng.choice(letters)}{rng.choice(letters)}")
    if policy.rule == "free_text" or name in _FREE_TEXT:
        text = rng.choice(_FREE_TEXT.get(name, _GENERIC_FREE_TEXT))
        # Only free-text fields are scrubbed, so only they ever carry a planted identifier.
        return _plant(rng, text) if policy.rule == "free_text" and rng.random() < PLANT_RATE else text
    if name in _VOCABULARY:
        return rng.choice(_VOCABULARY[name])
    return f"{name.replace('_', ' ').capitalize()} {rng.choice('ABCDE')}"


def _int(name: str, rng: random.Random, event: dt.date, dob: dt.date | None) -> int:
    if name == "age" or name in ("offender_age", "victim_age"):
        return rng.randint(12, 80)
    if name == "year_group":
        if dob is not None:  # the school year the pupil is in on the event date
            return max(7, min(11, event.year - dob.year - (1 if event.month < 9 else 0) - 4))
        return rng.randint(7, 11)
    ranges = {"number_of_assailants": (1, 3), "casualties": (0, 2), "length_sessions": (1, 10), "ogrs_score": (0, 99),
              "mappa_level": (1, 3), "sentence_length_days": (28, 1460), "length_of_stay_days": (0, 14),
              "total_score": (0, 48), "damage_value": (20, 5000), "vehicle_age_years": (3, 25),
              "planned_supervision_months": (6, 36)}
    if name.startswith("score_"):
        return rng.randint(0, 4)
    low, high = ranges.get(name, (0, 10))
    return rng.randint(low, high)


def _record(dataset: Dataset, rng: random.Random, places: _Places, *, seed: int, index: int,
            today: dt.date) -> dict[str, Any]:
    event = today - dt.timedelta(days=rng.randint(1, EVENT_WINDOW_DAYS))
    location = _location_fields(dataset)
    premises_only = dataset.id in _PREMISES_ONLY
    non_addressable = not premises_only and rng.random() < 0.1
    place = places.place(rng, non_addressable) if location else {}
    person = (rng.choice(_FORENAMES), rng.choice(_SURNAMES))
    dob = None
    for policy in dataset.fields:
        if policy.rule == "dob_to_age" or policy.name == "date_of_birth":
            dob = _date_of_birth(dataset, rng, event)
    record: dict[str, Any] = {}
    for policy in dataset.fields:
        name = policy.name
        kind, logical, base = _kind(policy)
        # Optional fields are mostly filled: an export with every optional cell empty tests nothing.
        if policy.nullable and kind != "boolean" and name not in location.values() and rng.random() < 0.12:
            record[name] = None
            continue
        if name == dataset.event_date_field:
            record[name] = event
        elif name == location.get("address"):
            record[name] = place["address"]
        elif name == location.get("postcode"):
            record[name] = place["postcode"]
        elif name == location.get("easting"):
            record[name] = place["easting"]
        elif name == location.get("northing"):
            record[name] = place["northing"]
        elif name.endswith("_address") and kind == "string":
            record[name] = places.place(rng, False)["address"]
        elif name.endswith("_postcode_district") and kind == "string":  # the outward code only ("NX1")
            record[name] = places.place(rng, False)["postcode"].split()[0]
        elif name == "location_type":
            record[name] = "non_residential" if premises_only else "non_addressable" if non_addressable else \
                ("non_residential" if rng.random() < 0.1 else "addressable")
        elif logical == "date":
            record[name] = dob if (policy.rule == "dob_to_age" or name == "date_of_birth") else \
                _other_date(name, rng, event, today)
        elif logical in ("time-millis", "time-micros"):
            record[name] = dt.time(rng.randint(0, 23), rng.choice((0, 15, 30, 45)))
        elif name == "consent":
            # Withheld consent holds a record back from most grants (tests/test_consent.py sets it);
            # a synthetic cohort is shared, as an agency's usually is, with consent given or not sought.
            record[name] = rng.choice(["given", "not_sought"])
        elif kind == "enum":
            record[name] = rng.choice(base["symbols"])
        elif kind == "boolean":
            record[name] = rng.random() < 0.15
        elif kind in ("int", "long"):
            record[name] = _int(name, rng, event, dob)
        elif kind in ("float", "double"):
            record[name] = float(rng.randint(0, 100))
        elif kind == "string":
            record[name] = _string(dataset, policy, rng, seed=seed, index=index, person=person)
        else:  # a type the schemas do not use today: leave it empty when allowed
            if not policy.nullable:
                raise ValueError(f"{dataset.id}.{name}: cannot synthesise a value of type {kind!r}")
            record[name] = None
    _make_consistent(dataset, record, today, rng)
    return record


def _make_consistent(dataset: Dataset, record: dict[str, Any], today: dt.date, rng: random.Random) -> None:
    """Cross-field rules an export would satisfy: date orders, no future dates, and vehicle details only on
    reports of abandoned vehicles (with a model of the make)."""
    start, end = record.get("committed_from_date"), record.get("committed_to_date")
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        record["committed_to_date"] = start
    for name, value in list(record.items()):
        if isinstance(value, dt.date) and value > today and name not in _MAY_LIE_AHEAD:
            record[name] = today
    for key in ("discharge_date", "treatment_start_date"):
        triage = record.get("triage_date")
        if isinstance(record.get(key), dt.date) and isinstance(triage, dt.date) and record[key] < triage:
            record[key] = triage
    if "asb_type" in record and any(name in record for name in _VEHICLE_FIELDS):
        if record["asb_type"] != "Abandoned vehicle":
            record.update({name: None for name in _VEHICLE_FIELDS if name in record})
        else:
            make = rng.choice(sorted(_VEHICLES))
            for name, value in (("vehicle_make", make), ("vehicle_model", rng.choice(_VEHICLES[make]))):
                if record.get(name) is not None:
                    record[name] = value


# -- public API ------------------------------------------------------------------------------


def _dataset(dataset: Dataset | str) -> Dataset:
    return catalogue()[dataset] if isinstance(dataset, str) else dataset


def records_for(dataset: Dataset | str, gazetteer: Any, n: int, seed: int, *,
                today: dt.date | None = None) -> list[dict[str, Any]]:
    """`n` typed raw records of `dataset`, placed on postcodes of `gazetteer` (deterministic)."""
    dataset = _dataset(dataset)
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    today = today or dt.date.today()
    # A string seed hashes with SHA-512 inside random, so the stream never depends on PYTHONHASHSEED.
    rng = random.Random(f"{dataset.id}\x00{seed}\x00{today.isoformat()}")
    places = _Places(gazetteer)
    return [_record(dataset, rng, places, seed=seed, index=i, today=today) for i in range(n)]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, dt.time):
        return value.strftime("%H:%M") if not value.second and not value.microsecond else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else repr(value)
    return str(value)


def row_from_record(dataset: Dataset | str, record: Mapping[str, Any]) -> dict[str, str]:
    """One typed raw record as CSV text keyed by schema field name."""
    dataset = _dataset(dataset)
    return {p.name: _cell(record.get(p.name)) for p in dataset.fields}


def rows_for(dataset: Dataset | str, gazetteer: Any, n: int, seed: int, *,
             today: dt.date | None = None) -> list[dict[str, str]]:
    """`records_for` as CSV text rows: ISO dates, HH:MM times, Y/N booleans, empty for null."""
    dataset = _dataset(dataset)
    return [row_from_record(dataset, r) for r in records_for(dataset, gazetteer, n, seed, today=today)]


def write_rows_csv(path: str | Path, dataset: Dataset | str, rows: Iterable[Mapping[str, str]],
                   *, extra_columns: Sequence[str] = ()) -> Path:
    """Write rows with a header of the schema's field names (in schema order)."""
    dataset = _dataset(dataset)
    path = Path(path)
    columns = [p.name for p in dataset.fields] + list(extra_columns)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path
