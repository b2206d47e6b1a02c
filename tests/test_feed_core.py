"""A subscriber's feed without a broker: FeedCore on the consume loop, reading what a real
SanitiserCore published to in-memory topics (tests/support)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest

from exchange.core.avro import codec
from exchange.core.names import key_topic
from exchange.crypto.envelope import Sealer
from exchange.errors import ReasonCode
from exchange.services.feed_core import FeedCore
from exchange.services.sanitiser_core import output_message_id
from exchange.testing.partnership import COUNCIL, DATASET, POLICE, VOLUNTARY
from exchange.transport.loop import ConsumeLoop
from tests.support.fakes import (
    FakeConsumer,
    FakeKeyReader,
    MemoryAudit,
    MemoryFeedStore,
)
from tests.support.sanitiser_world import SHARED, TODAY, World


class Feed:
    def __init__(self, world: World, signatory: str, *, today: dt.date = TODAY):
        self.world = world
        self.store, self.audit = MemoryFeedStore(), MemoryAudit()
        self.core = FeedCore(world.partnership, world.core.catalogue, world.keys[signatory], signatory, self.store,
                             datasets=[DATASET], audit=self.audit, today=lambda: today)
        self.core.fetch_keys = FakeKeyReader(world.topics, [key_topic(SHARED)],
                                             self.core.opener.accept_key_grant).refresh
        self.consumer = FakeConsumer(world.topics, SHARED)
        self.loop = ConsumeLoop(self.consumer, self.core, poll_ms=0)

    def run(self) -> None:
        """Everything supplied so far, through the consume loop, until a poll comes back empty."""
        asyncio.run(self.loop.run(asyncio.Event(), until_idle=0))

    def codes(self) -> list[str]:
        return [refusal[4] for refusal in self.store.refusals]


@pytest.fixture
def world(partnership, party_keys, gazetteer) -> World:
    world = World(partnership, party_keys, gazetteer)
    world.supply(*(world.seal(world.record(i), f"m-{i}") for i in range(3)))
    world.run()
    assert len(world.topics.read(SHARED)) == 3
    return world


def test_the_grantee_stores_each_record_once_and_audits_each_delivery(world):
    feed = Feed(world, COUNCIL)
    feed.run()
    assert sorted(feed.store.records) == sorted(output_message_id(POLICE, f"m-{i}") for i in range(3))
    assert feed.audit.kinds() == ["delivery"] * 3 and feed.consumer.committed[SHARED] == 3
    world.topics.append(SHARED, world.topics.read(SHARED)[0])  # a redelivered envelope
    feed.run()
    assert (len(feed.store.records) == 3 and feed.core.stats.duplicates == 1
            and feed.audit.kinds().count("delivery") == 3)


def test_a_signatory_without_a_grant_opens_nothing_and_records_why(world):
    feed = Feed(world, VOLUNTARY)
    feed.run()
    assert feed.store.records == {} and feed.codes() == [ReasonCode.NOT_A_RECIPIENT] * 3
    assert feed.audit.kinds() == ["rejection"] * 3 and feed.consumer.committed[SHARED] == 3


def test_only_the_sanitiser_may_publish_on_a_shared_topic(world):
    police_on_shared = Sealer(producer=POLICE, keys=world.keys[POLICE], topic=SHARED,
                              recipients={COUNCIL: world.keys[COUNCIL].public.x25519})
    sealed = police_on_shared.seal(world.record(0), message_id="forged", dataset=DATASET, marking="OFFICIAL",
                                   schema_fingerprint=world.dataset.shared_codec.fingerprint)
    world.topics.append(key_topic(SHARED), sealed.key_grant)
    world.topics.append(SHARED, sealed.envelope)
    feed = Feed(world, COUNCIL)
    feed.run()
    assert feed.codes() == [ReasonCode.UNKNOWN_PRODUCER] and len(feed.store.records) == 3


def test_garbage_and_tampering_are_refused_and_the_feed_goes_on(world):
    genuine = world.topics.read(SHARED)
    tampered = bytearray(genuine[1])
    tampered[-3] ^= 0x40
    world.topics.values[SHARED].clear()
    for value in (b"garbage", bytes(tampered), genuine[2]):
        world.topics.append(SHARED, value)
    feed = Feed(world, COUNCIL)
    feed.run()
    assert feed.codes() == [ReasonCode.MALFORMED_ENVELOPE, ReasonCode.BAD_SIGNATURE]
    assert list(feed.store.records) == [output_message_id(POLICE, "m-2")]


def test_a_supply_s_metadata_is_kept_not_counted_as_a_record(world):
    metadata = {"agency": POLICE, "supplier_contact": "Analysis Unit", "dataset_name": DATASET,
                "period_start": TODAY, "period_end": TODAY, "file_format": "CSV", "number_of_records": 3,
                "records_rejected": 0, "date_supplied": dt.datetime.now(dt.UTC),
                "datafields": ["crime_ref"], "caveats": "none", "source_file_sha256": "0" * 64}
    metadata_codec = codec("dataset_metadata")
    world.supply(world.seal(metadata_codec.encode(metadata), "supply-1", fingerprint=metadata_codec.fingerprint,
                            kind="METADATA"))
    world.run()
    feed = Feed(world, COUNCIL)
    feed.run()
    assert len(feed.store.supplies) == 1 and len(feed.store.records) == 3 and feed.core.stats.supplies == 1


def test_the_store_commits_before_the_offset_moves(world):
    class FailingStore(MemoryFeedStore):
        async def commit(self):
            raise OSError("disk full")

    feed = Feed(world, COUNCIL)
    feed.store = feed.core.store = FailingStore()
    with pytest.raises(OSError):
        feed.run()
    assert feed.consumer.committed[SHARED] == 0 and feed.store.records == {}


def test_retention_destroys_what_is_past_its_destroy_by_date_and_audits_the_count(world, partnership):
    feed = Feed(world, COUNCIL)
    feed.run()
    later = Feed(world, COUNCIL, today=TODAY + dt.timedelta(days=partnership.retention_days + 1))
    later.store, later.core.store = feed.store, feed.store
    assert asyncio.run(later.core.enforce_retention()) == 3
    assert feed.store.records == {}
    event, = later.audit.events
    assert event.kind == "retention" and event.count == 3 and event.recipients == (COUNCIL,)


def test_a_feed_holds_only_its_granted_datasets(world, partnership):
    ungranted = dataclasses.replace(partnership, grants=())
    core = FeedCore(ungranted, world.core.catalogue, world.keys[COUNCIL], COUNCIL, MemoryFeedStore())
    assert core.datasets == [] and core.topics() == []


def test_a_feed_will_not_start_with_another_party_s_key(world):
    from exchange.errors import ConfigError

    with pytest.raises(ConfigError, match="does not hold the keys registered for 'northshire-council'"):
        FeedCore(world.partnership, world.core.catalogue, world.keys[VOLUNTARY], COUNCIL, MemoryFeedStore())
