"""What the sanitiser has already processed: input message id -> hash of the bytes received.

Used to tell a redelivery (the same bytes again, after a crash or an agent's resend: skipped,
its outputs were acknowledged before it was remembered) from a replay (the same id on different
bytes: refused). Ids are remembered only after everything the message produced is acknowledged.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterable

import aiosqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS processed (
    message_id TEXT PRIMARY KEY,
    content_sha256 TEXT NOT NULL,
    processed_at REAL NOT NULL
);
"""


class SanitiserState:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._db: aiosqlite.Connection | None = None

    async def __aenter__(self) -> "SanitiserState":
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

    async def content_hash(self, message_id: str) -> str | None:
        assert self._db is not None
        async with self._db.execute("SELECT content_sha256 FROM processed WHERE message_id = ?", (message_id,)) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def remember(self, items: Iterable[tuple[str, str]]) -> None:
        assert self._db is not None
        now = time.time()
        await self._db.executemany("INSERT OR IGNORE INTO processed VALUES (?,?,?)", [(m, h, now) for m, h in items])
        await self._db.commit()
