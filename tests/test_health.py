"""Health and metrics of the daemons: /status (JSON) and /metrics (Prometheus) on 127.0.0.1.

The sanitiser and a council feed run on the embedded broker over a known supply (20 good rows,
then a garbage message and a forgery sent straight to the raw topic); what they serve must equal
that run: 20 released, one dead letter per reason, 20 stored, lag 0 once caught up, the police's
supplies counted, and no crime reference or postcode anywhere. The agent runs as
`exchange agent run --metrics-port 0 --log-json` with the broker away: its outbox gauges show
what waits. The server answers 127.0.0.1 only, for /status and /metrics only.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from agents.agent import submit
from exchange.cli import main
from exchange.cli._common import JsonLineFormatter, OneLineFormatter
from exchange.core.names import raw_topic
from exchange.core.schemas import catalogue
from exchange.crypto.envelope import Sealer
from exchange.crypto.keys import KeyPair
from exchange.services.feed import FeedService
from exchange.services.health import Health, Reading, feed_health, sanitiser_health
from exchange.services.sanitiser import SanitiserService
from exchange.services.sanitiser_core import SanitiserCore
from exchange.storage.audit import AuditLog
from exchange.storage.feed_store import FeedStore
from exchange.testing.partnership import COUNCIL, DATASET, POLICE, police_offence_export
from tests.support.pages import get
from tests.support.partnership import PASSPHRASE, agent_config_with_outbox, repo_root

ROWS = 20
URL = re.compile(r"http://127\.0\.0\.1:\d+")
SAFE_LABEL = re.compile(r"^[A-Za-z0-9_.\-]+$")


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a Prometheus exposition: (name, labels) -> value."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict, name: str, **labels) -> float:
    return found[(name, frozenset(labels.items()))]


def scrape(url: str) -> tuple[str, dict]:
    status, _, metrics = get(url + "/metrics")
    assert status == 200, metrics
    status, _, document = get(url + "/status")
    assert status == 200, document
    return metrics, json.loads(document)


async def _until(predicate, what: str, tasks=(), timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        for task in tasks:
            if task.done():
                task.result()
                raise AssertionError(f"a service stopped while waiting for {what}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


# -- the server ------------------------------------------------------------------------------------


def test_the_server_answers_127_0_0_1_only_and_only_status_and_metrics():
    health = Health("test")
    health.register(lambda: Reading({"test": {"n": 1}}))
    with health.serve(0) as server:
        base = server.url
        assert URL.fullmatch(base)
        assert get(base + "/status")[0] == 200 and get(base + "/metrics")[0] == 200
        assert get(base.replace("127.0.0.1", "localhost") + "/status")[0] == 200
        for path in ("/", "/status/x", "/metrics.txt", "/index.html", "/../etc/passwd"):
            assert get(base + path)[0] == 404, path
        # A page on another site reaching 127.0.0.1 by DNS rebinding names its own host.
        assert get(base + "/status", host=f"evil.example:{server.port}")[0] == 421
        assert get(base + "/metrics", host="127.0.0.1")[0] == 421
        request = urllib.request.Request(base + "/status", data=b"x", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 501
        # Bound to 127.0.0.1 itself, not to every address of the machine (nor all of 127/8).
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.2", server.port), timeout=5).close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=5).close()


def test_a_collector_that_fails_or_hangs_is_reported_not_fatal():
    async def scenario():
        health = Health("test", timeout=0.5)

        def broken() -> Reading:
            raise KeyError("a value that must not be shown")

        async def hangs() -> Reading:
            await asyncio.sleep(30)
            return Reading()

        health.register(broken)
        health.register(hangs)
        with health.serve(0) as server:
            return await asyncio.to_thread(scrape, server.url)

    metrics, document = asyncio.run(scenario())
    assert document["unavailable"] == {"broken": "KeyError", "hangs": "TimeoutError"}
    found = samples(metrics)
    assert value(found, "exchange_health_collector_up", collector="broken") == 0
    assert value(found, "exchange_health_collector_up", collector="hangs") == 0
    assert "must not be shown" not in metrics + json.dumps(document)


def test_json_log_lines_are_one_object_per_line_and_text_lines_stay_escaped():
    import logging

    record = logging.LogRecord("exchange.sanitiser", logging.WARNING, __file__, 1, "dead-lettered %s: %s", (
        "raw.x[0]@1", "a\nforged line\u2028"), None)
    line = JsonLineFormatter().format(record)
    assert "\n" not in line and "\u2028" not in line
    entry = json.loads(line)
    assert set(entry) == {"time", "level", "logger", "message"}
    assert entry["level"] == "WARNING" and entry["logger"] == "exchange.sanitiser"
    assert entry["message"] == "dead-lettered raw.x[0]@1: a\nforged line\u2028"
    try:
        raise ValueError("a value")
    except ValueError:
        failed = logging.LogRecord("exchange.feed", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonLineFormatter().format(failed))
    assert entry["exception"] == "ValueError" and "a value" not in json.dumps(entry)
    text = OneLineFormatter("%(message)s").format(record)
    assert "\n" not in text and "\\x0a" in text


def test_status_of_an_unreachable_daemon_exits_1():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(main, ["status", "--url", f"http://127.0.0.1:{port}"])
    assert result.exit_code == 1
    assert "cannot read the status" in result.output


# -- the sanitiser and a feed on the broker --------------------------------------------------------


@dataclass
class Scene:
    started: float
    finished: float
    sanitiser_metrics: str
    sanitiser_status: dict
    feed_metrics: str
    feed_status: dict
    status_table: object
    status_json: object
    secrets: set[str]


@pytest.fixture(scope="module")
def scene(kafka, demo_files, party_keys, partnership, gazetteer, tmp_path_factory) -> Scene:
    work = tmp_path_factory.mktemp("health")
    export = work / "export.csv"
    police_offence_export(gazetteer, export, rows=ROWS, bad_rows=0, seed=1313)
    with open(export, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    secrets = {row["CrimeNumber"] for row in rows} | {row["Postcode"] for row in rows}
    config = agent_config_with_outbox(demo_files, work / "outbox.db")
    started = time.time()

    async def scenario() -> Scene:
        async with AuditLog(work / "audit.db") as audit, FeedStore(work / "council.db") as store:
            sanitiser = SanitiserService(SanitiserCore(partnership, catalogue(), party_keys["sanitiser"], gazetteer),
                                         kafka, ledger=audit)
            feed = FeedService(partnership, catalogue(), party_keys[COUNCIL], COUNCIL, kafka, store)
            stop = asyncio.Event()
            with sanitiser_health(sanitiser).serve(0) as s_server, feed_health(feed).serve(0) as f_server:
                tasks = [asyncio.create_task(sanitiser.run(stop)), asyncio.create_task(feed.run(stop))]
                try:
                    report = await submit(config, export, partnership=partnership, dataset=catalogue()[DATASET],
                                          keys=party_keys[POLICE], settings=kafka)
                    assert report.accepted == ROWS and report.waiting == 0
                    await _send_bad_messages(kafka, partnership)

                    async def done() -> bool:
                        return (await store.count() >= ROWS
                                and sum(sanitiser.stats.dead_lettered.values()) >= 2)

                    await _until(done, "20 records stored and 2 dead letters", tasks)

                    async def caught_up() -> bool:
                        _, s = await asyncio.to_thread(scrape, s_server.url)
                        _, f = await asyncio.to_thread(scrape, f_server.url)
                        return all(d["consumer_lag"]["partitions"] and d["consumer_lag"]["total"] == 0
                                   for d in (s, f))

                    await _until(caught_up, "lag 0 on both consumers", tasks)
                    sanitiser_metrics, sanitiser_status = await asyncio.to_thread(scrape, s_server.url)
                    feed_metrics, feed_status = await asyncio.to_thread(scrape, f_server.url)
                    runner = CliRunner()
                    table = await asyncio.to_thread(runner.invoke, main, ["status", "--url", s_server.url])
                    as_json = await asyncio.to_thread(runner.invoke, main, ["status", "--url", f_server.url + "/",
                                                                            "--json"])
                    secrets.update(str(r["crime_ref"]) for r in [r async for r in store.records(DATASET)])
                finally:
                    stop.set()
                    await asyncio.gather(*tasks, return_exceptions=True)
        return Scene(started, time.time(), sanitiser_metrics, sanitiser_status, feed_metrics, feed_status, table,
                     as_json, secrets)

    return asyncio.run(scenario())


async def _send_bad_messages(kafka, partnership) -> None:
    """Garbage, and a forgery in the police's name: one dead letter each."""
    forger = Sealer(producer=POLICE, keys=KeyPair.generate("forger"), topic=raw_topic(DATASET),
                    recipients={"sanitiser": partnership.sanitiser.x25519})
    forged = forger.seal(b"x", message_id="forged-1", dataset=DATASET, marking="OFFICIAL",
                         schema_fingerprint=catalogue()[DATASET].raw_codec.fingerprint)
    producer = AIOKafkaProducer(**kafka.client_options())
    await producer.start()
    try:
        await producer.send_and_wait(raw_topic(DATASET), b"\x00\x01 this is not an envelope", key=b"garbage")
        await producer.send_and_wait(raw_topic(DATASET), forged.envelope, key=b"forged")
    finally:
        await producer.stop()


