"""Need to know below the dataset: the view of a dataset a grant releases (ISP: share no more
than the purpose needs).

A grant may name the optional fields of the dataset's shared form it needs, and the areas
(postcode districts such as "NS1", or sectors such as "NS1 4") it covers. The sanitiser then
releases only that view to that grantee:

  * fields: the shared form's required fields (keys, dates, category, handling) always travel,
    since a record cannot be stored, corrected or withdrawn without them; an optional field not
    named is released empty (null). No list: every field.
  * areas: a record is released to the grantee only if its postcode (the shared form's centroid
    postcode) lies in one of the areas; a record without a postcode (non-addressable) lies in
    none of them, so it is not released (fail closed). No list: everywhere.

Recipients with the same view share one sealed message, so the sanitiser's sealing cost grows
with the number of distinct views of a dataset, not with the number of recipients.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from exchange.core.postcode import normalise_postcode
from exchange.core.schemas import Dataset
from exchange.errors import GrantConditionsMissing, InvalidPostcode

__all__ = ["REQUIRED_ONLY", "View", "WHOLE", "check_view", "in_area", "project"]

LOCATION_FIELD = "postcode"
REQUIRED_ONLY = "(required fields only)"  # a field list naming no optional field: every optional one empty
_DISTRICT = re.compile(r"[A-Z]{1,2}[0-9][0-9A-Z]?")
_SECTOR = re.compile(r"[A-Z]{1,2}[0-9][0-9A-Z]? [0-9]")


@dataclass(frozen=True, slots=True)
class View:
    fields: frozenset[str] = frozenset()  # the optional fields released; empty: every field
    areas: frozenset[str] = frozenset()  # postcode districts and sectors; empty: everywhere

    @property
    def whole(self) -> bool:
        return not self.fields and not self.areas

    @property
    def key(self) -> str:
        """A stable name for the view ("" for the whole dataset): part of its messages' ids."""
        if self.whole:
            return ""
        text = "\x00".join(sorted(self.fields)) + "\x01" + "\x00".join(sorted(self.areas))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def describe(self) -> str:
        parts = []
        if self.fields:
            parts.append(f"fields {', '.join(sorted(self.fields))}")
        if self.areas:
            parts.append(f"areas {', '.join(sorted(self.areas))}")
        return "; ".join(parts) or "the whole dataset"


WHOLE = View()


def _area(text: str) -> str:
    return " ".join(text.upper().split())


def check_view(dataset: Dataset, fields: Iterable[str], areas: Iterable[str]) -> View:
    """The view a grant names, checked against the dataset (GrantConditionsMissing says why not)."""
    optional = _optional_fields(dataset)
    required = {f["name"] for f in dataset.shared_schema()["fields"]} - optional
    wanted = {name.strip() for name in fields if name.strip()}
    unknown = sorted(wanted - optional - required)
    if unknown:
        raise GrantConditionsMissing(f"{dataset.id} has no field {', '.join(unknown)} in its shared form "
                                     "(see `exchange schemas show`)")
    chosen = frozenset(wanted & optional)  # required fields always travel: naming them changes nothing
    wanted_areas = {_area(a) for a in areas if a.strip()}
    bad = sorted(a for a in wanted_areas if not (_DISTRICT.fullmatch(a) or _SECTOR.fullmatch(a)))
    if bad:
        raise GrantConditionsMissing(f"{', '.join(bad)}: an area is a postcode district (NS1) or sector (NS1 4)")
    if wanted_areas and LOCATION_FIELD not in optional | required:
        raise GrantConditionsMissing(f"{dataset.id} carries no postcode: a grant of it cannot be limited to areas")
    if wanted and not chosen:
        chosen = frozenset({REQUIRED_ONLY})  # never "no list" (every field): fail closed
    return View(chosen, frozenset(wanted_areas))


def in_area(record: Mapping[str, Any], view: View) -> bool:
    if not view.areas:
        return True
    value = record.get(LOCATION_FIELD)
    if not value:
        return False
    try:
        postcode = normalise_postcode(str(value))
    except InvalidPostcode:
        return False
    outward, inward = postcode.split(" ")
    return outward in view.areas or f"{outward} {inward[0]}" in view.areas


def project(record: Mapping[str, Any], dataset: Dataset, view: View) -> dict[str, Any] | None:
    """The record as `view` releases it, or None when it lies outside the view's areas."""
    if not in_area(record, view):
        return None
    if not view.fields:
        return dict(record)
    optional = _optional_fields(dataset)
    return {name: (value if name not in optional or name in view.fields else None) for name, value in record.items()}


_OPTIONAL: dict[str, frozenset[str]] = {}


def _optional_fields(dataset: Dataset) -> frozenset[str]:
    """The shared form's nullable fields (computed once per dataset: this is on the hot path)."""
    if dataset.id not in _OPTIONAL:
        _OPTIONAL[dataset.id] = frozenset(f["name"] for f in dataset.shared_schema()["fields"]
                                          if isinstance(f["type"], list) and "null" in f["type"])
    return _OPTIONAL[dataset.id]
