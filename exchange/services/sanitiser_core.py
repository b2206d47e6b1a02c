"""The sanitiser's decisions and transformations, without Kafka or SQLite.

`SanitiserCore.handle` takes one consumed message and returns what it produced (a release to
publish, or one dead letter) with the audit facts; `settle` records what a batch produced once
every output is acknowledged. What it needs from outside comes in as ports: the ledger (the
audit log, which also holds the processed ids, written in one transaction) and a `fetch_keys`
coroutine that reads the key topics. So the whole decision path runs in unit tests with an
in-memory consumer and producer (tests/support), and the service (exchange.services.sanitiser)
only wires it to the consume loop.

Order of checks on each message: size and header shape (malformed), topic/dataset agreement,
registered supplier, known schema, signature and decryption, redelivery or replay (by producer
and message id), the marking, record validation and depersonalisation, recipients. Anything
refused becomes one dead letter carrying its ReasonCode; a defect becomes `internal_error`, never
a crash.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from exchange.core.aggregates import Tally, contribution
from exchange.core.audit_events import AuditEvent
from exchange.core.avro import Codec, codec
from exchange.core.depersonalise import GazetteerLike
from exchange.core.marking import Marking, parse_marking
from exchange.core.messages import Handled, Incoming, Outgoing
from exchange.core.names import (
    AGGREGATES_TOPIC,
    DEADLETTER_TOPIC,
    SANITISER_ID,
    key_topic,
    raw_topic,
    shared_topic,
)
from exchange.core.partnership import Partnership, Signatory
from exchange.core.record_sanitiser import RecordSanitiser
from exchange.core.schemas import Catalogue, Dataset
from exchange.core.views import WHOLE, View, project
from exchange.crypto.envelope import Envelope, Header, Opened, Opener, Sealer, read_envelope
from exchange.crypto.keys import KeyPair
from exchange.crypto.pseudonyms import Pseudonymiser
from exchange.errors import (
    AvroDecodeError,
    ExchangeError,
    ReasonCode,
    Refused,
    TransportUnavailable,
)

__all__ = [
    "Ledger", "Release", "SanitiserCore", "SanitiserStats", "TallySink", "dead_letter", "output_message_id",
]

log = logging.getLogger("exchange.sanitiser")


class TallySink(Protocol):
    """Where the aggregate counts are kept (exchange.storage.tallies.TallyStore)."""

    async def apply(self, tallies: Iterable[Tally]) -> None: ...


class Ledger(Protocol):
    """What the sanitiser has processed, and its audit trail, in one store written in one
    transaction (exchange.storage.audit.AuditLog): a release is remembered exactly when audited."""

    async def content_hashes(self, keys: Iterable[str]) -> dict[str, str]: ...
    async def append_many(self, events: Iterable[AuditEvent], *,
                          processed: Iterable[tuple[str, str]] = ()) -> Any: ...


@dataclass
class SanitiserStats:
    received: int = 0
    released: int = 0
    metadata: int = 0
    moved: int = 0
    redactions: int = 0
    withheld_no_recipient: int = 0
    withheld_by_originator: int = 0
    withdrawals: int = 0
    duplicates: int = 0
    dead_lettered: Counter = field(default_factory=Counter)
    # For health and metrics (exchange.services.health): per producer whose signature verified, the
    # messages received and when the last arrived (epoch seconds); the last unexpected error, as its
    # class name and time, never its message (which could quote a value).
    receipts: Counter = field(default_factory=Counter)
    last_supply: dict[str, float] = field(default_factory=dict)
    last_error: tuple[str, float] | None = None

    def supplied_by(self, producer: str, at: float | None = None) -> None:
        self.receipts[producer] += 1
        self.last_supply[producer] = time.time() if at is None else at


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
    received_marking: str = ""
    marking_reason: str = ""
    restriction: str | None = None  # the originator's handling instruction, when it limited the recipients
    tally: Tally | None = None  # what it changes in the aggregate counts


def replay_key(header: Header) -> str:
    """What identifies an input for redelivery and replay: its producer and its message id (both
    checked for shape by the envelope, so the separator cannot occur in either)."""
    return f"{header.producer}/{header.message_id}"


def _view_message_id(out_id: str, view: View) -> str:
    """A view's message of an output: its own id, derived, so each subscriber's store keys it apart."""
    return hashlib.sha256(f"view\x00{out_id}\x00{view.key}".encode()).hexdigest()[:32]


def output_message_id(producer: str, input_id: str) -> str:
    """Derived from the input's producer and id, so reprocessing after a crash yields the same id
    downstream, and two producers' equal ids never collide at a subscriber."""
    return hashlib.sha256(f"sanitised\x00{producer}\x00{input_id}".encode()).hexdigest()[:32]


