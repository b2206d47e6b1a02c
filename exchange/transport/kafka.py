"""Kafka at the edge: connection settings from the environment, client factories, topic creation.
Everything talks Kafka through aiokafka, on Tansu and Apache Kafka alike; topic names are
exchange.core.names'."""

from __future__ import annotations

import logging
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from exchange.core.names import DEADLETTER_TOPIC, GOVERNANCE_TOPIC, key_topic
from exchange.errors import ConfigError

__all__ = [
    "BOOTSTRAP_ENV", "DATA_TOPIC_CONFIG", "KEY_TOPIC_CONFIG", "KafkaSettings", "Share", "assign_all", "ensure_topics",
    "existing_partitions", "make_consumer", "make_producer", "make_reader", "start_consumer", "topic_config",
    "topic_configs",
]

log = logging.getLogger("exchange.kafka")


BOOTSTRAP_ENV = "EXCHANGE_BOOTSTRAP"


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
    # Partitions of each data topic the exchange creates (key topics and the dead letters keep one):
    # two let two sanitiser processes (--scale-out) use both cores of a small host (measured: 1.6x
    # one process); messages are keyed by a record's token, so every version of a record stays on
    # one partition, in order.
    partitions: int = 2
    # How long the broker may hold a fetch that finds nothing new. Apache Kafka answers a fetch as
    # soon as a byte arrives, so this only paces idle polling there; Tansu holds every fetch for the
    # whole wait, so it bounds each hop's latency (500 ms, aiokafka's default, cost 130-250 ms a hop).
    fetch_wait_ms: int = 20

    @classmethod
    def from_environment(cls, bootstrap: str | None = None) -> KafkaSettings:
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
            partitions=_positive_int(env.get("EXCHANGE_TOPIC_PARTITIONS", "2"), "EXCHANGE_TOPIC_PARTITIONS"),
            fetch_wait_ms=_positive_int(env.get("EXCHANGE_FETCH_WAIT_MS", "20"), "EXCHANGE_FETCH_WAIT_MS",
                                        largest=5000),
        )

    def client_options(self) -> dict:
        options: dict = {"bootstrap_servers": self.bootstrap, "security_protocol": self.security_protocol}
        if self.security_protocol in ("SSL", "SASL_SSL"):
            options["ssl_context"] = ssl.create_default_context(cafile=self.ssl_cafile)
        if self.security_protocol.startswith("SASL"):
            options.update(sasl_mechanism=self.sasl_mechanism or "SCRAM-SHA-512",
                           sasl_plain_username=self.sasl_username, sasl_plain_password=self.sasl_password)
        return options


def _positive_int(text: str, name: str, *, largest: int = 256) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= largest:
        raise ConfigError(f"{name} must be a whole number from 1 to {largest}, not {text!r}")
    return value


def make_producer(settings: KafkaSettings) -> AIOKafkaProducer:
    options = settings.client_options()
    if settings.idempotence:
        options["enable_idempotence"] = True
    return AIOKafkaProducer(acks="all", linger_ms=5, max_request_size=2_097_152, **options)


@dataclass(frozen=True)
class Share:
    """A fixed share of every topic's partitions, for one of `of` processes that split the work
    without joining a consumer group: member `number` (1 to `of`) takes partition p when
    p % of == number - 1. Ready as fast as a single process (no group join), and a restart
    resumes at once; but a member that is down holds its partitions until it is back (a supervisor
    restarts it), where a group would hand them to the others."""

    number: int
    of: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= self.of:
            raise ConfigError(f"member {self.number} of {self.of}: give a number from 1 to {self.of}")

    @classmethod
    def parse(cls, text: str) -> Share:
        """'2/3' is member 2 of 3."""
        number, slash, of = text.partition("/")
        if not slash or not number.strip().isdigit() or not of.strip().isdigit():
            raise ConfigError(f"member {text!r}: write it as NUMBER/MEMBERS, for example 1/2")
        return cls(int(number), int(of))

    def takes(self, partition: int) -> bool:
        return partition % self.of == self.number - 1

    def __str__(self) -> str:
        return f"{self.number}/{self.of}"


def make_consumer(settings: KafkaSettings, *topics: str, group_id: str | None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        group_id=group_id,
        enable_auto_commit=False,  # offsets are committed only after the downstream write is acknowledged
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=500,
        fetch_max_wait_ms=settings.fetch_wait_ms,
        **settings.client_options(),
    )


