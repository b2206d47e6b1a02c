"""Kafka at the edge: connection settings from the environment, topic names, clients, and the
reader of key topics. Everything talks Kafka through aiokafka, on Tansu and Apache Kafka alike."""

from __future__ import annotations

import asyncio
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from exchange.crypto.envelope import Opener
from exchange.errors import EnvelopeError, UnknownDataKey

DEADLETTER_TOPIC = "deadletter.sanitiser"
BOOTSTRAP_ENV = "EXCHANGE_BOOTSTRAP"


def raw_topic(dataset: str) -> str:
    return f"raw.{dataset}"


def shared_topic(dataset: str, *, personal: bool = False) -> str:
    return f"{'restricted' if personal else 'shared'}.{dataset}"


def key_topic(data_topic: str) -> str:
    return f"keys.{data_topic}"


@dataclass(frozen=True)
class KafkaSettings:
    """How to reach the broker. Production: SASL_SSL with SCRAM-SHA-512 (docker/compose.yaml)."""

    bootstrap: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None
    idempotence: bool = False  # Apache Kafka only: aiokafka's idempotent producer cannot start on Tansu

    @classmethod
    def from_environment(cls, bootstrap: str | None = None) -> "KafkaSettings":
        env = os.environ
        password = env.get("EXCHANGE_SASL_PASSWORD")
        if env.get("EXCHANGE_SASL_PASSWORD_FILE"):
            password = Path(env["EXCHANGE_SASL_PASSWORD_FILE"]).read_text().strip()
        return cls(
            bootstrap=bootstrap or env.get(BOOTSTRAP_ENV, "127.0.0.1:9092"),
            security_protocol=env.get("EXCHANGE_SECURITY_PROTOCOL", "PLAINTEXT"),
            sasl_mechanism=env.get("EXCHANGE_SASL_MECHANISM"),
            sasl_username=env.get("EXCHANGE_SASL_USERNAME"),
            sasl_password=password,
            ssl_cafile=env.get("EXCHANGE_SSL_CAFILE"),
            idempotence=env.get("EXCHANGE_KAFKA_IDEMPOTENCE", "").lower() in ("1", "true", "yes"),
        )

    def client_options(self) -> dict:
        options: dict = {"bootstrap_servers": self.bootstrap, "security_protocol": self.security_protocol}
        if self.security_protocol in ("SSL", "SASL_SSL"):
            options["ssl_context"] = ssl.create_default_context(cafile=self.ssl_cafile)
        if self.security_protocol.startswith("SASL"):
            options.update(sasl_mechanism=self.sasl_mechanism or "SCRAM-SHA-512",
                           sasl_plain_username=self.sasl_username, sasl_plain_password=self.sasl_password)
        return options


def make_producer(settings: KafkaSettings) -> AIOKafkaProducer:
    options = settings.client_options()
    if settings.idempotence:
        options["enable_idempotence"] = True
    return AIOKafkaProducer(acks="all", linger_ms=5, max_request_size=2_097_152, **options)


def make_consumer(settings: KafkaSettings, *topics: str, group_id: str | None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        group_id=group_id,
        enable_auto_commit=False,  # offsets are committed only after the downstream write is acknowledged
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=500,
        **settings.client_options(),
    )


async def ensure_topics(settings: KafkaSettings, topics: list[str], *, partitions: int = 1) -> None:
    """Create topics explicitly (Tansu would auto-create them with 4 partitions)."""
    admin = AIOKafkaAdminClient(**settings.client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if missing:
            try:
                await admin.create_topics([NewTopic(t, partitions, 1) for t in missing])
            except TopicAlreadyExistsError:
                pass  # another process created it first
    finally:
        await admin.close()


class KeyTopicReader:
    """Feeds the key grants of one or more key topics to an Opener, reading only what is new.

    Called when an envelope names a data key not seen yet: grants are published (and acknowledged)
    before the records sealed under them, so reading the key topic to its end finds the key.
    Grants that fail verification are counted and skipped: the records under them then fail too,
    and are dead-lettered with their own reason.
    """

    def __init__(self, settings: KafkaSettings, opener: Opener, topics: list[str]):
        self._settings = settings
        self._opener = opener
        self._topics = list(topics)
        self._consumer: AIOKafkaConsumer | None = None
        self.rejected_grants = 0

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
                                          **self._settings.client_options())
        await self._consumer.start()
        partitions = []
        for topic in self._topics:
            for partition in (self._consumer.partitions_for_topic(topic) or {0}):
                partitions.append(TopicPartition(topic, partition))
        self._consumer.assign(partitions)
        await self._consumer.seek_to_beginning(*partitions)

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def refresh(self) -> int:
        """Read every key topic to its current end; return how many grants were accepted."""
        assert self._consumer is not None, "start() first"
        consumer = self._consumer
        partitions = list(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        accepted = 0
        async def behind() -> bool:
            for tp in partitions:
                if await consumer.position(tp) < ends[tp]:
                    return True
            return False

        # The end offset is read first, then one more short poll: some brokers (Tansu) report the end
        # of the last produce batch as its first offset + 1, so "caught up" is confirmed by an empty poll.
        settled = False
        while await behind() or not settled:
            batch = await consumer.getmany(timeout_ms=500 if not settled else 100)
            settled = not batch
            for messages in batch.values():
                for message in messages:
                    try:
                        self._opener.accept_key_grant(message.value)
                        accepted += 1
                    except EnvelopeError:
                        self.rejected_grants += 1
        return accepted


async def read_topic(settings: KafkaSettings, topic: str, *, quiet_ms: int = 500) -> list[bytes]:
    """Every value on a (single-partition) topic from the beginning, read until a poll comes back
    empty: counting by end offsets undercounts on Tansu, which misreports them after batches."""
    consumer = AIOKafkaConsumer(group_id=None, enable_auto_commit=False, **settings.client_options())
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or {0})]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        values = []
        while True:
            batch = await consumer.getmany(timeout_ms=quiet_ms)
            if not batch:
                return values
            values += [m.value for messages in batch.values() for m in messages]
    finally:
        await consumer.stop()


async def open_with_refresh(opener: Opener, reader: KeyTopicReader, envelope: bytes, *, attempts: int = 3):
    """Open an envelope, reading the key topic when its data key is new to us.

    Opener.open checks the signature before it looks for the key, so only a genuine envelope
    whose key grant has not been read yet leads to a refresh (and, rarely, a short wait); a forged
    one fails at once and cannot be used to slow a reader down.
    """
    for attempt in range(attempts):
        try:
            return opener.open(envelope)
        except UnknownDataKey:
            await reader.refresh()
            if attempt:
                await asyncio.sleep(0.2 * attempt)
    return opener.open(envelope)
