"""Key grants on the real (embedded) broker: envelopes naming keys nobody announced cannot stall the
stream, and a genuine record is opened as soon as its grant is on the key topic."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaProducer

from exchange.core.names import key_topic, raw_topic
from exchange.crypto.envelope import Opener, Sealer
from exchange.errors import UnknownDataKey
from exchange.testing.partnership import DATASET, POLICE
from exchange.transport.kafka import ensure_topics
from exchange.transport.readers import KeyTopicReader

pytestmark = pytest.mark.broker
RAW = raw_topic(DATASET)


def _sealer(party_keys, partnership) -> Sealer:
    return Sealer(producer=POLICE, keys=party_keys[POLICE], topic=RAW,
                  recipients={"sanitiser": partnership.sanitiser.x25519})


def _seal(sealer: Sealer, message_id: str):
    return sealer.seal(b"payload", message_id=message_id, dataset=DATASET, marking="OFFICIAL",
                       schema_fingerprint="0" * 64)


def test_twenty_envelopes_naming_unknown_keys_delay_a_genuine_one_by_under_a_second(kafka, party_keys, partnership):
    async def scenario():
        await ensure_topics(kafka, [RAW, key_topic(RAW)])
        genuine_sealer = _sealer(party_keys, partnership)
        genuine = _seal(genuine_sealer, "genuine-1")
        producer = AIOKafkaProducer(**kafka.client_options())
        await producer.start()
        try:
            await producer.send_and_wait(key_topic(RAW), genuine.key_grant)  # announced, as agents do
        finally:
            await producer.stop()
        # Validly signed by a registered supplier, each under a data key whose grant never appears.
        unknown = [_seal(_sealer(party_keys, partnership), f"unknown-{i}").envelope for i in range(20)]

        opener = Opener(me="sanitiser", keys=party_keys["sanitiser"], producers=partnership.producers())
        reader = KeyTopicReader(kafka, [key_topic(RAW)], accept=opener.accept_key_grant)
        await reader.start()
        try:
            await reader.refresh()  # a service reads its key topics once at start
            started = time.monotonic()
            refused = 0
            for envelope in unknown:
                try:
                    await opener.open_fetching(envelope, reader.refresh)
                except UnknownDataKey:
                    refused += 1
            opened = await opener.open_fetching(genuine.envelope, reader.refresh)
            return refused, opened.payload, time.monotonic() - started
        finally:
            await reader.stop()

    refused, payload, elapsed = asyncio.run(scenario())
    print(f"\n20 envelopes under unknown keys, then a genuine one: {elapsed * 1000:.0f} ms")
    assert refused == 20 and payload == b"payload"
    assert elapsed < 1.0


def test_a_record_whose_grant_arrived_after_the_last_read_is_opened(kafka, party_keys, partnership):
    async def scenario():
        await ensure_topics(kafka, [RAW, key_topic(RAW)])
        opener = Opener(me="sanitiser", keys=party_keys["sanitiser"], producers=partnership.producers())
        reader = KeyTopicReader(kafka, [key_topic(RAW)], accept=opener.accept_key_grant)
        await reader.start()
        producer = AIOKafkaProducer(**kafka.client_options())
        await producer.start()
        try:
            await reader.refresh()
            late = _seal(_sealer(party_keys, partnership), "late-1")
            await producer.send_and_wait(key_topic(RAW), late.key_grant)
            return (await opener.open_fetching(late.envelope, reader.refresh)).payload
        finally:
            await producer.stop()
            await reader.stop()

    assert asyncio.run(scenario()) == b"payload"
