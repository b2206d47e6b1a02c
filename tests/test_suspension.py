"""A suspension takes effect mid-stream, cryptographically, on the real broker.

The sanitiser runs in-process with `partnership_source` reading the governance registry before
every batch (refresh_every=0). Two tier-1 subscribers hold a grant of police_crime_offence: the
demo council, and a probation service admitted through the registry's signed decisions (founded
by both responsible authorities; proposed by the police; approved by each responsible authority
with its own key; granted the dataset by the police, its originator) with keys generated here. The
police agent supplies a first export; the probation service is suspended (a decision signed by the
council); the police supply a second export. Every record sealed after the
suspension is refused when the suspended service tries to open it (NotARecipient: its data key was
never wrapped for it), while the records before it still open; the council gets everything.

The test broker ignores ACLs, so this is the cryptographic lock alone. The session broker is
shared: the sanitiser has its own consumer group, and it and both feed groups start at the current
end of their topics, so only this test's messages are read.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from agents.agent import submit
from exchange.core.names import SANITISER_ID, key_topic, raw_topic, shared_topic
from exchange.core.schemas import catalogue
from exchange.crypto.envelope import Opener, read_header
from exchange.crypto.keys import KeyPair
from exchange.errors import NotARecipient
from exchange.services import governance
from exchange.services.feed import FeedService
from exchange.services.sanitiser import SanitiserService
from exchange.services.sanitiser_core import SanitiserCore
from exchange.storage.feed_store import FeedStore
from exchange.storage.registry import Registry, partnership_source
from exchange.testing.partnership import COUNCIL, DATASET, POLICE, police_offence_export
from tests.support.kafka import end_offsets, read_from, start_group_at
from tests.support.partnership import agent_config_with_outbox

pytestmark = pytest.mark.broker
BEFORE, AFTER = 25, 20


async def wait_for(predicate, what: str, tasks, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        for task in tasks:
            if task.done():
                task.result()  # raises the service's error
                raise AssertionError(f"a service stopped while waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def message_ids(store: FeedStore, table: str) -> set[str]:
    async with store.db.execute(f"SELECT message_id FROM {table}") as cursor:
        return {row[0] async for row in cursor}


@pytest.fixture(scope="module")
def flow(kafka, demo_files, party_keys, partnership, gazetteer, tmp_path_factory):
    work = tmp_path_factory.mktemp("suspension")
    run = uuid.uuid4().hex[:8]
    probation = f"probation-{run}"
    probation_keys = KeyPair.generate(probation)
    registry_path = work / "registry.db"
    agent_config = agent_config_with_outbox(demo_files, work / "outbox.db")
    first, second = work / "first.csv", work / "second.csv"
    police_offence_export(gazetteer, first, rows=BEFORE, bad_rows=0, seed=5101)
    police_offence_export(gazetteer, second, rows=AFTER, bad_rows=0, seed=5102)
    dataset = catalogue()[DATASET]
    out_topic = shared_topic(DATASET, personal=dataset.personal)

    async def decide(registry, action, subject, terms, by):
        return await governance.decide(registry, action, subject, terms, signers=[party_keys[by]], person="Test",
                                       role=f"DLO of {by}")

    async def approve(registry, by):
        pending = (await registry.ledger()).pending[probation]
        return await decide(registry, "approve", probation, {"decision": pending.decision}, by)

    async def scenario():
        async with Registry(registry_path) as registry:
            await governance.found(registry, demo_files.partnership.read_text(encoding="utf-8"),
                                   signers=[party_keys[POLICE], party_keys[COUNCIL]], person="IG lead",
                                   role="Partnership IG lead")
            await decide(registry, "propose", probation, {
                "name": "Northshire Probation Delivery Unit", "kind": "co_operating_body", "tier": 1,
                "liaison_officer": "Senior Probation Officer", **probation_keys.public.as_config()}, POLICE)
            await approve(registry, POLICE)
            assert await registry.awaiting(probation) == (COUNCIL,)
            await approve(registry, COUNCIL)
            assert (await registry.signatory(probation)).status == "active"
            await decide(registry, "grant", probation, {
                "dataset": DATASET, "purpose": "Integrated offender management",
                "legal_basis": "Crime and Disorder Act 1998 s.115",
                "expires": partnership.grants[0].expires.isoformat()}, POLICE)  # the originator consents
            live = await registry.effective_partnership(partnership)
        assert [s.id for s in live.recipients(DATASET, personal=False, today=live.grants[0].expires)] == sorted(
            [COUNCIL, probation])

        raw_start = await end_offsets(kafka, [raw_topic(DATASET)])
        out_start = await end_offsets(kafka, [out_topic, key_topic(out_topic)])
        group = f"exchange-sanitiser-suspension-{run}"
        await start_group_at(kafka, group, raw_start)
        shared_only = {tp: o for tp, o in out_start.items() if tp.topic == out_topic}
        for feed_group in (f"feed.{COUNCIL}", f"feed.{probation}"):
            await start_group_at(kafka, feed_group, shared_only)

        stop = asyncio.Event()
        async with (FeedStore(work / "council.db") as council_store,
                    FeedStore(work / "probation.db") as probation_store,
                    partnership_source(registry_path, partnership) as source):
            sanitiser = SanitiserService(
                SanitiserCore(live, catalogue(), party_keys["sanitiser"], gazetteer), kafka, datasets=[DATASET],
                group_id=group, partnership_source=source, refresh_every=0)
            council = FeedService(live, catalogue(), party_keys[COUNCIL], COUNCIL, kafka, council_store)
            suspended = FeedService(live, catalogue(), probation_keys, probation, kafka, probation_store)
            tasks = [asyncio.create_task(sanitiser.run(stop)), asyncio.create_task(council.run(stop)),
                     asyncio.create_task(suspended.run(stop))]

            report1 = await submit(agent_config, first, partnership=partnership, dataset=dataset,
                                   keys=party_keys[POLICE], settings=kafka)

            async def first_everywhere():
                return all([await store.count(DATASET) >= report1.accepted and len(await store.supplies()) >= 1
                            for store in (council_store, probation_store)])

            await wait_for(first_everywhere, "the first supply at both subscribers", tasks)
            before_ids = await message_ids(council_store, "records")

            async with Registry(registry_path) as registry:
                await decide(registry, "suspend", probation,
                             {"reason": "Breach of ISP clause 9: records shared onward without consent"}, COUNCIL)

            report2 = await submit(agent_config, second, partnership=partnership, dataset=dataset,
                                   keys=party_keys[POLICE], settings=kafka)

            async def second_settled():
                return (await council_store.count(DATASET) >= report1.accepted + report2.accepted
                        and len(await council_store.supplies()) >= 2
                        and suspended.stats.refused >= report2.accepted + 1)

            await wait_for(second_settled, "the second supply at the council and refused by the suspended", tasks)
            stop.set()
            await asyncio.gather(*tasks)
            result = {
                "report1": report1, "report2": report2, "sanitiser": sanitiser.stats,
                "before_ids": before_ids,
                "council_ids": await message_ids(council_store, "records"),
                "council_supplies": len(await council_store.supplies()),
                "council_refused": await council_store.refusals(),
                "probation_ids": await message_ids(probation_store, "records"),
                "probation_supplies": len(await probation_store.supplies()),
                "probation_refused": await probation_store.refusals(),
                "probation_refused_ids": await message_ids(probation_store, "refused"),
                "probation_stats": suspended.stats,
            }

        # Open the shared topic again, independently of the feed, with the suspended party's key.
        opener = Opener(me=probation, keys=probation_keys, producers={SANITISER_ID: partnership.sanitiser.ed25519})
        grants = []
        for message in await read_from(kafka, {tp: o for tp, o in out_start.items() if tp.topic != out_topic}):
            grants.append(opener.accept_key_grant(message.value))
        opened, refused = set(), {}
        for message in await read_from(kafka, shared_only):
            message_id = read_header(message.value).message_id
            try:
                opener.open(message.value)
                opened.add(message_id)
            except NotARecipient as exc:
                refused[message_id] = exc
        result.update(grants=grants, opened=opened, refused=refused, probation=probation)
        return result

    return asyncio.run(scenario())


def test_the_other_subscriber_gets_everything(flow):
    assert flow["report1"].accepted == BEFORE and flow["report2"].accepted == AFTER
    assert len(flow["council_ids"]) == BEFORE + AFTER
    assert flow["council_supplies"] == 2 and flow["council_refused"] == {}
    assert flow["sanitiser"].released == BEFORE + AFTER and flow["sanitiser"].metadata == 2
    assert not flow["sanitiser"].dead_lettered


def test_records_before_the_suspension_still_open(flow):
    assert len(flow["before_ids"]) == BEFORE
    assert flow["probation_ids"] == flow["before_ids"]
    assert flow["probation_supplies"] == 1
    assert flow["before_ids"] <= flow["opened"]


def test_every_record_after_the_suspension_is_refused(flow):
    after_ids = flow["council_ids"] - flow["before_ids"]
    assert len(after_ids) == AFTER
    assert flow["probation_refused"] == {"not_a_recipient": AFTER + 1}  # the records and the supply's metadata
    assert after_ids <= flow["probation_refused_ids"]
    assert flow["probation_stats"].refused == AFTER + 1 and flow["probation_stats"].stored == BEFORE
    assert after_ids <= set(flow["refused"]) and not after_ids & flow["opened"]
    assert all(isinstance(error, NotARecipient) for error in flow["refused"].values())


def test_the_data_key_was_changed_away_from_the_suspended_subscriber(flow):
    grants = flow["grants"]
    assert len(grants) >= 2
    assert grants[0].for_me and set(grants[0].recipients) == {COUNCIL, flow["probation"]}
    assert not grants[-1].for_me and grants[-1].recipients == (COUNCIL,)
