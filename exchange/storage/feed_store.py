"""A subscriber's feed store (SQLite via aiosqlite): what it may open, kept idempotently.

`records` ignores a message id it already holds, so a message delivered twice is stored once.
Rows hold the shared (depersonalised) form as JSON, with marking and destroy-by date in columns
so retention and briefings need not parse every row.

Corrections and withdrawals: every version of one record carries the same keyed token
(handling.record_key), so the store holds one row per (dataset, record key): a later version
replaces the row and counts a version, a withdrawal deletes it. The ids of replaced and deleted
messages are kept in `retired` (ids only, no content), so a late redelivery of an old version
cannot bring it back.

Retention: `purge_expired(today)` deletes every record whose destroy-by date has passed, then
reclaims the space (checkpoint the WAL, VACUUM, truncate the WAL) so the destroyed records do not
linger in free pages or in the write-ahead log. Records without a destroy-by date are kept.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from exchange.core.messages import Stored
from exchange.storage._sqlite import SqliteFile

__all__ = ["FeedStore", "to_json"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    message_id TEXT PRIMARY KEY,
    dataset TEXT NOT NULL,
    marking TEXT NOT NULL,
    originator TEXT NOT NULL,
    destroy_by TEXT,
    received_at REAL NOT NULL,
    record TEXT NOT NULL,
    record_key TEXT,
    versions INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS records_dataset ON records(dataset);
CREATE INDEX IF NOT EXISTS records_destroy_by ON records(destroy_by);
CREATE TABLE IF NOT EXISTS retired (
    message_id TEXT PRIMARY KEY,
    dataset TEXT NOT NULL,
    record_key TEXT NOT NULL,
    why TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS aggregates (
    dataset TEXT NOT NULL,
    month TEXT NOT NULL,
    message_id TEXT NOT NULL,
    marking TEXT NOT NULL,
    received_at REAL NOT NULL,
    aggregate_table TEXT NOT NULL,
    PRIMARY KEY (dataset, month)
);
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


def _date_text(value: Any) -> str | None:
    """A destroy-by date as ISO text (YYYY-MM-DD), so that text order is date order."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return dt.date.fromisoformat(str(value)).isoformat()


