"""What the broker benchmarks (bench/pipeline.py, bench/backfill.py) share: the demo partnership
in a temporary folder, child services started through the CLI (and always stopped), offsets,
timestamps and group positions read from the broker, and percentiles. Not a benchmark itself."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from agents.config import AgentConfig
from exchange.core.partnership import Partnership, load_partnership
from exchange.crypto.keys import KeyPair
from exchange.storage.gazetteer import Gazetteer
from exchange.testing.gazetteer import synthesise
from exchange.testing.partnership import DemoFiles, make_partnership
from exchange.transport.kafka import KafkaSettings

__all__ = ["BenchTimeout", "Children", "add_partitions_option",
           "Offsets", "Positions", "World", "cli_has", "last_received", "make_world",
           "memory_mb", "peak_rss_mb", "percentile", "say", "summary_ms", "wait_for"]

PASSPHRASE = "bench passphrase, not a secret"


def add_partitions_option(parser: argparse.ArgumentParser) -> None:
    """--partitions, as both broker benchmarks take it."""
    parser.add_argument("--partitions", type=int, default=KafkaSettings.partitions,
                        help=f"partitions of each data topic (EXCHANGE_TOPIC_PARTITIONS; default "
                             f"{KafkaSettings.partitions}, as the exchange creates them)")


def say(message: str) -> None:
    """Progress goes to stderr; stdout carries only the figures (or the JSON)."""
    print(message, file=sys.stderr, flush=True)


class BenchTimeout(RuntimeError):
    """A stage did not finish in the time allowed: reported as such, never a failure of the run."""


@dataclass
class World:
    """The demo partnership (police supply police_crime_offence, the council is granted it) with
    its keys loaded, and the environment a child service needs to read its key file."""

    root: Path
    files: DemoFiles
    gazetteer: Any  # exchange.storage.gazetteer.Gazetteer, which the services take as their GazetteerLike
    partnership: Partnership
    keys: dict[str, KeyPair]
    agent_config: AgentConfig
    env: dict[str, str]


def make_world(root: Path, bootstrap: str, *, partitions: int = 1) -> World:
    root.mkdir(parents=True, exist_ok=True)
    synthesise(seed=11, out_db=root / "gazetteer.db")
    files = make_partnership(root, PASSPHRASE, gazetteer=root / "gazetteer.db")
    passphrase_file = root / ".passphrase"
    passphrase_file.touch(mode=0o600)
    passphrase_file.write_text(PASSPHRASE)
    env = dict(os.environ, EXCHANGE_KEY_PASSPHRASE_FILE=str(passphrase_file), EXCHANGE_BOOTSTRAP=bootstrap,
               EXCHANGE_TOPIC_PARTITIONS=str(partitions))
    env.pop("EXCHANGE_KEY_PASSPHRASE", None)
    return World(root=root, files=files, gazetteer=Gazetteer.open(files.gazetteer),
                 partnership=load_partnership(files.partnership),
                 keys={name: KeyPair.load(path, PASSPHRASE) for name, path in files.keys.items()},
                 agent_config=replace(AgentConfig.load(files.agent_config), outbox=root / "police-outbox.db"),
                 env=env)


class Children:
    """Child processes (`python -m exchange ...`), each logging to its own file; `stop_all` (also
    on leaving the `with`) terminates them, then kills any that do not stop within 15 s."""

    def __init__(self, env: dict[str, str], logs: Path):
        self.env, self.logs = env, logs
        logs.mkdir(parents=True, exist_ok=True)
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, *args: str, stdout: Path | None = None) -> subprocess.Popen[bytes]:
        """`python -m exchange ARGS`; its output in logs/NAME.log (stdout in `stdout` when given)."""
        with open(self.logs / f"{name}.log", "wb") as log, open(stdout or os.devnull, "wb") as out:
            child = subprocess.Popen([sys.executable, "-m", "exchange", *args], env=self.env,
                                     stdout=out if stdout else log, stderr=subprocess.STDOUT if not stdout else log,
                                     stdin=subprocess.DEVNULL)
        self.running.append((name, child))
        return child

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def check_alive(self) -> None:
        for name, child in self.running:
            if child.poll() is not None:
                raise RuntimeError(f"{name} exited with status {child.returncode}: {self.log(name)[-600:]}")

    def stop(self, *names: str) -> None:
        chosen = [(n, c) for n, c in self.running if not names or n in names]
        for _, child in chosen:
            if child.poll() is None:
                child.terminate()
        for _, child in chosen:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.running = [(n, c) for n, c in self.running if (n, c) not in chosen]

    def stop_all(self) -> None:
        self.stop()

    def __enter__(self) -> Children:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


def cli_has(env: dict[str, str], *command: str, option: str) -> bool:
    """Whether `exchange COMMAND -h` lists OPTION (the CLI of this checkout)."""
    found = subprocess.run([sys.executable, "-m", "exchange", *command, "-h"], env=env, capture_output=True, text=True,
                           timeout=60)
    return option in found.stdout


def memory_mb(pid: int) -> tuple[float, float] | None:
    """A running process's resident set now and its peak (VmRSS, VmHWM), in MB; None once gone."""
    found: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    found[line[:5]] = int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return (found["VmRSS"], found["VmHWM"]) if len(found) == 2 else None


