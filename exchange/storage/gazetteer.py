"""The postcode gazetteer: postcode -> (easting, northing, households), and the nearest postcode
with at least k households.

I/O edge. The sanitiser moves a record whose postcode has fewer than k households to the
nearest postcode that has k or more (DESIGN.md, "Depersonalisation"); this module answers that
question fast enough for a national gazetteer (~1.7 million postcodes) in pure Python.

Sources: Ordnance Survey Code-Point Open (centroids, British National Grid EPSG:27700) and ONS
postcode household estimates, loaded into one read-mostly SQLite file by `load_codepoint`;
tests and the demo use `synthesise`, a fictional "NX" postcode area with the same shape.
"""

from __future__ import annotations

import csv
import functools
import gc
import math
import os
import random
import re
import sqlite3
import tempfile
import threading
import time
import warnings
from array import array
from bisect import bisect_left
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from exchange.core.postcode import normalise_postcode
from exchange.errors import (
    GazetteerError,
    InvalidPostcode,
    NoQualifyingPostcode,
    UnknownPostcode,
)

__all__ = [
    "PostcodeCentroid",
    "GazetteerError",
    "UnknownPostcode",
    "NoQualifyingPostcode",
    "Gazetteer",
    "LoadReport",
    "load_codepoint",
    "SynthReport",
    "synthesise",
    "bng_from_wgs84",
    "describe_transform",
    "GB_EASTING_RANGE",
    "GB_NORTHING_RANGE",
]

# The British National Grid's extent; Code-Point Open centroids all fall inside it.
GB_EASTING_RANGE = (0.0, 700_000.0)
GB_NORTHING_RANGE = (0.0, 1_300_000.0)

# Grid cell side, chosen per k from the data unless given: the side at which a typical query's
# cell holds about _TARGET_OCCUPANCY qualifying postcodes. Small cells cost ring walks in sparse
# country, large ones cost scans in dense cities; measured with bench/bench_gazetteer.py,
# 250 m suits a national spread and 125 m or less an inner city at ~750 postcodes/km2.
_CELL_SIZES = (62.5, 125.0, 250.0, 500.0, 1000.0, 2000.0)
_TARGET_OCCUPANCY = 8.0
# Beyond this many rings of fine cells the search restarts on a grid 16 times coarser, so a
# query far from any qualifying postcode (sea, islands, a large k) stays cheap.
_MAX_FINE_RINGS = 12
_COARSE_FACTOR = 16
# Relative slack when comparing hypot() distances, which are within 1 ulp of the exact value;
# candidates this close are re-ranked on exact squared distance and then postcode.
_TOL = 1e-12
_INF = math.inf

# A postcode already in canonical form; open() and from_centroids() use it as a fast path.
_CANONICAL_RE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}")


@dataclass(frozen=True, slots=True)
class PostcodeCentroid:
    """A postcode's centroid on the British National Grid and its household count."""

    postcode: str
    easting: float
    northing: float
    households: int


