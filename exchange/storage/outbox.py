"""The agent's durable outbox (SQLite via aiosqlite).

A sealed message is written here, in one transaction with its siblings, before anything is sent;
it leaves only once the broker has acknowledged it, and its id then moves to `published`, which
is how a re-submitted file is recognised. The outbox holds only sealed (encrypted) bytes.

`record_epochs` counts the withdrawals of each record, under a keyed token of its natural key (the
agent's own secret, so the file holds no reference in clear): a record supplied again after its
withdrawal gets a new message id, so it is sent again rather than recognised as already sent.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from exchange.storage._sqlite import SqliteFile

__all__ = ["Outbox", "OutboxItem", "OutboxStats", "Queued"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    value BLOB NOT NULL,
    is_key_grant INTEGER NOT NULL DEFAULT 0,
    partition_key TEXT,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS published (
    message_id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    published_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS record_epochs (
    record_token TEXT PRIMARY KEY,
    epoch INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL
);
"""


class Queued(NamedTuple):
    """A sealed message to put in the outbox."""

    message_id: str
    topic: str
    value: bytes
    is_key_grant: bool = False
    # The Kafka message key: a keyed token of the record's natural key, so every version of a
    # record (and its withdrawal) lands on one partition, in order; the message id otherwise.
    partition_key: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    seq: int
    message_id: str
    topic: str
    value: bytes
    is_key_grant: bool
    partition_key: str | None = None

    @property
    def kafka_key(self) -> bytes:
        return (self.partition_key or self.message_id).encode()


@dataclass(frozen=True, slots=True)
class OutboxStats:
    waiting: int
    oldest_created_at: float | None
    published: int


class Outbox(SqliteFile):
    SCHEMA = _SCHEMA

    async def prepare(self) -> None:
        # An outbox written before messages carried a partition key gains the column.
        async with self.db.execute("PRAGMA table_info(outbox)") as cur:
            columns = {row[1] async for row in cur}
        if columns and "partition_key" not in columns:
            await self.db.executescript("BEGIN; ALTER TABLE outbox ADD COLUMN partition_key TEXT; COMMIT;")
        await super().prepare()

    async def known_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of these ids are waiting or already published."""
        ids = list(ids)
        known: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for table in ("outbox", "published"):
                async with self.db.execute(f"SELECT message_id FROM {table} WHERE message_id IN ({marks})",
                                           chunk) as cur:
                    known.update([row[0] async for row in cur])
        return known

    async def record_epochs(self, tokens: Iterable[str]) -> dict[str, tuple[int, bool]]:
        """(epoch, withdrawn now) of each record token that was ever withdrawn."""
        tokens = list(tokens)
        found: dict[str, tuple[int, bool]] = {}
        for start in range(0, len(tokens), 500):
            chunk = tokens[start:start + 500]
            async with self.db.execute(f"SELECT record_token, epoch, withdrawn FROM record_epochs WHERE record_token "
                                       f"IN ({','.join('?' * len(chunk))})", chunk) as cur:
                found.update({row[0]: (row[1], bool(row[2])) async for row in cur})
        return found

    async def enqueue(self, items: Iterable[Queued | tuple[str, str, bytes, bool]], *,
                      withdrawn: Iterable[str] = (), resupplied: Iterable[str] = ()) -> int:
        """Add messages (Queued, or (message_id, topic, value, is_key_grant)) in order, atomically;
        ignore known ids. In
        the same transaction, the records these messages withdraw (tokens) move to their next
        epoch, and those supplied again after a withdrawal stop being withdrawn."""
        now = time.time()
        queued = [Queued(*item) for item in items]
        rows = [(q.message_id, q.topic, q.value, int(q.is_key_grant), q.partition_key, now) for q in queued]
        await self.db.executemany(
            "INSERT OR IGNORE INTO outbox (message_id, topic, value, is_key_grant, partition_key, created_at) "
            "VALUES (?,?,?,?,?,?)", rows)
        await self.db.executemany(
            "INSERT INTO record_epochs VALUES (?, 1, 1) ON CONFLICT(record_token) DO UPDATE SET "
            "epoch = epoch + 1, withdrawn = 1", [(token,) for token in withdrawn])
        await self.db.executemany("UPDATE record_epochs SET withdrawn = 0 WHERE record_token = ?",
                                  [(token,) for token in resupplied])
        await self.db.commit()
        return len(rows)

    async def pending(self, limit: int = 500) -> list[OutboxItem]:
        async with self.db.execute(
            "SELECT seq, message_id, topic, value, is_key_grant, partition_key FROM outbox ORDER BY seq LIMIT ?",
            (limit,)
        ) as cur:
            return [OutboxItem(r[0], r[1], r[2], bytes(r[3]), bool(r[4]), r[5]) async for r in cur]

    async def mark_published(self, items: Iterable[OutboxItem]) -> None:
        items = list(items)
        if not items:
            return
        now = time.time()
        await self.db.executemany("INSERT OR IGNORE INTO published (message_id, topic, published_at) VALUES (?,?,?)",
                                  [(i.message_id, i.topic, now) for i in items])
        await self.db.executemany("DELETE FROM outbox WHERE seq = ?", [(i.seq,) for i in items])
        await self.db.commit()

    async def record_failure(self, error: str) -> None:
        await self.db.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ?", (error[:500],))
        await self.db.commit()

    async def stats(self) -> OutboxStats:
        waiting, oldest = await self.row("SELECT COUNT(*), MIN(created_at) FROM outbox")
        published = await self.scalar("SELECT COUNT(*) FROM published")
        return OutboxStats(waiting=waiting, oldest_created_at=oldest, published=published)
