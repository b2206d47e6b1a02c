"""Read an agency's CSV export into validated records; everything rejected goes to a quarantine
CSV next to the input, with its row number and every reason."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from exchange.errors import ConfigError
from exchange.schemas import Dataset
from exchange.validation import Formats, RowInvalid, validate_row

MAX_FIELD_BYTES = 32_768


@dataclass(frozen=True, slots=True)
class Accepted:
    row_number: int  # 1-based data row, as a spreadsheet user counts after the header
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rejected:
    row_number: int
    reasons: tuple[str, ...]
    row: dict[str, str]


@dataclass(frozen=True)
class IngestResult:
    source: Path
    accepted: tuple[Accepted, ...]
    rejected: tuple[Rejected, ...]

    def quarantine_path(self) -> Path:
        return self.source.with_name(self.source.stem + ".quarantine.csv")


def read_export(path: Path, dataset: Dataset, columns: Mapping[str, str], formats: Formats,
                *, today: dt.date | None = None) -> IngestResult:
    """Validate every row; an export whose header lacks mapped columns is refused as a whole."""
    csv.field_size_limit(MAX_FIELD_BYTES)
    accepted, rejected = [], []
    try:
        # Bytes that are not UTF-8 (a cp1252 pound sign, say) survive as surrogates, so the rows
        # holding them are quarantined with a reason instead of the whole read failing.
        handle = open(path, newline="", encoding="utf-8-sig", errors="surrogateescape")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames or []
        except csv.Error as exc:
            raise ConfigError(f"{path}: the header row cannot be read ({exc})") from exc
        if any(_not_utf8(name) for name in header):
            raise ConfigError(f"{path}: the header row is not UTF-8; save the export as UTF-8")
        mapping = {name: columns.get(name, name) for name in (p.name for p in dataset.fields)}
        absent = [f"{column} (for {name})" for name, column in mapping.items()
                  if column not in header and not dataset.field(name).nullable
                  and dataset.field(name).avro_type != "boolean"]
        if absent:
            raise ConfigError(f"{path}: header lacks required column(s): {', '.join(absent)}")
        row_number = 0
        while True:
            try:
                raw = next(reader)
            except StopIteration:
                break
            except (csv.Error, UnicodeDecodeError) as exc:
                row_number += 1
                rejected.append(Rejected(row_number, (f"unreadable CSV row: {exc}",), {}))
                continue
            row_number += 1
            if None in raw:  # more cells than the header has columns
                extra = raw.pop(None)
                rejected.append(Rejected(row_number, (f"{len(extra)} cell(s) beyond the header",), _clean(raw)))
                continue
            if any(_not_utf8(value) for value in raw.values() if isinstance(value, str)):
                rejected.append(Rejected(row_number, ("contains bytes that are not UTF-8; save the export as UTF-8",),
                                         _clean(raw)))
                continue
            fields = {name: raw.get(column) for name, column in mapping.items()}
            try:
                accepted.append(Accepted(row_number, validate_row(dataset, fields, formats, today=today)))
            except RowInvalid as exc:
                rejected.append(Rejected(row_number, exc.reasons, _clean(raw)))
    return IngestResult(path, tuple(accepted), tuple(rejected))


def _not_utf8(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _clean(row: Mapping[Any, Any]) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in row.items() if k is not None}


def write_quarantine(result: IngestResult) -> Path | None:
    """Write the rejected rows (row number, reasons, original cells); remove a stale report."""
    target = result.quarantine_path()
    if not result.rejected:
        target.unlink(missing_ok=True)
        return None
    columns: list[str] = []
    for item in result.rejected:
        columns.extend(c for c in item.row if c not in columns)
    # surrogateescape writes a row's non-UTF-8 bytes back as they were, for the agency to see.
    with open(target, "w", newline="", encoding="utf-8", errors="surrogateescape") as out:
        writer = csv.writer(out)
        writer.writerow(["row", "reasons", *columns])
        for item in result.rejected:
            writer.writerow([item.row_number, "; ".join(item.reasons), *(item.row.get(c, "") for c in columns)])
    return target
