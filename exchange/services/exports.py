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
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import json
import math
import os
import re
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exchange.core.audit_events import AuditEvent
from exchange.core.marking import OFFICIAL, OFFICIAL_SENSITIVE_PERSONAL, Marking, parse_marking
from exchange.core.schemas import HANDLING_FIELDS, HANDLING_NAMES, Catalogue, Dataset, base_type
from exchange.errors import ConfigError, UsageError
from exchange.storage import csvfiles
from exchange.storage._files import open_private, private_folder
from exchange.storage.feed_store import FeedStore

__all__ = [
    "DEFAULT_CRS", "FORMATS", "SUFFIXES", "ExportResult", "Handling", "TableColumn", "export", "export_csv",
    "format_for", "handling_path", "list_supplies", "output_event", "supply_summary", "table_columns",
]

FORMATS = ("csv", "xlsx", "geojson", "gpkg")
SUFFIXES = {".csv": "csv", ".xlsx": "xlsx", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}
DEFAULT_CRS = {"geojson": 4326, "gpkg": 27700}  # RFC 7946 for GeoJSON; the national grid for GIS
CRS_NAMES = {4326: "WGS 84 longitude/latitude (EPSG:4326)",
             27700: "British National Grid easting/northing (EPSG:27700)"}
XLSX_MAX_RECORDS = 1_048_576 - 2  # Excel's rows, less the banner and the header
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def format_for(out: str | Path) -> str:
    """The format an output file's suffix names (csv when it names none)."""
    return SUFFIXES.get(Path(out).suffix.lower(), "csv")


def handling_path(out: str | Path) -> Path:
    """Where a CSV export's handling goes: FILE.handling.txt beside FILE."""
    out = Path(out)
    return out.with_name(out.name + ".handling.txt")


# -- the columns, typed ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableColumn:
    """One column of an export: its name, kind and where its value comes from."""

    name: str
    kind: str  # text, code, date, time, int, float, bool
    source: str  # the record's field (or the handling caveat's name, or the code field it names)
    where: str = "field"  # field, handling, code_name

    def value(self, dataset: Dataset, record: dict[str, Any]) -> Any:
        """The cell's value, typed: dates and times as such, numbers and booleans as they are."""
        if self.where == "handling":
            raw = (record.get("handling") or {}).get(self.source)
        elif self.where == "code_name":
            return csvfiles.code_name(dataset, self.source, record.get(self.source))
        else:
            raw = record.get(self.source)
        if raw is None:
            return None
        if self.kind == "date" and isinstance(raw, str):
            return dt.date.fromisoformat(raw)
        if self.kind == "time" and isinstance(raw, str):
            return dt.time.fromisoformat(raw)
        if self.kind in ("text", "code") and not isinstance(raw, str):
            return str(raw)
        return raw


def _kind(avro_type: Any) -> str:
    base = base_type(avro_type)
    if isinstance(base, dict):
        logical = base.get("logicalType")
        if logical == "date":
            return "date"
        if logical in ("time-millis", "time-micros"):
            return "time"
        base = base.get("type")
    return {"int": "int", "long": "int", "float": "float", "double": "float", "boolean": "bool"}.get(str(base), "text")


def table_columns(dataset: Dataset) -> list[TableColumn]:
    """The export's columns in csvfiles.shared_columns order, each with its kind."""
    codes = csvfiles.code_columns(dataset)
    columns = []
    for item in dataset.shared_schema()["fields"]:
        name = item["name"]
        if name == "handling":
            continue
        columns.append(TableColumn(name, "code" if name in codes else _kind(item["type"]), name))
        if name in codes:
            columns.append(TableColumn(codes[name], "text", name, "code_name"))
    caveats = {f["name"]: f["type"] for f in HANDLING_FIELDS[1]["type"]["fields"]}
    columns += [TableColumn(f"handling_{h}", _kind(caveats[h]), h, "handling") for h in HANDLING_NAMES]
    return columns


# -- the handling an export carries ---------------------------------------------------------------


