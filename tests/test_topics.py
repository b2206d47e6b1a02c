"""Topics on the real (embedded) broker: key topics are compacted and never expire, since a key
grant must outlive every record sealed under it."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from exchange.core.names import key_topic, raw_topic, shared_topic
from exchange.transport.kafka import DATA_TOPIC_CONFIG, KEY_TOPIC_CONFIG, ensure_topics, topic_configs

pytestmark = pytest.mark.broker


async def _configs(kafka, topics):
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        return {topic: await topic_configs(admin, topic) for topic in topics}
    finally:
        await admin.close()


def test_key_topics_are_created_compacted_and_kept_for_ever_data_topics_for_30_days(kafka):
    data = shared_topic("police_crime_offence")
    topics = [raw_topic("police_crime_offence"), key_topic(raw_topic("police_crime_offence")), data, key_topic(data)]
    asyncio.run(ensure_topics(kafka, topics))
    configs = asyncio.run(_configs(kafka, topics))
    for topic in topics:
        expected = KEY_TOPIC_CONFIG if topic.startswith("keys.") else DATA_TOPIC_CONFIG
        assert {k: v for k, v in configs[topic].items() if k in expected} == expected, topic
    assert DATA_TOPIC_CONFIG == {"retention.ms": str(30 * 24 * 3600 * 1000)}


def test_an_existing_key_topic_without_compaction_is_reported(kafka, caplog):
    topic = key_topic(shared_topic("council_asb"))

    async def create_plain():
        admin = AIOKafkaAdminClient(**kafka.client_options())
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, 1, 1)])
        finally:
            await admin.close()

    asyncio.run(create_plain())
    with caplog.at_level(logging.WARNING, logger="exchange.kafka"):
        asyncio.run(ensure_topics(kafka, [topic]))
    assert any(topic in r.getMessage() and "cleanup.policy" in r.getMessage() for r in caplog.records)
