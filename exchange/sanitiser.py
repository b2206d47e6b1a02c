"""The central sanitiser: verify, open, depersonalise, mark, re-seal per recipient, republish.

`SanitiserCore` holds the decisions and transformations and does no I/O; `SanitiserService`
wires it to Kafka: consume raw.*, publish shared.* / restricted.*, dead-letter what it refuses,
commit offsets only after everything a message produced is acknowledged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable


from aiokafka.errors import KafkaError

from exchange.avro import AvroDecodeError, codec
from exchange.depersonalise import GazetteerLike
from exchange.envelope import Header, Opened, Opener, Sealer, read_header
from exchange.errors import EnvelopeError, ExchangeError, Refused
from exchange.kafka import (
    DEADLETTER_TOPIC,
    KafkaSettings,
    KeyTopicReader,
    ensure_topics,
    key_topic,
    make_consumer,
    make_producer,
    open_with_refresh,
    raw_topic,
    shared_topic,
)
from exchange.keys import KeyPair
from exchange.marking import parse_marking
from exchange.partnership import SANITISER_ID, Partnership
from exchange.sanitise import RecordSanitiser
from exchange.schemas import Catalogue

log = logging.getLogger("exchange.sanitiser")
GROUP_ID = "exchange-sanitiser"


@dataclass(frozen=True, slots=True)
class Outgoing:
    topic: str
    key: bytes
    value: bytes
    is_key_grant: bool = False


@dataclass(frozen=True, slots=True)
class Release:
    """What one accepted input produced: messages to publish and facts for the audit trail."""

    outputs: tuple[Outgoing, ...]
    dataset: str
    input_id: str
    output_id: str | None
    recipients: tuple[str, ...]
    marking: str
    moved: bool = False
    redactions: int = 0


def output_message_id(input_id: str) -> str:
    """Derived from the input id, so reprocessing after a crash yields the same id downstream."""
    return hashlib.sha256(f"sanitised\x00{input_id}".encode()).hexdigest()[:32]


class SanitiserCore:
    def __init__(self, partnership: Partnership, catalogue: Catalogue, keys: KeyPair, gazetteer: GazetteerLike,
                 *, today: Callable[[], dt.date] = dt.date.today, max_records_per_key: int = 1000):
        self.partnership = partnership
        self.catalogue = catalogue
        self.keys = keys
        self.gazetteer = gazetteer
        self.today = today
        self._max_records_per_key = max_records_per_key
        self._sealers: dict[str, Sealer] = {}
        self.records = RecordSanitiser(partnership, catalogue, gazetteer, keys.pseudonym_secret)
        self.opener = Opener(me=SANITISER_ID, keys=keys, producers=partnership.producers())

    # -- checks made before any decryption --------------------------------------------------

    def admit(self, topic: str, header: Header) -> None:
        expected = topic.removeprefix("raw.")
        if header.dataset != expected:
            raise Refused("dataset_mismatch", f"message {header.message_id} names dataset {header.dataset!r} on topic {topic}")
        decision = self.partnership.may_supply(header.producer, header.dataset)
        if not decision:
            code = "producer_not_allowed" if header.producer in self.partnership.signatories else "unknown_producer"
            raise Refused(code, f"message {header.message_id}: {decision.reason}")
        if header.dataset not in self.catalogue:
            raise Refused("schema_unknown", f"message {header.message_id}: no schema for dataset {header.dataset!r}")

    # -- the transformation ------------------------------------------------------------------

    def transform(self, opened: Opened) -> Release:
        header = opened.header
        dataset = self.catalogue[header.dataset]
        parse_marking(header.marking, self.partnership.legacy_markings)  # refuses above OFFICIAL / unmapped
        today = self.today()
        out_topic = shared_topic(dataset.id, personal=dataset.personal)
        recipients = self.partnership.recipients(dataset.id, personal=dataset.personal, today=today)
        out_id = output_message_id(header.message_id)
        label = f"message {header.message_id}"

        if header.kind == "METADATA":
            metadata_codec = codec("dataset_metadata")
            if header.schema_fingerprint != metadata_codec.fingerprint:
                raise Refused("schema_unknown", f"{label}: unknown metadata schema fingerprint")
            self._decode(metadata_codec, opened)  # must at least be well-formed
            payload, fingerprint = opened.payload, metadata_codec.fingerprint
            marking, moved, redactions = self.records.release_marking(dataset), False, 0
        else:
            if header.schema_fingerprint != dataset.raw_codec.fingerprint:
                raise Refused("schema_unknown", f"{label}: schema fingerprint {header.schema_fingerprint[:16]}… is not {dataset.id}'s")
            sanitised = self.records.sanitise(dataset, self._decode(dataset.raw_codec, opened),
                                              originator=header.producer, today=today, label=label)
            payload, fingerprint = dataset.shared_codec.encode(sanitised.record), dataset.shared_codec.fingerprint
            marking, moved, redactions = sanitised.marking, sanitised.moved, sanitised.redactions

        if not recipients:
            # Nobody may receive it today: nothing is sealed or published (fail closed), but it is audited.
            return Release((), dataset.id, header.message_id, None, (), str(marking), moved, redactions)
        sealer = self._sealer(out_topic, {s.id: s.keys.x25519 for s in recipients})
        sealed = sealer.seal(payload, message_id=out_id, dataset=dataset.id, schema_fingerprint=fingerprint,
                             marking=str(marking), kind=header.kind)
        outputs = []
        if sealed.key_grant is not None:
            outputs.append(Outgoing(key_topic(out_topic), sealed.header.key_id.encode(), sealed.key_grant, True))
        outputs.append(Outgoing(out_topic, out_id.encode(), sealed.envelope))
        return Release(tuple(outputs), dataset.id, header.message_id, out_id, tuple(s.id for s in recipients),
                       str(marking), moved, redactions)

    def _decode(self, record_codec, opened: Opened) -> dict[str, Any]:
        try:
            return record_codec.decode(opened.payload)
        except AvroDecodeError as exc:
            raise Refused("record_invalid", f"message {opened.header.message_id}: {exc}") from None

    def _sealer(self, topic: str, recipients: dict[str, bytes]) -> Sealer:
        sealer = self._sealers.get(topic)
        if sealer is None:
            sealer = self._sealers[topic] = Sealer(producer=SANITISER_ID, keys=self.keys, topic=topic,
                                                   recipients=recipients, max_records=self._max_records_per_key)
        else:
            sealer.set_recipients(recipients)  # rotates the data key at once if the set changed
        return sealer


def _innermost_frame(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else "?"


def dead_letter(*, reason_code: str, reason: str, topic: str, partition: int, offset: int, value: bytes,
                header: Header | None) -> Outgoing:
    record = {
        "at": dt.datetime.now(dt.timezone.utc), "stage": "sanitiser", "reason_code": reason_code, "reason": reason,
        "topic": topic, "partition": partition, "offset": offset,
        "message_id": header.message_id if header else None, "producer": header.producer if header else None,
        "original": value,
    }
    key = (header.message_id if header else f"{topic}:{partition}:{offset}").encode()
    return Outgoing(DEADLETTER_TOPIC, key, codec("dead_letter").encode(record))


@dataclass
class SanitiserStats:
    received: int = 0
    released: int = 0
    metadata: int = 0
    moved: int = 0
    redactions: int = 0
    withheld_no_recipient: int = 0
    dead_lettered: Counter = field(default_factory=Counter)


class SanitiserService:
    def __init__(self, core: SanitiserCore, settings: KafkaSettings, *, datasets: list[str] | None = None,
                 report_every: float = 5.0):
        self.core = core
        self.settings = settings
        supplied = datasets or sorted(core.partnership.supplied_datasets())
        self.datasets = [d for d in supplied if d in core.catalogue]
        self.stats = SanitiserStats()
        self._report_every = report_every

    def topics(self) -> list[str]:
        topics = [DEADLETTER_TOPIC]
        for dataset_id in self.datasets:
            dataset = self.core.catalogue[dataset_id]
            out = shared_topic(dataset_id, personal=dataset.personal)
            topics += [raw_topic(dataset_id), key_topic(raw_topic(dataset_id)), out, key_topic(out)]
        return topics

    async def handle(self, message) -> list[Outgoing]:
        """Everything one input message produces: its release, or one dead letter. Never raises on bad input."""
        self.stats.received += 1
        header = None
        try:
            header = read_header(message.value)
            self.core.admit(message.topic, header)
            opened = await open_with_refresh(self.core.opener, self._reader, message.value)
            release = self.core.transform(opened)
        except (ExchangeError, EnvelopeError) as exc:
            code, reason = exc.reason_code, str(exc)
        except KafkaError:
            raise  # the broker, not the message: leave the offset uncommitted and let run() retry
        except Exception as exc:  # a defect must not stop the daemon; its message may quote content, so drop it
            code, reason = "internal_error", f"{exc.__class__.__name__} at {_innermost_frame(exc)}"
            log.error("internal error on %s[%d]@%d: %s", message.topic, message.partition, message.offset, reason)
        else:
            return self._count(header, release)
        self.stats.dead_lettered[code] += 1
        log.warning("dead-lettered %s[%d]@%d: %s: %s", message.topic, message.partition, message.offset, code, reason)
        return [dead_letter(reason_code=code, reason=reason, topic=message.topic, partition=message.partition,
                            offset=message.offset, value=message.value, header=header)]

    def _count(self, header: Header, release: Release) -> list[Outgoing]:
        if header.kind == "METADATA":
            self.stats.metadata += 1
        elif release.outputs:
            self.stats.released += 1
        else:
            self.stats.withheld_no_recipient += 1
        self.stats.moved += int(release.moved)
        self.stats.redactions += release.redactions
        return list(release.outputs)

    async def run(self, stop: asyncio.Event) -> None:
        await ensure_topics(self.settings, self.topics())
        raw_topics = [raw_topic(d) for d in self.datasets]
        consumer = make_consumer(self.settings, *raw_topics, group_id=GROUP_ID)
        producer = make_producer(self.settings)
        self._reader = KeyTopicReader(self.settings, self.core.opener, [key_topic(t) for t in raw_topics])
        await producer.start()
        await consumer.start()
        await self._reader.start()
        log.info("sanitiser consuming %s", ", ".join(raw_topics))
        last_report = time.monotonic()
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=500, max_records=500)
                for tp, messages in batch.items():
                    pending = []
                    for message in messages:
                        for out in await self.handle(message):
                            future = await producer.send(out.topic, out.value, key=out.key)
                            if out.is_key_grant:
                                await future  # the key is visible before any record sealed under it
                            else:
                                pending.append(future)
                    await asyncio.gather(*pending)
                    # Only now, with every output acknowledged, move the group's offset past these inputs.
                    await consumer.commit({tp: messages[-1].offset + 1})
                if time.monotonic() - last_report >= self._report_every:
                    self.report()
                    last_report = time.monotonic()
        finally:
            self.report()
            await self._reader.stop()
            await consumer.stop()
            await producer.stop()

    def report(self) -> None:
        s = self.stats
        dead = ", ".join(f"{k} {v}" for k, v in sorted(s.dead_lettered.items())) or "none"
        log.info("received %d, released %d, metadata %d, moved to a qualifying postcode %d, "
                 "free-text redactions %d, withheld (no recipient) %d, dead-lettered: %s",
                 s.received, s.released, s.metadata, s.moved, s.redactions, s.withheld_no_recipient, dead)
