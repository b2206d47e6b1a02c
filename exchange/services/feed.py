"""A subscriber's near-real-time feed: consume shared.* / restricted.* for the datasets this
signatory is granted, open what is sealed to it, and keep it in its own store.

Only envelopes signed by the sanitiser are accepted. Messages it cannot open (not a recipient,
say, after a suspension) are recorded as refused with the reason, and the feed carries on.
Offsets are committed only after the store has committed, and the store ignores ids it holds.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from exchange.storage import csvfiles
from exchange.storage.audit import AuditEvent, AuditLog
from exchange.core.avro import AvroDecodeError, codec
from exchange.crypto.envelope import Opener, read_header
from exchange.errors import EnvelopeError, ExchangeError, Refused
from exchange.transport.kafka import KafkaSettings, KeyTopicReader, key_topic, make_consumer, open_with_refresh, shared_topic
from exchange.crypto.keys import KeyPair
from exchange.core.partnership import SANITISER_ID, Partnership
from exchange.core.schemas import Catalogue
from exchange.storage.feed_store import FeedStore

log = logging.getLogger("exchange.services.feed")


@dataclass
class FeedStats:
    stored: int = 0
    duplicates: int = 0
    supplies: int = 0
    refused: int = 0
    destroyed: int = 0


class FeedService:
    def __init__(self, partnership: Partnership, catalogue: Catalogue, keys: KeyPair, signatory: str,
                 settings: KafkaSettings, store: FeedStore, *, datasets: list[str] | None = None,
                 audit: AuditLog | None = None, retention_every: float = 3600.0,
                 today: Callable[[], dt.date] = dt.date.today):
        self.partnership = partnership
        self.catalogue = catalogue
        self.signatory = partnership.signatory(signatory)
        self.settings = settings
        self.store = store
        # The feed trusts one producer on shared topics: the sanitiser.
        self.opener = Opener(me=signatory, keys=keys, producers={SANITISER_ID: partnership.sanitiser.ed25519})
        granted = {g.dataset for g in partnership.grants if g.signatory == signatory}
        self.datasets = sorted(d for d in (datasets or granted) if d in catalogue)
        self.stats = FeedStats()
        self.audit = audit
        self._retention_every = retention_every
        self._today = today
        self._events: list[AuditEvent] = []

    async def enforce_retention(self) -> int:
        """Delete records past their destroy-by date and reclaim the space; no operator needed."""
        purged = await self.store.purge_expired(self._today())
        self.stats.destroyed += purged
        if purged:
            log.info("retention: destroyed %d record(s) past their destroy-by date", purged)
            if self.audit is not None:
                await self.audit.append(AuditEvent("retention", count=purged, recipients=(self.signatory.id,),
                                                   detail=f"destroy-by date before {self._today().isoformat()}"))
        return purged

    def topics(self) -> list[str]:
        return [shared_topic(d, personal=self.catalogue[d].personal) for d in self.datasets]

    async def handle(self, message) -> None:
        message_id = None
        try:
            header = read_header(message.value)
            message_id = header.message_id
            if header.producer != SANITISER_ID:
                raise Refused("unknown_producer", f"message {message_id}: shared topics carry only the sanitiser's envelopes")
            opened = await open_with_refresh(self.opener, self._reader, message.value)
            dataset = self.catalogue[header.dataset]
            if header.kind == "METADATA":
                await self.store.add_supply(message_id, dataset.id, codec("dataset_metadata").decode(opened.payload))
                self.stats.supplies += 1
                return
            if header.schema_fingerprint != dataset.shared_codec.fingerprint:
                raise Refused("schema_unknown", f"message {message_id}: not the shared schema of {dataset.id}")
            record = dataset.shared_codec.decode(opened.payload)
            if await self.store.add_record(message_id, dataset.id, header.marking, record):
                self.stats.stored += 1
                self._events.append(AuditEvent("delivery", dataset.id, message_id, header.producer,
                                               recipients=(self.signatory.id,), marking=header.marking))
            else:
                self.stats.duplicates += 1
        except (ExchangeError, EnvelopeError, AvroDecodeError) as exc:
            code = getattr(exc, "reason_code", "record_invalid")
            self.stats.refused += 1
            log.info("refused %s[%d]@%d: %s", message.topic, message.partition, message.offset, code)
            await self.store.add_refusal(message.topic, message.partition, message.offset, message_id, code, str(exc))
            self._events.append(AuditEvent("rejection", None, message_id, recipients=(self.signatory.id,),
                                           reason_code=code, detail=f"{message.topic}[{message.partition}]@{message.offset}"))

    async def run(self, stop: asyncio.Event, *, until_idle: float | None = None) -> FeedStats:
        if not self.datasets:
            log.warning("%s holds no grant: nothing to receive", self.signatory.id)
            return self.stats
        topics = self.topics()
        consumer = make_consumer(self.settings, *topics, group_id=f"feed.{self.signatory.id}")
        self._reader = KeyTopicReader(self.settings, self.opener, [key_topic(t) for t in topics])
        await consumer.start()
        await self._reader.start()
        log.info("feed for %s consuming %s", self.signatory.id, ", ".join(topics))
        last_activity = time.monotonic()
        last_retention = float("-inf")
        try:
            while not stop.is_set():
                if time.monotonic() - last_retention >= self._retention_every:
                    await self.enforce_retention()
                    last_retention = time.monotonic()
                batch = await consumer.getmany(timeout_ms=500, max_records=500)
                for tp, messages in batch.items():
                    for message in messages:
                        await self.handle(message)
                    await self.store.commit()
                    if self.audit is not None and self._events:
                        await self.audit.append_many(self._events)
                    self._events = []
                    await consumer.commit({tp: messages[-1].offset + 1})
                if batch:
                    last_activity = time.monotonic()
                elif until_idle is not None and time.monotonic() - last_activity >= until_idle:
                    break
        finally:
            await self._reader.stop()
            await consumer.stop()
        return self.stats


async def export_csv(store: FeedStore, dataset_id: str, catalogue: Catalogue, out: Path) -> int:
    """Write one dataset's records as CSV in the shared schema's field order; handling flattened."""
    dataset = catalogue[dataset_id]
    names = csvfiles.shared_names(dataset)
    count = 0
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(csvfiles.shared_columns(dataset))
        async for row in store.records(dataset_id):
            writer.writerow(csvfiles.shared_cells(dataset, row, names=names))
            count += 1
    return count
