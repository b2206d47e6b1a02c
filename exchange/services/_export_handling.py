"""What every export shares, whatever its format: the typed columns (TableColumn, table_columns)
and the handling it carries (Handling: marking, originators, purposes, onward sharing, destroy-by
date, the supplies' caveats), with the supply summaries it is built from. No files written here.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from exchange.core.marking import OFFICIAL, OFFICIAL_SENSITIVE_PERSONAL, Marking, parse_marking
from exchange.core.schemas import HANDLING_FIELDS, HANDLING_NAMES, Dataset, base_type
from exchange.storage import csvfiles

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


# -- the columns, typed ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableColumn:
    """One column of an export: its name, kind and where its value comes from."""

    name: str
    kind: str  # text, code, date, time, int, float, bool
    source: str  # the record's field (or the handling caveat's name, or the code field it names)
    where: str = "field"  # field, handling, code_name

    def value(self, dataset: Dataset, record: dict[str, Any]) -> Any:
        """The cell's value, typed: dates and times as such, numbers and booleans as they are."""
        if self.where == "handling":
            raw = (record.get("handling") or {}).get(self.source)
        elif self.where == "code_name":
            return csvfiles.code_name(dataset, self.source, record.get(self.source))
        else:
            raw = record.get(self.source)
        if raw is None:
            return None
        if self.kind == "date" and isinstance(raw, str):
            return dt.date.fromisoformat(raw)
        if self.kind == "time" and isinstance(raw, str):
            return dt.time.fromisoformat(raw)
        if self.kind in ("text", "code") and not isinstance(raw, str):
            return str(raw)
        return raw


def _kind(avro_type: Any) -> str:
    base = base_type(avro_type)
    if isinstance(base, dict):
        logical = base.get("logicalType")
        if logical == "date":
            return "date"
        if logical in ("time-millis", "time-micros"):
            return "time"
        base = base.get("type")
    return {"int": "int", "long": "int", "float": "float", "double": "float", "boolean": "bool"}.get(str(base), "text")


def table_columns(dataset: Dataset) -> list[TableColumn]:
    """The export's columns in csvfiles.shared_columns order, each with its kind."""
    codes = csvfiles.code_columns(dataset)
    columns = []
    for item in dataset.shared_schema()["fields"]:
        name = item["name"]
        if name == "handling":
            continue
        columns.append(TableColumn(name, "code" if name in codes else _kind(item["type"]), name))
        if name in codes:
            columns.append(TableColumn(codes[name], "text", name, "code_name"))
    caveats = {f["name"]: f["type"] for f in HANDLING_FIELDS[1]["type"]["fields"]}
    columns += [TableColumn(f"handling_{h}", _kind(caveats[h]), h, "handling") for h in HANDLING_NAMES]
    return columns


# -- the handling an export carries ---------------------------------------------------------------


def _iso(value: Any) -> str | None:
    return None if value is None else str(value)


def supply_summary(supply: dict[str, Any]) -> dict[str, Any]:
    """A supply's metadata (guidance 3.4) as exports and `exchange feed supplies` show it."""
    return {
        "supplier": supply.get("agency"), "contact": supply.get("supplier_contact"), "dataset": supply.get("dataset"),
        "dataset_name": supply.get("dataset_name"), "period_start": _iso(supply.get("period_start")),
        "period_end": _iso(supply.get("period_end")), "records": supply.get("number_of_records"),
        "rejected": supply.get("records_rejected", 0), "date_supplied": _iso(supply.get("date_supplied")),
        "caveats": supply.get("caveats"),
    }


def _one_line(value: Any) -> str:
    """Text from another agency as one line: no newline in a caveat can forge a line of its own."""
    text = "" if value is None else str(value)
    return _CONTROL.sub(" ", " ".join(text.split()))