class SanitiserCore:
    def __init__(self, partnership: Partnership, catalogue: Catalogue, keys: KeyPair, gazetteer: GazetteerLike,
                 *, today: Callable[[], dt.date] = dt.date.today, max_records_per_key: int = 1000,
                 ledger: Ledger | None = None, tallies: TallySink | None = None,
                 fetch_keys: Callable[[], Awaitable[int]] | None = None):
        self.partnership = partnership
        self.catalogue = catalogue
        self.keys = keys
        self.gazetteer = gazetteer
        self.today = today
        self._max_records_per_key = max_records_per_key
        self._sealers: dict[str, Sealer] = {}
        self.records = RecordSanitiser(partnership, catalogue, gazetteer, Pseudonymiser(keys.pseudonym_secret))
        self.opener = Opener(me=SANITISER_ID, keys=keys, producers=partnership.producers())
        self.ledger = ledger
        self.tallies = tallies
        self.fetch_keys = fetch_keys
        self.stats = SanitiserStats()
        self._recipient_sets: dict[tuple[str, dt.date], tuple[Signatory, ...]] = {}
        self._view_groups: dict[tuple[str, dt.date, tuple[str, ...]], dict[View, tuple[Signatory, ...]]] = {}
        self._batch_seen: dict[str, str] = {}  # what this batch processed, by replay key
        self._ledger_seen: dict[str, str] = {}  # what the ledger held for this batch's keys, read at once
        self._batch_envelopes: dict[tuple[str, int, int], Envelope] = {}  # the batch's envelopes, read by prepare

    def _recipients(self, dataset: Dataset, today: dt.date) -> tuple[Signatory, ...]:
        """Who may open the dataset's shared form today: asked of the partnership once per dataset,
        day and partnership state, not per record (it scans every grant of every signatory)."""
        key = (dataset.id, today)
        if key not in self._recipient_sets:
            self._recipient_sets[key] = self.partnership.recipients(dataset.id, personal=dataset.personal, today=today)
        return self._recipient_sets[key]

    def update_partnership(self, partnership: Partnership) -> None:
        """Adopt the live ISP state: from the next message on, suppliers, recipients (and so data
        keys, which rotate when the recipient set changes) follow it."""
        if partnership == self.partnership:
            return  # asked every second: the caches below hold until the state really changes
        self._recipient_sets.clear()
        self._view_groups.clear()
        self.partnership = partnership
        self.records.partnership = partnership  # clears its handling terms
        self.opener.set_producers(partnership.producers())

    # -- checks made before any decryption --------------------------------------------------

    def admit(self, topic: str, header: Header) -> None:
        expected = topic.removeprefix(raw_topic(""))
        if header.dataset != expected:
            raise Refused(ReasonCode.DATASET_MISMATCH,
                          f"message {header.message_id} names dataset {header.dataset!r} on topic {topic}")
        decision = self.partnership.may_supply(header.producer, header.dataset)
        if not decision:
            raise Refused(ReasonCode(decision.code), f"message {header.message_id}: {decision.reason}")
        if header.dataset not in self.catalogue:
            raise Refused(ReasonCode.SCHEMA_UNKNOWN,
                          f"message {header.message_id}: no schema for dataset {header.dataset!r}")

    # -- the transformation ------------------------------------------------------------------

    def transform(self, opened: Opened) -> Release:
        header = opened.header
        dataset = self.catalogue[header.dataset]
        received = parse_marking(header.marking, self.partnership.legacy_markings)  # refuses above OFFICIAL
        today = self.today()
        recipients = self._recipients(dataset, today)
        label = f"message {header.message_id}"
        restriction, tally, record_key = None, None, None
        shared_record: dict[str, Any] | None = None  # a record's shared form: each grant's view is cut from it

        if header.kind == "METADATA":
            metadata_codec = self._codec("dataset_metadata", header, label)
            metadata, redactions = self.records.metadata(self._decode(metadata_codec, opened))
            payload, fingerprint = metadata_codec.encode(metadata), metadata_codec.fingerprint
            marking, why = self.records.release_marking(dataset, header.producer, received)
            moved = False
        elif header.kind == "WITHDRAWAL":
            key = self._decode(self._codec("withdrawal", header, label), opened)["natural_key"]
            if sorted(key) != sorted(dataset.natural_key):
                raise Refused(ReasonCode.RECORD_INVALID,
                              f"{label}: a withdrawal of {dataset.id} names the fields "
                              f"{', '.join(dataset.natural_key)}, not {', '.join(sorted(key))}")
            notice_codec = codec("withdrawal_notice")
            record_key = self.records.record_key(dataset, header.producer, dataset.natural_key_of(key))
            payload = notice_codec.encode({"record_key": record_key, "originator": header.producer})
            fingerprint, moved, redactions = notice_codec.fingerprint, False, 0
            marking, why = self.records.release_marking(dataset, header.producer, received)
            tally = Tally(dataset.id, record_key, None, str(marking))
        else:
            if header.schema_fingerprint != dataset.raw_codec.fingerprint:
                raise Refused(ReasonCode.SCHEMA_UNKNOWN,
                              f"{label}: schema fingerprint {header.schema_fingerprint[:16]}… is not {dataset.id}'s")
            sanitised = self.records.sanitise(dataset, self._decode(dataset.raw_codec, opened),
                                              originator=header.producer, today=today, label=label, received=received,
                                              linkage_allowed=bool(recipients) and all(s.tier == 1 for s in recipients))
            payload, fingerprint = dataset.shared_codec.encode(sanitised.record), dataset.shared_codec.fingerprint
            marking, moved, redactions = sanitised.marking, sanitised.moved, sanitised.redactions
            why, restriction = sanitised.marking_reason, sanitised.restriction
            if restriction == "NOT_FOR_DISSEMINATION":
                recipients = ()
            elif restriction == "SUB_JUDICE":
                recipients = tuple(s for s in recipients if s.id in sanitised.release_to)
            if sanitised.record.get("consent") == "withheld":  # ISP 5.1-5.4: only where the law allows it
                recipients = tuple(s for s in recipients
                                   if self.partnership.may_receive_without_consent(s.id, dataset.id, today))
                restriction = restriction or "CONSENT_WITHHELD"
            record_key = sanitised.record["handling"]["record_key"]
            shared_record = sanitised.record
            if not dataset.personal:  # a restricted record is not counted (and a correction restricting it uncounts it)
                tally = Tally(dataset.id, record_key, None if restriction else contribution(dataset, sanitised.record),
                              str(marking))

        release = self._seal(header, dataset, recipients, payload, fingerprint, marking, received, why, moved,
                             redactions, restriction, record_key, today=today, record=shared_record)
        return dataclasses.replace(release, tally=tally)

    def _seal(self, header: Header, dataset: Dataset, recipients: Sequence[Signatory], payload: bytes,
              fingerprint: str, marking: Marking, received: Marking, why: str, moved: bool, redactions: int,
              restriction: str | None, record_key: str | None, *, today: dt.date,
              record: dict[str, Any] | None = None) -> Release:
        """Seal the output once per distinct view among the recipients (exchange.core.views): each
        group of recipients with the same view shares one message and one data key. `record`
        (a record's shared form) given: each view gets its projection of it; else `payload` to all."""
        out_id = output_message_id(header.producer, header.message_id)
        release = Release((), dataset.id, header.message_id, None, (), str(marking), moved, redactions, str(received),
                          why, restriction)
        if not recipients:
            # Nobody may receive it: nothing is sealed or published (fail closed), but it is audited.
            return release
        out_topic = shared_topic(dataset.id, personal=dataset.personal)
        outputs: list[Outgoing] = []
        delivered: list[str] = []
        for view, group in self._views(dataset, recipients, today, by_view=record is not None).items():
            view_payload = payload
            if record is not None and not view.whole:
                projected = project(record, dataset, view)
                if projected is None:
                    continue  # outside the areas this group's grants cover
                view_payload = dataset.shared_codec.encode(projected)
            message_id = out_id if view.whole else _view_message_id(out_id, view)
            sealer = self._sealer(out_topic, {s.id: s.keys.x25519 for s in group}, view=view.key)
            sealed = sealer.seal(view_payload, message_id=message_id, dataset=dataset.id,
                                 schema_fingerprint=fingerprint, marking=str(marking), kind=header.kind)
            if sealed.key_grant is not None:
                outputs.append(Outgoing(key_topic(out_topic), sealed.header.key_id.encode(), sealed.key_grant, True))
            # Keyed by the record's token: every version of a record, and its withdrawal, on one partition.
            outputs.append(Outgoing(out_topic, (record_key or out_id).encode(), sealed.envelope))
            delivered += [s.id for s in group]
        if not outputs:
            return release
        return dataclasses.replace(release, outputs=tuple(outputs), output_id=out_id,
                                   recipients=tuple(sorted(delivered)))

    def _views(self, dataset: Dataset, recipients: Sequence[Signatory], today: dt.date, *, by_view: bool
               ) -> dict[View, tuple[Signatory, ...]]:
        """The recipients grouped by the view their grant releases (all one group unless `by_view`)."""
        if not by_view:
            return {WHOLE: tuple(recipients)}
        key = (dataset.id, today, tuple(s.id for s in recipients))
        if key not in self._view_groups:  # once per recipient set and partnership state, not per record
            groups: dict[View, list[Signatory]] = {}
            for signatory in recipients:
                grant = self.partnership.grant_for(signatory.id, dataset.id, today)
                view = View(grant.fields, grant.areas) if grant is not None else WHOLE
                groups.setdefault(view, []).append(signatory)
            self._view_groups[key] = {view: tuple(group) for view, group in groups.items()}
        return self._view_groups[key]

    def seal_aggregate(self, dataset_id: str, month: str, payload: bytes, marking: str) -> tuple[Outgoing, ...]:
        """An aggregate table (exchange.core.aggregates), sealed for everyone [aggregates] names:
        its key grant first when the data key is new, then the table."""
        recipients = self.partnership.aggregates_for()
        if not recipients:
            return ()
        table_codec = codec("aggregate_table")
        message_id = hashlib.sha256(f"aggregate\x00{dataset_id}\x00{month}\x00".encode() + payload).hexdigest()[:32]
        sealer = self._sealer(AGGREGATES_TOPIC, {s.id: s.keys.x25519 for s in recipients})
        sealed = sealer.seal(payload, message_id=message_id, dataset=dataset_id,
                             schema_fingerprint=table_codec.fingerprint, marking=marking, kind="AGGREGATE")
        outputs = []
        if sealed.key_grant is not None:
            outputs.append(Outgoing(key_topic(AGGREGATES_TOPIC), sealed.header.key_id.encode(), sealed.key_grant, True))
        outputs.append(Outgoing(AGGREGATES_TOPIC, message_id.encode(), sealed.envelope))
        return tuple(outputs)

    def _codec(self, name: str, header: Header, label: str) -> Codec:
        found = codec(name)
        if header.schema_fingerprint != found.fingerprint:
            raise Refused(ReasonCode.SCHEMA_UNKNOWN, f"{label}: unknown {name.replace('_', ' ')} schema fingerprint")
        return found

    # -- one message, and the batch it belongs to ---------------------------------------------

    async def prepare(self, messages: Sequence[Incoming]) -> None:
        """Read from the ledger, in one query, which of the batch's inputs were processed before
        (unverified headers serve only as look-up keys here; `handle` trusts nothing until the
        signature checks)."""
        keys = []
        for message in messages:
            try:
                envelope = read_envelope(message.value or b"")
            except ExchangeError:
                continue  # handle() dead-letters it
            self._batch_envelopes[(message.topic, message.partition, message.offset)] = envelope  # read once
            keys.append(replay_key(envelope.header))
        self._ledger_seen = await self.ledger.content_hashes(keys) if self.ledger is not None and keys else {}

    async def handle(self, message: Incoming) -> Handled:
        """Everything one input message produces: its release, or one dead letter. Never raises on
        bad input; raises only when the broker itself fails (the offset then stays uncommitted)."""
        self.stats.received += 1
        header, verified = None, False
        value = message.value if message.value is not None else b""  # a null value is no envelope either
        digest = hashlib.sha256(value).hexdigest()
        try:
            envelope = self._batch_envelopes.pop((message.topic, message.partition, message.offset), None) \
                or read_envelope(value)
            header = envelope.header
            self.admit(message.topic, header)
            # The signature first: only a message its producer really signed can be a redelivery or
            # a replay, so a forgery carrying a genuine message's id cannot get the genuine refused.
            opened = await self.opener.open_fetching(envelope, self.fetch_keys)
            verified = True
            self.stats.supplied_by(header.producer)
            if await self._seen_before(replay_key(header), digest):
                self.stats.duplicates += 1
                return Handled((), (AuditEvent("receipt", header.dataset, header.message_id, header.producer,
                                               content_sha256=digest,
                                               detail="redelivery of a processed message: skipped"),))
            release = self.transform(opened)
        except TransportUnavailable:
            raise  # the broker, not the message: the offset stays uncommitted
        except ExchangeError as exc:
            code, reason = exc.reason_code, str(exc)
        except Exception as exc:  # a defect must not stop the daemon; its message may quote content, so drop it
            code, reason = ReasonCode.INTERNAL_ERROR, f"{exc.__class__.__name__} at {_innermost_frame(exc)}"
            self.stats.last_error = (exc.__class__.__name__, time.time())
            log.error("internal error on %s[%d]@%d: %s", message.topic, message.partition, message.offset, reason)
        else:
            return self._released(header, release, digest)
        self.stats.dead_lettered[code] += 1
        log.warning("dead-lettered %s[%d]@%d: %s: %s", message.topic, message.partition, message.offset, code, reason)
        letter = dead_letter(reason_code=code, reason=reason, topic=message.topic, partition=message.partition,
                             offset=message.offset, value=value, header=header)
        where = f"{message.topic}[{message.partition}]@{message.offset}"
        if header is not None and not verified:
            where += f"; claimed producer {header.producer} (not verified)"
        event = AuditEvent("rejection", header.dataset if header else None, header.message_id if header else None,
                           header.producer if verified and header else None, reason_code=code,
                           content_sha256=digest, detail=where)
        return Handled((letter,), (event,))

    async def _seen_before(self, key: str, digest: str) -> bool:
        """True for a redelivery of bytes already processed; Refused for a replayed id."""
        prior = self._batch_seen.get(key) or self._ledger_seen.get(key)
        if prior is None:
            self._batch_seen[key] = digest
            return False
        if prior != digest:
            raise Refused(ReasonCode.REPLAYED_MESSAGE_ID,
                          f"message {key} was already processed with different content")
        return True

    def _released(self, header: Header, release: Release, digest: str) -> Handled:
        if header.kind == "METADATA":
            self.stats.metadata += 1
        elif header.kind == "WITHDRAWAL":
            self.stats.withdrawals += 1
        elif release.outputs:
            self.stats.released += 1
        elif release.restriction:
            self.stats.withheld_by_originator += 1
        else:
            self.stats.withheld_no_recipient += 1
        self.stats.moved += int(release.moved)
        self.stats.redactions += release.redactions
        events = [AuditEvent("receipt", header.dataset, header.message_id, header.producer, marking=header.marking,
                             content_sha256=digest)]
        marking = (f"marking received {release.received_marking}, released {release.marking}: "
                   f"{release.marking_reason}")
        if header.kind == "RECORD":
            restricted = f"; handling: {release.restriction}" if release.restriction else ""
            events.append(AuditEvent("sanitisation", header.dataset, header.message_id, header.producer,
                                     marking=release.marking,
                                     detail=f"moved to a qualifying postcode: {'yes' if release.moved else 'no'}; "
                                            f"free-text redactions: {release.redactions}; {marking}{restricted}"))
        elif header.kind == "WITHDRAWAL":
            events.append(AuditEvent("withdrawal", header.dataset, header.message_id, header.producer,
                                     marking=release.marking, detail="the originator withdrew a record: "
                                                                     "every subscriber is told to delete it"))
        else:
            events.append(AuditEvent("sanitisation", header.dataset, header.message_id, header.producer,
                                     marking=release.marking,
                                     detail=f"supply metadata; free-text redactions: {release.redactions}; {marking}"))
        if release.outputs:
            detail = f"from {header.message_id}"
            if release.restriction:
                detail += f"; {release.restriction}: only to {_LIMITED_TO.get(release.restriction, 'some recipients')}"
            events.append(AuditEvent("release", header.dataset, release.output_id, "sanitiser",
                                     recipients=release.recipients, marking=release.marking, detail=detail))
        else:
            code = (ReasonCode.CONSENT_WITHHELD if release.restriction == "CONSENT_WITHHELD"
                    else ReasonCode.ORIGINATOR_RESTRICTED if release.restriction else ReasonCode.NO_RECIPIENT)
            events.append(AuditEvent("withheld", header.dataset, header.message_id, header.producer,
                                     marking=release.marking, reason_code=code,
                                     detail=f"handling: {release.restriction}" if release.restriction else ""))
        return Handled(release.outputs, tuple(events), (replay_key(header), digest),
                       (release.tally,) if release.tally else ())

    async def settle(self, handled: Sequence[Handled]) -> None:
        """Everything the batch produced is acknowledged: audit it and remember it, in one
        transaction, then forget the batch."""
        self._batch_seen, self._ledger_seen, self._batch_envelopes = {}, {}, {}
        processed = [h.processed for h in handled if h.processed]
        events = [event for h in handled for event in h.audit]
        if self.tallies is not None:
            # First: idempotent writes, so a crash before the ledger commit replays to the same counts.
            await self.tallies.apply(t for h in handled for t in h.tallies)
        if self.ledger is not None:
            await self.ledger.append_many(events, processed=processed)

    def _decode(self, record_codec, opened: Opened) -> dict[str, Any]:
        try:
            return record_codec.decode(opened.payload)
        except AvroDecodeError as exc:
            raise Refused(ReasonCode.RECORD_INVALID, f"message {opened.header.message_id}: {exc}") from None

    def _sealer(self, topic: str, recipients: dict[str, bytes], *, view: str = "") -> Sealer:
        slot = f"{topic}#{view}" if view else topic  # one data key per topic and view
        sealer = self._sealers.get(slot)
        if sealer is None:
            sealer = self._sealers[slot] = Sealer(producer=SANITISER_ID, keys=self.keys, topic=topic,
                                                   recipients=recipients, max_records=self._max_records_per_key)
        else:
            sealer.set_recipients(recipients)  # rotates the data key at once if the set changed
        return sealer


