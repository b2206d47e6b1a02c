"""Offsets and reads for broker tests that must see only what they published themselves."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition

from exchange.transport.kafka import ensure_topics
from exchange.transport.readers import read_until_quiet


async def end_offsets(kafka, topics: list[str]) -> dict[TopicPartition, int]:
    """The current end of every partition of these topics (created first if missing)."""
    await ensure_topics(kafka, topics)
    consumer = AIOKafkaConsumer(group_id=None, enable_auto_commit=False, **kafka.client_options())
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or {0})]
        return await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def start_group_at(kafka, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Commit `offsets` for `group`, so its consumers read only what is published after them."""
    consumer = AIOKafkaConsumer(group_id=group, enable_auto_commit=False, **kafka.client_options())
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(dict(offsets))
    finally:
        await consumer.stop()


async def read_from(kafka, offsets: dict[TopicPartition, int]) -> list:
    """Every message from the given offsets to the current end, in order per partition."""
    consumer = AIOKafkaConsumer(group_id=None, enable_auto_commit=False, **kafka.client_options())
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        for tp, offset in offsets.items():
            consumer.seek(tp, offset)
        ends = await consumer.end_offsets(list(offsets))
        return await read_until_quiet(consumer, quiet_ms=200, ends=ends)
    finally:
        await consumer.stop()
