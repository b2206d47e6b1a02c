"""Read an agency's CSV export into validated records; everything rejected goes to a quarantine
CSV next to the input, with its row number and every reason."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exchange.core.schemas import Dataset
from exchange.core.validation import Formats, validate_row
from exchange.errors import RowInvalid
from exchange.storage import csvfiles

MAX_FIELD_BYTES = csvfiles.MAX_FIELD_BYTES


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
                *, today: dt.date | None = None, encoding: str = "utf-8") -> IngestResult:
    """Validate every row; an export whose header lacks mapped columns is refused as a whole."""
    accepted, rejected = [], []
    mapping = {p.name: columns.get(p.name, p.name) for p in dataset.fields}
    with csvfiles.read_export(path, dataset, columns, encoding=encoding) as (_, rows):
        for row in rows:
            if row.problem is not None:
                rejected.append(Rejected(row.number, (row.problem,), row.cells))
                continue
            fields = {name: row.cells.get(column) for name, column in mapping.items()}
            try:
                accepted.append(Accepted(row.number, validate_row(dataset, fields, formats, today=today)))
            except RowInvalid as exc:
                rejected.append(Rejected(row.number, exc.reasons, row.cells))
    return IngestResult(path, tuple(accepted), tuple(rejected))


def write_quarantine(result: IngestResult) -> Path | None:
    """Write the rejected rows (row number, reasons, original cells); remove a stale report."""
    target = result.quarantine_path()
    if not result.rejected:
        target.unlink(missing_ok=True)
        return None
    columns: list[str] = []
    for item in result.rejected:
        columns.extend(c for c in item.row if c not in columns)
    with csvfiles.open_quarantine(target) as out:
        writer = csv.writer(out)
        writer.writerow(["row", "reasons", *columns])
        for item in result.rejected:
            writer.writerow([item.row_number, "; ".join(item.reasons), *(item.row.get(c, "") for c in columns)])
    return target
