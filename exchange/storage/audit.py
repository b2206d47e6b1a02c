"""The audit trail: an append-only, hash-chained record of what the exchange received, released,
refused, withheld, delivered and destroyed, kept in SQLite (aiosqlite).

It answers "have we recorded that we shared this information, with whom, and when" without
holding the information itself. **The audit holds no personal data**: an event carries ids
(message ids, dataset ids, signatory ids), hashes, counts, protective markings and reason codes
only. `content_sha256` is the hash of the still-encrypted bytes of a message, so a record can be
matched to its audit entry without the audit revealing anything about its content. `detail` is
for operator text such as the reason a message was refused; callers must keep it free of record
content (no names, addresses, free text from a record). It is cut at `DETAIL_LIMIT` characters.

Tamper evidence. Each event row holds `prev_hash` and `hash`, where

    hash = sha256(prev_hash || canonical JSON of {seq, at, kind, dataset, message_id, producer,
                  recipients, marking, reason_code, count, content_sha256, detail})

in lower-case hex (canonical JSON: keys sorted, no spaces, UTF-8; `||` joins the hex text of
prev_hash and the JSON bytes), and the first event's prev_hash is 64 zeros. `verify()` recomputes
the chain, so a changed event (its hash no longer matches), a deleted one (a gap in seq, and the
next event's prev_hash no longer matches), and reordered or inserted events (the chain breaks)
are each reported with the seq where it happens.

A chain alone cannot show that its *tail* was cut off: the shortened log is still a valid chain.
So a one-row `head` table holds the latest seq and hash, updated in the same transaction as each
append, and `verify()` reports when the head does not match the last event. **Limit:** someone
who can rewrite the whole file, events and head alike, can forge a consistent log; the chain and
the head make tampering evident, not impossible. The mitigation is to anchor the head outside
this file, where that person cannot reach: print `exchange audit head` daily into a paper log or
another system, and compare it with `verify` later (the seq and hash of an anchored head must
still be in the chain).

Writes use WAL and synchronous=FULL: an event is on disk when `append` returns.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import aiosqlite

__all__ = ["DETAIL_LIMIT", "GENESIS", "KINDS", "AuditEvent", "AuditLog", "VerifyReport", "chain_hash", "content_hash"]

from exchange.core.audit_events import DETAIL_LIMIT, KINDS, AuditEvent, content_hash
from exchange.errors import AuditError
from exchange.storage._sqlite import SqliteFile

GENESIS = "0" * 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    dataset TEXT,
    message_id TEXT,
    producer TEXT,
    recipients TEXT NOT NULL,
    marking TEXT,
    reason_code TEXT,
    count INTEGER NOT NULL,
    content_sha256 TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_dataset ON events(dataset);
CREATE INDEX IF NOT EXISTS events_message_id ON events(message_id);
CREATE INDEX IF NOT EXISTS events_at ON events(at);
CREATE TABLE IF NOT EXISTS head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
-- The sanitiser's processed inputs (producer/message id -> hash of the bytes received), written in
-- the same transaction as their audit events: a release is remembered exactly when it is audited.
CREATE TABLE IF NOT EXISTS processed (
    message_id TEXT PRIMARY KEY,
    content_sha256 TEXT NOT NULL,
    processed_at REAL NOT NULL
);
"""

_EVENT_COLUMNS = ("kind", "dataset", "message_id", "producer", "recipients", "marking", "reason_code",
                  "count", "content_sha256", "detail")
_COLUMNS = ("seq", "at") + _EVENT_COLUMNS + ("prev_hash", "hash")


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The result of `AuditLog.verify()`: `problems` each start with the seq they concern."""

    ok: bool
    events: int
    problems: tuple[str, ...] = ()


def _utc_text(at: dt.datetime) -> str:
    """ISO-8601 in UTC with microseconds and +00:00: fixed width, so text order is time order."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _since_text(since: dt.datetime | dt.date | str) -> str:
    if isinstance(since, str):
        try:
            since = dt.datetime.fromisoformat(since)
        except ValueError as exc:
            raise AuditError(f"--since {since!r}: expected YYYY-MM-DD or an ISO-8601 time") from exc
    if isinstance(since, dt.date) and not isinstance(since, dt.datetime):
        since = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    return _utc_text(since)


def _span(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first}-{last}"


def _recipients_json(recipients: Iterable[str]) -> str:
    return json.dumps(list(recipients), separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, seq: Any, at: Any, values: dict[str, Any]) -> str:
    """The hash of one event given the previous hash; `values` maps each event field to its
    value (recipients as a list). Public so that anyone can re-check a log without this class."""
    body = {"seq": seq, "at": at, **values}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(prev_hash.encode("utf-8") + canonical.encode("utf-8")).hexdigest()


def _event_values(event: AuditEvent) -> dict[str, Any]:
    values = {f.name: getattr(event, f.name) for f in fields(AuditEvent)}
    values["recipients"] = list(event.recipients)
    return values


