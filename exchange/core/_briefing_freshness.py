"""The briefing's supplies: when each agency last supplied each dataset, its usual interval
(cadence), whether the supply is late, and each supply's metadata as the page lists it. Pure.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from exchange.core._briefing_records import _date

LATE_FACTOR = 2  # a supply is late after this many usual intervals
SAME_SUPPLY = dt.timedelta(hours=1)  # supplies closer than this count as one when finding the cadence


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _moment(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return _aware(value)
    if isinstance(value, str) and value:
        try:
            return _aware(dt.datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


@dataclass(frozen=True, slots=True)
class Freshness:
    agency: str
    dataset: str
    records: int  # records held (in the areas chosen)
    newest_record: dt.date | None
    supplies: int
    last_supply: dt.datetime | None
    usual_interval: dt.timedelta | None
    late: bool
    since_last: dt.timedelta | None


def supply_freshness(supplied_at: Iterable[dt.datetime], now: dt.datetime) -> tuple[
        dt.datetime | None, dt.timedelta | None, bool, dt.timedelta | None]:
    """(last supply, usual interval, late?, time since the last supply) by the late-supply rule."""
    times = sorted(_aware(t) for t in supplied_at)
    if not times:
        return None, None, False, None
    now = _aware(now)
    kept = [times[0]]
    for moment in times[1:]:
        if moment - kept[-1] >= SAME_SUPPLY:
            kept.append(moment)
    last, since = times[-1], now - times[-1]
    if len(kept) < 2:
        return last, None, False, since
    usual = dt.timedelta(seconds=statistics.median((b - a).total_seconds() for a, b in zip(kept, kept[1:],
                                                                                          strict=False)))
    return last, usual, since > LATE_FACTOR * usual, since


@dataclass(frozen=True, slots=True)
class SupplyNote:
    agency: str
    dataset: str
    supplied: dt.datetime | None
    contact: str
    period_start: dt.date | None
    period_end: dt.date | None
    records: int | None
    rejected: int | None
    caveats: str


def _supply_note(supply: Mapping[str, Any]) -> SupplyNote:
    def whole(value: Any) -> int | None:
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return SupplyNote(
        agency=str(supply.get("agency") or "(unknown)"), dataset=str(supply.get("dataset") or ""),
        supplied=_moment(supply.get("date_supplied")), contact=str(supply.get("supplier_contact") or ""),
        period_start=_date(supply.get("period_start")), period_end=_date(supply.get("period_end")),
        records=whole(supply.get("number_of_records")), rejected=whole(supply.get("records_rejected")),
        caveats=str(supply.get("caveats") or ""))
