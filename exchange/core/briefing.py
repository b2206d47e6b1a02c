"""The daily briefing a partnership analyst reads: built from a subscriber's feed store.

Pure: `build_briefing` takes one dataset's records and returns a Briefing; `as_text` and `as_html`
render it. What it counts comes from the dataset's schema: the event date (`event_date_field`),
the category (`category_field`, named through its code list where it has one) and the flags
(fields marked `"flag": true`).
The protective marking (the highest held) stands at the top and bottom of both renderings.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from exchange.core.marking import parse_marking
from exchange.core.postcode import postcode_sector
from exchange.core.reference import offence_name
from exchange.core.schemas import Dataset
from exchange.errors import InvalidPostcode

__all__ = ["as_html", "as_text", "Briefing", "build_briefing"]


@dataclass(frozen=True)
class Briefing:
    title: str
    prepared_for: str
    as_of: dt.date
    marking: str
    total: int
    last_24h: int
    period: tuple[dt.date, dt.date] | None
    category_label: str  # what the categories are: "Offence", "Incident type" ...
    by_category: tuple[tuple[str, int, int], ...]  # (category, last 7 days, previous 7 days)
    by_sector: tuple[tuple[str, int], ...]
    by_day: tuple[tuple[dt.date, int], ...]
    flags: tuple[tuple[str, int], ...]
    generalised: int
    caveats: tuple[str, ...]


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        return dt.date.fromisoformat(value[:10])
    return None


def _category_namer(dataset: Dataset) -> tuple[str, Callable[[Any], str]]:
    if dataset.category_field is None:
        return "Records", lambda value: dataset.title
    policy = dataset.field(dataset.category_field)
    if policy.code_list == "home_office_offences":
        return "Offence", lambda value: offence_name(value or "")
    return policy.name.replace("_", " ").capitalize(), lambda value: str(value) if value not in (None, "") else "(none)"


def build_briefing(dataset: Dataset, records: Iterable[Mapping[str, Any]], *, partnership: str, prepared_for: str,
                   as_of: dt.date) -> Briefing:
    records = list(records)
    markings = [parse_marking(r["marking"]) for r in records if r.get("marking")]
    marking = str(max(markings)) if markings else "OFFICIAL"
    label, name_of = _category_namer(dataset)
    event = dataset.event_date_field
    dates = [d for d in (_date(r.get(event)) for r in records) if d]
    week, fortnight = as_of - dt.timedelta(days=7), as_of - dt.timedelta(days=14)
    this_week: Counter[str] = Counter()
    last_week: Counter[str] = Counter()
    sectors: Counter[str] = Counter()
    days: Counter[dt.date] = Counter()
    flags: Counter[str] = Counter()
    caveats = set()
    for record in records:
        when = _date(record.get(event))
        offence = name_of(record.get(dataset.category_field)) if dataset.category_field else name_of(None)
        if when and when > week:
            this_week[offence] += 1
            days[when] += 1
        elif when and when > fortnight:
            last_week[offence] += 1
        try:
            sectors[postcode_sector(record.get("postcode") or "")] += 1
        except InvalidPostcode:
            sectors["(no postcode)"] += 1
        for flag in dataset.flag_fields:
            if record.get(flag.name):
                flags[flag.name.removeprefix("flag_").replace("_", " ")] += 1
        handling = record.get("handling") or {}
        if handling:
            caveats.add(f"Originator: {handling.get('originator')}. Purpose: {handling.get('permitted_purpose')}. "
                        f"{handling.get('onward_sharing')}. Destroy by {handling.get('destroy_by')}.")
    offences = sorted(set(this_week) | set(last_week), key=lambda o: (-this_week[o], o))
    return Briefing(
        title=f"Daily partnership briefing: {partnership}", prepared_for=prepared_for, as_of=as_of, marking=marking,
        total=len(records), last_24h=sum(1 for d in dates if d >= as_of - dt.timedelta(days=1)),
        period=(min(dates), max(dates)) if dates else None,
        category_label=label, by_category=tuple((o, this_week[o], last_week[o]) for o in offences),
        by_sector=tuple(sectors.most_common(10)),
        by_day=tuple(sorted(days.items())),
        flags=tuple(sorted(flags.items(), key=lambda kv: -kv[1])),
        generalised=sum(1 for r in records if r.get("location_generalised")),
        caveats=tuple(sorted(caveats)),
    )


def _plural(label: str) -> str:
    return label if label.endswith("s") else f"{label}s"


def as_text(b: Briefing) -> str:
    bar = f"{'=' * 25} {b.marking} {'=' * 25}"
    lines = [bar, b.title, f"Prepared for {b.prepared_for} on {b.as_of:%A %d %B %Y}", ""]
    if b.period:
        lines.append(f"{b.total} records held, committed {b.period[0]:%d %b} to {b.period[1]:%d %b %Y}; "
                     f"{b.last_24h} in the last 24 hours.")
    lines.append(f"{b.generalised} locations were generalised to a postcode with enough households.")
    lines += ["", f"{_plural(b.category_label)}, last 7 days (previous 7 days)"]
    lines += [f"  {count:>4}  ({previous:>3})  {name}" for name, count, previous in b.by_category] or ["  none"]
    lines += ["", "Busiest postcode sectors"]
    lines += [f"  {count:>4}  {sector}" for sector, count in b.by_sector] or ["  none"]
    lines += ["", "Last 7 days by day"]
    peak = max((c for _, c in b.by_day), default=1)
    lines += [f"  {day:%a %d %b}  {count:>4}  {'#' * round(20 * count / peak)}" for day, count in b.by_day]
    lines += ["", "Flags: " + (", ".join(f"{name} {count}" for name, count in b.flags) or "none"), "", "Handling"]
    lines += [f"  {c}" for c in b.caveats] or ["  none"]
    lines += ["", bar]
    return "\n".join(lines)


def as_html(b: Briefing) -> str:
    e = html.escape
    banner = f'<div class="marking">{e(b.marking)}</div>'
    category_rows = "".join(f"<tr><td>{e(o)}</td><td class=n>{c}</td><td class=n>{p}</td></tr>"
                            for o, c, p in b.by_category)
    sector_rows = "".join(f"<tr><td>{e(s)}</td><td class=n>{c}</td></tr>" for s, c in b.by_sector)
    peak = max((c for _, c in b.by_day), default=1)
    day_rows = "".join(
        f'<tr><td>{d:%a %d %b}</td><td class=n>{c}</td>'
        f'<td><span class=bar style="width:{round(200 * c / peak)}px"></span></td></tr>'
        for d, c in b.by_day)
    period = f"committed {b.period[0]:%d %b} to {b.period[1]:%d %b %Y}" if b.period else "no dated records"
    flags = ", ".join(f"{e(n)} {c}" for n, c in b.flags) or "none"
    caveats = "".join(f"<li>{e(c)}</li>" for c in b.caveats) or "<li>none</li>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(b.title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 0 auto; padding: 1rem; color: #1b1b1b; }}
.marking {{ background: #1d4e89; color: #fff; text-align: center; font-weight: bold; padding: .4rem;
  letter-spacing: .1em; }}
h1 {{ font-size: 1.5rem; margin-bottom: .2rem; }} .sub {{ color: #555; margin-top: 0; }}
.cards {{ display: flex; gap: 1rem; margin: 1rem 0; }}
.card {{ flex: 1; border: 1px solid #ccd; border-radius: 6px; padding: .6rem 1rem; }}
.card b {{ font-size: 1.6rem; display: block; }}
.grid {{ display: grid; grid-template-columns: 1fr 1fr; gap: 1.5rem; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #e3e3ea; padding: .25rem .4rem; text-align: left; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.bar {{ display: inline-block; height: .8rem; background: #1d4e89; }}
footer {{ margin-top: 1.5rem; font-size: .9rem; color: #444; }}
</style></head><body>
{banner}
<h1>{e(b.title)}</h1>
<p class="sub">Prepared for {e(b.prepared_for)} on {b.as_of:%A %d %B %Y}</p>
<div class="cards"><div class="card"><b>{b.total}</b>records held, {period}</div>
<div class="card"><b>{b.last_24h}</b>in the last 24 hours</div>
<div class="card"><b>{b.generalised}</b>locations generalised to a postcode with enough households</div></div>
<div class="grid">
<section><h2>{e(_plural(b.category_label))}, last 7 days</h2><table>
<tr><th>{e(b.category_label)}</th><th>7 days</th><th>previous 7</th></tr>{category_rows}</table></section>
<section><h2>Busiest postcode sectors</h2><table><tr><th>Sector</th><th>Records</th></tr>{sector_rows}</table></section>
<section><h2>Last 7 days by day</h2><table>{day_rows}</table></section>
<section><h2>Flags</h2><p>{flags}</p></section>
</div>
<footer><h2>Handling</h2><ul>{caveats}</ul></footer>
{banner}
</body></html>
"""
