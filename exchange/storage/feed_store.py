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

import base64
import datetime as dt
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from exchange.core.messages import DropRecord, KeepRecord, Stored
from exchange.errors import StoreLocked
from exchange.storage._sqlite import SqliteFile

__all__ = ["FeedStore", "Sealing", "dump_value", "load_value", "to_json"]

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
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
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


@dataclass(frozen=True, slots=True)
class _Held:
    """What a batch knows of the record held under one key, as it applies the batch's changes."""

    message_id: str
    originator: str
    versions: int
    stored: bool  # a row for the key is in the file (an UPDATE or a DELETE, not an INSERT)
    row: tuple[Any, ...] | None = None  # the version to write, if the batch changed it
    deleted: bool = False

    def replaced(self, *, deleted: bool) -> _Held:
        return _Held(self.message_id, self.originator, self.versions, self.stored, None, deleted)


def _record_key(change: KeepRecord) -> str | None:
    key = (change.record.get("handling") or {}).get("record_key")
    return key if isinstance(key, str) else None


class Sealing(Protocol):
    """What seals a store's records at rest (exchange.crypto.at_rest.AtRest)."""

    def seal(self, plaintext: bytes, context: bytes) -> bytes: ...
    def open(self, sealed: bytes, context: bytes) -> bytes: ...
    def check_value(self) -> str: ...


SEALED = "sealed:"  # a sealed value's prefix; a plain one is JSON and starts with "{"


def dump_value(value: Any, context: str, sealing: Sealing | None) -> str:
    """A record or supply as stored: JSON, sealed when the store is (bound to its row's id)."""
    text = json.dumps(to_json(value))
    if sealing is None:
        return text
    return SEALED + base64.b64encode(sealing.seal(text.encode(), context.encode())).decode("ascii")


def load_value(text: str, context: str, sealing: Sealing | None) -> dict[str, Any]:
    if not text.startswith(SEALED):
        value: dict[str, Any] = json.loads(text)
        return value
    if sealing is None:
        raise StoreLocked("this feed store's records are sealed at rest: open it with its signatory's key file "
                          "(--keys)")
    opened: dict[str, Any] = json.loads(sealing.open(base64.b64decode(text[len(SEALED):]), context.encode()))
    return opened


