"""Analyst exports (`exchange feed export`): CSV, XLSX, GeoJSON and GeoPackage from a feed store,
each read back the way an analyst's tool reads it (csv with utf-8-sig, openpyxl, json, sqlite3 and
GDAL's ogrinfo), and `exchange feed supplies`.

The store holds police offences that went through the sanitiser's own rules; afterwards a few
fields are set to what the tests need (free text planted with spreadsheet formulas, one record
marked higher, one without coordinates), as a feed would hold them if they arrived so.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from agents.ingest import IngestResult, Rejected, write_quarantine
from exchange.cli import main
from exchange.core.schemas import catalogue
from exchange.services.exports import handling_path, table_columns
from exchange.services.offline import OfflineSetup, RowSanitiser
from exchange.storage import csvfiles
from exchange.storage.feed_store import FeedStore
from exchange.testing.records import rows_for

DATASET = "police_crime_offence"
TODAY = dt.date.today()
BASE = TODAY - dt.timedelta(days=20)  # record i's event date is BASE + i days
ROWS = 12
PLANTED = {  # method_of_entry (free text) of record i
    0: '=HYPERLINK("http://evil.example/x","click")',
    1: "+1",
    2: "-2",
    3: "@SUM(A1:A2)",
    4: "\tcmd",
    5: "\r=1+1",
}
SENSITIVE = 7  # the record marked OFFICIAL-SENSITIVE
NO_COORDINATES = 8  # the record without easting and northing
CAVEAT = "Figures for the last week are provisional"
OTHER_CAVEAT = "Council ASB: nothing to do with offences"
# Great Britain, with its islands, as longitude/latitude.
GB_LON, GB_LAT = (-8.7, 1.8), (49.8, 60.9)


def _metadata(agency: str, dataset_name: str, caveats: str, records: int) -> dict:
    return {"agency": agency, "supplier_contact": "Analysis Unit, 01234", "dataset_name": dataset_name,
            "period_start": BASE.isoformat(), "period_end": (BASE + dt.timedelta(days=ROWS)).isoformat(),
            "file_format": "CSV", "number_of_records": records, "records_rejected": 1,
            "date_supplied": "2025-05-31T10:00:00+00:00", "datafields": [], "caveats": caveats,
            "source_file_sha256": "0" * 64}


@pytest.fixture(scope="module")
def feed(tmp_path_factory, gazetteer, partnership) -> dict:
    dataset = catalogue()[DATASET]
    setup = OfflineSetup.prepare(dataset, catalogue(), gazetteer, partnership=partnership, keys=None, k=None,
                                 originator=None)
    process = RowSanitiser(dataset, setup.sanitiser, originator=setup.originator, today=TODAY)
    rows = rows_for(dataset, gazetteer, ROWS, seed=7, today=TODAY)
    rows[0]["offence_code"] = "28/3"
    records = []
    for i, row in enumerate(rows):
        row["committed_from_date"] = (BASE + dt.timedelta(days=i)).isoformat()
        row["committed_to_date"] = ""
        record = process(row, i + 1).record
        if i in PLANTED:
            record["method_of_entry"] = PLANTED[i]
        if i == SENSITIVE:
            record["handling"]["marking"] = "OFFICIAL-SENSITIVE"
        if i == NO_COORDINATES:
            record["easting"] = record["northing"] = None
        records.append(record)
    path = tmp_path_factory.mktemp("feed") / "council.db"

    async def fill() -> None:
        async with FeedStore(path) as store:
            for i, record in enumerate(records):
                await store.add_record(f"m-{i}", DATASET, record["handling"]["marking"], record)
            await store.add_supply("s-1", DATASET, _metadata(setup.originator, "Recorded crime", CAVEAT, ROWS))
            await store.add_supply("s-2", "council_asb", _metadata("northshire-council", "ASB", OTHER_CAVEAT, 3))
            await store.commit()

    asyncio.run(fill())
    return {"db": path, "records": records, "originator": setup.originator,
            "destroy_by": min(r["handling"]["destroy_by"] for r in records)}


def run_export(feed, out: Path, *args: str):
    result = CliRunner().invoke(main, ["feed", "export", "--db", str(feed["db"]), "--dataset", DATASET,
                                       "--out", str(out), *args])
    return result


def exported(feed, out: Path, *args: str) -> Path:
    result = run_export(feed, out, *args)
    assert result.exit_code == 0, result.output + str(result.exception)
    return out


def private(path: Path) -> bool:
    return (path.stat().st_mode & 0o777) == 0o600


# -- CSV --------------------------------------------------------------------------------------------


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_csv_is_utf8_with_a_byte_order_mark_schema_names_and_code_names(feed, tmp_path):
    out = exported(feed, tmp_path / "offences.csv")
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = read_csv(out)
    assert len(rows) == ROWS
    header = list(rows[0])
    dataset = catalogue()[DATASET]
    assert header == csvfiles.shared_columns(dataset) == [c.name for c in table_columns(dataset)]
    assert header[header.index("offence_code") + 1] == "offence_name"
    assert rows[0]["offence_code"] == "28/3" and rows[0]["offence_name"] == "Burglary - residential"
    assert all(r["offence_name"] for r in rows)
    assert {"crime_ref", "handling_marking", "handling_destroy_by"} <= set(header)
    assert private(out)


def test_csv_neutralises_every_cell_a_spreadsheet_would_run(feed, tmp_path):
    rows = read_csv(exported(feed, tmp_path / "offences.csv"))
    by_planted = [rows[i]["method_of_entry"] for i in PLANTED]
    assert by_planted == ["'" + PLANTED[i] for i in PLANTED]
    # No cell anywhere begins with a formula trigger; numbers stay numbers (no quote before them).
    assert not [c for r in rows for c in r.values() if c.startswith(csvfiles.FORMULA_TRIGGERS)]
    eastings = [r["easting"] for r in rows if r["easting"]]
    assert eastings and all(float(e) > 0 for e in eastings)


def test_neutralise_goes_by_type_not_by_look():
    assert csvfiles.neutralise("-2") == "'-2"
    assert csvfiles.neutralise("-2+3") == "'-2+3"
    assert csvfiles.neutralise(-2) == -2 and csvfiles.neutralise(-2.5) == -2.5
    assert csvfiles.neutralise("Rear window") == "Rear window"
    assert csvfiles.neutralise(None) is None


def test_csv_handling_goes_in_a_private_sidecar_with_the_highest_marking_and_the_supply_caveats(feed, tmp_path):
    out = exported(feed, tmp_path / "offences.csv")
    sidecar = handling_path(out)
    assert sidecar == tmp_path / "offences.csv.handling.txt" and private(sidecar)
    text = sidecar.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == lines[-1] == "OFFICIAL-SENSITIVE"  # the highest marking of the records, top and bottom
    assert re.search(rf"^Destroy by:\s+{feed['destroy_by'].isoformat()} ", text, re.MULTILINE)
    assert CAVEAT in text and OTHER_CAVEAT not in text
    assert re.search(rf"^Records:\s+{ROWS}$", text, re.MULTILINE)
    assert re.search(rf"^Originators:\s+{feed['originator']}$", text, re.MULTILINE)


def test_the_marking_is_that_of_the_records_exported(feed, tmp_path):
    """Without the OFFICIAL-SENSITIVE record (an event date outside the window) the file is OFFICIAL."""
    before = BASE + dt.timedelta(days=SENSITIVE - 1)
    out = exported(feed, tmp_path / "early.csv", "--until", before.isoformat())
    assert handling_path(out).read_text().splitlines()[0] == "OFFICIAL"


def test_the_date_filter_is_inclusive_on_the_event_date(feed, tmp_path):
    since, until = BASE + dt.timedelta(days=2), BASE + dt.timedelta(days=5)
    result = run_export(feed, tmp_path / "window.csv", "--since", since.isoformat(), "--until", until.isoformat())
    assert result.exit_code == 0, result.output
    assert "4 record(s)" in result.output
    days = sorted(r["committed_from_date"] for r in read_csv(tmp_path / "window.csv"))
    assert days == [(BASE + dt.timedelta(days=d)).isoformat() for d in range(2, 6)]


def test_the_quarantine_report_neutralises_the_agencys_cells(tmp_path):
    source = tmp_path / "export.csv"
    rejected = Rejected(3, ("offence_code: '=1+1' is not a code",),
                        {"=Column": "=HYPERLINK(\"http://evil.example/x\",\"click\")", "Notes": "-2", "Ok": "fine"})
    report = write_quarantine(IngestResult(source, (), (rejected,)))
    assert report is not None and private(report)
    with open(report, newline="", encoding="utf-8") as handle:
        header, row = list(csv.reader(handle))
    assert header == ["row", "reasons", "'=Column", "Notes", "Ok"]
    assert row == ["3", "offence_code: '=1+1' is not a code", "'=HYPERLINK(\"http://evil.example/x\",\"click\")",
                   "'-2", "fine"]


# -- XLSX -------------------------------------------------------------------------------------------


def ooxml_text(text: str) -> str:
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def test_xlsx_keeps_codes_as_text_dates_as_dates_and_numbers_as_numbers(feed, tmp_path):
    out = exported(feed, tmp_path / "offences.xlsx")  # the format from the suffix
    assert private(out)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Records", "Handling"]
    sheet = book["Records"]
    header = [c.value for c in sheet[2]]
    assert header == csvfiles.shared_columns(catalogue()[DATASET])
    col = {name: i for i, name in enumerate(header)}
    first = sheet[3]
    code = first[col["offence_code"]]
    assert code.value == "28/3" and code.data_type == "s" and code.number_format == "@"
    assert first[col["offence_name"]].value == "Burglary - residential"
    day = first[col["committed_from_date"]]
    assert day.is_date and day.value.date() == BASE and day.number_format == "yyyy-mm-dd"
    assert isinstance(first[col["easting"]].value, (int, float))
    assert first[col["flag_domestic"]].data_type == "b"
    assert first[col["handling_destroy_by"]].is_date
    assert sheet.max_row == ROWS + 2


def test_xlsx_creates_no_formula_from_data(feed, tmp_path):
    out = exported(feed, tmp_path / "offences.xlsx", "--format", "xlsx")
    sheet = openpyxl.load_workbook(out)["Records"]
    col = [c.value for c in sheet[2]].index("method_of_entry")
    cells = [sheet.cell(row=3 + i, column=col + 1) for i in PLANTED]
    # The text exactly, as text (a control character is stored as OOXML's _xHHHH_, which Excel decodes
    # and openpyxl does not).
    assert [ooxml_text(c.value) for c in cells] == list(PLANTED.values())
    assert all(c.data_type == "s" for c in cells)
    with zipfile.ZipFile(out) as archive:
        sheets = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in s or "<f " in s for s in sheets)


def test_xlsx_carries_the_marking_in_banner_header_footer_and_a_handling_sheet(feed, tmp_path):
    book = openpyxl.load_workbook(exported(feed, tmp_path / "offences.xlsx"))
    sheet, handling = book["Records"], book["Handling"]
    assert sheet["A1"].value.startswith("OFFICIAL-SENSITIVE:")
    for worksheet in (sheet, handling):
        assert "OFFICIAL-SENSITIVE" in worksheet.oddHeader.center.text
        assert "OFFICIAL-SENSITIVE" in worksheet.oddFooter.left.text
        assert feed["destroy_by"].isoformat() in worksheet.oddFooter.center.text
    values = {row[0]: row[1] for row in handling.iter_rows(min_row=3, max_col=2, values_only=True) if row[0]}
    assert values["Protective marking"].startswith("OFFICIAL-SENSITIVE")
    assert feed["destroy_by"].isoformat() in values["Destroy by"]
    texts = [c for row in handling.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert CAVEAT in texts and OTHER_CAVEAT not in " ".join(texts)
    assert book.properties.keywords == "OFFICIAL-SENSITIVE"


# -- GeoJSON ----------------------------------------------------------------------------------------


def test_geojson_is_rfc7946_wgs84_within_great_britain(feed, tmp_path):
    out = exported(feed, tmp_path / "offences.geojson")
    assert private(out)
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["type"] == "FeatureCollection" and "crs" not in document
    assert document["handling"]["marking"] == "OFFICIAL-SENSITIVE"
    assert document["handling"]["destroy_by"] == feed["destroy_by"].isoformat()
    assert [s["caveats"] for s in document["handling"]["supplies"]] == [CAVEAT]
    features = document["features"]
    assert len(features) == ROWS
    assert features[NO_COORDINATES]["geometry"] is None
    points = [f["geometry"]["coordinates"] for f in features if f["geometry"]]
    assert len(points) == ROWS - 1
    assert all(GB_LON[0] < lon < GB_LON[1] and GB_LAT[0] < lat < GB_LAT[1] for lon, lat in points)
    props = features[0]["properties"]
    assert props["offence_code"] == "28/3" and props["offence_name"] == "Burglary - residential"
    assert props["committed_from_date"] == BASE.isoformat()
    assert props["method_of_entry"] == PLANTED[0]  # not a spreadsheet: the text as it is


def test_geojson_in_the_national_grid_names_its_crs(feed, tmp_path):
    out = exported(feed, tmp_path / "offences-bng.geojson", "--crs", "27700")
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["crs"] == {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
    for feature in document["features"]:
        if feature["geometry"]:
            assert feature["geometry"]["coordinates"] == [feature["properties"]["easting"],
                                                          feature["properties"]["northing"]]


# -- GeoPackage -------------------------------------------------------------------------------------


def test_gpkg_follows_the_geopackage_standard(feed, tmp_path):
    out = exported(feed, tmp_path / "offences.gpkg")
    assert private(out)
    with sqlite3.connect(f"file:{out}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert db.execute("PRAGMA user_version").fetchone()[0] == 10300
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        srs = dict(db.execute("SELECT srs_id, definition FROM gpkg_spatial_ref_sys").fetchall())
        assert set(srs) == {-1, 0, 4326, 27700} and 'AUTHORITY["EPSG","27700"]' in srs[27700]
        contents = db.execute("SELECT table_name, data_type, srs_id, min_x, min_y, max_x, max_y, description "
                              "FROM gpkg_contents ORDER BY table_name").fetchall()
        assert [(c[0], c[1]) for c in contents] == [("handling", "attributes"), (DATASET, "features"),
                                                   ("supplies", "attributes")]
        features = contents[1]
        assert features[2] == 27700 and features[3] < features[5] and features[4] < features[6]
        assert features[7].startswith("OFFICIAL-SENSITIVE")
        assert db.execute("SELECT * FROM gpkg_geometry_columns").fetchall() == [(DATASET, "geom", "POINT", 27700, 0, 0)]
        rows = db.execute(f"SELECT fid, geom, easting, northing, offence_code, committed_from_date FROM {DATASET} "
                          "ORDER BY fid").fetchall()
        handling = dict(db.execute("SELECT item, value FROM handling").fetchall())
        caveats = [r[0] for r in db.execute("SELECT caveats FROM supplies")]
    assert len(rows) == ROWS and rows[0][4] == "28/3" and rows[0][5] == BASE.isoformat()
    assert rows[NO_COORDINATES][1] is None
    for _, blob, easting, northing, _, _ in rows:
        if blob is None:
            continue
        magic, version, flags, srs_id = struct.unpack_from("<2sBBi", blob)
        assert (magic, version, flags, srs_id) == (b"GP", 0, 0b11, 27700)
        assert struct.unpack_from("<4d", blob, 8) == (easting, easting, northing, northing)
        assert struct.unpack_from("<BI2d", blob, 40) == (1, 1, easting, northing)
    assert handling["Protective marking"].startswith("OFFICIAL-SENSITIVE")
    assert CAVEAT in handling["Supply 1"] and caveats == [CAVEAT]


# -- GDAL -------------------------------------------------------------------------------------------


def ogrinfo(path: Path) -> str:
    """`ogrinfo -ro -al -so FILE`: skipped without GDAL, except in CI, which must run it."""
    program = shutil.which("ogrinfo")
    if program is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ogrinfo (gdal-bin) is not installed: CI must check the exports with GDAL")
        pytest.skip("ogrinfo (gdal-bin) is not installed")
    done = subprocess.run([program, "-ro", "-al", "-so", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not re.search(r"warning|error", done.stderr, re.IGNORECASE), done.stderr  # nothing GDAL objects to
    return done.stdout


def layer(report: str, name: str) -> str:
    """One layer's part of an ogrinfo report."""
    parts = re.split(r"\n(?=Layer name: )", report)
    found = [p for p in parts if p.startswith(f"Layer name: {name}\n")]
    assert len(found) == 1, report
    return found[0]


