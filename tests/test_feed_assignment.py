"""A feed takes every partition of its topics itself (one process per subscriber, no group join),
resumes from its committed offsets, and picks up a topic created after it started."""

from __future__ import annotations

import asyncio
import time

import pytest

import exchange.services.feed as feed_module
from exchange.core.schemas import catalogue
from exchange.services.feed import FeedService
from exchange.services.sanitiser import SanitiserService
from exchange.services.sanitiser_core import SanitiserCore
from exchange.storage.feed_store import FeedStore
from exchange.testing.partnership import COUNCIL, DATASET, POLICE, police_offence_export
from tests.support.partnership import agent_config_with_outbox

pytestmark = pytest.mark.broker


async def _until(predicate, what: str, tasks, timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        for task in tasks:
            if task.done():
                task.result()  # raises what stopped it
                raise AssertionError("a service stopped")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


def test_a_feed_started_before_its_topics_exist_and_restarted(kafka, demo_files, party_keys, partnership, gazetteer,
                                                              tmp_path, monkeypatch):
    from agents.agent import submit

    monkeypatch.setattr(feed_module, "ASSIGNMENT_EVERY", 0.5)
    config = agent_config_with_outbox(demo_files, tmp_path / "outbox.db")
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    police_offence_export(gazetteer, first, rows=12, bad_rows=0, seed=81)
    police_offence_export(gazetteer, second, rows=8, bad_rows=0, seed=82)
    args = dict(partnership=partnership, dataset=catalogue()[DATASET], keys=party_keys[POLICE], settings=kafka)

    async def scenario():
        async with FeedStore(tmp_path / "council.db") as store:
            stop_feed = asyncio.Event()
            feed = asyncio.create_task(FeedService(partnership, catalogue(), party_keys[COUNCIL], COUNCIL, kafka,
                                                   store).run(stop_feed))
            await asyncio.sleep(1.0)  # the feed is up; no topic exists yet
            stop_sanitiser = asyncio.Event()
            sanitiser = asyncio.create_task(SanitiserService(
                SanitiserCore(partnership, catalogue(), party_keys["sanitiser"], gazetteer), kafka).run(stop_sanitiser))
            await submit(config, first, **args)
            await _until(lambda: _held(store, 12), "the first supply at a feed started before its topics",
                         [feed, sanitiser])
            stop_feed.set()
            await feed
            await submit(config, second, **args)  # while the feed is down
            restarted = time.monotonic()
            stop_feed = asyncio.Event()
            feed = asyncio.create_task(FeedService(partnership, catalogue(), party_keys[COUNCIL], COUNCIL, kafka,
                                                   store).run(stop_feed))
            await _until(lambda: _held(store, 20), "the second supply after the feed's restart", [feed, sanitiser])
            caught_up = time.monotonic() - restarted
            stop_feed.set()
            stop_sanitiser.set()
            await asyncio.gather(feed, sanitiser)
            return await store.count(DATASET), caught_up

    held, caught_up = asyncio.run(scenario())
    assert held == 20
    print(f"restarted feed caught up in {caught_up:.1f} s")  # a figure, not a gate


async def _held(store: FeedStore, count: int) -> bool:
    return await store.count(DATASET) >= count
