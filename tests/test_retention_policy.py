"""Retention by the owner's policy: each originator's period per dataset, three years by default,
and personal records no longer than the grant that allowed them."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import datetime as dt

from exchange.core.partnership import Grant, Partnership
from exchange.services.feed_core import FeedCore
from exchange.testing.partnership import COUNCIL, POLICE
from tests.support.fakes import MemoryAudit, MemoryFeedStore
from tests.support.governance import keys

TODAY = dt.date(2026, 11, 29)


DOCUMENT = {
    "partnership": {"name": "Test CSP"},
    "sanitiser": keys(),
    "signatory": [{"id": "police", "name": "Police", "kind": "responsible_authority", "tier": 1, "status": "active",
                   "supplies": ["police_crime_offence", "ppo"], **keys()}],
    "grant": [{"signatory": "police", "dataset": "ppo", "purpose": "IOM", "legal_basis": "CDA 1998 s.115",
               "approved_by": "police", "expires": dt.date(2027, 3, 31)}],
}


def test_three_years_by_default_and_the_originator_s_period_where_it_set_one():
    default = Partnership.from_mapping(copy.deepcopy(DOCUMENT))
    assert default.destroy_by("police", "police_crime_offence", TODAY, personal=False) == TODAY + dt.timedelta(1095)
    own = Partnership.from_mapping({**copy.deepcopy(DOCUMENT), "retention": {"police": {"police_crime_offence": 730}}})
    assert own.destroy_by("police", "police_crime_offence", TODAY, personal=False) == TODAY + dt.timedelta(730)
    assert own.destroy_by("council", "police_crime_offence", TODAY, personal=False) == TODAY + dt.timedelta(1095)


def test_a_personal_record_is_kept_no_longer_than_the_grant_that_allows_it():
    partnership = Partnership.from_mapping(copy.deepcopy(DOCUMENT))
    assert partnership.destroy_by("police", "ppo", TODAY, personal=True) == dt.date(2027, 3, 31)
    no_grant = dataclasses.replace(partnership, grants=())
    assert no_grant.destroy_by("police", "ppo", TODAY, personal=True) == TODAY


def test_a_feed_destroys_personal_records_when_its_grant_ends_and_audits_it(partnership, party_keys):
    grant = Grant(COUNCIL, "ppo", "Integrated offender management", "CDA 1998 s.115", POLICE, TODAY)
    with_ppo = dataclasses.replace(partnership, grants=(*partnership.grants, grant))
    store, audit = MemoryFeedStore(), MemoryAudit()
    store.records = {"p-1": ("ppo", "OFFICIAL-SENSITIVE [PERSONAL]", {"handling": {"destroy_by": dt.date(2028, 1, 1)}}),
                     "o-1": ("police_crime_offence", "OFFICIAL", {"handling": {"destroy_by": dt.date(2029, 1, 1)}})}

    def feed(on: dt.date) -> FeedCore:
        return FeedCore(with_ppo, partnership_catalogue(), party_keys[COUNCIL], COUNCIL, store,
                        datasets=["ppo", "police_crime_offence"], audit=audit, today=lambda: on)

    assert asyncio.run(feed(TODAY).enforce_retention()) == 0 and "p-1" in store.records  # the grant's last day
    assert asyncio.run(feed(TODAY + dt.timedelta(days=1)).enforce_retention()) == 1
    assert list(store.records) == ["o-1"]
    event, = audit.events
    assert event.kind == "retention" and event.dataset == "ppo" and "expired" in event.detail


def partnership_catalogue():
    from exchange.core.schemas import catalogue

    return catalogue()