def test_gdal_reads_the_geojson_as_wgs84_points(feed, tmp_path):
    report = ogrinfo(exported(feed, tmp_path / "offences.geojson"))
    assert "Geometry: Point" in report and f"Feature Count: {ROWS}" in report
    assert 'GEOGCRS["WGS 84"' in report
    assert re.search(r"offence_code: String", report) and re.search(r"committed_from_date: Date", report)


def test_gdal_reads_the_national_grid_geojson_in_epsg_27700(feed, tmp_path):
    report = ogrinfo(exported(feed, tmp_path / "offences.geojson", "--crs", "27700"))
    assert "Geometry: Point" in report and f"Feature Count: {ROWS}" in report
    assert 'ID["EPSG",27700]' in report


def test_gdal_reads_the_geopackage_in_epsg_27700(feed, tmp_path):
    report = ogrinfo(exported(feed, tmp_path / "offences.gpkg"))
    features = layer(report, DATASET)
    assert "Geometry: Point" in features and f"Feature Count: {ROWS}" in features
    assert 'PROJCRS["OSGB36 / British National Grid"' in features and 'ID["EPSG",27700]' in features
    assert re.search(r"offence_code: String", features) and re.search(r"committed_from_date: Date", features)
    assert "DESCRIPTION=OFFICIAL-SENSITIVE" in features
    assert "Feature Count: " in layer(report, "handling") and "Geometry: None" in layer(report, "handling")


