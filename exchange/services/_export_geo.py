"""The geographic exports: GeoJSON (RFC 7946, WGS 84, or British National Grid with the legacy
"crs" member) and GeoPackage 1.3, with coordinates converted from British National Grid by PROJ.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from exchange.core.schemas import Dataset
from exchange.errors import ConfigError
from exchange.services._export_handling import Handling, _date_or_none, _naive_utc, _one_line, table_columns
from exchange.storage import csvfiles

CRS_NAMES = {4326: "WGS 84 longitude/latitude (EPSG:4326)",
             27700: "British National Grid easting/northing (EPSG:27700)"}


def _axes(dataset: Dataset) -> tuple[str, str] | None:
    axes = {p.axis: p.name for p in dataset.fields_with("coordinate")}
    names = set(csvfiles.shared_names(dataset))
    if axes.get("easting") in names and axes.get("northing") in names:
        return axes["easting"], axes["northing"]
    return None

# -- GeoJSON and GeoPackage -----------------------------------------------------------------------


def _projector(crs: int) -> tuple[Callable[[float, float], tuple[float, float] | None], str]:
    """(easting, northing) -> the point in `crs`, and a note of how it was converted."""
    if crs == 27700:
        return (lambda e, n: (e, n)), CRS_NAMES[27700] + ", as the sanitiser released them"
    import warnings

    from pyproj.transformer import TransformerGroup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "best transformation is not available": the note says which is used
        group = TransformerGroup("EPSG:27700", "EPSG:4326", always_xy=True)
    if not group.transformers:
        raise ConfigError("PROJ has no usable transformation from EPSG:27700 to EPSG:4326")
    transformer = group.transformers[0]  # the most accurate PROJ can run here (OSTN15 when installed)
    accuracy = f"stated accuracy {transformer.accuracy:g} m" if (transformer.accuracy or -1) >= 0 else \
        "accuracy unknown"

    def project(easting: float, northing: float) -> tuple[float, float] | None:
        lon, lat = transformer.transform(easting, northing)
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return None
        return round(lon, 6), round(lat, 6)  # RFC 7946 11.2: six decimals are about 10 cm

    return project, (f"{CRS_NAMES[4326]}, converted from British National Grid (EPSG:27700) with PROJ: "
                     f"{transformer.description}, {accuracy}")


def _point(dataset: Dataset, record: dict[str, Any], project: Callable[[float, float], tuple[float, float] | None]
           ) -> tuple[float, float] | None:
    axes = _axes(dataset)
    if axes is None:
        return None
    easting, northing = record.get(axes[0]), record.get(axes[1])
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
               for v in (easting, northing)):
        return None
    return project(float(easting), float(northing))  # type: ignore[arg-type]


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


async def _write_geojson(dataset: Dataset, records: Any, handling: Handling, temp: Path) -> int:
    assert handling.crs is not None
    project, handling.crs_note = _projector(handling.crs)
    columns = table_columns(dataset)
    missing = 0
    # Features are streamed to an unnamed temporary file, so the handling can lead the document.
    with tempfile.TemporaryFile("w+", encoding="utf-8") as features:
        first = True
        async for record in records:
            point = _point(dataset, record, project)
            missing += point is None
            feature = {"type": "Feature",
                       "geometry": None if point is None else {"type": "Point", "coordinates": list(point)},
                       "properties": {c.name: _json_value(c.value(dataset, record)) for c in columns}}
            features.write(("" if first else ",\n") + json.dumps(feature, ensure_ascii=False, allow_nan=False))
            first = False
        features.seek(0)
        document: dict[str, Any] = {"type": "FeatureCollection", "name": dataset.id}
        if handling.crs == 27700:  # not RFC 7946: the 2008 GeoJSON "crs" member, which GDAL and QGIS read
            document["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
        document["handling"] = handling.as_dict()  # a foreign member (RFC 7946 6.1)
        head = json.dumps(document, ensure_ascii=False, indent=1)[:-2]  # without the closing "\n}"
        with open(temp, "w", encoding="utf-8") as out:
            out.write(head + ',\n "features": [\n')
            while chunk := features.read(1 << 16):
                out.write(chunk)
            out.write("\n ]\n}\n")
    return missing


_GPKG_TYPES = {"text": "TEXT", "code": "TEXT", "time": "TEXT", "date": "DATE", "int": "INTEGER", "float": "DOUBLE",
               "bool": "BOOLEAN"}


async def _write_gpkg(dataset: Dataset, records: Any, handling: Handling, temp: Path) -> int:
    from pyproj import CRS

    from exchange.storage.geopackage import Column, GeoPackage, SpatialRefSys

    assert handling.crs is not None
    project, handling.crs_note = _projector(handling.crs)
    columns = table_columns(dataset)
    temp.unlink()  # GeoPackage creates it afresh (0600)
    # Well-known text 1 in `definition`, as GeoPackage 1.3 reads it (WKT 2 needs the crs_wkt extension).
    with GeoPackage(temp, wgs84_definition=CRS.from_epsg(4326).to_wkt("WKT1_GDAL")) as gpkg:
        if handling.crs == 27700:
            gpkg.add_srs(SpatialRefSys(27700, "OSGB36 / British National Grid", "EPSG", 27700,
                                       CRS.from_epsg(27700).to_wkt("WKT1_GDAL"),
                                       "British National Grid (Ordnance Survey), easting and northing in metres"))
        gpkg.create_features(dataset.id, [Column(c.name, _GPKG_TYPES[c.kind]) for c in columns], srs_id=handling.crs,
                             identifier=dataset.title, description="")
        missing = 0
        async for record in records:
            point = _point(dataset, record, project)
            missing += point is None
            gpkg.add_feature(dataset.id, point, [c.value(dataset, record) for c in columns])
        gpkg.describe(dataset.id, _one_line(f"{handling.statement()} Handling caveats: table 'handling'; "
                                            "supplies and their caveats: table 'supplies'."))
        gpkg.add_attributes("handling", [Column("item", "TEXT"), Column("value", "TEXT")], handling.items(),
                            identifier=f"Handling: {dataset.title}",
                            description=f"{handling.final_marking}: how to handle this GeoPackage")
        supply_columns = ["supplier", "contact", "dataset", "dataset_name", "period_start", "period_end", "records",
                          "rejected", "date_supplied", "caveats"]
        kinds = {"period_start": "DATE", "period_end": "DATE", "records": "INTEGER", "rejected": "INTEGER",
                 "date_supplied": "DATETIME"}
        gpkg.add_attributes("supplies", [Column(c, kinds.get(c, "TEXT")) for c in supply_columns],
                            ([_gpkg_supply_value(c, s[c]) for c in supply_columns] for s in handling.supplies),
                            identifier=f"Supplies: {dataset.title}",
                            description=f"{handling.final_marking}: the supplies these records came in, with caveats")
    return missing


def _gpkg_supply_value(column: str, value: Any) -> Any:
    if column in ("period_start", "period_end"):
        return _date_or_none(value)
    if column == "date_supplied":
        moment = _naive_utc(value)
        return None if moment is None else moment.replace(tzinfo=dt.UTC)
    return value
