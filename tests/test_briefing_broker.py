"""The briefing end to end: a police export through the agent, the sanitiser and the council's feed
on the embedded broker, then the served page, whose numbers must be the store's."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter

import pytest

from exchange.core.schemas import catalogue
from exchange.crypto.at_rest import AtRest
from exchange.services.briefings import BriefingServer, BriefingSpec
from exchange.services.feed import FeedService
from exchange.services.sanitiser import SanitiserService
from exchange.services.sanitiser_core import SanitiserCore
from exchange.storage.feed_store import FeedStore
from exchange.testing.partnership import COUNCIL, DATASET, POLICE, police_offence_export
from tests.support.pages import Tables, get
from tests.support.partnership import agent_config_with_outbox

pytestmark = pytest.mark.broker
ROWS = 120


@pytest.fixture(scope="module")
def delivered(kafka, demo_files, party_keys, partnership, gazetteer, tmp_path_factory):
    from agents.agent import submit

    work = tmp_path_factory.mktemp("briefing-e2e")
    export = work / "export.csv"
    police_offence_export(gazetteer, export, rows=ROWS, bad_rows=0, seed=17)

    async def scenario():
        dataset = catalogue()[DATASET]
        stop = asyncio.Event()
        async with FeedStore(work / "council.db") as store:
            sanitiser = SanitiserService(SanitiserCore(partnership, catalogue(), party_keys["sanitiser"], gazetteer),
                                         kafka)
            feed = FeedService(partnership, catalogue(), party_keys[COUNCIL], COUNCIL, kafka, store)
            tasks = [asyncio.create_task(sanitiser.run(stop)), asyncio.create_task(feed.run(stop))]
            await submit(agent_config_with_outbox(demo_files, work / "outbox.db"), export, partnership=partnership,
                         dataset=dataset, keys=party_keys[POLICE], settings=kafka)
            deadline = time.monotonic() + 60
            while await store.count(DATASET) < ROWS:
                assert not any(t.done() for t in tasks), "a service stopped"
                assert time.monotonic() < deadline, f"only {await store.count(DATASET)} of {ROWS} stored"
                await asyncio.sleep(0.2)
            stop.set()
            await asyncio.gather(*tasks)
            return [r async for r in store.records(DATASET)]

    return work / "council.db", asyncio.run(scenario())


def test_the_served_page_counts_what_the_feed_stored(delivered, party_keys):
    db, records = delivered
    keys = party_keys[COUNCIL]
    days = Counter(dt.date.fromisoformat(r["committed_from_date"]) for r in records)
    busiest = max(sorted(days), key=lambda d: days[d])
    sealing = AtRest.for_keys(keys, "feed store")
    with BriefingServer(db, BriefingSpec(day=busiest, title="Daily briefing"), sealing=sealing) as server:
        status, _, page = get(server.url)
    assert status == 200
    counts = Tables(page).table("Offence counts")
    assert counts[1][:2] == ["All records", str(days[busiest])]
    per_day = {row[0]: row[1] for row in Tables(page).table("Records per day")[1:]}
    assert per_day[f"{busiest:%a} {busiest.day} {busiest:%b %Y}"] == str(days[busiest])
    markings = {r["marking"] for r in records}
    assert page.count(max(markings, key=len)) >= 2, "the marking stands at the top and the bottom"
