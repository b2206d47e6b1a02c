"""Turn one exported row (field name -> text) into a typed record the schema accepts. Pure.

Every problem with a row is collected, so the quarantine report tells the agency everything
that is wrong with it at once, not one fault per re-submission.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exchange.core.postcode import normalise_postcode
from exchange.core.schemas import Dataset, FieldPolicy
from exchange.errors import InvalidPostcode, RowInvalid

__all__ = [
    "EASTING_RANGE", "FALSE_WORDS", "NORTHING_RANGE", "TRUE_WORDS", "cross_field_checks", "Formats",
    "parse_date", "parse_restriction", "parse_time", "validate_key", "validate_row",
]

# British National Grid extent (EPSG:27700 bounds for Great Britain).
EASTING_RANGE = (0.0, 700_000.0)
NORTHING_RANGE = (0.0, 1_300_000.0)
TRUE_WORDS = frozenset({"y", "yes", "true", "1", "t"})
FALSE_WORDS = frozenset({"n", "no", "false", "0", "f", ""})


@dataclass(frozen=True, slots=True)
class Formats:
    dates: tuple[str, ...] = ("%Y-%m-%d", "%d/%m/%Y")
    times: tuple[str, ...] = ("%H:%M", "%H:%M:%S")


# The formats most exports use, read without strptime (several times faster) when the text has
# exactly their shape; anything else (other formats, "5/3/2024" with one digit) goes to strptime,
# which gives the same value or the same refusal (tests/test_validation.py compares them).
_ISO_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UK_DATE_RE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")
_CLOCK_RE = re.compile(r"[0-9]{2}:[0-9]{2}(?::[0-9]{2})?")


def _quick_date(text: str, fmt: str) -> dt.date | None:
    if fmt == "%Y-%m-%d" and _ISO_DATE_RE.fullmatch(text):
        return dt.date(int(text[:4]), int(text[5:7]), int(text[8:]))
    if fmt == "%d/%m/%Y" and (found := _UK_DATE_RE.fullmatch(text)):
        return dt.date(int(found[3]), int(found[2]), int(found[1]))
    return None


def _quick_time(text: str, fmt: str) -> dt.time | None:
    if fmt in ("%H:%M", "%H:%M:%S") and len(text) == len(fmt) and _CLOCK_RE.fullmatch(text):
        return dt.time(int(text[:2]), int(text[3:5]), int(text[6:]) if len(text) == 8 else 0)
    return None


def parse_date(text: str, fmt: str) -> dt.date:
    """`text` as a date in strptime's `fmt`; ValueError if it is not one."""
    return _quick_date(text, fmt) or dt.datetime.strptime(text, fmt).date()


def parse_time(text: str, fmt: str) -> dt.time:
    """`text` as a time of day in strptime's `fmt`; ValueError if it is not one."""
    quick = _quick_time(text, fmt)
    return quick if quick is not None else dt.datetime.strptime(text, fmt).time()


def _convert(policy: FieldPolicy, text: str, formats: Formats) -> Any:
    base, logical, kind = policy.base, policy.logical_type, policy.kind
    if logical == "date":
        for fmt in formats.dates:
            try:
                return parse_date(text, fmt)
            except ValueError:
                continue
        raise ValueError(f"{text!r} is not a date in any of the formats {', '.join(formats.dates)}")
    if logical in ("time-millis", "time-micros"):
        for fmt in formats.times:
            try:
                return parse_time(text, fmt)
            except ValueError:
                continue
        raise ValueError(f"{text!r} is not a time in any of the formats {', '.join(formats.times)}")
    if kind == "enum":
        if text not in base["symbols"]:
            raise ValueError(f"{text!r} is not one of {', '.join(base['symbols'])}")
        return text
    if kind == "boolean":
        lowered = text.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise ValueError(f"{text!r} is not a yes/no value")
    if kind in ("int", "long"):
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        bits = 31 if kind == "int" else 63
        if not -(2 ** bits) <= value < 2 ** bits:
            raise ValueError(f"{text!r} is too large for this field")
        return value
    if kind in ("float", "double"):
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(f"{text!r} is not a finite number")
        return number
    if kind == "string":
        return text
    raise ValueError(f"unsupported schema type {kind!r}")


