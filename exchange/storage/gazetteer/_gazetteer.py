"""The in-memory gazetteer: postcode -> centroid, and the nearest postcode with at least k
households, fast enough for a national gazetteer (~1.7 million postcodes) in pure Python."""

from __future__ import annotations

import math
import os
import sqlite3
import threading
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise
from pathlib import Path

from exchange.core.postcode import normalise_postcode
from exchange.errors import (
    GazetteerError,
    InvalidPostcode,
    NoQualifyingPostcode,
    UnknownPostcode,
)
from exchange.storage.gazetteer._format import (
    CANONICAL_RE,
    PostcodeCentroid,
    check_columns,
    norm_or_keep,
    norm_or_none,
)
from exchange.storage.gazetteer._grid import (
    COARSE_FACTOR,
    MAX_FINE_RINGS,
    Grid,
    auto_cell_size,
    gc_paused,
    with_gc_paused,
)


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
        self._indexes: dict[int, tuple[Grid, Grid]] = {}
        self._lock = threading.Lock()

    # -- construction ------------------------------------------------------------------------

    @classmethod
    @with_gc_paused
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
                pcs, es, ns, hs = zip(*chunk, strict=True)
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
        bad = [p for p in postcodes if not (isinstance(p, str) and CANONICAL_RE.fullmatch(p))]
        if bad:
            raise GazetteerError(
                f"{path}: {len(bad):,} postcode(s) not in canonical form, e.g. {bad[0]!r}; "
                "rebuild the file with 'exchange gazetteer load'"
            )
        if any(p >= q for p, q in pairwise(postcodes)):
            order = sorted(range(len(postcodes)), key=postcodes.__getitem__)
            postcodes = [postcodes[i] for i in order]
            e_arr = array("d", [e_arr[i] for i in order])
            n_arr = array("d", [n_arr[i] for i in order])
            h_arr = array("q", [h_arr[i] for i in order])
        check_columns(postcodes, e_arr, n_arr, h_arr, where=str(path))
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
    @with_gc_paused
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
            if not (isinstance(p, str) and CANONICAL_RE.fullmatch(p)):
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
        check_columns(postcodes, e_arr, n_arr, h_arr, where="from_centroids")
        return cls(
            postcodes,
            e_arr,
            n_arr,
            h_arr,
            cell_size=cell_size,
            streets={norm_or_keep(k): tuple(v) for k, v in (streets or {}).items()},
            localities={norm_or_keep(k): v for k, v in (localities or {}).items()},
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
        p = norm_or_none(postcode)
        return self._streets.get(p, ()) if p else ()

    def locality(self, postcode: str) -> str | None:
        """The locality recorded for the postcode (synthetic gazetteers only), else None."""
        p = norm_or_none(postcode)
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
        found = fine.search(x, y, excluded, MAX_FINE_RINGS)
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
        p = postcode if CANONICAL_RE.fullmatch(postcode or "") else norm_or_none(postcode)
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

    def _index(self, k: int) -> tuple[Grid, Grid]:
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
                    with gc_paused():
                        size = self._cell_size or auto_cell_size(self._z, indices)
                        fine = Grid(size, self._z, indices)
                        coarse = Grid(size * COARSE_FACTOR, self._z, indices)
                    grids = self._indexes[key] = (fine, coarse)
        return grids