# --------------------------------------------------------------------------------------------
# Spatial index
# --------------------------------------------------------------------------------------------


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of small tuples: they form
    no cycles, and repeated collections would otherwise take a large share of load time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _with_gc_paused(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _gc_paused():
            return fn(*args, **kwargs)

    return wrapper


class _Grid:
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


def _auto_cell_size(z: Sequence[complex], indices: Sequence[int]) -> float:
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


class Gazetteer:
    """Postcode centroids in memory with a per-k grid index for nearest-qualifying lookups.

    Columns are kept in flat arrays sorted by postcode (binary search for get(), little memory
    per postcode); PostcodeCentroid objects are made only for answers. Safe to share between
    threads: the per-k index is built once under a lock and is read-only afterwards.
    """

    def __init__(
        self,
        postcodes: list[str],
        eastings: array,
        northings: array,
        households: array,
        *,
        cell_size: float | None = None,
        streets: dict[str, tuple[str, ...]] | None = None,
        localities: dict[str, str] | None = None,
        meta: dict[str, str] | None = None,
    ) -> None:
        """Private: use open() or from_centroids(). Columns must be sorted by unique postcode."""
        if cell_size is not None and not cell_size > 0:
            raise ValueError(f"cell_size must be positive, got {cell_size!r}")
        self._postcodes = postcodes
        self._e = eastings
        self._n = northings
        self._hh = households
        self._z = list(map(complex, eastings, northings))
        self._cell_size = None if cell_size is None else float(cell_size)
        self._streets = streets or {}
        self._localities = localities or {}
        self._meta = dict(meta or {})
        self._indexes: dict[int, tuple[_Grid, _Grid]] = {}
        self._lock = threading.Lock()

    # -- construction ------------------------------------------------------------------------

    @classmethod
    @_with_gc_paused
    def open(cls, path: str | os.PathLike[str], *, cell_size: float | None = None) -> Gazetteer:
        """Load a gazetteer SQLite file (as written by load_codepoint or synthesise).

        cell_size (metres) fixes the grid; by default it is chosen from the data for each k.
        """
        path = Path(path)
        if not path.is_file():
            raise GazetteerError(f"{path}: no such gazetteer file")
        try:
            con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise GazetteerError(f"{path}: cannot open as SQLite: {exc}") from exc
        try:
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "postcodes" not in tables:
                raise GazetteerError(f"{path}: not a gazetteer (no 'postcodes' table)")
            postcodes: list[str] = []
            e_arr, n_arr, h_arr = array("d"), array("d"), array("q")
            # Streamed in chunks into flat arrays: never 1.7 million row tuples at once.
            cursor = con.execute("SELECT postcode, easting, northing, households FROM postcodes")
            while chunk := cursor.fetchmany(65_536):
                pcs, es, ns, hs = zip(*chunk)
                postcodes.extend(pcs)
                try:
                    e_arr.extend(es)
                    n_arr.extend(ns)
                    h_arr.extend(hs)
                except TypeError as exc:
                    raise GazetteerError(
                        f"{path}: a postcode near {pcs[0]!r} has a missing or non-numeric value ({exc})"
                    ) from exc
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall()) if "meta" in tables else {}
            streets: dict[str, list[str]] = {}
            if "streets" in tables:
                for postcode, street in con.execute("SELECT postcode, street FROM streets ORDER BY rowid"):
                    streets.setdefault(postcode, []).append(street)
            localities = (
                dict(con.execute("SELECT postcode, locality FROM localities").fetchall())
                if "localities" in tables
                else {}
            )
        except sqlite3.Error as exc:
            raise GazetteerError(f"{path}: cannot read gazetteer: {exc}") from exc
        finally:
            con.close()
        bad = [p for p in postcodes if not (isinstance(p, str) and _CANONICAL_RE.fullmatch(p))]
        if bad:
            raise GazetteerError(
                f"{path}: {len(bad):,} postcode(s) not in canonical form, e.g. {bad[0]!r}; "
                "rebuild the file with 'exchange gazetteer load'"
            )
        if any(p >= q for p, q in zip(postcodes, postcodes[1:])):
            order = sorted(range(len(postcodes)), key=postcodes.__getitem__)
            postcodes = [postcodes[i] for i in order]
            e_arr = array("d", [e_arr[i] for i in order])
            n_arr = array("d", [n_arr[i] for i in order])
            h_arr = array("q", [h_arr[i] for i in order])
        _check_columns(postcodes, e_arr, n_arr, h_arr, where=str(path))
        return cls(
            postcodes,
            e_arr,
            n_arr,
            h_arr,
            cell_size=cell_size,
            streets={k: tuple(v) for k, v in streets.items()},
            localities=localities,
            meta=meta,
        )

    @classmethod
    @_with_gc_paused
    def from_centroids(
        cls,
        centroids: Iterable[PostcodeCentroid],
        *,
        cell_size: float | None = None,
        streets: dict[str, Sequence[str]] | None = None,
        localities: dict[str, str] | None = None,
    ) -> Gazetteer:
        """Build a gazetteer in memory (tests, benchmarks). Postcodes are normalised."""
        items: list[tuple[str, float, float, int]] = []
        for c in centroids:
            p = c.postcode
            if not (isinstance(p, str) and _CANONICAL_RE.fullmatch(p)):
                try:
                    p = normalise_postcode(p)
                except InvalidPostcode as exc:
                    raise GazetteerError(f"centroid {c!r}: {exc}") from exc
            items.append((p, float(c.easting), float(c.northing), int(c.households)))
        items.sort()
        postcodes = [t[0] for t in items]
        e_arr = array("d", [t[1] for t in items])
        n_arr = array("d", [t[2] for t in items])
        h_arr = array("q", [t[3] for t in items])
        del items
        _check_columns(postcodes, e_arr, n_arr, h_arr, where="from_centroids")
        return cls(
            postcodes,
            e_arr,
            n_arr,
            h_arr,
            cell_size=cell_size,
            streets={_norm_or_keep(k): tuple(v) for k, v in (streets or {}).items()},
            localities={_norm_or_keep(k): v for k, v in (localities or {}).items()},
        )

    # -- plain lookups -----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._postcodes)

    def __contains__(self, postcode: object) -> bool:
        return isinstance(postcode, str) and self._index_of(postcode) is not None

    def __iter__(self) -> Iterator[PostcodeCentroid]:
        return (self._centroid(i) for i in range(len(self._postcodes)))

    @property
    def meta(self) -> dict[str, str]:
        """The file's meta table (source, created_at, ...), as a copy."""
        return dict(self._meta)

    def get(self, postcode: str) -> PostcodeCentroid | None:
        """The postcode's centroid (any case or spacing), or None if unknown or malformed."""
        i = self._index_of(postcode)
        return None if i is None else self._centroid(i)

    def streets(self, postcode: str) -> tuple[str, ...]:
        """Street names recorded for the postcode (synthetic gazetteers only), else ()."""
        p = _norm_or_none(postcode)
        return self._streets.get(p, ()) if p else ()

    def locality(self, postcode: str) -> str | None:
        """The locality recorded for the postcode (synthetic gazetteers only), else None."""
        p = _norm_or_none(postcode)
        return self._localities.get(p) if p else None

    # -- nearest -----------------------------------------------------------------------------

    def nearest(self, easting: float, northing: float) -> PostcodeCentroid:
        """The nearest postcode of any household count (records with coordinates only)."""
        return self.nearest_qualifying(easting, northing, 0)

    def nearest_qualifying(
        self,
        easting: float,
        northing: float,
        k: int,
        exclude: str | Iterable[str] | None = None,
    ) -> PostcodeCentroid:
        """The nearest postcode with at least k households, by straight-line distance between
        centroids; equal distances go to the alphabetically first postcode, so the answer never
        depends on load order. `exclude` names postcodes (one or several) never to return.
        """
        x, y = float(easting), float(northing)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"coordinates must be finite numbers, got ({easting!r}, {northing!r})")
        fine, coarse = self._index(k)
        excluded = self._excluded(exclude)
        found = fine.search(x, y, excluded, _MAX_FINE_RINGS)
        if found is None:
            found = coarse.search(x, y, excluded, None)
        if not found:
            raise NoQualifyingPostcode(max(int(k), 0), len(self), len(excluded))
        if len(found) == 1:
            return self._centroid(found[0][1])
        z, pcs = self._z, self._postcodes

        def rank(item: tuple[float, int]) -> tuple[float, str]:
            p = z[item[1]]
            dx, dy = p.real - x, p.imag - y
            return (dx * dx + dy * dy, pcs[item[1]])

        return self._centroid(min(found, key=rank)[1])

    def cell_size(self, k: int) -> float:
        """The grid cell side (metres) used for lookups at this k (builds the index if needed)."""
        return self._index(k)[0].size

    def qualifying_for(self, postcode: str, k: int) -> PostcodeCentroid:
        """The postcode itself if it has at least k households, else the nearest that does."""
        if isinstance(k, bool) or not isinstance(k, int):
            raise TypeError(f"k must be an int, got {k!r}")
        try:
            canonical = normalise_postcode(postcode)
        except InvalidPostcode as exc:
            raise UnknownPostcode(str(postcode), "is not a well-formed UK postcode") from exc
        i = self._index_of(canonical)
        if i is None:
            raise UnknownPostcode(canonical)
        if self._hh[i] >= k:
            return self._centroid(i)
        return self.nearest_qualifying(self._e[i], self._n[i], k)

    # -- internals ---------------------------------------------------------------------------

    def _centroid(self, i: int) -> PostcodeCentroid:
        return PostcodeCentroid(self._postcodes[i], self._e[i], self._n[i], self._hh[i])

    def _index_of(self, postcode: str) -> int | None:
        p = postcode if _CANONICAL_RE.fullmatch(postcode or "") else _norm_or_none(postcode)
        if p is None:
            return None
        pcs = self._postcodes
        i = bisect_left(pcs, p)
        return i if i < len(pcs) and pcs[i] == p else None

    def _excluded(self, exclude: str | Iterable[str] | None) -> frozenset[int]:
        if not exclude:
            return frozenset()
        names = [exclude] if isinstance(exclude, str) else list(exclude)
        found = (self._index_of(p) for p in names)
        return frozenset(i for i in found if i is not None)

    def _index(self, k: int) -> tuple[_Grid, _Grid]:
        """The grids of postcodes with >= k households, built on first use and cached per k."""
        if isinstance(k, bool) or not isinstance(k, int):
            raise TypeError(f"k must be an int, got {k!r}")
        key = max(k, 0)
        grids = self._indexes.get(key)
        if grids is None:
            with self._lock:
                grids = self._indexes.get(key)
                if grids is None:
                    hh = self._hh
                    # One list of index ints, shared by both grids.
                    indices = [i for i, h in enumerate(hh) if h >= key] if key else list(range(len(hh)))
                    if not indices:
                        raise NoQualifyingPostcode(key, len(self))
                    with _gc_paused():
                        size = self._cell_size or _auto_cell_size(self._z, indices)
                        fine = _Grid(size, self._z, indices)
                        coarse = _Grid(size * _COARSE_FACTOR, self._z, indices)
                    grids = self._indexes[key] = (fine, coarse)
        return grids


