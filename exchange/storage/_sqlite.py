"""The one way the exchange opens its SQLite files (outbox, feed store, sanitiser state, audit,
registry): WAL with synchronous=FULL, so a commit survives a crash or kill -9, and the file's
schema created on first use."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import aiosqlite


class SqliteFile:
    """Base class: `async with Subclass(path) as f: f.db ...`. Subclasses set SCHEMA."""

    SCHEMA: ClassVar[str] = ""
    # None: explicit transactions (BEGIN IMMEDIATE ... COMMIT); "" (the default) lets sqlite3 open them.
    ISOLATION_LEVEL: ClassVar[str | None] = ""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._db: aiosqlite.Connection | None = None

    async def __aenter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path, isolation_level=self.ISOLATION_LEVEL, timeout=30)
        try:
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA synchronous=FULL")
            await self.prepare()
        except BaseException:
            await self._db.close()
            self._db = None
            raise
        return self

    async def prepare(self) -> None:
        """Create the schema; override to check an existing file instead."""
        await self._db.executescript(f"BEGIN;{self.SCHEMA}COMMIT;")

    async def __aexit__(self, *exc) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        assert self._db is not None, f"use `async with {type(self).__name__}(path)`"
        return self._db
