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
from typing import Any, Awaitable, Callable


from aiokafka.errors import KafkaError

from exchange.storage.audit import AuditEvent, AuditLog
from exchange.core.avro import AvroDecodeError, codec
from exchange.core.depersonalise import GazetteerLike
from exchange.crypto.envelope import Header, Opened, Opener, Sealer, read_header
from exchange.errors import EnvelopeError, ExchangeError, Refused
from exchange.transport.kafka import (
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
from exchange.crypto.keys import KeyPair
from exchange.core.marking import parse_marking
from exchange.core.partnership import SANITISER_ID, Partnership
from exchange.core.record_sanitiser import RecordSanitiser
from exchange.storage.sanitiser_state import SanitiserState
from exchange.core.schemas import Catalogue

log = logging.getLogger("exchange.services.sanitiser")
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

    def update_partnership(self, partnership: Partnership) -> None:
        """Adopt the live ISP state: from the next message on, suppliers, recipients (and so data
        keys, which rotate when the recipient set changes) follow it."""
        self.partnership = partnership
        self.records.partnership = partnership
        self.opener.set_producers(partnership.producers())

    # -- checks made before any decryption --------------------------------------------------

    def admit(self, topic: str, header: Header) -> None:
        expected = topic.removeprefix("raw.")
        if header.dataset != expected:
            raise Refused("dataset_mismatch", f"message {header.message_id} names dataset {header.dataset!r} on topic {topic}")
        decision = self.partnership.may_supply(header.producer, header.dataset)
        if not decision:
            signatory = self.partnership.signatories.get(header.producer)
            code = ("unknown_producer" if signatory is None else
                    "producer_inactive" if not signatory.active else "producer_not_allowed")
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


@dataclass(frozen=True, slots=True)
class Handled:
    outputs: tuple[Outgoing, ...]
    audit: tuple[AuditEvent, ...]
    processed: tuple[str, str] | None = None  # (input id, content hash) to remember once acknowledged


@dataclass
class SanitiserStats:
    received: int = 0
    released: int = 0
    metadata: int = 0
    moved: int = 0
    redactions: int = 0
    withheld_no_recipient: int = 0
    duplicates: int = 0
    dead_lettered: Counter = field(default_factory=Counter)


class SanitiserService:
    def __init__(self, core: SanitiserCore, settings: KafkaSettings, *, datasets: list[str] | None = None,
                 report_every: float = 5.0, group_id: str = GROUP_ID,
                 partnership_source: Callable[[], Awaitable[Partnership]] | None = None, refresh_every: float = 1.0,
                 state: SanitiserState | None = None, audit: AuditLog | None = None):
        self.core = core
        self.state = state
        self.audit = audit
        self._batch_seen: dict[str, str] = {}
        self.settings = settings
        self.group_id = group_id
        # Where the live ISP state comes from (the governance registry); re-read before a batch
        # once `refresh_every` seconds have passed, so a suspension takes effect within that time.
        self._partnership_source = partnership_source
        self._refresh_every = refresh_every
        self._refreshed = float("-inf")
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

    async def handle(self, message) -> Handled:
        """Everything one input message produces: its release, or one dead letter. Never raises on
        bad input; raises only when the broker itself fails (the offset then stays uncommitted)."""
        self.stats.received += 1
        header = None
        digest = hashlib.sha256(message.value).hexdigest()
        try:
            header = read_header(message.value)
            self.core.admit(message.topic, header)
            if await self._seen_before(header.message_id, digest):
                self.stats.duplicates += 1
                return Handled((), (AuditEvent("receipt", header.dataset, header.message_id, header.producer,
                                               content_sha256=digest, detail="redelivery of a processed message: skipped"),))
            opened = await open_with_refresh(self.core.opener, self._reader, message.value)
            release = self.core.transform(opened)
        except KafkaError:
            raise  # the broker, not the message: leave the offset uncommitted and let run() retry
        except (ExchangeError, EnvelopeError) as exc:
            code, reason = exc.reason_code, str(exc)
        except Exception as exc:  # a defect must not stop the daemon; its message may quote content, so drop it
            code, reason = "internal_error", f"{exc.__class__.__name__} at {_innermost_frame(exc)}"
            log.error("internal error on %s[%d]@%d: %s", message.topic, message.partition, message.offset, reason)
        else:
            return self._released(header, release, digest)
        self.stats.dead_lettered[code] += 1
        log.warning("dead-lettered %s[%d]@%d: %s: %s", message.topic, message.partition, message.offset, code, reason)
        letter = dead_letter(reason_code=code, reason=reason, topic=message.topic, partition=message.partition,
                             offset=message.offset, value=message.value, header=header)
        event = AuditEvent("rejection", header.dataset if header else None, header.message_id if header else None,
                           header.producer if header else None, reason_code=code, content_sha256=digest,
                           detail=f"{message.topic}[{message.partition}]@{message.offset}")
        return Handled((letter,), (event,))

    async def _seen_before(self, message_id: str, digest: str) -> bool:
        """True for a redelivery of bytes already processed; Refused for a replayed id."""
        prior = self._batch_seen.get(message_id)
        if prior is None and self.state is not None:
            prior = await self.state.content_hash(message_id)
        if prior is None:
            self._batch_seen[message_id] = digest
            return False
        if prior != digest:
            raise Refused("replayed_message_id", f"message {message_id} was already processed with different content")
        return True

    def _released(self, header: Header, release: Release, digest: str) -> Handled:
        if header.kind == "METADATA":
            self.stats.metadata += 1
        elif release.outputs:
            self.stats.released += 1
        else:
            self.stats.withheld_no_recipient += 1
        self.stats.moved += int(release.moved)
        self.stats.redactions += release.redactions
        events = [AuditEvent("receipt", header.dataset, header.message_id, header.producer, marking=header.marking,
                             content_sha256=digest)]
        if header.kind == "RECORD":
            events.append(AuditEvent("sanitisation", header.dataset, header.message_id, header.producer,
                                     marking=release.marking,
                                     detail=f"moved to a qualifying postcode: {'yes' if release.moved else 'no'}; "
                                            f"free-text redactions: {release.redactions}"))
        if release.outputs:
            events.append(AuditEvent("release", header.dataset, release.output_id, "sanitiser",
                                     recipients=release.recipients, marking=release.marking,
                                     detail=f"from {header.message_id}"))
        else:
            events.append(AuditEvent("withheld", header.dataset, header.message_id, header.producer,
                                     marking=release.marking, reason_code="no_recipient"))
        return Handled(release.outputs, tuple(events), (header.message_id, digest))

    async def run(self, stop: asyncio.Event) -> None:
        await ensure_topics(self.settings, self.topics())
        raw_topics = [raw_topic(d) for d in self.datasets]
        consumer = make_consumer(self.settings, *raw_topics, group_id=self.group_id)
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
                if batch:
                    await self._refresh_partnership()
                for tp, messages in batch.items():
                    await self._process(tp, messages, consumer, producer)
                if time.monotonic() - last_report >= self._report_every:
                    self.report()
                    last_report = time.monotonic()
        finally:
            self.report()
            await self._reader.stop()
            await consumer.stop()
            await producer.stop()

    async def _process(self, tp, messages, consumer, producer) -> None:
        self._batch_seen = {}
        pending, events, processed = [], [], []
        for message in messages:
            handled = await self.handle(message)
            for out in handled.outputs:
                future = await producer.send(out.topic, out.value, key=out.key)
                if out.is_key_grant:
                    await future  # the key is visible before any record sealed under it
                else:
                    pending.append(future)
            events.extend(handled.audit)
            if handled.processed:
                processed.append(handled.processed)
        await asyncio.gather(*pending)
        # Only now, with every output acknowledged: remember, audit, and move the group's offset.
        if self.state is not None:
            await self.state.remember(processed)
        if self.audit is not None:
            await self.audit.append_many(events)
        await consumer.commit({tp: messages[-1].offset + 1})

    async def _refresh_partnership(self) -> None:
        if self._partnership_source is None or time.monotonic() - self._refreshed < self._refresh_every:
            return
        self.core.update_partnership(await self._partnership_source())
        self._refreshed = time.monotonic()

    def report(self) -> None:
        s = self.stats
        dead = ", ".join(f"{k} {v}" for k, v in sorted(s.dead_lettered.items())) or "none"
        log.info("received %d, released %d, metadata %d, moved to a qualifying postcode %d, "
                 "free-text redactions %d, withheld (no recipient) %d, redeliveries skipped %d, dead-lettered: %s",
                 s.received, s.released, s.metadata, s.moved, s.redactions, s.withheld_no_recipient, s.duplicates, dead)
