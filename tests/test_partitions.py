"""Topics with several partitions, two sanitisers in one consumer group or each with a fixed share
of the partitions (--member), on the embedded broker.

Every message is keyed by its record's token (the agent's keyed token of the natural key on raw
topics, handling.record_key on shared ones), so the versions of one record stay on one partition
in order: a correction still supersedes, wherever the work was done."""

from __future__ import annotations

import asyncio
import csv
import time
from pathlib import Path

import pytest

from exchange.core.names import raw_topic, shared_topic
from exchange.core.schemas import catalogue
from exchange.services.feed import FeedService
from exchange.services.sanitiser import SanitiserService
from exchange.services.sanitiser_core import SanitiserCore
from exchange.storage.feed_store import FeedStore
from exchange.testing.partnership import COUNCIL, DATASET, POLICE, police_offence_export
from exchange.transport.broker import EmbeddedBroker
from exchange.transport.kafka import KafkaSettings, Share, ensure_topics
from tests.support.partnership import agent_config_with_outbox

pytestmark = pytest.mark.broker
ROWS = 60
PARTITIONS = 3


def _reclassify_every_third(path: Path, target: Path) -> int:
    """Write `target` with every third crime reclassified as 8/1; how many records that changes."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    changed = [dict(row, HOOffenceCode="8/1") if i % 3 == 0 else row for i, row in enumerate(rows)]
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(changed)
    return sum(1 for old, new in zip(rows, changed, strict=True) if old != new)


@pytest.fixture(scope="module", params=["group", "shares"])
def run(request, demo_files, party_keys, partnership, gazetteer, tmp_path_factory):
    with EmbeddedBroker() as broker:  # each way on a broker of its own: the topics hold only its messages
        return _scenario(request.param, KafkaSettings(broker.bootstrap, partitions=PARTITIONS), demo_files,
                         party_keys, partnership, gazetteer, tmp_path_factory)


def _scenario(way, settings, demo_files, party_keys, partnership, gazetteer, tmp_path_factory):
    from agents.agent import submit

    work = tmp_path_factory.mktemp("partitions")
    config = agent_config_with_outbox(demo_files, work / "outbox.db")
    first, second = work / "first.csv", work / "second.csv"
    police_offence_export(gazetteer, first, rows=ROWS, bad_rows=0, seed=61)
    corrections = _reclassify_every_third(first, second)

    async def scenario():
        dataset = catalogue()[DATASET]
        await ensure_topics(settings, [raw_topic(DATASET), shared_topic(DATASET)])
        shares = [Share(1, 2), Share(2, 2)] if way == "shares" else [None, None]
        sanitisers = [SanitiserService(SanitiserCore(partnership, catalogue(), party_keys["sanitiser"], gazetteer),
                                       settings, scale_out=share is None, share=share) for share in shares]
        stop = asyncio.Event()
        async with FeedStore(work / "council.db") as store:
            feed = FeedService(partnership, catalogue(), party_keys[COUNCIL], COUNCIL, settings, store)
            tasks = [asyncio.create_task(s.run(stop)) for s in sanitisers] + [asyncio.create_task(feed.run(stop))]
            args = dict(partnership=partnership, dataset=dataset, keys=party_keys[POLICE], settings=settings)
            taken = None
            if way == "shares":
                ready_by = time.monotonic() + 30
                while not all(s.consumer is not None and s.consumer.assignment() for s in sanitisers):
                    assert not any(t.done() for t in tasks) and time.monotonic() < ready_by, "a sanitiser never started"
                    await asyncio.sleep(0.05)
                taken = [{tp.partition for tp in s.consumer.assignment()} for s in sanitisers]
            await submit(config, first, **args)
            await submit(config, second, **args)
            deadline = time.monotonic() + 90
            while not (await store.count(DATASET) == ROWS and feed.stats.superseded >= corrections):
                assert not any(t.done() for t in tasks), "a service stopped"
                assert time.monotonic() < deadline, (f"timed out: {await store.count(DATASET)} held, "
                                                     f"{feed.stats.superseded} superseded")
                await asyncio.sleep(0.2)
            stop.set()
            await asyncio.gather(*tasks)
            codes = [r["offence_code"] async for r in store.records(DATASET)]
        return sanitisers, codes, feed, corrections, taken

    return asyncio.run(scenario())


def test_the_two_sanitisers_shared_the_partitions(run):
    sanitisers, _, _, corrections, taken = run
    released = [s.stats.released for s in sanitisers]
    assert sum(released) == ROWS + corrections, released
    assert all(released), f"one sanitiser did nothing: {released}"
    if taken is not None:  # fixed shares: known before any message (a group may still be rebalancing)
        assert taken == [{0, 2}, {1}], taken


def test_corrections_supersede_across_partitions(run):
    _, codes, feed, corrections, _ = run
    assert corrections >= ROWS // 4, "the second supply corrects a good share of the first"
    assert len(codes) == ROWS and feed.stats.superseded == corrections
    assert codes.count("8/1") >= ROWS // 3


def test_fixed_shares_take_the_partitions_modulo_the_members():
    assert [p for p in range(7) if Share(1, 3).takes(p)] == [0, 3, 6]
    assert [p for p in range(7) if Share(3, 3).takes(p)] == [2, 5]
    assert Share.parse("2/3") == Share(2, 3) and str(Share(2, 3)) == "2/3"


@pytest.mark.parametrize("text", ["0/2", "3/2", "2", "a/b", "1/0", "-1/2"])
def test_a_share_that_names_no_member_is_refused(text):
    from exchange.errors import ConfigError

    with pytest.raises(ConfigError, match="member"):
        Share.parse(text)