class FeedStore(SqliteFile):
    """`FeedStore(path, sealing=AtRest...)`: records and supplies sealed at rest. Opened without a
    sealing, a sealed store answers counts and refusals but no record (StoreLocked)."""

    SCHEMA = _SCHEMA

    def __init__(self, path: str | Path, *, sealing: Sealing | None = None):
        super().__init__(path)
        self._sealing = sealing

    async def seal_with(self, sealing: Sealing) -> None:
        """From now on, seal records and supplies with `sealing`; a plain store is sealed at once,
        rows and all; a store sealed under another key is refused (StoreLocked)."""
        self._sealing = sealing
        await self._check_sealing()

    async def reseal(self, new: Sealing) -> int:
        """Seal every record and supply again under `new` (after the signatory's keys changed: the
        store opened with the old key file's sealing first); how many values were resealed."""
        if self._sealing is None:
            raise StoreLocked(f"{self.path}: open it with the current key file's sealing before resealing it")
        old = self._sealing
        await self.db.execute("BEGIN IMMEDIATE")
        try:
            changed = 0
            for table, column in (("records", "record"), ("supplies", "metadata")):
                async with self.db.execute(f"SELECT message_id, {column} FROM {table}") as cur:
                    rows = [(dump_value(load_value(text, message_id, old), message_id, new), message_id)
                            async for message_id, text in cur]
                await self.db.executemany(f"UPDATE {table} SET {column} = ? WHERE message_id = ?", rows)
                changed += len(rows)
            await self.db.execute("INSERT OR REPLACE INTO meta VALUES ('sealing', ?)", (new.check_value(),))
            await self.db.execute("COMMIT")
        except BaseException:
            await self.db.execute("ROLLBACK")
            raise
        self._sealing = new
        await self.reclaim_space()  # values under the old key must not linger in free pages or the WAL
        return changed

    def _dump(self, value: Any, context: str) -> str:
        return dump_value(value, context, self._sealing)

    def _load(self, text: str, context: str) -> dict[str, Any]:
        return load_value(text, context, self._sealing)

    async def _check_sealing(self) -> None:
        """The key must be the store's; a plain store given a key is sealed now, rows and all."""
        found = await self.first("SELECT value FROM meta WHERE name = 'sealing'")
        if self._sealing is None:
            return
        check = self._sealing.check_value()
        if found is not None:
            if found[0] != check:
                raise StoreLocked(f"{self.path} is sealed under another key: open it with the key file of the "
                                  "signatory whose feed wrote it")
            return
        await self.db.execute("BEGIN IMMEDIATE")
        try:
            async with self.db.execute("SELECT message_id, record FROM records") as cur:
                records = [(self._dump(json.loads(record), message_id), message_id)
                           async for message_id, record in cur if not record.startswith(SEALED)]
            await self.db.executemany("UPDATE records SET record = ? WHERE message_id = ?", records)
            async with self.db.execute("SELECT message_id, metadata FROM supplies") as cur:
                supplies = [(self._dump(json.loads(metadata), message_id), message_id)
                            async for message_id, metadata in cur if not metadata.startswith(SEALED)]
            await self.db.executemany("UPDATE supplies SET metadata = ? WHERE message_id = ?", supplies)
            await self.db.execute("INSERT INTO meta VALUES ('sealing', ?)", (check,))
            await self.db.execute("COMMIT")
        except BaseException:
            await self.db.execute("ROLLBACK")
            raise
        if records or supplies:
            await self.reclaim_space()  # the plain rows must not linger in free pages or the WAL

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
        await self._check_sealing()

    async def add_record(self, message_id: str, dataset: str, marking: str, record: dict[str, Any]) -> Stored:
        """Store one record (see `apply`). Caller commits."""
        outcome = (await self.apply([KeepRecord(message_id, dataset, marking, record)]))[0]
        assert isinstance(outcome, Stored)
        return outcome

    async def withdraw(self, dataset: str, record_key: str, originator: str) -> int:
        """Delete the record its originator withdrew (see `apply`); how many went. Caller commits."""
        return int((await self.apply([DropRecord(dataset, record_key, originator)]))[0])

    async def apply(self, changes: Sequence[KeepRecord | DropRecord]) -> list[Stored | int]:
        """A consumed batch's changes, in order, with a handful of statements for the whole batch
        (not several per record). A record is stored new, or as the next version of the record
        with its key (replacing it), or not at all when its message is held or retired; a
        withdrawal deletes the originator's record with that key (its outcome: how many went).
        Replaced and deleted message ids are retired. Caller commits."""
        kept = [c for c in changes if isinstance(c, KeepRecord)]
        ids = [c.message_id for c in kept]
        retired = set(await self._column_in("SELECT message_id FROM retired WHERE message_id IN ", ids))
        present = set(await self._column_in("SELECT message_id FROM records WHERE message_id IN ", ids))
        keys = sorted({key for key in map(_record_key, kept) if key is not None} |
                      {c.record_key for c in changes if isinstance(c, DropRecord)})
        held: dict[tuple[str, str], _Held] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            async with self.db.execute("SELECT dataset, record_key, message_id, originator, versions FROM records "
                                       f"WHERE record_key IN ({','.join('?' * len(chunk))})", chunk) as cur:
                async for dataset, key, message_id, originator, versions in cur:
                    held[(dataset, key)] = _Held(message_id, originator, versions, stored=True)
        outcomes: list[Stored | int] = []
        unkeyed: list[tuple[Any, ...]] = []
        to_retire: list[tuple[str, str, str, str, float]] = []
        touched: dict[tuple[str, str], _Held] = {}
        now = time.time()
        for change in changes:
            if isinstance(change, DropRecord):
                slot = (change.dataset, change.record_key)
                current = held.get(slot)
                if current is None or current.deleted or current.originator != change.originator:
                    outcomes.append(0)
                    continue
                to_retire.append((current.message_id, change.dataset, change.record_key, "withdrawn", now))
                retired.add(current.message_id)
                present.discard(current.message_id)
                held[slot] = touched[slot] = current.replaced(deleted=True)
                outcomes.append(1)
                continue
            if change.message_id in retired:
                outcomes.append(Stored.RETIRED)
                continue
            if change.message_id in present:
                outcomes.append(Stored.DUPLICATE)
                continue
            handling = change.record.get("handling") or {}
            row = (change.message_id, change.marking, handling.get("originator", ""),
                   _date_text(handling.get("destroy_by")), now, self._dump(change.record, change.message_id))
            present.add(change.message_id)
            key = _record_key(change)
            if key is None:
                unkeyed.append((*row, change.dataset, None, 1))
                outcomes.append(Stored.NEW)
                continue
            slot = (change.dataset, key)
            current = held.get(slot)
            if current is None or current.deleted:
                held[slot] = touched[slot] = _Held(change.message_id, row[2], 1, current is not None and current.stored,
                                                   row)
                outcomes.append(Stored.NEW)
                continue
            to_retire.append((current.message_id, change.dataset, key, "superseded", now))
            retired.add(current.message_id)
            present.discard(current.message_id)
            held[slot] = touched[slot] = _Held(change.message_id, row[2], current.versions + 1, current.stored, row)
            outcomes.append(Stored.SUPERSEDED)
        await self._write(unkeyed, to_retire, touched)
        return outcomes

    async def _write(self, unkeyed: list[tuple[Any, ...]], to_retire: list[tuple[str, str, str, str, float]],
                     touched: dict[tuple[str, str], _Held]) -> None:
        columns = "message_id, marking, originator, destroy_by, received_at, record, dataset, record_key, versions"
        insert = f"INSERT OR IGNORE INTO records ({columns}) VALUES (?,?,?,?,?,?,?,?,?)"
        deletes = [slot for slot, h in touched.items() if h.deleted and h.stored]
        written = [(slot, h) for slot, h in touched.items() if h.row and not h.deleted]
        updates = [(*h.row, h.versions, *slot) for slot, h in written if h.stored and h.row]
        inserts = [(*h.row, *slot, h.versions) for slot, h in written if not h.stored and h.row]
        if to_retire:
            await self.db.executemany("INSERT OR IGNORE INTO retired VALUES (?,?,?,?,?)", to_retire)
        if deletes:
            await self.db.executemany("DELETE FROM records WHERE dataset = ? AND record_key = ?", deletes)
        if updates:
            await self.db.executemany(
                "UPDATE records SET message_id = ?, marking = ?, originator = ?, destroy_by = ?, received_at = ?, "
                "record = ?, versions = ? WHERE dataset = ? AND record_key = ?", updates)
        if inserts or unkeyed:
            await self.db.executemany(insert, inserts + unkeyed)

    async def _column_in(self, query: str, values: list[str]) -> list[Any]:
        found: list[Any] = []
        for start in range(0, len(values), 500):
            chunk = values[start:start + 500]
            async with self.db.execute(f"{query}({','.join('?' * len(chunk))})", chunk) as cur:
                found += [row[0] async for row in cur]
        return found

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
                              (message_id, dataset, time.time(), self._dump(metadata, message_id)))

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
                yield {"message_id": message_id, "dataset": ds, "marking": marking, **self._load(record, message_id)}

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
        async with self.db.execute("SELECT message_id, dataset, metadata FROM supplies ORDER BY received_at") as cur:
            return [{"dataset": ds, **self._load(meta, message_id)} async for message_id, ds, meta in cur]
