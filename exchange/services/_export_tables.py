"""The table exports: CSV (with its handling sidecar written by exchange.services.exports) and
XLSX (a banner row, a Handling sheet, the marking in the header, footer and properties).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path
from typing import Any

from exchange.core.schemas import Dataset
from exchange.errors import UsageError
from exchange.services._export_handling import Handling, _date_or_none, _naive_utc, _one_line, table_columns
from exchange.storage import csvfiles

XLSX_MAX_RECORDS = 1_048_576 - 2  # Excel's rows, less the banner and the header


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
