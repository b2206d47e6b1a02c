"""A GeoPackage writer (OGC GeoPackage 1.3, OGC 12-128r18) on the standard library's sqlite3: point
features and plain attribute tables, readable by QGIS and GDAL with their coordinate reference
system, and nothing more of the standard than that needs.

What it writes, by the standard's requirement numbers:

    application_id 0x47504B47 ('GPKG') and user_version 10300             (req. 2, 1.3)
    gpkg_spatial_ref_sys with the -1, 0 and 4326 rows and each SRS used   (req. 10, 11)
    gpkg_contents: 'features' with bounds, 'attributes' without           (req. 13, 14, 118)
    gpkg_geometry_columns: one POINT column per feature table             (req. 21-27)
    a feature table: fid INTEGER PRIMARY KEY, a POINT BLOB in
      GeoPackageBinary ('GP', version 0, flags, srs_id, envelope, WKB)    (req. 19, 29-33)
    columns only of the types of table 1 (TEXT, INTEGER, DOUBLE, BOOLEAN, DATE, DATETIME)

The file is created 0600 (exchange/storage/_files.py) and written in one transaction. Coordinates
are written as given: converting them is the caller's business (pyproj, in the services).
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exchange.errors import ConfigError
from exchange.storage._files import make_private

__all__ = [
    "APPLICATION_ID", "COLUMN_TYPES", "USER_VERSION", "Column", "GeoPackage", "SpatialRefSys", "point_blob",
]

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300  # GeoPackage 1.3.0
COLUMN_TYPES = frozenset({"TEXT", "INTEGER", "DOUBLE", "BOOLEAN", "DATE", "DATETIME"})

_FLAGS_LITTLE_ENDIAN_XY_ENVELOPE = 0b0000_0011  # bit 0: little-endian; bits 1-3 = 1: envelope [minx, maxx, miny, maxy]
_WKB_POINT = 1


def point_blob(x: float, y: float, srs_id: int) -> bytes:
    """A point as GeoPackageBinary: the 'GP' header (version 0, flags, srs_id, envelope) and ISO WKB."""
    return (b"GP" + struct.pack("<BBi4d", 0, _FLAGS_LITTLE_ENDIAN_XY_ENVELOPE, srs_id, x, x, y, y)
            + struct.pack("<BI2d", 1, _WKB_POINT, x, y))


@dataclass(frozen=True, slots=True)
class SpatialRefSys:
    srs_id: int
    name: str
    organization: str
    organization_coordsys_id: int
    definition: str  # well-known text
    description: str = ""


# The rows every GeoPackage holds (requirement 11); 4326's definition comes from the caller.
_UNDEFINED = (
    SpatialRefSys(-1, "Undefined cartesian SRS", "NONE", -1, "undefined",
                  "undefined cartesian coordinate reference system"),
    SpatialRefSys(0, "Undefined geographic SRS", "NONE", 0, "undefined",
                  "undefined geographic coordinate reference system"),
)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # one of COLUMN_TYPES


@dataclass
class _FeatureTable:
    name: str
    columns: tuple[Column, ...]
    srs_id: int
    insert: str
    count: int = 0
    bounds: list[float] = field(default_factory=lambda: [math.inf, math.inf, -math.inf, -math.inf])


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _value(value: Any) -> Any:
    """A Python value as GeoPackage stores it: booleans 0/1, dates and times ISO text, no NaN."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.datetime):
        utc = value.astimezone(dt.UTC) if value.tzinfo else value
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_CORE_TABLES = """
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE,
  min_y DOUBLE,
  max_x DOUBLE,
  max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);
"""


