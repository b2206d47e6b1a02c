"""Fault-injection harness (issue 5: nothing lost, nothing duplicated, nothing crashes).

Runs the real services as separate OS processes on an embedded broker, as an operator would
(`python -m exchange sanitiser run ...`, `feed run ...`, `agent submit ...`), kills them with
SIGKILL at random moments, restarts them, and at the end checks that the council's feed store
holds every accepted record exactly once: its `records.message_id` set must equal the output
ids the sanitiser derives (`output_message_id`) from the agent's input ids (`record_message_id`
over the Avro encoding of each accepted row). Zero lost, zero extra.

Only SIGKILL is used: no service gets to clean up, so what survives is what the design (outbox,
commit-after-acknowledgement, processed-id state, idempotent store) makes durable.

Used by tests/test_faults.py; on demand, with larger numbers, on its own broker:

    python -m tests.support.faults --crashes 90 --records 6000 --exports 20 [--keep]

How the kills are placed:
  * agent: `agent submit` runs per export; about half the kills wait until sealed messages sit
    in the outbox (the publishing phase) and land within ~0.1 s, the rest at a random moment of
    a typical run (start-up, reading, sealing, publishing).
  * sanitiser and feed: a chaos thread picks a victim (sometimes both at once), waits until it
    is consuming and records are flowing through it (its progress counter moves), then kills it
    after a short random delay; some kills land during start-up instead. It restarts the
    service after a random pause.
  * exports are submitted in step with the chaos budget, so records keep flowing while it works.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from exchange._failpoints import FAILPOINT_ENV
from exchange.testing.partnership import COUNCIL, DATASET

PASSPHRASE = "fault-injection passphrase, not a secret"


# -- one partnership, its files and how to run its commands --------------------------------------


@cache
def _options_of(*command: str) -> frozenset[str]:
    """The long options a CLI command accepts (from its --help), so the harness follows the CLI."""
    result = subprocess.run([sys.executable, "-m", "exchange", *command, "--help"], capture_output=True, text=True,
                            timeout=60)
    return frozenset(re.findall(r"(--[a-z][a-z0-9-]*)", result.stdout))


@dataclass
class World:
    """A synthetic partnership on disk, wired to one broker."""

    root: Path
    bootstrap: str
    files: object  # exchange.testing.partnership.DemoFiles
    env: dict[str, str]
    logs: Path

    @property
    def council_db(self) -> Path:
        return self.root / f"{COUNCIL}-feed.db"

    @property
    def sanitiser_state(self) -> Path:
        """Where the sanitiser keeps the ids it processed: its own file in older versions, the audit
        log (written with their audit events) since."""
        if "--state" in _options_of("sanitiser", "run"):
            return self.root / "sanitiser-state.db"
        return self.root / "sanitiser-audit.db"

    @property
    def outbox(self) -> Path:
        from agents.config import AgentConfig

        return AgentConfig.load(self.files.agent_config).outbox

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "exchange", *args]

    def run(self, name: str, *args: str, timeout: float = 300.0,
            env: dict | None = None) -> subprocess.CompletedProcess:
        """Run one CLI command to completion; stdout captured, stderr appended to logs/<name>.log."""
        with open(self.logs / f"{name}.log", "ab") as log:
            return subprocess.run(self.command(*args), env=env or self.env, stdout=subprocess.PIPE, stderr=log,
                                  stdin=subprocess.DEVNULL, timeout=timeout)

    def sanitiser_args(self) -> list[str]:
        args = ["sanitiser", "run", "--config", str(self.files.partnership),
                "--keys", str(self.files.keys["sanitiser"]), "--gazetteer", str(self.files.gazetteer)]
        options = _options_of("sanitiser", "run")  # its own durable state, where this version has it
        if "--state" in options:
            args += ["--state", str(self.root / "sanitiser-state.db")]
        if "--audit" in options:
            args += ["--audit", str(self.root / "sanitiser-audit.db")]
        return args

    def feed_args(self) -> list[str]:
        return ["feed", "run", "--config", str(self.files.partnership), "--as", COUNCIL, "--db", str(self.council_db),
                "--keys", str(self.files.keys[COUNCIL])]

    def agent_args(self, export: Path, *extra: str) -> list[str]:
        return ["agent", "submit", "--config", str(self.files.agent_config), str(export), "--json", *extra]


def make_world(root: Path, bootstrap: str, *, seed: int = 2026) -> World:
    """Gazetteer, keys, ISP config and agent mapping (as tests/conftest.py and the demo make them),
    and the pipeline's topics, created with one partition each as the demo does."""
    from exchange.core.names import DEADLETTER_TOPIC, key_topic, raw_topic, shared_topic
    from exchange.testing.gazetteer import synthesise
    from exchange.testing.partnership import make_partnership
    from exchange.transport.kafka import KafkaSettings, ensure_topics

    root.mkdir(parents=True, exist_ok=True)
    (root / "logs").mkdir(exist_ok=True)
    synthesise(seed=seed, out_db=root / "gazetteer.db")
    files = make_partnership(root, PASSPHRASE, gazetteer=root / "gazetteer.db")
    passphrase_file = root / ".passphrase"
    passphrase_file.touch(mode=0o600)
    passphrase_file.write_text(PASSPHRASE)
    env = dict(os.environ, EXCHANGE_KEY_PASSPHRASE_FILE=str(passphrase_file), EXCHANGE_BOOTSTRAP=bootstrap)
    env.pop("EXCHANGE_KEY_PASSPHRASE", None)
    out = shared_topic(DATASET)
    asyncio.run(ensure_topics(KafkaSettings(bootstrap), [raw_topic(DATASET), key_topic(raw_topic(DATASET)), out,
                                                         key_topic(out), DEADLETTER_TOPIC]))
    return World(root, bootstrap, files, env, root / "logs")


