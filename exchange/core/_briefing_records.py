"""How the briefing reads a record: its event date and time, category, postcode sector, grid
position and flags, each found through the dataset's schema; and the areas and the last-24-hours
window a record is counted in. Pure.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from exchange.core.postcode import postcode_sector
from exchange.core.reference import offence_name
from exchange.core.schemas import Dataset
from exchange.errors import InvalidPostcode


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _time(value: Any) -> dt.time | None:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            return None
    return None


def _time_field(dataset: Dataset) -> str | None:
    """The event's time: the field `<event date field without _date>_time`, where the schema has one."""
    name = dataset.event_date_field.removesuffix("_date") + "_time"
    return name if any(f.name == name for f in dataset.fields) else None


def event_moment(dataset: Dataset, record: Mapping[str, Any]) -> tuple[dt.date | None, dt.time | None]:
    """The record's event date and, where its dataset records one, time."""
    time_field = _time_field(dataset)
    return _date(record.get(dataset.event_date_field)), _time(record.get(time_field)) if time_field else None


_CODE_LISTS: dict[str, Callable[[str], str]] = {"home_office_offences": offence_name}


def _category_namer(dataset: Dataset) -> tuple[str, Callable[[Any], str]]:
    if dataset.category_field is None:
        return "Records", lambda value: dataset.title
    policy = dataset.field(dataset.category_field)
    namer = _CODE_LISTS.get(policy.code_list or "")
    label = "Offence" if policy.code_list == "home_office_offences" else \
        policy.name.replace("_", " ").capitalize()

    def name_of(value: Any) -> str:
        if value in (None, ""):
            return "(not recorded)"
        return namer(str(value)) if namer else str(value)
    return label, name_of


def _location_fields(dataset: Dataset) -> tuple[str | None, str | None, str | None]:
    """(postcode, easting, northing) fields: by sanitise rule, else (personal datasets) by name."""
    names = {f.name for f in dataset.fields}
    postcode = next((f.name for f in dataset.fields if f.rule == "postcode"), "postcode" if "postcode" in names
                    else None)
    axes = {f.axis: f.name for f in dataset.fields if f.rule == "coordinate" and f.axis}
    easting = axes.get("easting") or ("easting" if "easting" in names else None)
    northing = axes.get("northing") or ("northing" if "northing" in names else None)
    return postcode, easting, northing


def _sector(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return postcode_sector(value)
    except InvalidPostcode:
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


_SECTOR_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]$")
_DISTRICT_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


def parse_area(text: str) -> str:
    """A postcode sector ("NX1 2") or district ("NX1") as the briefing compares them; ValueError if neither."""
    area = " ".join(text.upper().split())
    if _SECTOR_RE.match(area) or _DISTRICT_RE.match(area):
        return area
    raise ValueError(f"{text!r} is not a postcode sector (e.g. 'NX1 2') or district (e.g. 'NX1')")


def in_areas(sector: str | None, areas: Sequence[str]) -> bool:
    """Whether a record in `sector` is in any of `areas` (sectors or districts); every record is when none given."""
    if not areas:
        return True
    if sector is None:
        return False
    return sector in areas or sector.split()[0] in areas


def last_24_hours(moments: Iterable[tuple[dt.date | None, dt.time | None]],
                  now: dt.datetime) -> tuple[int, int]:
    """(records timed within (now - 24 h, now], records dated on a day the window touches but with no time)."""
    wall = now.replace(tzinfo=None)
    since = wall - dt.timedelta(hours=24)
    timed = untimed = 0
    for day, time in moments:
        if day is None:
            continue
        if time is None:
            untimed += since.date() <= day <= wall.date()
            continue
        moment = dt.datetime.combine(day, time.replace(tzinfo=None))
        timed += since < moment <= wall
    return timed, untimed


# --- one record as the briefing reads it ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    """One record as the briefing reads it."""

    record: Mapping[str, Any]
    date: dt.date | None
    time: dt.time | None
    category: str
    sector: str | None
    point: tuple[float, float] | None
    flags: tuple[str, ...]
    originator: str


def _flag_name(field: str) -> str:
    return field.removeprefix("flag_").replace("_", " ")


def _rows(dataset: Dataset, records: Iterable[Mapping[str, Any]]) -> list[_Row]:
    _, name_of = _category_namer(dataset)
    postcode, easting, northing = _location_fields(dataset)
    rows = []
    for record in records:
        day, time = event_moment(dataset, record)
        e = _number(record.get(easting)) if easting else None
        n = _number(record.get(northing)) if northing else None
        handling = record.get("handling") or {}
        rows.append(_Row(
            record=record, date=day, time=time,
            category=name_of(record.get(dataset.category_field)) if dataset.category_field else name_of(None),
            sector=_sector(record.get(postcode)) if postcode else None,
            point=(e, n) if e is not None and n is not None else None,
            flags=tuple(_flag_name(f.name) for f in dataset.flag_fields if record.get(f.name) is True),
            originator=str(handling.get("originator") or "(not recorded)")))
    return rows
