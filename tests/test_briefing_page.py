"""The briefing page (`exchange briefing`): its numbers for a known set of records, its markings,
escaping, the command line, the live page served over HTTP (a record stored from outside appears
within 5 seconds), and the page as headless Chromium renders, screenshots and prints it.

The Chromium tests skip where no Chromium is installed, and fail instead when CI=true (CI installs it).

`python -m tests.test_briefing_page docs` rebuilds docs/briefing-example.png and .pdf from the
synthetic example below.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import os
import random
import re
import selectors
import shutil
import signal
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from exchange.cli import main
from exchange.core.briefing_page import LIVE_SCRIPT_CSP, as_text
from exchange.services.briefings import BriefingSpec, read_feed, store_version, write_briefing
from exchange.storage.feed_store import FeedStore
from tests.support.pages import Tables
from tests.support.pages import get as _get
from tests.test_briefing_figures import NOW, D, crime, known_records

ROOT = Path(__file__).resolve().parents[1]


async def _fill(db: Path, records: list[dict], supplies: list[dict] = ()) -> None:
    async with FeedStore(db) as store:
        for i, record in enumerate(records):
            record = dict(record)
            dataset, marking = record.pop("dataset"), record.pop("marking")
            await store.add_record(f"m-{i}-{record.get('handling', {}).get('record_key', '')}", dataset, marking,
                                   record)
        for i, supply in enumerate(supplies):
            supply = dict(supply)
            await store.add_supply(f"s-{i}", supply.pop("dataset"), supply)
        await store.commit()


def store_of(path: Path, records: list[dict], supplies: list[dict] = ()) -> Path:
    for i, record in enumerate(records):  # one row per record key, as the sanitiser stamps them
        record["handling"] = {**record["handling"], "record_key": f"PS-{i:06d}"}
    asyncio.run(_fill(path, records, list(supplies)))
    return path


POLICE_SUPPLIES = [{"dataset": "police_crime_offence", "agency": "northshire-police",
                    "supplier_contact": "Analysis Unit, Northshire Police", "dataset_name": "police_crime_offence",
                    "period_start": "2026-02-01", "period_end": f"2026-03-0{day - 1}", "file_format": "CSV",
                    "number_of_records": 30, "records_rejected": 2, "caveats": "Locations as recorded.",
                    "date_supplied": f"2026-03-0{day}T06:00:00+00:00"} for day in (2, 3, 4)]


@pytest.fixture(scope="module")
def known_page(tmp_path_factory) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp("briefing")
    db = store_of(root / "feed.db", known_records(), POLICE_SUPPLIES)
    out = root / "briefing.html"
    write_briefing(db, out, BriefingSpec(day=D, period="day", title="Daily partnership briefing: Northshire CSP",
                                         prepared_for="Northshire District Council"), now=NOW)
    return out.read_text(encoding="utf-8"), out


# --- the page's numbers ------------------------------------------------------------------------


def test_the_page_shows_the_counts_against_the_baseline(known_page):
    page, _ = known_page
    tables = Tables(page)
    rows = tables.table("Offence counts, Wed 4 Mar 2026, against the average day of the 28 days before "
                        "(4 Feb to 3 Mar 2026)")
    assert rows[0] == ["Offence", "period", "expected", "p", "change"]
    # 6 burglaries against 27 in 28 days; 1 shoplifting against 54; 7 in all against 81.
    assert rows[1][:2] == ["All records", "7"] and rows[1][2] == "2.9" and rows[1][4] == "ABOVE baseline"
    assert rows[2][:3] == ["Burglary - residential", "6", "1.0"] and rows[2][3] == "<0.001"
    assert rows[2][4] == "ABOVE baseline"
    assert rows[3] == ["Shoplifting", "1", "1.9", "0.426", ""]  # P(X <= 1 | 54/28)
    assert not any("Robbery" in cell for row in rows for cell in row)  # past its destroy-by date


def test_every_day_and_every_figure_states_its_period(known_page):
    page, _ = known_page
    days = Tables(page).table("Records per day, 26 Feb to 4 Mar 2026")
    assert days[1:] == [[f"{day:%a} {day.day} {day:%b %Y}", count] for day, count in
                        zip([D - dt.timedelta(days=i) for i in range(6, -1, -1)], ["3"] * 6 + ["7"], strict=True)]
    # The chart has every day of baseline and period, the empty one included.
    assert "Sun 22 Feb 2026: 0</title>" in page
    assert page.count('<rect class="day"') == 29
    assert "Records per day, 4 Feb to 4 Mar 2026 (every day, zeros included)" in page
    sectors = Tables(page).table("Postcode sectors, Wed 4 Mar 2026")
    assert sectors[1][:2] == ["NX1 1", "6"] and sectors[2][:2] == ["NX2 2", "1"]
    assert Tables(page).table("Flags, Wed 4 Mar 2026")[1] == ["alcohol", "1"]


def test_the_cards_and_emerging_issues(known_page):
    page, _ = known_page
    assert re.search(r"<b>7</b>records in the period<small>Wed 4 Mar 2026</small>", page)
    assert re.search(r"<b>6</b>in the last 24 hours<small>4 Mar 2026 09:00 to 5 Mar 2026 09:00", page)
    assert re.search(r"<b>1</b>flagged incidents<small>Wed 4 Mar 2026", page)
    emerging = re.search(r'<ul class="emerging">(.*?)</ul>', page, re.S).group(1)
    assert "<b>Burglary - residential</b> (category, Police recorded crime: offences): 6 in the period against " \
           "1.0 expected" in emerging
    assert "<b>NX1 1</b> (sector" in emerging


def test_flagged_incidents_freshness_supplies_and_handling(known_page):
    page, _ = known_page
    tables = Tables(page)
    flagged = tables.table("Flagged incidents, Wed 4 Mar 2026 (1 listed")
    assert flagged[1] == ["Wed 4 Mar", "14:30", "Shoplifting", "NX2 2", "alcohol", "northshire-police"]
    freshness = tables.table("Per supplying agency and dataset")
    assert freshness[1] == ["northshire-police", "police_crime_offence", "89", "4 Mar 2026", "4 Mar 2026 06:00",
                            "3", "24 h", "on time"]
    supplies = tables.table("Supply metadata as each agency sent it")
    assert supplies[1] == ["4 Mar 2026 06:00", "northshire-police", "police_crime_offence", "1 Feb 2026 to 3 Mar 2026",
                           "30 (2 rejected)", "Analysis Unit, Northshire Police", "Locations as recorded."]
    assert len(supplies) == 4
    assert "permitted purpose Daily tasking. No onward sharing without the consent of northshire-police. " \
           "Earliest destroy-by 1 Mar 2029." in page
    assert "left out: 1 record past the destroy-by date" in page
    for rule in ("Poisson exceedance", "P(X &gt;= observed | X ~ Poisson(expected)) &lt; 0.05 and observed &gt;= 5",
                 "Late supply", "Last 24 hours"):
        assert rule in page


def test_the_marking_stands_at_top_and_bottom_and_on_every_printed_page(known_page):
    page, _ = known_page
    banners = re.findall(r'<div class="marking (top|bottom)" data-marking="([^"]*)"><span class="level">([^<]*)'
                         r"</span>([^<]*)</div>", page)
    assert [(where, marking, level) for where, marking, level, _ in banners] == [
        ("top", "OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE"), ("bottom", "OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE")]
    assert all("No onward sharing without the consent of the originator (northshire-police). Destroy by 1 Mar 2029."
               in text for *_, text in banners)
    assert page.index('class="marking top"') < page.index("<h1>") < page.index('class="marking bottom"')
    print_css = page[page.index("@media print"):]
    assert ".marking { position: fixed;" in print_css and ".marking.top { top: 0; }" in print_css
    assert ".marking.bottom { bottom: 0; }" in print_css
    assert page.startswith("<!doctype html>") and "<title>OFFICIAL-SENSITIVE: " in page


def test_the_page_is_self_contained(known_page):
    page, path = known_page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, re.I)
    assert "<script" not in page and "@import" not in page and "url(" not in page
    csp = html.unescape(re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page).group(1))
    assert csp.startswith("default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none';")
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="map"' in page
    assert '<rect class="cell"' in page and '<circle class="flagged"' in page
    assert 'class="scale-bar"' in page and 'class="north-arrow"' in page and "British National Grid" in page
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_text_briefing_has_the_marking_at_top_and_bottom(tmp_path):
    db = store_of(tmp_path / "feed.db", known_records(), POLICE_SUPPLIES)
    briefing = BriefingSpec(day=D).build(read_feed(db), NOW)
    lines = as_text(briefing).splitlines()
    assert lines[0] == lines[-1] == f"{'=' * 25} OFFICIAL-SENSITIVE {'=' * 25}"
    assert any("Police recorded crime: offences (police_crime_offence): 7 in the period, expected 2.9" in line
               for line in lines)


def test_values_from_other_agencies_are_escaped(tmp_path):
    hostile = "<script>alert(1)</script>"
    records = [crime(D, '"><img src=x onerror=alert(1)>', time="10:00:00", flags=("drugs",),
                     originator="x<b>y</b>")]
    records[0]["committed_from_time"] = "10:00:00"
    supplies = [{**POLICE_SUPPLIES[0], "caveats": hostile, "supplier_contact": "O'Brien & <i>Co</i>",
                 "agency": "<svg onload=alert(1)>"}]
    db = store_of(tmp_path / "feed.db", records, supplies)
    out = tmp_path / "b.html"
    write_briefing(db, out, BriefingSpec(day=D, title="Briefing <u>x</u>", prepared_for="A & B"), now=NOW)
    page = out.read_text()
    for raw in (hostile, "<img src=x", "<b>y</b>", "<i>Co</i>", "<svg onload", "<u>x</u>"):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "O&#x27;Brien &amp; &lt;i&gt;Co&lt;/i&gt;" in page
    assert "Offence code &quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page and "x&lt;b&gt;y&lt;/b&gt;" in page


def test_an_empty_store_still_makes_a_marked_page(tmp_path):
    db = store_of(tmp_path / "feed.db", [])
    out = tmp_path / "b.html"
    write_briefing(db, out, BriefingSpec(day=D), now=NOW)
    page = out.read_text()
    assert page.count('<span class="level">OFFICIAL</span>') == 2 and "holds no records or supplies yet" in page


# --- the command line --------------------------------------------------------------------------


def test_exchange_briefing_writes_the_page(tmp_path):
    db = store_of(tmp_path / "feed.db", known_records(), POLICE_SUPPLIES)
    out = tmp_path / "out" / "briefing.html"
    result = CliRunner().invoke(main, ["briefing", "--db", str(db), "--date", D.isoformat(), "--area", "nx2",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "OFFICIAL: briefing for Wed 4 Mar 2026 (1 records in the period" in result.output
    page = out.read_text()
    assert "Areas: NX2." in page and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert Tables(page).table("Offence counts")[1][:2] == ["All records", "1"]


@pytest.mark.parametrize("args, message", [
    (["--area", "NX1 2AB"], "is not a postcode sector"),
    (["--period", "fortnight"], "'fortnight' is not one of"),
    (["--date", "04/03/2026"], "is not a date"),
    (["--as", "northshire-council"], "--as needs --config"),
])
def test_a_wrong_command_line_is_a_usage_error(tmp_path, args, message):
    db = store_of(tmp_path / "feed.db", [])
    result = CliRunner().invoke(main, ["briefing", "--db", str(db), "--out", str(tmp_path / "b.html"), *args])
    assert result.exit_code == 2 and message in result.output
    result = CliRunner().invoke(main, ["briefing", "--db", str(db)])
    assert result.exit_code == 2 and "--db and --out are required" in result.output


def test_the_config_names_the_partnership_and_subscriber(tmp_path, demo_files):
    db = store_of(tmp_path / "feed.db", known_records())
    out = tmp_path / "b.html"
    result = CliRunner().invoke(main, ["briefing", "--db", str(db), "--out", str(out), "--period", "week",
                                       "--config", str(demo_files.partnership), "--as", "northshire-council"])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "<h1>Weekly partnership briefing: Northshire Community Safety Partnership</h1>" in page
    assert "Prepared for Northshire District Council." in page


# --- live ---------------------------------------------------------------------------------------


def _first_line(process: subprocess.Popen, timeout: float) -> str:
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    if not selector.select(timeout):
        raise AssertionError(f"no output within {timeout} s")
    return process.stdout.readline()


def test_the_live_page_shows_a_record_stored_from_outside_within_5_seconds(tmp_path):
    db = store_of(tmp_path / "feed.db", known_records())
    server = subprocess.Popen([sys.executable, "-m", "exchange", "briefing", "serve", "--db", str(db), "--port", "0",
                               "--date", D.isoformat()], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              stdin=subprocess.DEVNULL)
    try:
        line = _first_line(server, 30)
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group()
        status, headers, page = _get(url)
        assert status == 200 and "Possession of cannabis" not in page
        assert Tables(page).table("Offence counts")[1][:2] == ["All records", "7"]
        assert LIVE_SCRIPT_CSP in headers["Content-Security-Policy"] and headers["Cache-Control"] == "no-store"
        assert "fetch('/version'" in page and f'data-version="{store_version(db)}"' in page
        before = json.loads(_get(url + "version")[2])["version"]

        # The feed (another process: this one) stores a record.
        record = crime(D, "92/1", time="16:45:00", postcode="NX3 2AB", flags=("domestic",))
        record["handling"]["record_key"] = "PS-NEW"
        stored = time.monotonic()
        asyncio.run(_fill(db, [record]))
        while True:
            page = _get(url)[2]
            if "Possession of cannabis" in page:
                break
            assert time.monotonic() - stored < 5, "the new record did not appear within 5 seconds"
            time.sleep(0.2)
        assert time.monotonic() - stored < 5
        assert Tables(page).table("Offence counts")[1][:2] == ["All records", "8"]
        assert ["Wed 4 Mar", "16:45", "Possession of cannabis", "NX3 2", "domestic", "northshire-police"] in \
            Tables(page).table("Flagged incidents")
        assert json.loads(_get(url + "version")[2])["version"] != before  # what makes an open page reload

        # Only this machine's names are answered (DNS rebinding), and nothing but the page and its version.
        assert _get(url, host="attacker.example")[0] == 421
        assert _get(url + "records")[0] == 404
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert server.returncode in (0, -signal.SIGTERM)


def test_the_server_listens_on_127_0_0_1_only_and_a_missing_store_is_empty(tmp_path):
    from exchange.services.briefings import BriefingServer

    with BriefingServer(tmp_path / "not-yet.db", BriefingSpec(day=D), port=0) as server:
        host, _ = server._server.server_address
        assert host == "127.0.0.1" and server.url.startswith("http://127.0.0.1:")
        status, _, page = _get(server.url)
        assert status == 200 and "holds no records or supplies yet" in page
        assert json.loads(_get(server.url + "version")[2]) == {"version": "none"}
    assert not (tmp_path / "not-yet.db").exists()  # read-only: the briefing never creates the store


# --- in a browser -------------------------------------------------------------------------------


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("Chromium is not installed: CI must run the browser tests (.ci/run installs it)")
    pytest.skip("Chromium is not installed")


def test_without_chromium_the_browser_tests_skip_here_and_fail_in_ci(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Chromium is not installed"):
        chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        chromium()


def run_chromium(profile: Path, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    """Headless Chromium with a private profile, as root needs it (--no-sandbox); the whole process
    group it started is killed afterwards, and at once on a timeout."""
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
               f"--user-data-dir={profile}", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"Chromium did not finish within {timeout} s: {' '.join(args)}")
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # helpers (crashpad) it left behind
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def pdf_pages_text(pdf: Path) -> list[str] | None:
    """The text of each page (pdftotext), or None where poppler is not installed."""
    if not shutil.which("pdftotext"):
        return None
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60,
                          check=True).stdout
    return [page for page in text.split("\f") if page.strip()]


def test_chromium_screenshots_the_page(known_page, tmp_path):
    _, path = known_page
    shot = tmp_path / "briefing.png"
    result = run_chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000",
                          path.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert png_size(data) == (1280, 2000)
    assert len(data) > 40_000  # a blank page of that size compresses to a few kilobytes


def test_chromium_renders_the_banner_and_the_map(known_page, tmp_path):
    _, path = known_page
    result = run_chromium(tmp_path / "profile", "--dump-dom", path.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout.decode()
    assert re.search(r'<div class="marking top" data-marking="OFFICIAL-SENSITIVE"><span class="level">'
                     r"OFFICIAL-SENSITIVE</span>", dom)
    assert re.search(r'<div class="marking bottom" data-marking="OFFICIAL-SENSITIVE">', dom)
    svg = re.search(r'<svg xmlns="http://www.w3.org/2000/svg" class="map".*?</svg>', dom, re.S).group()
    assert '<rect class="cell"' in svg and '<circle class="flagged"' in svg and 'class="north-arrow"' in svg


def test_chromium_prints_the_marking_on_every_page(known_page, tmp_path):
    _, path = known_page
    pdf = tmp_path / "briefing.pdf"
    result = run_chromium(tmp_path / "profile", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", path.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 10_000
    # The document's title (its Info dictionary, uncompressed) leads with the marking.
    assert b"/Title (OFFICIAL-SENSITIVE: Daily partnership briefing" in data
    pages = pdf_pages_text(pdf)
    if pages is None:  # no pdftotext: the pages' text is compressed; the DOM test shows both banners
        assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 2
        return
    assert len(pages) >= 2
    for number, page in enumerate(pages, 1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        assert lines[0] == "OFFICIAL-SENSITIVE", f"page {number} does not start with the marking"
        assert "OFFICIAL-SENSITIVE" in lines[-2:], f"page {number} does not end with the marking"
        assert lines[1].startswith("No onward sharing") and lines[-1].startswith("No onward sharing")


def test_chromium_runs_the_live_pages_reload_script(tmp_path, monkeypatch):
    """The served page's script is allowed by its CSP hash, runs, and asks /version (every 2 s)."""
    import exchange.services.briefings as briefings
    from exchange.services.briefings import BriefingServer

    asked = []
    original = briefings.store_version
    monkeypatch.setattr(briefings, "store_version", lambda path: asked.append(path) or original(path))
    db = store_of(tmp_path / "feed.db", known_records())
    with BriefingServer(db, BriefingSpec(day=D), port=0) as server:
        result = run_chromium(tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
                              "--dump-dom", server.url)
    assert result.returncode == 0
    log = result.stderr.decode(errors="replace")
    assert "Uncaught" not in log and "Refused to" not in log, log[-3000:]
    assert "fetch('/version'" in result.stdout.decode() and asked, "the page never asked for /version"