def make_exports(world: World, *, exports: int, records: int, bad_rows: int = 3, first_seed: int = 1000) -> list[Path]:
    """`exports` police exports with different seeds (so their records differ), `records` good rows in all,
    each with `bad_rows` faulty rows mixed in."""
    from exchange.storage.gazetteer import Gazetteer
    from exchange.testing.partnership import police_offence_export

    gazetteer = Gazetteer.open(world.files.gazetteer)
    paths = []
    for index in range(exports):
        rows = records // exports + (1 if index < records % exports else 0)
        path = world.root / f"export-{index:02d}.csv"
        police_offence_export(gazetteer, path, rows=rows, bad_rows=bad_rows, seed=first_seed + index)
        paths.append(path)
    return paths


# -- what must arrive, and what did ----------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    rows: int  # data rows in all exports
    accepted: int  # accepted rows (a row present in two exports counts twice)
    output_ids: frozenset[str]  # the message ids the council's store must hold, exactly


def expected_outputs(world: World, exports: list[Path]) -> Expected:
    """Validate each export as the agent does and derive the ids the store must end up holding."""
    from agents.agent import record_message_id
    from agents.config import AgentConfig
    from agents.ingest import read_export
    from exchange.core.schemas import catalogue
    from exchange.services.sanitiser_core import output_message_id

    config = AgentConfig.load(world.files.agent_config)
    dataset = catalogue()[config.dataset]
    rows = accepted = 0
    ids: set[str] = set()
    for path in exports:
        result = read_export(path, dataset, config.columns, config.formats)
        rows += len(result.accepted) + len(result.rejected)
        accepted += len(result.accepted)
        for item in result.accepted:
            input_id = record_message_id(config.signatory, dataset.id, dataset.raw_codec.encode(item.record))
            ids.add(output_message_id(config.signatory, input_id))
    return Expected(rows, accepted, frozenset(ids))


def _query(db: Path, sql: str, default):
    if not db.exists():
        return default
    try:
        conn = sqlite3.connect(db, timeout=5)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return default  # not initialised yet


def store_ids(db: Path) -> list[str]:
    return [row[0] for row in _query(db, "SELECT message_id FROM records", [])]


def store_count(db: Path) -> int:
    return _query(db, "SELECT COUNT(*) FROM records", [(0,)])[0][0]


def store_refusals(db: Path) -> dict[str, int]:
    return dict(_query(db, "SELECT reason_code, COUNT(*) FROM refused GROUP BY reason_code", []))


