"""CSV at the edge: reading an agency's export row by row, and writing the shared form.

Used by the agent's ingest, the offline `exchange sanitise` and `exchange feed export`, so that
all three number rows, refuse a broken header, treat bytes that are not UTF-8, and format cells
the same way.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exchange.core.reference import offence_name
from exchange.core.schemas import HANDLING_NAMES, Dataset
from exchange.errors import ConfigError
from exchange.storage._files import open_private
from exchange.storage.feed_store import to_json

__all__ = [
    "CODE_NAMES", "DELIMITERS", "ENCODINGS", "FORMULA_TRIGGERS", "HANDLING", "MAX_FIELD_BYTES", "NOT_UTF8_REASON",
    "QUARANTINE_ERRORS", "REPLACEMENT_REASON", "ExportRow", "SafeCsvWriter", "cell", "code_columns", "code_name",
    "neutralise", "open_quarantine", "read_export", "shared_cells", "shared_columns", "shared_names",
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


_ESCAPED_BYTE_RE = re.compile("[\udc80-\udcff]")  # a byte that was not UTF-8, kept by surrogateescape


def _not_utf8(text: str) -> bool:
    return not text.isascii() and _ESCAPED_BYTE_RE.search(text) is not None


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
            p.name for p in dataset.fields if not p.nullable and p.kind != "boolean"}
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


# -- spreadsheet (CSV) injection ------------------------------------------------------------------

# OWASP's CSV-injection advice: a cell a spreadsheet could read as a formula (or DDE call) begins
# with one of these; prefixing a single quote makes Excel and LibreOffice show it as text. Line
# feed is added to OWASP's list (some importers strip a leading newline and then see "=").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: Any) -> Any:
    """A cell as it is safe to write to a CSV a spreadsheet will open: text beginning with =, +, -,
    @, tab, CR or LF gets a leading single quote; anything else is returned as it is.

    The rule goes by type, not by look: only text is neutralised, and all text is, so "-2" typed
    into a free-text field becomes "'-2", while a number (an int or float value of a numeric
    field, which no one can make into a formula) is left alone. Text that looks like a number
    is not trusted, because "-2+3" and "-1+cmd|..." look like numbers to a careless check."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class SafeCsvWriter:
    """csv.writer whose every text cell (header included) goes through neutralise()."""

    def __init__(self, handle: Any, **kwargs: Any):
        self._writer = csv.writer(handle, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def open_quarantine(path: Path, mode: str = "w"):
    """The quarantine report, opened private; write it with SafeCsvWriter: its cells are the
    agency's own, and a formula planted in an export must not come alive in the report."""
    return open_private(path, mode, newline="", encoding="utf-8", errors=QUARANTINE_ERRORS)


# -- the shared form as CSV -------------------------------------------------------------------

# Code lists whose names outputs print beside the code (schemas.CODE_LISTS lists the known ones).
CODE_NAMES: dict[str, Callable[[str], str]] = {"home_office_offences": offence_name}


def shared_names(dataset: Dataset) -> list[str]:
    """The shared schema's field names, in order, without the handling record."""
    return [f["name"] for f in dataset.shared_schema()["fields"] if f["name"] != "handling"]


_CODE_COLUMNS: dict[int, tuple[Dataset, dict[str, str]]] = {}  # by id(dataset): derived once per dataset


def code_columns(dataset: Dataset) -> dict[str, str]:
    """Field with a code list -> the column naming its code, beside it: offence_code -> offence_name,
    trigger_offence_code -> trigger_offence_name (FIELD_name when that is taken or the field does
    not end in _code)."""
    held = _CODE_COLUMNS.get(id(dataset))
    if held is not None and held[0] is dataset:
        return held[1]
    names = set(shared_names(dataset))
    found = {}
    for policy in dataset.fields:
        if policy.code_list is None or policy.code_list not in CODE_NAMES or policy.name not in names:
            continue
        column = policy.name.removesuffix("_code") + "_name" if policy.name.endswith("_code") else ""
        if not column or column in names:
            column = f"{policy.name}_name"
        found[policy.name] = column
    _CODE_COLUMNS[id(dataset)] = (dataset, found)
    return found


def code_name(dataset: Dataset, field: str, code: Any) -> str | None:
    """The name of a code in the field's code list (None for no code)."""
    if code is None or code == "":
        return None
    return CODE_NAMES[dataset.field(field).code_list or ""](str(code))


def shared_columns(dataset: Dataset) -> list[str]:
    """The columns of the shared form: each field (a code's name beside its code), then handling_<name>."""
    codes = code_columns(dataset)
    columns: list[str] = []
    for name in shared_names(dataset):
        columns.append(name)
        if name in codes:
            columns.append(codes[name])
    return columns + [f"handling_{h}" for h in HANDLING]


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    return str(to_json(value))


def shared_cells(dataset: Dataset, record: Mapping[str, Any], *, names: list[str] | None = None) -> list[str]:
    """One shared record as CSV cells, in shared_columns order (pass `names` to skip re-deriving
    them). Text is neutralised against spreadsheet formulas (neutralise); numbers are not."""
    names = shared_names(dataset) if names is None else names
    codes = code_columns(dataset)
    caveats = record.get("handling") or {}
    cells: list[str] = []
    for name in names:
        value = record.get(name)
        cells.append(cell(neutralise(value)))
        if name in codes:
            cells.append(cell(neutralise(code_name(dataset, name, value))))
    return cells + [cell(neutralise(caveats.get(h))) for h in HANDLING]
