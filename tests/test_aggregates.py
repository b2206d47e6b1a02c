"""Aggregates for tier 3: where a record counts, and the suppression rule (exchange.core.aggregates)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.core.aggregates import (
    NO_AREA,
    Contribution,
    contribution,
    last_year,
    suppress,
    tabulate,
)
from exchange.core.schemas import catalogue

OFFENCE = catalogue()["police_crime_offence"]


def _lines(table):
    """Every additive line of the published table, as the list of its entries."""
    lines = [[table.cells[(a, c)] for c in table.categories] + [table.area_totals[a]] for a in table.areas]
    lines += [[table.cells[(a, c)] for a in table.areas] + [table.category_totals[c]] for c in table.categories]
    lines.append([table.category_totals[c] for c in table.categories] + [table.total])
    lines.append([table.area_totals[a] for a in table.areas] + [table.total])
    return lines


def test_a_record_counts_in_its_month_sector_and_category():
    record = {"committed_from_date": dt.date(2026, 3, 9), "postcode": "NX1 2AB", "offence_code": "28/3"}
    assert contribution(OFFENCE, record) == Contribution("police_crime_offence", "2026-03", "NX1 2", "28/3")
    assert contribution(OFFENCE, {**record, "postcode": None}).area == NO_AREA
    assert contribution(OFFENCE, {**record, "committed_from_date": None}) is None
    assert last_year("2026-03") == "2025-03"


def test_small_counts_are_suppressed_and_a_lone_one_gets_a_companion():
    counts = {("A", "x"): 3, ("A", "y"): 10, ("B", "x"): 12, ("B", "y"): 20}
    table = suppress(counts)
    assert table.cells[("A", "x")] is None
    # Row A (3 + 10 = 13) and column x (3 + 12 = 15) would each give the 3 away: a second entry in
    # each goes, and then their lines need a companion too, until no line holds exactly one.
    for line in _lines(table):
        assert sum(v is None for v in line) != 1
    assert table.total == 45 and table.shown(None) == "<5"


def test_nothing_is_suppressed_when_every_count_is_large_or_zero():
    table = suppress({("A", "x"): 0, ("A", "y"): 7, ("B", "x"): 9, ("B", "y"): 5})
    assert table.suppressed_count() == 0 and table.area_totals == {"A": 7, "B": 14} and table.total == 21


def test_a_small_total_is_suppressed_with_its_cells():
    table = suppress({("A", "x"): 1, ("A", "y"): 2, ("B", "x"): 30, ("B", "y"): 40})
    assert table.area_totals["A"] is None and table.cells[("A", "x")] is None and table.cells[("A", "y")] is None


def test_tabulate_counts_one_dataset_and_month():
    items = [Contribution("d", "2026-01", "S1", "c"), Contribution("d", "2026-01", "S1", "c"),
             Contribution("d", "2026-02", "S1", "c"), Contribution("e", "2026-01", "S1", "c")]
    assert tabulate(items, "d", "2026-01") == {("S1", "c"): 2}


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.tuples(st.sampled_from("ABCDE"), st.sampled_from("vwxyz")), st.integers(0, 40),
                       min_size=1, max_size=25),
       st.integers(2, 10))
def test_no_line_ever_reveals_a_suppressed_entry(counts, threshold):
    table = suppress(counts, threshold)
    truth = {(a, c): counts.get((a, c), 0) for a in table.areas for c in table.categories}
    for key, value in table.cells.items():
        assert value is None or value == truth[key], "a published count is the true count"
        if 0 < truth[key] < threshold:
            assert value is None, "every small count is suppressed"
    for line in _lines(table):
        assert sum(v is None for v in line) != 1, "one suppressed entry in a line is its total minus the rest"
    for area, total in table.area_totals.items():
        true_total = sum(truth[(area, c)] for c in table.categories)
        assert total is None or total == true_total
        assert not (0 < true_total < threshold) or total is None