@pytest.mark.broker
def test_sanitiser_metrics_equal_the_run(scene):
    found = samples(scene.sanitiser_metrics)
    outcomes = {"released": ROWS, "dead_lettered": 2, "duplicate": 0, "withheld": 0, "metadata": 1, "withdrawal": 0}
    for outcome, expected in outcomes.items():
        assert value(found, "exchange_sanitiser_messages_total", outcome=outcome) == expected, outcome
    assert value(found, "exchange_sanitiser_received_total") == ROWS + 1 + 2
    assert value(found, "exchange_sanitiser_dead_letters_total", reason="malformed_envelope") == 1
    assert value(found, "exchange_sanitiser_dead_letters_total", reason="bad_signature") == 1
    # The forgery's claimed producer is not counted: only signatures that verify are.
    assert value(found, "exchange_sanitiser_receipts_total", producer=POLICE) == ROWS + 1
    last = value(found, "exchange_last_supply_timestamp_seconds", producer=POLICE)
    assert scene.started <= last <= scene.finished
    assert value(found, "exchange_consumer_lag", topic=raw_topic(DATASET), partition="0") == 0
    assert value(found, "exchange_service_info", service="sanitiser", version=scene.sanitiser_status["version"]) == 1
    assert value(found, "exchange_health_collector_up", collector="consumer_lag") == 1
    assert not [name for name, _ in found if name == "exchange_last_error_timestamp_seconds"]


