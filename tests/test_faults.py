"""Nothing lost, nothing duplicated, nothing crashes: the real services as OS processes, each
killing itself with SIGKILL at the same 24 crash points every run (exchange/_failpoints.py: 12 in
the agent, 6 in the sanitiser, 6 in the feed), restarted, on an embedded broker of their own.

The random-timing soak (kills at random moments, sizes from the environment) runs on demand:

    python -m tests.support.faults --crashes 90 --records 6000 --exports 20

Each test starts its own broker: the embedded one keeps topics and offsets in memory, and the
outbox test needs a clean start.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time

import pytest

from exchange.transport.broker import EmbeddedBroker, free_port
from tests.support.faults import (
    AGENT_POINTS,
    SERVICE_POINTS,
    Service,
    expected_outputs,
    make_exports,
    make_world,
    processed_count,
    run_failpoint_scenario,
    store_count,
    store_ids,
    store_refusals,
    tally_topic,
)

pytestmark = pytest.mark.broker

RECORDS = int(os.environ.get("FAULT_RECORDS", "1500"))


@pytest.fixture
def own_broker(tmp_path):
    with EmbeddedBroker(log_path=tmp_path / "broker.log") as running:
        yield running


@pytest.mark.timeout(900)
def test_sigkilled_services_lose_and_duplicate_nothing(own_broker, tmp_path, capsys):
    world = make_world(tmp_path / "world", own_broker.bootstrap)
    lines = []
    report = run_failpoint_scenario(world, records=RECORDS, catch_up=max(120.0, RECORDS / 20), say=lines.append)
    with capsys.disabled():
        print("\n" + "\n".join(lines) + "\n" + report.render())

    reached = sorted((c.service, c.phase) for c in report.crashes)
    planned = sorted(tuple(point.split(".", 1)) for point in AGENT_POINTS + SERVICE_POINTS)
    assert reached == planned, f"crash points not reached: {sorted(set(planned) - set(reached))}"
    assert len(report.crashes) == 24 and report.by_service() == {"agent": 12, "sanitiser": 6, "feed": 6}

    assert report.expected == report.accepted > 0
    assert report.lost == 0, f"{report.lost} accepted records never reached the council, e.g. {report.lost_ids}"
    assert report.extra == 0, f"{report.extra} records the council should not hold, e.g. {report.extra_ids}"
    assert report.duplicates == 0
    assert report.stored == report.expected
    assert report.refused == {} and report.dead_letters == 0


def _exchange_json(world, name, *args):
    result = world.run(name, *args)
    return result.returncode, json.loads(result.stdout)


@pytest.mark.timeout(240)
def test_outbox_keeps_records_while_the_broker_is_down_and_flush_delivers_them_once(own_broker, tmp_path):
    world = make_world(tmp_path / "world", own_broker.bootstrap)
    export = make_exports(world, exports=1, records=200)[0]
    expected = expected_outputs(world, [export])
    closed = f"127.0.0.1:{free_port()}"  # nothing listens here: the broker is "down"
    config = str(world.files.agent_config)

    # 1. Submit with the broker away: everything sealed stays in the outbox, the run says so.
    before = time.time()
    status, report = _exchange_json(world, "agent-down", *world.agent_args(export, "--bootstrap", closed,
                                                                          "--give-up-after", "2"))
    assert status == 1 and report["published"] == 0
    assert report["accepted"] == expected.accepted == 200
    queued = report["accepted"] + 2  # the records, the supply's metadata and one key grant
    assert report["waiting"] == queued

    status, outbox = _exchange_json(world, "agent-status", "agent", "status", "--config", config, "--json")
    assert status == 0 and outbox["waiting"] == queued and outbox["published"] == 0
    since = dt.datetime.fromisoformat(outbox["waiting_since"])
    assert before - 2 <= since.timestamp() <= time.time()

    # 2. Submitting the same file again while still down queues nothing twice.
    status, again = _exchange_json(world, "agent-down", *world.agent_args(export, "--bootstrap", closed,
                                                                         "--give-up-after", "1"))
    assert status == 1 and again["already_submitted"] == 200 and again["published"] == 0
    assert again["waiting"] == queued

    # 3. Broker back: the services run, `agent flush` publishes what waited, each record arrives once.
    services = [Service(world, "sanitiser", world.sanitiser_args(), lambda: processed_count(world.sanitiser_state)),
                Service(world, "feed", world.feed_args(), lambda: store_count(world.council_db))]
    for service in services:
        service.start()
    try:
        flush = world.run("agent-flush", "agent", "flush", "--config", config, "--give-up-after", "60")
        assert flush.returncode == 0, flush.stdout
        assert flush.stdout.decode().strip() == f"{queued} published, 0 still waiting"
        status, outbox = _exchange_json(world, "agent-status", "agent", "status", "--config", config, "--json")
        assert outbox == {"waiting": 0, "waiting_since": None, "published": queued}

        deadline = time.monotonic() + 120
        while store_count(world.council_db) < len(expected.output_ids) and time.monotonic() < deadline:
            for service in services:
                service.check_alive()
            time.sleep(0.25)
        # A second flush and a re-submission publish nothing; nothing more may arrive.
        again = world.run("agent-flush", "agent", "flush", "--config", config)
        assert again.returncode == 0 and again.stdout.decode().strip() == "0 published, 0 still waiting"
        status, resubmit = _exchange_json(world, "agent", *world.agent_args(export))
        assert resubmit["published"] == 0 and resubmit["already_submitted"] == 200
        time.sleep(3.0)
        for service in services:
            service.check_alive()
    finally:
        for service in services:
            service.stop()

    held = store_ids(world.council_db)
    assert len(held) == len(set(held)) == 200
    assert set(held) == expected.output_ids
    assert store_refusals(world.council_db) == {}
    raw = tally_topic(world.bootstrap, "raw.police_crime_offence")
    assert raw.messages == raw.distinct_ids == 201  # 200 records and the metadata, each sent once
