"""Need to know below the dataset: a grant naming fields and areas gets only that view, and the
sanitiser seals once per distinct view, not once per recipient. Pure checks, then a real
SanitiserCore and FeedCores on in-memory topics (tests/support)."""

from __future__ import annotations

import dataclasses

import pytest

from exchange.core.partnership import Signatory
from exchange.core.postcode import normalise_postcode
from exchange.core.schemas import catalogue
from exchange.core.views import REQUIRED_ONLY, View, check_view, in_area, project
from exchange.crypto.keys import KeyPair
from exchange.errors import GrantConditionsMissing
from exchange.testing.partnership import COUNCIL, DATASET, VOLUNTARY
from tests.support.sanitiser_world import SHARED, World
from tests.test_feed_core import Feed

OFFENCE = catalogue()[DATASET]


def test_a_view_names_optional_fields_and_postcode_areas():
    view = check_view(OFFENCE, ["weapon", "crime_ref"], ["ns1", "NS2  4"])
    assert view == View(frozenset({"weapon"}), frozenset({"NS1", "NS2 4"}))  # required fields always travel
    assert check_view(OFFENCE, [], []).whole
    assert check_view(OFFENCE, ["crime_ref"], []).fields == {REQUIRED_ONLY}  # never "every field"
    with pytest.raises(GrantConditionsMissing, match="no field victim_name"):
        check_view(OFFENCE, ["victim_name"], [])
    with pytest.raises(GrantConditionsMissing, match="district"):
        check_view(OFFENCE, [], ["12 Elm Road"])
    with pytest.raises(GrantConditionsMissing, match="carries no postcode"):
        check_view(catalogue()["police_detection"], [], ["NS1"])


def test_a_record_is_projected_to_the_view_and_kept_out_of_other_areas():
    record = {"crime_ref": "x", "weapon": "knife", "method_of_entry": "door", "postcode": "NS1 4AB"}
    dataset = OFFENCE
    assert project(record, dataset, View(frozenset({"weapon"}))) == {**record, "method_of_entry": None,
                                                                      "postcode": None}
    assert in_area(record, View(areas=frozenset({"NS1 4"}))) and in_area(record, View(areas=frozenset({"NS1"})))
    assert project(record, dataset, View(areas=frozenset({"NS2"}))) is None
    assert project({**record, "postcode": None}, dataset, View(areas=frozenset({"NS1"}))) is None  # fail closed


def test_each_grantee_receives_its_view_sealed_once_per_view(partnership, party_keys, gazetteer):
    probe = World(partnership, party_keys, gazetteer)
    probe.supply(*(probe.seal(probe.record(i), f"m-{i}") for i in range(6)))
    probe.run()
    whole = Feed(probe, COUNCIL)
    whole.run()
    postcodes = [r["postcode"] for _, _, r in whole.store.records.values() if r["postcode"]]
    district = normalise_postcode(postcodes[0]).split(" ")[0]
    in_district = sum(1 for p in postcodes if normalise_postcode(p).split(" ")[0] == district)
    assert 0 < in_district < 6, "the synthetic records span more than one district"

    # Two more grantees with the same view: the voluntary sector and a second partner.
    extra = KeyPair.generate("northshire-homes")
    homes = Signatory("northshire-homes", "Northshire Homes", "other", 2, "active", "User:northshire-homes",
                      extra.public)
    council_grant = next(g for g in partnership.grants if g.signatory == COUNCIL)
    limited = [dataclasses.replace(council_grant, signatory=who, fields=frozenset({"weapon", "postcode"}),
                                   areas=frozenset({district})) for who in (VOLUNTARY, homes.id)]
    viewed = dataclasses.replace(partnership, signatories={**partnership.signatories, homes.id: homes},
                                 grants=(*partnership.grants, *limited))
    keys = {**party_keys, homes.id: extra}
    world = World(viewed, keys, gazetteer)
    world.supply(*(world.seal(world.record(i), f"m-{i}") for i in range(6)))
    world.run()

    # One message per record for the whole view, one per record in the district for the other view:
    # three recipients, two views, never three seals.
    assert len(world.topics.read(SHARED)) == 6 + in_district
    council, voluntary, second = Feed(world, COUNCIL), Feed(world, VOLUNTARY), Feed(world, homes.id)
    for feed in (council, voluntary, second):
        feed.run()
    assert len(council.store.records) == 6
    assert len(voluntary.store.records) == len(second.store.records) == in_district
    for _, _, record in voluntary.store.records.values():
        assert normalise_postcode(record["postcode"]).startswith(district + " ")
        assert record["method_of_entry"] is None and record["property_stolen"] is None
        assert record["crime_ref"] and record["handling"]["record_key"]  # what it needs to store and correct
    # The whole view keeps what the limited one does not.
    assert any(r["method_of_entry"] for _, _, r in council.store.records.values())
