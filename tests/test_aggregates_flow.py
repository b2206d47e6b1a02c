"""Aggregate tables from the sanitiser to scrutiny (tier 3), without a broker: a real
SanitiserCore keeping its counts in a real SQLite tally store, the publisher sealing the tables,
and feeds reading them from in-memory topics (tests/support)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

import pytest

from exchange.core.aggregates import month_of
from exchange.core.avro import codec
from exchange.core.names import AGGREGATES_TOPIC, key_topic
from exchange.core.partnership import Signatory
from exchange.crypto.keys import KeyPair
from exchange.errors import ReasonCode
from exchange.services.aggregates import AggregatePublisher
from exchange.services.feed_core import FeedCore
from exchange.storage.tallies import TallyStore
from exchange.testing.partnership import COUNCIL, DATASET
from exchange.transport.loop import ConsumeLoop
from tests.support.fakes import FakeConsumer, FakeKeyReader, FakeProducer, MemoryAudit, MemoryFeedStore
from tests.support.sanitiser_world import TODAY, World

SCRUTINY = "northshire-scrutiny-panel"


@pytest.fixture(scope="module")
def scrutiny_keys() -> KeyPair:
    return KeyPair.generate(SCRUTINY)


@pytest.fixture
def world(partnership, party_keys, gazetteer, scrutiny_keys) -> World:
    panel = Signatory(SCRUTINY, "Community Safety Scrutiny Panel", "other", 3, "active", f"User:{SCRUTINY}",
                      scrutiny_keys.public)
    isp = dataclasses.replace(partnership, signatories={**partnership.signatories, SCRUTINY: panel},
                              aggregate_recipients=(SCRUTINY,), aggregate_threshold=3)
    return World(isp, {**party_keys, SCRUTINY: scrutiny_keys}, gazetteer)


class Reader:
    """A feed reading what the publisher put on shared.aggregates."""

    def __init__(self, world: World, signatory: str):
        self.store = MemoryFeedStore()
        self.core = FeedCore(world.partnership, world.core.catalogue, world.keys[signatory], signatory, self.store,
                             datasets=[], audit=MemoryAudit(), today=lambda: TODAY)
        self.core.fetch_keys = FakeKeyReader(world.topics, [key_topic(AGGREGATES_TOPIC)],
                                             self.core.opener.accept_key_grant).refresh
        self.loop = ConsumeLoop(FakeConsumer(world.topics, AGGREGATES_TOPIC), self.core, poll_ms=0)

    async def drain(self) -> None:
        await self.loop.run(asyncio.Event(), until_idle=0)


def _withdrawal(world: World, message_id: str, crime_ref: str) -> bytes:
    return world.seal(codec("withdrawal").encode({"natural_key": {"crime_ref": crime_ref}}), message_id,
                      kind="WITHDRAWAL", fingerprint=codec("withdrawal").fingerprint)


def test_scrutiny_receives_suppressed_counts_that_follow_corrections_and_withdrawals(world):
    async def scenario():
        async with TallyStore(":memory:") as tallies:
            world.core.tallies = tallies
            publisher = AggregatePublisher(world.core, tallies, today=lambda: TODAY)
            producer = FakeProducer(world.topics)
            world.supply(*(world.seal(world.record(i), f"r{i}") for i in range(20)))
            await world.loop.run(asyncio.Event(), until_idle=0)
            months = Counter(month_of(r["committed_from_date"]) for r in world.records[:20])
            assert await publisher.publish(producer) == len(months)
            assert await publisher.publish(producer) == 0, "an unchanged table is not published again"

            panel = Reader(world, SCRUTINY)
            await panel.drain()
            tables = {month: table for (_, month), (_, table) in panel.store.aggregates.items()}
            assert set(tables) == set(months)
            for month, table in tables.items():
                assert table["total"] in (None, months[month])
                for cell in table["cells"]:
                    assert cell["count"] is None or cell["count"] == 0 or cell["count"] >= 3
                assert not {"crime_ref", "record_key", "address"} & set(table), "never record-level"

            # One record withdrawn: its month's table is published again, one fewer.
            world.supply(_withdrawal(world, "w0", world.records[0]["crime_ref"]))
            await world.loop.run(asyncio.Event(), until_idle=0)
            assert await publisher.publish(producer) == 1
            await panel.drain()
            month = month_of(world.records[0]["committed_from_date"])
            table = panel.store.aggregates[(DATASET, month)][1]
            assert table["total"] in (None, months[month] - 1)
            assert sum((await tallies.counts(DATASET, month)).values()) == months[month] - 1

            # The council is no recipient of aggregates: it cannot open them.
            council = Reader(world, COUNCIL)
            assert AGGREGATES_TOPIC not in council.core.topics()
            await council.drain()
            assert council.store.aggregates == {}
            assert {r[4] for r in council.store.refusals} == {ReasonCode.NOT_A_RECIPIENT}

    asyncio.run(scenario())


def test_a_record_the_originator_restricted_is_not_counted(world):
    async def scenario():
        async with TallyStore(":memory:") as tallies:
            world.core.tallies = tallies
            nfd = {"originator_handling": {"restriction": "NOT_FOR_DISSEMINATION", "release_to": [],
                                           "depersonalised_marking": None}}
            world.supply(world.seal(world.record(0, **nfd), "nfd"), world.seal(world.record(1), "ok"))
            await world.loop.run(asyncio.Event(), until_idle=0)
            held = 0
            for _, month in await tallies.months():
                held += sum((await tallies.counts(DATASET, month)).values())
            return held

    assert asyncio.run(scenario()) == 1


def test_nothing_is_published_without_recipients(partnership, party_keys, gazetteer):
    world = World(partnership, party_keys, gazetteer)

    async def scenario():
        async with TallyStore(":memory:") as tallies:
            world.core.tallies = tallies
            world.supply(world.seal(world.record(0), "r0"))
            await world.loop.run(asyncio.Event(), until_idle=0)
            return await AggregatePublisher(world.core, tallies, today=lambda: TODAY).publish(
                FakeProducer(world.topics))

    assert asyncio.run(scenario()) == 0 and world.topics.read(AGGREGATES_TOPIC) == []


def test_the_broker_lets_only_the_named_recipients_read_the_tables(world):
    from exchange.core.acl import desired_bindings

    bindings = desired_bindings(world.partnership, world.core.catalogue, TODAY)
    readers = {b.principal for b in bindings if b.resource_name in (AGGREGATES_TOPIC, key_topic(AGGREGATES_TOPIC))
               and b.operation.name == "READ"}
    assert readers == {f"User:{SCRUTINY}"}
    # Tier 3 reads nothing record-level.
    panel = {b.resource_name for b in bindings if b.principal == f"User:{SCRUTINY}"}
    assert not [name for name in panel if name.startswith(("shared.police", "restricted."))]


def test_the_recipient_reads_its_tables_with_the_suppressed_counts_shown(tmp_path):
    from click.testing import CliRunner

    from exchange.cli import main
    from exchange.core.aggregates import aggregate_table
    from exchange.core.schemas import catalogue
    from exchange.storage.feed_store import FeedStore

    table = aggregate_table(catalogue()[DATASET], "2026-10", {("NX1 1", "28/3"): 2, ("NX1 2", "28/3"): 9,
                                                              ("NX1 2", "8/1"): 12, ("NX1 1", "8/1"): 7},
                            {("NX1 1", "28/3"): 6}, 5)

    async def store():
        async with FeedStore(tmp_path / "panel.db") as feed:
            await feed.add_aggregate("m1", DATASET, "2026-10", "OFFICIAL", table)
            await feed.commit()
    asyncio.run(store())
    result = CliRunner().invoke(main, ["feed", "aggregates", "--db", str(tmp_path / "panel.db")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OFFICIAL") and result.output.rstrip().endswith("OFFICIAL")
    assert "<5" in result.output and "police_crime_offence 2026-10" in result.output
    assert "30" in result.output  # the grand total stays: nothing in it is small
