"""A feed store is sealed at rest: a copy of the file reads as nothing without the signatory's
key file (issue 13, protection at the recipient)."""

from __future__ import annotations

import asyncio

import pytest

from exchange.core.messages import KeepRecord
from exchange.crypto.at_rest import AtRest
from exchange.crypto.keys import KeyPair
from exchange.errors import StoreLocked
from exchange.storage.feed_store import FeedStore

SECRET = "Burglary at the Red Lion, suspect in a blue Transit"


def _record(key: str) -> dict:
    return {"description": SECRET, "handling": {"record_key": key, "originator": "police", "destroy_by": None}}


def _file_bytes(path) -> bytes:
    found = b""
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            found += part.read_bytes()
    return found


@pytest.fixture(scope="module")
def council_keys() -> KeyPair:
    return KeyPair.generate("council")


def test_records_and_supplies_are_sealed_and_open_only_with_the_key(tmp_path, council_keys):
    path = tmp_path / "feed.db"
    sealing = AtRest.for_keys(council_keys, "feed store")

    async def scenario():
        async with FeedStore(path, sealing=sealing) as store:
            await store.apply([KeepRecord("m1", "d", "OFFICIAL", _record("PS-1"))])
            await store.add_supply("s1", "d", {"supplier_contact": SECRET})
            await store.commit()
            mine = [r["description"] async for r in store.records()]
        async with FeedStore(path) as without_key:
            assert await without_key.count() == 1  # counts need no key
            with pytest.raises(StoreLocked, match="--keys"):
                [r async for r in without_key.records()]
            with pytest.raises(StoreLocked):
                await without_key.supplies()
        with pytest.raises(StoreLocked, match="another key"):
            async with FeedStore(path, sealing=AtRest.for_keys(KeyPair.generate("other"), "feed store")):
                pass
        return mine

    assert asyncio.run(scenario()) == [SECRET]
    assert SECRET.encode() not in _file_bytes(path)


def test_a_plain_store_is_sealed_in_place_when_its_feed_starts_with_a_key(tmp_path, council_keys):
    path = tmp_path / "old.db"

    async def scenario():
        async with FeedStore(path) as plain:
            await plain.apply([KeepRecord("m1", "d", "OFFICIAL", _record("PS-1"))])
            await plain.commit()
        assert SECRET.encode() in _file_bytes(path)
        async with FeedStore(path) as store:
            await store.seal_with(AtRest.for_keys(council_keys, "feed store"))
            return [r["description"] async for r in store.records()]

    assert asyncio.run(scenario()) == [SECRET]
    assert SECRET.encode() not in _file_bytes(path), "the plain rows are gone from the file and its WAL"


def test_a_sealed_value_does_not_open_in_another_row(council_keys):
    sealing = AtRest.for_keys(council_keys, "feed store")
    sealed = sealing.seal(b"{}", b"m1")
    assert sealing.open(sealed, b"m1") == b"{}"
    with pytest.raises(StoreLocked):
        sealing.open(sealed, b"m2")
    assert "key" not in repr(sealing).replace("<key hidden>", "")