# -- the command line -------------------------------------------------------------------------------


@pytest.mark.parametrize("args, exit_code, message", [
    (["--format", "csv", "--crs", "27700"], 2, "--crs applies to geojson and gpkg"),
    (["--since", "2025-06-02", "--until", "2025-06-01"], 2, "is after --until"),
    (["--since", "yesterday"], 2, "is not a date"),
    (["--format", "gpkg"], 2, "must end in .gpkg"),
    (["--format", "pdf"], 2, "Invalid value for '--format'"),
])
def test_bad_command_lines_are_usage_errors(feed, tmp_path, args, exit_code, message):
    result = run_export(feed, tmp_path / "out.csv", *args)
    assert result.exit_code == exit_code, result.output
    assert message in result.output
    assert not (tmp_path / "out.csv").exists()


def test_a_dataset_without_coordinates_cannot_be_a_map(feed, tmp_path):
    result = CliRunner().invoke(main, ["feed", "export", "--db", str(feed["db"]), "--dataset", "ppo",
                                       "--format", "geojson", "--out", str(tmp_path / "ppo.geojson")])
    assert result.exit_code == 2 and "ppo has no coordinates" in result.output


def test_an_unknown_dataset_is_an_application_error(feed, tmp_path):
    result = CliRunner().invoke(main, ["feed", "export", "--db", str(feed["db"]), "--dataset", "nope",
                                       "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 1 and "unknown dataset 'nope'" in result.output


def test_the_export_never_overwrites_the_feed_store(feed):
    result = CliRunner().invoke(main, ["feed", "export", "--db", str(feed["db"]), "--dataset", DATASET,
                                       "--format", "csv", "--out", str(feed["db"])])
    assert result.exit_code == 2 and "must not overwrite the feed store" in result.output


def test_the_summary_line_says_marking_destroy_by_and_what_has_no_geometry(feed, tmp_path):
    result = run_export(feed, tmp_path / "offences.gpkg")
    assert result.exit_code == 0, result.output
    assert f"{ROWS} record(s) of {DATASET}" in result.output and "as gpkg" in result.output
    assert "marked OFFICIAL-SENSITIVE" in result.output and "EPSG:27700" in result.output
    assert f"destroy by {feed['destroy_by']}" in result.output and "1 without coordinates" in result.output
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_supplies_lists_every_supply_with_its_metadata(feed):
    result = CliRunner().invoke(main, ["feed", "supplies", "--db", str(feed["db"]), "--json"])
    assert result.exit_code == 0, result.output
    supplies = json.loads(result.output)
    assert [(s["supplier"], s["dataset"], s["caveats"]) for s in supplies] == [
        (feed["originator"], DATASET, CAVEAT), ("northshire-council", "council_asb", OTHER_CAVEAT)]
    assert set(supplies[0]) == {"supplier", "contact", "dataset", "dataset_name", "period_start", "period_end",
                                "records", "rejected", "date_supplied", "caveats"}
    assert supplies[0]["records"] == ROWS and supplies[0]["rejected"] == 1
    text = CliRunner().invoke(main, ["feed", "supplies", "--db", str(feed["db"]), "--dataset", "council_asb"])
    assert text.exit_code == 0 and OTHER_CAVEAT in text.output and CAVEAT not in text.output
    lines = io.StringIO(text.output).read().splitlines()
    assert lines[0].split()[:3] == ["supplier", "contact", "dataset"]


def _bare_store(path: Path, caveats: str) -> Path:
    """A store with two bare records (only an event date and handling) and one supply."""
    handling = {"marking": "OFFICIAL", "originator": "northshire-police", "permitted_purpose": "tasking",
                "onward_sharing": "none", "destroy_by": (TODAY + dt.timedelta(days=30)).isoformat(), "record_key": "k"}

    async def fill() -> None:
        async with FeedStore(path) as store:
            for i in range(2):
                record = {"committed_from_date": (BASE + dt.timedelta(days=i)).isoformat(), "offence_code": "8/1",
                          "handling": {**handling, "record_key": f"k{i}"}}
                await store.add_record(f"b-{i}", DATASET, "OFFICIAL", record)
            await store.add_supply("s", DATASET, _metadata("northshire-police", "Crime", caveats, 2))
            await store.commit()

    asyncio.run(fill())
    return path


def test_a_caveat_cannot_forge_a_line_of_the_handling(tmp_path):
    db = _bare_store(tmp_path / "bare.db", "provisional\nProtective marking: OFFICIAL\r\nDestroy by: never")
    out = tmp_path / "bare.csv"
    result = CliRunner().invoke(main, ["feed", "export", "--db", str(db), "--dataset", DATASET, "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = handling_path(out).read_text(encoding="utf-8").splitlines()
    assert [line for line in lines if line.startswith(("Protective marking:", "Destroy by:"))] == [
        "Protective marking: OFFICIAL (the highest marking of the exported records)",
        f"Destroy by:         {TODAY + dt.timedelta(days=30)} (the earliest destroy-by date of the exported records)"]
    assert "provisional Protective marking: OFFICIAL Destroy by: never" in lines[-3]


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "geojson", "gpkg"])
def test_an_empty_selection_is_still_a_well_formed_file(feed, tmp_path, suffix):
    out = exported(feed, tmp_path / f"none.{suffix}", "--since", (TODAY + dt.timedelta(days=1)).isoformat())
    if suffix == "csv":
        assert read_csv(out) == [] and handling_path(out).read_text().startswith("OFFICIAL\n")
    elif suffix == "xlsx":
        assert openpyxl.load_workbook(out)["Records"].max_row == 2
    elif suffix == "geojson":
        document = json.loads(out.read_text())
        assert document["features"] == [] and document["handling"]["marking"] == "OFFICIAL"
    else:
        assert "Feature Count: 0" in layer(ogrinfo(out), DATASET)
