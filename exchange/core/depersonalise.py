"""The Home Office Appendix 1 depersonalisation rules, driven by each dataset's schema. Pure:
the gazetteer is passed in, and nothing here touches Kafka, files or the clock.

For each field, by its "sanitise" attribute:
  keep          forwarded unchanged
  drop          never forwarded (names, NHS numbers, full dates of birth ...)
  pseudonymise  a keyed pseudonym (exchange.crypto.pseudonyms, passed in), by domain: the same
                crime reference gives the same token in offence, offender and victim records
  postcode      the record's postcode if it has at least k households, else the nearest postcode
                (by distance between centroids) that has; unknown postcodes fall back to the
                coordinates, and a record that cannot be placed safely is refused
  coordinate    the centroid of that qualifying postcode; non-addressable places (a park, a car
                park) keep their own coordinates
  address       house number, house name and flat number removed (the name of premises that are
                not a dwelling, by the record's location type, stays); withheld altogether when
                the record was moved to another postcode, since the street of a postcode with
                fewer than k households can itself point at a household
  dob_to_age    age in whole years at the event date
  free_text     scrubbed of direct identifiers (exchange.core.redact)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from exchange.core.address import strip_address
from exchange.core.redact import scrub
from exchange.core.schemas import Dataset
from exchange.errors import ReasonCode, Refused

__all__ = ["age_at", "CentroidLike", "Depersonaliser", "GazetteerLike", "Outcome", "Pseudonymise"]

Pseudonymise = Callable[[str, str], str]  # (domain, value) -> token; exchange.crypto.pseudonyms.Pseudonymiser


class CentroidLike(Protocol):
    postcode: str
    easting: float
    northing: float
    households: int


class GazetteerLike(Protocol):
    def get(self, postcode: str) -> CentroidLike | None: ...
    def nearest(self, easting: float, northing: float) -> CentroidLike: ...
    def qualifying_for(self, postcode: str, k: int) -> CentroidLike: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    record: dict[str, Any]
    moved: bool
    redactions: int


def age_at(date_of_birth: dt.date, event: dt.date) -> int:
    return event.year - date_of_birth.year - ((event.month, event.day) < (date_of_birth.month, date_of_birth.day))


class Depersonaliser:
    def __init__(self, dataset: Dataset, gazetteer: GazetteerLike, *, k: int, pseudonymise: Pseudonymise):
        if dataset.personal:
            raise ValueError(f"{dataset.id} is a personal dataset: it is released, not depersonalised")
        self.dataset = dataset
        self.gazetteer = gazetteer
        self.k = k
        self._pseudonymise = pseudonymise
        self._postcode_fields = [p.name for p in dataset.fields_with("postcode")]
        self._axes = {p.axis: p.name for p in dataset.fields_with("coordinate")}

    def apply(self, record: Mapping[str, Any], *, pseudonymise: Pseudonymise | None = None) -> Outcome:
        """The depersonalised record; `pseudonymise` overrides the one given at construction (the
        record sanitiser scopes pseudonyms to the record's originator that way)."""
        pseudonymise = pseudonymise or self._pseudonymise
        out: dict[str, Any] = {}
        moved = self._place(record, out)
        redactions = 0
        event_date = record.get(self.dataset.event_date_field)
        for policy in self.dataset.fields:
            value = record.get(policy.name)
            if policy.rule in ("postcode", "coordinate"):
                continue  # placed above
            if policy.rule == "drop":
                continue
            if policy.rule == "keep":
                out[policy.name] = value
            elif policy.rule == "pseudonymise":
                domain = policy.pseudonym_domain or policy.name  # schemas.py requires a domain for this rule
                out[policy.name] = None if value in (None, "") else pseudonymise(domain, value)
            elif policy.rule == "address":
                # A pub, shop or school keeps its name (licensed-premises analysis needs it, guidance 4.3.1).
                out[policy.name] = None if (value is None or moved) else (
                    strip_address(value, keep_premises_name=self.dataset.is_premises(record)) or None)
            elif policy.rule == "dob_to_age":
                out[policy.age_field or f"{policy.name}_age"] = (
                    age_at(value, event_date) if value and event_date else None)
            elif policy.rule == "free_text":
                if value is None:
                    out[policy.name] = None
                else:
                    scrubbed = scrub(value)
                    out[policy.name] = scrubbed.text
                    redactions += scrubbed.total
        out["location_generalised"] = moved
        return Outcome(record=out, moved=moved, redactions=redactions)

    def _place(self, record: Mapping[str, Any], out: dict[str, Any]) -> bool:
        """Fill postcode and coordinate fields; return True if moved to another postcode."""
        if not self._postcode_fields and not self._axes:
            return False
        postcode = record.get(self._postcode_fields[0]) if self._postcode_fields else None
        easting = record.get(self._axes["easting"]) if self._axes else None
        northing = record.get(self._axes["northing"]) if self._axes else None
        non_addressable = self.dataset.is_non_addressable(record)

        source = None
        if postcode is not None:
            source = self.gazetteer.get(postcode)
        if source is None and easting is not None and northing is not None:
            source = self.gazetteer.nearest(easting, northing)
        if source is None:
            if postcode is not None:
                # Name the field, never the postcode: this reason reaches the dead-letter topic and logs.
                raise Refused(ReasonCode.LOCATION_UNPLACEABLE,
                              f"{self._postcode_fields[0]}: the postcode is not in the gazetteer and the record "
                              "has no coordinates")
            for name in self._postcode_fields + list(self._axes.values()):
                out[name] = None
            return False
        qualifying = self.gazetteer.qualifying_for(source.postcode, self.k)
        for name in self._postcode_fields:
            out[name] = qualifying.postcode
        if self._axes:
            if non_addressable and easting is not None:
                out[self._axes["easting"]], out[self._axes["northing"]] = easting, northing
            else:
                out[self._axes["easting"]], out[self._axes["northing"]] = qualifying.easting, qualifying.northing
        return qualifying.postcode != source.postcode or (postcode is not None and postcode != source.postcode)
