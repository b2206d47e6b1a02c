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

The parts live in private modules, re-exported here: _briefing_stats (periods, baselines, the
exceedance rule), _briefing_records (reading a record through its schema), _briefing_map (grid
cells) and _briefing_freshness (supplies, cadence, lateness). This module keeps the rules as the
page states them, the markings and the Briefing itself.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from exchange.core._briefing_freshness import (
    LATE_FACTOR,
    Freshness,
    SupplyNote,
    _aware,
    _moment,
    _supply_note,
    supply_freshness,
)
from exchange.core._briefing_map import CELL_METRES, MapCell, MapData, MapLabel, _map, grid_cells
from exchange.core._briefing_records import (
    _category_namer,
    _date,
    _flag_name,
    _Row,
    _rows,
    event_moment,
    in_areas,
    last_24_hours,
    parse_area,
)
from exchange.core._briefing_stats import (
    ALPHA,
    MIN_COUNT,
    PERIODS,
    Change,
    Window,
    baseline_window,
    change_of,
    compare,
    covered_window,
    daily_counts,
    expected_count,
    period_window,
    poisson_at_least,
    poisson_at_most,
)
from exchange.core.marking import CLASSIFICATIONS, DESCRIPTORS, parse_marking
from exchange.core.schemas import Catalogue, Dataset

__all__ = [
    "ALPHA", "BASELINE_TEXT", "CELL_METRES", "LATE_FACTOR", "MIN_COUNT", "PERIODS", "RULES", "Briefing", "Change",
    "DatasetFigures", "Emerging", "FlaggedIncident", "Freshness", "HandlingNote", "MapCell", "MapData", "MapLabel",
    "SupplyNote", "Window", "baseline_window", "build_briefing", "change_of", "compare", "covered_window",
    "daily_counts", "event_moment", "expected_count", "grid_cells", "highest_marking", "in_areas", "last_24_hours",
    "parse_area", "period_window", "poisson_at_least", "poisson_at_most", "supply_freshness",
]

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
