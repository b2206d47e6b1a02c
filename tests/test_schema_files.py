"""Static checks of the dataset schemas in schemas/avro.

Every .avsc whose top level carries a "dataset" attribute is a dataset schema: the contract
and the depersonalisation policy in one file. These tests check that each one parses, uses
only the vocabulary the sanitiser understands, is internally consistent, and that a sample
record built from its types round-trips through fastavro. Files without "dataset" (the
envelope, the metadata record) are skipped.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import fastavro
import pytest

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas" / "avro"

# The datasets of the shared design (one per recommended minimum dataset of the guidance, section 3.2).
EXPECTED_DATASETS = {
    # id: (source, guidance section)
    "police_crime_offence": ("police", "3.2.1"),
    "police_crime_offender": ("police", "3.2.1"),
    "police_crime_victim": ("police", "3.2.1"),
    "police_incident": ("police", "3.2.2"),
    "council_asb": ("council", "3.2.3"),
    "fire_incident": ("fire", "3.2.4"),
    "probation_oasys": ("probation", "3.2.5"),
    "yos_assessment": ("yos", "3.2.6"),
    "ppo": ("police_ppo", "3.2.7"),
    "prison_release": ("prison", "3.2.8"),
    "yoi_release": ("yoi", "3.2.9"),
    "drug_treatment_adult": ("daat", "3.2.10"),
    "drug_treatment_young": ("daat", "3.2.11"),
    "ae_assault": ("health", "3.2.12"),
    "hospital_drug_alcohol": ("health", "3.2.13"),
    "ambulance_callout": ("ambulance", "3.2.14"),
    "btp_crime": ("btp", "3.2.15"),
    "transport_incident": ("transport", "3.2.16"),
    "bus_incident": ("bus", "3.2.17"),
    "school_exclusion": ("education", "3.2.18"),
    "ea_illegal_dumping": ("environment_agency", "3.2.19"),
    "ea_waste_site": ("environment_agency", "3.2.19"),
    "police_stop_search": ("police", "3.2.20"),
    "police_drug_test": ("police", "3.2.21"),
    "police_detection": ("police", "3.2.22"),
}
PERSONAL_DATASETS = {"ppo", "prison_release", "yoi_release", "ea_illegal_dumping", "ea_waste_site"}

SOURCES = {
    "police", "council", "fire", "probation", "yos", "police_ppo", "prison", "yoi", "daat",
    "health", "ambulance", "btp", "transport", "bus", "education", "environment_agency",
}
SHARING = {"depersonalised", "personal"}
IDENTIFIERS = {"direct", "indirect", "quasi", "none"}
SANITISE = {"keep", "drop", "pseudonymise", "address", "postcode", "coordinate", "dob_to_age", "free_text"}
AXES = {"easting", "northing"}
NAMESPACE = "uk.csp.exchange.raw"
SCHEMA_KEYS = {"type", "name", "namespace", "doc", "dataset", "title", "source", "guidance_section",
               "sharing", "event_date_field", "natural_key", "category_field", "non_addressable", "premises", "fields"}
FIELD_KEYS = {"name", "type", "default", "doc", "identifier", "sanitise", "pseudonym_domain", "axis", "age_field",
              "max_length", "not_before", "code_list", "flag"}
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
CAMEL = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def _load_dataset_schemas() -> dict[str, dict]:
    found = {}
    for path in sorted(SCHEMA_DIR.glob("*.avsc")):
        with path.open(encoding="utf-8") as handle:
            schema = json.load(handle)
        if isinstance(schema, dict) and "dataset" in schema:
            found[path.name] = schema
    return found


SCHEMAS = _load_dataset_schemas()
FILES = sorted(SCHEMAS)


def _camel(dataset_id: str) -> str:
    return "".join(part.capitalize() for part in dataset_id.split("_"))


def _branches(avro_type):
    """The non-null branches of a field type (a union yields its members)."""
    if isinstance(avro_type, list):
        return [t for t in avro_type if t != "null"]
    return [avro_type]


def _is_optional(avro_type) -> bool:
    return isinstance(avro_type, list) and "null" in avro_type


def _logical(avro_type):
    branches = _branches(avro_type)
    if len(branches) == 1 and isinstance(branches[0], dict):
        return branches[0].get("logicalType")
    return None


def _primitive(avro_type):
    branches = _branches(avro_type)
    if len(branches) != 1:
        return None
    branch = branches[0]
    if isinstance(branch, str):
        return branch
    return branch.get("type")


def _fields(schema) -> dict[str, dict]:
    return {f["name"]: f for f in schema["fields"]}


# ---------------------------------------------------------------- sample record generator

class _Sampler:
    """Builds a value for an Avro type. Named types are remembered so references resolve."""

    def __init__(self, namespace: str | None):
        self.named: dict[str, dict] = {}
        self.namespace = namespace

    def _remember(self, schema: dict) -> None:
        name = schema["name"]
        namespace = schema.get("namespace", self.namespace)
        self.named[name] = schema
        if namespace and "." not in name:
            self.named[f"{namespace}.{name}"] = schema

    def value(self, avro_type, *, fill_optional: bool = True, salt: int = 0):
        if isinstance(avro_type, list):
            non_null = [t for t in avro_type if t != "null"]
            if not fill_optional and "null" in avro_type:
                return None
            return self.value(non_null[0], fill_optional=fill_optional, salt=salt)
        if isinstance(avro_type, str):
            if avro_type in self.named:
                return self.value(self.named[avro_type], fill_optional=fill_optional, salt=salt)
            return {
                "null": None,
                "boolean": True,
                "int": 7 + salt,
                "long": 70_000 + salt,
                "float": 1.5,
                "double": 451_234.5 + salt,
                "bytes": b"\x00\x01",
                "string": f"sample-{salt}",
            }[avro_type]
        kind = avro_type["type"]
        logical = avro_type.get("logicalType")
        if logical == "date":
            return dt.date(2010, 3, 1) + dt.timedelta(days=salt)
        if logical == "time-millis":
            return dt.time(21, 45, 30, 123_000)
        if logical == "time-micros":
            return dt.time(21, 45, 30, 123_456)
        if logical in ("timestamp-millis", "timestamp-micros"):
            return dt.datetime(2010, 3, 1, 21, 45, 30, tzinfo=dt.UTC)
        if kind == "enum":
            self._remember(avro_type)
            return avro_type["symbols"][salt % len(avro_type["symbols"])]
        if kind == "fixed":
            self._remember(avro_type)
            return b"\x01" * avro_type["size"]
        if kind == "record":
            self._remember(avro_type)
            return {
                f["name"]: self.value(f["type"], fill_optional=fill_optional, salt=salt + i)
                for i, f in enumerate(avro_type["fields"])
            }
        if kind == "array":
            return [self.value(avro_type["items"], fill_optional=fill_optional, salt=salt)]
        if kind == "map":
            return {"k": self.value(avro_type["values"], fill_optional=fill_optional, salt=salt)}
        return self.value(kind, fill_optional=fill_optional, salt=salt)


def sample_record(schema: dict, *, fill_optional: bool = True) -> dict:
    return _Sampler(schema.get("namespace")).value(schema, fill_optional=fill_optional)


# ---------------------------------------------------------------- the set of schemas


def test_schema_directory_has_dataset_schemas():
    assert SCHEMA_DIR.is_dir(), SCHEMA_DIR
    assert SCHEMAS, "no dataset schema found"


def test_every_design_dataset_has_a_schema():
    ids = {schema["dataset"] for schema in SCHEMAS.values()}
    missing = set(EXPECTED_DATASETS) - ids
    assert not missing, f"datasets of the design without a schema: {sorted(missing)}"


def test_no_unknown_datasets():
    ids = [schema["dataset"] for schema in SCHEMAS.values()]
    assert len(ids) == len(set(ids)), "a dataset id is used by two files"
    unknown = set(ids) - set(EXPECTED_DATASETS)
    assert not unknown, f"dataset schemas not in the design: {sorted(unknown)}"


def test_personal_datasets_are_exactly_the_five():
    personal = {s["dataset"] for s in SCHEMAS.values() if s["sharing"] == "personal"}
    assert personal == PERSONAL_DATASETS


def test_record_names_are_unique():
    names = [f'{s["namespace"]}.{s["name"]}' for s in SCHEMAS.values()]
    assert len(names) == len(set(names))


# ---------------------------------------------------------------- each schema


@pytest.mark.parametrize("filename", FILES)
def test_parses_with_fastavro(filename):
    fastavro.parse_schema(SCHEMAS[filename])


@pytest.mark.parametrize("filename", FILES)
def test_header(filename):
    schema = SCHEMAS[filename]
    dataset = schema["dataset"]
    assert filename == f"{dataset}.avsc", "file name must be the dataset id"
    assert schema["type"] == "record"
    assert schema["namespace"] == NAMESPACE
    assert schema["name"] == _camel(dataset)
    assert set(schema) <= SCHEMA_KEYS, f"unknown schema attributes: {set(schema) - SCHEMA_KEYS}"
    for key in ("doc", "title", "guidance_section", "event_date_field"):
        assert isinstance(schema.get(key), str) and schema[key].strip(), f"missing {key}"
    assert schema["source"] in SOURCES
    assert schema["sharing"] in SHARING
    if dataset in EXPECTED_DATASETS:
        source, section = EXPECTED_DATASETS[dataset]
        assert schema["source"] == source
        assert schema["guidance_section"] == section


@pytest.mark.parametrize("filename", FILES)
def test_fields_have_names_docs_and_known_vocabulary(filename):
    schema = SCHEMAS[filename]
    names = [f["name"] for f in schema["fields"]]
    assert len(names) == len(set(names)), "duplicate field names"
    for field in schema["fields"]:
        name = field["name"]
        assert SNAKE.match(name), f"{name}: field names are lower-case snake_case"
        assert set(field) <= FIELD_KEYS, f"{name}: unknown attributes {set(field) - FIELD_KEYS}"
        assert isinstance(field.get("doc"), str) and field["doc"].strip(), f"{name}: no doc"
        assert field.get("identifier") in IDENTIFIERS, f"{name}: identifier {field.get('identifier')!r}"
        assert field.get("sanitise") in SANITISE, f"{name}: sanitise {field.get('sanitise')!r}"
        if _is_optional(field["type"]):
            assert field["type"][0] == "null" and "default" in field and field["default"] is None, (
                f"{name}: optional fields are ['null', T] with default null")
        if _primitive(field["type"]) == "boolean" and not _is_optional(field["type"]):
            assert field.get("default") is False, f"{name}: booleans default to false"
        # Attributes that belong to one treatment only.
        if "pseudonym_domain" in field:
            assert field["sanitise"] == "pseudonymise", f"{name}: pseudonym_domain without pseudonymise"
        if "axis" in field:
            assert field["sanitise"] == "coordinate", f"{name}: axis without coordinate"
        if "age_field" in field:
            assert field["sanitise"] == "dob_to_age", f"{name}: age_field without dob_to_age"


@pytest.mark.parametrize("filename", FILES)
def test_enum_names_are_camel_case_and_unique(filename):
    seen: list[str] = []

    def walk(avro_type):
        if isinstance(avro_type, list):
            for branch in avro_type:
                walk(branch)
        elif isinstance(avro_type, dict):
            if avro_type.get("type") == "enum":
                seen.append(avro_type["name"])
                for symbol in avro_type["symbols"]:
                    assert re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", symbol), symbol
            for key in ("items", "values"):
                if key in avro_type:
                    walk(avro_type[key])
            for field in avro_type.get("fields", []):
                walk(field["type"])

    for field in SCHEMAS[filename]["fields"]:
        walk(field["type"])
    assert len(seen) == len(set(seen)), f"enum defined twice: {seen}"
    for name in seen:
        assert CAMEL.match(name), f"enum {name} is not CamelCase"


@pytest.mark.parametrize("filename", FILES)
def test_pseudonymised_fields_have_a_domain(filename):
    for field in SCHEMAS[filename]["fields"]:
        if field["sanitise"] == "pseudonymise":
            domain = field.get("pseudonym_domain")
            assert isinstance(domain, str) and SNAKE.match(domain), f'{field["name"]}: pseudonym_domain'
            assert _primitive(field["type"]) == "string", f'{field["name"]}: pseudonyms replace strings'


@pytest.mark.parametrize("filename", FILES)
def test_coordinates_come_in_pairs_with_location_type_and_postcode(filename):
    fields = _fields(SCHEMAS[filename])
    coordinates = [f for f in fields.values() if f["sanitise"] == "coordinate"]
    if not coordinates:
        return
    axes = sorted(f.get("axis") for f in coordinates)
    assert axes == ["easting", "northing"], f"coordinate axes {axes}: need exactly one easting and one northing"
    for field in coordinates:
        assert field["axis"] in AXES
        assert _primitive(field["type"]) == "double", f'{field["name"]}: coordinates are doubles'
    assert "postcode" in fields, "coordinate fields need a postcode field"
    assert "location_type" in fields, "coordinate fields need a location_type field"
    location_type = _branches(fields["location_type"]["type"])
    assert len(location_type) == 1 and isinstance(location_type[0], dict)
    assert location_type[0].get("type") == "enum"
    assert set(location_type[0]["symbols"]) == {"addressable", "non_addressable", "non_residential"}
    assert SCHEMAS[filename].get("premises") == {"field": "location_type", "values": ["non_residential"]}


@pytest.mark.parametrize("filename", FILES)
def test_dates_of_birth_name_their_age_field(filename):
    fields = _fields(SCHEMAS[filename])
    age_fields = []
    for field in fields.values():
        if field["sanitise"] != "dob_to_age":
            continue
        age_field = field.get("age_field")
        assert isinstance(age_field, str) and SNAKE.match(age_field), f'{field["name"]}: age_field'
        assert _logical(field["type"]) == "date", f'{field["name"]}: dob_to_age needs a date'
        # The age is a new output field: it must not shadow a field the source already sends.
        assert age_field not in fields, f"{age_field} already exists in the raw schema"
        age_fields.append(age_field)
    assert len(age_fields) == len(set(age_fields))


@pytest.mark.parametrize("filename", FILES)
def test_event_date_field_exists_and_is_a_date(filename):
    schema = SCHEMAS[filename]
    fields = _fields(schema)
    name = schema["event_date_field"]
    assert name in fields, f"event_date_field {name!r} is not a field"
    assert _logical(fields[name]["type"]) == "date", f"event_date_field {name!r} is not a date"


@pytest.mark.parametrize("filename", FILES)
def test_sharing_kind_matches_the_treatments(filename):
    schema = SCHEMAS[filename]
    if schema["sharing"] == "personal":
        # Nothing is depersonalised in a personal dataset: the schema documents what leaves.
        for field in schema["fields"]:
            assert field["sanitise"] == "keep", f'{field["name"]}: personal datasets keep every field'
    else:
        for field in schema["fields"]:
            assert not (field["identifier"] == "direct" and field["sanitise"] == "keep"), (
                f'{field["name"]}: a direct identifier would leave a depersonalised dataset as is')


@pytest.mark.parametrize("filename", FILES)
def test_obvious_direct_identifiers_are_not_kept_in_depersonalised_datasets(filename):
    schema = SCHEMAS[filename]
    if schema["sharing"] != "depersonalised":
        return
    risky = re.compile(r"(^|_)(surname|forename|name|nhs_number|ni_number|phone|email|date_of_birth)($|_)")
    for field in schema["fields"]:
        if risky.search(field["name"]) and field["sanitise"] == "keep":
            assert field["identifier"] != "direct"
            # A named place (a pub, a station) is fine; a person's name is not.
            assert any(word in field["name"] for word in ("station", "location", "stop", "site", "hospital")), (
                f'{field["name"]} looks like a personal identifier kept as is')


@pytest.mark.parametrize("filename", FILES)
@pytest.mark.parametrize("fill_optional", [True, False], ids=["filled", "nulls"])
def test_sample_record_round_trips(filename, fill_optional):
    schema = SCHEMAS[filename]
    parsed = fastavro.parse_schema(schema)
    record = sample_record(schema, fill_optional=fill_optional)
    assert fastavro.validate(record, parsed, raise_errors=True)
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, parsed, record)
    buffer.seek(0)
    decoded = fastavro.schemaless_reader(buffer, parsed)
    assert decoded == record
    assert buffer.read() == b"", "trailing bytes after the record"
