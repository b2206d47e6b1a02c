"""The central sanitiser service: SanitiserCore on the consume loop.

Consumes raw.*, publishes shared.* / restricted.* and key grants, dead-letters what the core
refuses; offsets are committed only after everything a batch produced is acknowledged and its
processed state and audit are written (exchange.transport.loop).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer

from exchange.core.names import (
    AGGREGATES_TOPIC,
    DEADLETTER_TOPIC,
    SANITISER_GROUP,
    key_topic,
    raw_topic,
    shared_topic,
)
from exchange.core.partnership import Partnership
from exchange.services.aggregates import AggregatePublisher
from exchange.services.health import consumer_lag
from exchange.services.sanitiser_core import Ledger, SanitiserCore, SanitiserStats
from exchange.storage.tallies import TallyStore
from exchange.transport.kafka import (
    KafkaSettings,
    Share,
    assign_all,
    ensure_topics,
    make_producer,
    start_consumer,
)
from exchange.transport.loop import ConsumeLoop
from exchange.transport.readers import KeyTopicReader

__all__ = ["GROUP_ID", "SanitiserService"]

log = logging.getLogger("exchange.sanitiser")
GROUP_ID = SANITISER_GROUP
ASSIGNMENT_EVERY = 10.0  # seconds between looks for partitions added since the start (one process)


class SanitiserService:
    def __init__(self, core: SanitiserCore, settings: KafkaSettings, *, datasets: list[str] | None = None,
                 report_every: float = 5.0, group_id: str = GROUP_ID,
                 partnership_source: Callable[[], Awaitable[Partnership]] | None = None, refresh_every: float = 1.0,
                 ledger: Ledger | None = None, key_reader: KeyTopicReader | None = None,
                 tallies: TallyStore | None = None, aggregate_every: float = 3600.0, scale_out: bool = False,
                 share: Share | None = None):
        self.core = core
        if ledger is not None:
            core.ledger = ledger
        # With a tally store the sanitiser keeps aggregate counts and publishes the tables.
        self.aggregates = AggregatePublisher(core, tallies, today=core.today) if tallies is not None else None
        if tallies is not None:
            core.tallies = tallies
        self._aggregate_every = aggregate_every
        # scale_out: join the consumer group, so several sanitiser processes share the partitions;
        # otherwise this process takes every partition, or its fixed `share`, and is ready at once.
        if scale_out and share is not None:
            raise ValueError("a sanitiser joins the group (scale_out) or takes a fixed share, not both")
        self.scale_out = scale_out
        self.share = share
        self.settings = settings
        self.group_id = group_id
        # Where the live ISP state comes from (the governance registry); re-read before a batch
        # once `refresh_every` seconds have passed, so a suspension takes effect within that time.
        self._partnership_source = partnership_source
        self._refresh_every = refresh_every
        self._refreshed = float("-inf")
        self._pinned = datasets is not None  # else the datasets follow who supplies what
        supplied = datasets or sorted(core.partnership.supplied_datasets())
        self.datasets = [d for d in supplied if d in core.catalogue]
        self._report_every = report_every
        self.key_reader = key_reader or KeyTopicReader(settings, [key_topic(raw_topic(d)) for d in self.datasets],
                                                       accept=core.opener.accept_key_grant)
        core.fetch_keys = self.key_reader.refresh
        self._consumer: AIOKafkaConsumer | None = None

    @property
    def stats(self) -> SanitiserStats:
        return self.core.stats

    @property
    def consumer(self) -> AIOKafkaConsumer | None:
        """The consumer of the raw topics while `run` runs (for health: its lag), else None."""
        return self._consumer

    async def lag(self) -> dict[tuple[str, int], int]:
        """Messages not yet processed, per (topic, partition) this process consumes ({} when not running)."""
        return await consumer_lag(self._consumer)

    def topics(self) -> list[str]:
        topics = [DEADLETTER_TOPIC]
        for dataset_id in self.datasets:
            dataset = self.core.catalogue[dataset_id]
            out = shared_topic(dataset_id, personal=dataset.personal)
            topics += [raw_topic(dataset_id), key_topic(raw_topic(dataset_id)), out, key_topic(out)]
        if self.aggregates is not None:
            topics += [AGGREGATES_TOPIC, key_topic(AGGREGATES_TOPIC)]
        return topics

    async def run(self, stop: asyncio.Event) -> None:
        for warning in self.core.partnership.warnings:
            log.warning("%s", warning)
        await ensure_topics(self.settings, self.topics())
        producer = make_producer(self.settings)
        await producer.start()
        consumer = await start_consumer(self.settings, self.raw_topics(), group_id=self.group_id,
                                        membership=self.scale_out, share=self.share)
        self._consumer = consumer
        await self.key_reader.start()
        log.info("sanitiser consuming %s%s", ", ".join(self.raw_topics()),
                 f" (member {self.share}: the partitions whose number modulo {self.share.of} is "
                 f"{self.share.number - 1})"
                 if self.share else "")
        chores = [(self._report_every, self._report)]
        if not self.scale_out:
            async def follow_partitions() -> None:
                await assign_all(consumer, self.raw_topics(), share=self.share)
            chores.append((ASSIGNMENT_EVERY, follow_partitions))
        if self._partnership_source is not None:
            chores.append((self._refresh_every, self._follow_partnership))
        if self.aggregates is not None:
            publisher = self.aggregates

            async def publish_aggregates() -> None:
                await publisher.publish(producer)
            chores.append((self._aggregate_every, publish_aggregates))
        loop = ConsumeLoop(consumer, self.core, producer=producer, before_batch=self._refresh_partnership,
                           every=chores, name="sanitiser")
        try:
            await loop.run(stop)
        finally:
            self.report()
            await self.key_reader.stop()
            self._consumer = None
            await consumer.stop()
            await producer.stop()

    def raw_topics(self) -> list[str]:
        return [raw_topic(d) for d in self.datasets]

    async def _follow_partnership(self) -> None:
        """Between batches too: adopt the live state, and consume a dataset newly supplied (an
        agency admitted with a dataset nobody supplied before) without a restart."""
        await self._refresh_partnership()
        if self._pinned or self._consumer is None:
            return
        supplied = [d for d in sorted(self.core.partnership.supplied_datasets()) if d in self.core.catalogue]
        if set(supplied) <= set(self.datasets):
            return  # a dataset no longer supplied stays consumed: what is in flight is still refused properly
        self.datasets = sorted(set(self.datasets) | set(supplied))
        await ensure_topics(self.settings, self.topics())
        self.key_reader.follow([key_topic(t) for t in self.raw_topics()])
        if self.scale_out:
            self._consumer.subscribe(self.raw_topics())
        else:
            await assign_all(self._consumer, self.raw_topics(), share=self.share)
        log.info("sanitiser now consuming %s", ", ".join(self.raw_topics()))

    async def _refresh_partnership(self) -> None:
        if self._partnership_source is None or time.monotonic() - self._refreshed < self._refresh_every:
            return
        self.core.update_partnership(await self._partnership_source())
        self._refreshed = time.monotonic()

    async def _report(self) -> None:
        self.report()

    def report(self) -> None:
        s = self.stats
        dead = ", ".join(f"{k} {v}" for k, v in sorted(s.dead_lettered.items())) or "none"
        log.info("received %d, released %d, metadata %d, moved to a qualifying postcode %d, "
                 "free-text redactions %d, withheld (no recipient) %d, redeliveries skipped %d, dead-lettered: %s",
                 s.received, s.released, s.metadata, s.moved, s.redactions, s.withheld_no_recipient, s.duplicates, dead)
