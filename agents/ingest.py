"""Read an agency's CSV export into validated records; everything rejected goes to a quarantine
CSV next to the input, with its row number and every reason.

A row whose status column says it is withdrawn (the mapping's [withdrawal] table) becomes a
withdrawal of its natural key; a handling column (the [handling] table) gives each record the
originator's restriction. A withdrawal file (`exchange agent withdraw`) holds key columns only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exchange.core.schemas import Dataset
from exchange.core.validation import Formats, parse_restriction, validate_key, validate_row
from exchange.errors import RowInvalid
from exchange.storage import csvfiles

MAX_FIELD_BYTES = csvfiles.MAX_FIELD_BYTES


@dataclass(frozen=True, slots=True)
class Accepted:
    row_number: int  # 1-based data row, as a spreadsheet user counts after the header
    record: dict[str, Any]
    restriction: str | None = None  # the originator's: NOT_FOR_DISSEMINATION or SUB_JUDICE


@dataclass(frozen=True, slots=True)
class Withdrawn:
    row_number: int
    key: dict[str, Any]  # the record's natural key, typed


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
    withdrawn: tuple[Withdrawn, ...] = ()

    def quarantine_path(self) -> Path:
        return self.source.with_name(self.source.stem + ".quarantine.csv")


@dataclass(frozen=True, slots=True)
class RowStatus:
    """Where an export says more than the record: its handling and withdrawal columns."""

    handling_column: str | None = None
    withdrawal_column: str | None = None
    withdrawal_values: frozenset[str] = frozenset()  # lower case

    def columns(self) -> dict[str, str]:
        named = {"handling": self.handling_column, "withdrawal status": self.withdrawal_column}
        return {purpose: column for purpose, column in named.items() if column}

    def withdraws(self, cells: Mapping[str, str]) -> bool:
        return self.withdrawal_column is not None and \
            (cells.get(self.withdrawal_column) or "").strip().lower() in self.withdrawal_values


def read_export(path: Path, dataset: Dataset, columns: Mapping[str, str], formats: Formats,
                *, today: dt.date | None = None, encoding: str = "utf-8",
                status: RowStatus = RowStatus()) -> IngestResult:
    """Validate every row; an export whose header lacks mapped columns is refused as a whole."""
    accepted, rejected, withdrawn = [], [], []
    for item in iter_export(path, dataset, columns, formats, today=today, encoding=encoding, status=status):
        if isinstance(item, Accepted):
            accepted.append(item)
        elif isinstance(item, Withdrawn):
            withdrawn.append(item)
        else:
            rejected.append(item)
    return IngestResult(path, tuple(accepted), tuple(rejected), tuple(withdrawn))


def iter_export(path: Path, dataset: Dataset, columns: Mapping[str, str], formats: Formats,
                *, today: dt.date | None = None, encoding: str = "utf-8",
                status: RowStatus = RowStatus()) -> Iterator[Accepted | Rejected | Withdrawn]:
    """Each row, validated, as it is read: a file of any size in bounded memory (the header is
    checked before the first row is yielded)."""
    mapping = {p.name: columns.get(p.name, p.name) for p in dataset.fields}
    with csvfiles.read_export(path, dataset, columns, encoding=encoding, extra_columns=status.columns()) as (_, rows):
        for row in rows:
            if row.problem is not None:
                yield Rejected(row.number, (row.problem,), row.cells)
                continue
            fields = {name: row.cells.get(column) for name, column in mapping.items()}
            try:
                if status.withdraws(row.cells):
                    yield Withdrawn(row.number, validate_key(dataset, fields, formats))
                    continue
                record = validate_row(dataset, fields, formats, today=today)
                yield Accepted(row.number, record, _restriction(status, row.cells))
            except RowInvalid as exc:
                yield Rejected(row.number, exc.reasons, row.cells)


def _restriction(status: RowStatus, cells: Mapping[str, str]) -> str | None:
    if status.handling_column is None:
        return None
    try:
        return parse_restriction(cells.get(status.handling_column))
    except ValueError as exc:
        raise RowInvalid([f"{status.handling_column}: {exc}"]) from None


def read_withdrawals(path: Path, dataset: Dataset, columns: Mapping[str, str], formats: Formats,
                     *, encoding: str = "utf-8") -> IngestResult:
    """A file of records to withdraw: the natural key's columns (as the mapping names them)."""
    withdrawn, rejected = [], []
    mapping = {name: columns.get(name, name) for name in dataset.natural_key}
    with csvfiles.read_export(path, dataset, {k: v for k, v in columns.items() if k in mapping},
                              encoding=encoding, required=dataset.natural_key) as (_, rows):
        for row in rows:
            if row.problem is not None:
                rejected.append(Rejected(row.number, (row.problem,), row.cells))
                continue
            try:
                key = validate_key(dataset, {name: row.cells.get(column) for name, column in mapping.items()}, formats)
                withdrawn.append(Withdrawn(row.number, key))
            except RowInvalid as exc:
                rejected.append(Rejected(row.number, exc.reasons, row.cells))
    return IngestResult(path, (), tuple(rejected), tuple(withdrawn))


def write_quarantine(result: IngestResult) -> Path | None:
    """Write the rejected rows (row number, reasons, original cells); remove a stale report.

    The cells are the agency's own, so a cell (or column name) a spreadsheet would read as a
    formula (=, +, -, @, tab, CR, LF first) is written with a leading single quote
    (csvfiles.neutralise): the report is opened in a spreadsheet to fix the export."""
    target = result.quarantine_path()
    if not result.rejected:
        target.unlink(missing_ok=True)
        return None
    columns: list[str] = []
    for item in result.rejected:
        columns.extend(c for c in item.row if c not in columns)
    with csvfiles.open_quarantine(target) as out:
        writer = csvfiles.SafeCsvWriter(out)
        writer.writerow(["row", "reasons", *columns])
        for item in result.rejected:
            writer.writerow([item.row_number, "; ".join(item.reasons), *(item.row.get(c, "") for c in columns)])
    return target