def processed_count(db: Path) -> int:
    return _query(db, "SELECT COUNT(*) FROM processed", [(0,)])[0][0]


def outbox_state(db: Path) -> tuple[int, int]:
    """(waiting, published) in the agent's outbox; (0, 0) before it exists."""
    return tuple(_query(db, "SELECT (SELECT COUNT(*) FROM outbox), (SELECT COUNT(*) FROM published)", [(0, 0)])[0])


@dataclass(frozen=True)
class TopicTally:
    messages: int
    distinct_ids: int


def tally_topic(bootstrap: str, topic: str, *, quiet: float = 2.0) -> TopicTally:
    """Read a topic from the start until nothing more comes for `quiet` seconds; count messages and
    distinct envelope message ids. (Consumed rather than sized by end offsets: the embedded broker
    reports the latest offset of a multi-record batch as the batch's base offset + 1.)"""
    from exchange.crypto.envelope import read_header
    from exchange.errors import EnvelopeError
    from exchange.transport.kafka import KafkaSettings
    from exchange.transport.readers import read_topic

    values = asyncio.run(read_topic(KafkaSettings(bootstrap), topic, quiet_ms=int(quiet * 1000)))
    ids = set()
    for offset, value in enumerate(values):
        try:
            ids.add(read_header(value).message_id)
        except EnvelopeError:
            ids.add(f"undecodable@{offset}")
    return TopicTally(len(values), len(ids))


# -- services that can be killed -------------------------------------------------------------------


@dataclass(frozen=True)
class Crash:
    service: str
    at: float  # seconds since the scenario started
    phase: str  # what the service was doing, as far as can be told from outside
    uptime: float  # how long this incarnation had run


