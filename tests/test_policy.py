"""Pure domain rules: markings, tiers and grants, row validation."""

from __future__ import annotations

import datetime as dt

import pytest

from exchange.core.marking import parse_marking
from exchange.core.partnership import Partnership
from exchange.core.schemas import catalogue
from exchange.core.validation import Formats, validate_row
from exchange.crypto.keys import KeyPair
from exchange.errors import ConfigError, Refused, RowInvalid

TODAY = dt.date(2026, 11, 21)


@pytest.mark.parametrize("text,expected", [
    ("OFFICIAL", "OFFICIAL"), ("official-sensitive", "OFFICIAL-SENSITIVE"),
    ("OFFICIAL-SENSITIVE [PERSONAL]", "OFFICIAL-SENSITIVE [PERSONAL]"),
    ("PROTECT", "OFFICIAL-SENSITIVE"), ("RESTRICTED", "OFFICIAL-SENSITIVE [PERSONAL]"),
    ("Not Protectively Marked", "OFFICIAL"),
])
def test_markings_map_onto_gsc(text, expected):
    assert str(parse_marking(text)) == expected


@pytest.mark.parametrize("text,code", [
    ("CONFIDENTIAL", "marking_above_official"), ("SECRET", "marking_above_official"),
    ("TOP SECRET", "marking_above_official"), ("", "marking_unmapped"), ("HUSH HUSH", "marking_unmapped"),
    ("OFFICIAL [GOSSIP]", "marking_unmapped"),
])
def test_markings_above_official_or_unmapped_are_refused(text, code):
    with pytest.raises(Refused) as error:
        parse_marking(text)
    assert error.value.reason_code == code


def test_partnership_table_can_extend_legacy_map():
    assert str(parse_marking("POLICE ONLY", {"POLICE ONLY": "OFFICIAL-SENSITIVE"})) == "OFFICIAL-SENSITIVE"


def _partnership(signatories: list[dict], grants: list[dict]) -> Partnership:
    def keys():
        return KeyPair.generate("x").public.as_config()

    return Partnership.from_mapping({
        "partnership": {"name": "Test CSP"}, "sanitiser": keys(),
        "signatory": [{"kind": "responsible_authority", "name": s["id"], **keys(), **s} for s in signatories],
        "grant": grants,
    })


def test_tier_rules_for_personal_and_depersonalised_data():
    grant = {"purpose": "IOM", "legal_basis": "CDA 1998 s.115", "approved_by": "police", "expires": dt.date(2027, 1, 1)}
    p = _partnership(
        [{"id": "police", "tier": 1, "status": "active", "supplies": ["ppo"]},
         {"id": "council", "tier": 1, "status": "active"},
         {"id": "charity", "tier": 2, "status": "active", "kind": "other"},
         {"id": "committee", "tier": 3, "status": "active", "kind": "other"},
         {"id": "newcomer", "tier": 1, "status": "proposed"},
         {"id": "suspended", "tier": 1, "status": "suspended"}],
        [dict(grant, signatory=s, dataset=d) for s in ("council", "charity", "committee", "newcomer", "suspended")
         for d in ("ppo", "council_asb")],
    )
    personal = [s.id for s in p.recipients("ppo", personal=True, today=TODAY)]
    depersonalised = [s.id for s in p.recipients("council_asb", personal=False, today=TODAY)]
    assert personal == ["council"]
    assert depersonalised == ["charity", "council"]
    assert "aggregates only" in p.may_receive("committee", "council_asb", personal=False, today=TODAY).reason
    assert p.recipients("council_asb", personal=False, today=dt.date(2027, 1, 2)) == ()  # expired grants stop at once
    assert p.may_supply("police", "ppo") and not p.may_supply("police", "council_asb")
    assert not p.may_supply("nobody", "ppo") and not p.may_supply("suspended", "ppo")


def test_personal_grant_without_legal_basis_gives_nothing():
    p = _partnership([{"id": "council", "tier": 1, "status": "active"}],
                     [{"signatory": "council", "dataset": "ppo", "purpose": "IOM", "expires": dt.date(2027, 1, 1)}])
    assert p.recipients("ppo", personal=True, today=TODAY) == ()


@pytest.mark.parametrize("document,message", [
    ({}, "partnership: field required"),
    ({"partnership": {"name": "x"}, "sanitiser": {"x25519": "AAAA", "ed25519": "AAAA"}}, "must be 32 bytes"),
])
def test_bad_partnership_config_is_named(document, message):
    with pytest.raises(ConfigError, match=message):
        Partnership.from_mapping(document)


def test_grant_to_unknown_signatory_is_refused():
    with pytest.raises(ConfigError, match="unknown signatory"):
        _partnership([], [{"signatory": "ghost", "dataset": "ppo", "expires": dt.date(2027, 1, 1)}])


OFFENCE = catalogue()["police_crime_offence"]
GOOD = {"crime_ref": "NS/26/1", "offence_code": "28/3", "committed_from_date": "2026-11-01",
        "committed_from_time": "23:15", "address": "12 High Street", "postcode": "nx1 1ab",
        "easting": "430100", "northing": "290200", "location_type": "addressable", "flag_drugs": "Y"}


