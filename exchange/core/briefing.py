"""The figures of a partnership briefing (a NIM tasking product), from what a subscriber's feed holds.

Pure: no files, no SQLite, no clock. The caller passes the records and supply metadata it read, the
day the briefing is for and the moment it is made (`now`, timezone-aware); `build_briefing` returns
a `Briefing` that exchange.core.briefing_page renders as a page or as text.

What is counted comes from each dataset's schema, so any dataset a feed holds can be briefed on: the
event date (`event_date_field`, with `<name>_time` beside it where the schema has one), the category
(`category_field`, named through its code list where it has one), the flags (fields marked
`"flag": true`), the postcode (its sector is the most precise place a briefing names) and the
easting/northing (British National Grid; the map aggregates them to grid cells).

The rules, each stated on the page (`RULES`):

- Period: `day` is the day D; `week` the 7 days ending on D; `month` the calendar month of D up to D.
- Baseline: the 28 days before the period (day), the 12 weeks before it (week) or the 12 calendar
  months before it (month). The expected count is the baseline's average per day times the days of
  the period (for day and week exactly the average day or week). Baseline days before the first day
  the feed holds data for (its earliest record or supply period) are left out, and the page says how
  many days the baseline covers.
- Significant change (Poisson exceedance): a count is *above* its baseline when
  P(X >= observed | X ~ Poisson(expected)) < 0.05 and observed >= 5, and *below* it when
  P(X <= observed | X ~ Poisson(expected)) < 0.05 and expected >= 5. Emerging issues are the
  categories, postcode sectors and datasets above their baseline.
- Last 24 hours: records whose event date and time fall in (now - 24 h, now], read as the wall-clock
  time of `now`; records with a date but no time cannot be placed in the window and are counted apart.
- Late supply: an agency's supply of a dataset is late when the time since its last supply exceeds
  twice its usual interval (the median interval between its supplies, supplies less than an hour
  apart counting as one); with fewer than two supplies its cadence is unknown.
- Handling: a record past its destroy-by date is left out (the feed's sweep deletes it); the page's
  marking is the highest of the records it draws on and its destroy-by date the earliest of theirs.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from exchange.core.marking import CLASSIFICATIONS, DESCRIPTORS, parse_marking
from exchange.core.postcode import postcode_sector
from exchange.core.reference import offence_name
from exchange.core.schemas import Catalogue, Dataset
from exchange.errors import InvalidPostcode

__all__ = [
    "ALPHA", "BASELINE_TEXT", "CELL_METRES", "LATE_FACTOR", "MIN_COUNT", "PERIODS", "RULES", "Briefing", "Change",
    "DatasetFigures", "Emerging", "FlaggedIncident", "Freshness", "HandlingNote", "MapCell", "MapData", "MapLabel",
    "SupplyNote", "Window", "baseline_window", "build_briefing", "change_of", "compare", "covered_window",
    "daily_counts", "event_moment", "expected_count", "grid_cells", "highest_marking", "in_areas", "last_24_hours",
    "parse_area", "period_window", "poisson_at_least", "poisson_at_most", "supply_freshness",
]

PERIODS = ("day", "week", "month")
ALPHA = 0.05  # the exceedance probability below which a change is flagged
MIN_COUNT = 5  # ... and the count (observed for a rise, expected for a fall) it needs
CELL_METRES = 250  # the map's grid cells
LATE_FACTOR = 2  # a supply is late after this many usual intervals
SAME_SUPPLY = dt.timedelta(hours=1)  # supplies closer than this count as one when finding the cadence
MAX_FLAGGED = 200  # flagged incidents listed (the rest are counted)
MAX_SECTORS = 15  # postcode sectors tabled per dataset (those flagged are always shown)

BASELINE_TEXT = {
    "day": "the average day of the 28 days before",
    "week": "the average week of the 12 weeks before",
    "month": "the average of the 12 calendar months before, per day, times the days of the period",
}
RULES: tuple[tuple[str, str], ...] = (
    ("Period", "day: the day D; week: the 7 days ending on D; month: the calendar month of D up to D. "
               "Records are counted by their event date."),
    ("Baseline", "the 28 days before the period (day), the 12 weeks before it (week) or the 12 calendar months "
                 "before it (month); expected = the baseline's average per day x the days of the period. Baseline "
                 "days before the first day the feed holds data for (earliest record or supply period) are left "
                 "out; each table says how many days its baseline covers."),
    ("Significant change (Poisson exceedance)",
     f"above: P(X >= observed | X ~ Poisson(expected)) < {ALPHA} and observed >= {MIN_COUNT}; below: "
     f"P(X <= observed | X ~ Poisson(expected)) < {ALPHA} and expected >= {MIN_COUNT}. No baseline, no test."),
    ("Emerging issues", "the datasets, categories, postcode sectors and map cells above their baseline by that rule."),
    ("Last 24 hours", "records whose event date and time fall after (now - 24 hours) and no later than now; "
                      "records with a date but no time cannot be placed and are counted apart."),
    ("Late supply", f"the time since an agency's last supply of a dataset exceeds {LATE_FACTOR} times its usual "
                    "interval (the median interval between its supplies, supplies less than an hour apart "
                    "counting as one); with fewer than two supplies the cadence is unknown."),
    ("Handling", "records past their destroy-by date are left out; the marking is the highest of the records the "
                 "page draws on, the destroy-by date the earliest of theirs; locations are never shown more "
                 f"precisely than a postcode sector or a {CELL_METRES} m grid cell."),
)


# --- periods ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """Whole days from `start` to `end`, both included."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    def each_day(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def label(self) -> str:
        if self.start == self.end:
            return f"{self.start:%a} {self.start.day} {self.start:%b %Y}"
        if self.start.year == self.end.year:
            return f"{self.start.day} {self.start:%b} to {self.end.day} {self.end:%b %Y}"
        return f"{self.start.day} {self.start:%b %Y} to {self.end.day} {self.end:%b %Y}"