# --- the example in docs/ ------------------------------------------------------------------------

EXAMPLE_TODAY = dt.date(2026, 3, 5)
EXAMPLE_NOW = dt.datetime(2026, 3, 5, 8, 30, tzinfo=dt.UTC)


def spike_sector(gazetteer) -> str:
    """The postcode sector the example's burglaries cluster in: the gazetteer's largest."""
    from collections import Counter

    sectors = Counter(c.postcode[:-2] for c in gazetteer)
    return min(sectors, key=lambda s: (-sectors[s], s))


def example_store(db: Path, *, gazetteer, partnership) -> Path:
    """A demo-like feed: police crime (with a spike of burglaries in one sector yesterday), council ASB
    (marked OFFICIAL-SENSITIVE by the council) and fire incidents (whose supplies stopped), each run
    through the sanitiser's own rules, with the supply metadata each agency sent."""
    from exchange.core.marking import parse_marking
    from exchange.core.record_sanitiser import RecordSanitiser
    from exchange.core.schemas import catalogue
    from exchange.crypto.pseudonyms import Pseudonymiser
    from exchange.testing.records import records_for

    rules = RecordSanitiser(partnership, catalogue(), gazetteer, Pseudonymiser(b"example briefing, not a secret"))
    yesterday = EXAMPLE_TODAY - dt.timedelta(days=1)
    sector = spike_sector(gazetteer)
    spike_places = sorted((c for c in gazetteer if c.postcode.startswith(sector)), key=lambda c: c.postcode)[:4]
    rng = random.Random(5)
    spike = records_for("police_crime_offence", gazetteer, 9, seed=99, today=EXAMPLE_TODAY)
    for i, record in enumerate(spike):
        place = spike_places[i % len(spike_places)]
        record.update(committed_from_date=yesterday, committed_to_date=yesterday, offence_code="28/3",
                      committed_from_time=dt.time(rng.randint(17, 23), rng.choice((0, 15, 30, 45))),
                      postcode=place.postcode, easting=place.easting + rng.randint(-30, 30),
                      northing=place.northing + rng.randint(-30, 30), location_type="addressable",
                      address=f"{rng.randint(1, 90)} Mill Lane, Northtown", flag_distraction_burglary=i % 3 == 0)
    supplies_of = {
        ("police_crime_offence", "northshire-police", "OFFICIAL-SENSITIVE"): (
            records_for("police_crime_offence", gazetteer, 330, seed=21, today=EXAMPLE_TODAY) + spike,
            [EXAMPLE_TODAY - dt.timedelta(days=d) for d in range(6, -1, -1)], "Analysis Unit, Northshire Police",
            "Crimes recorded in the period; the last 7 days are provisional and may be reclassified."),
        ("council_asb", "northshire-council", "OFFICIAL-SENSITIVE"): (
            records_for("council_asb", gazetteer, 140, seed=22, today=EXAMPLE_TODAY),
            [dt.date(2026, 2, 9), dt.date(2026, 2, 16), dt.date(2026, 2, 23), dt.date(2026, 3, 2)],
            "Community Safety Team, Northshire District Council",
            "Reports to Housing and Street Scene only; noise reports out of hours are logged next day."),
        ("fire_incident", "northshire-fire", "OFFICIAL"): (
            records_for("fire_incident", gazetteer, 60, seed=23, today=EXAMPLE_TODAY),
            [EXAMPLE_TODAY - dt.timedelta(days=d) for d in range(12, 3, -1)],
            "Community Risk Team, Northshire Fire and Rescue",
            "Deliberate fires as judged at the scene; secondary fires under-recorded at weekends."),
    }

    async def fill():
        from exchange.core.schemas import catalogue as _catalogue

        async with FeedStore(db) as store:
            for (dataset_id, agency, marking), (records, days, contact, caveats) in supplies_of.items():
                dataset = _catalogue()[dataset_id]
                for i, record in enumerate(records):
                    shared = rules.sanitise(dataset, record, originator=agency, today=EXAMPLE_TODAY,
                                            received=parse_marking(marking))
                    await store.add_record(f"{dataset_id}-{i}", dataset_id, str(shared.marking), shared.record)
                for n, day in enumerate(days):
                    await store.add_supply(f"{dataset_id}-supply-{n}", dataset_id, {
                        "agency": agency, "supplier_contact": contact, "dataset_name": dataset_id,
                        "period_start": EXAMPLE_TODAY - dt.timedelta(days=28), "period_end": day - dt.timedelta(days=1),
                        "file_format": "CSV", "number_of_records": len(records) // len(days), "records_rejected": n % 3,
                        "date_supplied": dt.datetime.combine(day, dt.time(6, 5), dt.UTC),
                        "datafields": [f.name for f in dataset.fields], "caveats": caveats,
                        "source_file_sha256": f"{n:064x}"})
            await store.commit()

    asyncio.run(fill())
    return db


