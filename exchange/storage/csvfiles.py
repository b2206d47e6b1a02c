"""CSV at the edge: reading an agency's export row by row, and writing the shared form.

Used by the agent's ingest, the offline `exchange sanitise` and `exchange feed export`, so that
all three number rows, refuse a broken header, treat bytes that are not UTF-8, and format cells
the same way.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exchange.core.schemas import HANDLING_NAMES, Dataset, base_type
from exchange.errors import ConfigError
from exchange.storage._files import open_private
from exchange.storage.feed_store import to_json

__all__ = [
    "DELIMITERS", "ENCODINGS", "HANDLING", "MAX_FIELD_BYTES", "NOT_UTF8_REASON", "QUARANTINE_ERRORS",
    "REPLACEMENT_REASON", "ExportRow", "cell", "open_quarantine", "read_export", "shared_cells", "shared_columns",
    "shared_names",
]

MAX_FIELD_BYTES = 32_768  # a longer cell is refused, not read into memory
HANDLING = HANDLING_NAMES
NOT_UTF8_REASON = "contains bytes that are not UTF-8; save the export as UTF-8"
REPLACEMENT_REASON = ("contains the replacement character \ufffd: the export was damaged by an earlier "
                      "conversion; export it again")
ENCODINGS = {"utf-8": "utf-8-sig", "windows-1252": "cp1252"}  # the mapping's name -> Python's codec
_ENCODING_NAMES = {"utf-8": "UTF-8", "windows-1252": "Windows-1252"}
DELIMITERS = (",", ";", "\t", "|")


def _delimiter(first_line: str) -> str:
    """The delimiter the header row uses: the candidate it holds most of (a comma when none)."""
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _delimiter_name(delimiter: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "vertical bar"}[delimiter]


@dataclass(frozen=True, slots=True)
class ExportRow:
    number: int  # 1-based data row, as a spreadsheet user counts after the header
    cells: dict[str, str]  # by column name; empty when the row could not be read at all
    problem: str | None  # why the row cannot even be validated, if so


def _not_utf8(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


@contextmanager
def read_export(path: Path, dataset: Dataset, columns: Mapping[str, str], *, encoding: str = "utf-8",
                extra_columns: Mapping[str, str] | None = None,
                required: Iterable[str] | None = None) -> Iterator[tuple[list[str], Iterator[ExportRow]]]:
    """Open an export; yield (header, rows). `columns` maps schema field -> export column;
    `extra_columns` names further columns the mapping uses (purpose -> column, e.g. the handling
    column); `required` the fields whose columns must be there (default: every required field).

    The delimiter (comma, semicolon, tab or vertical bar) is the one the header row uses. An
    unreadable header, one that is not in `encoding`, one lacking a required column, or one
    lacking a column the mapping names, refuses the whole file, naming it and the column. Bytes
    that are not UTF-8 (a cp1252 pound sign in a UTF-8 export, say) are kept as surrogates, so
    only the rows holding them are refused (and shown with "?" in the quarantine), as are rows
    holding the replacement character an earlier conversion left.
    """
    if encoding not in ENCODINGS:
        raise ConfigError(f"{path}: encoding {encoding!r} is not one of {', '.join(ENCODINGS)}")
    csv.field_size_limit(MAX_FIELD_BYTES)
    try:
        handle = open(path, newline="", encoding=ENCODINGS[encoding], errors="surrogateescape")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    with handle:
        try:
            delimiter = _delimiter(handle.readline(MAX_FIELD_BYTES))
        except UnicodeError as exc:
            raise ConfigError(f"{path}: the header row cannot be read ({exc.__class__.__name__})") from exc
        handle.seek(0)
        reader = csv.DictReader(handle, delimiter=delimiter)
        try:
            header = list(reader.fieldnames or [])
        except csv.Error as exc:
            raise ConfigError(f"{path}: the header row cannot be read ({exc})") from exc
        if any(_not_utf8(name) for name in header):
            raise ConfigError(f"{path}: the header row is not {_ENCODING_NAMES[encoding]}; save the export as "
                              f"{_ENCODING_NAMES[encoding]}")
        read_as = f" (read as {_delimiter_name(delimiter)}-separated)"
        unmapped = [f"{column} (mapped to {name})" for name, column in columns.items() if column not in header]
        unmapped += [f"{column} (the {purpose} column)" for purpose, column in (extra_columns or {}).items()
                     if column not in header]
        if unmapped:
            raise ConfigError(f"{path}: header lacks column(s) the mapping names: {', '.join(unmapped)}{read_as}")
        needed = set(required) if required is not None else {
            p.name for p in dataset.fields if not p.nullable and base_type(p.avro_type) != "boolean"}
        absent = [f"{columns.get(p.name, p.name)} (for {p.name})" for p in dataset.fields
                  if p.name in needed and columns.get(p.name, p.name) not in header]
        if absent:
            raise ConfigError(f"{path}: header lacks required column(s) of {dataset.id}: {', '.join(absent)}"
                              f"{read_as}")
        yield header, _rows(reader)


def _rows(reader: csv.DictReader) -> Iterator[ExportRow]:
    number = 0
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            number += 1
            yield ExportRow(number, {}, f"unreadable CSV row: {exc}")
            continue
        number += 1
        extra = raw.pop(None, None)  # more cells than the header has columns
        cells = {str(k): "" if v is None else str(v) for k, v in raw.items()}
        if extra:
            yield ExportRow(number, cells, f"{len(extra)} cell(s) beyond the header")
        elif any(_not_utf8(v) for v in cells.values()):
            yield ExportRow(number, cells, NOT_UTF8_REASON)
        elif any("\ufffd" in v for v in cells.values()):
            yield ExportRow(number, cells, REPLACEMENT_REASON)
        else:
            yield ExportRow(number, cells, None)


QUARANTINE_ERRORS = "replace"  # a row's non-UTF-8 bytes become "?", so the report itself stays UTF-8


def open_quarantine(path: Path, mode: str = "w"):
    return open_private(path, mode, newline="", encoding="utf-8", errors=QUARANTINE_ERRORS)


# -- the shared form as CSV -------------------------------------------------------------------


def shared_names(dataset: Dataset) -> list[str]:
    return [f["name"] for f in dataset.shared_schema()["fields"] if f["name"] != "handling"]


def shared_columns(dataset: Dataset) -> list[str]:
    return shared_names(dataset) + [f"handling_{h}" for h in HANDLING]


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    return str(to_json(value))


def shared_cells(dataset: Dataset, record: Mapping[str, Any], *, names: list[str] | None = None) -> list[str]:
    """One shared record as CSV cells, in shared_columns order (pass `names` to skip re-deriving them)."""
    names = shared_names(dataset) if names is None else names
    caveats = record.get("handling") or {}
    return [cell(record.get(n)) for n in names] + [cell(caveats.get(h)) for h in HANDLING]
