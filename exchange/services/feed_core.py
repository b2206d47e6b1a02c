"""A subscriber's feed, without Kafka: open what is sealed to this signatory and keep it.

`FeedCore.handle` takes one consumed message from shared.* / restricted.*: only envelopes signed
by the sanitiser are accepted; a record is stored (uncommitted) once per id, a supply's metadata
kept, and anything it cannot open (not a recipient, say, after a suspension) recorded as a
refusal with its reason. `settle` commits the store and the audit once per batch, before the
loop commits the offset. The store, the audit log and the key-topic fetch are ports, so the core
runs in unit tests without a broker (tests/support).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from exchange.core.audit_events import AuditEvent, AuditSink
from exchange.core.avro import codec
from exchange.core.messages import DropRecord, Handled, Incoming, KeepRecord, Stored
from exchange.core.names import AGGREGATES_TOPIC, SANITISER_ID, shared_topic
from exchange.core.partnership import Partnership, Signatory
from exchange.core.schemas import Catalogue
from exchange.crypto.envelope import Header, Opener, read_envelope
from exchange.crypto.keys import KeyPair
from exchange.errors import AvroDecodeError, ConfigError, ExchangeError, ReasonCode, Refused

__all__ = ["FeedCore", "FeedStats", "RecordStore"]

log = logging.getLogger("exchange.feed")


@dataclass
class FeedStats:
    stored: int = 0
    superseded: int = 0
    withdrawn: int = 0
    aggregates: int = 0
    duplicates: int = 0
    supplies: int = 0
    refused: int = 0
    destroyed: int = 0


class RecordStore(Protocol):
    """What the core writes to (exchange.storage.feed_store.FeedStore)."""

    async def apply(self, changes: Sequence[KeepRecord | DropRecord]) -> list[Stored | int]: ...
    async def add_aggregate(self, message_id: str, dataset: str, month: str, marking: str,
                            table: dict[str, Any]) -> None: ...
    async def add_supply(self, message_id: str, dataset: str, metadata: dict[str, Any]) -> None: ...
    async def add_refusal(self, topic: str, partition: int, offset: int, message_id: str | None, code: str,
                          reason: str) -> None: ...
    async def commit(self) -> None: ...
    async def purge_expired(self, today: dt.date) -> int: ...
    async def purge_dataset(self, dataset: str) -> int: ...


class FeedCore:
    def __init__(self, partnership: Partnership, catalogue: Catalogue, keys: KeyPair, signatory: str,
                 store: RecordStore, *, datasets: list[str] | None = None, audit: AuditSink | None = None,
                 today: Callable[[], dt.date] = dt.date.today,
                 fetch_keys: Callable[[], Awaitable[int]] | None = None):
        self.catalogue = catalogue
        self.signatory: Signatory
        self.partnership: Partnership
        self._keys = keys
        self._chosen = datasets
        self.store = store
        self.audit = audit
        self.fetch_keys = fetch_keys
        self.update_partnership(partnership, signatory)
        # The feed trusts one producer on shared topics: the sanitiser.
        self.opener = Opener(me=signatory, keys=keys, producers={SANITISER_ID: partnership.sanitiser.ed25519})
        self.stats = FeedStats()
        self._today = today
        self._changes: list[tuple[KeepRecord | DropRecord, Header]] = []  # the batch's, stored when it settles

    def update_partnership(self, partnership: Partnership, signatory: str | None = None) -> None:
        """Adopt the partnership's live state (the governance chain): this signatory's status, keys
        and grants, and so the datasets received. ConfigError if the key file no longer holds the
        keys registered for it (started with another party's key, or rekeyed since): it would open
        nothing and commit past every record, lost for good, so it refuses before that."""
        me = partnership.signatory(signatory or self.signatory.id)
        if self._keys.public != me.keys:
            raise ConfigError(f"the key file of {self._keys.name!r} does not hold the keys registered for {me.id!r} "
                              f"in {partnership.name} (another party's, or replaced by a rekey): the feed will "
                              "not run with it; start it with the signatory's current key file")
        self.partnership, self.signatory = partnership, me
        granted = {g.dataset for g in partnership.grants if g.signatory == me.id}
        self.datasets = sorted(d for d in (self._chosen or granted) if d in self.catalogue)

    @property
    def receives_aggregates(self) -> bool:
        return any(s.id == self.signatory.id for s in self.partnership.aggregates_for())

    def topics(self) -> list[str]:
        topics = [shared_topic(d, personal=self.catalogue[d].personal) for d in self.datasets]
        return topics + ([AGGREGATES_TOPIC] if self.receives_aggregates else [])

    async def prepare(self, messages: Sequence[Incoming]) -> None:
        """Nothing to read ahead: the store answers per record inside the batch's transaction."""

    async def handle(self, message: Incoming) -> Handled:
        message_id = None
        value = message.value if message.value is not None else b""  # a null value is no envelope either
        try:
            envelope = read_envelope(value)  # read once: the header routes, then it is opened
            header = envelope.header
            message_id = header.message_id
            if header.producer != SANITISER_ID:
                raise Refused(ReasonCode.UNKNOWN_PRODUCER,
                              f"message {message_id}: shared topics carry only the sanitiser's envelopes")
            opened = await self.opener.open_fetching(envelope, self.fetch_keys)
            dataset = self.catalogue[header.dataset]
            if header.kind == "METADATA":
                await self.store.add_supply(message_id, dataset.id, codec("dataset_metadata").decode(opened.payload))
                self.stats.supplies += 1
                return Handled()
            if header.kind == "WITHDRAWAL":
                return await self._withdraw(header, dataset.id, opened.payload)
            if header.kind == "AGGREGATE":
                return await self._aggregate(header, dataset.id, opened.payload)
            if header.schema_fingerprint != dataset.shared_codec.fingerprint:
                raise Refused(ReasonCode.SCHEMA_UNKNOWN, f"message {message_id}: not the shared schema of {dataset.id}")
            record = dataset.shared_codec.decode(opened.payload)
            self._changes.append((KeepRecord(message_id, dataset.id, header.marking, record), header))
            return Handled()  # stored, with the rest of the batch, when it settles
        except (ExchangeError, AvroDecodeError) as exc:
            code = getattr(exc, "reason_code", ReasonCode.RECORD_INVALID)
            self.stats.refused += 1
            log.info("refused %s[%d]@%d: %s", message.topic, message.partition, message.offset, code)
            await self.store.add_refusal(message.topic, message.partition, message.offset, message_id, code, str(exc))
            return Handled(audit=(AuditEvent("rejection", None, message_id, recipients=(self.signatory.id,),
                                             reason_code=code,
                                             detail=f"{message.topic}[{message.partition}]@{message.offset}"),))

    async def _withdraw(self, header: Header, dataset: str, payload: bytes) -> Handled:
        notice_codec = codec("withdrawal_notice")
        if header.schema_fingerprint != notice_codec.fingerprint:
            raise Refused(ReasonCode.SCHEMA_UNKNOWN, f"message {header.message_id}: not a withdrawal notice")
        notice = notice_codec.decode(payload)
        self._changes.append((DropRecord(dataset, notice["record_key"], notice["originator"]), header))
        return Handled()

    async def _aggregate(self, header: Header, dataset: str, payload: bytes) -> Handled:
        table_codec = codec("aggregate_table")
        if header.schema_fingerprint != table_codec.fingerprint:
            raise Refused(ReasonCode.SCHEMA_UNKNOWN, f"message {header.message_id}: not an aggregate table")
        table = table_codec.decode(payload)
        if table["dataset"] != dataset:
            raise Refused(ReasonCode.DATASET_MISMATCH, f"message {header.message_id}: a table of {table['dataset']!r} "
                                                       f"under dataset {dataset!r}")
        await self.store.add_aggregate(header.message_id, dataset, table["month"], header.marking, table)
        self.stats.aggregates += 1
        return Handled(audit=(AuditEvent("delivery", dataset, header.message_id, header.producer,
                                         recipients=(self.signatory.id,), marking=header.marking,
                                         detail=f"aggregate table for {table['month']}"),))

    async def settle(self, handled: Sequence[Handled]) -> None:
        """The batch is handled: store its records and withdrawals (one batch of statements, in
        order), commit the store, then audit what it delivered, superseded, withdrew and refused."""
        changes, self._changes = self._changes, []
        outcomes = await self.store.apply([change for change, _ in changes]) if changes else []
        events = [event for h in handled for event in h.audit]
        for (change, header), outcome in zip(changes, outcomes, strict=True):
            events += self._account(change, header, outcome)
        await self.store.commit()
        if self.audit is not None and events:
            await self.audit.append_many(events)

    def _account(self, change: KeepRecord | DropRecord, header: Header, outcome: Stored | int) -> list[AuditEvent]:
        """The statistics and audit events of one stored change."""
        me = (self.signatory.id,)
        if isinstance(change, DropRecord):
            deleted = int(outcome)
            self.stats.withdrawn += deleted
            return [AuditEvent("withdrawal", change.dataset, header.message_id, header.producer, count=deleted,
                               recipients=me, marking=header.marking,
                               detail=f"{change.originator} withdrew a record: "
                                      f"{'deleted' if deleted else 'not held here'}")]
        if outcome in (Stored.DUPLICATE, Stored.RETIRED):
            self.stats.duplicates += 1
            return []
        events = [AuditEvent("delivery", change.dataset, change.message_id, header.producer, recipients=me,
                             marking=header.marking)]
        if outcome is Stored.SUPERSEDED:
            self.stats.superseded += 1
            events.append(AuditEvent("supersession", change.dataset, change.message_id, header.producer,
                                     recipients=me, marking=header.marking,
                                     detail="a corrected version replaced the record held with the same key"))
        else:
            self.stats.stored += 1
        return events

    async def enforce_retention(self) -> int:
        """Delete records past their destroy-by date, and every record of a personal dataset whose
        grant to this signatory is no longer in force (expired, or the signatory not active), and
        reclaim the space; audited; no operator needed."""
        today = self._today()
        purged = await self.store.purge_expired(today)
        await self._audit_retention(purged, f"destroy-by date before {today.isoformat()}")
        # Every personal dataset, not only those granted now: one whose grant was revoked is no
        # longer among self.datasets, and its records must go too.
        for dataset_id in sorted(d.id for d in self.catalogue if d.personal):
            allowed = self.partnership.may_receive(self.signatory.id, dataset_id, personal=True, today=today)
            if not allowed:
                ended = await self.store.purge_dataset(dataset_id)
                await self._audit_retention(ended, f"personal dataset {dataset_id}: {allowed.reason}", dataset_id)
                purged += ended
        return purged

    async def _audit_retention(self, count: int, why: str, dataset: str | None = None) -> None:
        self.stats.destroyed += count
        if not count:
            return
        log.info("retention: destroyed %d record(s): %s", count, why)
        if self.audit is not None:
            await self.audit.append(AuditEvent("retention", dataset, count=count, recipients=(self.signatory.id,),
                                               detail=why))