def validate_row(dataset: Dataset, row: Mapping[str, str | None], formats: Formats = Formats(),
                 *, today: dt.date | None = None) -> dict[str, Any]:
    """Return the typed record, or raise RowInvalid listing every reason."""
    today = today or dt.date.today()
    reasons: list[str] = []
    record: dict[str, Any] = {}
    for policy in dataset.fields:
        text = (row.get(policy.name) or "").strip()
        is_boolean = policy.kind == "boolean"
        if not text and not is_boolean:
            if policy.nullable:
                record[policy.name] = None
            else:
                reasons.append(f"{policy.name}: required but empty")
            continue
        try:
            value = _convert(policy, text, formats)
            if policy.rule == "postcode" and value is not None:
                value = normalise_postcode(value)
            record[policy.name] = value
        except (ValueError, InvalidPostcode) as exc:
            reasons.append(f"{policy.name}: {exc}")
    reasons.extend(cross_field_checks(dataset, record, today))
    if reasons:
        raise RowInvalid(reasons)
    return record


def validate_key(dataset: Dataset, row: Mapping[str, str | None], formats: Formats = Formats()) -> dict[str, Any]:
    """The typed natural key of a row (a withdrawal names a record by it alone); RowInvalid
    listing every reason. Other fields may be empty."""
    reasons: list[str] = []
    key: dict[str, Any] = {}
    for name in dataset.natural_key:
        text = (row.get(name) or "").strip()
        if not text:
            reasons.append(f"{name}: required but empty (it identifies the record)")
            continue
        try:
            key[name] = _convert(dataset.field(name), text, formats)
        except ValueError as exc:
            reasons.append(f"{name}: {exc}")
    if reasons:
        raise RowInvalid(reasons)
    return key


# What agencies write in a handling column (ISP 4.6, APP's "not for dissemination" and "sub
# judice"), normalised to lower case with spaces: anything else refuses the row, never passes.
RESTRICTION_WORDS = {
    "": None, "none": None, "n/a": None, "na": None,
    "not for dissemination": "NOT_FOR_DISSEMINATION", "nfd": "NOT_FOR_DISSEMINATION",
    "do not disseminate": "NOT_FOR_DISSEMINATION", "not for onward dissemination": "NOT_FOR_DISSEMINATION",
    "sub judice": "SUB_JUDICE", "sj": "SUB_JUDICE",
}


def parse_restriction(text: str | None) -> str | None:
    """A handling column's value as NOT_FOR_DISSEMINATION, SUB_JUDICE or None (nothing to say)."""
    words = " ".join((text or "").replace("_", " ").replace("-", " ").lower().split())
    if words not in RESTRICTION_WORDS:
        raise ValueError(f"{(text or '')[:40]!r} is not a handling instruction: write 'not for dissemination', "
                         "'sub judice', or leave it empty")
    return RESTRICTION_WORDS[words]


def cross_field_checks(dataset: Dataset, record: Mapping[str, Any], today: dt.date) -> list[str]:
    reasons = []
    for policy in dataset.fields:
        value, limit = record.get(policy.name), policy.max_length
        if limit is not None and isinstance(value, str) and len(value) > limit:
            reasons.append(f"{policy.name}: {len(value)} characters, more than the {limit} allowed")
    for policy in dataset.fields_with("coordinate"):
        value = record.get(policy.name)
        low, high = EASTING_RANGE if policy.axis == "easting" else NORTHING_RANGE
        if value is not None and not low <= value <= high:
            reasons.append(f"{policy.name}: {value:g} is outside Great Britain's National Grid ({low:g} to {high:g})")
    axes = {p.axis: record.get(p.name) for p in dataset.fields_with("coordinate")}
    if axes and (axes.get("easting") is None) != (axes.get("northing") is None):
        reasons.append("easting and northing must be given together")
    # Only the event and dates of birth cannot lie ahead; end dates (a licence's, say) may.
    for name in [dataset.event_date_field, *(p.name for p in dataset.fields_with("dob_to_age"))]:
        value = record.get(name)
        if isinstance(value, dt.date) and value > today:
            reasons.append(f"{name}: {value.isoformat()} is in the future")
    for policy in dataset.fields:
        if policy.not_before is None:
            continue
        start, end = record.get(policy.not_before), record.get(policy.name)
        if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
            reasons.append(f"{policy.name} {end.isoformat()} is before {policy.not_before} {start.isoformat()}")
    for policy in dataset.fields_with("dob_to_age"):
        dob, event = record.get(policy.name), record.get(dataset.event_date_field)
        if isinstance(dob, dt.date) and isinstance(event, dt.date) and dob > event:
            reasons.append(f"{policy.name}: date of birth is after the event date")
    return reasons
