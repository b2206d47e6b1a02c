"""All 25 datasets of the catalogue through the daemon, end to end on the real broker.

A partnership of its own: one tier-1 supplier registered for every dataset, a tier-1 subscriber
granted every dataset (purpose and legal basis recorded) and a tier-2 subscriber granted every
dataset it may hold (the depersonalised ones). Synthetic records of each dataset are sealed by the
supplier and published to raw.<dataset>; the sanitiser and both feeds run in-process.

Isolation on the shared session broker: the signatory ids are unique to the run, so the feeds'
groups (feed.<id>) are new; the sanitiser gets a group of its own; and every group is started at
the current end of its topics, so nothing another test published is read. The partnership's
sanitiser uses the session's sanitiser key pair: one broker carries one sanitiser identity, so the
other tests' feeds, which trust that key, refuse this test's shared records at once as "not a
recipient" instead of stalling on key grants they cannot verify.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections import Counter, defaultdict

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from exchange.core.names import SANITISER_ID, key_topic, raw_topic, shared_topic
from exchange.core.partnership import Partnership
from exchange.core.schemas import catalogue
from exchange.crypto.envelope import Sealer, read_header
from exchange.crypto.keys import KeyPair
from exchange.crypto.pseudonyms import pseudonym
from exchange.services.feed import FeedService
from exchange.services.sanitiser import SanitiserService
from exchange.services.sanitiser_core import SanitiserCore
from exchange.storage.feed_store import FeedStore
from exchange.testing.records import records_for
from exchange.transport.kafka import ensure_topics
from tests.support.kafka import end_offsets, read_from, start_group_at

pytestmark = pytest.mark.broker
PER_DATASET = 6
SEED = 77
ALL = [d.id for d in catalogue()]
PERSONAL = [d.id for d in catalogue() if d.personal]
DEPERSONALISED = [d.id for d in catalogue() if not d.personal]
LINKED = ("police_crime_offence", "police_crime_offender", "police_crime_victim")


def output_topic(dataset_id: str) -> str:
    return shared_topic(dataset_id, personal=catalogue()[dataset_id].personal)


async def headers_since(kafka, offsets: dict[TopicPartition, int]) -> dict[str, list]:
    """Clear headers of every message published on these partitions after `offsets`, by topic."""
    found: dict[str, list] = defaultdict(list)
    for message in await read_from(kafka, offsets):
        found[message.topic].append(read_header(message.value))
    return found


@pytest.fixture(scope="module")
def flow(kafka, party_keys, gazetteer, tmp_path_factory):
    work = tmp_path_factory.mktemp("all-datasets")
    run = uuid.uuid4().hex[:8]
    supplier, core, associate = f"all-supplier-{run}", f"all-core-{run}", f"all-associate-{run}"
    keys = {supplier: KeyPair.generate(supplier), core: KeyPair.generate(core), associate: KeyPair.generate(associate)}
    sanitiser_keys = party_keys["sanitiser"]
    expires = dt.date.today() + dt.timedelta(days=365)
    grant = dict(purpose="Strategic assessment", legal_basis="Crime and Disorder Act 1998 s.115", approved_by=supplier,
                 expires=expires)
    partnership = Partnership.from_mapping({
        "partnership": {"name": f"All-datasets test CSP {run}", "k_households": 4},
        "sanitiser": sanitiser_keys.public.as_config(),
        "signatory": [
            {"id": supplier, "name": "Supplier of everything", "kind": "responsible_authority", "tier": 1,
             "status": "active", "supplies": ALL, **keys[supplier].public.as_config()},
            {"id": core, "name": "Core partner", "kind": "responsible_authority", "tier": 1, "status": "active",
             **keys[core].public.as_config()},
            {"id": associate, "name": "Associate partner", "kind": "other", "tier": 2, "status": "active",
             **keys[associate].public.as_config()},
        ],
        "grant": [{"signatory": core, "dataset": d, **grant} for d in ALL]
                 + [{"signatory": associate, "dataset": d, **grant} for d in DEPERSONALISED],
    })
    inputs = {d: records_for(d, gazetteer, PER_DATASET, SEED) for d in ALL}

    async def scenario():
        started = time.monotonic()
        sanitiser = SanitiserService(SanitiserCore(partnership, catalogue(), sanitiser_keys, gazetteer), kafka,
                                     datasets=ALL, group_id=f"exchange-sanitiser-all-{run}")
        await ensure_topics(kafka, sanitiser.topics())
        raw_offsets = await end_offsets(kafka, [raw_topic(d) for d in ALL])
        out_offsets = await end_offsets(kafka, [output_topic(d) for d in ALL])
        await start_group_at(kafka, sanitiser.group_id, raw_offsets)
        await start_group_at(kafka, f"feed.{core}", out_offsets)
        await start_group_at(kafka, f"feed.{associate}", out_offsets)

        producer = AIOKafkaProducer(**kafka.client_options())
        await producer.start()
        try:
            for dataset_id, records in inputs.items():
                dataset = catalogue()[dataset_id]
                topic = raw_topic(dataset_id)
                sealer = Sealer(producer=supplier, keys=keys[supplier], topic=topic,
                                recipients={SANITISER_ID: sanitiser_keys.public.x25519})
                for index, record in enumerate(records):
                    sealed = sealer.seal(dataset.raw_codec.encode(record), message_id=f"{run}-{dataset_id}-{index}",
                                         dataset=dataset_id, schema_fingerprint=dataset.raw_codec.fingerprint,
                                         marking="OFFICIAL-SENSITIVE")
                    if sealed.key_grant is not None:
                        await producer.send_and_wait(key_topic(topic), sealed.key_grant,
                                                     key=sealed.header.key_id.encode())
                    await producer.send(topic, sealed.envelope, key=sealed.header.message_id.encode())
            await producer.flush()
        finally:
            await producer.stop()
        published = time.monotonic()

        stop = asyncio.Event()
        sanitiser_task = asyncio.create_task(sanitiser.run(stop))
        async with FeedStore(work / "core.db") as core_store, FeedStore(work / "associate.db") as associate_store:
            core_feed = FeedService(partnership, catalogue(), keys[core], core, kafka, core_store)
            # The associate subscribes to every dataset's topic, restricted ones included, and tries to open them.
            associate_feed = FeedService(partnership, catalogue(), keys[associate], associate, kafka, associate_store,
                                         datasets=ALL)
            tasks = [sanitiser_task, asyncio.create_task(core_feed.run(stop)),
                     asyncio.create_task(associate_feed.run(stop))]
            deadline = time.monotonic() + 90
            while not (await core_store.count() >= PER_DATASET * len(ALL)
                       and await associate_store.count() >= PER_DATASET * len(DEPERSONALISED)
                       and associate_feed.stats.refused >= PER_DATASET * len(PERSONAL)):
                assert not any(t.done() for t in tasks), "a service stopped"
                assert time.monotonic() < deadline, (
                    f"timed out: core {await core_store.count()}, associate {await associate_store.count()}, "
                    f"associate refused {associate_feed.stats.refused}, sanitiser {sanitiser.stats}")
                await asyncio.sleep(0.2)
            delivered = time.monotonic()
            stop.set()
            await asyncio.gather(*tasks)
            core_records = {d: [r async for r in core_store.records(d)] for d in ALL}
            associate_records = {d: [r async for r in associate_store.records(d)] for d in ALL}
            associate_refusals = await associate_store.refusals()
        headers = await headers_since(kafka, out_offsets)
        print(f"\n{len(ALL)} datasets x {PER_DATASET} records: published in {published - started:.1f} s, "
              f"delivered to both subscribers {delivered - published:.1f} s later")
        return {"core": core_records, "associate": associate_records, "refusals": associate_refusals,
                "headers": headers, "sanitiser": sanitiser.stats, "associate_stats": associate_feed.stats}

    result = asyncio.run(scenario())
    result.update(inputs=inputs, secret=sanitiser_keys.pseudonym_secret, core_id=core, supplier=supplier)
    return result


def test_every_record_of_every_dataset_reaches_the_tier1_subscriber(flow):
    assert {d: len(flow["core"][d]) for d in ALL} == {d: PER_DATASET for d in ALL}
    assert sum(flow["sanitiser"].dead_lettered.values()) == 0
    assert all(r["handling"]["originator"] == flow["supplier"] for d in ALL for r in flow["core"][d])


def test_personal_datasets_go_on_restricted_topics_marked_and_never_to_tier2(flow):
    headers = flow["headers"]
    for dataset_id in PERSONAL:
        on_topic = [h for h in headers[f"restricted.{dataset_id}"] if h.dataset == dataset_id]
        assert len(on_topic) == PER_DATASET
        assert {h.marking for h in on_topic} == {"OFFICIAL-SENSITIVE [PERSONAL]"}
        assert f"shared.{dataset_id}" not in headers
        assert {r["marking"] for r in flow["core"][dataset_id]} == {"OFFICIAL-SENSITIVE [PERSONAL]"}
        assert {r["handling"]["marking"] for r in flow["core"][dataset_id]} == {"OFFICIAL-SENSITIVE [PERSONAL]"}
        assert flow["associate"][dataset_id] == []  # it subscribed, but could open none
    assert flow["refusals"].get("not_a_recipient", 0) >= PER_DATASET * len(PERSONAL)
    # Personal records are released whole: the tier-1 holder gets names and dates of birth as supplied.
    ppo_in = sorted(r["surname"] for r in flow["inputs"]["ppo"])
    assert sorted(r["surname"] for r in flow["core"]["ppo"]) == ppo_in


def test_depersonalised_datasets_reach_tier2_without_dropped_fields_or_dates_of_birth(flow):
    headers = flow["headers"]
    for dataset_id in DEPERSONALISED:
        dataset = catalogue()[dataset_id]
        assert len([h for h in headers[f"shared.{dataset_id}"] if h.dataset == dataset_id]) == PER_DATASET
        assert len(flow["associate"][dataset_id]) == PER_DATASET
        dropped = {p.name for p in dataset.fields_with("drop")}
        for holder in ("core", "associate"):
            for record in flow[holder][dataset_id]:
                assert not dropped & set(record), (dataset_id, dropped & set(record))
                assert "date_of_birth" not in record
                for policy in dataset.fields_with("dob_to_age"):
                    assert policy.age_field in record
                for policy in dataset.fields_with("pseudonymise"):
                    assert record[policy.name] is None or record[policy.name].startswith("PS-")
        # Supplied OFFICIAL-SENSITIVE, and no originator declared a lower marking: kept, never lowered.
        assert {r["marking"] for r in flow["associate"][dataset_id]} == {"OFFICIAL-SENSITIVE"}


def test_crime_reference_pseudonyms_join_offence_offender_and_victim(flow):
    # Pseudonyms are scoped to their originator (here one supplier of every dataset).
    expected = sorted(pseudonym(flow["secret"], f"{flow['supplier']}/crime_ref", r["crime_ref"])
                      for r in flow["inputs"]["police_crime_offence"])
    tokens = {d: sorted(r["crime_ref"] for r in flow["core"][d]) for d in LINKED}
    assert (tokens["police_crime_offence"] == tokens["police_crime_offender"] == tokens["police_crime_victim"]
            == expected)
    assert len(set(expected)) == PER_DATASET
    # Every other dataset's crime reference (same domain) lands on the same tokens.
    others = Counter()
    for dataset in catalogue():
        for policy in dataset.fields_with("pseudonymise"):
            if policy.pseudonym_domain == "crime_ref" and dataset.id not in LINKED:
                values = {r[policy.name] for r in flow["core"][dataset.id] if r[policy.name]}
                assert values <= set(expected), dataset.id
                others[dataset.id] += len(values)
    assert sum(others.values()) > 0
    # A person reference is in another domain: the same text would not give the same token.
    assert (pseudonym(flow["secret"], "person_ref", "CR/77/00001")
            != pseudonym(flow["secret"], "crime_ref", "CR/77/00001"))
