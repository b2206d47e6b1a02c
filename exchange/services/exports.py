"""Exports of what a feed holds, in the forms analysts open: CSV, XLSX, GeoJSON and GeoPackage.

Every format has the same columns (csvfiles.shared_columns): the shared schema's fields in order,
the name of a code beside each code (offence_code, offence_name), then the record's handling
caveats as handling_<name>. A date filter (`since`, `until`, inclusive) goes by the dataset's
event date field.

Every export carries its handling: the marking (the highest of the exported records), the
originators, permitted purposes and onward-sharing condition, the destroy-by date (the earliest
of the exported records: the file must go when its first record must) and the caveats of the
supplies the records came in:

    csv      UTF-8 with a byte-order mark (so Excel reads "£" as "£"); the handling in a sidecar
             FILE.handling.txt, because a banner row would break every CSV reader. Text cells
             beginning with =, +, -, @, tab, CR or LF get a leading single quote (OWASP's advice
             on CSV injection; csvfiles.neutralise), numbers never: the rule goes by type
    xlsx     xlsxwriter: codes as text (28/3 never becomes a date), dates as dates, numbers as
             numbers, text only ever by write_string (no formula is created from data); the
             marking in a banner row, in the page header and footer and in the document
             properties; a "Handling" sheet
    geojson  RFC 7946: WGS 84 longitude/latitude converted from British National Grid with pyproj
             (crs=27700 for easting/northing, with the legacy "crs" member GDAL reads); records
             without coordinates have a null geometry; the handling in a top-level "handling"
    gpkg     GeoPackage 1.3 (exchange.storage.geopackage) in EPSG:27700; the handling in the
             attribute tables "handling" and "supplies", and the marking in the layer's description

Each file is written beside its target and moved into place when complete, created 0600. The
records are read in one query, so the handling describes exactly the records written even while
a feed is storing more.

The writers live in private modules: _export_handling (the columns and the Handling every format
carries), _export_tables (CSV, XLSX) and _export_geo (GeoJSON, GeoPackage).
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exchange.core.audit_events import AuditEvent
from exchange.core.schemas import Catalogue, Dataset
from exchange.errors import UsageError
from exchange.services._export_geo import CRS_NAMES, _axes, _write_geojson, _write_gpkg
from exchange.services._export_handling import Handling, TableColumn, supply_summary, table_columns
from exchange.services._export_tables import _write_csv, _write_xlsx
from exchange.storage._files import open_private, private_folder
from exchange.storage.feed_store import FeedStore

__all__ = [
    "DEFAULT_CRS", "FORMATS", "SUFFIXES", "ExportResult", "Handling", "TableColumn", "export", "export_csv",
    "format_for", "handling_path", "list_supplies", "output_event", "supply_summary", "table_columns",
]

FORMATS = ("csv", "xlsx", "geojson", "gpkg")
SUFFIXES = {".csv": "csv", ".xlsx": "xlsx", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}
DEFAULT_CRS = {"geojson": 4326, "gpkg": 27700}  # RFC 7946 for GeoJSON; the national grid for GIS


def format_for(out: str | Path) -> str:
    """The format an output file's suffix names (csv when it names none)."""
    return SUFFIXES.get(Path(out).suffix.lower(), "csv")


def handling_path(out: str | Path) -> Path:
    """Where a CSV export's handling goes: FILE.handling.txt beside FILE."""
    out = Path(out)
    return out.with_name(out.name + ".handling.txt")


async def list_supplies(store: FeedStore, dataset: str | None = None) -> list[dict[str, Any]]:
    """Every supply the store has received (of one dataset if named), oldest first."""
    return [supply_summary(s) for s in await store.supplies() if dataset is None or s.get("dataset") == dataset]


# -- one export -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    dataset: str
    format: str
    out: Path
    records: int
    marking: str
    destroy_by: dt.date | None
    crs: int | None = None
    without_geometry: int = 0
    handling_file: Path | None = None


def _event_date(dataset: Dataset, record: dict[str, Any]) -> dt.date | None:
    value = record.get(dataset.event_date_field)
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _within(day: dt.date | None, since: dt.date | None, until: dt.date | None) -> bool:
    if since is None and until is None:
        return True
    return day is not None and (since is None or day >= since) and (until is None or day <= until)


