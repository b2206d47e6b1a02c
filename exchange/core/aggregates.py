"""Aggregates for scrutiny (tier 3) and performance monitoring: counts by dataset, month, area and
category, with small numbers suppressed. Pure: contributions in, suppressed tables out.

Each released record of a depersonalised dataset contributes one count to (month of its event
date, postcode sector of its shared location, category); a correction moves its contribution and
a withdrawal removes it (contributions are kept per record key, see the sanitiser).

Suppression (the rule, stated once):

1. Primary: a count from 1 to `threshold - 1` is shown as "<threshold" ("<5" by default); so is a
   row, column or grand total in that range. Zeros are shown.
2. Secondary: the table is read as lines, each an additive relation: every row (its cells and
   its total), every column (its cells and its total), the row of column totals with the grand
   total, and the column of row totals with the grand total. No line may hold exactly one
   suppressed entry, since that entry would then be its line's total minus the rest. While one
   does, the smallest other positive entry of that line is suppressed too (a cell before a
   total; a zero only when nothing else is left).

This stops the single-equation disclosure that totals invite; it is the common "at least two per
line" heuristic, not a proof against every combination of lines (an analyst who needs that uses
the statistical disclosure control tools the ONS publishes). The same period a year earlier is
tabulated and suppressed the same way, on its own.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from exchange.core.postcode import postcode_sector
from exchange.core.schemas import Dataset
from exchange.errors import InvalidPostcode

__all__ = [
    "DEFAULT_THRESHOLD", "NO_AREA", "NO_CATEGORY", "RULE", "Contribution", "SuppressedTable", "Tally",
    "aggregate_table", "contribution", "last_year", "month_of", "suppress", "tabulate",
]

DEFAULT_THRESHOLD = 5
NO_AREA = "(no location)"
NO_CATEGORY = "(not recorded)"


@dataclass(frozen=True, slots=True)
class Tally:
    """What one released record (or its withdrawal, `contribution` None) does to the counts:
    keyed by its record key, so a correction moves its count and a withdrawal removes it."""

    dataset: str
    record_key: str
    contribution: Contribution | None
    marking: str


@dataclass(frozen=True, slots=True)
class Contribution:
    """Where one record counts: (dataset, month "YYYY-MM", postcode sector, category)."""

    dataset: str
    month: str
    area: str
    category: str


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def last_year(month: str) -> str:
    year, number = month.split("-")
    return f"{int(year) - 1:04d}-{number}"


def contribution(dataset: Dataset, record: Mapping[str, Any]) -> Contribution | None:
    """Where a shared (already depersonalised) record counts; None without an event date."""
    day = record.get(dataset.event_date_field)
    if not isinstance(day, dt.date):
        return None
    try:
        area = postcode_sector(record.get("postcode") or "")
    except InvalidPostcode:
        area = NO_AREA
    category = record.get(dataset.category_field) if dataset.category_field else None
    return Contribution(dataset.id, month_of(day), area, str(category) if category not in (None, "") else NO_CATEGORY)


def tabulate(contributions: Iterable[Contribution], dataset: str, month: str) -> Counter[tuple[str, str]]:
    """Counts per (area, category) of one dataset and month."""
    return Counter((c.area, c.category) for c in contributions if c.dataset == dataset and c.month == month)


@dataclass(frozen=True)
class SuppressedTable:
    """A table ready to publish: every entry an int, or None where suppressed."""

    areas: tuple[str, ...]
    categories: tuple[str, ...]
    cells: Mapping[tuple[str, str], int | None]
    area_totals: Mapping[str, int | None]
    category_totals: Mapping[str, int | None]
    total: int | None
    threshold: int

    @property
    def suppressed_label(self) -> str:
        return f"<{self.threshold}"

    def shown(self, value: int | None) -> str:
        return self.suppressed_label if value is None else str(value)

    def suppressed_count(self) -> int:
        entries = [*self.cells.values(), *self.area_totals.values(), *self.category_totals.values(), self.total]
        return sum(1 for value in entries if value is None)


# An entry of the augmented table: ("cell", area, category), ("area", area, ""), ("category", "", category)
# or ("total", "", "").
_Entry = tuple[str, str, str]


RULE = ("Counts from 1 to {below} are shown as <{threshold}, as is any total in that range; then, in every row, "
        "column and line of totals holding exactly one suppressed entry, the smallest other entry is suppressed too, "
        "so no suppressed count is a published total minus published counts.")


def suppress(counts: Mapping[tuple[str, str], int], threshold: int = DEFAULT_THRESHOLD, *,
             areas: Iterable[str] = (), categories: Iterable[str] = ()) -> SuppressedTable:
    """Apply the module's suppression rule to counts per (area, category), over the given axes
    (and every area and category the counts hold; missing cells are zeros)."""
    if threshold < 2:
        raise ValueError("a suppression threshold below 2 suppresses nothing")
    areas = tuple(sorted({a for a, _ in counts} | set(areas)))
    categories = tuple(sorted({c for _, c in counts} | set(categories)))
    values: dict[_Entry, int] = {("cell", a, c): counts.get((a, c), 0) for a in areas for c in categories}
    for a in areas:
        values[("area", a, "")] = sum(values[("cell", a, c)] for c in categories)
    for c in categories:
        values[("category", "", c)] = sum(values[("cell", a, c)] for a in areas)
    values[("total", "", "")] = sum(values[("category", "", c)] for c in categories)

    hidden = {entry for entry, value in values.items() if 0 < value < threshold}
    lines = [[("cell", a, c) for c in categories] + [("area", a, "")] for a in areas]
    lines += [[("cell", a, c) for a in areas] + [("category", "", c)] for c in categories]
    lines.append([("category", "", c) for c in categories] + [("total", "", "")])
    lines.append([("area", a, "") for a in areas] + [("total", "", "")])
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(1 for entry in line if entry in hidden) != 1:
                continue
            candidates = [entry for entry in line if entry not in hidden]
            if not candidates:
                continue
            # The smallest positive entry, cells before totals; a zero only when nothing else is left.
            hidden.add(min(candidates, key=lambda e: (values[e] == 0, e[0] != "cell", values[e], e)))
            changed = True

    def shown(entry: _Entry) -> int | None:
        return None if entry in hidden else values[entry]

    return SuppressedTable(
        areas=areas, categories=categories,
        cells={(a, c): shown(("cell", a, c)) for a in areas for c in categories},
        area_totals={a: shown(("area", a, "")) for a in areas},
        category_totals={c: shown(("category", "", c)) for c in categories},
        total=shown(("total", "", "")), threshold=threshold,
    )


def aggregate_table(dataset: Dataset, month: str, this_year: Mapping[tuple[str, str], int],
                    a_year_earlier: Mapping[tuple[str, str], int], threshold: int) -> dict[str, Any]:
    """The published form (schemas/avro/aggregate_table.avsc): both periods suppressed, each on
    its own, over the same areas and categories; None where suppressed."""
    areas = {a for a, _ in this_year} | {a for a, _ in a_year_earlier}
    categories = {c for _, c in this_year} | {c for _, c in a_year_earlier}
    now = suppress(this_year, threshold, areas=areas, categories=categories)
    before = suppress(a_year_earlier, threshold, areas=areas, categories=categories)
    return {
        "dataset": dataset.id, "month": month, "area_kind": "postcode sector", "category_field": dataset.category_field,
        "threshold": threshold, "rule": RULE.format(below=threshold - 1, threshold=threshold),
        "cells": [{"area": a, "category": c, "count": now.cells[(a, c)], "last_year": before.cells[(a, c)]}
                  for a in now.areas for c in now.categories],
        "area_totals": [{"name": a, "count": now.area_totals[a], "last_year": before.area_totals[a]}
                        for a in now.areas],
        "category_totals": [{"name": c, "count": now.category_totals[c], "last_year": before.category_totals[c]}
                            for c in now.categories],
        "total": now.total, "total_last_year": before.total,
    }
