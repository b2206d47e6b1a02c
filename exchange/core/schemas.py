"""The dataset catalogue: one Avro schema per dataset, which is also its sharing policy.

Each field of a dataset schema says what kind of identifier it is ("identifier") and what the
sanitiser does with it ("sanitise"). The shared (output) schema is derived from those
attributes, so one file tells a reviewer what leaves the sanitiser. Pure: reads .avsc files only.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cached_property, lru_cache
from typing import Any

from exchange.core.avro import Codec, schema_dir
from exchange.errors import ConfigError

__all__ = [
    "CODE_LISTS", "HANDLING_FIELDS", "HANDLING_NAMES", "IDENTIFIER_KINDS", "MAX_LENGTHS", "MAX_LENGTH_OTHER",
    "ORIGINATOR_FIELDS", "ORIGINATOR_HANDLING", "RESTRICTIONS", "SANITISE_RULES", "SHARING_KINDS", "Catalogue",
    "Dataset", "FieldPolicy", "base_type", "catalogue", "dataset_from_schema",
]

IDENTIFIER_KINDS = frozenset({"direct", "indirect", "quasi", "none"})
SANITISE_RULES = frozenset(
    {"keep", "drop", "pseudonymise", "address", "postcode", "coordinate", "dob_to_age", "free_text"}
)
SHARING_KINDS = frozenset({"depersonalised", "personal"})
CODE_LISTS = frozenset({"home_office_offences"})  # code lists whose names exchange.core.reference knows
# The longest a text field may be, by rule, unless its schema says `max_length`: long enough for any
# genuine entry, short enough that no record can take long to scrub (checked at the agent and again
# at the sanitiser).
MAX_LENGTHS = {"free_text": 2000, "address": 300}
MAX_LENGTH_OTHER = 200

# Added to every shared record: the protective marking and handling caveats travel with it.
HANDLING_FIELDS: list[dict[str, Any]] = [
    {"name": "location_generalised", "type": "boolean", "default": False,
     "doc": "True when the record was moved to the nearest postcode with at least k households."},
    {"name": "handling", "type": {
        "type": "record", "name": "Handling", "namespace": "uk.csp.exchange.shared",
        "fields": [
            {"name": "marking", "type": "string", "doc": "Government Security Classification of this record."},
            {"name": "originator", "type": "string",
             "doc": "Supplying agency; consent for any onward sharing comes from it."},
            {"name": "permitted_purpose", "type": "string"},
            {"name": "onward_sharing", "type": "string"},
            {"name": "destroy_by", "type": {"type": "int", "logicalType": "date"}},
            {"name": "record_key", "type": "string",
             "doc": "Keyed token of the record's natural key within its originator and dataset: every version "
                    "of one record carries the same token, so a correction supersedes and a withdrawal deletes."},
        ]}, "doc": "Protective marking and handling caveats."},
]
HANDLING_NAMES: tuple[str, ...] = tuple(f["name"] for f in HANDLING_FIELDS[1]["type"]["fields"])

# Added to every raw record: the originator's own instructions for this one record, which only the
# sanitiser reads (they never leave in the shared form). Travelling inside the sealed payload, they
# are as private as the record: the broker cannot see that a record is sub judice.
RESTRICTIONS = ("NOT_FOR_DISSEMINATION", "SUB_JUDICE")
ORIGINATOR_HANDLING = "originator_handling"
ORIGINATOR_FIELDS: list[dict[str, Any]] = [
    {"name": ORIGINATOR_HANDLING, "default": None, "type": ["null", {
        "type": "record", "name": "OriginatorHandling", "namespace": "uk.csp.exchange.raw",
        "fields": [
            {"name": "restriction", "type": ["null", {"type": "enum", "name": "Restriction",
                                                       "symbols": list(RESTRICTIONS)}], "default": None,
             "doc": "NOT_FOR_DISSEMINATION: withheld from everyone; SUB_JUDICE: released only to release_to "
                    "(ISP 4.6)."},
            {"name": "release_to", "type": {"type": "array", "items": "string"}, "default": [],
             "doc": "The signatories a sub judice record may reach."},
            {"name": "depersonalised_marking", "type": ["null", "string"], "default": None,
             "doc": "The marking the originator declares its depersonalised form may carry."},
        ]}],
     "doc": "The originator's handling instructions for this record (never forwarded)."},
]


@dataclass(frozen=True, slots=True)
class FieldPolicy:
    name: str
    identifier: str
    rule: str
    nullable: bool
    avro_type: Any
    doc: str
    pseudonym_domain: str | None = None
    axis: str | None = None
    age_field: str | None = None
    not_before: str | None = None  # another date field this one may not precede (an end after its start)
    code_list: str | None = None  # the code list its values come from, so outputs can name them
    flag: bool = False  # a yes/no marker briefings list (domestic, alcohol, drugs ...)
    declared_max_length: int | None = None
    # Read from the type once, not per value (validation and the sanitiser ask for every record):
    base: Any = dataclass_field(init=False, repr=False, compare=False)  # the type inside ["null", T]
    kind: str = dataclass_field(init=False, repr=False, compare=False)  # "string", "enum", "boolean" ...
    logical_type: str | None = dataclass_field(init=False, repr=False, compare=False)  # "date" ...
    max_length: int | None = dataclass_field(init=False, repr=False, compare=False)  # most characters, strings only

    def __post_init__(self) -> None:
        base = base_type(self.avro_type)
        kind = base.get("type") if isinstance(base, dict) else base
        object.__setattr__(self, "base", base)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "logical_type", base.get("logicalType") if isinstance(base, dict) else None)
        object.__setattr__(self, "max_length", self.declared_max_length or MAX_LENGTHS.get(self.rule, MAX_LENGTH_OTHER)
                           if kind == "string" else None)

    @property
    def leaves(self) -> bool:
        return self.rule != "drop"

    def describe(self) -> str:
        if self.rule == "keep":
            return "forwarded unchanged"
        return {
            "drop": "never forwarded",
            "pseudonymise": f"keyed pseudonym (domain {self.pseudonym_domain})",
            "address": "house number, house name and flat number removed (a non-dwelling keeps its premises name)",
            "postcode": "nearest postcode with at least k households",
            "coordinate": f"{self.axis} of the qualifying postcode's centroid (kept for non-addressable places)",
            "dob_to_age": f"age in whole years at the event, as {self.age_field}; the date itself never leaves",
            "free_text": "scrubbed of names, NHS/NI numbers, phones, e-mails, postcodes, house numbers",
        }[self.rule]


def _key_text(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return " ".join(str(value).split()).upper()  # as pseudonyms canonicalise: "cr/1 23" is "CR/1 23"


def _is_nullable(avro_type: Any) -> bool:
    return isinstance(avro_type, list) and "null" in avro_type


def base_type(avro_type: Any) -> Any:
    """The type inside an optional ["null", T] union (every dataset field is T or such a union)."""
    if isinstance(avro_type, list):
        rest = [t for t in avro_type if t != "null"]
        return rest[0] if len(rest) == 1 else rest
    return avro_type


def _logical(avro_type: Any) -> str | None:
    base = base_type(avro_type)
    return base.get("logicalType") if isinstance(base, dict) else None


@dataclass(frozen=True)
class Dataset:
    id: str
    title: str
    source: str
    guidance_section: str
    sharing: str
    event_date_field: str
    doc: str
    fields: tuple[FieldPolicy, ...]
    raw_schema: dict[str, Any]
    category_field: str | None = None  # what briefings count records by
    non_addressable_field: str | None = None  # the field saying a place has no postal address ...
    non_addressable_values: frozenset[str] = frozenset()  # ... and the values that say so
    premises_field: str | None = None  # the field saying a place is premises, not a dwelling ...
    premises_values: frozenset[str] = frozenset()  # ... and the values that say so
    natural_key: tuple[str, ...] = ()  # what identifies a record in its originator's system

    def is_non_addressable(self, record: Any) -> bool:
        """A park, a car park, open space: such places keep their own coordinates."""
        return self.non_addressable_field is not None and record.get(self.non_addressable_field) in \
            self.non_addressable_values

    def is_premises(self, record: Any) -> bool:
        """A pub, a shop, a school: not a dwelling, so its name may stay in the address."""
        return self.premises_field is not None and record.get(self.premises_field) in self.premises_values

    def natural_key_of(self, record: Any) -> str:
        """The record's natural key as one canonical string (its fields' values in declared order),
        the same for every version of the record: a re-supply with this key supersedes, and a
        withdrawal names it. Raw values: the sanitiser turns it into a keyed token."""
        return json.dumps([_key_text(record.get(name)) for name in self.natural_key], separators=(",", ":"))

    @property
    def flag_fields(self) -> tuple[FieldPolicy, ...]:
        return tuple(f for f in self.fields if f.flag)

    @property
    def personal(self) -> bool:
        return self.sharing == "personal"

    def field(self, name: str) -> FieldPolicy:
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(f"{self.id} has no field {name!r}")

    def fields_with(self, rule: str) -> tuple[FieldPolicy, ...]:
        return self._fields_by_rule.get(rule, ())

    @cached_property
    def _fields_by_rule(self) -> dict[str, tuple[FieldPolicy, ...]]:
        by_rule: dict[str, tuple[FieldPolicy, ...]] = {}
        for policy in self.fields:
            by_rule[policy.rule] = (*by_rule.get(policy.rule, ()), policy)
        return by_rule

    # Cached: the daemon and feed use them several times per record.
    @cached_property
    def raw_codec(self) -> Codec:
        return Codec(self.raw_schema)

    @cached_property
    def shared_codec(self) -> Codec:
        return Codec(self.shared_schema())

    def shared_schema(self) -> dict[str, Any]:
        """The output form: dropped fields gone, dates of birth become ages, handling added."""
        sources = {f["name"]: f for f in self.raw_schema["fields"]}
        if self.personal:
            out_fields = [copy.deepcopy(sources[policy.name]) for policy in self.fields]
        else:
            out_fields = []
            for policy in self.fields:
                source = sources[policy.name]
                if policy.rule == "drop":
                    continue
                if policy.rule == "dob_to_age":
                    out_fields.append({"name": policy.age_field, "type": ["null", "int"], "default": None,
                                       "identifier": "quasi", "sanitise": "derived",
                                       "doc": f"Age in whole years at {self.event_date_field}, from {policy.name}."})
                    continue
                field = copy.deepcopy(source)
                if policy.rule == "pseudonymise":
                    field["type"] = ["null", "string"] if policy.nullable else "string"
                field["doc"] = f"{field.get('doc', '')} [{policy.describe()}]".strip()
                out_fields.append(field)
        schema = {key: copy.deepcopy(value) for key, value in self.raw_schema.items() if key != "fields"}
        schema["namespace"] = "uk.csp.exchange.shared"
        schema["fields"] = out_fields + copy.deepcopy(HANDLING_FIELDS)
        return schema


def dataset_from_schema(schema: dict[str, Any], *, origin: str = "<schema>") -> Dataset:
    """Read a dataset's policy from its schema, refusing anything the sanitiser could not honour."""

    def fail(message: str) -> ConfigError:
        return ConfigError(f"{origin}: {message}")

    for key in ("dataset", "sharing", "event_date_field", "natural_key"):
        if key not in schema:
            raise fail(f"schema has no {key!r} attribute")
    if schema["sharing"] not in SHARING_KINDS:
        raise fail(f"sharing must be one of {sorted(SHARING_KINDS)}, not {schema['sharing']!r}")
    policies = []
    for field in schema["fields"]:
        name = field["name"]
        identifier, rule = field.get("identifier"), field.get("sanitise")
        if identifier not in IDENTIFIER_KINDS:
            raise fail(f"field {name!r}: identifier must be one of {sorted(IDENTIFIER_KINDS)}")
        if rule not in SANITISE_RULES:
            raise fail(f"field {name!r}: sanitise must be one of {sorted(SANITISE_RULES)}")
        if rule == "pseudonymise" and not field.get("pseudonym_domain"):
            raise fail(f"field {name!r}: pseudonymise needs a pseudonym_domain")
        if rule == "coordinate" and field.get("axis") not in ("easting", "northing"):
            raise fail(f"field {name!r}: coordinate needs axis easting or northing")
        if rule == "dob_to_age" and not field.get("age_field"):
            raise fail(f"field {name!r}: dob_to_age needs an age_field")
        if schema["sharing"] == "depersonalised" and identifier == "direct" and rule == "keep":
            raise fail(f"field {name!r} is a direct identifier and would leave unchanged")
        policies.append(FieldPolicy(
            name=name, identifier=identifier, rule=rule, nullable=_is_nullable(field["type"]),
            avro_type=field["type"], doc=field.get("doc", ""), pseudonym_domain=field.get("pseudonym_domain"),
            axis=field.get("axis"), age_field=field.get("age_field"), not_before=field.get("not_before"),
            code_list=field.get("code_list"), flag=bool(field.get("flag", False)),
            declared_max_length=field.get("max_length"),
        ))
        if field.get("code_list") is not None and field["code_list"] not in CODE_LISTS:
            raise fail(f"field {name!r}: code_list must be one of {sorted(CODE_LISTS)}")
    non_addressable = schema.get("non_addressable") or {}
    premises = schema.get("premises") or {}
    if any(f["name"] == ORIGINATOR_HANDLING for f in schema["fields"]):
        raise fail(f"{ORIGINATOR_HANDLING!r} is added to every dataset: no schema declares it")
    raw_schema = {**schema, "fields": list(schema["fields"]) + copy.deepcopy(ORIGINATOR_FIELDS)}
    dataset = Dataset(
        id=schema["dataset"], title=schema.get("title", schema["dataset"]), source=schema.get("source", ""),
        guidance_section=schema.get("guidance_section", ""), sharing=schema["sharing"],
        event_date_field=schema["event_date_field"], doc=schema.get("doc", ""), fields=tuple(policies),
        raw_schema=raw_schema, category_field=schema.get("category_field"),
        non_addressable_field=non_addressable.get("field"),
        non_addressable_values=frozenset(non_addressable.get("values", ())),
        premises_field=premises.get("field"), premises_values=frozenset(premises.get("values", ())),
        natural_key=tuple(schema["natural_key"]) if isinstance(schema["natural_key"], list) else (),
    )
    names = {f.name for f in policies}
    for policy in policies:
        if policy.not_before is not None and policy.not_before not in names:
            raise fail(f"field {policy.name!r}: not_before names no field {policy.not_before!r}")
    for attribute, value in (("category_field", dataset.category_field),
                             ("non_addressable field", dataset.non_addressable_field),
                             ("premises field", dataset.premises_field)):
        if value is not None and value not in names:
            raise fail(f"{attribute} {value!r} is not a field")
    if not dataset.natural_key:
        raise fail("natural_key must list the fields that identify a record in its originator's system")
    for name in dataset.natural_key:
        if name not in names:
            raise fail(f"natural_key field {name!r} is not a field")
        if dataset.field(name).nullable:
            raise fail(f"natural_key field {name!r} may be empty: a key field must be required")
    try:
        event_field = dataset.field(dataset.event_date_field)
    except KeyError:
        raise fail(f"event_date_field {dataset.event_date_field!r} is not a field") from None
    if _logical(event_field.avro_type) != "date":
        raise fail(f"event_date_field {dataset.event_date_field!r} is not a date")
    return dataset


