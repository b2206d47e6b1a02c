"""What a gazetteer file holds (one read-mostly SQLite file) and the checks on what goes into it:
postcode centroids in British National Grid metres with their household counts."""

from __future__ import annotations

import math
import os
import re
import sqlite3
import tempfile
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from exchange.core.postcode import normalise_postcode
from exchange.errors import (
    GazetteerError,
    InvalidPostcode,
)
from exchange.storage._files import private_folder

# The British National Grid's extent; Code-Point Open centroids all fall inside it.
GB_EASTING_RANGE = (0.0, 700_000.0)
GB_NORTHING_RANGE = (0.0, 1_300_000.0)

# A postcode already in canonical form; open() and from_centroids() use it as a fast path.
CANONICAL_RE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}")


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


def check_columns(postcodes: list[str], e: array, n: array, h: array, *, where: str) -> None:
    """Reject duplicates, non-finite coordinates and negative household counts up front."""
    for a, b in pairwise(postcodes):
        if a == b:
            raise GazetteerError(f"{where}: duplicate postcode {a!r}")
    isfinite = math.isfinite
    if not all(map(isfinite, e)) or not all(map(isfinite, n)):
        i = next(i for i in range(len(e)) if not (isfinite(e[i]) and isfinite(n[i])))
        raise GazetteerError(f"{where}: postcode {postcodes[i]!r} has non-finite coordinates")
    if h and min(h) < 0:
        i = next(i for i, v in enumerate(h) if v < 0)
        raise GazetteerError(f"{where}: postcode {postcodes[i]!r} has negative households {h[i]}")


def norm_or_none(text: str) -> str | None:
    try:
        return normalise_postcode(text)
    except (InvalidPostcode, TypeError):
        return None


def norm_or_keep(text: str) -> str:
    return norm_or_none(text) or text


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


def write_gazetteer(
    out_db: str | os.PathLike[str],
    rows: Iterable[tuple[str, float, float, int]],
    meta: dict[str, str],
    streets: Iterable[tuple[str, str]] = (),
    localities: Iterable[tuple[str, str]] = (),
) -> None:
    """Write the gazetteer file atomically: build a temporary file beside it, then rename, so a
    reader never sees a half-written gazetteer and a failed load leaves the old one in place."""
    out = Path(out_db)
    private_folder(out.parent)
    # mkstemp creates the file 0600; SQLite opens an empty file as a new database, keeping that mode.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
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