@pytest.mark.broker
def test_sanitiser_status_equals_the_run(scene):
    status = scene.sanitiser_status
    assert status["service"] == "sanitiser" and status["pid"] == os.getpid()
    assert status["sanitiser"]["released"] == ROWS and status["sanitiser"]["received"] == ROWS + 3
    assert status["sanitiser"]["dead_letters"] == {"bad_signature": 1, "malformed_envelope": 1}
    assert status["producers"][POLICE]["receipts"] == ROWS + 1
    assert status["consumer_lag"]["total"] == 0
    assert f"{raw_topic(DATASET)}[0]" in status["consumer_lag"]["partitions"]
    assert status["last_error"] is None and status["errors"] == {}
    assert "unavailable" not in status


@pytest.mark.broker
def test_feed_metrics_and_status_equal_the_run(scene):
    found = samples(scene.feed_metrics)
    assert value(found, "exchange_feed_records_total", outcome="stored") == ROWS
    for outcome in ("superseded", "withdrawn", "refused", "duplicate", "destroyed"):
        assert value(found, "exchange_feed_records_total", outcome=outcome) == 0, outcome
    assert value(found, "exchange_feed_supplies_total") == 1
    lags = {labels: v for (name, labels), v in found.items() if name == "exchange_consumer_lag"}
    assert lags and set(lags.values()) == {0}
    status = scene.feed_status
    assert status["service"] == "feed" and status["feed"]["signatory"] == COUNCIL
    assert status["feed"]["stored"] == ROWS and status["consumer_lag"]["total"] == 0


@pytest.mark.broker
def test_nothing_served_carries_a_reference_or_a_postcode(scene):
    assert len(scene.secrets) > 2 * ROWS - 5  # references, postcodes, the feed's pseudonymised references
    served = "\n".join([scene.sanitiser_metrics, scene.feed_metrics, json.dumps(scene.sanitiser_status),
                        json.dumps(scene.feed_status), scene.status_table.stdout, scene.status_json.stdout])
    assert not [secret for secret in scene.secrets if secret in served]
    for text in (scene.sanitiser_metrics, scene.feed_metrics):
        for family in text_string_to_metric_families(text):
            assert family.name.startswith("exchange_") and family.documentation, family.name
            for sample in family.samples:
                assert all(SAFE_LABEL.match(v) for v in sample.labels.values()), sample


@pytest.mark.broker
def test_exchange_status_prints_a_table_or_the_json(scene):
    table = scene.status_table
    assert table.exit_code == 0, table.output
    assert re.search(r"^sanitiser\.released\s+20$", table.stdout, re.M), table.stdout
    assert re.search(r"^sanitiser\.dead_letters\.bad_signature\s+1$", table.stdout, re.M)
    assert re.search(rf"^producers\.{POLICE}\.receipts\s+21$", table.stdout, re.M)
    assert re.search(r"^consumer_lag\.total\s+0$", table.stdout, re.M)
    assert scene.status_json.exit_code == 0, scene.status_json.output
    document = json.loads(scene.status_json.stdout)
    assert document["service"] == "feed" and document["feed"]["stored"] == ROWS


