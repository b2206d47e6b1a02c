"""The one way the exchange opens its SQLite files (outbox, feed store, sanitiser state, audit,
registry): WAL with synchronous=FULL, so a commit survives a crash or kill -9, and the file's
schema created on first use."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

import aiosqlite

from exchange.storage._files import make_private


class SqliteFile:
    """Base class: `async with Subclass(path) as f: f.db ...`. Subclasses set SCHEMA."""

    SCHEMA: ClassVar[str] = ""
    # None: explicit transactions (BEGIN IMMEDIATE ... COMMIT); "" (the default) lets sqlite3 open them.
    ISOLATION_LEVEL: ClassVar[str | None] = ""

    IN_MEMORY: ClassVar[str] = ":memory:"

    def __init__(self, path: str | Path):
        self.in_memory = str(path) == self.IN_MEMORY  # SQLite's own name for a database with no file
        self.path = Path(path)
        self._db: aiosqlite.Connection | None = None

    async def __aenter__(self) -> Self:
        if not self.in_memory:
            make_private(self.path)  # SQLite gives its -wal and -shm files the database file's mode
        target = self.IN_MEMORY if self.in_memory else self.path
        self._db = await aiosqlite.connect(target, isolation_level=self.ISOLATION_LEVEL, timeout=30)
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
        await self.db.executescript(f"BEGIN;{self.SCHEMA}COMMIT;")

    async def __aexit__(self, *exc: object) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        assert self._db is not None, f"use `async with {type(self).__name__}(path)`"
        return self._db

    async def row(self, query: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...]:
        """The one row a query must return (an aggregate, say)."""
        async with self.db.execute(query, args) as cur:
            found = await cur.fetchone()
        if found is None:
            raise LookupError(f"{self.path}: no row for {query.split(' FROM ')[0]}")
        return tuple(found)

    async def scalar(self, query: str, args: tuple[Any, ...] = ()) -> Any:
        return (await self.row(query, args))[0]

    async def first(self, query: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        """The first row a query returns, or None when it returns none."""
        async with self.db.execute(query, args) as cur:
            found = await cur.fetchone()
        return None if found is None else tuple(found)