class Catalogue:
    """Every dataset schema in the schema directory, by id."""

    def __init__(self, datasets: dict[str, Dataset]):
        self._datasets = dict(datasets)

    @classmethod
    def load(cls) -> Catalogue:
        datasets = {}
        for path in sorted(schema_dir().glob("*.avsc")):
            schema = json.loads(path.read_text())
            if "dataset" not in schema:
                continue  # envelope, metadata and operational schemas
            dataset = dataset_from_schema(schema, origin=str(path))
            if dataset.id != path.stem:
                raise ConfigError(f"{path}: dataset {dataset.id!r} must live in {dataset.id}.avsc")
            datasets[dataset.id] = dataset
        return cls(datasets)

    def __getitem__(self, dataset_id: str) -> Dataset:
        try:
            return self._datasets[dataset_id]
        except KeyError:
            raise ConfigError(f"unknown dataset {dataset_id!r}") from None

    def __contains__(self, dataset_id: str) -> bool:
        return dataset_id in self._datasets

    def __iter__(self) -> Iterator[Dataset]:
        return iter(sorted(self._datasets.values(), key=lambda d: d.id))

    def by_fingerprint(self, fingerprint: str) -> tuple[Dataset, str] | None:
        """(dataset, 'raw'|'shared') whose schema has this fingerprint."""
        for dataset in self._datasets.values():
            if dataset.raw_codec.fingerprint == fingerprint:
                return dataset, "raw"
            if dataset.shared_codec.fingerprint == fingerprint:
                return dataset, "shared"
        return None


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    return Catalogue.load()
