"""In-memory stand-ins for the Kafka edge, so the service cores run without a broker.

`Topics` holds every topic's values in order; `FakeProducer.send` appends (and acknowledges at
once); `FakeConsumer` reads its topics from a position and remembers what it committed;
`FakeKeyReader.refresh` feeds new key grants to an opener, as the real KeyTopicReader does;
`MemoryAudit` keeps what the services would write to the audit log.
These are not mocks of aiokafka: they only honour the small interface the consume loop uses
(exchange.transport.loop), which is the point of that interface.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from exchange.core.audit_events import AuditEvent
from exchange.core.messages import KeepRecord, Stored
from exchange.errors import EnvelopeError


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    value: bytes | None
    key: bytes | None = None


class Topics:
    def __init__(self) -> None:
        self.values: dict[str, list[tuple[bytes | None, bytes | None]]] = defaultdict(list)

    def append(self, topic: str, value: bytes | None, key: bytes | None = None) -> Message:
        self.values[topic].append((key, value))
        return Message(topic, 0, len(self.values[topic]) - 1, value, key)

    def messages(self, topic: str, start: int = 0) -> list[Message]:
        return [Message(topic, 0, offset, value, key)
                for offset, (key, value) in enumerate(self.values[topic]) if offset >= start]

    def read(self, topic: str) -> list[bytes | None]:
        return [value for _, value in self.values[topic]]


class FakeProducer:
    def __init__(self, topics: Topics):
        self.topics = topics

    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> asyncio.Future[Message]:
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        future.set_result(self.topics.append(topic, value, key))
        return future


class FakeConsumer:
    """Reads its topics (partition 0) from where its group last committed."""

    def __init__(self, topics: Topics, *names: str):
        self.topics = topics
        self.names = names
        self.committed: dict[str, int] = {name: 0 for name in names}
        self._position = dict(self.committed)

    async def getmany(self, *partitions: Any, timeout_ms: int = 0,
                      max_records: int | None = None) -> Mapping[str, list[Message]]:
        batch = {}
        for name in self.names:
            messages = self.topics.messages(name, self._position[name])[:max_records]
            if messages:
                batch[name] = messages
                self._position[name] = messages[-1].offset + 1
        if not batch:
            await asyncio.sleep(timeout_ms / 1000)
        return batch

    async def commit(self, offsets: Mapping[str, int]) -> None:
        self.committed.update(offsets)


class FakeKeyReader:
    """Feeds key grants published on these topics to `accept`, reading only what is new."""

    def __init__(self, topics: Topics, names: Iterable[str], accept: Callable[[bytes], Any]):
        self.topics = topics
        self.names = list(names)
        self.accept = accept
        self.read = {name: 0 for name in self.names}
        self.refreshes = 0

    async def refresh(self) -> int:
        self.refreshes += 1
        accepted = 0
        for name in self.names:
            for message in self.topics.messages(name, self.read[name]):
                self.read[name] = message.offset + 1
                try:
                    self.accept(message.value)
                    accepted += 1
                except EnvelopeError:
                    pass
        return accepted


class MemoryAudit:
    """The audit log (AuditLog) as lists: events, and the sanitiser's processed inputs written with them."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []
        self.hashes: dict[str, str] = {}

    async def content_hashes(self, keys: Iterable[str]) -> dict[str, str]:
        return {key: self.hashes[key] for key in keys if key in self.hashes}

    async def append_many(self, events: Iterable[AuditEvent], *, processed: Iterable[tuple[str, str]] = ()) -> int:
        added = list(events)
        self.events += added
        for key, digest in processed:
            self.hashes.setdefault(key, digest)
        return len(added)

    async def append(self, event: AuditEvent) -> int:
        return await self.append_many([event])

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


class MemoryFeedStore:
    """The feed store's write interface (FeedStore) in memory; `commit` makes writes visible."""

    def __init__(self) -> None:
        self.records: dict[str, tuple[str, str, dict[str, Any]]] = {}
        self.supplies: dict[str, tuple[str, dict[str, Any]]] = {}
        self.refusals: list[tuple[str, int, int, str | None, str, str]] = []
        self.retired: set[str] = set()
        self.aggregates: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        self.commits = 0
        self._pending: dict[str, tuple[str, str, dict[str, Any]] | None] = {}  # None: deleted at commit

    def _held(self, dataset: str, record_key: str | None, originator: str | None = None) -> list[str]:
        """Ids held under a record key (pending writes included), of one originator if given."""
        visible = {**self.records, **self._pending}
        return [m for m, row in visible.items() if row is not None and row[0] == dataset and record_key is not None
                and row[2].get("handling", {}).get("record_key") == record_key
                and originator in (None, row[2]["handling"].get("originator"))]

    async def add_record(self, message_id: str, dataset: str, marking: str, record: dict[str, Any]) -> Stored:
        if message_id in self.retired:
            return Stored.RETIRED
        if self._pending.get(message_id, self.records.get(message_id)) is not None:
            return Stored.DUPLICATE
        held = self._held(dataset, record.get("handling", {}).get("record_key"))
        for old in held:
            self.retired.add(old)
            self._pending[old] = None
        self._pending[message_id] = (dataset, marking, record)
        return Stored.SUPERSEDED if held else Stored.NEW

    async def apply(self, changes: list[Any]) -> list[Stored | int]:
        """FeedStore.apply, one change at a time."""
        outcomes: list[Stored | int] = []
        for change in changes:
            if isinstance(change, KeepRecord):
                outcomes.append(await self.add_record(change.message_id, change.dataset, change.marking,
                                                      change.record))
            else:
                outcomes.append(await self.withdraw(change.dataset, change.record_key, change.originator))
        return outcomes

    async def withdraw(self, dataset: str, record_key: str, originator: str) -> int:
        held = self._held(dataset, record_key, originator)
        for old in held:
            self.retired.add(old)
            self._pending[old] = None
        return len(held)

    async def add_aggregate(self, message_id: str, dataset: str, month: str, marking: str,
                            table: dict[str, Any]) -> None:
        self.aggregates[(dataset, month)] = (marking, table)

    async def add_supply(self, message_id: str, dataset: str, metadata: dict[str, Any]) -> None:
        self.supplies[message_id] = (dataset, metadata)

    async def add_refusal(self, topic: str, partition: int, offset: int, message_id: str | None, code: str,
                          reason: str) -> None:
        self.refusals.append((topic, partition, offset, message_id, code, reason))

    async def commit(self) -> None:
        for message_id, row in self._pending.items():
            if row is None:
                self.records.pop(message_id, None)
            else:
                self.records[message_id] = row
        self._pending = {}
        self.commits += 1

    async def purge_dataset(self, dataset: str) -> int:
        gone = [m for m, (d, _, _) in self.records.items() if d == dataset]
        for message_id in gone:
            del self.records[message_id]
        return len(gone)

    async def purge_expired(self, today: Any) -> int:
        expired = [m for m, (_, _, r) in self.records.items() if r["handling"]["destroy_by"] < today]
        for message_id in expired:
            del self.records[message_id]
        return len(expired)
