"""Corrections, withdrawals and the originator's per-record handling, without a broker: a real
SanitiserCore publishing to in-memory topics and a FeedCore reading them (tests/support).

Every version of one record carries the same keyed token (handling.record_key), so a subscriber
keeps the latest version only; a withdrawal deletes it everywhere; a record its originator
marks not for dissemination goes nowhere, and a sub judice one only where the originator says."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from exchange.core.avro import codec
from exchange.core.names import key_topic
from exchange.errors import ReasonCode
from exchange.services.feed_core import FeedCore
from exchange.storage.feed_store import FeedStore
from exchange.testing.partnership import COUNCIL, DATASET, POLICE, VOLUNTARY
from exchange.transport.loop import ConsumeLoop
from tests.support.fakes import FakeConsumer, FakeKeyReader, MemoryAudit, MemoryFeedStore
from tests.support.sanitiser_world import SHARED, TODAY, World


class Feed:
    def __init__(self, world: World, signatory: str, store=None):
        self.store, self.audit = store or MemoryFeedStore(), MemoryAudit()
        self.core = FeedCore(world.partnership, world.core.catalogue, world.keys[signatory], signatory, self.store,
                             datasets=[DATASET], audit=self.audit, today=lambda: TODAY)
        self.core.fetch_keys = FakeKeyReader(world.topics, [key_topic(SHARED)],
                                             self.core.opener.accept_key_grant).refresh
        self.loop = ConsumeLoop(FakeConsumer(world.topics, SHARED), self.core, poll_ms=0)

    def run(self) -> None:
        asyncio.run(self.drain())

    async def drain(self) -> None:
        await self.loop.run(asyncio.Event(), until_idle=0)

    def held(self) -> list[dict]:
        return [record for _, _, record in self.store.records.values()]


def withdrawal(world: World, message_id: str, **key: str) -> bytes:
    return world.seal(codec("withdrawal").encode({"natural_key": key}), message_id, kind="WITHDRAWAL",
                      fingerprint=codec("withdrawal").fingerprint)


@pytest.fixture
def world(partnership, party_keys, gazetteer) -> World:
    return World(partnership, party_keys, gazetteer)


def shared_records(world: World, feed: Feed) -> list[dict]:
    return sorted(feed.held(), key=lambda r: r["handling"]["record_key"])


def test_a_corrected_record_supersedes_the_earlier_version_at_the_subscriber(world):
    original = world.records[0]
    reclassified = "30/1" if original["offence_code"] != "30/1" else "28/3"
    world.supply(world.seal(world.record(0), "v1"), world.seal(world.record(1), "other"),
                 world.seal(world.record(0, offence_code=reclassified), "v2"))
    world.run()
    feed = Feed(world, COUNCIL)
    feed.run()
    held = feed.held()
    assert len(held) == 2, "the correction must replace the first version, not sit beside it"
    ref = _shared_ref(world, feed, 0)
    assert [r["offence_code"] for r in held if r["crime_ref"] == ref] == [reclassified]
    assert feed.core.stats.superseded == 1 and feed.audit.kinds().count("supersession") == 1


def test_versions_of_one_record_share_a_token_that_reveals_nothing(world):
    world.supply(world.seal(world.record(0), "v1"), world.seal(world.record(0, offence_code="8/1"), "v2"),
                 world.seal(world.record(1), "other"))
    world.run()
    feed = Feed(world, COUNCIL)
    feed.core.store = feed.store = _Recording()
    feed.run()
    keys = [record["handling"]["record_key"] for record in feed.store.seen]
    assert keys[0] == keys[1] != keys[2]
    assert all(world.records[0]["crime_ref"] not in key for key in keys)


class _Recording(MemoryFeedStore):
    """Keeps every record it was given, superseded or not."""

    def __init__(self):
        super().__init__()
        self.seen: list[dict] = []

    async def add_record(self, message_id, dataset, marking, record):
        self.seen.append(record)
        return await super().add_record(message_id, dataset, marking, record)


def test_a_late_redelivery_of_the_old_version_does_not_bring_it_back(world):
    world.supply(world.seal(world.record(0), "v1"), world.seal(world.record(0, offence_code="8/1"), "v2"))
    world.run()
    first_release = world.topics.read(SHARED)[0]
    feed = Feed(world, COUNCIL)
    feed.run()
    world.topics.append(SHARED, first_release)
    feed.run()
    assert [r["offence_code"] for r in feed.held()] == ["8/1"] and feed.core.stats.duplicates == 1


def test_a_withdrawal_deletes_the_record_everywhere_and_is_audited(world):
    world.supply(world.seal(world.record(0), "r0"), world.seal(world.record(1), "r1"))
    world.supply(withdrawal(world, "w0", crime_ref=world.records[0]["crime_ref"]))
    world.run()
    assert world.audit.kinds().count("withdrawal") == 1
    feed = Feed(world, COUNCIL)
    feed.run()
    assert len(feed.held()) == 1 and feed.core.stats.withdrawn == 1
    events = [e for e in feed.audit.events if e.kind == "withdrawal"]
    assert len(events) == 1 and events[0].count == 1


def test_a_withdrawal_reaches_a_store_that_already_holds_the_record(world, tmp_path):
    async def scenario():
        async with FeedStore(tmp_path / "feed.db") as store:
            sanitise = world.loop.run
            world.supply(world.seal(world.record(0), "r0"))
            await sanitise(asyncio.Event(), until_idle=0)
            feed = Feed(world, COUNCIL, store)
            await feed.drain()
            assert await store.count() == 1
            # Keys are compared as the originator's system would: case and spacing do not matter.
            world.supply(withdrawal(world, "w0", crime_ref=world.records[0]["crime_ref"].lower()))
            await sanitise(asyncio.Event(), until_idle=0)
            await feed.drain()
            assert await store.count() == 0
            # The same record supplied again later (a no-crime reversed) is a new arrival.
            world.supply(world.seal(world.record(0, offence_code="8/1"), "r0-again"))
            await sanitise(asyncio.Event(), until_idle=0)
            await feed.drain()
            assert [r["offence_code"] async for r in store.records()] == ["8/1"]
    asyncio.run(scenario())


def test_a_withdrawal_must_name_the_natural_key_fields(world):
    world.supply(withdrawal(world, "w-bad", incident_ref="X/1"))
    world.run()
    assert world.codes() == [ReasonCode.RECORD_INVALID]
    assert "crime_ref" in world.dead_letters()[0]["reason"]


def test_another_originators_equal_reference_is_another_record(world, partnership, party_keys, gazetteer):
    # Keyed per originator and dataset: the same reference string from elsewhere never joins.
    record = world.records[0]
    mine = world.core.records.record_key(world.dataset, POLICE, world.dataset.natural_key_of(record))
    theirs = world.core.records.record_key(world.dataset, COUNCIL, world.dataset.natural_key_of(record))
    assert mine != theirs


def _instructions(restriction=None, release_to=(), marking=None) -> dict:
    return {"originator_handling": {"restriction": restriction, "release_to": list(release_to),
                                    "depersonalised_marking": marking}}


def test_a_record_not_for_dissemination_is_withheld_and_audited(world):
    world.supply(world.seal(world.record(0, **_instructions("NOT_FOR_DISSEMINATION")), "nfd"))
    world.run()
    assert world.topics.read(SHARED) == []
    withheld = [e for e in world.audit.events if e.kind == "withheld"]
    assert [e.reason_code for e in withheld] == [ReasonCode.ORIGINATOR_RESTRICTED]
    assert world.core.stats.withheld_by_originator == 1


def test_a_sub_judice_record_reaches_only_the_recipients_the_originator_named(partnership, party_keys, gazetteer):
    council_grant = next(g for g in partnership.grants if g.signatory == COUNCIL and g.dataset == DATASET)
    wider = dataclasses.replace(partnership, grants=(*partnership.grants,
                                                     dataclasses.replace(council_grant, signatory=VOLUNTARY)))
    world = World(wider, party_keys, gazetteer)
    recipients = [s.id for s in wider.recipients(DATASET, personal=False, today=TODAY)]
    assert recipients == [COUNCIL, VOLUNTARY]
    world.supply(world.seal(world.record(0, **_instructions("SUB_JUDICE", [COUNCIL, "nobody-granted"])), "sj"))
    world.run()
    release = [e for e in world.audit.events if e.kind == "release"]
    assert [e.recipients for e in release] == [(COUNCIL,)] and "SUB_JUDICE" in release[0].detail
    others = [Feed(world, r) for r in recipients if r != COUNCIL]
    for feed in others:
        feed.run()
        assert feed.held() == [] and feed.store.refusals[0][4] == ReasonCode.NOT_A_RECIPIENT
    council = Feed(world, COUNCIL)
    council.run()
    assert len(council.held()) == 1 and "originator_handling" not in council.held()[0]


def test_a_sub_judice_record_naming_nobody_authorised_is_withheld(world):
    world.supply(world.seal(world.record(0, **_instructions("SUB_JUDICE", ["not-a-grantee"])), "sj"))
    world.run()
    assert world.topics.read(SHARED) == []
    assert [e.reason_code for e in world.audit.events if e.kind == "withheld"] == [ReasonCode.ORIGINATOR_RESTRICTED]


def test_the_agent_config_may_declare_the_marking_of_the_depersonalised_form(partnership, party_keys, gazetteer):
    # Without the demo partnership's own declaration for the police, so only the record's applies.
    world = World(dataclasses.replace(partnership, depersonalised_markings={}), party_keys, gazetteer)
    world.supply(world.seal(world.record(0, **_instructions(marking="OFFICIAL")), "declared",
                            marking="OFFICIAL-SENSITIVE"),
                 world.seal(world.record(1), "undeclared", marking="OFFICIAL-SENSITIVE"))
    world.run()
    feed = Feed(world, COUNCIL)
    feed.run()
    markings = sorted(marking for _, marking, _ in feed.store.records.values())
    assert markings == ["OFFICIAL", "OFFICIAL-SENSITIVE"]
    reasons = [e.detail for e in world.audit.events if e.kind == "sanitisation"]
    assert any("declared in its agent config" in r for r in reasons)


@pytest.mark.parametrize("repeats", [12])
def test_a_re_extract_supplied_many_times_leaves_one_copy_of_each_record(world, repeats):
    # Twelve monthly re-extracts of a growing year: month m re-supplies records 0..m, with the
    # record of month 0 reclassified in the last one.
    for month in range(repeats):
        for index in range(month + 1):
            changes = {"offence_code": "8/1"} if (index == 0 and month == repeats - 1) else {}
            payload = world.record(index, **changes)
            world.supply(world.seal(payload, f"month{month}-r{index}"))
    world.run()
    feed = Feed(world, COUNCIL)
    feed.run()
    held = feed.held()
    assert len(held) == repeats
    assert len({r["handling"]["record_key"] for r in held}) == repeats
    assert [r["offence_code"] for r in held if r["crime_ref"] == _shared_ref(world, feed, 0)] == ["8/1"]


def _shared_ref(world: World, feed: Feed, index: int) -> str:
    """The pseudonymised crime reference the subscriber holds for raw record `index`."""
    key = world.core.records.record_key(world.dataset, POLICE, world.dataset.natural_key_of(world.records[index]))
    return next(r["crime_ref"] for r in feed.held() if r["handling"]["record_key"] == key)


def test_a_store_written_before_record_keys_gains_them(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE records (message_id TEXT PRIMARY KEY, dataset TEXT NOT NULL, marking TEXT NOT NULL,"
                    " originator TEXT NOT NULL, destroy_by TEXT, received_at REAL NOT NULL, record TEXT NOT NULL)")
        old.execute("INSERT INTO records VALUES ('old-1', 'd', 'OFFICIAL', 'p', NULL, 0, '{}')")

    async def scenario():
        async with FeedStore(path) as store:
            record = {"handling": {"originator": "p", "record_key": "PS-A", "destroy_by": None}}
            assert await store.add_record("new-1", "d", "OFFICIAL", record) == "new"
            assert await store.add_record("new-2", "d", "OFFICIAL", record) == "superseded"
            await store.commit()
            assert await store.count() == 2 and await store.versions("d", "PS-A") == 2
    asyncio.run(scenario())
