"""Loading the real public formats: Ordnance Survey Code-Point Open (a file, a folder or its zip)
and ONS postcode household estimates, into one gazetteer file, reporting every rejected row
by file, row and reason."""

from __future__ import annotations

import csv
import math
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from exchange.core.postcode import normalise_postcode
from exchange.errors import (
    GazetteerError,
    InvalidPostcode,
)
from exchange.storage.gazetteer._format import (
    GB_EASTING_RANGE,
    GB_NORTHING_RANGE,
    write_gazetteer,
)

__all__ = ["load_codepoint", "LoadReport"]

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


def _csv_records(path: Path) -> Generator[tuple[int, list[str]], None, None]:
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


# Column names of the published household files, tried in order when none is given: ONS's 2011
# postcode headcounts ("Postcode", "Total", ..., "Occupied_Households"), its 2021 postcode estimates,
# and the exchange's own synthetic file ("postcode", "households").
POSTCODE_COLUMNS = ("postcode", "postcode unit", "pcds", "pcd", "pcd7", "pcd8")
HOUSEHOLDS_COLUMNS = ("occupied_households", "households", "number of households", "count of households",
                      "household_count", "total households")


def _column(names: list[str], given: str | None, known: tuple[str, ...]) -> str | None:
    """The header name to read: the one given, else the first known name the header has."""
    if given is not None:
        return given.strip().lower()
    normalised = [n.replace("_", " ") for n in names]
    for candidate in known:
        for index, name in enumerate(normalised):
            if name == candidate.replace("_", " "):
                return names[index]
    return None


def _codepoint_files(codepoint: Path, unpack_to: Path) -> list[tuple[Path, Path]]:
    """The Code-Point Open CSV files as (where to read it, how to name it in a report): one file,
    a folder of them, or the zip as Ordnance Survey publishes it (its Data/CSV/*.csv members,
    unpacked to `unpack_to`, named zip!member)."""
    if codepoint.is_file() and zipfile.is_zipfile(codepoint):
        with zipfile.ZipFile(codepoint) as archive:
            members = sorted(m for m in archive.namelist()
                             if m.lower().endswith(".csv") and "/data/csv/" in f"/{m.lower()}")
            if not members:
                raise GazetteerError(f"{codepoint}: zip holds no Data/CSV/*.csv members (is it Code-Point Open?)")
            files = []
            for index, member in enumerate(members):
                target = unpack_to / f"{index:04d}-{Path(member).name}"  # never a path from the archive
                with archive.open(member) as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out)
                files.append((target, Path(f"{codepoint}!{member}")))
            return files
    if codepoint.is_dir():
        found = sorted(p for p in codepoint.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
        if not found:
            raise GazetteerError(f"{codepoint}: folder holds no *.csv Code-Point Open files")
        return [(p, p) for p in found]
    if codepoint.is_file():
        return [(codepoint, codepoint)]
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
    path: Path, postcode_column: str | None, households_column: str | None, rejects: _Rejects, progress: _Progress
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
    chosen = {"postcode": _column(names, postcode_column, POSTCODE_COLUMNS),
              "households": _column(names, households_column, HOUSEHOLDS_COLUMNS)}
    missing = [repr(given or what) for what, given, column in (("postcode", postcode_column, chosen["postcode"]),
                                                               ("households", households_column, chosen["households"]))
               if column is None or column not in names]
    if missing:
        records.close()
        known = ", ".join(map(repr, POSTCODE_COLUMNS + HOUSEHOLDS_COLUMNS))
        raise GazetteerError(
            f"{path}: households file has no column {', '.join(missing)} "
            f"(columns are {', '.join(map(repr, header))}; names recognised without options: {known}); "
            "see --postcode-column/--households-column"
        )
    pi = names.index(str(chosen["postcode"]))
    hi = names.index(str(chosen["households"]))
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
    postcode_column: str | None = None,
    households_column: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> LoadReport:
    """Build a gazetteer file from Code-Point Open (a CSV file, a folder of them, or the zip as
    published; no header, 10 columns) and a households CSV (header; the ONS files' own column
    names are recognised, or give them; matched ignoring case).

    Every malformed row is rejected and counted, with examples naming file, row and reason;
    Code-Point postcodes with no household row get 0 households (so they never qualify).
    Rows with no coordinates (positional quality 90, 0/0) are rejected, since a 0,0 centroid
    would drag records to the grid's origin.
    """
    started = time.perf_counter()
    codepoint, households_path = Path(codepoint), Path(households_csv)
    unpacked = tempfile.TemporaryDirectory(prefix="codepoint-")
    files = _codepoint_files(codepoint, Path(unpacked.name))
    rejects = _Rejects()
    ticker = _Progress(progress)
    households = _read_households(households_path, postcode_column, households_column, rejects, ticker)
    emin, emax = GB_EASTING_RANGE
    nmin, nmax = GB_NORTHING_RANGE
    # postcode -> (easting, northing, households, file number, row number)
    rows: dict[str, tuple[float, float, int, int, int]] = {}
    for file_no, (read_from, path) in enumerate(files):
        for row_no, row in _csv_records(read_from):
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
                            f"duplicate postcode {postcode} (first at {files[first[3]][1].name} row {first[4]})")
                continue
            entry = households.get(postcode)
            rows[postcode] = (easting, northing, entry[0] if entry else 0, file_no, row_no)
    unpacked.cleanup()
    ticker.finish()
    unmatched = sum(1 for p in households if p not in rows)
    meta = {
        "source": "Ordnance Survey Code-Point Open; ONS postcode household estimates",
        "codepoint": ", ".join(shown.name for _, shown in files),
        "households": households_path.name,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "crs": "EPSG:27700",
        "postcodes": str(len(rows)),
        "rejected": str(rejects.count),
        "unmatched_households": str(unmatched),
        "schema_version": "1",
    }
    write_gazetteer(out_db, ((p, *rows[p][:3]) for p in sorted(rows)), meta)
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

