"""Premises that are not dwellings keep their name: licensed-premises analysis of night-time
violence needs "The Red Lion" (guidance 4.3.1); a dwelling's house name never leaves."""

from __future__ import annotations

import datetime as dt

import pytest

from exchange.core.record_sanitiser import RecordSanitiser
from exchange.core.schemas import catalogue
from exchange.crypto.pseudonyms import Pseudonymiser
from exchange.testing.records import records_for

TODAY = dt.date.today()
OFFENCE = catalogue()["police_crime_offence"]


@pytest.fixture
def shared_address(partnership, gazetteer):
    rules = RecordSanitiser(partnership, catalogue(), gazetteer, Pseudonymiser(b"p" * 32))
    # A record on a postcode with enough households, so its address is not withheld for a move.
    record = next(r for r in records_for(OFFENCE, gazetteer, 200, seed=9, today=TODAY)
                  if r["postcode"] and gazetteer.get(r["postcode"]).households >= partnership.k_households)

    def release(address: str, location_type: str) -> str | None:
        changed = {**record, "address": address, "location_type": location_type}
        return rules.sanitise(OFFENCE, changed, originator="northshire-police", today=TODAY).record["address"]
    return release


def test_a_pub_keeps_its_name_but_not_its_number(shared_address):
    assert shared_address("The Red Lion, 12 High Street, Nexford", "non_residential") == \
        "The Red Lion, High Street, Nexford"


def test_a_dwelling_loses_its_house_name_whatever_it_is(shared_address):
    assert shared_address("The Red Lion, 12 High Street, Nexford", "addressable") == "High Street, Nexford"
    assert shared_address("Meadow View, Lower Foundry Court, Nexford Town Centre", "addressable") == \
        "Lower Foundry Court, Nexford Town Centre"