def _iso(value: Any) -> str | None:
    return None if value is None else str(value)


def supply_summary(supply: dict[str, Any]) -> dict[str, Any]:
    """A supply's metadata (guidance 3.4) as exports and `exchange feed supplies` show it."""
    return {
        "supplier": supply.get("agency"), "contact": supply.get("supplier_contact"), "dataset": supply.get("dataset"),
        "dataset_name": supply.get("dataset_name"), "period_start": _iso(supply.get("period_start")),
        "period_end": _iso(supply.get("period_end")), "records": supply.get("number_of_records"),
        "rejected": supply.get("records_rejected", 0), "date_supplied": _iso(supply.get("date_supplied")),
        "caveats": supply.get("caveats"),
    }


async def list_supplies(store: FeedStore, dataset: str | None = None) -> list[dict[str, Any]]:
    """Every supply the store has received (of one dataset if named), oldest first."""
    return [supply_summary(s) for s in await store.supplies() if dataset is None or s.get("dataset") == dataset]


def _one_line(value: Any) -> str:
    """Text from another agency as one line: no newline in a caveat can forge a line of its own."""
    text = "" if value is None else str(value)
    return _CONTROL.sub(" ", " ".join(text.split()))


@dataclass
class Handling:
    """What an export says about how to handle it, gathered while its records are written."""

    dataset: Dataset
    since: dt.date | None = None
    until: dt.date | None = None
    crs: int | None = None
    crs_note: str = ""
    records: int = 0
    marking: Marking | None = None
    originators: set[str] = field(default_factory=set)
    purposes: set[str] = field(default_factory=set)
    onward_sharing: set[str] = field(default_factory=set)
    destroy_by: dt.date | None = None
    supplies: list[dict[str, Any]] = field(default_factory=list)
    exported_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(microsecond=0))

    def add(self, record: dict[str, Any]) -> None:
        caveats = record.get("handling") or {}
        for text in (record.get("marking"), caveats.get("marking")):
            if text:
                found = parse_marking(str(text))
                self.marking = found if self.marking is None else self.marking.at_least(found)
        for target, value in ((self.originators, caveats.get("originator")),
                              (self.purposes, caveats.get("permitted_purpose")),
                              (self.onward_sharing, caveats.get("onward_sharing"))):
            if value:
                target.add(str(value))
        destroy_by = caveats.get("destroy_by")
        if destroy_by:
            day = destroy_by if isinstance(destroy_by, dt.date) else dt.date.fromisoformat(str(destroy_by))
            self.destroy_by = day if self.destroy_by is None else min(self.destroy_by, day)
        self.records += 1

    @property
    def final_marking(self) -> Marking:
        """The highest marking of the exported records (with none, the dataset's least)."""
        if self.marking is not None:
            return self.marking
        return OFFICIAL_SENSITIVE_PERSONAL if self.dataset.personal else OFFICIAL

    def statement(self) -> str:
        originators = ", ".join(sorted(self.originators)) or "the originators"
        destroy = (f"destroy it by {self.destroy_by.isoformat()}" if self.destroy_by
                   else "destroy it when no longer needed")
        return (f"{self.final_marking}: handle, store and share this file as {self.final_marking} under the "
                f"partnership's Information Sharing Protocol; no onward sharing without the consent of {originators}; "
                f"{destroy}.")

    def items(self) -> list[tuple[str, str]]:
        """The handling as (label, text) pairs: the sidecar, the Handling sheet, the GeoPackage table."""
        window = (f"{self.since or 'any date'} to {self.until or 'any date'}" if self.since or self.until
                  else "all (no date filter)")
        items = [
            ("Protective marking", f"{self.final_marking} (the highest marking of the exported records)"),
            ("Handling", self.statement()),
            ("Dataset", f"{self.dataset.title} ({self.dataset.id})"),
            ("Records", str(self.records)),
            ("Event dates", f"{window} ({self.dataset.event_date_field}, inclusive)"),
            ("Exported", self.exported_at.isoformat()),
            ("Originators", ", ".join(sorted(self.originators)) or "none"),
            ("Permitted purposes", "; ".join(sorted(self.purposes)) or "none recorded"),
            ("Onward sharing", "; ".join(sorted(self.onward_sharing)) or "none recorded"),
            ("Destroy by", f"{self.destroy_by} (the earliest destroy-by date of the exported records)"
             if self.destroy_by else "not set"),
        ]
        if self.crs_note:
            items.append(("Coordinates", self.crs_note))
        for number, supply in enumerate(self.supplies, 1):
            items.append((f"Supply {number}", self.supply_line(supply)))
        return [(label, _one_line(text)) for label, text in items]

    @staticmethod
    def supply_line(supply: dict[str, Any]) -> str:
        period = f"{supply['period_start'] or '?'} to {supply['period_end'] or '?'}"
        return (f"{supply['supplier']}, {supply['dataset_name'] or supply['dataset']}, events {period}, "
                f"{supply['records']} record(s), {supply['rejected']} rejected, supplied {supply['date_supplied']}; "
                f"contact: {supply['contact'] or 'none given'}; caveats: {supply['caveats'] or 'none'}")

    def text(self) -> str:
        width = max(len(label) for label, _ in self.items())
        lines = [str(self.final_marking), ""]
        lines += [f"{label + ':':<{width + 1}} {text}" for label, text in self.items()]
        return "\n".join([*lines, "", str(self.final_marking)]) + "\n"

    def as_dict(self) -> dict[str, Any]:
        return {
            "marking": str(self.final_marking), "statement": self.statement(),
            "dataset": self.dataset.id, "title": self.dataset.title, "records": self.records,
            "event_dates": {"field": self.dataset.event_date_field, "since": _iso(self.since),
                            "until": _iso(self.until)},
            "exported_at": self.exported_at.isoformat(), "originators": sorted(self.originators),
            "permitted_purposes": sorted(self.purposes), "onward_sharing": sorted(self.onward_sharing),
            "destroy_by": _iso(self.destroy_by), "coordinates": self.crs_note or None, "supplies": self.supplies,
        }


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