def peak_rss_mb(pid: int) -> float | None:
    """A running process's peak resident set (VmHWM), in MB; None once it has gone."""
    found = memory_mb(pid)
    return found[1] if found else None


def last_received(log_text: str) -> int | None:
    """The last `received N` a sanitiser reported in its log (it reports every 5 s and on stop)."""
    found = re.findall(r"received (\d+), released", log_text)
    return int(found[-1]) if found else None


Positions = dict[int, int]  # partition -> offset


class Offsets:
    """Ends of topics, messages and timestamps in ranges, and groups' committed positions, over
    long-lived clients; every partition of a topic (positions are partition -> offset)."""

    def __init__(self, settings: KafkaSettings):
        self.settings = settings
        self._reader: AIOKafkaConsumer | None = None
        self._groups: dict[str, AIOKafkaConsumer] = {}
        self._partitions: dict[str, list[int]] = {}

    async def __aenter__(self) -> Offsets:
        self._reader = AIOKafkaConsumer(group_id=None, enable_auto_commit=False, **self.settings.client_options())
        await self._reader.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for consumer in [*self._groups.values(), self._reader]:
            if consumer is not None:
                await consumer.stop()
        self._groups = {}
        self._reader = None

    @property
    def reader(self) -> AIOKafkaConsumer:
        assert self._reader is not None, "use `async with Offsets(settings)`"
        return self._reader

    async def partitions(self, topic: str) -> list[TopicPartition]:
        """The topic's partitions, as the broker describes them (the topic must exist: Tansu would
        create a missing one with 4 partitions)."""
        if topic not in self._partitions:
            admin = AIOKafkaAdminClient(**self.settings.client_options())
            await admin.start()
            try:
                described = await admin.describe_topics([topic])
            finally:
                await admin.close()
            self._partitions[topic] = sorted(p["partition"] for d in described if d["topic"] == topic
                                             for p in d["partitions"]) or [0]
        return [TopicPartition(topic, p) for p in self._partitions[topic]]

    async def ends(self, topic: str) -> Positions:
        """The offset after the last message of each partition. Not the broker's answer alone:
        Tansu's ListOffsets (latest) gives the base offset of the last record batch plus one, short
        of the end when that batch holds several records; the rest of that batch is read."""
        partitions = await self.partitions(topic)
        reported = await self.reader.end_offsets(partitions)
        out: Positions = {}
        for tp in partitions:
            last = reported[tp] - 1
            if last >= 0:
                found = await self._fetch(tp, last, None)
                last = max([last] + [m.offset for m in found])
            out[tp.partition] = last + 1
        return out

    async def _fetch(self, tp: TopicPartition, start: int, end: int | None, *, patience: float = 5.0) -> list:
        """Messages of one partition from `start`, up to `end` (exclusive) or, without one, to
        the last there is. A fetch can come back empty just after a re-assignment, so an empty
        answer ends the read only once `start` itself has been seen (it exists), or after
        `patience` seconds without a message."""
        self.reader.assign([tp])
        self.reader.seek(tp, start)
        got: list = []
        quiet_since = time.monotonic()
        while end is None or len(got) < end - start:
            wanted = 10_000 if end is None else min(10_000, end - start - len(got))
            messages = [m for m in (await self.reader.getmany(tp, timeout_ms=300, max_records=wanted)).get(tp, [])
                        if end is None or m.offset < end]
            if messages:
                got += messages
                quiet_since = time.monotonic()
                if end is not None and messages[-1].offset >= end - 1:
                    break
            elif got or time.monotonic() - quiet_since > patience:
                break
        return got

    async def end(self, topic: str) -> int:
        """Messages on the topic: the sum of its partitions' ends."""
        return sum((await self.ends(topic)).values())

    async def read(self, topic: str, starts: Positions, ends: Positions) -> list:
        """The messages from `starts` up to `ends` (exclusive) on each partition."""
        out: list = []
        for partition, end in ends.items():
            start = starts.get(partition, 0)
            if end > start:
                out += await self._fetch(TopicPartition(topic, partition), start, end)
        return out

    async def _timestamp(self, topic: str, partition: int, offset: int) -> float:
        found = await self.read(topic, {partition: offset}, {partition: offset + 1})
        if not found:
            raise LookupError(f"no message at {topic}[{partition}]@{offset}")
        return found[0].timestamp / 1000

    async def rate(self, topic: str, starts: Positions, ends: Positions) -> tuple[float, float, float]:
        """Messages per second from the first to the last message in the ranges, by their (producer
        create) timestamps, ms resolution; with those two times, in seconds since the epoch."""
        firsts, lasts, count = [], [], 0
        for partition, end in ends.items():
            start = starts.get(partition, 0)
            if end > start:
                count += end - start
                firsts.append(await self._timestamp(topic, partition, start))
                lasts.append(await self._timestamp(topic, partition, end - 1))
        if count < 2:
            raise LookupError(f"fewer than two messages on {topic} in the range")
        first, last = min(firsts), max(lasts)
        return (count - 1) / max(last - first, 1e-3), first, last

    async def timestamps(self, topic: str, starts: Positions, ends: Positions) -> list[float]:
        """The timestamps of every message in the ranges, sorted."""
        return sorted(m.timestamp / 1000 for m in await self.read(topic, starts, ends))

    async def _group(self, group: str) -> AIOKafkaConsumer:
        consumer = self._groups.get(group)
        if consumer is None:
            consumer = AIOKafkaConsumer(group_id=group, enable_auto_commit=False, **self.settings.client_options())
            await consumer.start()
            self._groups[group] = consumer
        return consumer

    async def committed(self, group: str, topic: str) -> Positions:
        """Where the group stands on each partition (-1 before its first commit there)."""
        consumer = await self._group(group)
        out: Positions = {}
        for tp in await self.partitions(topic):
            found = await consumer.committed(tp)
            out[tp.partition] = -1 if found is None else found
        return out

    async def caught_up(self, group: str, topic: str, ends: Positions) -> bool:
        committed = await self.committed(group, topic)
        return all(committed.get(p, -1) >= end for p, end in ends.items() if end > 0)

    async def place_group(self, group: str, topic: str, offsets: Positions, *, attempts: int = 5) -> None:
        """Commit `offsets` for the group, so its next member reads from there. None of its members
        may be running; a member that has only just left can make the broker refuse for a moment,
        so it is tried again."""
        positions = {TopicPartition(topic, p): offset for p, offset in offsets.items()}
        for attempt in range(attempts):
            consumer = AIOKafkaConsumer(group_id=group, enable_auto_commit=False, **self.settings.client_options())
            await consumer.start()
            try:
                consumer.assign(list(positions))
                await consumer.commit(positions)
                return
            except Exception:
                if attempt == attempts - 1:
                    raise
            finally:
                await consumer.stop()
            await asyncio.sleep(2.0)


async def wait_for(done: Callable[[], Awaitable[bool]], *, timeout: float, what: str, every: float = 0.1,
                   alive: Callable[[], None] | None = None) -> float:
    """Poll until `done()`; returns the monotonic time it was first seen true. BenchTimeout after
    `timeout` seconds; `alive` may raise when a service it watches has stopped."""
    deadline = time.monotonic() + timeout
    while not await done():
        if alive is not None:
            alive()
        if time.monotonic() > deadline:
            raise BenchTimeout(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(every)
    return time.monotonic()


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """p50, p99 and max of latencies given in seconds, in milliseconds."""
    if not seconds:
        return {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    return {"count": len(seconds), "p50_ms": round(percentile(seconds, 50) * 1000, 1),
            "p99_ms": round(percentile(seconds, 99) * 1000, 1), "max_ms": round(max(seconds) * 1000, 1)}