def test_valid_row_is_typed_and_normalised():
    record = validate_row(OFFENCE, GOOD, today=TODAY)
    assert record["committed_from_date"] == dt.date(2026, 11, 1)
    assert record["committed_from_time"] == dt.time(23, 15)
    assert record["postcode"] == "NX1 1AB" and record["easting"] == 430100.0
    assert record["flag_drugs"] is True and record["flag_alcohol"] is False
    assert OFFENCE.raw_codec.decode(OFFENCE.raw_codec.encode(record)) == {**record, "originator_handling": None}


@pytest.mark.parametrize("change,reason", [
    ({"crime_ref": ""}, "crime_ref: required but empty"),
    ({"committed_from_date": "2026-02-31"}, "committed_from_date: '2026-02-31' is not a date"),
    ({"committed_from_date": "2027-01-01"}, "is in the future"),
    ({"postcode": "HELLO"}, "postcode: 'HELLO' is not a UK postcode"),
    ({"easting": "800000"}, "outside Great Britain's National Grid"),
    ({"northing": ""}, "easting and northing must be given together"),
    ({"location_type": "house"}, "location_type: 'house' is not one of"),
    ({"flag_drugs": "perhaps"}, "flag_drugs: 'perhaps' is not a yes/no value"),
    ({"committed_to_date": "2026-10-01"}, "before committed_from_date"),
    ({"easting": "nan"}, "not a finite number"),
])
def test_invalid_rows_name_the_field_and_reason(change, reason):
    with pytest.raises(RowInvalid) as error:
        validate_row(OFFENCE, {**GOOD, **change}, today=TODAY)
    assert any(reason in r for r in error.value.reasons), error.value.reasons


def test_every_fault_in_a_row_is_reported_at_once():
    with pytest.raises(RowInvalid) as error:
        validate_row(OFFENCE, {**GOOD, "crime_ref": "", "postcode": "X", "location_type": "?"}, today=TODAY)
    assert len(error.value.reasons) == 3


def test_agency_date_formats_are_honoured():
    record = validate_row(OFFENCE, {**GOOD, "committed_from_date": "01/11/2026"}, Formats(dates=("%d/%m/%Y",)),
                          today=TODAY)
    assert record["committed_from_date"] == dt.date(2026, 11, 1)


def _first_field(kind: str):
    for dataset in catalogue():
        for policy in dataset.fields:
            base = ([t for t in policy.avro_type if t != "null"][0] if isinstance(policy.avro_type, list)
                    else policy.avro_type)
            if base == kind:
                return dataset, policy
    raise AssertionError(f"no {kind} field in any schema")


def test_whole_numbers_beyond_the_field_range_are_rejected_not_crashed():
    dataset, policy = _first_field("int")
    from exchange.core.validation import _convert

    with pytest.raises(ValueError, match="too large"):
        _convert(policy, "99999999999", Formats())
    assert _convert(policy, "42", Formats()) == 42


def test_only_event_dates_and_dates_of_birth_may_not_lie_in_the_future():
    from exchange.core.validation import cross_field_checks

    ppo = catalogue()["prison_release"]
    future = TODAY + dt.timedelta(days=200)
    end_dates = [p.name for p in ppo.fields if p.name.endswith("end_date")]
    assert end_dates, "prison_release has licence/supervision end dates"
    assert cross_field_checks(ppo, {end_dates[0]: future}, TODAY) == []
    assert cross_field_checks(ppo, {ppo.event_date_field: future}, TODAY)


def test_handling_terms_follow_the_partnership_a_record_sanitiser_is_given():
    from exchange.core.marking import OFFICIAL
    from exchange.core.record_sanitiser import RecordSanitiser

    grant = {"signatory": "council", "dataset": "council_asb", "approved_by": "police", "expires": dt.date(2027, 1, 1)}
    before = _partnership([{"id": "police", "tier": 1, "status": "active", "supplies": ["council_asb"]},
                           {"id": "council", "tier": 1, "status": "active"}], [dict(grant, purpose="Tasking")])
    after = _partnership([{"id": "police", "tier": 1, "status": "active", "supplies": ["council_asb"]},
                          {"id": "council", "tier": 1, "status": "active"}], [dict(grant, purpose="Problem solving")])
    dataset = catalogue()["council_asb"]
    records = RecordSanitiser(before, catalogue(), gazetteer=None, pseudonymise=lambda domain, value: value)  # type: ignore[arg-type]
    first = records.handling(dataset, "police", OFFICIAL, TODAY, record_key="k1")
    records.partnership = after  # the live state changed (a new grant): the next record says so
    second = records.handling(dataset, "police", OFFICIAL, TODAY, record_key="k2")
    assert (first["permitted_purpose"], second["permitted_purpose"]) == ("Tasking", "Problem solving")
    assert second["record_key"] == "k2" and second["destroy_by"] > TODAY