def _overlaps(supply: dict[str, Any], since: dt.date | None, until: dt.date | None) -> bool:
    start, end = supply.get("period_start"), supply.get("period_end")
    try:
        if until is not None and start and dt.date.fromisoformat(str(start)) > until:
            return False
        if since is not None and end and dt.date.fromisoformat(str(end)) < since:
            return False
    except ValueError:
        return True  # a period it cannot read: keep its caveats
    return True


@contextmanager
def _atomic(out: Path) -> Iterator[Path]:
    """A private temporary file beside `out`, moved into place if the block completes."""
    private_folder(out.parent)
    fd, temp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)  # 0600
    os.close(fd)
    try:
        yield Path(temp)
        os.replace(temp, out)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _check(dataset: Dataset, fmt: str, out: Path, crs: int | None, since: dt.date | None,
           until: dt.date | None) -> int | None:
    if fmt not in FORMATS:
        raise UsageError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if since is not None and until is not None and since > until:
        raise UsageError(f"--since {since} is after --until {until}")
    if fmt in DEFAULT_CRS:
        if not _axes(dataset):
            raise UsageError(f"{dataset.id} has no coordinates (easting and northing): export it as csv or xlsx")
        if crs is not None and crs not in CRS_NAMES:
            raise UsageError(f"--crs {crs} is not one of {', '.join(str(c) for c in CRS_NAMES)}")
        if fmt == "gpkg" and out.suffix.lower() != ".gpkg":
            raise UsageError(f"{out}: a GeoPackage's name must end in .gpkg (GeoPackage requirement 3)")
        return DEFAULT_CRS[fmt] if crs is None else crs
    if crs is not None:
        raise UsageError(f"--crs applies to geojson and gpkg, not {fmt}")
    return None


async def export(store: FeedStore, dataset_id: str, catalogue: Catalogue, out: str | Path, *, fmt: str = "csv",
                 since: dt.date | None = None, until: dt.date | None = None, crs: int | None = None,
                 db_path: str | Path | None = None) -> ExportResult:
    """Write one dataset's records (their event date within since..until, inclusive, if given) to
    `out` in `fmt`, with the handling the module docstring describes."""
    dataset = catalogue[dataset_id]
    out = Path(out)
    crs = _check(dataset, fmt, out, crs, since, until)
    if db_path is not None and out.resolve() == Path(db_path).resolve():
        raise UsageError(f"{out}: the export must not overwrite the feed store")
    if out.is_dir():
        raise UsageError(f"{out} is a folder: --out names the file to write")
    handling = Handling(dataset, since, until, crs)
    handling.supplies = [s for s in await list_supplies(store, dataset.id) if _overlaps(s, since, until)]

    async def records() -> Any:
        async for record in store.records(dataset.id):
            if _within(_event_date(dataset, record), since, until):
                handling.add(record)
                yield record

    writer = {"csv": _write_csv, "xlsx": _write_xlsx, "geojson": _write_geojson, "gpkg": _write_gpkg}[fmt]
    with _atomic(out) as temp:
        without_geometry = await writer(dataset, records(), handling, temp)
        sidecar = None
        if fmt == "csv":
            sidecar = handling_path(out)
            with open_private(sidecar, "w", encoding="utf-8") as handle:
                handle.write(handling.text())
    return ExportResult(dataset.id, fmt, out, handling.records, str(handling.final_marking), handling.destroy_by,
                        crs, without_geometry or 0, sidecar)


def output_event(kind: str, dataset: str | None, count: int, marking: str | None, what: str,
                 out: str | Path) -> AuditEvent:
    """The audit's record of an export or briefing written from a feed store: what, how many
    records, under which marking, to which file, by which account on which machine (outputs leave
    the store's protection, so the guidance's "record your decision to share" applies to them too)."""
    who = f"{getpass.getuser()}@{socket.gethostname()}"
    return AuditEvent(kind, dataset, count=count, marking=marking, detail=f"{what}, written to {out} by {who}")


async def export_csv(store: FeedStore, dataset_id: str, catalogue: Catalogue, out: Path, *,
                     since: dt.date | None = None, until: dt.date | None = None) -> int:
    """One dataset's records as CSV (export with fmt="csv"); returns how many were written."""
    return (await export(store, dataset_id, catalogue, out, fmt="csv", since=since, until=until)).records