# Who a restricted record may reach, as the release's audit says it.
_LIMITED_TO = {"SUB_JUDICE": "the recipients the originator named",
               "CONSENT_WITHHELD": "grants whose legal basis permits sharing without consent (ISP 5.1-5.4)"}


def _innermost_frame(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else "?"


# A dead letter keeps the original whole up to this size, else a prefix and its SHA-256, so it stays
# well under any broker's message size limit (Apache Kafka's default is 1 MiB) whatever arrived.
DEAD_LETTER_ORIGINAL_CAP = 64 * 1024
DEAD_LETTER_ORIGINAL_PREFIX = 4 * 1024
REASON_CAP = 1000


def dead_letter(*, reason_code: str, reason: str, topic: str, partition: int, offset: int, value: bytes,
                header: Header | None) -> Outgoing:
    truncated = len(value) > DEAD_LETTER_ORIGINAL_CAP
    record = {
        "at": dt.datetime.now(dt.UTC), "stage": "sanitiser", "reason_code": reason_code,
        "reason": reason[:REASON_CAP], "topic": topic, "partition": partition, "offset": offset,
        "message_id": header.message_id if header else None, "producer": header.producer if header else None,
        "original": value[:DEAD_LETTER_ORIGINAL_PREFIX] if truncated else value, "original_size": len(value),
        "original_sha256": hashlib.sha256(value).hexdigest(), "original_truncated": truncated,
    }
    key = (header.message_id if header else f"{topic}:{partition}:{offset}").encode()
    return Outgoing(DEADLETTER_TOPIC, key, codec("dead_letter").encode(record))


