"""The grid index behind nearest-qualifying lookups: postcodes bucketed by cell, searched ring
by ring outwards, restarting on a coarser grid far from any candidate. Pure Python, no I/O."""

from __future__ import annotations

import functools
import gc
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

# Grid cell side, chosen per k from the data unless given: the side at which a typical query's
# cell holds about _TARGET_OCCUPANCY qualifying postcodes. Small cells cost ring walks in sparse
# country, large ones cost scans in dense cities; measured with bench/bench_gazetteer.py,
# 250 m suits a national spread and 125 m or less an inner city at ~750 postcodes/km2.
_CELL_SIZES = (62.5, 125.0, 250.0, 500.0, 1000.0, 2000.0)
_TARGET_OCCUPANCY = 8.0
# Beyond this many rings of fine cells the search restarts on a grid 16 times coarser, so a
# query far from any qualifying postcode (sea, islands, a large k) stays cheap.
MAX_FINE_RINGS = 12
COARSE_FACTOR = 16
# Relative slack when comparing hypot() distances, which are within 1 ulp of the exact value;
# candidates this close are re-ranked on exact squared distance and then postcode.
_TOL = 1e-12
_INF = math.inf


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of small tuples: they form
    no cycles, and repeated collections would otherwise take a large share of load time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def with_gc_paused(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with gc_paused():
            return fn(*args, **kwargs)

    return wrapper


class Grid:
    """Points bucketed into square cells (cell key -> (complex centroids, indices)).

    Centroids are complex numbers so a cell's distances are one comprehension of abs(z - q),
    the fastest pure-Python scan available without numpy.
    """

    __slots__ = ("size", "cells", "min_cx", "max_cx", "min_cy", "max_cy", "stride")

    def __init__(self, size: float, z: Sequence[complex], indices: Sequence[int]) -> None:
        self.size = size
        floor = math.floor
        if indices:
            # floor() is monotonic, so the extent in cells comes from the extreme coordinates.
            xs = [z[i].real for i in indices]
            self.min_cx, self.max_cx = floor(min(xs) / size), floor(max(xs) / size)
            del xs
            ys = [z[i].imag for i in indices]
            self.min_cy, self.max_cy = floor(min(ys) / size), floor(max(ys) / size)
            del ys
        else:
            self.min_cx, self.max_cx, self.min_cy, self.max_cy = 0, -1, 0, -1
        self.stride = stride = self.max_cy - self.min_cy + 1
        min_cx, min_cy = self.min_cx, self.min_cy
        buckets: dict[int, list[int]] = {}
        get = buckets.get
        for i in indices:
            p = z[i]
            key = (floor(p.real / size) - min_cx) * stride + (floor(p.imag / size) - min_cy)
            bucket = get(key)
            if bucket is None:
                buckets[key] = [i]
            else:
                bucket.append(i)
        self.cells: dict[int, tuple[tuple[complex, ...], tuple[int, ...]]] = {
            key: (tuple([z[i] for i in bucket]), tuple(bucket)) for key, bucket in buckets.items()
        }

    def search(
        self, x: float, y: float, excluded: frozenset[int], max_ring: int | None
    ) -> list[tuple[float, int]] | None:
        """Candidates (hypot distance, index) tied for nearest to (x, y), or None if the search
        would need more than max_ring rings (the caller then uses a coarser grid).

        Rings of cells are walked outwards from the query's cell. After ring r every cell
        within the square of side 2r+1 cells has been scanned, so any point not yet seen is at
        least as far as the square's nearest edge; the walk stops only when that lower bound
        exceeds the best distance found (with slack), so the answer equals a brute-force scan.
        """
        size = self.size
        cx = math.floor(x / size)
        cy = math.floor(y / size)
        min_cx, max_cx, min_cy, max_cy = self.min_cx, self.max_cx, self.min_cy, self.max_cy
        stride = self.stride
        get = self.cells.get
        q = complex(x, y)
        best = _INF
        lim = _INF
        found: list[tuple[float, int]] = []
        # Rings before r_first lie wholly outside the populated extent; after r_last all is seen.
        r_first = max(0, min_cx - cx, cx - max_cx, min_cy - cy, cy - max_cy)
        r_last = max(cx - min_cx, max_cx - cx, cy - min_cy, max_cy - cy)
        slack = 1e-9 * (abs(x) + abs(y) + size)
        for r in range(r_first, r_last + 1):
            if max_ring is not None and r > max_ring:
                return None
            x0, x1, y0, y1 = cx - r, cx + r, cy - r, cy + r
            if r == 0:
                keys: Iterable[int] = ((cx - min_cx) * stride + (cy - min_cy),)
            else:
                keys = _ring_keys(x0, x1, y0, y1, min_cx, max_cx, min_cy, max_cy, stride)
            for key in keys:
                cell = get(key)
                if cell is None:
                    continue
                zs, ids = cell
                ds = [abs(p - q) for p in zs]
                m = min(ds)
                while m <= lim and m < _INF:
                    j = ds.index(m)
                    i = ids[j]
                    ds[j] = _INF
                    if i not in excluded:
                        if m < best:
                            best = m
                            lim = m * (1.0 + _TOL)
                        found.append((m, i))
                    m = min(ds)
            if best < _INF:
                bound = min(x - x0 * size, (x1 + 1) * size - x, y - y0 * size, (y1 + 1) * size - y)
                if bound > lim + slack:
                    break
        return [(d, i) for d, i in found if d <= lim]


def auto_cell_size(z: Sequence[complex], indices: Sequence[int]) -> float:
    """The cell side from _CELL_SIZES nearest (in ratio) to the one giving _TARGET_OCCUPANCY
    points in the cell of a typical point.

    The point-weighted mean count per 1 km cell (sum of n^2 / N) measures the density a typical
    query sees, clustering included; it is estimated from a systematic sample of at most
    200,000 points, correcting sum m^2 for the sampling fraction f: E[m^2] = f^2 n^2 + f(1-f) n.
    """
    n = len(indices)
    step = max(1, n // 200_000)
    sample = indices[::step]
    f = len(sample) / n
    floor = math.floor
    counts = Counter((floor(z[i].real / 1000.0), floor(z[i].imag / 1000.0)) for i in sample)
    sum_m2 = sum(c * c for c in counts.values())
    sum_n2 = max(float(n), (sum_m2 - (1.0 - f) * len(sample)) / (f * f))
    per_km2 = sum_n2 / n  # typical points per km2 around a point
    ideal = 1000.0 * math.sqrt(_TARGET_OCCUPANCY / per_km2)
    return min(_CELL_SIZES, key=lambda size: abs(math.log(size / ideal)))


def _ring_keys(
    x0: int, x1: int, y0: int, y1: int, min_cx: int, max_cx: int, min_cy: int, max_cy: int, stride: int
) -> list[int]:
    """Cell keys on the border of the square [x0, x1] x [y0, y1], clipped to the extent."""
    keys: list[int] = []
    lo_x, hi_x = max(x0, min_cx), min(x1, max_cx)
    if lo_x <= hi_x:
        cols = range((lo_x - min_cx) * stride, (hi_x - min_cx) * stride + 1, stride)
        if min_cy <= y0 <= max_cy:
            off = y0 - min_cy
            keys.extend([c + off for c in cols])
        if min_cy <= y1 <= max_cy:
            off = y1 - min_cy
            keys.extend([c + off for c in cols])
    lo_y, hi_y = max(y0 + 1, min_cy), min(y1 - 1, max_cy)
    if lo_y <= hi_y:
        rows = range(lo_y - min_cy, hi_y - min_cy + 1)
        if min_cx <= x0 <= max_cx:
            base = (x0 - min_cx) * stride
            keys.extend([base + c for c in rows])
        if min_cx <= x1 <= max_cx:
            base = (x1 - min_cx) * stride
            keys.extend([base + c for c in rows])
    return keys