def _check_columns(postcodes: list[str], e: array, n: array, h: array, *, where: str) -> None:
    """Reject duplicates, non-finite coordinates and negative household counts up front."""
    for a, b in zip(postcodes, postcodes[1:]):
        if a == b:
            raise GazetteerError(f"{where}: duplicate postcode {a!r}")
    isfinite = math.isfinite
    if not all(map(isfinite, e)) or not all(map(isfinite, n)):
        i = next(i for i in range(len(e)) if not (isfinite(e[i]) and isfinite(n[i])))
        raise GazetteerError(f"{where}: postcode {postcodes[i]!r} has non-finite coordinates")
    if h and min(h) < 0:
        i = next(i for i, v in enumerate(h) if v < 0)
        raise GazetteerError(f"{where}: postcode {postcodes[i]!r} has negative households {h[i]}")


def _norm_or_none(text: str) -> str | None:
    try:
        return normalise_postcode(text)
    except (InvalidPostcode, TypeError):
        return None


def _norm_or_keep(text: str) -> str:
    return _norm_or_none(text) or text


# --------------------------------------------------------------------------------------------
# SQLite file
# --------------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE postcodes (
    postcode TEXT PRIMARY KEY,
    easting REAL NOT NULL,
    northing REAL NOT NULL,
    households INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE streets (postcode TEXT NOT NULL, street TEXT NOT NULL);
