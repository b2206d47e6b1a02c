"""A subscriber's near-real-time feed service: FeedCore on the consume loop, reading
shared.* / restricted.* for the datasets this signatory is granted. Offsets are committed only
after the store has committed (exchange.transport.loop); retention runs at start and every
`retention_every` seconds."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer

from exchange.core.names import feed_group, key_topic
from exchange.core.partnership import Partnership
from exchange.core.schemas import Catalogue
from exchange.crypto.at_rest import AtRest
from exchange.crypto.keys import KeyPair
from exchange.services.feed_core import FeedCore, FeedStats
from exchange.services.governance_topic import GovernanceFollower
from exchange.services.health import consumer_lag
from exchange.storage.audit import AuditLog
from exchange.storage.feed_store import FeedStore
from exchange.transport.kafka import KafkaSettings, assign_all, start_consumer
from exchange.transport.loop import ConsumeLoop
from exchange.transport.readers import KeyTopicReader

__all__ = ["FeedService"]

log = logging.getLogger("exchange.feed")
ASSIGNMENT_EVERY = 10.0  # seconds between looks for topics or partitions created since the start
GOVERNANCE_EVERY = 1.0  # seconds between looks at the governance topic (a suspension acts within this)


class FeedService:
    def __init__(self, partnership: Partnership, catalogue: Catalogue, keys: KeyPair, signatory: str,
                 settings: KafkaSettings, store: FeedStore, *, datasets: list[str] | None = None,
                 audit: AuditLog | None = None, retention_every: float = 3600.0,
                 today: Callable[[], dt.date] = dt.date.today, key_reader: KeyTopicReader | None = None,
                 governance: GovernanceFollower | None = None):
        """`governance`, a started follower of the governance topic: the partnership then follows the
        signed chain live (grants, suspensions, expiry, keys) and `partnership` is its state at start."""
        self.core = FeedCore(partnership, catalogue, keys, signatory, store, datasets=datasets, audit=audit,
                             today=today)
        self.governance = governance
        # What the feed keeps is sealed at rest under a key derived from the signatory's key file.
        self._sealing = AtRest.for_keys(keys, "feed store")
        self.settings = settings
        self.store = store
        self._retention_every = retention_every
        self.key_reader = key_reader or KeyTopicReader(settings, [key_topic(t) for t in self.core.topics()],
                                                       accept=self.core.opener.accept_key_grant)
        self.core.fetch_keys = self.key_reader.refresh
        self._consumer: AIOKafkaConsumer | None = None

    @property
    def stats(self) -> FeedStats:
        return self.core.stats

    @property
    def consumer(self) -> AIOKafkaConsumer | None:
        """The consumer of the shared topics while `run` runs (for health: its lag), else None."""
        return self._consumer

    async def lag(self) -> dict[tuple[str, int], int]:
        """Messages not yet stored, per (topic, partition) this feed consumes ({} when not running)."""
        return await consumer_lag(self._consumer)

    @property
    def signatory(self):
        return self.core.signatory

    @property
    def datasets(self) -> list[str]:
        return self.core.datasets

    def topics(self) -> list[str]:
        return self.core.topics()

    async def enforce_retention(self) -> int:
        return await self.core.enforce_retention()

    async def run(self, stop: asyncio.Event, *, until_idle: float | None = None) -> FeedStats:
        if not self.topics() and self.governance is None:
            log.warning("%s holds no grant and receives no aggregates: nothing to receive", self.signatory.id)
            return self.stats
        for warning in self.core.partnership.warnings:
            log.warning("%s", warning)
        await self.store.seal_with(self._sealing)
        if not self.topics():
            log.warning("%s holds no grant yet: waiting for one on the governance topic", self.signatory.id)
        # One feed process per subscriber: it takes every partition itself, ready at once (no group join).
        consumer = await start_consumer(self.settings, self.topics(), group_id=feed_group(self.signatory.id),
                                        membership=False)
        self._consumer = consumer
        await self.key_reader.start()
        log.info("feed for %s consuming %s", self.signatory.id, ", ".join(self.topics()) or "nothing yet")

        async def follow_partitions() -> None:
            await assign_all(consumer, self.topics())
        chores = [(self._retention_every, self._retention), (ASSIGNMENT_EVERY, follow_partitions)]
        if self.governance is not None:
            chores.append((GOVERNANCE_EVERY, self._follow_governance))
        loop = ConsumeLoop(consumer, self.core, name="feed", every=chores)
        try:
            await loop.run(stop, until_idle=until_idle)
        finally:
            await self.key_reader.stop()
            self._consumer = None
            await consumer.stop()
        return self.stats

    async def _follow_governance(self) -> None:
        """Adopt what the governance chain decided since the last look: a new grant is consumed at
        once, a revoked, expired or suspended one ends (its personal records destroyed here)."""
        assert self.governance is not None and self._consumer is not None
        if not await self.governance.refresh():
            return
        before = self.topics()
        self.core.update_partnership(self.governance.partnership())  # ConfigError (stops) if we were rekeyed
        log.info("governance: partnership at version %d; %s receives %s", self.governance.version,
                 self.signatory.id, ", ".join(self.datasets) or "nothing")
        await self.core.enforce_retention()
        if self.topics() != before:
            self.key_reader.follow([key_topic(t) for t in self.topics()])
            await assign_all(self._consumer, self.topics())

    async def _retention(self) -> None:
        await self.core.enforce_retention()