@dataclass
class Handling:
    """What an export says about how to handle it, gathered while its records are written."""

    dataset: Dataset
    since: dt.date | None = None
    until: dt.date | None = None
    crs: int | None = None
    crs_note: str = ""
    records: int = 0
    marking: Marking | None = None
    originators: set[str] = field(default_factory=set)
    purposes: set[str] = field(default_factory=set)
    onward_sharing: set[str] = field(default_factory=set)
    destroy_by: dt.date | None = None
    supplies: list[dict[str, Any]] = field(default_factory=list)
    exported_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(microsecond=0))

    def add(self, record: dict[str, Any]) -> None:
        caveats = record.get("handling") or {}
        for text in (record.get("marking"), caveats.get("marking")):
            if text:
                found = parse_marking(str(text))
                self.marking = found if self.marking is None else self.marking.at_least(found)
        for target, value in ((self.originators, caveats.get("originator")),
                              (self.purposes, caveats.get("permitted_purpose")),
                              (self.onward_sharing, caveats.get("onward_sharing"))):
            if value:
                target.add(str(value))
        destroy_by = caveats.get("destroy_by")
        if destroy_by:
            day = destroy_by if isinstance(destroy_by, dt.date) else dt.date.fromisoformat(str(destroy_by))
            self.destroy_by = day if self.destroy_by is None else min(self.destroy_by, day)
        self.records += 1

    @property
    def final_marking(self) -> Marking:
        """The highest marking of the exported records (with none, the dataset's least)."""
        if self.marking is not None:
            return self.marking
        return OFFICIAL_SENSITIVE_PERSONAL if self.dataset.personal else OFFICIAL

    def statement(self) -> str:
        originators = ", ".join(sorted(self.originators)) or "the originators"
        destroy = (f"destroy it by {self.destroy_by.isoformat()}" if self.destroy_by
                   else "destroy it when no longer needed")
        return (f"{self.final_marking}: handle, store and share this file as {self.final_marking} under the "
                f"partnership's Information Sharing Protocol; no onward sharing without the consent of {originators}; "
                f"{destroy}.")

    def items(self) -> list[tuple[str, str]]:
        """The handling as (label, text) pairs: the sidecar, the Handling sheet, the GeoPackage table."""
        window = (f"{self.since or 'any date'} to {self.until or 'any date'}" if self.since or self.until
                  else "all (no date filter)")
        items = [
            ("Protective marking", f"{self.final_marking} (the highest marking of the exported records)"),
            ("Handling", self.statement()),
            ("Dataset", f"{self.dataset.title} ({self.dataset.id})"),
            ("Records", str(self.records)),
            ("Event dates", f"{window} ({self.dataset.event_date_field}, inclusive)"),
            ("Exported", self.exported_at.isoformat()),
            ("Originators", ", ".join(sorted(self.originators)) or "none"),
            ("Permitted purposes", "; ".join(sorted(self.purposes)) or "none recorded"),
            ("Onward sharing", "; ".join(sorted(self.onward_sharing)) or "none recorded"),
            ("Destroy by", f"{self.destroy_by} (the earliest destroy-by date of the exported records)"
             if self.destroy_by else "not set"),
        ]
        if self.crs_note:
            items.append(("Coordinates", self.crs_note))
        for number, supply in enumerate(self.supplies, 1):
            items.append((f"Supply {number}", self.supply_line(supply)))
        return [(label, _one_line(text)) for label, text in items]

    @staticmethod
    def supply_line(supply: dict[str, Any]) -> str:
        period = f"{supply['period_start'] or '?'} to {supply['period_end'] or '?'}"
        return (f"{supply['supplier']}, {supply['dataset_name'] or supply['dataset']}, events {period}, "
                f"{supply['records']} record(s), {supply['rejected']} rejected, supplied {supply['date_supplied']}; "
                f"contact: {supply['contact'] or 'none given'}; caveats: {supply['caveats'] or 'none'}")

    def text(self) -> str:
        width = max(len(label) for label, _ in self.items())
        lines = [str(self.final_marking), ""]
        lines += [f"{label + ':':<{width + 1}} {text}" for label, text in self.items()]
        return "\n".join([*lines, "", str(self.final_marking)]) + "\n"

    def as_dict(self) -> dict[str, Any]:
        return {
            "marking": str(self.final_marking), "statement": self.statement(),
            "dataset": self.dataset.id, "title": self.dataset.title, "records": self.records,
            "event_dates": {"field": self.dataset.event_date_field, "since": _iso(self.since),
                            "until": _iso(self.until)},
            "exported_at": self.exported_at.isoformat(), "originators": sorted(self.originators),
            "permitted_purposes": sorted(self.purposes), "onward_sharing": sorted(self.onward_sharing),
            "destroy_by": _iso(self.destroy_by), "coordinates": self.crs_note or None, "supplies": self.supplies,
        }


# -- supply metadata as typed values ---------------------------------------------------------------


def _date_or_none(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _naive_utc(value: Any) -> dt.datetime | None:
    """A timestamp as Excel holds one: no time zone, so in UTC."""
    try:
        moment = dt.datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment
