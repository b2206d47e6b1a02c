"""A Briefing (exchange.core.briefing) as a self-contained page, and as text. Pure.

The page carries everything inline (CSS, the map and the day chart as SVG): no external asset, no
font, no script unless it is served live. Every value is HTML-escaped, since records and supply
metadata come from other agencies. The marking, the handling caveats and the destroy-by date stand at
the top and bottom of the page and of every printed page: on screen the two banners stick to the top
and bottom of the window; in print they are `position: fixed`, which Chromium repeats on every page,
and the page body sits in a table whose header and footer (repeated on every page too) keep room
for them. Served live, the page asks `/version` every 2 seconds and reloads when the store changed
(`LIVE_SCRIPT`, allowed by its hash in the Content-Security-Policy, `LIVE_SCRIPT_CSP`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import math
from collections.abc import Iterable, Sequence

from exchange.core.briefing import (
    BASELINE_TEXT,
    RULES,
    Briefing,
    Change,
    DatasetFigures,
    Freshness,
    MapData,
    Window,
)

__all__ = ["LIVE_SCRIPT", "LIVE_SCRIPT_CSP", "as_html", "as_text", "content_security_policy", "day_chart_svg",
           "map_svg"]

LIVE_SCRIPT = ("(function(){var v=document.body.getAttribute('data-version');setInterval(function(){"
               "fetch('/version',{cache:'no-store'}).then(function(r){return r.json()}).then(function(j){"
               "if(j.version!==v){location.reload()}}).catch(function(){})},2000)})();")
LIVE_SCRIPT_CSP = "'sha256-" + base64.b64encode(hashlib.sha256(LIVE_SCRIPT.encode()).digest()).decode() + "'"
HEAT = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")  # 1, 2, 3-4, 5-9, 10+ records in a cell
HEAT_CLASSES = ("1", "2", "3-4", "5-9", "10+")
CHANGE_WORDS = {"above": "ABOVE baseline", "below": "below baseline", None: ""}


def content_security_policy(live: bool) -> str:
    """What the page may load: nothing but its own inline styles (and, live, its one script and /version)."""
    script = f"script-src {LIVE_SCRIPT_CSP}; connect-src 'self'" if live else "script-src 'none'"
    return (f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; {script}; base-uri 'none'; "
            "form-action 'none'")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _date(day: dt.date | None) -> str:
    return f"{day.day} {day:%b %Y}" if day else "none"


def _moment(moment: dt.datetime | None, tz: dt.tzinfo | None) -> str:
    if moment is None:
        return "none"
    local = moment.astimezone(tz) if tz is not None else moment
    return f"{local.day} {local:%b %Y %H:%M}"


def _interval(span: dt.timedelta | None) -> str:
    if span is None:
        return "unknown"
    hours = span.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.0f} h" if hours >= 1 else f"{max(0, span.total_seconds() / 60):.0f} min"
    return f"{hours / 24:.1f} days"


def _expected(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _p(value: float | None) -> str:
    if value is None:
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _covered(figures: DatasetFigures, b: Briefing) -> str:
    if figures.covered is None:
        return "no baseline: the feed holds no data before the period"
    note = f"{b.baseline.label()}"
    if figures.covered.days < b.baseline.days:
        note += (f"; only {figures.covered.days} of its {b.baseline.days} days are covered by the data held, "
                 f"from {_date(figures.covered.start)}")
    return note


def _freshness_status(item: Freshness) -> str:
    if item.last_supply is None:
        return "no supply metadata received"
    if item.usual_interval is None:
        return "cadence unknown (fewer than two supplies)"
    if item.late:
        return f"LATE: last supply {_interval(item.since_last)} ago, usual interval {_interval(item.usual_interval)}"
    return "on time"


# --- SVG ----------------------------------------------------------------------------------------


def _nice(length: float, steps: Sequence[float] = (1, 2, 2.5, 5)) -> float:
    """The largest 'round' number (1, 2, 2.5 or 5 times a power of ten) not above `length`."""
    if length <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(length))
    return max(s * power for s in steps if s * power <= length)


def _heat(count: int) -> str:
    return HEAT[0 if count <= 1 else 1 if count == 2 else 2 if count <= 4 else 3 if count <= 9 else 4]


def map_svg(m: MapData, *, title: str, period: Window) -> str:
    """The hotspot map: records in the period per grid cell over British National Grid, cells above
    their baseline outlined, cells holding flagged incidents ringed, postcode sectors labelled, with
    grid ticks (km), a scale bar and a north arrow (grid north)."""
    min_e, min_n, max_e, max_n = m.extent
    pad_km = 1000 if max_e - min_e < 2000 else 0
    min_e, max_e = min_e - pad_km // 2, max_e + pad_km // 2
    pad_n = 1000 if max_n - min_n < 2000 else 0
    min_n, max_n = min_n - pad_n // 2, max_n + pad_n // 2
    left, top, plot_w = 52, 12, 600.0
    scale = plot_w / (max_e - min_e)
    plot_h = (max_n - min_n) * scale
    if plot_h > 600:
        scale = 600 / (max_n - min_n)
        plot_w, plot_h = (max_e - min_e) * scale, 600.0
    legend_h = 62
    width, height = left + plot_w + 12, top + plot_h + 26 + legend_h

    def x(easting: float) -> float:
        return left + (easting - min_e) * scale

    def y(northing: float) -> float:
        return top + (max_n - northing) * scale

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="map" role="img" width="{width:.0f}" '
           f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" aria-label="{_e(title)}">',
           f"<title>{_e(title)}</title>",
           f'<rect class="map-bg" x="{left}" y="{top}" width="{plot_w:.1f}" height="{plot_h:.1f}" fill="#f4f6f8" '
           f'stroke="#8a94a6"/>']
    tick = _nice((max_e - min_e) / 5) if max_e > min_e else 1000.0
    tick = max(tick, float(m.cell))
    first = math.ceil(min_e / tick) * tick
    value = first
    while value <= max_e:
        out.append(f'<line x1="{x(value):.1f}" y1="{top}" x2="{x(value):.1f}" y2="{top + plot_h:.1f}" '
                   f'stroke="#dde2ea" stroke-width="0.6"/>')
        out.append(f'<text x="{x(value):.1f}" y="{top + plot_h + 13:.1f}" font-size="10" text-anchor="middle" '
                   f'fill="#444">{value / 1000:g} km E</text>')
        value += tick
    value = math.ceil(min_n / tick) * tick
    while value <= max_n:
        out.append(f'<line x1="{left}" y1="{y(value):.1f}" x2="{left + plot_w:.1f}" y2="{y(value):.1f}" '
                   f'stroke="#dde2ea" stroke-width="0.6"/>')
        out.append(f'<text x="{left - 4}" y="{y(value) + 3:.1f}" font-size="10" text-anchor="end" '
                   f'fill="#444">{value / 1000:g} km N</text>')
        value += tick
    side = m.cell * scale
    for cell in m.cells:
        stroke = ' stroke="#7a0019" stroke-width="2.2"' if cell.change == "above" else ' stroke="#ffffff" ' \
                                                                                     'stroke-width="0.5"'
        note = f"{cell.count} in the period, expected {_expected(cell.expected)}" + \
            (", ABOVE baseline" if cell.change == "above" else "") + \
            (f"; {cell.flagged} flagged" if cell.flagged else "")
        if cell.count:
            out.append(f'<rect class="cell" x="{x(cell.easting):.1f}" y="{y(cell.northing + m.cell):.1f}" '
                       f'width="{side:.1f}" height="{side:.1f}" fill="{_heat(cell.count)}"{stroke}>'
                       f"<title>{m.cell} m cell {cell.easting} E {cell.northing} N: {_e(note)}</title></rect>")
        if cell.flagged:
            radius = min(side / 2, 3 + 1.5 * math.sqrt(cell.flagged))
            out.append(f'<circle class="flagged" cx="{x(cell.easting + m.cell / 2):.1f}" '
                       f'cy="{y(cell.northing + m.cell / 2):.1f}" r="{radius:.1f}" fill="none" stroke="#1d4e89" '
                       f'stroke-width="1.6"><title>{cell.flagged} flagged in this cell</title></circle>')
    placed: list[tuple[float, float]] = []
    for label in sorted(m.labels, key=lambda item: -item.count):
        lx, ly = x(label.easting), y(label.northing)
        if any(abs(lx - px) < 46 and abs(ly - py) < 13 for px, py in placed):
            continue
        placed.append((lx, ly))
        out.append(f'<text class="sector" x="{lx:.1f}" y="{ly:.1f}" font-size="10.5" text-anchor="middle" '
                   f'fill="#1b1b1b" stroke="#ffffff" stroke-width="3" paint-order="stroke">'
                   f"{_e(label.sector)} ({label.count})</text>")
    # Scale bar (bottom left, inside the frame) and north arrow (top right).
    bar = _nice((max_e - min_e) * 0.3)
    bx, by = left + 10, top + plot_h - 12
    bar_px = bar * scale
    out.append(f'<g class="scale-bar"><rect x="{bx}" y="{by - 4:.1f}" width="{bar_px / 2:.1f}" height="4" '
               f'fill="#1b1b1b"/><rect x="{bx + bar_px / 2:.1f}" y="{by - 4:.1f}" width="{bar_px / 2:.1f}" '
               f'height="4" fill="#ffffff" stroke="#1b1b1b" stroke-width="0.8"/>'
               f'<text x="{bx}" y="{by - 7:.1f}" font-size="10" fill="#1b1b1b">0</text>'
               f'<text x="{bx + bar_px:.1f}" y="{by - 7:.1f}" font-size="10" text-anchor="middle" fill="#1b1b1b">'
               f'{(f"{bar / 1000:g} km" if bar >= 1000 else f"{bar:g} m")}</text></g>')
    nx, ny = left + plot_w - 22, top + 14
    out.append(f'<g class="north-arrow"><polygon points="{nx},{ny} {nx - 7},{ny + 20} {nx},{ny + 15} '
               f'{nx + 7},{ny + 20}" fill="#1b1b1b"/><text x="{nx}" y="{ny + 33}" font-size="12" '
               f'font-weight="bold" text-anchor="middle" fill="#1b1b1b">N</text></g>')
    # Legend.
    ly0 = top + plot_h + 26
    out.append(f'<text x="{left}" y="{ly0 + 10:.1f}" font-size="10.5" fill="#1b1b1b">Records per {m.cell} m cell, '
               f'{_e(period.label())}:</text>')
    for i, (colour, words) in enumerate(zip(HEAT, HEAT_CLASSES, strict=True)):
        lx = left + 10 + i * 62
        out.append(f'<rect x="{lx}" y="{ly0 + 16:.1f}" width="14" height="14" fill="{colour}" stroke="#8a94a6" '
                   f'stroke-width="0.5"/><text x="{lx + 18}" y="{ly0 + 27:.1f}" font-size="10.5">{words}</text>')
    lx = left + 10 + len(HEAT) * 62
    out.append(f'<rect x="{lx}" y="{ly0 + 16:.1f}" width="14" height="14" fill="#ffffff" stroke="#7a0019" '
               f'stroke-width="2.2"/><text x="{lx + 18}" y="{ly0 + 27:.1f}" font-size="10.5">above baseline</text>')
    lx += 112
    out.append(f'<circle cx="{lx + 7}" cy="{ly0 + 23:.1f}" r="5" fill="none" stroke="#1d4e89" stroke-width="1.6"/>'
               f'<text x="{lx + 18}" y="{ly0 + 27:.1f}" font-size="10.5">flagged incidents</text>')
    out.append(f'<text x="{left}" y="{ly0 + 44:.1f}" font-size="9.5" fill="#555">British National Grid '
               f"(EPSG:27700), grid north up; {m.cell} m cells. Labels: postcode sector (its records in the period)"
               f'</text><text x="{left}" y="{ly0 + 56:.1f}" font-size="9.5" fill="#555">at the mean position of '
               f"its records, to the nearest {m.cell} m.</text>")
    out.append("</svg>")
    return "".join(out)


def day_chart_svg(figures: DatasetFigures, b: Briefing) -> str:
    """Records per day over the baseline and the period, every day drawn (zeros as empty slots),
    the period's days dark, the baseline's average day as a dashed line."""
    days = figures.by_day
    width, height, left, top, bottom = 640, 150, 34, 10, 30
    plot_w, plot_h = width - left - 8, height - top - bottom
    peak = max([c for _, c in days] + [1])
    step = plot_w / max(1, len(days))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="days" role="img" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" aria-label="Records per day">',
           f"<title>{_e(figures.title)}: records per day, {_e(Window(b.baseline.start, b.period.end).label())}</title>",
           f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#8a94a6"/>',
           f'<text x="{left - 4}" y="{top + 8}" font-size="10" text-anchor="end">{peak}</text>',
           f'<text x="{left - 4}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>']
    for i, (day, count) in enumerate(days):
        h = plot_h * count / peak
        colour = "#1d4e89" if day in b.period else ("#9bb3d4" if figures.covered and day in figures.covered
                                                    else "#d5dbe3")
        out.append(f'<rect class="day" x="{left + i * step + 0.15 * step:.2f}" y="{top + plot_h - h:.2f}" '
                   f'width="{max(0.6, 0.7 * step):.2f}" height="{h:.2f}" fill="{colour}">'
                   f"<title>{day:%a} {day.day} {day:%b %Y}: {count}</title></rect>")
    if figures.covered is not None:
        mean = figures.total.baseline / figures.covered.days
        y = top + plot_h - plot_h * mean / peak
        start = next((i for i, (day, _) in enumerate(days) if day >= figures.covered.start), 0)
        out.append(f'<line x1="{left + start * step:.1f}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                   f'stroke="#b35900" stroke-dasharray="4 3" stroke-width="1.2"><title>baseline average '
                   f"{mean:.2f} a day</title></line>")
    labels = {0: days[0][0], len(days) - 1: days[-1][0]} if days else {}
    period_index = next((i for i, (day, _) in enumerate(days) if day == b.period.start), None)
    room = max(6, len(days) // 8)  # no label so close to another that the two overlap
    if period_index is not None and room < period_index < len(days) - 1 - room:
        labels[period_index] = b.period.start
    years = days[0][0].year != days[-1][0].year if days else False
    for i, day in labels.items():
        anchor = "start" if i == 0 else "end" if i == len(days) - 1 else "middle"
        out.append(f'<text x="{left + (i + 0.5) * step:.1f}" y="{top + plot_h + 14}" font-size="10" '
                   f'text-anchor="{anchor}">{day.day} {day:%b}{f" {day:%Y}" if years else ""}</text>')
    out.append(f'<text x="{left}" y="{height - 2}" font-size="9.5" fill="#555">dark: the period; light: baseline '
               f'days counted; grey: not covered by the data held; dashed: baseline average day</text>')
    out.append("</svg>")
    return "".join(out)


# --- HTML ---------------------------------------------------------------------------------------

_CSS = """
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; margin: 0; color: #1b1b1b; background: #fff;
  font-size: 14px; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.marking { background: #1d4e89; color: #fff; text-align: center; padding: .35rem .6rem; z-index: 10;
  font-size: .82rem; }
