"""End to end on the real broker: police export -> agent -> sanitiser -> council feed.

One pipeline run (module fixture) is inspected by several tests. Tests in this module share the
session broker; each uses its own outbox and feed store.
"""

from __future__ import annotations

import asyncio
import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from agents.agent import submit
from exchange.core.address import contains_house_number
from exchange.core.avro import codec
from exchange.core.names import DEADLETTER_TOPIC, key_topic, raw_topic
from exchange.core.schemas import catalogue
from exchange.crypto.envelope import Sealer
from exchange.crypto.keys import KeyPair
from exchange.services.exports import export_csv
from exchange.services.feed import FeedService
from exchange.services.sanitiser import SanitiserService
from exchange.services.sanitiser_core import SanitiserCore
from exchange.storage.audit import AuditLog
from exchange.storage.feed_store import FeedStore
from exchange.testing.partnership import (
    COUNCIL,
    DATASET,
    POLICE,
    VOLUNTARY,
    police_offence_export,
)
from exchange.transport.readers import read_topic
from tests.support.partnership import agent_config_with_outbox

pytestmark = pytest.mark.broker
ROWS, BAD_ROWS = 120, 6


@dataclass
class Run:
    export: Path
    report: object
    resubmit: object
    records: list[dict]
    voluntary: object
    export_csv: Path
    dead_letters: list[dict] = field(default_factory=list)
    after_bad_input: int = 0
    redeliveries_skipped: int = 0
    audit_verified: object = None
    audit_releases: list = field(default_factory=list)


