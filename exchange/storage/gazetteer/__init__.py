"""The postcode gazetteer: postcode -> (easting, northing, households), and the nearest postcode
with at least k households (the sanitiser moves a record whose postcode has fewer than k
households there: docs/design.md, Depersonalisation).

    _grid        the spatial index (pure)
    _gazetteer   the in-memory Gazetteer, opened from a gazetteer file
    _format      what a gazetteer file holds, and writing one
    loader       Code-Point Open + ONS households -> a gazetteer file
    transform    WGS84 -> British National Grid (pyproj)

The synthetic gazetteer of the demo and tests is exchange.testing.gazetteer.
"""

from exchange.errors import GazetteerError, NoQualifyingPostcode, UnknownPostcode
from exchange.storage.gazetteer._format import (
    GB_EASTING_RANGE,
    GB_NORTHING_RANGE,
    PostcodeCentroid,
    write_gazetteer,
)
from exchange.storage.gazetteer._gazetteer import Gazetteer
from exchange.storage.gazetteer.loader import LoadReport, load_codepoint
from exchange.storage.gazetteer.transform import bng_from_wgs84, describe_transform

__all__ = [
    "GB_EASTING_RANGE", "GB_NORTHING_RANGE", "Gazetteer", "GazetteerError", "LoadReport", "NoQualifyingPostcode",
    "PostcodeCentroid", "UnknownPostcode", "bng_from_wgs84", "describe_transform", "load_codepoint",
    "write_gazetteer",
]
