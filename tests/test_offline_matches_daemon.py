"""`exchange sanitise` (offline) gives, field by field, what the sanitiser daemon delivers.

One police export goes both ways: through the police agent, the sanitiser service and the
council's feed on the real broker (in-process, as tests/test_pipeline.py runs them, with its own
outbox and feed store), and through the offline command with the same sanitiser key file, the
same partnership config and --as-of today. The council's export and the offline output must be
the same rows, and the same rows must be rejected.

The session broker is shared with other tests (tests/test_pipeline.py expects the first police
record on raw.police_crime_offence to be its own, and its sanitiser and council feed use the
default consumer groups). So this test runs the demo partnership's config with the police and
council renamed to ids unique to the run (same keys, grants and k): its records come from a
producer the other tests' partnership does not know, its feed group is new, and its sanitiser has
a group of its own; both groups start at the current end of their topics.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from agents.agent import submit
from exchange.cli import main
from exchange.core.names import raw_topic, shared_topic
from exchange.core.partnership import load_partnership
from exchange.core.schemas import catalogue
from exchange.services.exports import export_csv
from exchange.services.feed import FeedService
from exchange.services.sanitiser import SanitiserService
from exchange.services.sanitiser_core import SanitiserCore
from exchange.storage.feed_store import FeedStore
from exchange.testing.partnership import COUNCIL, DATASET, POLICE, police_offence_export
from tests.support.kafka import end_offsets, start_group_at
from tests.support.partnership import PASSPHRASE, agent_config_with_outbox

pytestmark = pytest.mark.broker
ROWS, BAD_ROWS, SEED = 90, 4, 4242


async def start_group_at_end(kafka, group: str, topics: list[str]) -> None:
    """Commit the current end of each topic for `group`, so a consumer of it reads only what follows."""
    await start_group_at(kafka, group, await end_offsets(kafka, topics))


def schema_named_copy(export: Path, columns: dict[str, str], out: Path) -> Path:
    """The same rows, in the same order, under the schema's field names (what `exchange sanitise` reads)."""
    fields = [p.name for p in catalogue()[DATASET].fields]
    with open(export, newline="", encoding="utf-8") as source, open(out, "w", newline="", encoding="utf-8") as target:
        writer = csv.DictWriter(target, fieldnames=fields)
        writer.writeheader()
        for row in csv.DictReader(source):
            writer.writerow({name: row.get(columns.get(name, name), "") for name in fields})
    return out


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def outputs(kafka, demo_files, party_keys, gazetteer, tmp_path_factory):
    from dataclasses import replace

    work = tmp_path_factory.mktemp("offline-vs-daemon")
    run = uuid.uuid4().hex[:8]
    police, council = f"{POLICE}-{run}", f"{COUNCIL}-{run}"
    config = work / "partnership.toml"
    config.write_text(demo_files.partnership.read_text().replace(f'"{POLICE}"', f'"{police}"')
                      .replace(f'"{COUNCIL}"', f'"{council}"'))
    partnership = load_partnership(config)
    agent_config = replace(agent_config_with_outbox(demo_files, work / "outbox.db"), signatory=police,
                           partnership=config)
    export = work / "police-export.csv"
    police_offence_export(gazetteer, export, rows=ROWS, bad_rows=BAD_ROWS, seed=SEED)
    today = dt.date.today()

    async def daemon() -> tuple[Path, object, float]:
        started = time.monotonic()
        group = f"exchange-sanitiser-offline-test-{run}"
        await start_group_at_end(kafka, group, [raw_topic(DATASET)])
        await start_group_at_end(kafka, f"feed.{council}", [shared_topic(DATASET)])
        stop = asyncio.Event()
        sanitiser = SanitiserService(SanitiserCore(partnership, catalogue(), party_keys["sanitiser"], gazetteer,
                                                   today=lambda: today), kafka, datasets=[DATASET], group_id=group)
        sanitiser_task = asyncio.create_task(sanitiser.run(stop))
        report = await submit(agent_config, export, partnership=partnership, dataset=catalogue()[DATASET],
                              keys=party_keys[POLICE], settings=kafka)
        async with FeedStore(work / "council.db") as store:
            feed = FeedService(partnership, catalogue(), party_keys[COUNCIL], council, kafka, store, datasets=[DATASET])
            feed_task = asyncio.create_task(feed.run(stop))
            deadline = time.monotonic() + 60
            while await store.count(DATASET) < report.accepted:
                assert not sanitiser_task.done() and not feed_task.done(), "a service stopped"
                assert time.monotonic() < deadline, "timed out waiting for the council's records"
                await asyncio.sleep(0.2)
            stop.set()
            await asyncio.gather(sanitiser_task, feed_task)
            delivered = work / "council-export.csv"
            await export_csv(store, DATASET, catalogue(), delivered)
        return delivered, report, time.monotonic() - started

    delivered, report, daemon_seconds = asyncio.run(daemon())

    source = schema_named_copy(export, agent_config.columns, work / "offline-in.csv")
    offline_out = work / "offline-out.csv"
    started = time.monotonic()
    result = CliRunner().invoke(main, ["sanitise",
        "--dataset", DATASET, "--gazetteer", str(demo_files.gazetteer), "--in", str(source), "--out", str(offline_out),
        "--config", str(config), "--keys", str(demo_files.keys["sanitiser"]), "--marking", agent_config.marking,
        "--as-of", today.isoformat()], env={"EXCHANGE_KEY_PASSPHRASE": PASSPHRASE}, catch_exceptions=False)
    offline_seconds = time.monotonic() - started
    print(f"\ndaemon path {daemon_seconds:.1f} s, offline command {offline_seconds:.2f} s for {ROWS + BAD_ROWS} rows")
    return {"delivered": delivered, "report": report, "result": result, "offline": offline_out,
            "quarantine": work / "offline-out.quarantine.csv", "police": police}


def test_the_same_rows_are_rejected(outputs):
    report, result = outputs["report"], outputs["result"]
    assert report.accepted == ROWS and report.rejected == BAD_ROWS
    assert result.exit_code == 1  # the export has faulty rows
    agent_rejects = [int(r["row"]) for r in read_rows(report.quarantine)]
    offline_rejects = [int(r["row"]) for r in read_rows(outputs["quarantine"])]
    assert offline_rejects == agent_rejects and len(agent_rejects) == BAD_ROWS


def test_offline_output_equals_what_the_daemon_delivers_field_by_field(outputs):
    delivered = read_rows(outputs["delivered"])
    offline = read_rows(outputs["offline"])
    assert len(delivered) == len(offline) == ROWS
    assert list(delivered[0]) == list(offline[0])  # same columns, same order
    by_ref = {r["crime_ref"]: r for r in delivered}
    assert len(by_ref) == ROWS
    differences = []
    for row in offline:
        daemon_row = by_ref.get(row["crime_ref"])
        assert daemon_row is not None, f"offline pseudonym {row['crime_ref']} was not delivered by the daemon"
        differences += [(row["crime_ref"], name, row[name], daemon_row[name])
                        for name in row if row[name] != daemon_row[name]]
    assert differences == []


def test_both_paths_really_depersonalised(outputs):
    rows = read_rows(outputs["offline"])
    assert all(r["crime_ref"].startswith("PS-") for r in rows)
    assert any(r["location_generalised"] == "Y" for r in rows)
    assert {r["handling_originator"] for r in rows} == {outputs["police"]}
    assert {r["handling_permitted_purpose"] for r in rows} == {
        "Strategic assessment and daily tasking of the partnership"}
