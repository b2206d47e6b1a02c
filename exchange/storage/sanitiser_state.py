"""What the sanitiser has already processed: input message id -> hash of the bytes received.

Used to tell a redelivery (the same bytes again, after a crash or an agent's resend: skipped,
its outputs were acknowledged before it was remembered) from a replay (the same id on different
bytes: refused). Ids are remembered only after everything the message produced is acknowledged.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from exchange.storage._sqlite import SqliteFile

__all__ = ["SanitiserState"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS processed (
    message_id TEXT PRIMARY KEY,
    content_sha256 TEXT NOT NULL,
    processed_at REAL NOT NULL
);
"""


class SanitiserState(SqliteFile):
    SCHEMA = _SCHEMA

    async def content_hash(self, message_id: str) -> str | None:
        async with self.db.execute("SELECT content_sha256 FROM processed WHERE message_id = ?", (message_id,)) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def remember(self, items: Iterable[tuple[str, str]]) -> None:
        now = time.time()
        await self.db.executemany("INSERT OR IGNORE INTO processed VALUES (?,?,?)", [(m, h, now) for m, h in items])
        await self.db.commit()
