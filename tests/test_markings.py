"""The originator decides the marking: a release is never marked lower than the supply was, unless
the originator declared what its depersonalised form may carry; personal data never goes below
OFFICIAL-SENSITIVE [PERSONAL]; supply metadata is scrubbed and marked like records."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from exchange.core.avro import codec
from exchange.core.marking import OFFICIAL, OFFICIAL_SENSITIVE_PERSONAL, Marking, parse_marking
from exchange.core.partnership import Partnership
from exchange.crypto.envelope import Opener
from exchange.errors import ConfigError, ReasonCode, Refused
from exchange.testing.partnership import COUNCIL, POLICE
from tests.support.sanitiser_world import SHARED, TODAY, World


@pytest.mark.parametrize("spelling", ["OFFICIAL - SENSITIVE [PERSONAL]", "OFFICIAL–SENSITIVE [PERSONAL]",
                                      "OFFICIAL SENSITIVE PERSONAL", "official-sensitive [personal]",
                                      "OFFICIAL-SENSITIVE: PERSONAL", "  Official—Sensitive  - Personal "])
def test_the_spellings_agencies_use_are_understood(spelling):
    assert parse_marking(spelling) == OFFICIAL_SENSITIVE_PERSONAL


@pytest.mark.parametrize("spelling", ["OFFICIAL SENSITIVE", "OFFICIAL–SENSITIVE", "official - sensitive"])
def test_official_sensitive_without_descriptor(spelling):
    assert parse_marking(spelling) == Marking("OFFICIAL-SENSITIVE")


@pytest.mark.parametrize("spelling", ["CONFIDENTIAL", "Secret", "TOP SECRET [PERSONAL]", "confidential - personal"])
def test_above_official_is_refused_however_spelt(spelling):
    with pytest.raises(Refused) as refused:
        parse_marking(spelling)
    assert refused.value.reason_code == ReasonCode.MARKING_ABOVE_OFFICIAL


def test_a_marking_is_only_ever_raised():
    sensitive = Marking("OFFICIAL-SENSITIVE")
    assert OFFICIAL.at_least(sensitive) == sensitive and sensitive.at_least(OFFICIAL) == sensitive
    assert sensitive.at_least(OFFICIAL_SENSITIVE_PERSONAL) == OFFICIAL_SENSITIVE_PERSONAL
    assert OFFICIAL_SENSITIVE_PERSONAL.at_least(OFFICIAL) == OFFICIAL_SENSITIVE_PERSONAL
    assert OFFICIAL.lower_than(sensitive) and not sensitive.lower_than(OFFICIAL)


def _released_markings(world: World, received: str) -> tuple[set[str], str]:
    world.supply(world.seal(world.record(0), "m-1", marking=received))
    world.run()
    council = Opener(me=COUNCIL, keys=world.keys[COUNCIL], producers={"sanitiser": world.partnership.sanitiser.ed25519})
    for grant in world.topics.read(f"keys.{SHARED}"):
        council.accept_key_grant(grant)
    records = [world.dataset.shared_codec.decode(council.open(v).payload) for v in world.topics.read(SHARED)]
    sanitisation = next(e for e in world.audit.events if e.kind == "sanitisation")
    return {r["handling"]["marking"] for r in records}, sanitisation.detail


@pytest.fixture
def undeclared(partnership) -> Partnership:
    return dataclasses.replace(partnership, depersonalised_markings={})


def test_a_supply_marked_official_sensitive_is_released_official_sensitive(undeclared, party_keys, gazetteer):
    markings, detail = _released_markings(World(undeclared, party_keys, gazetteer), "OFFICIAL-SENSITIVE")
    assert markings == {"OFFICIAL-SENSITIVE"}
    assert "marking received OFFICIAL-SENSITIVE, released OFFICIAL-SENSITIVE: as the originator marked it" in detail


def test_an_originator_s_declared_depersonalised_marking_is_the_one_way_down(partnership, party_keys, gazetteer):
    assert partnership.depersonalised_markings == {(POLICE, "police_crime_offence"): "OFFICIAL"}
    markings, detail = _released_markings(World(partnership, party_keys, gazetteer), "OFFICIAL-SENSITIVE")
    assert markings == {"OFFICIAL"} and f"the depersonalised form {POLICE} declared" in detail


def test_a_descriptor_the_originator_set_is_kept(undeclared, party_keys, gazetteer):
    markings, _ = _released_markings(World(undeclared, party_keys, gazetteer), "OFFICIAL-SENSITIVE [PERSONAL]")
    assert markings == {"OFFICIAL-SENSITIVE [PERSONAL]"}


def test_personal_data_never_goes_below_official_sensitive_personal(partnership, gazetteer):
    from exchange.core.record_sanitiser import RecordSanitiser
    from exchange.core.schemas import catalogue
    from exchange.crypto.pseudonyms import Pseudonymiser

    rules = RecordSanitiser(partnership, catalogue(), gazetteer, Pseudonymiser.one_off())
    for received in (OFFICIAL, Marking("OFFICIAL-SENSITIVE"), OFFICIAL_SENSITIVE_PERSONAL):
        marking, _ = rules.release_marking(catalogue()["ppo"], POLICE, received)
        assert marking == OFFICIAL_SENSITIVE_PERSONAL


def test_supply_metadata_is_scrubbed_and_carries_the_supply_s_marking(undeclared, party_keys, gazetteer):
    world = World(undeclared, party_keys, gazetteer)
    metadata = {"agency": POLICE, "supplier_contact": "Mr John Smith on 07700 900123", "dataset_name": "x",
                "period_start": TODAY, "period_end": TODAY, "file_format": "CSV", "number_of_records": 1,
                "records_rejected": 0, "date_supplied": dt.datetime.now(dt.UTC), "datafields": ["crime_ref"],
                "caveats": "Victim Jane Doe, NHS 943 476 5919, missed from the count",
                "source_file_sha256": "0" * 64}
    metadata_codec = codec("dataset_metadata")
    world.supply(world.seal(metadata_codec.encode(metadata), "supply-1", fingerprint=metadata_codec.fingerprint,
                            kind="METADATA", marking="OFFICIAL-SENSITIVE"))
    world.run()
    council = Opener(me=COUNCIL, keys=party_keys[COUNCIL], producers={"sanitiser": undeclared.sanitiser.ed25519})
    for grant in world.topics.read(f"keys.{SHARED}"):
        council.accept_key_grant(grant)
    opened = council.open(world.topics.read(SHARED)[0])
    shared = metadata_codec.decode(opened.payload)
    assert opened.header.marking == "OFFICIAL-SENSITIVE"
    for text in ("Smith", "07700", "Jane Doe", "943 476 5919"):
        assert text not in shared["caveats"] + shared["supplier_contact"], text
    assert "missed from the count" in shared["caveats"]


def test_a_declared_marking_above_official_is_refused_in_the_config(partnership):
    from exchange.crypto.keys import KeyPair

    keys = KeyPair.generate("x").public.as_config()
    document = {"partnership": {"name": "t"}, "sanitiser": keys,
                "markings": {"depersonalised": {"police": {"police_crime_offence": "SECRET"}}}}
    with pytest.raises(ConfigError, match="markings.depersonalised.police.police_crime_offence"):
        Partnership.from_mapping(document)
