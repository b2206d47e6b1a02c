"""The briefing's map: records counted in British National Grid cells, each cell's count against
its baseline, and the postcode sectors labelled at the mean position of their records. Pure.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from exchange.core._briefing_records import _Row
from exchange.core._briefing_stats import Window, change_of, expected_count

CELL_METRES = 250  # the map's grid cells


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