def _months_back(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` before the month of `day`."""
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_window(kind: str, day: dt.date) -> Window:
    """The period a briefing for `day` covers (see the module docstring)."""
    if kind == "day":
        return Window(day, day)
    if kind == "week":
        return Window(day - dt.timedelta(days=6), day)
    if kind == "month":
        return Window(day.replace(day=1), day)
    raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {kind!r}")


def baseline_window(kind: str, period: Window) -> Window:
    """The days the period is compared with: 28 days, 12 weeks or 12 calendar months before it."""
    end = period.start - dt.timedelta(days=1)
    if kind == "day":
        return Window(period.start - dt.timedelta(days=28), end)
    if kind == "week":
        return Window(period.start - dt.timedelta(days=84), end)
    if kind == "month":
        return Window(_months_back(period.start, 12), end)
    raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {kind!r}")


def covered_window(baseline: Window, first_day: dt.date | None) -> Window | None:
    """The part of the baseline on or after the first day the feed holds data for (None: no part)."""
    if first_day is None or first_day > baseline.end:
        return None
    return Window(max(baseline.start, first_day), baseline.end)


def expected_count(baseline_count: int, covered: Window | None, period: Window) -> float | None:
    """The baseline's average per day times the days of the period (None without a baseline)."""
    if covered is None:
        return None
    return baseline_count / covered.days * period.days


def daily_counts(days: Iterable[dt.date], window: Window) -> tuple[tuple[dt.date, int], ...]:
    """Records per day for every day of `window`, days with none included (as 0)."""
    counts = Counter(d for d in days if d in window)
    return tuple((day, counts[day]) for day in window.each_day())


# --- the exceedance rule ------------------------------------------------------------------------


def _log_pmf(i: int, mean: float) -> float:
    return -mean + i * math.log(mean) - math.lgamma(i + 1)


def poisson_at_least(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean)."""
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    if k <= mean:
        return max(0.0, 1.0 - poisson_at_most(k - 1, mean))
    total, i = 0.0, k  # the upper tail is the small side: sum it directly
    while True:
        term = math.exp(_log_pmf(i, mean))
        total += term
        if term <= total * 1e-17:
            return min(1.0, total)
        i += 1


def poisson_at_most(k: int, mean: float) -> float:
    """P(X <= k) for X ~ Poisson(mean)."""
    if k < 0:
        return 0.0
    if mean <= 0:
        return 1.0
    if k >= mean:
        return max(0.0, 1.0 - poisson_at_least(k + 1, mean))
    return min(1.0, math.fsum(math.exp(_log_pmf(i, mean)) for i in range(k + 1)))


def change_of(observed: int, expected: float | None) -> tuple[str | None, float | None]:
    """("above" | "below" | None, the tail probability of the direction the count moved in)."""
    if expected is None:
        return None, None
    if observed >= expected:
        p = poisson_at_least(observed, expected)
        return ("above" if observed >= MIN_COUNT and p < ALPHA else None), p
    p = poisson_at_most(observed, expected)
    return ("below" if expected >= MIN_COUNT and p < ALPHA else None), p


@dataclass(frozen=True, slots=True)
class Change:
    """One count of the period against its baseline."""

    label: str
    observed: int
    baseline: int  # records in the covered baseline days
    expected: float | None
    change: str | None  # "above", "below" or None
    p: float | None


def compare(label: str, observed: int, baseline: int, covered: Window | None, period: Window) -> Change:
    expected = expected_count(baseline, covered, period)
    change, p = change_of(observed, expected)
    return Change(label, observed, baseline, expected, change, p)


# --- reading records ----------------------------------------------------------------------------


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


# --- markings -----------------------------------------------------------------------------------


def highest_marking(texts: Iterable[str]) -> str:
    """The highest of the markings (OFFICIAL when there are none); every descriptor carried at that
    classification is kept ("OFFICIAL-SENSITIVE [PERSONAL]"). A marking that cannot be read is refused
    (parse_marking raises): a page is never marked lower than a record it holds."""
    markings = [parse_marking(text) for text in texts]
    if not markings:
        return "OFFICIAL"
    top = max(CLASSIFICATIONS.index(m.classification) for m in markings)
    classification = CLASSIFICATIONS[top]
    descriptors = sorted({m.descriptor for m in markings if m.descriptor is not None},
                         key=DESCRIPTORS.index)
    return classification + "".join(f" [{d}]" for d in descriptors)


# --- the map ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MapCell:
    easting: int  # south-west corner, metres
    northing: int
    count: int  # records in the period
    expected: float | None
    change: str | None
    flagged: int  # records with a flag in the period


@dataclass(frozen=True, slots=True)
class MapLabel:
    sector: str
    easting: float  # the mean position of the sector's records, rounded to the grid cell size
    northing: float
    count: int


@dataclass(frozen=True, slots=True)
class MapData:
    cell: int
    extent: tuple[int, int, int, int]  # min easting, min northing, max easting, max northing (metres)
    cells: tuple[MapCell, ...]
    labels: tuple[MapLabel, ...]
    located: int  # records in the period with coordinates
    unlocated: int  # records in the period without


def grid_cells(points: Iterable[tuple[float, float]], cell: int = CELL_METRES) -> Counter[tuple[int, int]]:
    """Points counted by the south-west corner of the `cell`-metre grid square they fall in."""
    return Counter((int(math.floor(e / cell)) * cell, int(math.floor(n / cell)) * cell) for e, n in points)


# --- supplies and freshness ---------------------------------------------------------------------


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


# --- the briefing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlaggedIncident:
    dataset: str
    date: dt.date
    time: dt.time | None
    category: str
    sector: str | None
    flags: tuple[str, ...]
    originator: str


@dataclass(frozen=True, slots=True)
class Emerging:
    dataset: str  # its title
    kind: str  # "dataset", "category", "sector" or "cell"
    label: str
    observed: int
    expected: float
    p: float


@dataclass(frozen=True, slots=True)
class HandlingNote:
    originator: str
    purposes: tuple[str, ...]
    onward_sharing: str
    destroy_by: dt.date | None  # the earliest of its records'
    records: int


@dataclass(frozen=True)
class DatasetFigures:
    id: str
    title: str
    category_label: str
    covered: Window | None  # the baseline days counted
    total: Change
    categories: tuple[Change, ...]
    sectors: tuple[Change, ...]
    sectors_not_shown: int
    no_sector: int  # records in the period without a postcode sector
    by_day: tuple[tuple[dt.date, int], ...]  # every day of the baseline and the period
    flags: tuple[tuple[str, int], ...]  # flag name, records in the period
    flagged: tuple[FlaggedIncident, ...]
    flagged_not_listed: int
    map: MapData | None
    last_24h: int
    last_24h_untimed: int
    generalised: int  # records in the period moved to a postcode with enough households
    undated: int  # records held with no event date (counted nowhere)


@dataclass(frozen=True)
class Briefing:
    title: str
    prepared_for: str
    generated: dt.datetime
    period_kind: str
    period: Window
    baseline: Window
    areas: tuple[str, ...]
    marking: str
    destroy_by: dt.date | None
    handling: tuple[HandlingNote, ...]
    datasets: tuple[DatasetFigures, ...]
    emerging: tuple[Emerging, ...]
    freshness: tuple[Freshness, ...]
    supplies: tuple[SupplyNote, ...]
    records_used: int  # records the page draws on
    expired: int  # left out: past their destroy-by date
    unknown_dataset: int  # left out: a dataset the catalogue does not know
    period_complete: bool  # False when the period has not ended yet

    @property
    def in_period(self) -> int:
        return sum(d.total.observed for d in self.datasets)

    @property
    def flagged_in_period(self) -> int:
        return sum(len(d.flagged) + d.flagged_not_listed for d in self.datasets)

    @property
    def last_24h(self) -> int:
        return sum(d.last_24h for d in self.datasets)

    @property
    def last_24h_untimed(self) -> int:
        return sum(d.last_24h_untimed for d in self.datasets)


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


def _map(rows: list[_Row], period: Window, baseline: Window, covered: Window | None, cell: int) -> MapData | None:
    in_period = [r for r in rows if r.date in period]
    located = [r for r in rows if r.point is not None and (r.date in period or r.date in baseline)]
    if not located:
        return None
    points = [r.point for r in located if r.point is not None]
    corners = grid_cells(points, cell)
    min_e, min_n = min(e for e, _ in corners), min(n for _, n in corners)
    max_e, max_n = max(e for e, _ in corners) + cell, max(n for _, n in corners) + cell
    now_counts = grid_cells((r.point for r in in_period if r.point is not None), cell)
    base_counts = grid_cells((r.point for r in located
                              if r.point is not None and covered is not None and r.date in covered), cell)
    flagged_counts = grid_cells((r.point for r in in_period if r.point is not None and r.flags), cell)
    cells = []
    for corner in sorted(set(now_counts) | set(flagged_counts)):
        expected = expected_count(base_counts[corner], covered, period)
        change, _ = change_of(now_counts[corner], expected)
        cells.append(MapCell(corner[0], corner[1], now_counts[corner], expected, change, flagged_counts[corner]))
    by_sector: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for r in located:
        if r.sector is not None and r.point is not None:
            by_sector[r.sector].append(r.point)
    period_sectors = Counter(r.sector for r in in_period if r.sector is not None)
    labels = tuple(
        MapLabel(sector, round(statistics.fmean(e for e, _ in points_) / cell) * cell,
                 round(statistics.fmean(n for _, n in points_) / cell) * cell, period_sectors[sector])
        for sector, points_ in sorted(by_sector.items()))
    return MapData(cell=cell, extent=(min_e, min_n, max_e, max_n), cells=tuple(cells), labels=labels,
                   located=sum(1 for r in in_period if r.point is not None),
                   unlocated=sum(1 for r in in_period if r.point is None))


def _dataset_figures(dataset: Dataset, rows: list[_Row], *, period: Window, baseline: Window, first_day: dt.date | None,
                     now: dt.datetime, cell: int) -> tuple[DatasetFigures, list[Emerging]]:
    label, _ = _category_namer(dataset)
    covered = covered_window(baseline, first_day)
    in_period = [r for r in rows if r.date in period]
    in_baseline = [r for r in rows if covered is not None and r.date in covered]

    def changes(key: Callable[[_Row], str | None]) -> list[Change]:
        now_counts = Counter(k for k in map(key, in_period) if k is not None)
        base_counts = Counter(k for k in map(key, in_baseline) if k is not None)
        found = [compare(k, now_counts[k], base_counts[k], covered, period) for k in set(now_counts) | set(base_counts)]
        return sorted(found, key=lambda c: (-c.observed, -(c.expected or 0.0), c.label))

    total = compare("All records", len(in_period), len(in_baseline), covered, period)
    categories = changes(lambda r: r.category)
    sectors_all = changes(lambda r: r.sector)
    shown = [c for c in sectors_all if c.observed > 0][:MAX_SECTORS]
    shown += [c for c in sectors_all if c.change and c not in shown]
    flagged_rows = sorted((r for r in in_period if r.flags), key=lambda r: (r.date or dt.date.min,
                                                                           r.time or dt.time.min), reverse=True)
    flagged = tuple(FlaggedIncident(dataset.id, r.date, r.time, r.category, r.sector, r.flags, r.originator)
                    for r in flagged_rows[:MAX_FLAGGED] if r.date is not None)
    flag_counts = Counter(f for r in in_period for f in r.flags)
    timed, untimed = last_24_hours(((r.date, r.time) for r in rows), now)
    figures = DatasetFigures(
        id=dataset.id, title=dataset.title, category_label=label, covered=covered, total=total,
        categories=tuple(categories), sectors=tuple(shown),
        sectors_not_shown=sum(1 for c in sectors_all if c.observed > 0 and c not in shown),
        no_sector=sum(1 for r in in_period if r.sector is None),
        by_day=daily_counts((r.date for r in rows if r.date is not None), Window(baseline.start, period.end)),
        flags=tuple(sorted(((_flag_name(f.name), flag_counts[_flag_name(f.name)]) for f in dataset.flag_fields),
                           key=lambda kv: (-kv[1], kv[0]))),
        flagged=flagged, flagged_not_listed=len(flagged_rows) - len(flagged),
        map=_map(rows, period, baseline, covered, cell), last_24h=timed, last_24h_untimed=untimed,
        generalised=sum(1 for r in in_period if r.record.get("location_generalised") is True),
        undated=sum(1 for r in rows if r.date is None))
    emerging = [Emerging(dataset.title, kind, c.label, c.observed, c.expected, c.p)
                for kind, found in (("dataset", [total]), ("category", categories), ("sector", sectors_all))
                for c in found if c.change == "above" and c.expected is not None and c.p is not None]
    if figures.map is not None:
        emerging += [Emerging(dataset.title, "cell", f"{cell} m cell at {c.easting} E, {c.northing} N", c.count,
                              c.expected, change_of(c.count, c.expected)[1] or 0.0)
                     for c in figures.map.cells if c.change == "above" and c.expected is not None]
    return figures, emerging


def build_briefing(catalogue: Catalogue, records: Iterable[Mapping[str, Any]],
                   supplies: Iterable[Mapping[str, Any]] = (), *, day: dt.date, period: str = "day",
                   areas: Sequence[str] = (), now: dt.datetime, title: str = "Partnership briefing",
                   prepared_for: str = "", cell: int = CELL_METRES) -> Briefing:
    """The briefing for the `period` ending on `day`, from a feed's records (as FeedStore.records
    gives them: the shared record with its `dataset` and `marking`) and supply metadata (as
    FeedStore.supplies gives them), at the moment `now` (timezone-aware; naive is read as UTC)."""
    now = _aware(now)
    areas = tuple(parse_area(a) for a in areas)
    window = period_window(period, day)
    base = baseline_window(period, window)
    today = now.replace(tzinfo=None).date()
    supplies = [dict(s) for s in supplies]
    by_dataset: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    expired = unknown = 0
    for record in records:
        destroy_by = _date((record.get("handling") or {}).get("destroy_by"))
        if destroy_by is not None and destroy_by < today:
            expired += 1
        elif str(record.get("dataset")) not in catalogue:
            unknown += 1
        else:
            by_dataset[str(record["dataset"])].append(record)

    figures: list[DatasetFigures] = []
    emerging: list[Emerging] = []
    used: list[_Row] = []
    freshness: list[Freshness] = []
    supplied: dict[tuple[str, str], list[dt.datetime]] = defaultdict(list)
    for supply in supplies:
        moment = _moment(supply.get("date_supplied"))
        if moment is not None:
            supplied[(str(supply.get("agency") or "(unknown)"), str(supply.get("dataset") or ""))].append(moment)
    held: dict[tuple[str, str], list[_Row]] = defaultdict(list)
    for dataset_id in sorted(set(by_dataset) | {d for _, d in supplied if d in catalogue}):
        dataset = catalogue[dataset_id]
        all_rows = _rows(dataset, by_dataset.get(dataset_id, []))
        rows = [r for r in all_rows if in_areas(r.sector, areas)]
        starts = [r.date for r in all_rows if r.date is not None]
        starts += [d for s in supplies if s.get("dataset") == dataset_id
                   for d in [_date(s.get("period_start"))] if d is not None]
        figure, found = _dataset_figures(dataset, rows, period=window, baseline=base,
                                         first_day=min(starts) if starts else None, now=now, cell=cell)
        figures.append(figure)
        emerging += found
        used += rows
        for r in rows:
            held[(r.originator, dataset_id)].append(r)
    for agency, dataset_id in sorted(set(held) | set(supplied)):
        rows = held.get((agency, dataset_id), [])
        last, usual, late, since = supply_freshness(supplied.get((agency, dataset_id), []), now)
        freshness.append(Freshness(agency, dataset_id, len(rows), max((r.date for r in rows if r.date), default=None),
                                   len(supplied.get((agency, dataset_id), [])), last, usual, late, since))

    handling: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in used:
        handling[r.originator].append(r.record.get("handling") or {})
    notes = tuple(HandlingNote(
        originator=originator,
        purposes=tuple(sorted({str(h.get("permitted_purpose")) for h in items if h.get("permitted_purpose")})),
        onward_sharing="; ".join(sorted({str(h.get("onward_sharing")) for h in items if h.get("onward_sharing")}))
        or f"No onward sharing without the consent of {originator}",
        destroy_by=min((d for h in items for d in [_date(h.get("destroy_by"))] if d), default=None),
        records=len(items)) for originator, items in sorted(handling.items()))
    markings = [str(r.record["marking"]) for r in used if r.record.get("marking")]
    markings += [str(h["marking"]) for r in used for h in [r.record.get("handling") or {}] if h.get("marking")]
    notes_by_time = sorted((_supply_note(s) for s in supplies),
                           key=lambda n: n.supplied or dt.datetime.min.replace(tzinfo=dt.UTC), reverse=True)
    return Briefing(
        title=title, prepared_for=prepared_for, generated=now, period_kind=period, period=window, baseline=base,
        areas=areas, marking=highest_marking(markings),
        destroy_by=min((n.destroy_by for n in notes if n.destroy_by), default=None), handling=notes,
        datasets=tuple(sorted(figures, key=lambda f: (-f.total.observed, f.id))),
        emerging=tuple(sorted(emerging, key=lambda e: (e.p, -e.observed, e.dataset, e.label))),
        freshness=tuple(freshness), supplies=tuple(notes_by_time), records_used=len(used), expired=expired,
        unknown_dataset=unknown, period_complete=window.end < today)