class GeoPackage:
    """A new GeoPackage at `path` (which must not hold anything yet). Use as a context manager:
    everything is committed when the block ends without an error, and nothing otherwise.

        with GeoPackage(path, wgs84_definition=wkt) as gpkg:
            gpkg.add_srs(SpatialRefSys(27700, ...))
            gpkg.create_features("offences", columns, srs_id=27700, identifier=..., description=...)
            gpkg.add_feature("offences", (x, y), values)
            gpkg.add_attributes("handling", columns, rows, identifier=..., description=...)
    """

    def __init__(self, path: str | Path, *, wgs84_definition: str):
        self.path = Path(path)
        if self.path.exists() and self.path.stat().st_size:
            raise ConfigError(f"{self.path}: a GeoPackage is written to a new file; this one is not empty")
        make_private(self.path)  # created 0600 before SQLite writes a byte (its journal takes that mode)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("BEGIN")
        self._db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        self._db.execute(f"PRAGMA user_version = {USER_VERSION}")
        for statement in _CORE_TABLES.split(";"):
            if statement.strip():
                self._db.execute(statement)
        self._srs: set[int] = set()
        for srs in (*_UNDEFINED, SpatialRefSys(4326, "WGS 84 geodetic", "EPSG", 4326, wgs84_definition,
                                                "longitude/latitude coordinates in decimal degrees on the WGS 84 "
                                                "spheroid")):
            self.add_srs(srs)
        self._features: dict[str, _FeatureTable] = {}

    def __enter__(self) -> GeoPackage:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        try:
            if kind is None:
                self._finish()
                self._db.execute("COMMIT")
            else:
                self._db.execute("ROLLBACK")
        finally:
            self._db.close()

    def add_srs(self, srs: SpatialRefSys) -> None:
        if srs.srs_id in self._srs:
            return
        self._db.execute("INSERT INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, organization_coordsys_id, "
                         "definition, description) VALUES (?,?,?,?,?,?)",
                         (srs.name, srs.srs_id, srs.organization, srs.organization_coordsys_id, srs.definition,
                          srs.description))
        self._srs.add(srs.srs_id)

    def _create_table(self, table: str, columns: Sequence[Column], first: str) -> None:
        names = {c.name.lower() for c in columns}
        if len(names) != len(columns) or names & {"fid", "geom"}:
            raise ConfigError(f"{self.path}: table {table!r} has a repeated or reserved column name")
        for column in columns:
            if column.type not in COLUMN_TYPES:
                raise ConfigError(f"{self.path}: column {column.name!r} has type {column.type!r}, "
                                  f"not one of {sorted(COLUMN_TYPES)}")
        body = ", ".join([first, *(f"{_quote(c.name)} {c.type}" for c in columns)])
        self._db.execute(f"CREATE TABLE {_quote(table)} ({body})")

    def create_features(self, table: str, columns: Sequence[Column], *, srs_id: int, identifier: str,
                        description: str = "") -> None:
        """A point feature table (fid, geom, then `columns`), registered in gpkg_contents."""
        if srs_id not in self._srs:
            raise ConfigError(f"{self.path}: add spatial reference system {srs_id} before a table uses it")
        self._create_table(table, columns, "fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom POINT")
        self._db.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
                         "VALUES (?, 'features', ?, ?, ?)", (table, identifier, description, srs_id))
        self._db.execute("INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, "
                         "z, m) VALUES (?, 'geom', 'POINT', ?, 0, 0)", (table, srs_id))
        names = ", ".join(["geom", *(_quote(c.name) for c in columns)])
        insert = f"INSERT INTO {_quote(table)} ({names}) VALUES ({', '.join('?' * (len(columns) + 1))})"
        self._features[table] = _FeatureTable(table, tuple(columns), srs_id, insert)

    def add_feature(self, table: str, point: tuple[float, float] | None, values: Sequence[Any]) -> None:
        """One feature: its point (None for no geometry: SQL NULL) and its values in column order."""
        target = self._features[table]
        if len(values) != len(target.columns):
            raise ValueError(f"{len(values)} value(s) for {len(target.columns)} column(s) of {table}")
        blob = None
        if point is not None:
            x, y = float(point[0]), float(point[1])
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ValueError(f"a point of {table} is not finite")
            blob = point_blob(x, y, target.srs_id)
            bounds = target.bounds
            bounds[:] = [min(bounds[0], x), min(bounds[1], y), max(bounds[2], x), max(bounds[3], y)]
        self._db.execute(target.insert, (blob, *(_value(v) for v in values)))
        target.count += 1

    def describe(self, table: str, description: str) -> None:
        """Set a table's description in gpkg_contents (GDAL shows it as the layer's DESCRIPTION)."""
        self._db.execute("UPDATE gpkg_contents SET description = ? WHERE table_name = ?", (description, table))

    def add_attributes(self, table: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], *,
                       identifier: str, description: str = "") -> None:
        """A non-spatial table (data_type 'attributes'), which QGIS and GDAL list as a layer."""
        self._create_table(table, columns, "fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL")
        self._db.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
                         "VALUES (?, 'attributes', ?, ?)", (table, identifier, description))
        names = ", ".join(_quote(c.name) for c in columns)
        insert = f"INSERT INTO {_quote(table)} ({names}) VALUES ({', '.join('?' * len(columns))})"
        self._db.executemany(insert, ([_value(v) for v in row] for row in rows))

    def _finish(self) -> None:
        for target in self._features.values():
            if target.bounds[0] <= target.bounds[2]:
                self._db.execute("UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? "
                                 "WHERE table_name = ?", (*target.bounds, target.name))
