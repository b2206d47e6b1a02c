"""Schema evolution: a record written with an older, compatible dataset schema is still read by the
current one (Avro schema resolution through exchange.core.avro.Codec.decode(data, writer=old))."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from exchange.core.avro import Codec
from exchange.core.schemas import catalogue
from exchange.errors import AvroDecodeError

# Two optional fields, with defaults, that "were added later" to police_crime_offence.
ADDED_LATER = ("committed_to_time", "weapon")


def older_schema(dataset_id: str, without: tuple[str, ...]) -> dict:
    schema = copy.deepcopy(catalogue()[dataset_id].raw_schema)
    schema["fields"] = [f for f in schema["fields"] if f["name"] not in without]
    return schema


def test_the_fields_removed_here_are_optional_with_defaults():
    current = {f["name"]: f for f in catalogue()["police_crime_offence"].raw_schema["fields"]}
    for name in ADDED_LATER:
        assert "default" in current[name] and current[name]["default"] is None and "null" in current[name]["type"]


def test_a_record_written_with_the_older_schema_reads_with_the_current_one():
    dataset = catalogue()["police_crime_offence"]
    old = Codec(older_schema(dataset.id, ADDED_LATER))
    assert old.fingerprint != dataset.raw_codec.fingerprint
    record = {
        "crime_ref": "NS/26/100001", "offence_code": "28/3", "committed_from_date": dt.date(2026, 3, 1),
        "committed_from_time": dt.time(22, 15), "committed_to_date": dt.date(2026, 3, 2),
        "address": "12 Elm Road, Northtown",
        "postcode": "NX1 1AB", "easting": 430000.0, "northing": 290000.0, "location_type": "addressable",
        "method_of_entry": "Rear window forced", "property_stolen": "Laptop", "flag_distraction_burglary": False,
        "flag_drugs": False, "flag_alcohol": True, "flag_racially_motivated": False, "flag_domestic": False,
    }
    written = old.encode(record)
    read = dataset.raw_codec.decode(written, writer=old)
    assert {name: read[name] for name in record} == record
    assert all(read[name] is None for name in ADDED_LATER)  # filled from the current schema's defaults
    # Without naming the writer the bytes are read as the current schema, which they are not.
    with pytest.raises(AvroDecodeError):
        dataset.raw_codec.decode(written)


def test_a_current_record_reads_with_the_older_schema_too():
    """Forward compatibility: a consumer still on the older schema ignores the fields it does not know."""
    dataset = catalogue()["police_crime_offence"]
    old = Codec(older_schema(dataset.id, ADDED_LATER))
    record = {f.name: None for f in dataset.fields if f.nullable}
    record.update(crime_ref="NS/26/2", offence_code="46/0", committed_from_date=dt.date(2026, 3, 4),
                  location_type="non_addressable", weapon="Knife", committed_to_time=dt.time(1, 0),
                  **{f.name: False for f in dataset.fields if f.avro_type == "boolean"})
    read = old.decode(dataset.raw_codec.encode(record), writer=dataset.raw_codec)
    assert "weapon" not in read and read["crime_ref"] == "NS/26/2"


def test_an_incompatible_older_schema_is_refused():
    """A writer without a field the reader requires (no default) cannot be resolved: refused, not guessed."""
    dataset = catalogue()["police_crime_offence"]
    old = Codec(older_schema(dataset.id, ("offence_code",)))
    record = {f.name: None for f in dataset.fields if f.nullable}
    record.update(crime_ref="NS/26/3", committed_from_date=dt.date(2026, 3, 4), location_type="addressable",
                  **{f.name: False for f in dataset.fields if f.avro_type == "boolean"})
    with pytest.raises(AvroDecodeError):
        dataset.raw_codec.decode(old.encode(record), writer=old)
