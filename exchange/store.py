"""A subscriber's feed store (SQLite via aiosqlite): what it may open, kept idempotently.

`records` ignores a message id it already holds, so a message delivered twice is stored once.
Rows hold the shared (depersonalised) form as JSON, with marking and destroy-by date in columns
so retention and briefings need not parse every row.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any, AsyncIterator

import aiosqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    message_id TEXT PRIMARY KEY,
    dataset TEXT NOT NULL,
    marking TEXT NOT NULL,
    originator TEXT NOT NULL,
    destroy_by TEXT,
    received_at REAL NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_dataset ON records(dataset);
CREATE TABLE IF NOT EXISTS supplies (
    message_id TEXT PRIMARY KEY,
    dataset TEXT NOT NULL,
    received_at REAL NOT NULL,
    metadata TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refused (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    message_id TEXT,
    reason_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (topic, partition, offset)
);
"""


def to_json(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


class FeedStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._db: aiosqlite.Connection | None = None

    async def __aenter__(self) -> "FeedStore":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=FULL")
        await self._db.executescript(_SCHEMA)
        await self._db.commit()
        return self

    async def __aexit__(self, *exc) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        assert self._db is not None, "use `async with FeedStore(path)`"
        return self._db

    async def add_record(self, message_id: str, dataset: str, marking: str, record: dict[str, Any]) -> bool:
        """Store a record unless its id is already held; True if it was new. Caller commits."""
        handling = record.get("handling") or {}
        destroy_by = handling.get("destroy_by")
        cursor = await self.db.execute(
            "INSERT OR IGNORE INTO records (message_id, dataset, marking, originator, destroy_by, received_at, record)"
            " VALUES (?,?,?,?,?,?,?)",
            (message_id, dataset, marking, handling.get("originator", ""),
             destroy_by.isoformat() if destroy_by else None, time.time(), json.dumps(to_json(record))))
        return cursor.rowcount == 1

    async def add_supply(self, message_id: str, dataset: str, metadata: dict[str, Any]) -> None:
        await self.db.execute("INSERT OR IGNORE INTO supplies (message_id, dataset, received_at, metadata) VALUES (?,?,?,?)",
                              (message_id, dataset, time.time(), json.dumps(to_json(metadata))))

    async def add_refusal(self, topic: str, partition: int, offset: int, message_id: str | None,
                          reason_code: str, reason: str) -> None:
        await self.db.execute("INSERT OR IGNORE INTO refused VALUES (?,?,?,?,?,?,?)",
                              (topic, partition, offset, message_id, reason_code, reason, time.time()))

    async def commit(self) -> None:
        await self.db.commit()

    async def count(self, dataset: str | None = None) -> int:
        query, args = "SELECT COUNT(*) FROM records", ()
        if dataset:
            query, args = query + " WHERE dataset = ?", (dataset,)
        async with self.db.execute(query, args) as cur:
            return (await cur.fetchone())[0]

    async def refusals(self) -> dict[str, int]:
        async with self.db.execute("SELECT reason_code, COUNT(*) FROM refused GROUP BY reason_code") as cur:
            return {row[0]: row[1] async for row in cur}

    async def records(self, dataset: str | None = None) -> AsyncIterator[dict[str, Any]]:
        query, args = "SELECT message_id, dataset, marking, record FROM records", ()
        if dataset:
            query, args = query + " WHERE dataset = ?", (dataset,)
        async with self.db.execute(query + " ORDER BY rowid", args) as cur:
            async for message_id, ds, marking, record in cur:
                yield {"message_id": message_id, "dataset": ds, "marking": marking, **json.loads(record)}

    async def supplies(self) -> list[dict[str, Any]]:
        async with self.db.execute("SELECT dataset, metadata FROM supplies ORDER BY received_at") as cur:
            return [{"dataset": ds, **json.loads(meta)} async for ds, meta in cur]
