"""`exchange audit report`: the originator's report read from the sanitiser's audit log, and its
renderings (text, CSV, HTML, JSON), each marked OFFICIAL-SENSITIVE at top and bottom.

The figures come from exchange.core.originator_report (pure); this module reads the audit file,
supplies the sanitiser's output-id function for the release join, and renders. CSV cells go
through exchange.storage.csvfiles.neutralise (OWASP CSV injection); HTML is one self-contained page
(inline style, no script, no external reference) with every value escaped.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from exchange.core.originator_report import NO_GRANT, OriginatorReport, build_report, canonical_json
from exchange.core.partnership import Grant
from exchange.errors import UsageError
from exchange.services.sanitiser_core import output_message_id
from exchange.storage.csvfiles import SafeCsvWriter

__all__ = ["FORMATS", "bound", "load_report", "render", "report_from_events", "signed_form"]

FORMATS = ("text", "csv", "html", "json")


def bound(value: str | None, *, end: bool) -> str | None:
    """--since / --until as the audit's UTC ISO text. A date is its midnight (UTC); as --until, a
    date includes that whole day (the bound is the next midnight). A time without offset is UTC."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            at = dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time(), tzinfo=dt.UTC)
        else:
            at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{value!r}: expected YYYY-MM-DD or an ISO-8601 time") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def report_from_events(events: Iterable[dict[str, Any]], originator: str, grants: Iterable[Grant], *,
                       since: str | None = None, until: str | None = None) -> OriginatorReport:
    return build_report(events, originator, grants, output_id=output_message_id,
                        since=bound(since, end=False), until=bound(until, end=True))


async def load_report(db_path: str | Path, originator: str, grants: Iterable[Grant], *,
                      since: str | None = None, until: str | None = None) -> OriginatorReport:
    from exchange.storage.audit import AuditLog

    async with AuditLog(db_path, create=False) as audit:
        events = await audit.query(since=bound(since, end=False))
    return report_from_events(events, originator, grants, since=since, until=until)


# --- rendering -------------------------------------------------------------------------------


def _grant_cells(terms) -> list[str]:
    if terms is None:
        return [NO_GRANT, "", "", ""]
    return [terms.purpose, terms.legal_basis, terms.approved_by, terms.expires]


_RELEASE_HEADINGS = ["recipient", "dataset", "records", "withdrawals", "first release", "last release", "purpose",
                     "legal basis", "approved by", "grant expires"]
_COUNT_HEADINGS = ["dataset", "reason", "count"]


def _release_rows(report: OriginatorReport) -> list[list[Any]]:
    return [[r.recipient, r.dataset, r.records, r.withdrawals, r.first, r.last, *_grant_cells(r.grant)]
            for r in report.releases]


def _sections(report: OriginatorReport) -> list[tuple[str, list[str], list[list[Any]]]]:
    def counts(items) -> list[list[Any]]:
        return [[c.dataset, c.reason_code, c.count] for c in items]

    return [("Released", _RELEASE_HEADINGS, _release_rows(report)),
            ("Withheld", _COUNT_HEADINGS, counts(report.withheld)),
            ("Refused", _COUNT_HEADINGS, counts(report.refused)),
            ("Withdrawn by the originator", _COUNT_HEADINGS, counts(report.withdrawals))]


def _title(report: OriginatorReport) -> str:
    period = f"{report.since or 'the start of the log'} to {report.until or 'now'}"
    return f"What became of {report.originator}'s supplies, {period} (from the sanitiser's audit log)"


def _table(headings: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headings)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headings, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def render_text(report: OriginatorReport) -> str:
    out = [report.marking, _title(report), ""]
    for name, headings, rows in _sections(report):
        out += [f"{name}:", _table(headings, rows) if rows else "  none", ""]
    out += [f"{report.records_released} record release(s) in all", report.marking]
    return "\n".join(out) + "\n"


def render_csv(report: OriginatorReport) -> str:
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer, lineterminator="\n")
    writer.writerow([report.marking])
    writer.writerow([_title(report)])
    writer.writerow(["section", *_RELEASE_HEADINGS])
    for row in _release_rows(report):
        writer.writerow(["released", *row])
    for name, _, rows in _sections(report)[1:]:
        for dataset, code, count in rows:
            writer.writerow([name.split()[0].lower(), "", dataset, count, "", "", "", code])
    writer.writerow([report.marking])
    return buffer.getvalue()


_STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
          "td,th{border:1px solid #999;padding:.2em .5em;text-align:left}"
          ".marking{font-weight:bold;text-align:center;color:#a00}")


def render_html(report: OriginatorReport) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
             f"<title>{e(report.marking)}: {e(_title(report))}</title><style>{_STYLE}</style></head><body>",
             f'<p class="marking">{e(report.marking)}</p>', f"<h1>{e(_title(report))}</h1>"]
    for name, headings, rows in _sections(report):
        parts.append(f"<h2>{e(name)}</h2>")
        if not rows:
            parts.append("<p>none</p>")
            continue
        parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in headings) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>")
    parts += [f"<p>{report.records_released} record release(s) in all</p>",
              f'<p class="marking">{e(report.marking)}</p>', "</body></html>"]
    return "\n".join(parts) + "\n"


def render_json(report: OriginatorReport) -> str:
    """The report's dict with the marking first and again last ("end_marking"); its canonical form
    (exchange.core.originator_report.canonical_json) is what a signature covers."""
    body = report.as_dict()
    return json.dumps({**body, "end_marking": report.marking}, indent=2, ensure_ascii=False) + "\n"


def signed_form(report: OriginatorReport) -> bytes:
    """The bytes the sanitiser signs: the canonical JSON of the report (the JSON form's content)."""
    return canonical_json({**report.as_dict(), "end_marking": report.marking})


def render(report: OriginatorReport, fmt: str) -> str:
    renderers = {"text": render_text, "csv": render_csv, "html": render_html, "json": render_json}
    if fmt not in renderers:
        raise UsageError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    return renderers[fmt](report)