class AuditLog(SqliteFile):
    """`async with AuditLog(path) as audit: seq = await audit.append(AuditEvent("release", ...))`.

    With `create=False` the file must already be an audit log (the CLI's read-only commands use
    this so that a wrong path is an error rather than a new, empty log)."""

    SCHEMA = _SCHEMA
    ISOLATION_LEVEL = None  # transactions are explicit (BEGIN IMMEDIATE ... COMMIT)

    def __init__(self, path: str | Path, *, create: bool = True):
        super().__init__(path)
        self.create = create
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> AuditLog:
        if not self.create and not self.path.is_file():
            raise AuditError(f"{self.path}: no such audit log")
        return await super().__aenter__()

    async def prepare(self) -> None:
        if self.create:
            await super().prepare()
            return
        tables = await self.scalar("SELECT COUNT(*) FROM sqlite_master "
                                   "WHERE type='table' AND name IN ('events','head')")
        if tables != 2:
            raise AuditError(f"{self.path}: not an audit log (no events and head tables)")

    # --- writing ---------------------------------------------------------------------------

    async def append(self, event: AuditEvent, at: dt.datetime | None = None) -> int:
        """Append one event (time `at`, default now; a naive time is taken as UTC); its seq."""
        return (await self.append_many([event], at=at))[0]

    async def content_hashes(self, keys: Iterable[str]) -> dict[str, str]:
        """The hash of the bytes processed under each key (the sanitiser's producer/message id) that
        has one, in one query per 500 keys (a whole consumed batch at once)."""
        keys, found = list(dict.fromkeys(keys)), {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            async with self.db.execute(f"SELECT message_id, content_sha256 FROM processed WHERE message_id IN "
                                       f"({','.join('?' * len(chunk))})", chunk) as cur:
                found.update({str(row[0]): str(row[1]) async for row in cur})
        return found

    async def append_many(self, events: Iterable[AuditEvent], at: dt.datetime | None = None, *,
                          processed: Iterable[tuple[str, str]] = ()) -> list[int]:
        """Append events in one transaction (all or none), all stamped `at` (default now), with the
        inputs they record as processed (key, content hash): both are written, or neither."""
        events = list(events)
        processed = list(processed)
        for event in events:
            if not isinstance(event, AuditEvent):
                raise TypeError(f"expected AuditEvent, got {type(event).__name__}")
        if not events and not processed:
            return []
        at_text = _utc_text(at or dt.datetime.now(dt.UTC))
        async with self._lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                await self.db.executemany("INSERT OR IGNORE INTO processed VALUES (?,?,?)",
                                          [(key, digest, time.time()) for key, digest in processed])
                seq, prev_hash = await self._chain_tip()
                first_seq, rows = seq + 1, []
                for event in events:  # the chain is computed here, and written in one statement
                    seq += 1
                    values = _event_values(event)
                    digest = chain_hash(prev_hash, seq, at_text, values)
                    rows.append((seq, at_text, *(values[c] if c != "recipients" else _recipients_json(event.recipients)
                                                 for c in _EVENT_COLUMNS), prev_hash, digest))
                    prev_hash = digest
                try:
                    await self.db.executemany(
                        f"INSERT INTO events ({','.join(_COLUMNS)}) VALUES ({','.join('?' * len(_COLUMNS))})", rows)
                except aiosqlite.IntegrityError as exc:
                    raise AuditError(
                        f"{self.path}: the head says the log ends at seq {first_seq - 1} but a later seq exists; "
                        "the log has been altered (run `exchange audit verify`)") from exc
                seqs = list(range(first_seq, seq + 1))
                await self.db.execute("INSERT INTO head (id, seq, hash) VALUES (1, ?, ?) "
                                      "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                                      (seq, prev_hash))
                await self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:
                    await self.db.execute("ROLLBACK")
                raise
        return seqs

    async def _chain_tip(self) -> tuple[int, str]:
        """Where the next event chains from: the head; if the head row is missing, the last event.

        Chaining from the head (not the last row) means a cut-off tail stays visible: the next
        event's seq leaves a gap that `verify` reports."""
        async with self.db.execute("SELECT seq, hash FROM head WHERE id = 1") as cur:
            row = await cur.fetchone()
        if row is None:
            async with self.db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1") as cur:
                row = await cur.fetchone()
        if row is None:
            return 0, GENESIS
        if not isinstance(row[0], int) or not isinstance(row[1], str):
            raise AuditError(f"{self.path}: the head is unreadable; the log has been altered "
                             "(run `exchange audit verify`)")
        return row[0], row[1]

    # --- reading ---------------------------------------------------------------------------

    async def head(self) -> tuple[int, str]:
        """(seq, hash) of the latest event as recorded in the head table; (0, 64 zeros) if empty.
        Print it somewhere this file's writers cannot reach to anchor the log."""
        async with self.db.execute("SELECT seq, hash FROM head WHERE id = 1") as cur:
            row = await cur.fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS)

    async def verify(self, *, max_problems: int = 1000) -> VerifyReport:
        """Recompute the hash chain and compare the head with the last event.

        Reports, by seq: an event whose contents no longer match its hash (changed), a gap in
        seq (deleted), a prev_hash that is not the previous event's hash (deleted, inserted or
        reordered), and a head that does not match the last event (tail cut off, or head
        altered). See the module docstring for what a chain cannot show."""
        problems: list[str] = []
        expected_seq, prev_hash, events, last = 1, GENESIS, 0, None

        async with self.db.execute(f"SELECT {','.join(_COLUMNS)} FROM events ORDER BY seq") as cur:
            async for row in cur:
                events += 1
                record = dict(zip(_COLUMNS, row, strict=True))
                seq = record["seq"]
                if seq < expected_seq:  # seq is the rowid: an int, ascending here, so only at the start
                    problems.append(f"seq {seq}: not a valid seq, the log starts at 1 (inserted)")
                elif seq > expected_seq:
                    problems.append(f"seq {seq}: {_span(expected_seq, seq - 1)} missing before it (deleted)")
                # After a gap the broken link says nothing more; otherwise check it.
                problems.extend(self._check_row(record, prev_hash, check_link=seq <= expected_seq))
                prev_hash = record["hash"]
                last = (seq, record["hash"])
                expected_seq = seq + 1

        head = await self._head_row()
        if head is None:
            if last is not None:
                problems.append(f"head: missing, though the log has events up to seq {last[0]} (head deleted)")
        elif not isinstance(head[0], int) or not isinstance(head[1], str):
            problems.append("head: unreadable (changed)")
        elif last is None:
            problems.append(f"head: names seq {head[0]} but the log holds no events (all events deleted)")
        elif head[0] != last[0]:
            if head[0] > last[0]:
                problems.append(f"head: names seq {head[0]} but the log ends at seq {last[0]} "
                                f"({_span(last[0] + 1, head[0])} cut off the tail)")
            else:
                problems.append(f"head: names seq {head[0]} but the log goes on to seq {last[0]} "
                                "(events added without the head, or head rolled back)")
        elif head[1] != last[1]:
            problems.append(f"head: hash does not match the hash of the last event, seq {last[0]}")

        if len(problems) > max_problems:
            problems = problems[:max_problems] + [f"... and {len(problems) - max_problems} more problem(s)"]
        return VerifyReport(ok=not problems, events=events, problems=tuple(problems))

    @staticmethod
    def _check_row(record: dict[str, Any], prev_hash: str, *, check_link: bool = True) -> list[str]:
        seq = record["seq"]
        problems = []
        try:
            recipients = json.loads(record["recipients"])
            if not isinstance(recipients, list):
                raise ValueError("not a list")
            values = {c: record[c] for c in _EVENT_COLUMNS}
            values["recipients"] = recipients
            if record["recipients"] != _recipients_json(recipients):
                problems.append(f"seq {seq}: recipients changed (not as written)")
            elif chain_hash(record["prev_hash"], seq, record["at"], values) != record["hash"]:
                problems.append(f"seq {seq}: contents changed (hash does not match)")
        except (TypeError, ValueError):
            problems.append(f"seq {seq}: unreadable (changed)")
        if check_link and record["prev_hash"] != prev_hash:
            before = "the start of the log" if seq == 1 else "the previous event"
            problems.append(f"seq {seq}: prev_hash does not match the hash of {before} "
                            "(event deleted, inserted or reordered, or its predecessor changed)")
        return problems

    async def _head_row(self) -> tuple[Any, Any] | None:
        async with self.db.execute("SELECT seq, hash FROM head WHERE id = 1") as cur:
            found = await cur.fetchone()
        return (found[0], found[1]) if found is not None else None

    async def query(self, dataset: str | None = None, since: dt.datetime | dt.date | str | None = None,
                    kind: str | None = None, message_id: str | None = None, *,
                    recipient: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Events matching every given filter, oldest first, as dicts (recipients a list).
        `since` is a datetime (naive = UTC), a date (from its start, UTC) or ISO-8601 text."""
        if kind is not None and kind not in KINDS:
            raise AuditError(f"unknown event kind {kind!r}; one of {', '.join(sorted(KINDS))}")
        filters = [("dataset = ?", dataset), ("kind = ?", kind), ("message_id = ?", message_id),
                   ("at >= ?", None if since is None else _since_text(since)),
                   ("EXISTS (SELECT 1 FROM json_each(events.recipients) WHERE value = ?)", recipient)]
        where = [clause for clause, value in filters if value is not None]
        args = [value for _, value in filters if value is not None]
        sql = f"SELECT {','.join(_COLUMNS)} FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        async with self.db.execute(sql, args) as cur:
            rows = [dict(zip(_COLUMNS, row, strict=True)) async for row in cur]
        for row in rows:
            try:
                row["recipients"] = json.loads(row["recipients"])
            except (TypeError, ValueError):
                pass  # shown as stored; `verify` reports it
        return rows
