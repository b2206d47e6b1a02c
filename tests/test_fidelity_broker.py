"""The originator's data kept faithfully, end to end on the embedded broker: the agent, the
sanitiser and a subscriber's feed as they run, with a SQLite store.

- the marking the police set (OFFICIAL-SENSITIVE) is the marking the council holds;
- a monthly re-extract with reclassified crimes supersedes the earlier versions, and rows whose
  status says "No crime" withdraw their records; `agent withdraw` withdraws by crime reference;
- a re-extract submitted again changes nothing;
- personal records are destroyed at the subscriber the day after the grant that allowed them ends.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from exchange.core.names import SANITISER_ID, key_topic, raw_topic
from exchange.core.partnership import Grant
from exchange.core.schemas import catalogue
from exchange.crypto.envelope import Sealer
from exchange.services.feed import FeedService
from exchange.services.sanitiser import SanitiserService
from exchange.services.sanitiser_core import SanitiserCore
from exchange.storage.audit import AuditLog
from exchange.storage.feed_store import FeedStore
from exchange.testing.partnership import COUNCIL, DATASET, POLICE, police_offence_export
from exchange.testing.records import records_for
from tests.support.partnership import agent_config_with_outbox

pytestmark = pytest.mark.broker
ROWS = 24
PERSONAL = "ppo"
RECLASSIFIED = {"HOOffenceCode": "8/1"}


@dataclasses.dataclass
class Flow:
    first: object
    second: object
    again: object
    withdrawn_by_file: object
    markings: set
    codes_after_correction: dict
    versions: dict
    held_after_correction: int
    held_after_withdrawal: int
    held_at_the_end: int
    personal_before_expiry: int
    personal_after_expiry: int
    feed_audit: list
    sanitiser_audit: list


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


async def _until(predicate, what: str, tasks, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert not any(t.done() for t in tasks), "a service stopped"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def _supply_personal(kafka, partnership, keys, gazetteer, count: int) -> None:
    dataset = catalogue()[PERSONAL]
    topic = raw_topic(PERSONAL)
    sealer = Sealer(producer=POLICE, keys=keys, topic=topic, recipients={SANITISER_ID: partnership.sanitiser.x25519})
    producer = AIOKafkaProducer(**kafka.client_options())
    await producer.start()
    try:
        for index, record in enumerate(records_for(dataset, gazetteer, count, seed=3)):
            sealed = sealer.seal(dataset.raw_codec.encode(record), message_id=f"ppo-{index}", dataset=PERSONAL,
                                 schema_fingerprint=dataset.raw_codec.fingerprint, marking="OFFICIAL-SENSITIVE")
            if sealed.key_grant is not None:
                await producer.send_and_wait(key_topic(topic), sealed.key_grant, key=sealed.header.key_id.encode())
            await producer.send_and_wait(topic, sealed.envelope, key=sealed.header.message_id.encode())
    finally:
        await producer.stop()


@pytest.fixture(scope="module")
def flow(kafka, demo_files, party_keys, partnership, gazetteer, tmp_path_factory) -> Flow:
    work = tmp_path_factory.mktemp("fidelity")
    today = dt.date.today()
    grant_ends = today + dt.timedelta(days=30)
    police = dataclasses.replace(partnership.signatories[POLICE],
                                 supplies=partnership.signatories[POLICE].supplies | {PERSONAL})
    isp = dataclasses.replace(
        partnership, depersonalised_markings={},  # nobody declared a lower marking: the police's stands
        signatories={**partnership.signatories, POLICE: police},
        grants=(*partnership.grants, Grant(COUNCIL, PERSONAL, "Offender management", "Crime and Disorder Act 1998 "
                                           "s.115", POLICE, grant_ends)))
    config = dataclasses.replace(agent_config_with_outbox(demo_files, work / "outbox.db"), marking="OFFICIAL-SENSITIVE",
                                 withdrawal_column="Status", withdrawal_values=frozenset({"no crime"}))
    first = work / "january.csv"
    police_offence_export(gazetteer, first, rows=ROWS, bad_rows=0, seed=41)
    rows = [dict(row, Status="Recorded") for row in _rows(first)]
    _write(first, rows)
    # February's re-extract: the same crimes, three reclassified, two no-crimed.
    second = work / "february.csv"
    _write(second, [dict(row, **RECLASSIFIED) if i < 3 else dict(row, Status="No crime") if i in (3, 4) else row
                    for i, row in enumerate(rows)])
    withdrawal_file = work / "withdraw.csv"
    _write(withdrawal_file, [{"CrimeNumber": rows[5]["CrimeNumber"]}])
    clock = [today]

    async def scenario() -> Flow:
        from agents.agent import submit, withdraw

        dataset = catalogue()[DATASET]
        async with AuditLog(work / "sanitiser-audit.db") as ledger, AuditLog(work / "feed-audit.db") as feed_audit, \
                FeedStore(work / "council.db") as store:
            sanitiser = SanitiserService(SanitiserCore(isp, catalogue(), party_keys["sanitiser"], gazetteer), kafka,
                                         ledger=ledger)
            feed = FeedService(isp, catalogue(), party_keys[COUNCIL], COUNCIL, kafka, store, audit=feed_audit,
                               retention_every=0.3, today=lambda: clock[0])
            stop = asyncio.Event()
            tasks = [asyncio.create_task(sanitiser.run(stop)), asyncio.create_task(feed.run(stop))]
            args = dict(partnership=isp, dataset=dataset, keys=party_keys[POLICE], settings=kafka)

            first_report = await submit(config, first, **args)
            await _until(lambda: _count(store, DATASET, ROWS), "January at the council", tasks)
            markings = {r["marking"] async for r in store.records(DATASET)}

            second_report = await submit(config, second, **args)
            await _until(lambda: _superseded(feed, 3), "the corrections", tasks)
            await _until(lambda: _count(store, DATASET, ROWS - 2), "the no-crimes withdrawn", tasks)
            codes = {r["handling"]["record_key"]: r["offence_code"] async for r in store.records(DATASET)}
            versions = {key: await store.versions(DATASET, key) for key in codes}
            held_after_correction = await store.count(DATASET)

            again = await submit(config, second, **args)  # February once more: nothing changes
            await asyncio.sleep(1.0)
            held_at_the_end = await store.count(DATASET)
            by_file = await withdraw(config, withdrawal_file, **args)
            await _until(lambda: _count(store, DATASET, ROWS - 3), "the withdrawal by file", tasks)
            held_after_withdrawal = await store.count(DATASET)

            await _supply_personal(kafka, isp, party_keys[POLICE], gazetteer, 4)
            await _until(lambda: _count(store, PERSONAL, 4), "the personal records", tasks)
            personal_before = await store.count(PERSONAL)
            clock[0] = grant_ends  # its last day: still held
            await asyncio.sleep(1.0)
            still_held = await store.count(PERSONAL)
            clock[0] = grant_ends + dt.timedelta(days=1)
            await _until(lambda: _count(store, PERSONAL, 0), "the personal records destroyed", tasks)

            stop.set()
            await asyncio.gather(*tasks)
            assert still_held == personal_before
            return Flow(first_report, second_report, again, by_file, markings, codes, versions, held_after_correction,
                        held_after_withdrawal, held_at_the_end, personal_before, await store.count(PERSONAL),
                        await feed_audit.query(), await ledger.query(dataset=DATASET))

    return asyncio.run(scenario())


async def _count(store: FeedStore, dataset: str, expected: int) -> bool:
    return await store.count(dataset) == expected


async def _superseded(feed: FeedService, expected: int) -> bool:
    return feed.stats.superseded >= expected


def test_the_originators_marking_is_the_marking_the_subscriber_holds(flow):
    assert flow.markings == {"OFFICIAL-SENSITIVE"}


def test_reclassified_crimes_supersede_their_earlier_versions(flow):
    assert flow.second.accepted == ROWS - 2 and flow.second.already_submitted == ROWS - 5
    assert flow.held_after_correction == ROWS - 2, "one copy of each record, none for the no-crimes"
    assert sorted(flow.versions.values()).count(2) == 3 and set(flow.versions.values()) == {1, 2}
    assert list(flow.codes_after_correction.values()).count("8/1") >= 3


def test_no_crimed_rows_and_a_withdrawal_file_delete_the_records_everywhere(flow):
    assert flow.second.withdrawn == 2 and flow.withdrawn_by_file.withdrawn == 1
    assert flow.held_after_withdrawal == ROWS - 3
    withdrawals = [e for e in flow.feed_audit if e["kind"] == "withdrawal"]
    assert sum(e["count"] for e in withdrawals) == 3
    assert len([e for e in flow.sanitiser_audit if e["kind"] == "withdrawal"]) == 3


def test_the_same_re_extract_submitted_again_changes_nothing(flow):
    assert flow.again.published == 0 and flow.again.already_submitted == ROWS - 2
    assert flow.again.withdrawn == 0 and flow.again.already_withdrawn == 2
    assert flow.held_at_the_end == ROWS - 2


def test_supersessions_are_audited_at_the_subscriber(flow):
    assert len([e for e in flow.feed_audit if e["kind"] == "supersession"]) == 3


def test_personal_records_are_destroyed_when_the_grant_ends(flow):
    assert flow.personal_before_expiry == 4 and flow.personal_after_expiry == 0
    # Their destroy-by date is the grant's last day, so the daily purge takes them (nothing else
    # the council holds is due for years); had the grant been revoked, the grant check would.
    destroyed = [e for e in flow.feed_audit if e["kind"] == "retention"]
    assert destroyed and sum(e["count"] for e in destroyed) == 4
