"""WGS84 (latitude, longitude) to British National Grid with pyproj: OSTN15 when its grid is
installed, else the 7-parameter Helmert transform (stated accuracy about 2 m)."""

from __future__ import annotations

import functools
import math
import warnings

from exchange.errors import (
    GazetteerError,
)
from exchange.storage.gazetteer._format import GB_EASTING_RANGE, GB_NORTHING_RANGE

__all__ = ["bng_from_wgs84", "describe_transform"]

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