def _axes(dataset: Dataset) -> tuple[str, str] | None:
    axes = {p.axis: p.name for p in dataset.fields_with("coordinate")}
    names = set(csvfiles.shared_names(dataset))
    if axes.get("easting") in names and axes.get("northing") in names:
        return axes["easting"], axes["northing"]
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


# -- CSV ------------------------------------------------------------------------------------------


async def _write_csv(dataset: Dataset, records: Any, handling: Handling, temp: Path) -> None:
    names = csvfiles.shared_names(dataset)
    with open(temp, "w", newline="", encoding="utf-8-sig") as handle:  # utf-8-sig: the byte-order mark
        writer = csv.writer(handle)
        writer.writerow(csvfiles.shared_columns(dataset))
        async for record in records:
            writer.writerow(csvfiles.shared_cells(dataset, record, names=names))


# -- XLSX -----------------------------------------------------------------------------------------


def _header_text(text: str) -> str:
    return text.replace("&", "&&")  # & starts a control code in Excel's header and footer


async def _write_xlsx(dataset: Dataset, records: Any, handling: Handling, temp: Path) -> None:
    import xlsxwriter

    columns = table_columns(dataset)
    # No string may become a formula, a number or a link, even through a plain write().
    workbook = xlsxwriter.Workbook(str(temp), {"strings_to_formulas": False, "strings_to_numbers": False,
                                               "strings_to_urls": False})
    try:
        bold = workbook.add_format({"bold": True})
        banner = workbook.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F3864"})
        text = workbook.add_format({"num_format": "@"})
        formats = {"date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
                   "time": workbook.add_format({"num_format": "hh:mm:ss"}),
                   "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})}
        sheet = workbook.add_worksheet("Records")
        for number, column in enumerate(columns):
            width = {"date": 12, "time": 10, "bool": 8}.get(column.kind, min(max(len(column.name) + 2, 12), 40))
            sheet.set_column(number, number, width, text if column.kind == "code" else None)
            sheet.write_string(1, number, column.name, bold)
        row = 1
        async for record in records:
            row += 1
            if row - 1 > XLSX_MAX_RECORDS:
                raise UsageError(f"more than {XLSX_MAX_RECORDS} records: too many for a worksheet; export csv, or "
                                 "fewer records with --since/--until")
            for number, column in enumerate(columns):
                _xlsx_cell(sheet, row, number, column.kind, column.value(dataset, record), text, formats)
        marking = str(handling.final_marking)
        sheet.merge_range(0, 0, 0, max(len(columns) - 1, 1), _one_line(handling.statement()), banner)
        sheet.freeze_panes(2, 0)
        sheet.autofilter(1, 0, max(row, 1), len(columns) - 1)

        info = workbook.add_worksheet("Handling")
        info.set_column(0, 0, 22)
        info.set_column(1, 1, 100)
        info.write_string(0, 0, marking, banner)
        for number, (label, value) in enumerate(handling.items(), 2):
            info.write_string(number, 0, label, bold)
            info.write_string(number, 1, value)
        _xlsx_supplies(info, len(handling.items()) + 3, handling, bold, formats)

        header = f'&C&"-,Bold"{_header_text(marking)}'
        destroy = f"Destroy by {handling.destroy_by}" if handling.destroy_by else ""
        footer = f'&L&"-,Bold"{_header_text(marking)}&C{_header_text(destroy)}&RPage &P of &N'
        for worksheet in (sheet, info):
            worksheet.set_header(header)
            worksheet.set_footer(footer)
        workbook.set_properties({"title": f"{dataset.title} [{marking}]", "subject": handling.statement(),
                                 "keywords": marking, "category": marking,
                                 "comments": "Handling caveats and supplies: see the Handling sheet."})
        workbook.set_custom_property("Protective marking", marking)
    finally:
        workbook.close()


def _xlsx_cell(sheet: Any, row: int, col: int, kind: str, value: Any, text: Any, formats: dict[str, Any]) -> None:
    if value is None:
        return
    if kind in ("date", "time") and isinstance(value, (dt.date, dt.time)):
        sheet.write_datetime(row, col, value, formats[kind])
    elif kind == "bool" and isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif kind in ("int", "float") and isinstance(value, (int, float)) and math.isfinite(value):
        sheet.write_number(row, col, value)
    else:  # text, codes, anything unexpected: a string cell, never a formula
        sheet.write_string(row, col, str(value), text if kind == "code" else None)


def _xlsx_supplies(sheet: Any, first_row: int, handling: Handling, bold: Any, formats: dict[str, Any]) -> None:
    titles = ["Supplier", "Contact", "Dataset", "Period start", "Period end", "Records", "Rejected", "Date supplied",
              "Caveats"]
    sheet.write_string(first_row, 0, "Supplies", bold)  # below the items, one supply a row
    for col, title in enumerate(titles):
        sheet.write_string(first_row + 1, col, title, bold)
    for number, supply in enumerate(handling.supplies, first_row + 2):
        values: list[tuple[str, Any]] = [
            ("text", supply["supplier"]), ("text", supply["contact"]),
            ("text", supply["dataset_name"] or supply["dataset"]),
            ("date", _date_or_none(supply["period_start"])), ("date", _date_or_none(supply["period_end"])),
            ("int", supply["records"]), ("int", supply["rejected"]),
            ("datetime", _naive_utc(supply["date_supplied"])), ("text", supply["caveats"])]
        for col, (kind, value) in enumerate(values):
            if value is None:
                continue
            if kind in ("date", "datetime"):
                sheet.write_datetime(number, col, value, formats[kind])
            elif kind == "int" and isinstance(value, int):
                sheet.write_number(number, col, value)
            else:
                sheet.write_string(number, col, str(value))


def _date_or_none(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _naive_utc(value: Any) -> dt.datetime | None:
    """A timestamp as Excel holds one: no time zone, so in UTC."""
    try:
        moment = dt.datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


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