async def start_consumer(settings: KafkaSettings, topics: list[str], *, group_id: str,
                         membership: bool, share: Share | None = None) -> AIOKafkaConsumer:
    """A started consumer of `topics` that commits its offsets under `group_id`.

    With `membership`, it joins the group and the broker shares the partitions among its members
    (several processes; a join costs seconds, and a restart waits for the departed member's
    session to expire). Without, it takes every partition itself at once, or its `share` of them,
    resuming from the group's committed offsets (ready in a fraction of a second); `assign_all`
    picks up topics and partitions created later."""
    consumer = make_consumer(settings, *(topics if membership else ()), group_id=group_id)
    await consumer.start()
    if not membership:
        await assign_all(consumer, topics, force=True, share=share)
    return consumer


async def existing_partitions(consumer: AIOKafkaConsumer, topics: list[str]) -> set[TopicPartition]:
    """Every partition of those of `topics` that exist now, from a fresh view of the cluster.
    Asking for all topics' metadata never makes a broker auto-create a missing one."""
    # A consumer's own metadata covers only the topics it already has, and aiokafka's public
    # topics() returns names without partitions (it makes this same call).
    cluster = await consumer._client.fetch_all_metadata()
    return {TopicPartition(t, p) for t in topics for p in (cluster.partitions_for_topic(t) or ())}


async def assign_all(consumer: AIOKafkaConsumer, topics: list[str], *, force: bool = False,
                     share: Share | None = None) -> bool:
    """Assign every partition the broker knows of `topics` (after refreshing its metadata), or
    those in `share`; True when the assignment changed. Positions come from the group's committed
    offsets."""
    wanted = {tp for tp in await existing_partitions(consumer, topics) if share is None or share.takes(tp.partition)}
    if wanted == set(consumer.assignment()) and not force:
        return False
    consumer.assign(sorted(wanted))
    return True


# A key grant must outlive every record sealed under it: key topics are compacted (grants are keyed
# by key id, so compaction keeps every one) and never expire. docker/kafka/init.sh says the same.
KEY_TOPIC_CONFIG = {"cleanup.policy": "compact", "retention.ms": "-1"}


# Data topics and the dead letters keep 30 days, not the broker's default 7: a sanitiser or feed
# down for a long weekend plus a week still finds what was sent. They hold only sealed records.
DATA_TOPIC_RETENTION_DAYS = 30
DATA_TOPIC_CONFIG = {"retention.ms": str(DATA_TOPIC_RETENTION_DAYS * 24 * 3600 * 1000)}


def _compacted(topic: str) -> bool:
    # The governance chain, like a key grant, must outlive everything that relies on it.
    return topic.startswith(key_topic("")) or topic == GOVERNANCE_TOPIC


def topic_config(topic: str) -> dict[str, str]:
    return dict(KEY_TOPIC_CONFIG) if _compacted(topic) else dict(DATA_TOPIC_CONFIG)


async def ensure_topics(settings: KafkaSettings, topics: list[str], *, partitions: int | None = None) -> None:
    """Create topics explicitly (Tansu would auto-create them with 4 partitions): data topics with
    `partitions` (default: the settings'), key topics and the dead letters with one, key topics
    with KEY_TOPIC_CONFIG; warn about an existing key topic that lacks it (it must be fixed on the
    broker: kafka-configs.sh --alter --entity-type topics ...)."""
    data_partitions = partitions or settings.partitions
    admin = AIOKafkaAdminClient(**settings.client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if missing:
            try:
                await admin.create_topics([
                    NewTopic(t, 1 if _compacted(t) or t == DEADLETTER_TOPIC else data_partitions, 1,
                             topic_configs=topic_config(t)) for t in missing])
            except TopicAlreadyExistsError:
                pass  # another process created it first
        for topic in sorted(t for t in existing & set(topics) if t.startswith(key_topic(""))):
            found = await topic_configs(admin, topic)
            wrong = {name for name, value in KEY_TOPIC_CONFIG.items() if found.get(name) != value}
            if wrong:
                log.warning("key topic %s has %s other than %s: key grants may be deleted before the records "
                            "sealed under them", topic, ", ".join(sorted(wrong)), KEY_TOPIC_CONFIG)
    finally:
        await admin.close()


async def topic_configs(admin: AIOKafkaAdminClient, topic: str) -> dict[str, str]:
    """A topic's configuration as the broker describes it (name -> value)."""
    response = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    return {entry[0]: entry[1] for answer in response for resource in answer.resources for entry in resource[4]}


def make_reader(settings: KafkaSettings) -> AIOKafkaConsumer:
    """A consumer outside any group, for reading topics from the beginning (key topics, tests)."""
    return AIOKafkaConsumer(group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
                            fetch_max_wait_ms=settings.fetch_wait_ms, **settings.client_options())