class Service:
    """A long-running child (sanitiser or feed): start, SIGKILL, restart; output appended to its log.

    `progress` reads a counter the service moves as it works (rows in its SQLite state), so a
    kill can be aimed at a moment when records are flowing through it.
    """

    READY = b" consuming "

    def __init__(self, world: World, name: str, args: list[str], progress: Callable[[], int]):
        self.world, self.name, self.args, self.progress = world, name, args, progress
        self.log_path = world.logs / f"{name}.log"
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.starts = 0
        self._log_offset = 0

    def start(self, failpoint: str | None = None) -> None:
        """Start an incarnation; with `failpoint` (service.step@count) it kills itself there."""
        env = dict(self.world.env, **({FAILPOINT_ENV: failpoint} if failpoint else {}))
        with open(self.log_path, "ab") as log:
            log.write(f"\n--- start {self.starts + 1} at {time.strftime('%H:%M:%S')}"
                      f"{' armed ' + failpoint if failpoint else ''} ---\n".encode())
            log.flush()
            self._log_offset = log.tell()
            self.process = subprocess.Popen(self.world.command(*self.args), env=env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.started_at = time.monotonic()
        self.starts += 1

    def ready(self) -> bool:
        """Has this incarnation logged that it is consuming?"""
        with open(self.log_path, "rb") as log:
            log.seek(self._log_offset)
            return self.READY in log.read()

    def kill(self) -> float:
        """SIGKILL the current incarnation; returns how long it had been up."""
        assert self.process is not None
        uptime = time.monotonic() - self.started_at
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        return uptime

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited by itself with status {self.process.returncode}; "
                               f"see {self.log_path}")

    def stop(self) -> None:
        """Stop cleanly (SIGTERM); SIGKILL if it has not gone within 15 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Chaos(threading.Thread):
    """Kills one long-running service at random moments and restarts it, until its budget is spent.

    Mostly while records flow through it (it is consuming and its progress counter moves); now and
    then again at once after a restart, during start-up. One thread per service, so their outages
    overlap at random too.
    """

    def __init__(self, service: Service, budget: int, rng: random.Random, record, *, startup_share: float = 0.3,
                 idle_wait: float = 6.0, down: tuple[float, float] = (0.0, 1.0)):
        super().__init__(daemon=True, name=f"chaos-{service.name}")
        self.service, self.budget, self.rng, self.record = service, budget, rng, record
        self.startup_share, self.idle_wait, self.down = startup_share, idle_wait, down
        self.done = 0
        self.halt = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while self.done < self.budget and not self.halt.is_set():
                self.halt.wait(self.rng.uniform(0.0, 2.0))
                self._kill_and_restart(self._while_flowing())
                while self.done < self.budget and self.rng.random() < self.startup_share and not self.halt.is_set():
                    self.halt.wait(self.rng.uniform(0.2, 3.0))
                    self._kill_and_restart("start-up (consuming)" if self.service.ready()
                                           else "start-up (not yet consuming)")
        except BaseException as exc:  # surfaced by the caller
            self.error = exc

    def _kill_and_restart(self, phase: str) -> None:
        self.service.check_alive()
        self.record(self.service.name, self.service.kill(), phase)
        self.done += 1
        self.halt.wait(self.rng.uniform(*self.down))
        self.service.start()

    def _while_flowing(self) -> str:
        """Wait until the service consumes and its progress counter moves, then kill soon after."""
        deadline = time.monotonic() + 60.0
        while not self.service.ready() and time.monotonic() < deadline and not self.halt.wait(0.05):
            self.service.check_alive()
        before = self.service.progress()
        deadline = time.monotonic() + self.idle_wait
        flowing = False
        while time.monotonic() < deadline and not self.halt.is_set():
            if self.service.progress() != before:
                flowing = True
                break
            time.sleep(0.02)
        self.halt.wait(self.rng.uniform(0.0, 0.3))
        return "processing (records flowing)" if flowing else "idle (nothing flowing)"


# -- the scenario -----------------------------------------------------------------------------------


@dataclass
class FaultReport:
    exports: int
    rows: int
    accepted: int
    expected: int
    stored: int
    lost: int
    extra: int
    duplicates: int
    crashes: list[Crash] = field(default_factory=list)
    agent_runs: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    dead_letters: int = 0
    raw: TopicTally | None = None
    shared: TopicTally | None = None
    elapsed: float = 0.0
    lost_ids: list[str] = field(default_factory=list)  # a few, for a failure message
    extra_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lost == self.extra == self.duplicates == 0

    def by_service(self) -> Counter:
        return Counter(c.service for c in self.crashes)

    def render(self) -> str:
        phases = Counter((c.service, c.phase) for c in self.crashes)
        lines = [f"crash points (SIGKILL) exercised: {len(self.crashes)}: "
                 + ", ".join(f"{k} {v}" for k, v in sorted(self.by_service().items()))]
        lines += [f"    {service:9} {phase}: {count}" for (service, phase), count in sorted(phases.items())]
        lines += [
            f"records: {self.exports} exports, {self.rows} rows, {self.accepted} accepted, "
            f"{self.expected} distinct expected at {COUNCIL}; {self.agent_runs} agent runs",
        ]
        if self.raw and self.shared:
            lines.append(f"re-sends absorbed: raw topic {self.raw.messages} messages for {self.raw.distinct_ids} ids, "
                         f"shared topic {self.shared.messages} messages for {self.shared.distinct_ids} ids")
        lines += [
            f"council store: {self.stored} rows; lost {self.lost}, extra {self.extra}, duplicated {self.duplicates}",
            f"feed refusals: {self.refused or 'none'}; dead letters: {self.dead_letters}",
            f"elapsed {self.elapsed:.1f} s",
        ]
        return "\n".join(lines)


def _agent_phase(before: tuple[int, int], after: tuple[int, int]) -> str:
    """What a killed `agent submit` had got to, from its outbox (waiting, published) before and after."""
    (waiting_before, published_before), (waiting, published) = before, after
    if not waiting:
        return ("after publishing (all acknowledged, not yet exited)" if published > published_before
                else "before queueing (start-up, reading, sealing)")
    if published > published_before:
        return "publishing (some acknowledged, the rest in flight or queued)"
    if waiting > waiting_before:
        return "queued (sealed, nothing acknowledged yet)"
    return "start-up (an earlier run's messages still queued)"


def _timed_submit(world: World, export: Path) -> tuple[float, float]:
    """Submit undisturbed, watching the outbox: (seconds for the whole run, seconds it held messages)."""
    before = outbox_state(world.outbox)
    with open(world.logs / "agent.log", "ab") as log:
        started = time.monotonic()
        process = subprocess.Popen(world.command(*world.agent_args(export)), env=world.env, stdout=subprocess.DEVNULL,
                                   stderr=log, stdin=subprocess.DEVNULL)
    first = last = None
    while process.poll() is None:
        waiting, published = outbox_state(world.outbox)
        if waiting or published > before[1]:
            first = first or time.monotonic()
            last = time.monotonic()
        time.sleep(0.002)
    if process.returncode not in (0, 1):
        raise RuntimeError(f"agent submit {export.name} failed with status {process.returncode}; see {world.logs}")
    return time.monotonic() - started, max(0.005, (last or 0) - (first or 0))


def submit_with_crashes(world: World, export: Path, kills: int, rng: random.Random, record, *, typical: float,
                        draining: float) -> int:
    """Run `agent submit` on one export, SIGKILLing it up to `kills` times (every other kill timed for
    the publishing phase: a random moment while sealed messages sit in the outbox, mostly once the
    first has been acknowledged), then once more to completion. Returns the number of runs."""
    runs = 0
    for attempt in range(kills):
        before = outbox_state(world.outbox)
        with open(world.logs / "agent.log", "ab") as log:
            process = subprocess.Popen(world.command(*world.agent_args(export)), env=world.env,
                                       stdout=subprocess.DEVNULL, stderr=log, stdin=subprocess.DEVNULL)
        started = time.monotonic()
        runs += 1
        if attempt % 2 == 0:
            # The key grant is acknowledged and marked alone, before the records it covers are sent:
            # once the published count moves, records are in flight.
            deadline = started + max(typical * 3, 15.0)
            while process.poll() is None and time.monotonic() < deadline:
                waiting, published = outbox_state(world.outbox)
                if published > before[1] or (waiting > before[0] and rng.random() < 0.3):
                    break
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, draining / 2))
        else:
            time.sleep(rng.uniform(0.0, typical))
        uptime = time.monotonic() - started
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            record("agent", uptime, _agent_phase(before, outbox_state(world.outbox)))
        elif process.returncode not in (0, 1):
            raise RuntimeError(f"agent submit {export.name} failed with status {process.returncode}; see {world.logs}")
    result = world.run("agent", *world.agent_args(export))
    runs += 1
    if result.returncode not in (0, 1):
        raise RuntimeError(f"agent submit {export.name} failed with status {result.returncode}; see {world.logs}")
    report = json.loads(result.stdout)
    if report["waiting"]:
        raise RuntimeError(f"agent submit {export.name} left {report['waiting']} waiting in the outbox")
    return runs


def _finish(world: World, services: dict[str, Service], expected: Expected, catch_up: float) -> None:
    """Flush whatever the agent's kills left in the outbox, let the feed catch up, then wait a quiet
    period in which nothing more may arrive; every service must still be running."""
    flush = world.run("agent-flush", "agent", "flush", "--config", str(world.files.agent_config),
                      "--give-up-after", "60")
    if flush.returncode != 0:
        raise RuntimeError(f"agent flush failed with status {flush.returncode}; see {world.logs}")
    deadline = time.monotonic() + catch_up
    while store_count(world.council_db) < len(expected.output_ids) and time.monotonic() < deadline:
        for service in services.values():
            service.check_alive()
        time.sleep(0.25)
    time.sleep(3.0)
    for service in services.values():
        service.check_alive()


def _report(world: World, paths: list[Path], expected: Expected, crash_log: list[Crash], agent_runs: int,
            started: float) -> FaultReport:
    """What the council holds against what it should, and what crossed the topics."""
    from exchange.core.names import DEADLETTER_TOPIC, raw_topic, shared_topic

    held = store_ids(world.council_db)
    held_set = set(held)
    return FaultReport(
        exports=len(paths), rows=expected.rows, accepted=expected.accepted, expected=len(expected.output_ids),
        stored=len(held), lost=len(expected.output_ids - held_set), extra=len(held_set - expected.output_ids),
        duplicates=len(held) - len(held_set), crashes=crash_log, agent_runs=agent_runs,
        refused=store_refusals(world.council_db), dead_letters=tally_topic(world.bootstrap, DEADLETTER_TOPIC).messages,
        raw=tally_topic(world.bootstrap, raw_topic(DATASET)),
        shared=tally_topic(world.bootstrap, shared_topic(DATASET)),
        elapsed=time.monotonic() - started,
        lost_ids=sorted(expected.output_ids - held_set)[:10], extra_ids=sorted(held_set - expected.output_ids)[:10])


def run_fault_scenario(world: World, *, exports: int = 10, records: int = 1500, crashes: int = 24, seed: int = 5,
                       catch_up: float = 120.0, say: Callable[[str], None] = print) -> FaultReport:
    """The whole scenario on one World. Does not assert; returns what it found."""

    started = time.monotonic()
    rng = random.Random(seed)
    paths = make_exports(world, exports=exports, records=records)
    expected = expected_outputs(world, paths)
    say(f"{len(paths)} exports: {expected.rows} rows, {expected.accepted} accepted, "
        f"{len(expected.output_ids)} distinct records expected at {COUNCIL}; {crashes} kills planned")

    crash_log: list[Crash] = []
    lock = threading.Lock()

    def record(name: str, uptime: float, phase: str) -> None:
        with lock:
            crash_log.append(Crash(name, time.monotonic() - started, phase, uptime))

    # Half the kills for the agent (cheap: one process per run), spread over the exports; the rest
    # for the sanitiser and the feed (each restart waits for the broker to expire the dead member).
    agent_kills = crashes - 2 * (crashes // 4)
    budget = {"sanitiser": crashes // 4, "feed": crashes // 4}
    services = {
        "sanitiser": Service(world, "sanitiser", world.sanitiser_args(),
                             lambda: processed_count(world.sanitiser_state) or store_count(world.council_db)),
        "feed": Service(world, "feed", world.feed_args(), lambda: store_count(world.council_db)),
    }
    # The first export goes in before the services start, undisturbed: it shows how long a submission
    # and its publishing take on this machine (and leaves a backlog for the services to start on).
    typical, draining = _timed_submit(world, paths[0])
    for service in services.values():
        service.start()
    chaos = [Chaos(services[name], budget[name], random.Random(f"{seed}-{name}"), record) for name in services]
    total = sum(budget.values())
    agent_runs = 1
    try:
        for thread in chaos:
            thread.start()
        rest = paths[1:]
        for index, path in enumerate(rest):
            # Pace the supplies with the chaos, so that records are flowing whenever it strikes.
            while any(t.is_alive() for t in chaos) and sum(t.done for t in chaos) < total * index / max(1, len(rest)):
                time.sleep(0.1)
            for thread in chaos:
                if thread.error:
                    raise thread.error
            kills = agent_kills // len(rest) + (1 if index < agent_kills % len(rest) else 0)
            agent_runs += submit_with_crashes(world, path, kills, rng, record, typical=typical, draining=draining)
        for thread in chaos:
            thread.join(timeout=catch_up + 40.0 * (thread.budget - thread.done))
            if thread.error:
                raise thread.error
            if thread.is_alive():
                raise RuntimeError(f"{thread.name} did not spend its budget ({thread.budget - thread.done} kills left)")
        for service in services.values():
            service.check_alive()
        _finish(world, services, expected, catch_up)
    finally:
        for thread in chaos:
            thread.halt.set()
        for service in services.values():
            service.stop()

    return _report(world, paths, expected, crash_log, agent_runs, started)


# -- deterministic crash points -----------------------------------------------------------------------

# Every run kills the services at the same steps (exchange/_failpoints.py): one agent crash point and
# one sanitiser or feed crash point per export, so the test never depends on load or timing luck.
AGENT_POINTS = ("agent.sealed@1", "agent.sent@1", "agent.sent@40", "agent.sent@100", "agent.acknowledged@1",
                "agent.published@1", "agent.sealed@1", "agent.sent@10", "agent.sent@70", "agent.acknowledged@1",
                "agent.published@1", "agent.sent@115")
SERVICE_POINTS = ("sanitiser.started@1", "feed.started@1", "sanitiser.handled@1", "feed.handled@1",
                  "sanitiser.handled@60", "feed.handled@50", "sanitiser.sent@30", "feed.handled@110",
                  "sanitiser.acknowledged@1", "feed.acknowledged@1", "sanitiser.settled@1", "feed.settled@1")


def _phase(point: str) -> str:
    return point.split(".", 1)[1]


def run_failpoint_scenario(world: World, *, records: int = 1500, catch_up: float = 120.0,
                           say: Callable[[str], None] = print) -> FaultReport:
    """For each export: arm one service's crash point (restart it with it), submit the export
    through an agent armed with its own, wait for both to kill themselves, then resubmit and
    restart unarmed. At the end, every accepted record must be stored at the council exactly once.
    Does not assert; returns what it found (a crash point that was never reached is absent from
    the report's crashes)."""

    started = time.monotonic()
    paths = make_exports(world, exports=len(SERVICE_POINTS), records=records)
    expected = expected_outputs(world, paths)
    say(f"{len(paths)} exports: {expected.rows} rows, {expected.accepted} accepted, "
        f"{len(expected.output_ids)} distinct records expected at {COUNCIL}; "
        f"{len(AGENT_POINTS) + len(SERVICE_POINTS)} crash points armed")
    crash_log: list[Crash] = []
    services = {
        "sanitiser": Service(world, "sanitiser", world.sanitiser_args(),
                             lambda: processed_count(world.sanitiser_state) or store_count(world.council_db)),
        "feed": Service(world, "feed", world.feed_args(), lambda: store_count(world.council_db)),
    }
    agent_runs = 0
    try:
        for service in services.values():
            service.start()
        for export, agent_point, service_point in zip(paths, AGENT_POINTS, SERVICE_POINTS, strict=True):
            victim = services[service_point.split(".")[0]]
            victim.stop()
            victim.start(failpoint=service_point)
            armed = world.run("agent", *world.agent_args(export), env=dict(world.env, **{FAILPOINT_ENV: agent_point}))
            agent_runs += 1
            if armed.returncode == -signal.SIGKILL:
                crash_log.append(Crash("agent", time.monotonic() - started, _phase(agent_point), 0.0))
            elif armed.returncode not in (0, 1):
                raise RuntimeError(f"agent submit {export.name} failed with status {armed.returncode}; "
                                   f"see {world.logs}")
            finished = world.run("agent", *world.agent_args(export))
            agent_runs += 1
            if finished.returncode not in (0, 1):
                raise RuntimeError(f"agent submit {export.name} failed with status {finished.returncode}")
            deadline = time.monotonic() + catch_up
            assert victim.process is not None
            while victim.process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if victim.process.returncode == -signal.SIGKILL:
                crash_log.append(Crash(victim.name, time.monotonic() - started, _phase(service_point),
                                       time.monotonic() - victim.started_at))
            elif victim.process.poll() is not None:
                raise RuntimeError(f"{victim.name} exited with status {victim.process.returncode}; "
                                   f"see {victim.log_path}")
            victim.stop()
            victim.start()
        _finish(world, services, expected, catch_up)
    finally:
        for service in services.values():
            service.stop()
    return _report(world, paths, expected, crash_log, agent_runs, started)


def main(argv: list[str] | None = None) -> int:
    """On-demand run: a larger scenario on its own broker, in a temporary directory."""
    import shutil
    import tempfile

    from exchange.transport.broker import EmbeddedBroker

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crashes", type=int, default=int(os.environ.get("FAULT_CRASHES", "90")))
    parser.add_argument("--records", type=int, default=int(os.environ.get("FAULT_RECORDS", "6000")))
    parser.add_argument("--exports", type=int, default=int(os.environ.get("FAULT_EXPORTS", "20")))
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the working directory (logs, stores)")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="exchange-faults-"))
    try:
        with EmbeddedBroker(log_path=root / "broker.log") as broker:
            world = make_world(root / "world", broker.bootstrap)
            report = run_fault_scenario(world, exports=args.exports, records=args.records, crashes=args.crashes,
                                        seed=args.seed, catch_up=max(120.0, args.records / 20))
        print(report.render())
        print("OK: every accepted record stored exactly once" if report.ok else
              f"FAILED: lost {report.lost_ids}, extra {report.extra_ids}")
        return 0 if report.ok else 1
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