# -- `exchange agent run --metrics-port` with the broker away ---------------------------------------


def _agent_config(demo_files, work: Path) -> Path:
    """The police agent's mapping with absolute paths, its own outbox and an inbox."""
    root = Path(demo_files.agent_config).parent
    text = Path(demo_files.agent_config).read_text()
    text = (text.replace('key_file = "keys/', f'key_file = "{root}/keys/')
                .replace('outbox = "police-outbox.db"', f'outbox = "{work}/outbox.db"')
                .replace('partnership = "partnership.toml"', f'partnership = "{root}/partnership.toml"'))
    assert str(root) in text and str(work) in text
    path = work / "agent.toml"
    path.write_text(text + f'\n[inbox]\nfolder = "{work}/inbox"\nstable_seconds = 0.2\n')
    return path


def test_agent_run_serves_its_outbox_while_the_broker_is_away(demo_files, gazetteer, tmp_path):
    config = _agent_config(demo_files, tmp_path)
    (tmp_path / "inbox").mkdir(mode=0o700)
    police_offence_export(gazetteer, tmp_path / "inbox" / "crimes.csv", rows=ROWS, bad_rows=0, seed=77)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # nothing listens here once the probe is closed
    log = tmp_path / "agent.log"
    env = dict(os.environ, EXCHANGE_KEY_PASSPHRASE=PASSPHRASE, PYTHONUNBUFFERED="1")
    with open(log, "w") as stderr:
        agent = subprocess.Popen(
            [sys.executable, "-m", "exchange", "agent", "run", "--config", str(config), "--bootstrap",
             f"127.0.0.1:{closed}", "--give-up-after", "1", "--poll", "0.2", "--metrics-port", "0", "--log-json"],
            cwd=repo_root(), env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 90
        while not (found := URL.search(log.read_text())):
            assert agent.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the agent never printed its health URL"
            time.sleep(0.1)
        base = found.group()
        while True:
            metrics, status = scrape(base)
            if status["agent"]["files"]["waiting"] and status["outbox"]["waiting"]:
                break
            assert agent.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"the file never waited: {status}"
            time.sleep(0.2)
        table = CliRunner().invoke(main, ["status", "--url", base])
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(timeout=60)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait()
    found_samples = samples(metrics)
    waiting = value(found_samples, "exchange_outbox_waiting")
    assert waiting == ROWS + 2  # the records, the supply's metadata, the key grant
    assert value(found_samples, "exchange_outbox_oldest_age_seconds") > 0
    assert value(found_samples, "exchange_outbox_published_total") == 0
    assert value(found_samples, "exchange_agent_files_total", outcome="waiting") >= 1
    assert value(found_samples, "exchange_agent_files_total", outcome="processed") == 0
    assert status["service"] == "agent" and status["agent"]["signatory"] == POLICE
    assert status["outbox"]["oldest_waiting_since"] and status["outbox"]["oldest_age_seconds"] >= 0
    assert table.exit_code == 0 and re.search(r"^outbox\.waiting\s+22$", table.stdout, re.M), table.output
    # --log-json: every log line on stderr is a JSON object; the command's own lines (the URL, the
    # closing summary) are not log lines.
    lines = [line for line in log.read_text().splitlines() if line]
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    assert entries and all(set(entry) >= {"time", "level", "logger", "message"} for entry in entries)
    assert [line for line in lines if not line.startswith("{") and not URL.search(line)
            and not line.startswith("stopped:")] == []
    with open(tmp_path / "inbox" / "crimes.csv", newline="", encoding="utf-8") as handle:
        secrets = {v for row in csv.DictReader(handle) for v in (row["CrimeNumber"], row["Postcode"])}
    served = metrics + json.dumps(status) + table.stdout + log.read_text()
    assert not [secret for secret in secrets if secret in served]


def test_the_daemons_take_metrics_port_and_log_json():
    for command in (["sanitiser", "run"], ["feed", "run"], ["agent", "run"]):
        result = CliRunner().invoke(main, [*command, "-h"])
        assert "--metrics-port" in result.output and "--log-json" in result.output, command
    assert "--metrics-port" in CliRunner().invoke(main, ["briefing", "serve", "-h"]).output