def example_page(root: Path, *, gazetteer, partnership) -> Path:
    db = example_store(root / "council-feed.db", gazetteer=gazetteer, partnership=partnership)
    out = root / "briefing-example.html"
    write_briefing(db, out, BriefingSpec(day=EXAMPLE_TODAY - dt.timedelta(days=1), period="day",
                                         title=f"Daily partnership briefing: {partnership.name}",
                                         prepared_for=partnership.signatory("northshire-council").name),
                   now=EXAMPLE_NOW)
    return out


def test_the_example_briefing_shows_its_spike_its_late_supplier_and_the_highest_marking(tmp_path, gazetteer,
                                                                                       partnership):
    page = example_page(tmp_path, gazetteer=gazetteer, partnership=partnership).read_text()
    assert '<span class="level">OFFICIAL-SENSITIVE</span>' in page  # the council's marking
    emerging = re.search(r'<ul class="emerging">(.*?)</ul>', page, re.S).group(1)
    assert "<b>Burglary - residential</b> (category" in emerging
    assert f"<b>{spike_sector(gazetteer)}</b> (sector" in emerging
    freshness = Tables(page).table("Per supplying agency and dataset")
    fire = next(row for row in freshness if row[:2] == ["northshire-fire", "fire_incident"])
    assert fire[-1].startswith("LATE: last supply 4.1 days ago, usual interval 24 h")
    assert all(row[-1] == "on time" for row in freshness[1:] if row[0] != "northshire-fire")
    assert '<p class="warn">Late supply: northshire-fire, fire_incident: last supply 1 Mar 2026 06:05, 4.1 days ago; ' \
           "usually every 24 h." in page


