"""Reading topics from their beginning: the one "read until quiet" loop, a whole topic, and the
reader that feeds key grants to whoever opens envelopes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from exchange.errors import EnvelopeError, TransportUnavailable
from exchange.transport.kafka import KafkaSettings, existing_partitions, make_reader

__all__ = ["KeyTopicReader", "assign_from_beginning", "read_topic", "read_until_quiet"]


async def assign_from_beginning(consumer: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    """Assign every partition of these topics to a started, group-less consumer, at offset 0."""
    partitions = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or {0})]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    return partitions


async def read_until_quiet(consumer: AIOKafkaConsumer, *, quiet_ms: int = 500,
                           ends: Mapping[TopicPartition, int] | None = None) -> list[ConsumerRecord]:
    """Every message the consumer's assignment yields until a poll comes back empty, or, given
    `ends`, until every partition has reached its end offset and what the last fetch brought is
    drained (no wait: the fast path a new data key takes).

    Without `ends`, an empty poll is the test of "caught up". With them: some brokers (Tansu)
    report the end of the last produce batch as its first offset + 1, so a position at that end
    may leave the rest of that batch unread, but a fetch returns whole batches, so the rest is
    already in the consumer's buffer and a zero-timeout poll returns it.
    """
    async def behind() -> bool:
        for tp, end in (ends or {}).items():
            if await consumer.position(tp) < end:
                return True
        return False

    messages: list[ConsumerRecord] = []
    while True:
        if ends and not await behind():
            while batch := await consumer.getmany(timeout_ms=0):
                for records in batch.values():
                    messages += records
            return messages
        batch = await consumer.getmany(timeout_ms=quiet_ms)
        if not batch and not await behind():
            return messages
        for records in batch.values():
            messages += records


async def read_topic(settings: KafkaSettings, topic: str, *, quiet_ms: int = 500) -> list[bytes]:
    """Every value on a topic from the beginning, read until a poll comes back empty."""
    consumer = make_reader(settings)
    await consumer.start()
    try:
        await assign_from_beginning(consumer, [topic])
        return [m.value for m in await read_until_quiet(consumer, quiet_ms=quiet_ms)]
    finally:
        await consumer.stop()


class KeyTopicReader:
    """Feeds the key grants of one or more key topics to `accept` (Opener.accept_key_grant),
    reading only what is new since the last refresh.

    Called when an envelope names a data key not seen yet: grants are published (and acknowledged)
    before the records sealed under them, so reading the key topic to its end finds the key.
    Grants that `accept` refuses are counted and skipped: the records under them then fail too,
    and are refused with their own reason.
    """

    def __init__(self, settings: KafkaSettings, topics: list[str], accept: Callable[[bytes], Any], *,
                 refusals: tuple[type[Exception], ...] = (EnvelopeError,)):
        self._settings = settings
        self._topics = list(topics)
        self._accept = accept
        self._refusals = refusals  # what `accept` raises for a message it will not take (counted, skipped)
        self._consumer: AIOKafkaConsumer | None = None
        self.rejected_grants = 0

    def follow(self, topics: list[str]) -> None:
        """Read these topics from now on (the next refresh assigns any new one from its beginning)."""
        self._topics = list(topics)

    async def start(self) -> None:
        self._consumer = make_reader(self._settings)
        await self._consumer.start()
        await self._follow()

    async def _follow(self) -> None:
        """Take every partition of the key topics that exists now, new ones from their beginning.

        A key topic may be created after this reader started (a feed started before the
        sanitiser): only existing topics are assigned (asking for a missing one could have a
        broker auto-create it, uncompacted), and each refresh looks again."""
        consumer = self._consumer
        assert consumer is not None
        wanted = await existing_partitions(consumer, self._topics)
        held = set(consumer.assignment())
        if wanted == held:
            return
        positions = {tp: await consumer.position(tp) for tp in held & wanted}
        consumer.assign(sorted(wanted))
        for tp in wanted:
            if tp in positions:
                consumer.seek(tp, positions[tp])
            else:
                await consumer.seek_to_beginning(tp)
        # Paused between refreshes: a consumer's background fetch is a long poll on the broker
        # connection, and an end-offset request waits behind it (half a second on Tansu).
        consumer.pause(*wanted)

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def refresh(self) -> int:
        """Read every key topic to its current end; return how many grants were accepted."""
        assert self._consumer is not None, "start() first"
        consumer = self._consumer
        try:
            await self._follow()
            ends = await consumer.end_offsets(list(consumer.assignment()))
            # Nothing new since the last read: answer at once, without a poll (this is the path an
            # envelope naming a key nobody announced takes, so it must cost next to nothing).
            # Tansu reports a batch's end as its first offset + 1, so a position at or past it
            # means the batch was read whole; a position before it means there is something new.
            if all([await consumer.position(tp) >= end for tp, end in ends.items()]):
                return 0
            consumer.resume(*ends)
            try:
                messages = await read_until_quiet(consumer, quiet_ms=500, ends=ends)
            finally:
                consumer.pause(*ends)
        except KafkaError as exc:
            raise TransportUnavailable(f"{', '.join(self._topics)} could not be read: "
                                       f"{exc.__class__.__name__}") from exc
        accepted = 0
        for message in messages:
            try:
                self._accept(message.value)
                accepted += 1
            except self._refusals:
                self.rejected_grants += 1
        return accepted
