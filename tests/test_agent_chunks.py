"""The agent reads, seals and queues an export a chunk at a time (bounded memory for a backfill of
millions): the outcome must not depend on where the chunks fall."""

from __future__ import annotations

import asyncio
import csv
import dataclasses

import pytest

from agents.agent import submit
from exchange.core.names import raw_topic
from exchange.core.schemas import catalogue
from exchange.crypto.envelope import read_header
from exchange.testing.partnership import DATASET, POLICE, police_offence_export
from exchange.transport.readers import read_topic
from tests.support.partnership import agent_config_with_outbox

pytestmark = pytest.mark.broker


def test_a_supply_sent_in_small_chunks_is_the_supply_sent_whole(kafka, demo_files, party_keys, partnership,
                                                               gazetteer, tmp_path):
    export = tmp_path / "export.csv"
    police_offence_export(gazetteer, export, rows=40, bad_rows=3, seed=71)
    with open(export, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # The same crime twice (in different chunks) and two no-crimes.
    rows = [dict(row, Status="No crime" if i in (5, 30) else "") for i, row in enumerate(rows)] + [dict(rows[0],
                                                                                                       Status="")]
    with open(export, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    config = dataclasses.replace(agent_config_with_outbox(demo_files, tmp_path / "outbox.db"),
                                 withdrawal_column="Status", withdrawal_values=frozenset({"no crime"}))
    args = dict(partnership=partnership, dataset=catalogue()[DATASET], keys=party_keys[POLICE], settings=kafka)

    async def scenario():
        first = await submit(config, export, chunk=7, **args)
        again = await submit(config, export, chunk=11, **args)
        return first, again, await read_topic(kafka, raw_topic(DATASET))

    first, again, published = asyncio.run(scenario())
    kinds = [read_header(value).kind for value in published if read_header(value).producer == POLICE]
    withdrawn = sum(1 for row in rows if row["Status"] == "No crime")
    bad = first.rejected
    assert bad == 3 and first.withdrawn == withdrawn
    assert kinds.count("RECORD") == len(rows) - bad - withdrawn - 1, "the repeated row is sent once"
    assert kinds.count("WITHDRAWAL") == withdrawn and kinds.count("METADATA") == 1
    assert again.published == 0 and again.already_submitted == len(rows) - bad - withdrawn
    assert again.already_withdrawn == withdrawn


def test_each_chunk_is_published_as_it_is_sealed_and_the_metadata_last(kafka, demo_files, party_keys, partnership,
                                                                       gazetteer, tmp_path, monkeypatch):
    """A backfill's first records reach the sanitiser while the rest of the file is still read,
    and the supply's metadata (which counts every record) still comes after all of them."""
    import agents.agent as agent_module

    export = tmp_path / "export.csv"
    police_offence_export(gazetteer, export, rows=30, bad_rows=0, seed=73)
    config = agent_config_with_outbox(demo_files, tmp_path / "outbox.db")
    seen_before_metadata: list[int] = []
    seal_metadata = agent_module._Supply.seal_metadata

    def ids(values) -> set[str]:
        return {read_header(value).message_id for value in values}

    async def counting(self, metadata):
        held = await read_topic(kafka, raw_topic(DATASET), quiet_ms=200)
        seen_before_metadata.append(len(ids(held) - before))
        return await seal_metadata(self, metadata)

    monkeypatch.setattr(agent_module._Supply, "seal_metadata", counting)
    before = ids(asyncio.run(read_topic(kafka, raw_topic(DATASET), quiet_ms=200)))
    report = asyncio.run(submit(config, export, chunk=10, partnership=partnership, dataset=catalogue()[DATASET],
                                keys=party_keys[POLICE], settings=kafka))
    published = [value for value in asyncio.run(read_topic(kafka, raw_topic(DATASET)))
                 if read_header(value).message_id not in before]
    kinds = [read_header(value).kind for value in published]
    assert len(published) == 31 and report.waiting == 0
    assert report.published == 32  # and the key grant, on the key topic
    assert seen_before_metadata and seen_before_metadata[0] >= 30  # every record was out before the metadata
    assert kinds.count("METADATA") == 1 and kinds.count("RECORD") == 30