.marking .level { font-weight: bold; letter-spacing: .12em; font-size: 1rem; display: block; }
.frame { width: 100%; border-collapse: collapse; }
.frame > tbody > tr > td { padding: 0; }
main { max-width: 62rem; margin: 0 auto; padding: .6rem 1rem 1rem; }
h1 { font-size: 1.45rem; margin: .4rem 0 .1rem; }
h2 { font-size: 1.15rem; margin: 1.2rem 0 .35rem; border-bottom: 2px solid #1d4e89; padding-bottom: .1rem; }
h3 { font-size: 1rem; margin: .9rem 0 .3rem; }
.sub { color: #444; margin: .1rem 0; }
.warn { color: #8a1c00; font-weight: bold; }
.cards { display: flex; flex-wrap: wrap; gap: .6rem; margin: .7rem 0; }
.card { flex: 1 1 10rem; border: 1px solid #c9d1dd; border-radius: 5px; padding: .45rem .7rem; }
.card b { font-size: 1.5rem; display: block; }
.card small { color: #555; display: block; }
table.data { border-collapse: collapse; width: 100%; margin: .2rem 0 .4rem; }
table.data caption { text-align: left; font-size: .85rem; color: #444; padding: .15rem 0; caption-side: top; }
table.data th, table.data td { border-bottom: 1px solid #e1e5ec; padding: .18rem .35rem; text-align: left;
  vertical-align: top; }
table.data th { background: #eef2f7; font-weight: 600; }
table.data td.n, table.data th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.above td { background: #fde3df; }
tr.below td { background: #e3eefb; }
tr.total td { font-weight: bold; }
.tag { font-weight: bold; }
.tag.above { color: #9b1500; } .tag.below { color: #1d4e89; }
ul.emerging li { margin: .15rem 0; }
svg { max-width: 100%; height: auto; display: block; }
figure { margin: .6rem 0; }
td.nw { white-space: nowrap; }
.rules dt { font-weight: bold; margin-top: .3rem; } .rules dd { margin: 0 0 0 1rem; }
.twocol { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.spacer { height: 0; }
@page { size: A4; margin: 8mm 9mm; }
@media screen {
  .marking.top { position: sticky; top: 0; }
  .marking.bottom { position: sticky; bottom: 0; }
  .frame > thead, .frame > tfoot { display: none; }
}
@media print {
  body { font-size: 9.5pt; }
  main { max-width: none; padding: 0 .2rem; }
  .marking { position: fixed; left: 0; right: 0; padding: 1.2mm 2mm; font-size: 7.5pt; }
  .marking .level { font-size: 10pt; }
  .marking.top { top: 0; }
  .marking.bottom { bottom: 0; }
  .frame > thead .spacer, .frame > tfoot .spacer { height: 13mm; }
  .frame > thead { display: table-header-group; } .frame > tfoot { display: table-footer-group; }
  section.keep, figure, tr, .card { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  .twocol { grid-template-columns: 1fr 1fr; }
}
"""


def _banner(b: Briefing, where: str) -> str:
    originators = ", ".join(n.originator for n in b.handling) or "the originators"
    destroy = f"Destroy by {_date(b.destroy_by)}" if b.destroy_by else "Destroy-by: none recorded"
    return (f'<div class="marking {where}" data-marking="{_e(b.marking)}"><span class="level">{_e(b.marking)}'
            f"</span>No onward sharing without the consent of the originator ({_e(originators)}). "
            f"{_e(destroy)}.</div>")


def _change_rows(rows: Iterable[Change], total: Change | None = None) -> str:
    out = []
    for row in ([total] if total else []) + list(rows):
        css = " ".join(filter(None, [row.change or "", "total" if row is total else ""]))
        out.append(f'<tr class="{css}"><td>{_e(row.label)}</td><td class="n">{row.observed}</td>'
                   f'<td class="n">{_expected(row.expected)}</td><td class="n">{_p(row.p)}</td>'
                   f'<td><span class="tag {row.change or ""}">{CHANGE_WORDS[row.change]}</span></td></tr>')
    return "".join(out)


def _change_table(caption: str, first: str, rows: Sequence[Change], total: Change | None = None) -> str:
    return (f'<table class="data"><caption>{caption}</caption><thead><tr><th>{_e(first)}</th>'
            f'<th class="n">period</th><th class="n">expected</th><th class="n">p</th><th>change</th></tr></thead>'
            f"<tbody>{_change_rows(rows, total) or '<tr><td colspan=5>none</td></tr>'}</tbody></table>")


def _dataset_section(f: DatasetFigures, b: Briefing) -> str:
    period = _e(b.period.label())
    baseline = _e(_covered(f, b))
    parts = [f'<section class="dataset" id="ds-{_e(f.id)}"><h2>{_e(f.title)} <small>({_e(f.id)})</small></h2>',
             f'<p class="sub">{f.total.observed} records in the period {period}; expected '
             f"{_expected(f.total.expected)} ({_e(BASELINE_TEXT[b.period_kind])}: {baseline}). "
             f"{f.generalised} of them were moved to the nearest postcode with enough households. "
             f"Last 24 hours: {f.last_24h}"
             + (f" (+{f.last_24h_untimed} dated in those days without a time)" if f.last_24h_untimed else "")
             + (f". {f.undated} records have no event date and are counted nowhere" if f.undated else "") + ".</p>",
             _change_table(f"{_e(f.category_label)} counts, {period}, against {_e(BASELINE_TEXT[b.period_kind])} "
                           f"({baseline})", f.category_label, f.categories, f.total)]
    sectors = _change_table(
        f"Postcode sectors, {period}, against the same baseline"
        + (f"; {f.sectors_not_shown} more sectors with records not shown" if f.sectors_not_shown else "")
        + (f"; {f.no_sector} records without a postcode" if f.no_sector else ""), "Sector", f.sectors)
    flags = "".join(f'<tr><td>{_e(name)}</td><td class="n">{count}</td></tr>' for name, count in f.flags)
    flag_table = (f'<table class="data"><caption>Flags, {period}</caption><thead><tr><th>Flag</th>'
                  f'<th class="n">records</th></tr></thead><tbody>'
                  f"{flags or '<tr><td colspan=2>this dataset has no flag fields</td></tr>'}</tbody></table>")
    parts.append(f'<div class="twocol"><div>{sectors}</div><div>{flag_table}</div></div>')
    window = Window(b.baseline.start, b.period.end)
    shown_days = [(d, c) for d, c in f.by_day if d in b.period]
    if len(shown_days) < 7:
        shown_days = list(f.by_day[-7:])
    day_rows = "".join(f'<tr class="{"in" if d in b.period else ""}"><td>{d:%a} {d.day} {d:%b %Y}</td>'
                       f'<td class="n">{c}</td></tr>' for d, c in shown_days)
    parts.append(f'<figure class="keep"><h3>Records per day, {_e(window.label())} (every day, zeros included)</h3>'
                 f"{day_chart_svg(f, b)}</figure>"
                 f'<table class="data" style="max-width:22rem"><caption>Records per day, '
                 f"{_e(Window(shown_days[0][0], shown_days[-1][0]).label())}</caption><thead><tr><th>Day</th>"
                 f'<th class="n">records</th></tr></thead><tbody>{day_rows}</tbody></table>')
    if f.map is not None:
        title = f"Hotspot map: {f.title}, {b.period.label()}"
        parts.append(f'<figure class="keep"><h3>{_e(title)}</h3>{map_svg(f.map, title=title, period=b.period)}'
                     f'<figcaption class="sub">{f.map.located} records in the period located'
                     + (f", {f.map.unlocated} without coordinates" if f.map.unlocated else "")
                     + ". Cells above their baseline are outlined (same rule as the tables).</figcaption></figure>")
    else:
        parts.append(f'<p class="sub">No map: no records of this dataset in {_e(window.label())} carry coordinates.'
                     "</p>")
    incident_rows = "".join(
        f'<tr><td class="nw">{i.date:%a} {i.date.day} {i.date:%b}</td>'
        f'<td class="nw">{_e(i.time.strftime("%H:%M") if i.time else "")}</td>'
        f"<td>{_e(i.category)}</td><td>{_e(i.sector or 'not recorded')}</td><td>{_e(', '.join(i.flags))}</td>"
        f"<td>{_e(i.originator)}</td></tr>" for i in f.flagged)
    more = f"; {f.flagged_not_listed} more not listed" if f.flagged_not_listed else ""
    parts.append(f'<table class="data flagged"><caption>Flagged incidents, {period} ({len(f.flagged)} listed{more}; '
                 f"place: postcode sector)</caption><thead><tr><th>Date</th><th>Time</th><th>{_e(f.category_label)}"
                 f"</th><th>Sector</th><th>Flags</th><th>Originator</th></tr></thead><tbody>"
                 f"{incident_rows or '<tr><td colspan=6>none</td></tr>'}</tbody></table></section>")
    return "".join(parts)


def as_html(b: Briefing, *, live_version: str | None = None) -> str:
    """The page. With `live_version` (the store's version when it was read) it carries the script that
    reloads it when the store changes."""
    tz = b.generated.tzinfo
    generated = _moment(b.generated, tz)
    period = _e(b.period.label())
    areas = ", ".join(b.areas) if b.areas else "all areas"
    late = [f for f in b.freshness if f.late]
    since = b.generated - dt.timedelta(hours=24)
    cards = (
        f'<div class="cards"><div class="card"><b>{b.in_period}</b>records in the period<small>{period}</small></div>'
        f'<div class="card"><b>{b.last_24h}</b>in the last 24 hours<small>{_e(_moment(since, tz))} to '
        f"{_e(generated)}" + (f"; +{b.last_24h_untimed} without a time" if b.last_24h_untimed else "")
        + "</small></div>"
        f'<div class="card"><b>{b.flagged_in_period}</b>flagged incidents<small>{period}</small></div>'
        f'<div class="card"><b>{len(b.emerging)}</b>emerging issues<small>{period}, against the baseline</small></div>'
        f'<div class="card"><b>{len(late)}</b>late supplies<small>as of {_e(generated)}</small></div></div>')
    emerging = "".join(
        f"<li><b>{_e(x.label)}</b> ({_e(x.kind)}, {_e(x.dataset)}): {x.observed} in the period against "
        f"{x.expected:.1f} expected (p {_p(x.p)})</li>" for x in b.emerging) or \
        "<li>None: no dataset, category, sector or map cell is above its baseline by the rule below.</li>"
    fresh_rows = "".join(
        f'<tr class="{"above" if f.late else ""}"><td>{_e(f.agency)}</td><td>{_e(f.dataset)}</td>'
        f'<td class="n">{f.records}</td><td>{_e(_date(f.newest_record))}</td>'
        f"<td>{_e(_moment(f.last_supply, tz))}</td><td class=\"n\">{f.supplies}</td>"
        f"<td>{_e(_interval(f.usual_interval))}</td><td>{_e(_freshness_status(f))}</td></tr>" for f in b.freshness)
    supply_rows = "".join(
        f"<tr><td>{_e(_moment(s.supplied, tz))}</td><td>{_e(s.agency)}</td><td>{_e(s.dataset)}</td>"
        f"<td>{_e(_date(s.period_start))} to {_e(_date(s.period_end))}</td>"
        f'<td class="n">{_e(s.records if s.records is not None else "?")}'
        f"{_e(f' ({s.rejected} rejected)' if s.rejected else '')}</td>"
        f"<td>{_e(s.contact or 'not given')}</td><td>{_e(s.caveats or 'none stated')}</td></tr>"
        for s in b.supplies[:30])
    more_supplies = f"; the {len(b.supplies) - 30} older are not listed" if len(b.supplies) > 30 else ""
    handling = "".join(
        f"<li><b>{_e(n.originator)}</b> ({_plural(n.records, 'record')}): permitted purpose "
        f"{_e('; '.join(n.purposes) or 'none recorded')}. {_e(n.onward_sharing)}. Earliest destroy-by "
        f"{_e(_date(n.destroy_by))}.</li>" for n in b.handling) or "<li>No records.</li>"
    left_out = []
    if b.expired:
        left_out.append(f"{_plural(b.expired, 'record')} past the destroy-by date (the feed's sweep deletes them)")
    if b.unknown_dataset:
        left_out.append(f"{_plural(b.unknown_dataset, 'record')} of datasets this version does not know")
    rules = "".join(f"<dt>{_e(name)}</dt><dd>{_e(text)}</dd>" for name, text in RULES)
    late_note = "".join(
        f'<p class="warn">Late supply: {_e(f.agency)}, {_e(f.dataset)}: last supply {_e(_moment(f.last_supply, tz))}, '
        f"{_e(_interval(f.since_last))} ago; usually every {_e(_interval(f.usual_interval))}. Recent records of this "
        "dataset may be missing from the figures.</p>" for f in late)
    incomplete = "" if b.period_complete else \
        '<p class="warn">The period has not ended: its counts are for part of it, against a whole-period baseline.</p>'
    live = script = body_attr = ""
    if live_version is not None:  # the script reads the body's data-version: it stands at the body's end
        live = '<noscript><meta http-equiv="refresh" content="5"></noscript>'
        script = f"<script>{LIVE_SCRIPT}</script>"
        body_attr = f' data-version="{_e(live_version)}"'
    csp = content_security_policy(live_version is not None)
    sections = "".join(_dataset_section(f, b) for f in b.datasets) or \
        "<p>The feed holds no records or supplies yet.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">
<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(b.marking)}: {_e(b.title)}, {period}</title>
<style>{_CSS}</style>{live}</head>
<body{body_attr}>
{_banner(b, "top")}
<table class="frame"><thead><tr><td><div class="spacer"></div></td></tr></thead>
<tfoot><tr><td><div class="spacer"></div></td></tr></tfoot><tbody><tr><td><main>
<h1>{_e(b.title)}</h1>
<p class="sub">{_e(("Prepared for " + b.prepared_for + ". ") if b.prepared_for else "")}Generated {_e(generated)}.
Period: <b>{period}</b> ({_e(b.period_kind)}). Baseline: {_e(BASELINE_TEXT[b.period_kind])}, {_e(b.baseline.label())}.
Areas: {_e(areas)}. {b.records_used} records drawn on{_e("; left out: " + "; ".join(left_out)) if left_out else ""}.</p>
{incomplete}{cards}{late_note}
<section class="keep"><h2>Emerging issues, {period}</h2><ul class="emerging">{emerging}</ul></section>
{sections}
<section><h2>Data freshness, as of {_e(generated)}</h2>
<table class="data"><caption>Per supplying agency and dataset: the newest record held (event date), the last supply
received, and whether it is late against its usual cadence (rule below)</caption><thead><tr><th>Agency</th>
<th>Dataset</th><th class="n">records</th><th>Newest record</th><th>Last supply</th><th class="n">supplies</th>
<th>Usual interval</th><th>Status</th></tr></thead><tbody>{fresh_rows or '<tr><td colspan=8>none</td></tr>'}</tbody>
</table></section>
<section><h2>Supplies and their caveats</h2>
<table class="data"><caption>Supply metadata as each agency sent it (guidance 3.4), newest first{more_supplies}
</caption><thead><tr><th>Supplied</th><th>Agency</th><th>Dataset</th><th>Period</th><th class="n">records</th>
<th>Contact</th><th>Caveats</th></tr></thead><tbody>{supply_rows or '<tr><td colspan=7>none received</td></tr>'}
</tbody></table></section>
<section class="keep"><h2>Handling</h2><ul>{handling}</ul></section>
<section class="keep"><h2>How the figures are made</h2><dl class="rules">{rules}</dl></section>
</main></td></tr></tbody></table>
{_banner(b, "bottom")}{script}
</body></html>
"""


# --- text ---------------------------------------------------------------------------------------


def as_text(b: Briefing) -> str:
    """The briefing as plain text (what `exchange demo` prints), the marking at top and bottom."""
    bar = f"{'=' * 25} {b.marking} {'=' * 25}"
    tz = b.generated.tzinfo
    lines = [bar, b.title]
    if b.prepared_for:
        lines.append(f"Prepared for {b.prepared_for}")
    lines += [f"Generated {_moment(b.generated, tz)}. Period: {b.period.label()} ({b.period_kind}); baseline: "
              f"{BASELINE_TEXT[b.period_kind]}, {b.baseline.label()}.",
              f"Areas: {', '.join(b.areas) or 'all areas'}. {b.records_used} records drawn on"
              + (f"; {b.expired} past their destroy-by date left out" if b.expired else "") + ".",
              f"Last 24 hours (to {_moment(b.generated, tz)}): {b.last_24h} records"
              + (f" (+{b.last_24h_untimed} without a time)" if b.last_24h_untimed else "") + "."]
    for f in b.datasets:
        lines += ["", f"{f.title} ({f.id}): {f.total.observed} in the period, expected {_expected(f.total.expected)} "
                      f"(baseline {_covered(f, b)})",
                  f"  {'period':>6}  {'expected':>8}  {f.category_label}"]
        lines += [f"  {c.observed:>6}  {_expected(c.expected):>8}  {c.label}"
                  + (f"  [{CHANGE_WORDS[c.change]}]" if c.change else "") for c in f.categories] or ["  none"]
        lines.append(f"  Flagged incidents in the period: {len(f.flagged) + f.flagged_not_listed}"
                     + ("" if not f.flags else " (" + ", ".join(f"{n} {c}" for n, c in f.flags if c) + ")"))
        for i in f.flagged[:10]:
            lines.append(f"    {i.date:%d %b} {i.time.strftime('%H:%M') if i.time else '     '}  {i.category}  "
                         f"{i.sector or 'no sector'}  {', '.join(i.flags)}")
        lines.append("  Per day: " + ", ".join(f"{d:%d %b} {c}" for d, c in f.by_day[-7:]))
    lines += ["", "Emerging issues (above baseline): " + ("; ".join(
        f"{x.label} ({x.kind}, {x.dataset}) {x.observed} v {x.expected:.1f}" for x in b.emerging) or "none")]
    lines += ["", "Data freshness"]
    lines += [f"  {f.agency} {f.dataset}: newest record {_date(f.newest_record)}, last supply "
              f"{_moment(f.last_supply, tz)}; {_freshness_status(f)}" for f in b.freshness] or ["  none"]
    lines += ["", "Handling"]
    lines += [f"  {n.originator}: {'; '.join(n.purposes) or 'no purpose recorded'}. {n.onward_sharing}. "
              f"Destroy by {_date(n.destroy_by)}." for n in b.handling] or ["  none"]
    lines += ["", bar]
    return "\n".join(lines)
