"""Retention in the feed store: records past their destroy-by date are deleted and the space
reclaimed, so destroyed records linger neither in free pages nor in the write-ahead log."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3

from exchange.core.messages import Stored
from exchange.storage.feed_store import FeedStore

TODAY = dt.date(2025, 6, 1)


def record(destroy_by: dt.date | None, ref: str, padding: int = 0) -> dict:
    handling = {"originator": "northshire_police", "marking": "OFFICIAL", "permitted_purpose": "crime reduction",
                "onward_sharing": "no onward sharing without the consent of the originator"}
    if destroy_by is not None:
        handling["destroy_by"] = destroy_by
    return {"crime_reference": f"PS-{ref}", "notes": "x" * padding, "handling": handling}


async def fill(store: FeedStore, specs) -> None:
    for message_id, destroy_by, padding in specs:
        await store.add_record(message_id, "police_crime_offence", "OFFICIAL", record(destroy_by, message_id, padding))
    await store.commit()


def test_purge_removes_only_expired_records(tmp_path):
    async def scenario():
        async with FeedStore(tmp_path / "feed.db") as store:
            await fill(store, [
                ("past-1", TODAY - dt.timedelta(days=30), 0),
                ("past-2", TODAY - dt.timedelta(days=1), 0),
                ("today", TODAY, 0),  # kept through its destroy-by day
                ("future", TODAY + dt.timedelta(days=365), 0),
                ("no-date", None, 0),
            ])
            await store.add_record("asb-old", "council_asb", "OFFICIAL", record(dt.date(2020, 1, 1), "asb-old"))
            await store.commit()
            counts = await store.expired_counts(TODAY)
            ids = await store.expired_ids(TODAY)
            purged = await store.purge_expired(TODAY)
            left = sorted([r["message_id"] async for r in store.records()])
            return counts, ids, purged, left, await store.count()

    counts, ids, purged, left, count = asyncio.run(scenario())
    assert counts == {"council_asb": 1, "police_crime_offence": 2}
    assert ids == ["past-1", "past-2", "asb-old"]
    assert purged == 3 and count == 2 + 1
    assert left == ["future", "no-date", "today"]


def test_purge_is_idempotent_and_keeps_the_store_usable(tmp_path):
    async def scenario():
        async with FeedStore(tmp_path / "feed.db") as store:
            await fill(store, [("a", TODAY - dt.timedelta(days=2), 0), ("b", TODAY + dt.timedelta(days=2), 0)])
            first = await store.purge_expired(TODAY)
            second = await store.purge_expired(TODAY)
            # Still usable afterwards: new records go in, a re-delivered purged id is stored again
            # only if it arrives again (it is not remembered), a held id is still ignored.
            assert await store.add_record("c", "council_asb", "OFFICIAL", record(TODAY, "c")) == Stored.NEW
            held_again = await store.add_record("b", "police_crime_offence", "OFFICIAL", record(TODAY, "b"))
            assert held_again == Stored.DUPLICATE
            await store.commit()
            later = await store.purge_expired(TODAY + dt.timedelta(days=3))
            return first, second, later, await store.count()

    assert asyncio.run(scenario()) == (1, 0, 2, 0)


def test_purge_shrinks_the_file_and_empties_the_wal(tmp_path):
    path = tmp_path / "feed.db"

    async def scenario():
        async with FeedStore(path) as store:
            old = [(f"old-{i}", TODAY - dt.timedelta(days=1 + i % 50), 2000) for i in range(1500)]
            new = [(f"new-{i}", TODAY + dt.timedelta(days=10), 2000) for i in range(20)]
            await fill(store, old + new)
            async with store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
                await cur.fetchall()
            size_before = os.path.getsize(path)
            purged = await store.purge_expired(TODAY)
            return size_before, purged, await store.count()

    size_before, purged, count = asyncio.run(scenario())
    wal = path.with_name(path.name + "-wal")
    assert purged == 1500 and count == 20
    size_after = os.path.getsize(path)
    assert size_after < size_before / 10, (size_before, size_after)
    assert not wal.exists() or os.path.getsize(wal) == 0
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA freelist_count").fetchone()[0] == 0
        assert con.execute("SELECT COUNT(*) FROM records WHERE message_id LIKE 'old-%'").fetchone()[0] == 0
    con.close()
    # The destroyed content is not left behind in the file's bytes either.
    content = path.read_bytes()
    assert b"PS-new-1" in content and b"PS-old-" not in content


def test_destroy_by_given_as_text_is_stored_as_a_date(tmp_path):
    async def scenario():
        async with FeedStore(tmp_path / "feed.db") as store:
            rec = record(None, "t")
            rec["handling"]["destroy_by"] = "2025-05-31"
            await store.add_record("t", "council_asb", "OFFICIAL", rec)
            await store.commit()
            return await store.purge_expired(TODAY)

    assert asyncio.run(scenario()) == 1
