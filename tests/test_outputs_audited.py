"""Outputs leave the store's protection, so each is recorded: an export or a briefing written from
a feed store is an event in the feed's audit log (what, how many records, marking, file, who), and
a sealed store gives nothing to a command without its key file."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from click.testing import CliRunner

from exchange.cli import main
from exchange.core.messages import KeepRecord
from exchange.crypto.at_rest import AtRest
from exchange.crypto.keys import KeyPair
from exchange.storage.audit import AuditLog
from exchange.storage.feed_store import FeedStore
from exchange.testing.partnership import COUNCIL
from tests.support.partnership import PASSPHRASE

YESTERDAY = dt.date.today() - dt.timedelta(days=1)


def _record(i: int) -> dict:
    return {"crime_ref": f"PS-{i}", "offence_code": "28/3", "committed_from_date": YESTERDAY,
            "committed_from_time": None, "committed_to_date": None, "committed_to_time": None, "address": None,
            "postcode": "NX1 1AB", "easting": 430100.0, "northing": 290100.0, "location_type": "addressable",
            "method_of_entry": None, "property_stolen": None, "weapon": None, "flag_distraction_burglary": False,
            "flag_drugs": False, "flag_alcohol": False, "flag_racially_motivated": False, "flag_domestic": False,
            "location_generalised": False,
            "handling": {"marking": "OFFICIAL-SENSITIVE", "originator": "northshire-police",
                         "permitted_purpose": "tasking", "onward_sharing": "No onward sharing",
                         "destroy_by": YESTERDAY + dt.timedelta(days=365), "record_key": f"PS-K{i}"}}


@pytest.fixture
def sealed_store(tmp_path, demo_files, monkeypatch):
    monkeypatch.setenv("EXCHANGE_KEY_PASSPHRASE", PASSPHRASE)
    key_file = demo_files.keys[COUNCIL]
    sealing = AtRest.for_keys(KeyPair.load(key_file, PASSPHRASE), "feed store")
    db = tmp_path / "council.db"

    async def fill():
        async with FeedStore(db, sealing=sealing) as store:
            await store.apply([KeepRecord(f"m{i}", "police_crime_offence", "OFFICIAL-SENSITIVE", _record(i))
                               for i in range(3)])
            await store.commit()
    asyncio.run(fill())
    return db, key_file


def _events(db):
    async def read():
        async with AuditLog(db.with_suffix(".audit.db")) as audit:
            return await audit.query()
    return asyncio.run(read())


def test_an_export_is_recorded_in_the_feeds_audit(sealed_store, tmp_path):
    db, key_file = sealed_store
    out = tmp_path / "offences.xlsx"
    result = CliRunner().invoke(main, ["feed", "export", "--db", str(db), "--dataset", "police_crime_offence",
                                       "--out", str(out), "--keys", str(key_file)])
    assert result.exit_code == 0, result.output
    [event] = [e for e in _events(db) if e["kind"] == "export"]
    assert event["count"] == 3 and event["marking"] == "OFFICIAL-SENSITIVE"
    assert event["dataset"] == "police_crime_offence"
    assert str(out) in event["detail"] and "xlsx export" in event["detail"] and " by " in event["detail"]


def test_a_briefing_is_recorded_too(sealed_store, tmp_path):
    db, key_file = sealed_store
    out = tmp_path / "briefing.html"
    result = CliRunner().invoke(main, ["briefing", "--db", str(db), "--out", str(out), "--keys", str(key_file)])
    assert result.exit_code == 0, result.output
    [event] = [e for e in _events(db) if e["kind"] == "briefing"]
    assert event["count"] == 3 and event["marking"] == "OFFICIAL-SENSITIVE" and str(out) in event["detail"]


def test_a_sealed_store_gives_nothing_without_its_key(sealed_store, tmp_path):
    db, _ = sealed_store
    out = tmp_path / "offences.csv"
    result = CliRunner().invoke(main, ["feed", "export", "--db", str(db), "--dataset", "police_crime_offence",
                                       "--out", str(out)])
    assert result.exit_code == 1 and "--keys" in result.output
    assert not out.exists() and not [e for e in _events(db) if e["kind"] == "export"]


@pytest.mark.parametrize("command", [["feed", "export", "--dataset", "police_crime_offence"], ["briefing"]])
def test_an_output_the_audit_cannot_record_is_not_left_behind(sealed_store, tmp_path, command):
    db, key_file = sealed_store
    out = tmp_path / ("offences.csv" if command[0] == "feed" else "briefing.html")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the audit's folder should be")
    result = CliRunner().invoke(main, [*command, "--db", str(db), "--out", str(out), "--keys", str(key_file),
                                       "--audit", str(blocked / "audit.db")])
    assert result.exit_code != 0
    assert not out.exists() and not out.with_name(out.name + ".handling.txt").exists()
