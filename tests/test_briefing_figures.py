"""The briefing's figures (exchange.core.briefing), each against numbers worked out by hand: periods
and their boundaries, baselines, every day present (zeros too), the Poisson exceedance rule both
ways, the last 24 hours exactly, markings, the grid, supply cadence, and the whole build."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from exchange.core.briefing import (
    Window,
    baseline_window,
    build_briefing,
    change_of,
    compare,
    covered_window,
    daily_counts,
    expected_count,
    grid_cells,
    highest_marking,
    in_areas,
    last_24_hours,
    parse_area,
    period_window,
    poisson_at_least,
    poisson_at_most,
    supply_freshness,
)
from exchange.core.schemas import catalogue
from exchange.errors import Refused

D = dt.date(2026, 3, 4)  # a Wednesday
UTC = dt.UTC


def _day(offset: int) -> dt.date:
    return D + dt.timedelta(days=offset)


# --- periods and baselines -----------------------------------------------------------------------


def test_a_day_is_the_day_and_its_baseline_the_28_days_before():
    period = period_window("day", D)
    assert (period.start, period.end, period.days) == (D, D, 1)
    baseline = baseline_window("day", period)
    assert (baseline.start, baseline.end, baseline.days) == (dt.date(2026, 2, 4), dt.date(2026, 3, 3), 28)


def test_a_week_is_the_7_days_ending_on_the_date_and_its_baseline_the_12_weeks_before():
    period = period_window("week", D)
    assert (period.start, period.end, period.days) == (dt.date(2026, 2, 26), D, 7)
    baseline = baseline_window("week", period)
    assert (baseline.start, baseline.end, baseline.days) == (dt.date(2025, 12, 4), dt.date(2026, 2, 25), 84)


def test_a_month_is_the_calendar_month_up_to_the_date_and_its_baseline_the_12_months_before():
    period = period_window("month", dt.date(2026, 3, 15))
    assert (period.start, period.end, period.days) == (dt.date(2026, 3, 1), dt.date(2026, 3, 15), 15)
    baseline = baseline_window("month", period)
    assert (baseline.start, baseline.end, baseline.days) == (dt.date(2025, 3, 1), dt.date(2026, 2, 28), 365)
    # January: the baseline reaches back into the year before last's January.
    january = period_window("month", dt.date(2026, 1, 31))
    assert (january.start, january.days) == (dt.date(2026, 1, 1), 31)
    assert baseline_window("month", january) == Window(dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def test_an_unknown_period_is_refused():
    with pytest.raises(ValueError, match="day, week, month"):
        period_window("fortnight", D)


def test_window_boundaries_are_both_included():
    week = Window(_day(-6), D)
    assert _day(-6) in week and D in week
    assert _day(-7) not in week and _day(1) not in week and None not in week
    assert week.each_day()[0] == _day(-6) and week.each_day()[-1] == D and len(week.each_day()) == 7


def test_the_baseline_covers_only_the_days_the_feed_holds_data_for():
    baseline = Window(dt.date(2026, 2, 4), dt.date(2026, 3, 3))
    assert covered_window(baseline, dt.date(2026, 1, 1)) == baseline
    assert covered_window(baseline, dt.date(2026, 2, 22)) == Window(dt.date(2026, 2, 22), dt.date(2026, 3, 3))
    assert covered_window(baseline, dt.date(2026, 3, 4)) is None  # data starts in the period: no baseline
    assert covered_window(baseline, None) is None


def test_expected_is_the_baseline_average_per_day_times_the_days_of_the_period():
    day, week = Window(D, D), Window(_day(-6), D)
    assert expected_count(56, Window(_day(-28), _day(-1)), day) == 2.0  # 56 in 28 days
    assert expected_count(84, Window(_day(-90), _day(-7)), week) == 7.0  # 84 in 12 weeks: 7 a week
    assert expected_count(20, Window(_day(-10), _day(-1)), day) == 2.0  # only 10 days covered
    month = Window(dt.date(2026, 3, 1), dt.date(2026, 3, 15))
    assert expected_count(730, Window(dt.date(2025, 3, 1), dt.date(2026, 2, 28)), month) == 30.0  # 2 a day, 15 days
    assert expected_count(5, None, day) is None


def test_every_day_is_counted_days_with_no_record_as_zero():
    dates = [_day(-3), _day(-3), _day(-1), _day(-9), _day(1)]  # the last two are outside the window
    assert daily_counts(dates, Window(_day(-3), D)) == (
        (_day(-3), 2), (_day(-2), 0), (_day(-1), 1), (D, 0))


# --- the exceedance rule -----------------------------------------------------------------------


def test_poisson_tails_match_hand_computed_values():
    # P(X >= 5 | 2) = 1 - e^-2 (1 + 2 + 2 + 4/3 + 2/3) = 1 - 7 e^-2
    assert poisson_at_least(5, 2.0) == pytest.approx(1 - 7 * math.exp(-2), abs=1e-12)
    assert poisson_at_least(5, 2.0) == pytest.approx(0.052653, abs=1e-6)
    assert poisson_at_least(6, 2.0) == pytest.approx(0.016564, abs=1e-6)
    # P(X <= 4 | 10) = e^-10 (1 + 10 + 50 + 1000/6 + 10000/24)
    assert poisson_at_most(4, 10.0) == pytest.approx(math.exp(-10) * (1 + 10 + 50 + 1000 / 6 + 10000 / 24), rel=1e-12)
    assert poisson_at_most(4, 10.0) == pytest.approx(0.029253, abs=1e-6)
    assert poisson_at_most(5, 10.0) == pytest.approx(0.067086, abs=1e-6)
    assert poisson_at_least(0, 3.0) == 1.0 and poisson_at_least(1, 0.0) == 0.0 and poisson_at_most(0, 0.0) == 1.0
    # Both tails of one distribution add up to 1 (with the point between them counted once).
    for k in (0, 3, 30, 1100):
        mean = 1000.0 if k == 1100 else 4.5
        assert poisson_at_least(k, mean) + poisson_at_most(k - 1, mean) == pytest.approx(1.0, abs=1e-12)


def test_a_rise_is_flagged_only_when_its_probability_is_below_005_and_at_least_5_were_seen():
    assert change_of(5, 2.0) == (None, pytest.approx(0.052653, abs=1e-6))  # p just above 0.05
    assert change_of(6, 2.0) == ("above", pytest.approx(0.016564, abs=1e-6))
    change, p = change_of(4, 0.5)  # very unlikely, but only 4
    assert change is None and p < 0.002
    assert change_of(5, 0.0) == ("above", 0.0)  # five where there were none
    assert change_of(3, 3.0)[0] is None


def test_a_fall_is_flagged_only_when_its_probability_is_below_005_and_at_least_5_were_expected():
    assert change_of(4, 10.0) == ("below", pytest.approx(0.029253, abs=1e-6))
    assert change_of(5, 10.0) == (None, pytest.approx(0.067086, abs=1e-6))
    change, p = change_of(0, 4.0)  # P = e^-4 = 0.018, but fewer than 5 expected
    assert change is None and p == pytest.approx(math.exp(-4))


def test_without_a_baseline_nothing_is_tested():
    assert change_of(50, None) == (None, None)
    row = compare("Shoplifting", 50, 0, None, Window(D, D))
    assert (row.expected, row.change, row.p) == (None, None, None)


# --- the last 24 hours -------------------------------------------------------------------------


def test_the_last_24_hours_are_exactly_the_24_hours_before_now():
    now = dt.datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    moments = [
        (dt.date(2026, 3, 4), dt.time(9, 0)),  # exactly 24 h ago: out
        (dt.date(2026, 3, 4), dt.time(9, 1)),  # in
        (dt.date(2026, 3, 5), dt.time(9, 0)),  # now: in
        (dt.date(2026, 3, 5), dt.time(9, 1)),  # after now: out
        (dt.date(2026, 3, 4), dt.time(0, 30)),  # yesterday, but 32 h ago: out (was "in" before)
        (dt.date(2026, 3, 3), dt.time(23, 0)),  # out
        (dt.date(2026, 3, 4), None),  # no time, on a day the window touches: apart
        (dt.date(2026, 3, 5), None),  # the same
        (dt.date(2026, 3, 3), None),  # no time, a day the window does not touch: nowhere
        (None, dt.time(10, 0)),  # no date: nowhere
    ]
    assert last_24_hours(moments, now) == (2, 2)


def test_the_last_24_hours_read_now_as_its_own_wall_clock():
    summer = dt.timezone(dt.timedelta(hours=1))  # BST: records carry local times
    now = dt.datetime(2026, 7, 1, 0, 30, tzinfo=summer)
    assert last_24_hours([(dt.date(2026, 6, 30), dt.time(0, 45)), (dt.date(2026, 6, 30), dt.time(0, 15))],
                         now) == (1, 0)


# --- markings, areas, grid, supplies ---------------------------------------------------------


def test_the_highest_marking_keeps_its_descriptors():
    assert highest_marking([]) == "OFFICIAL"
    assert highest_marking(["OFFICIAL", "official"]) == "OFFICIAL"
    assert highest_marking(["OFFICIAL", "OFFICIAL-SENSITIVE", "OFFICIAL"]) == "OFFICIAL-SENSITIVE"
    # max() over Marking values cannot order these two (a descriptor against none); this can.
    assert highest_marking(["OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE [PERSONAL]"]) == "OFFICIAL-SENSITIVE [PERSONAL]"
    assert highest_marking(["OFFICIAL-SENSITIVE [COMMERCIAL]", "OFFICIAL-SENSITIVE [PERSONAL]"]) == \
        "OFFICIAL-SENSITIVE [PERSONAL] [COMMERCIAL]"


def test_a_marking_that_cannot_be_read_is_refused_not_ignored():
    with pytest.raises(Refused):
        highest_marking(["OFFICIAL", "SECRET"])
    with pytest.raises(Refused):
        highest_marking(["OFFICIAL", "PINK"])


def test_areas_are_sectors_or_districts():
    assert parse_area(" nx1   2 ") == "NX1 2" and parse_area("nx1") == "NX1" and parse_area("CV32") == "CV32"
    for bad in ("NX1 2AB", "1NX", "", "NX1 22", "NX1-2"):
        with pytest.raises(ValueError):
            parse_area(bad)
    assert in_areas("NX1 2", ["NX1"]) and in_areas("NX1 2", ["NX1 2"]) and in_areas("NX1 2", [])
    assert not in_areas("NX1 2", ["NX1 3"]) and not in_areas("NX12 2", ["NX1"]) and not in_areas(None, ["NX1"])
    assert in_areas(None, [])


def test_points_are_counted_by_the_south_west_corner_of_their_cell():
    cells = grid_cells([(250.0, 499.0), (499.9, 250.0), (500.0, 250.0), (-1.0, 0.0), (428_010.0, 290_260.0)], 250)
    assert cells == {(250, 250): 2, (500, 250): 1, (-250, 0): 1, (428_000, 290_250): 1}


def test_a_supply_is_late_after_twice_its_usual_interval():
    daily = [dt.datetime(2026, 3, d, 6, 0, tzinfo=UTC) for d in (1, 2, 3)]
    last, usual, late, since = supply_freshness(daily, dt.datetime(2026, 3, 5, 7, 0, tzinfo=UTC))
    assert (last, usual, late, since) == (daily[-1], dt.timedelta(days=1), True, dt.timedelta(days=2, hours=1))
    assert supply_freshness(daily, dt.datetime(2026, 3, 5, 5, 0, tzinfo=UTC))[2] is False  # 47 h: not yet
    assert supply_freshness(daily, dt.datetime(2026, 3, 5, 6, 0, tzinfo=UTC))[2] is False  # exactly 2 x: not late
    # The median, not the mean: one long gap does not stretch the cadence.
    uneven = [dt.datetime(2026, 3, d, 6, 0, tzinfo=UTC) for d in (1, 2, 3, 10)]
    assert supply_freshness(uneven, dt.datetime(2026, 3, 12, 7, 0, tzinfo=UTC))[1:3] == (dt.timedelta(days=1), True)


def test_supplies_less_than_an_hour_apart_are_one_and_a_single_supply_has_no_cadence():
    resent = [dt.datetime(2026, 3, 1, 6, 0, tzinfo=UTC), dt.datetime(2026, 3, 1, 6, 10, tzinfo=UTC)]
    last, usual, late, _ = supply_freshness(resent, dt.datetime(2026, 3, 30, tzinfo=UTC))
    assert (last, usual, late) == (resent[1], None, False)
    assert supply_freshness([], dt.datetime(2026, 3, 30, tzinfo=UTC)) == (None, None, False, None)
    naive = supply_freshness([dt.datetime(2026, 3, 1, 6, 0)], dt.datetime(2026, 3, 1, 7, 0, tzinfo=UTC))
    assert naive[3] == dt.timedelta(hours=1)  # a naive time is read as UTC


# --- the whole briefing --------------------------------------------------------------------------

CATALOGUE = catalogue()


def crime(day: dt.date, code: str, *, time: str | None = None, postcode: str = "NX1 1AB", flags: tuple[str, ...] = (),
          marking: str = "OFFICIAL", destroy_by: dt.date | None = None, originator: str = "northshire-police",
          easting: float = 428_100.0, northing: float = 290_100.0) -> dict:
    """A police_crime_offence record as a feed store gives it (shared form, JSON types)."""
    record = {"dataset": "police_crime_offence", "marking": marking, "offence_code": code,
              "committed_from_date": day.isoformat(), "committed_from_time": time, "postcode": postcode,
              "easting": easting, "northing": northing, "location_generalised": False,
              "handling": {"marking": marking, "originator": originator, "permitted_purpose": "Daily tasking",
                           "onward_sharing": f"No onward sharing without the consent of {originator}",
                           "destroy_by": (destroy_by or dt.date(2029, 3, 1)).isoformat(), "record_key": "PS-X"}}
    for flag in ("distraction_burglary", "drugs", "alcohol", "racially_motivated", "domestic"):
        record[f"flag_{flag}"] = flag in flags
    return record


def known_records() -> list[dict]:
    """On D: six residential burglaries in NX1 1 and one shoplifting in NX2 2 (flagged alcohol), one robbery
    past its destroy-by date. Before: a burglary and two shopliftings every day of the 28-day baseline but
    D-10 (a day with none), and one shoplifting the day before the baseline."""
    records = [crime(D, "28/3", time=t) for t in ("08:00:00", "10:00:00", "12:00:00", "18:00:00", "22:00:00",
                                                  "23:59:00")]
    records.append(crime(D, "46/0", time="14:30:00", postcode="NX2 2AB", flags=("alcohol",), easting=431_300.0,
                         northing=289_400.0))
    records.append(crime(D, "34/1", time="15:00:00", destroy_by=_day(-1)))
    for offset in range(-28, 0):
        if offset == -10:
            continue
        records.append(crime(_day(offset), "28/3", marking="OFFICIAL-SENSITIVE" if offset == -20 else "OFFICIAL"))
        records += [crime(_day(offset), "46/0", postcode="NX2 2AB") for _ in range(2)]
    records.append(crime(_day(-29), "46/0", postcode="NX2 2AB"))
    return records


NOW = dt.datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


def test_the_briefing_counts_the_period_against_its_baseline():
    b = build_briefing(CATALOGUE, known_records(), day=D, period="day", now=NOW)
    assert (b.period, b.baseline) == (Window(D, D), Window(_day(-28), _day(-1)))
    (figures,) = b.datasets
    assert figures.covered == Window(_day(-28), _day(-1))  # data held from D-29
    assert figures.total.observed == 7 and figures.total.baseline == 81
    assert figures.total.expected == pytest.approx(81 / 28)
    rows = {c.label: c for c in figures.categories}
    assert set(rows) == {"Burglary - residential", "Shoplifting"}  # the expired robbery is left out
    burglary, shoplifting = rows["Burglary - residential"], rows["Shoplifting"]
    assert (burglary.observed, burglary.baseline, burglary.change) == (6, 27, "above")
    assert burglary.expected == pytest.approx(27 / 28) and burglary.p == pytest.approx(poisson_at_least(6, 27 / 28))
    assert (shoplifting.observed, shoplifting.baseline, shoplifting.change) == (1, 54, None)
    assert figures.total.change == "above"  # P(X >= 7 | 2.893) = 0.027
    assert b.expired == 1 and b.records_used == 7 + 81 + 1
    assert [c.label for c in figures.sectors] == ["NX1 1", "NX2 2"]
    assert {e.label for e in b.emerging} >= {"Burglary - residential", "NX1 1", "All records"}


def test_every_day_of_baseline_and_period_is_present_zeros_included():
    (figures,) = build_briefing(CATALOGUE, known_records(), day=D, period="day", now=NOW).datasets
    days = dict(figures.by_day)
    assert list(days) == Window(_day(-28), D).each_day()
    assert days[_day(-10)] == 0 and days[_day(-11)] == 3 and days[D] == 7
    assert sum(days.values()) == 88


def test_flagged_incidents_are_listed_no_more_precisely_than_the_sector():
    (figures,) = build_briefing(CATALOGUE, known_records(), day=D, period="day", now=NOW).datasets
    (incident,) = figures.flagged
    assert (incident.date, incident.time, incident.category, incident.sector, incident.flags) == \
        (D, dt.time(14, 30), "Shoplifting", "NX2 2", ("alcohol",))
    assert dict(figures.flags) == {"alcohol": 1, "distraction burglary": 0, "drugs": 0, "racially motivated": 0,
                                   "domestic": 0}


def test_the_last_24_hours_of_the_whole_briefing():
    b = build_briefing(CATALOGUE, known_records(), day=D, period="day", now=NOW)
    # On D after 09:00: burglaries at 10, 12, 18, 22, 23:59 and the shoplifting at 14:30; not 08:00.
    assert (b.last_24h, b.last_24h_untimed) == (6, 0)


def test_period_boundaries_decide_where_a_record_counts():
    records = [crime(_day(-6), "46/0"), crime(D, "46/0"), crime(_day(-7), "46/0"), crime(_day(1), "46/0"),
               crime(_day(-90), "46/0"), crime(_day(-91), "46/0")]
    (figures,) = build_briefing(CATALOGUE, records, day=D, period="week", now=NOW).datasets
    # the week is D-6..D; its baseline D-90..D-7 (84 days, all covered: data from D-91)
    assert figures.total.observed == 2 and figures.total.baseline == 2
    assert figures.total.expected == pytest.approx(2 / 84 * 7)
    assert figures.covered == Window(_day(-90), _day(-7))


def test_the_marking_is_the_highest_drawn_on_and_the_destroy_by_the_earliest():
    b = build_briefing(CATALOGUE, known_records(), day=D, period="day", now=NOW)
    assert b.marking == "OFFICIAL-SENSITIVE"
    assert b.destroy_by == dt.date(2029, 3, 1)
    (note,) = b.handling
    assert note.originator == "northshire-police" and note.purposes == ("Daily tasking",)
    assert note.onward_sharing == "No onward sharing without the consent of northshire-police"


def test_an_area_keeps_only_its_records():
    b = build_briefing(CATALOGUE, known_records(), day=D, period="day", now=NOW, areas=["nx2"])
    (figures,) = b.datasets
    assert b.areas == ("NX2",) and figures.total.observed == 1 and figures.total.baseline == 54
    assert [c.label for c in figures.categories] == ["Shoplifting"]
    assert b.marking == "OFFICIAL"  # the OFFICIAL-SENSITIVE burglary lies outside the area


def test_the_baseline_starts_where_the_data_held_starts():
    records = [crime(D, "46/0")] + [crime(_day(offset), "46/0") for offset in (-5, -4, -4, -3, -1)]
    (figures,) = build_briefing(CATALOGUE, records, day=D, period="day", now=NOW).datasets
    assert figures.covered == Window(_day(-5), _day(-1))  # 5 days covered, 5 records: 1 a day
    assert figures.total.expected == pytest.approx(1.0)
    supply = {"dataset": "police_crime_offence", "agency": "northshire-police", "period_start": _day(-20).isoformat(),
              "date_supplied": "2026-03-04T06:00:00+00:00"}
    (figures,) = build_briefing(CATALOGUE, records, [supply], day=D, period="day", now=NOW).datasets
    assert figures.covered == Window(_day(-20), _day(-1)) and figures.total.expected == pytest.approx(5 / 20)


def test_freshness_and_supplies_per_agency_and_dataset():
    supplies = [{"dataset": "police_crime_offence", "agency": "northshire-police", "supplier_contact": "Analysis Unit",
                 "period_start": _day(-28).isoformat(), "period_end": _day(-offset).isoformat(),
                 "number_of_records": 10, "records_rejected": 1, "caveats": "Provisional",
                 "date_supplied": f"2026-03-0{4 - offset}T06:00:00+00:00"} for offset in (2, 1, 0)]
    supplies.append({"dataset": "council_asb", "agency": "northshire-council", "period_start": None,
                     "date_supplied": "2026-02-20T06:00:00+00:00"})
    b = build_briefing(CATALOGUE, known_records(), supplies, day=D, period="day", now=NOW)
    fresh = {(f.agency, f.dataset): f for f in b.freshness}
    police = fresh[("northshire-police", "police_crime_offence")]
    assert (police.records, police.newest_record, police.supplies, police.usual_interval, police.late) == \
        (89, D, 3, dt.timedelta(days=1), False)
    council = fresh[("northshire-council", "council_asb")]
    assert (council.records, council.supplies, council.usual_interval, council.late) == (0, 1, None, False)
    assert [s.agency for s in b.supplies] == ["northshire-police"] * 3 + ["northshire-council"]
    assert b.supplies[0].caveats == "Provisional" and b.supplies[0].rejected == 1
    # busiest first; a dataset supplied is briefed on even with no record
    assert [d.id for d in b.datasets] == ["police_crime_offence", "council_asb"]


def test_records_of_a_dataset_this_version_does_not_know_are_left_out():
    b = build_briefing(CATALOGUE, [crime(D, "46/0"), {"dataset": "martian_crime", "marking": "OFFICIAL"}],
                       day=D, period="day", now=NOW)
    assert b.unknown_dataset == 1 and b.in_period == 1


@pytest.mark.parametrize("dataset", [d.id for d in CATALOGUE])
def test_any_dataset_can_be_briefed_on(dataset, gazetteer):
    """Every schema's event date, category, flags and location are read from the schema itself."""
    from exchange.testing.records import records_for

    spec = CATALOGUE[dataset]
    records = []
    for record in records_for(spec, gazetteer, 30, seed=3, today=D):
        shared = {k: (v.isoformat() if isinstance(v, (dt.date, dt.time)) else v) for k, v in record.items()}
        shared.update(dataset=dataset, marking="OFFICIAL-SENSITIVE [PERSONAL]" if spec.personal else "OFFICIAL",
                      handling={"originator": "agency", "destroy_by": "2030-01-01"})
        records.append(shared)
    b = build_briefing(CATALOGUE, records, day=_day(-1), period="month", now=NOW)
    (figures,) = b.datasets
    assert sum(c for _, c in figures.by_day) == 30  # records_for dates fall in the 28 days before D
    assert figures.total.observed == sum(c for d, c in figures.by_day if d in b.period)
    assert sum(c.observed for c in figures.categories) == figures.total.observed
