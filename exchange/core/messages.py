"""The messages a service core takes in and gives out, as plain values: the consume loop turns
Kafka records into these and these into produce requests, so a core never sees a Kafka client."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from exchange.core.aggregates import Tally
from exchange.core.audit_events import AuditEvent

__all__ = ["DropRecord", "Handled", "Incoming", "KeepRecord", "Outgoing", "Stored"]


class Incoming(Protocol):
    """One consumed message (aiokafka's ConsumerRecord has these attributes)."""

    topic: str
    partition: int
    offset: int
    value: bytes | None


@dataclass(frozen=True, slots=True)
class Outgoing:
    topic: str
    key: bytes
    value: bytes
    is_key_grant: bool = False  # published and acknowledged before anything after it


@dataclass(frozen=True, slots=True)
class Handled:
    """What one input produced: messages to publish, and facts to record once they are acknowledged."""

    outputs: tuple[Outgoing, ...] = ()
    audit: tuple[AuditEvent, ...] = ()
    processed: tuple[str, str] | None = None  # (input id, content hash) to remember once acknowledged
    tallies: tuple[Tally, ...] = ()  # what it changes in the aggregate counts (exchange.core.aggregates)


class Stored(StrEnum):
    """What a feed store did with a record it was given (exchange.storage.feed_store.FeedStore.add_record)."""

    NEW = "new"
    SUPERSEDED = "superseded"  # it replaced the earlier version of the same record
    DUPLICATE = "duplicate"  # this message was already held
    RETIRED = "retired"  # an old version, already replaced or withdrawn: ignored


@dataclass(frozen=True, slots=True)
class KeepRecord:
    """A feed store's change: hold this shared record (new, or the next version of its key)."""

    message_id: str
    dataset: str
    marking: str
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DropRecord:
    """A feed store's change: delete the record its originator withdrew."""

    dataset: str
    record_key: str
    originator: str