CREATE INDEX streets_postcode ON streets (postcode);
CREATE TABLE localities (postcode TEXT PRIMARY KEY, locality TEXT NOT NULL);
"""


def _write_db(
    out_db: str | os.PathLike[str],
    rows: Iterable[tuple[str, float, float, int]],
    meta: dict[str, str],
    streets: Iterable[tuple[str, str]] = (),
    localities: Iterable[tuple[str, str]] = (),
) -> None:
    """Write the gazetteer file atomically: build a temporary file beside it, then rename, so a
    reader never sees a half-written gazetteer and a failed load leaves the old one in place."""
    out = Path(out_db)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()  # let SQLite create the file itself
        con = sqlite3.connect(tmp)
        try:
            con.execute("PRAGMA journal_mode=OFF")
            con.execute("PRAGMA synchronous=OFF")
            con.executescript(_SCHEMA)
            con.executemany("INSERT INTO postcodes VALUES (?, ?, ?, ?)", rows)
            con.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
            con.executemany("INSERT INTO streets VALUES (?, ?)", streets)
            con.executemany("INSERT INTO localities VALUES (?, ?)", localities)
            con.commit()
        finally:
            con.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------------------------
# Loading Code-Point Open + ONS household estimates
# --------------------------------------------------------------------------------------------

_MAX_EXAMPLES = 5
_PROGRESS_EVERY = 100_000
_CODEPOINT_COLUMNS = 10


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What load_codepoint did. `examples` holds up to 5 rejected rows per reason, each naming
    file, row and reason; `reasons` counts rejections by reason; `unmatched_households` counts
    household rows whose postcode is not in Code-Point (nothing to place them at)."""

    postcodes_loaded: int
    rejected: int
    examples: tuple[str, ...]
    seconds: float
    reasons: tuple[tuple[str, int], ...] = ()
    unmatched_households: int = 0


class _Rejects:
    """Counts rejected rows and keeps a few examples of each reason (never a silent drop)."""

    def __init__(self) -> None:
        self.count = 0
        self.by_reason: dict[str, int] = {}
        self.examples: list[str] = []

    def add(self, file: Path, row: int, kind: str, detail: str) -> None:
        self.count += 1
        seen = self.by_reason.get(kind, 0)
        self.by_reason[kind] = seen + 1
        if seen < _MAX_EXAMPLES:
            self.examples.append(f"{file.name} row {row}: {detail}")


class _Progress:
    """Calls the caller's progress(count_done) every _PROGRESS_EVERY rows, and once at the end."""

    def __init__(self, callback: Callable[[int], None] | None) -> None:
        self.callback = callback
        self.done = 0

    def tick(self) -> None:
        self.done += 1
        if self.callback is not None and self.done % _PROGRESS_EVERY == 0:
            self.callback(self.done)

    def finish(self) -> None:
        if self.callback is not None:
            self.callback(self.done)


