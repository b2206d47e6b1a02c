"""Loading the real public formats: Ordnance Survey Code-Point Open (a file, a folder or its zip)
and ONS postcode household estimates, into one gazetteer file, reporting every rejected row
by file, row and reason."""

from __future__ import annotations

import csv
import math
import os
import time
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


def _codepoint_files(codepoint: Path) -> list[Path]:
    if codepoint.is_dir():
        files = sorted(p for p in codepoint.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
        if not files:
            raise GazetteerError(f"{codepoint}: folder holds no *.csv Code-Point Open files")
        return files
    if codepoint.is_file():
        return [codepoint]
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
    path: Path, postcode_column: str, households_column: str, rejects: _Rejects, progress: _Progress
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
    missing = [c for c in (postcode_column, households_column) if c.strip().lower() not in names]
    if missing:
        records.close()
        raise GazetteerError(
            f"{path}: households file has no column {', '.join(map(repr, missing))} "
            f"(columns are {', '.join(map(repr, header))}); see --postcode-column/--households-column"
        )
    pi = names.index(postcode_column.strip().lower())
    hi = names.index(households_column.strip().lower())
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
    postcode_column: str = "postcode",
    households_column: str = "households",
    progress: Callable[[int], None] | None = None,
) -> LoadReport:
    """Build a gazetteer file from Code-Point Open CSV (a file or a folder of *.csv, no header,
    10 columns) and an ONS-style households CSV (header; column names matched ignoring case).

    Every malformed row is rejected and counted, with examples naming file, row and reason;
    Code-Point postcodes with no household row get 0 households (so they never qualify).
    Rows with no coordinates (positional quality 90, 0/0) are rejected, since a 0,0 centroid
    would drag records to the grid's origin.
    """
    started = time.perf_counter()
    codepoint, households_path = Path(codepoint), Path(households_csv)
    files = _codepoint_files(codepoint)
    rejects = _Rejects()
    ticker = _Progress(progress)
    households = _read_households(households_path, postcode_column, households_column, rejects, ticker)
    emin, emax = GB_EASTING_RANGE
    nmin, nmax = GB_NORTHING_RANGE
    # postcode -> (easting, northing, households, file number, row number)
    rows: dict[str, tuple[float, float, int, int, int]] = {}
    for file_no, path in enumerate(files):
        for row_no, row in _csv_records(path):
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
                            f"duplicate postcode {postcode} (first at {files[first[3]].name} row {first[4]})")
                continue
            entry = households.get(postcode)
            rows[postcode] = (easting, northing, entry[0] if entry else 0, file_no, row_no)
    ticker.finish()
    unmatched = sum(1 for p in households if p not in rows)
    meta = {
        "source": "Ordnance Survey Code-Point Open; ONS postcode household estimates",
        "codepoint": ", ".join(p.name for p in files),
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