class FeedStore(SqliteFile):
    SCHEMA = _SCHEMA

    async def prepare(self) -> None:
        # A store written before records carried their key gains the columns (its rows keep a NULL
        # key, so they are never superseded: re-supply them or start a new store).
        async with self.db.execute("PRAGMA table_info(records)") as cur:
            columns = {row[1] async for row in cur}
        if columns and "record_key" not in columns:
            await self.db.executescript("BEGIN; ALTER TABLE records ADD COLUMN record_key TEXT; "
                                        "ALTER TABLE records ADD COLUMN versions INTEGER NOT NULL DEFAULT 1; COMMIT;")
        await super().prepare()
        await self.db.execute("CREATE UNIQUE INDEX IF NOT EXISTS records_key ON records(dataset, record_key)")
        await self.db.commit()

    async def add_record(self, message_id: str, dataset: str, marking: str, record: dict[str, Any]) -> Stored:
        """Store a record: new, or the next version of the record with its key (replacing it), or
        nothing for a message already held or retired. Caller commits."""
        handling = record.get("handling") or {}
        record_key = handling.get("record_key")
        if await self.first("SELECT 1 FROM retired WHERE message_id = ?", (message_id,)) is not None:
            return Stored.RETIRED
        held = await self.first("SELECT message_id FROM records WHERE dataset = ? AND record_key = ?",
                                (dataset, record_key)) if isinstance(record_key, str) else None
        values = (message_id, marking, handling.get("originator", ""), _date_text(handling.get("destroy_by")),
                  time.time(), json.dumps(to_json(record)))
        if held is None:
            cursor = await self.db.execute(
                "INSERT OR IGNORE INTO records (message_id, marking, originator, destroy_by, received_at, record, "
                "dataset, record_key) VALUES (?,?,?,?,?,?,?,?)", (*values, dataset, record_key))
            return Stored.NEW if cursor.rowcount == 1 else Stored.DUPLICATE
        if held[0] == message_id:
            return Stored.DUPLICATE
        await self._retire([held[0]], dataset, str(record_key), "superseded")
        await self.db.execute(
            "UPDATE records SET message_id = ?, marking = ?, originator = ?, destroy_by = ?, received_at = ?, "
            "record = ?, versions = versions + 1 WHERE dataset = ? AND record_key = ?", (*values, dataset, record_key))
        return Stored.SUPERSEDED

    async def withdraw(self, dataset: str, record_key: str, originator: str) -> int:
        """Delete the record its originator withdrew (0 if not held); its id is retired. Caller commits."""
        async with self.db.execute("SELECT message_id FROM records WHERE dataset = ? AND record_key = ? "
                                   "AND originator = ?", (dataset, record_key, originator)) as cur:
            ids = [row[0] async for row in cur]
        if ids:
            await self._retire(ids, dataset, record_key, "withdrawn")
            await self.db.executemany("DELETE FROM records WHERE message_id = ?", [(i,) for i in ids])
        return len(ids)

    async def _retire(self, message_ids: list[str], dataset: str, record_key: str, why: str) -> None:
        await self.db.executemany("INSERT OR IGNORE INTO retired VALUES (?,?,?,?,?)",
                                  [(m, dataset, record_key, why, time.time()) for m in message_ids])

    async def versions(self, dataset: str, record_key: str) -> int:
        """How many versions of a record this store has held (0 if none is held now)."""
        found = await self.first("SELECT versions FROM records WHERE dataset = ? AND record_key = ?",
                               (dataset, record_key))
        return int(found[0]) if found else 0

    async def add_aggregate(self, message_id: str, dataset: str, month: str, marking: str,
                            table: dict[str, Any]) -> None:
        """Keep the latest table of a dataset and month (a newer one replaces it). Caller commits."""
        await self.db.execute(
            "INSERT INTO aggregates VALUES (?,?,?,?,?,?) ON CONFLICT(dataset, month) DO UPDATE SET "
            "message_id = excluded.message_id, marking = excluded.marking, received_at = excluded.received_at, "
            "aggregate_table = excluded.aggregate_table",
            (dataset, month, message_id, marking, time.time(), json.dumps(to_json(table))))

    async def aggregates(self, dataset: str | None = None) -> list[dict[str, Any]]:
        """The aggregate tables held, by dataset and month, each with its marking."""
        query = "SELECT marking, aggregate_table FROM aggregates"
        args: tuple[Any, ...] = ()
        if dataset:
            query, args = query + " WHERE dataset = ?", (dataset,)
        async with self.db.execute(query + " ORDER BY dataset, month", args) as cur:
            return [{"marking": marking, **json.loads(table)} async for marking, table in cur]

    async def add_supply(self, message_id: str, dataset: str, metadata: dict[str, Any]) -> None:
        await self.db.execute("INSERT OR IGNORE INTO supplies (message_id, dataset, received_at, metadata) "
                              "VALUES (?,?,?,?)",
                              (message_id, dataset, time.time(), json.dumps(to_json(metadata))))

    async def add_refusal(self, topic: str, partition: int, offset: int, message_id: str | None,
                          reason_code: str, reason: str) -> None:
        await self.db.execute("INSERT OR IGNORE INTO refused VALUES (?,?,?,?,?,?,?)",
                              (topic, partition, offset, message_id, reason_code, reason, time.time()))

    async def commit(self) -> None:
        await self.db.commit()

    async def count(self, dataset: str | None = None) -> int:
        query = "SELECT COUNT(*) FROM records"
        args: tuple[Any, ...] = ()
        if dataset:
            query, args = query + " WHERE dataset = ?", (dataset,)
        return int(await self.scalar(query, args))

    async def counts_by_dataset(self) -> dict[str, int]:
        async with self.db.execute("SELECT dataset, COUNT(*) FROM records GROUP BY dataset") as cur:
            return {row[0]: row[1] async for row in cur}

    @staticmethod
    def count_from_outside(path: Path) -> int:
        """Records held in a store another process is writing (read-only; 0 until it exists)."""
        if not path.exists():
            return 0
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as conn:
                return int(conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])
        except sqlite3.OperationalError:
            return 0  # store not initialised yet

    async def refusals(self) -> dict[str, int]:
        async with self.db.execute("SELECT reason_code, COUNT(*) FROM refused GROUP BY reason_code") as cur:
            return {row[0]: row[1] async for row in cur}

    async def records(self, dataset: str | None = None) -> AsyncIterator[dict[str, Any]]:
        query = "SELECT message_id, dataset, marking, record FROM records"
        args: tuple[Any, ...] = ()
        if dataset:
            query, args = query + " WHERE dataset = ?", (dataset,)
        async with self.db.execute(query + " ORDER BY rowid", args) as cur:
            async for message_id, ds, marking, record in cur:
                yield {"message_id": message_id, "dataset": ds, "marking": marking, **json.loads(record)}

    # --- retention ---------------------------------------------------------------------------

    async def expired_ids(self, today: dt.date) -> list[str]:
        """Message ids of records whose destroy-by date is before `today`."""
        async with self.db.execute("SELECT message_id FROM records WHERE destroy_by < ? ORDER BY rowid",
                                   (today.isoformat(),)) as cur:
            return [row[0] async for row in cur]

    async def expired_counts(self, today: dt.date) -> dict[str, int]:
        """How many records of each dataset are past their destroy-by date (for the audit)."""
        async with self.db.execute("SELECT dataset, COUNT(*) FROM records WHERE destroy_by < ? GROUP BY dataset"
                                   " ORDER BY dataset", (today.isoformat(),)) as cur:
            return {row[0]: row[1] async for row in cur}

    async def purge_expired(self, today: dt.date) -> int:
        """Delete every record whose destroy-by date is before `today` (a record is kept through
        its destroy-by day), commit, and reclaim the space; returns how many were deleted.

        Commits anything the caller had pending too. With nothing to delete it does no I/O
        beyond the query, so calling it often is cheap and a second call returns 0."""
        async with self.db.execute("DELETE FROM records WHERE destroy_by < ?", (today.isoformat(),)) as cursor:
            deleted = cursor.rowcount
        await self.db.commit()
        if deleted:
            await self.reclaim_space()
        return deleted

    async def purge_dataset(self, dataset: str) -> int:
        """Delete every record of a dataset (a grant that allowed it ended), commit and reclaim."""
        async with self.db.execute("DELETE FROM records WHERE dataset = ?", (dataset,)) as cursor:
            deleted = cursor.rowcount
        await self.db.commit()
        if deleted:
            await self.reclaim_space()
        return deleted

    async def reclaim_space(self) -> None:
        """Rewrite the file without free pages and empty the WAL, so deleted rows are gone from
        both. Commits first, since VACUUM cannot run inside a transaction, and needs no open cursor
        on this connection. Another connection reading at that moment can keep the WAL from being
        truncated (SQLite then finishes it at a later checkpoint)."""
        await self.db.commit()
        await self._checkpoint()
        async with self.db.execute("VACUUM"):
            pass
        # VACUUM in WAL mode writes the new pages to the WAL; fold them in and truncate it.
        await self._checkpoint()

    async def _checkpoint(self) -> None:
        # The pragma returns a row; the cursor must be finished, or VACUUM sees a statement in progress.
        async with self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
            await cur.fetchall()

    async def supplies(self) -> list[dict[str, Any]]:
        async with self.db.execute("SELECT dataset, metadata FROM supplies ORDER BY received_at") as cur:
            return [{"dataset": ds, **json.loads(meta)} async for ds, meta in cur]