async def _wait_for(predicate, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def _dead_letters(kafka) -> list[dict]:
    return [codec("dead_letter").decode(value) for value in await read_topic(kafka, DEADLETTER_TOPIC, quiet_ms=300)]


async def _first_raw_message(kafka) -> tuple[str, bytes]:
    """The id and bytes of the first record envelope the agent published."""
    from exchange.crypto.envelope import read_header

    consumer = AIOKafkaConsumer(**kafka.client_options())
    await consumer.start()
    try:
        tp = TopicPartition(raw_topic(DATASET), 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        while True:
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                for message in messages:
                    header = read_header(message.value)
                    if header.kind == "RECORD" and header.producer == POLICE:
                        return header.message_id, message.value
    finally:
        await consumer.stop()


async def _bad_inputs(kafka, party_keys, partnership, replayed_id: str) -> list[tuple[str, bytes]]:
    """Hostile messages on the raw topic: garbage, a forgery, a supplier without the right, an
    oversized message, and a message reusing an id already processed, with other content."""
    forged = Sealer(producer=POLICE, keys=KeyPair.generate("forger"), topic=raw_topic(DATASET),
                    recipients={"sanitiser": partnership.sanitiser.x25519})
    not_a_supplier = Sealer(producer=VOLUNTARY, keys=party_keys[VOLUNTARY], topic=raw_topic(DATASET),
                            recipients={"sanitiser": partnership.sanitiser.x25519})
    args = dict(dataset=DATASET, schema_fingerprint=catalogue()[DATASET].raw_codec.fingerprint, marking="OFFICIAL")
    police = Sealer(producer=POLICE, keys=party_keys[POLICE], topic=raw_topic(DATASET),
                    recipients={"sanitiser": partnership.sanitiser.x25519})
    replay = police.seal(b"other content", message_id=replayed_id, **args)
    return [("garbage", b"\x00\x01 this is not an envelope"),
            ("forged", forged.seal(b"x", message_id="forged-1", **args).envelope),
            ("not_supplier", not_a_supplier.seal(b"x", message_id="nosupply-1", **args).envelope),
            ("oversized", b"\x00" * 1_100_000),
            ("replay-key", replay.key_grant), ("replay", replay.envelope)]


@pytest.fixture(scope="module")
def run(kafka, demo_files, party_keys, partnership, gazetteer, tmp_path_factory) -> Run:
    work = tmp_path_factory.mktemp("pipeline")
    fresh_agent_config = agent_config_with_outbox(demo_files, work / "outbox.db")
    export = work / "export.csv"
    police_offence_export(gazetteer, export, rows=ROWS, bad_rows=BAD_ROWS, seed=99)

    async def scenario() -> Run:
        audit = await AuditLog(work / "audit.db").__aenter__()
        sanitiser = SanitiserService(SanitiserCore(partnership, catalogue(), party_keys["sanitiser"], gazetteer), kafka,
                                     ledger=audit)
        stop = asyncio.Event()
        sanitiser_task = asyncio.create_task(sanitiser.run(stop))
        dataset = catalogue()[DATASET]
        report = await submit(fresh_agent_config, export, partnership=partnership, dataset=dataset,
                              keys=party_keys[POLICE], settings=kafka)
        async with FeedStore(work / "council.db") as store:
            feed = FeedService(partnership, catalogue(), party_keys[COUNCIL], COUNCIL, kafka, store)
            feed_task = asyncio.create_task(feed.run(stop))

            async def all_stored():
                assert not sanitiser_task.done() and not feed_task.done(), "a service stopped"
                return await store.count() >= report.accepted

            await _wait_for(all_stored, what="every accepted record at the council")
            resubmit = await submit(fresh_agent_config, export, partnership=partnership, dataset=dataset,
                                    keys=party_keys[POLICE], settings=kafka)

            # A redelivery (the very same bytes again) is skipped silently; a replay is refused.
            first_id = await _first_raw_message(kafka)
            producer = AIOKafkaProducer(max_request_size=2_000_000, **kafka.client_options())
            await producer.start()
            await producer.send_and_wait(raw_topic(DATASET), first_id[1], key=b"redelivery")
            for name, value in await _bad_inputs(kafka, party_keys, partnership, first_id[0]):
                topic = key_topic(raw_topic(DATASET)) if name == "replay-key" else raw_topic(DATASET)
                await producer.send_and_wait(topic, value, key=name.encode())
            await producer.stop()

            async def all_dead_letters():
                return len(await _dead_letters(kafka)) >= 5

            await _wait_for(all_dead_letters, what="five dead letters")
            # The sanitiser is still running after bad input: a later supply still arrives.
            later = work / "later.csv"
            police_offence_export(gazetteer, later, rows=5, bad_rows=0, seed=123)
            await submit(fresh_agent_config, later, partnership=partnership, dataset=dataset,
                         keys=party_keys[POLICE], settings=kafka)

            async def later_stored():
                return await store.count() >= report.accepted + 5

            await _wait_for(later_stored, what="the later supply")
            stop.set()
            await asyncio.gather(sanitiser_task, feed_task)
            duplicates = sanitiser.stats.duplicates
            verified, releases = await audit.verify(), await audit.query(dataset=DATASET, kind="release")
            await audit.__aexit__(None, None, None)
            records = [r async for r in store.records(DATASET)]
            exported = work / "council-export.csv"
            await export_csv(store, DATASET, catalogue(), exported)

        async with FeedStore(work / "voluntary.db") as store:
            intruder = FeedService(partnership, catalogue(), party_keys[VOLUNTARY], VOLUNTARY, kafka, store,
                                   datasets=[DATASET])
            voluntary = await intruder.run(asyncio.Event(), until_idle=2.0)
        return Run(export, report, resubmit, records, voluntary, exported, await _dead_letters(kafka), len(records),
                   duplicates, verified, releases)

    return asyncio.run(scenario())


def test_every_accepted_record_is_stored_once(run):
    assert run.report.accepted == ROWS and run.report.rejected == BAD_ROWS
    assert run.report.published == ROWS + 2  # records, the supply's metadata, one key grant
    ids = [r["message_id"] for r in run.records]
    assert len(ids) == len(set(ids)) == ROWS + 5


def test_no_house_number_or_name_leaves_the_sanitiser(run):
    addresses = [r["address"] for r in run.records if r["address"]]
    assert addresses, "expected some addresses to survive (those not moved)"
    assert not [a for a in addresses if contains_house_number(a)]
    assert not [a for a in addresses
                if any(name in a for name in ("Flat", "Rose Cottage", "Old Rectory", "Meadow View"))]
    free_text = " ".join(str(r.get("method_of_entry") or "") + str(r.get("property_stolen") or "") for r in run.records)
    assert "07700 900123" not in free_text and "14 Elm Road" not in free_text and "Mr Jones" not in free_text


def test_coordinates_are_centroids_of_postcodes_with_at_least_k_households(run, gazetteer, partnership):
    k = partnership.k_households
    addressable = [r for r in run.records if r["location_type"] == "addressable"]
    assert addressable
    for record in addressable:
        centroid = gazetteer.get(record["postcode"])
        assert centroid is not None and centroid.households >= k, record["postcode"]
        assert (record["easting"], record["northing"]) == (centroid.easting, centroid.northing)
    assert any(r["location_generalised"] for r in addressable), "the synthetic data has postcodes under k"
    for record in run.records:
        assert gazetteer.get(record["postcode"]).households >= k


def test_references_are_pseudonymised_and_records_marked(run):
    source_refs = {row["CrimeNumber"] for row in csv.DictReader(open(run.export))}
    assert not source_refs & {r["crime_ref"] for r in run.records}
    assert all(r["crime_ref"].startswith("PS-") for r in run.records)
    assert {r["marking"] for r in run.records} == {"OFFICIAL"}
    assert all(r["handling"]["originator"] == POLICE and "consent" in r["handling"]["onward_sharing"]
               for r in run.records)


def test_signatory_without_a_grant_can_open_nothing(run):
    assert run.voluntary.stored == 0
    assert run.voluntary.refused >= ROWS + 5


def test_resubmitting_the_same_file_publishes_nothing(run):
    assert run.resubmit.published == 0 and run.resubmit.queued == 0
    assert run.resubmit.already_submitted == ROWS


def test_rejected_rows_are_quarantined_with_row_numbers_and_reasons(run):
    rows = list(csv.DictReader(open(run.report.quarantine)))
    assert len(rows) == BAD_ROWS
    assert all(row["row"].isdigit() and row["reasons"] for row in rows)
    assert all(row["CrimeNumber"].startswith("NS/BAD/") or row["CrimeNumber"] == "" for row in rows)


def test_bad_messages_are_dead_lettered_with_reason_and_original_bytes(run):
    by_reason = {letter["reason_code"]: letter for letter in run.dead_letters}
    assert {"malformed_envelope", "bad_signature", "producer_not_allowed", "oversized_message",
            "replayed_message_id"} <= set(by_reason)
    assert len(run.dead_letters) == 5
    assert by_reason["malformed_envelope"]["original"] == b"\x00\x01 this is not an envelope"
    assert by_reason["producer_not_allowed"]["producer"] == VOLUNTARY


def test_export_csv_has_the_shared_fields_and_handling(run):
    with open(run.export_csv, encoding="utf-8-sig", newline="") as handle:  # Excel needs the byte-order mark
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(run.records)
    assert "handling_marking" in rows[0] and "crime_ref" in rows[0]


def test_redelivery_is_skipped_not_dead_lettered(run):
    assert run.redeliveries_skipped == 1


def test_audit_chain_verifies_and_records_every_release_with_its_recipients(run):
    assert run.audit_verified.ok, run.audit_verified.problems
    records = [e for e in run.audit_releases if e["producer"] == "sanitiser"]
    assert len(records) >= ROWS + 5
    assert all(COUNCIL in e["recipients"] and e["marking"] == "OFFICIAL" for e in records)
