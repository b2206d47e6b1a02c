"""A feed store applies a consumed batch of records and withdrawals with a handful of statements;
whatever the batching, the outcome must be what applying them one by one gives (the in-memory
store of tests/support is the reference)."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.core.messages import DropRecord, KeepRecord
from exchange.storage.feed_store import FeedStore
from tests.support.fakes import MemoryFeedStore

_KEYS = ["PS-A", "PS-B", "PS-C"]
_ORIGINATORS = ["police", "council"]


def _record(key: str, originator: str, version: int) -> dict:
    return {"value": version, "handling": {"record_key": key, "originator": originator, "destroy_by": None}}


@st.composite
def _changes(draw):
    changes = []
    for step in range(draw(st.integers(1, 25))):
        key, originator = draw(st.sampled_from(_KEYS)), draw(st.sampled_from(_ORIGINATORS))
        if draw(st.booleans()):
            changes.append(DropRecord("d", key, originator))
        else:
            # Message ids from a small pool, so redeliveries and late old versions occur too.
            message_id = f"m-{key}-{originator}-{draw(st.integers(0, 3))}"
            changes.append(KeepRecord(message_id, "d", "OFFICIAL", _record(key, originator, step)))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(changes) - 1)), max_size=4)))
    return changes, cuts


def _batches(changes, cuts):
    bounds = [0, *cuts, len(changes)]
    return [changes[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if changes[a:b]]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_changes())
def test_batched_changes_give_what_one_by_one_gives(case):
    changes, cuts = case

    async def scenario():
        reference = MemoryFeedStore()
        expected = []
        for change in changes:
            expected += await reference.apply([change])
            await reference.commit()
        async with FeedStore(":memory:") as store:
            got = []
            for batch in _batches(changes, cuts):
                got += await store.apply(batch)
                await store.commit()
            held = {r["message_id"]: r["value"] async for r in store.records()}
        return expected, got, {m: row[2]["value"] for m, row in reference.records.items()}, held

    expected, got, reference_held, held = asyncio.run(scenario())
    assert [str(o) for o in got] == [str(o) for o in expected]
    assert held == reference_held


def test_versions_count_across_batches():
    async def scenario():
        async with FeedStore(":memory:") as store:
            await store.apply([KeepRecord("a", "d", "OFFICIAL", _record("PS-A", "p", 1)),
                               KeepRecord("b", "d", "OFFICIAL", _record("PS-A", "p", 2))])
            await store.commit()
            await store.apply([KeepRecord("c", "d", "OFFICIAL", _record("PS-A", "p", 3))])
            await store.commit()
            return await store.versions("d", "PS-A"), await store.count()

    assert asyncio.run(scenario()) == (3, 1)