def _docs() -> None:
    """Rebuild docs/briefing-example.png and docs/briefing-example.pdf."""
    import tempfile

    from exchange.core.partnership import load_partnership
    from exchange.storage.gazetteer import Gazetteer
    from exchange.testing.gazetteer import synthesise
    from exchange.testing.partnership import make_partnership
    from tests.support.partnership import PASSPHRASE

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        synthesise(seed=2026, out_db=root / "gazetteer.db")
        files = make_partnership(root, PASSPHRASE, gazetteer=root / "gazetteer.db")
        page = example_page(root, gazetteer=Gazetteer.open(root / "gazetteer.db"),
                            partnership=load_partnership(files.partnership))
        docs = ROOT / "docs"
        for args in ([f"--screenshot={docs / 'briefing-example.png'}", "--window-size=1280,2000"],
                     ["--no-pdf-header-footer", f"--print-to-pdf={docs / 'briefing-example.pdf'}"]):
            result = run_chromium(root / "profile", *args, page.as_uri())
            if result.returncode:
                raise SystemExit(result.stderr.decode()[-2000:])
    for name in ("briefing-example.png", "briefing-example.pdf"):
        print(f"docs/{name}: {(ROOT / 'docs' / name).stat().st_size:,} bytes")


if __name__ == "__main__":
    if sys.argv[1:] != ["docs"]:
        raise SystemExit("usage: python -m tests.test_briefing_page docs")
    _docs()