def _csv_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(row number, fields) for each record.

    Bytes that are not UTF-8 are kept as lone surrogates (surrogateescape), so they fail the
    postcode or number checks of their own row and are reported there, instead of aborting the
    whole file at some read-ahead position. Broken CSV syntax (a runaway quote) does abort,
    naming the file and row, since nothing after it can be trusted.
    """
    row_no = 0
    try:
        with open(path, newline="", encoding="utf-8-sig", errors="surrogateescape") as fh:
            for row_no, row in enumerate(csv.reader(fh), start=1):
                yield row_no, row
    except csv.Error as exc:
        raise GazetteerError(f"{path}: broken CSV at row {row_no + 1}: {exc}") from exc


def _codepoint_files(codepoint: Path) -> list[Path]:
    if codepoint.is_dir():
        files = sorted(p for p in codepoint.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
        if not files:
            raise GazetteerError(f"{codepoint}: folder holds no *.csv Code-Point Open files")
        return files
    if codepoint.is_file():
        return [codepoint]
    raise GazetteerError(f"{codepoint}: no such Code-Point Open file or folder")


def _parse_households(text: str) -> int | None:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else None


def _read_households(
    path: Path, postcode_column: str, households_column: str, rejects: _Rejects, progress: _Progress
) -> dict[str, tuple[int, int]]:
    """postcode -> (households, row number) from an ONS-style CSV with a header row."""
    if not path.is_file():
        raise GazetteerError(f"{path}: no such households file")
    out: dict[str, tuple[int, int]] = {}
    records = _csv_records(path)
    first = next(records, None)
    if first is None:
        raise GazetteerError(f"{path}: households file is empty (expected a header row)")
    header = first[1]
    names = [h.strip().lower() for h in header]
    missing = [c for c in (postcode_column, households_column) if c.strip().lower() not in names]
    if missing:
        records.close()
        raise GazetteerError(
            f"{path}: households file has no column {', '.join(map(repr, missing))} "
            f"(columns are {', '.join(map(repr, header))}); see --postcode-column/--households-column"
        )
    pi = names.index(postcode_column.strip().lower())
    hi = names.index(households_column.strip().lower())
    width = max(pi, hi)
    for row_no, row in records:
        progress.tick()
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) <= width:
            rejects.add(path, row_no, "short row", f"{len(row)} columns, expected {len(header)}")
            continue
        try:
            postcode = normalise_postcode(row[pi])
        except InvalidPostcode:
            rejects.add(path, row_no, "bad postcode", f"bad postcode {row[pi]!r}")
            continue
        households = _parse_households(row[hi])
        if households is None:
            rejects.add(path, row_no, "bad households", f"households {row[hi]!r} is not a whole number")
            continue
        if households < 0:
            rejects.add(path, row_no, "negative households", f"negative households {households}")
            continue
        if postcode in out:
            rejects.add(
                path, row_no, "duplicate postcode",
                f"duplicate postcode {postcode} (first at row {out[postcode][1]})",
            )
            continue
        out[postcode] = (households, row_no)
    return out


def load_codepoint(
    codepoint: str | os.PathLike[str],
    households_csv: str | os.PathLike[str],
    out_db: str | os.PathLike[str],
    *,
    postcode_column: str = "postcode",
    households_column: str = "households",
    progress: Callable[[int], None] | None = None,
) -> LoadReport:
    """Build a gazetteer file from Code-Point Open CSV (a file or a folder of *.csv, no header,
    10 columns) and an ONS-style households CSV (header; column names matched ignoring case).

    Every malformed row is rejected and counted, with examples naming file, row and reason;
    Code-Point postcodes with no household row get 0 households (so they never qualify).
    Rows with no coordinates (positional quality 90, 0/0) are rejected, since a 0,0 centroid
    would drag records to the grid's origin.
    """
    started = time.perf_counter()
    codepoint, households_path = Path(codepoint), Path(households_csv)
    files = _codepoint_files(codepoint)
    rejects = _Rejects()
    ticker = _Progress(progress)
    households = _read_households(households_path, postcode_column, households_column, rejects, ticker)
    emin, emax = GB_EASTING_RANGE
    nmin, nmax = GB_NORTHING_RANGE
    # postcode -> (easting, northing, households, file number, row number)
    rows: dict[str, tuple[float, float, int, int, int]] = {}
    for file_no, path in enumerate(files):
        for row_no, row in _csv_records(path):
            ticker.tick()
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != _CODEPOINT_COLUMNS:
                rejects.add(path, row_no, "column count",
                            f"{len(row)} columns, expected {_CODEPOINT_COLUMNS} (Code-Point Open, no header)")
                continue
            try:
                postcode = normalise_postcode(row[0])
            except InvalidPostcode:
                rejects.add(path, row_no, "bad postcode", f"bad postcode {row[0]!r}")
                continue
            try:
                easting, northing = float(row[2]), float(row[3])
            except ValueError:
                rejects.add(path, row_no, "non-numeric coordinates",
                            f"non-numeric coordinates ({row[2]!r}, {row[3]!r}) for {postcode}")
                continue
            if not (math.isfinite(easting) and math.isfinite(northing)):
                rejects.add(path, row_no, "non-numeric coordinates",
                            f"non-finite coordinates ({row[2]!r}, {row[3]!r}) for {postcode}")
                continue
            if row[1].strip() == "90" or (easting == 0 and northing == 0):
                rejects.add(path, row_no, "no coordinates",
                            f"no coordinates for {postcode} (positional quality {row[1].strip()!r})")
                continue
            if not (emin <= easting <= emax and nmin <= northing <= nmax):
                rejects.add(path, row_no, "outside GB grid",
                            f"coordinates ({row[2].strip()}, {row[3].strip()}) for {postcode} are outside the "
                            f"British National Grid (E 0-700000, N 0-1300000)")
                continue
            if postcode in rows:
                first = rows[postcode]
                rejects.add(path, row_no, "duplicate postcode",
                            f"duplicate postcode {postcode} (first at {files[first[3]].name} row {first[4]})")
                continue
            entry = households.get(postcode)
            rows[postcode] = (easting, northing, entry[0] if entry else 0, file_no, row_no)
    ticker.finish()
    unmatched = sum(1 for p in households if p not in rows)
    meta = {
        "source": "Ordnance Survey Code-Point Open; ONS postcode household estimates",
        "codepoint": ", ".join(p.name for p in files),
        "households": households_path.name,
        "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "crs": "EPSG:27700",
        "postcodes": str(len(rows)),
        "rejected": str(rejects.count),
        "unmatched_households": str(unmatched),
        "schema_version": "1",
    }
    _write_db(out_db, ((p, *rows[p][:3]) for p in sorted(rows)), meta)
    return LoadReport(
        postcodes_loaded=len(rows),
        rejected=rejects.count,
        examples=tuple(rejects.examples),
        seconds=time.perf_counter() - started,
        reasons=tuple(sorted(rejects.by_reason.items())),
        unmatched_households=unmatched,
    )


# --------------------------------------------------------------------------------------------
# Synthetic gazetteer (tests and the demo)
# --------------------------------------------------------------------------------------------

SYNTH_AREA = "NX"
SYNTH_CENTRE = (430_000.0, 290_000.0)
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # Royal Mail: never C I K M O V in the inward code
_LOCALITIES = (
    "Nexford Town Centre", "Ashcombe", "Brackenhurst", "Coldharbour Vale", "Dunmere",
    "Eastwold", "Fennick Park", "Greystoke Rise", "Hollins End", "Kestrel Moor",
    "Larkhill Green", "Mossbridge",
)
_STEMS = (
    "Abbey", "Alder", "Ashgrove", "Beech", "Birchfield", "Bridge", "Brook", "Canal", "Castle",
    "Chapel", "Church", "Cooper", "Elm", "Fairfield", "Forge", "Foundry", "Glebe", "Hawthorn",
    "Hazel", "Heron", "Holly", "Kingfisher", "Laburnum", "Larch", "Linden", "Maple", "Market",
    "Meadow", "Mill", "Orchard", "Priory", "Quarry", "Rectory", "Rowan", "Saxon", "Sorrel",
    "Station", "Tanner", "Thistle", "Victoria", "Weaver", "Willow", "Wren", "Yew",
)
_SUFFIXES = (
    "Street", "Road", "Lane", "Close", "Avenue", "Way", "Drive", "Crescent", "Gardens",
    "Grove", "Terrace", "Walk", "Court", "Place", "Row",
)
_PREFIXES = ("", "North ", "South ", "Upper ", "Lower ", "Old ", "New ")
_SYNTH_MAX = 20_000  # street names (x2 with "Mews") and districts NX1-NX99 suffice


@dataclass(frozen=True, slots=True)
class SynthReport:
    """What synthesise wrote: counts for a quick sanity check, and the file paths."""

    seed: int
    postcodes: int
    under_4: int
    zero_households: int
    streets: int
    localities: int
    db: Path
    codepoint_csv: Path | None = None
    households_csv: Path | None = None


def _codepoint_format(postcode: str) -> str:
    """Code-Point Open's 7-character form: outward code left-justified in 4, then inward."""
    outward, inward = postcode.split(" ")
    return f"{outward:<4}{inward}" if len(outward) < 4 else f"{outward}{inward}"


