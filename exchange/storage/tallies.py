"""The sanitiser's aggregate counts (SQLite via aiosqlite): one row per released record of a
depersonalised dataset, by its record key (a keyed token), holding only where it counts (month,
postcode sector, category) and the marking it was released under. A correction replaces its row,
a withdrawal deletes it; tables are computed from the rows (exchange.core.aggregates).

Written before the sanitiser's ledger commits the batch; every write is an idempotent upsert or
delete, so a batch replayed after a crash leaves the same rows.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterable

from exchange.core.aggregates import Tally, month_of
from exchange.storage._sqlite import SqliteFile

__all__ = ["TallyStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contributions (
    dataset TEXT NOT NULL,
    record_key TEXT NOT NULL,
    month TEXT NOT NULL,
    area TEXT NOT NULL,
    category TEXT NOT NULL,
    marking TEXT NOT NULL,
    PRIMARY KEY (dataset, record_key)
);
CREATE INDEX IF NOT EXISTS contributions_month ON contributions(dataset, month);
CREATE TABLE IF NOT EXISTS published (
    dataset TEXT NOT NULL,
    month TEXT NOT NULL,
    digest TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (dataset, month)
);
"""


class TallyStore(SqliteFile):
    SCHEMA = _SCHEMA

    async def apply(self, tallies: Iterable[Tally]) -> None:
        """Record what a batch released and withdrew, in one transaction."""
        tallies = list(tallies)
        if not tallies:
            return
        for tally in tallies:
            if tally.contribution is None:
                await self.db.execute("DELETE FROM contributions WHERE dataset = ? AND record_key = ?",
                                      (tally.dataset, tally.record_key))
            else:
                c = tally.contribution
                await self.db.execute(
                    "INSERT INTO contributions VALUES (?,?,?,?,?,?) ON CONFLICT(dataset, record_key) DO UPDATE SET "
                    "month = excluded.month, area = excluded.area, category = excluded.category, "
                    "marking = excluded.marking", (tally.dataset, tally.record_key, c.month, c.area, c.category,
                                                   tally.marking))
        await self.db.commit()

    async def months(self) -> list[tuple[str, str]]:
        """(dataset, month) pairs that hold any count."""
        async with self.db.execute("SELECT DISTINCT dataset, month FROM contributions ORDER BY dataset, month") as cur:
            return [(row[0], row[1]) async for row in cur]

    async def counts(self, dataset: str, month: str) -> Counter[tuple[str, str]]:
        async with self.db.execute("SELECT area, category, COUNT(*) FROM contributions WHERE dataset = ? AND month = ?"
                                   " GROUP BY area, category", (dataset, month)) as cur:
            return Counter({(row[0], row[1]): row[2] async for row in cur})

    async def markings(self, dataset: str, months: Iterable[str]) -> set[str]:
        months = list(months)
        async with self.db.execute(f"SELECT DISTINCT marking FROM contributions WHERE dataset = ? AND month IN "
                                   f"({','.join('?' * len(months))})", (dataset, *months)) as cur:
            return {row[0] async for row in cur}

    async def published_digest(self, dataset: str, month: str) -> str | None:
        found = await self.first("SELECT digest FROM published WHERE dataset = ? AND month = ?", (dataset, month))
        return str(found[0]) if found else None

    async def mark_published(self, dataset: str, month: str, digest: str) -> None:
        await self.db.execute("INSERT INTO published VALUES (?,?,?,?) ON CONFLICT(dataset, month) DO UPDATE SET "
                              "digest = excluded.digest, at = excluded.at", (dataset, month, digest, time.time()))
        await self.db.commit()

    async def forget_before(self, today: dt.date, months_kept: int = 25) -> int:
        """Drop counts older than `months_kept` months (enough to compare a year with the one
        before); returns how many went."""
        year, month = today.year, today.month - months_kept
        while month < 1:
            year, month = year - 1, month + 12
        oldest = month_of(dt.date(year, month, 1))
        async with self.db.execute("DELETE FROM contributions WHERE month < ?", (oldest,)) as cursor:
            gone = cursor.rowcount
        await self.db.commit()
        return gone
