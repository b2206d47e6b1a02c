"""Pseudonyms are keyed per originator: the same reference from two agencies never gives the same
token, so no agency can use the sanitiser as an oracle for another's tokens. Cross-agency linkage
only where the partnership declares a linkage domain with its legal basis, and only in a release
whose every recipient is tier 1."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from exchange.core.partnership import Partnership
from exchange.core.record_sanitiser import RecordSanitiser
from exchange.core.schemas import catalogue
from exchange.crypto.pseudonyms import Pseudonymiser
from exchange.errors import ConfigError
from exchange.testing.records import records_for
from tests.support.governance import keys

TODAY = dt.date.today()
DATASET = catalogue()["police_crime_offence"]


BASE = {"partnership": {"name": "t"}, "sanitiser": keys(), "signatory": [
    {"id": "police", "name": "Police", "kind": "responsible_authority", "tier": 1, "status": "active",
     "supplies": ["police_crime_offence"], **keys()},
    {"id": "btp", "name": "Transport police", "kind": "other", "tier": 1, "status": "active",
     "supplies": ["police_crime_offence"], **keys()}]}
LINKED = {**copy.deepcopy(BASE), "linkage": [{"domain": "crime_ref", "originators": ["police", "btp"],
                                              "legal_basis": "Crime and Disorder Act 1998 s.115"}]}


@pytest.fixture
def token(gazetteer):
    def make(document: dict, originator: str, record: dict, *, linkage_allowed: bool) -> str:
        rules = RecordSanitiser(Partnership.from_mapping(document), catalogue(), gazetteer, Pseudonymiser(b"s" * 32))
        shared = rules.sanitise(DATASET, record, originator=originator, today=TODAY, linkage_allowed=linkage_allowed)
        return shared.record["crime_ref"]
    return make


@pytest.fixture
def record(gazetteer) -> dict:
    return records_for(DATASET, gazetteer, 1, seed=3, today=TODAY)[0]


def test_the_same_reference_from_two_agencies_gives_two_tokens(token, record):
    assert token(BASE, "police", record, linkage_allowed=True) != token(BASE, "btp", record, linkage_allowed=True)
    assert token(BASE, "police", record, linkage_allowed=False) == token(BASE, "police", record, linkage_allowed=True)


def test_a_declared_linkage_domain_joins_its_originators_only_where_every_recipient_is_tier_1(token, record):
    assert token(LINKED, "police", record, linkage_allowed=True) == token(LINKED, "btp", record,
                                                                            linkage_allowed=True)
    assert token(LINKED, "police", record, linkage_allowed=False) != token(LINKED, "btp", record,
                                                                             linkage_allowed=False)


def test_a_linkage_domain_needs_two_originators_and_a_legal_basis():
    for bad in ({"domain": "crime_ref", "originators": ["police"], "legal_basis": "s.115"},
                {"domain": "crime_ref", "originators": ["police", "btp"]}):
        with pytest.raises(ConfigError, match="linkage"):
            Partnership.from_mapping({**copy.deepcopy(BASE), "linkage": [bad]})