def _household_counts(n: int, rng: random.Random) -> list[int]:
    """Realistic counts: ~23% under 4 (some 0: shops, offices), most 5-40, a few blocks of flats."""
    zeros = max(2, round(n * 0.03)) if n >= 10 else min(1, n)
    small = max(0, math.ceil(n * 0.23) - zeros)
    fours = round(n * 0.03)
    big = round(n * 0.05)
    rest = max(0, n - zeros - small - fours - big)
    counts = [0] * zeros + [rng.randint(1, 3) for _ in range(small)] + [4] * fours
    counts += [rng.randint(41, 90) for _ in range(big)]
    counts += [min(40, 5 + int(rng.expovariate(1 / 12))) for _ in range(rest)]
    counts = counts[:n]
    rng.shuffle(counts)
    return counts


def synthesise(
    seed: int,
    out_db: str | os.PathLike[str],
    *,
    csv_dir: str | os.PathLike[str] | None = None,
    postcodes: int = 400,
) -> SynthReport:
    """Write a deterministic fictional gazetteer: postcode area NX around a town centre at
    E 430000 N 290000, postcodes along streets 50-150 m apart, with street and locality names.

    The same seed always gives the same rows (no timestamps). With csv_dir, also writes the same
    postcodes as Code-Point Open (codepoint/nx.csv, no header) and households (nx_households.csv)
    so the real loader can be exercised end to end.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    if not 1 <= postcodes <= _SYNTH_MAX:
        raise ValueError(f"postcodes must be between 1 and {_SYNTH_MAX:,}, got {postcodes}")
    rng = random.Random(seed)
    n_loc = max(1, min(len(_LOCALITIES), round(postcodes / 50)))
    cx0, cy0 = SYNTH_CENTRE
    # Locality centres: the town centre, then a ring of neighbourhoods 1.2-2.8 km out.
    centres = [(cx0, cy0)]
    for i in range(1, n_loc):
        angle = 2 * math.pi * (i - 1) / max(1, n_loc - 1) + rng.uniform(-0.25, 0.25)
        radius = rng.uniform(1200, 2800)
        centres.append((cx0 + radius * math.cos(angle), cy0 + radius * math.sin(angle)))
    # Share postcodes out: the town centre gets a double share.
    weights = [2.0] + [1.0] * (n_loc - 1)
    quotas = [int(postcodes * w / sum(weights)) for w in weights]
    for i in range(postcodes - sum(quotas)):
        quotas[i % n_loc] += 1

    names = [f"{p}{s} {x}" for p in _PREFIXES for s in _STEMS for x in _SUFFIXES]
    rng.shuffle(names)
    names += [f"{n} Mews" for n in names]  # only reached by very large areas (> 4,620 streets)
    name_iter = iter(names)

    # (postcode, easting, northing, locality index, street name)
    points: list[tuple[str, int, int, int, str]] = []
    used_xy: set[tuple[int, int]] = set()
    next_district = 1
    for loc, ((lx, ly), quota) in enumerate(zip(centres, quotas)):
        district, next_district = f"{SYNTH_AREA}{next_district}", next_district + 1
        sector, unit, in_sector = rng.randint(1, 4), rng.randint(0, 5), 0
        made = 0
        while made < quota:
            street = next(name_iter)
            length = min(quota - made, rng.randint(3, 10))
            if in_sector >= 40:  # a sector holds a few dozen units; then the next sector
                sector, unit, in_sector = sector + 1, rng.randint(0, 5), 0
                if sector > 9:  # a district has sectors 0-9; overflow into a new district
                    district, next_district = f"{SYNTH_AREA}{next_district}", next_district + 1
                    sector = 1
            if next_district > 100:
                raise ValueError(f"{postcodes:,} postcodes need more than 99 districts (NX1-NX99)")
            x = lx + rng.gauss(0, 450)
            y = ly + rng.gauss(0, 450)
            heading = rng.uniform(0, 2 * math.pi)
            for _ in range(length):
                e, n = round(x + rng.uniform(-15, 15)), round(y + rng.uniform(-15, 15))
                while (e, n) in used_xy:
                    e += 1
                used_xy.add((e, n))
                first, second = divmod(unit, len(_UNIT_LETTERS))
                postcode = f"{district} {sector % 10}{_UNIT_LETTERS[first]}{_UNIT_LETTERS[second]}"
                points.append((postcode, e, n, loc, street))
                unit += rng.randint(1, 2)  # Royal Mail sequences have gaps
                in_sector += 1
                made += 1
                step = rng.uniform(50, 150)
                heading += rng.uniform(-0.3, 0.3)
                x += step * math.cos(heading)
                y += step * math.sin(heading)

    counts = _household_counts(len(points), rng)
    # Cross streets: a postcode also takes the street of the nearest postcodes on other streets
    # within 120 m (corner plots), up to three names in all.
    street_rows: list[tuple[str, str]] = []
    buckets: dict[tuple[int, int], list[tuple[int, int, str]]] = {}
    for _, e, n, _, street in points:
        buckets.setdefault((e // 120, n // 120), []).append((e, n, street))
    for pc, e, n, _, street in points:
        bx, by = e // 120, n // 120
        near = sorted(
            ((e2 - e) ** 2 + (n2 - n) ** 2, s2)
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            for e2, n2, s2 in buckets.get((bx + dx, by + dy), ())
            if s2 != street and (e2 - e) ** 2 + (n2 - n) ** 2 <= 120**2
        )
        extra: list[str] = []
        for _, s2 in near:
            if s2 not in extra and len(extra) < 2 and rng.random() < 0.5:
                extra.append(s2)
        street_rows.extend((pc, s) for s in [street, *extra])

    rows = sorted((pc, float(e), float(n), h) for (pc, e, n, _, _), h in zip(points, counts))
    localities = sorted((pc, _LOCALITIES[loc]) for pc, _, _, loc, _ in points)
    street_rows.sort(key=lambda r: r[0])  # stable: each postcode's own street stays first
    meta = {
        "source": "synthetic: exchange.storage.gazetteer.synthesise (fictional postcode area NX)",
        "seed": str(seed),
        "crs": "EPSG:27700",
        "postcodes": str(len(rows)),
        "generator_version": "1",
    }
    _write_db(out_db, rows, meta, street_rows, localities)

    codepoint_csv = households_csv = None
    if csv_dir is not None:
        codepoint_csv, households_csv = _write_synth_csv(Path(csv_dir), rows, dict(localities))
    return SynthReport(
        seed=seed,
        postcodes=len(rows),
        under_4=sum(1 for r in rows if r[3] < 4),
        zero_households=sum(1 for r in rows if r[3] == 0),
        streets=len({s for _, s in street_rows}),
        localities=n_loc,
        db=Path(out_db),
        codepoint_csv=codepoint_csv,
        households_csv=households_csv,
    )


def _write_synth_csv(
    csv_dir: Path, rows: list[tuple[str, float, float, int]], localities: dict[str, str]
) -> tuple[Path, Path]:
    """The synthetic rows in the two public formats load_codepoint reads."""
    cp_dir = csv_dir / "codepoint"
    cp_dir.mkdir(parents=True, exist_ok=True)
    codepoint_csv = cp_dir / f"{SYNTH_AREA.lower()}.csv"
    households_csv = csv_dir / f"{SYNTH_AREA.lower()}_households.csv"
    ward_codes = {name: f"E05099{i:03d}" for i, name in enumerate(_LOCALITIES, start=1)}
    with open(codepoint_csv, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_NONNUMERIC)
        for pc, e, n, _ in rows:
            writer.writerow([
                _codepoint_format(pc), 10, int(e), int(n), "E92000001", "E19000002",
                "E18000099", "E10000099", "E07000299", ward_codes[localities[pc]],
            ])
    with open(households_csv, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["postcode", "households"])
        writer.writerows((pc, h) for pc, _, _, h in rows)
    return codepoint_csv, households_csv


# --------------------------------------------------------------------------------------------
# WGS84 -> British National Grid
# --------------------------------------------------------------------------------------------

_OSTN15_GRID = "uk_os_OSTN15_NTv2_OSGBtoETRS.tif"


@functools.lru_cache(maxsize=1)
def _wgs84_to_bng() -> tuple[object, str]:
    """The best transformation PROJ can actually run here, chosen once and cached.

    OSTN15 (the OS definitive transformation, ~0.1 m) needs the grid file; without it (the
    network is off and the grid is not in PROJ's data directory) PROJ's best is a 7-parameter
    Helmert, good to a few metres: ample for postcode centroids, but worth stating.
    """
    import pyproj
    from pyproj.transformer import TransformerGroup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "best transformation is not available" is reported below
        group = TransformerGroup("EPSG:4326", "EPSG:27700", always_xy=True)
    if not group.transformers:
        raise GazetteerError("PROJ has no usable transformation from EPSG:4326 to EPSG:27700")
    transformer = group.transformers[0]
    uses_ostn15 = "OSTN15" in (transformer.definition or "")
    accuracy = transformer.accuracy
    acc = f"{accuracy:g} m" if accuracy is not None and accuracy >= 0 else "unknown"
    text = (
        f"EPSG:4326 (WGS84, lat/lon) -> EPSG:27700 (British National Grid) via "
        f"'{transformer.description}', stated accuracy {acc}; PROJ {pyproj.proj_version_str}, "
        f"pyproj {pyproj.__version__}. "
    )
    if uses_ostn15:
        text += f"Uses the OSTN15 grid ({_OSTN15_GRID})."
    else:
        text += (
            f"OSTN15 grid {_OSTN15_GRID} is not available to PROJ "
            f"(network {'on' if pyproj.network.is_network_enabled() else 'off'}; data dir "
            f"{pyproj.datadir.get_data_dir()}), so this is a 7-parameter Helmert fallback, typically "
            "within a few metres of OSTN15 across GB. Install the grid (projsync or copy the .tif "
            "into the data dir) for ~0.1 m."
        )
    return transformer, text


def bng_from_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """(easting, northing) on the British National Grid for a WGS84 latitude/longitude.

    Note the argument order (lat, lon), as people say it; PROJ is called with (lon, lat)
    because the transformer is built with always_xy=True. A point that lands off the grid
    (E 0-700000, N 0-1300000) raises ValueError: most often latitude and longitude swapped.
    """
    lat, lon = float(lat), float(lon)
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"not a WGS84 latitude/longitude: lat={lat!r}, lon={lon!r}")
    transformer, _ = _wgs84_to_bng()
    easting, northing = transformer.transform(lon, lat)  # type: ignore[attr-defined]
    (emin, emax), (nmin, nmax) = GB_EASTING_RANGE, GB_NORTHING_RANGE
    if not (math.isfinite(easting) and math.isfinite(northing)
            and emin <= easting <= emax and nmin <= northing <= nmax):
        raise ValueError(
            f"lat={lat}, lon={lon} is outside the British National Grid (E 0-700000, N 0-1300000); "
            "are latitude and longitude swapped?"
        )
    return float(easting), float(northing)


def describe_transform() -> str:
    """Which WGS84 -> BNG transformation is in use and how accurate it claims to be."""
    return _wgs84_to_bng()[1]
