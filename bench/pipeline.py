"""Throughput and latency of the exchange's pipeline on the embedded broker, each figure against a
baseline measured in the same run on the same broker (issue 11).

    python bench/pipeline.py [--records N] [--json] [--latency-rate R] [--latency-seconds S] [--partitions P]

One run starts one embedded broker (Tansu) and, in a temporary folder, the demo partnership
(police supply police_crime_offence, the council is granted it), then measures:

  baselines     aiokafka alone (acks=all, linger 5 ms, as exchange.transport.kafka configures
                producers), messages the size of a real sealed police_crime_offence envelope:
                raw produce of N (pipelined, and acknowledged per 500 as the agent's publisher
                does), and raw consume -> produce of N (batches of 500, each produced, acknowledged,
                then its offset committed, as exchange.transport.loop does); a bare consumer's
                first batch in a new group, and its re-joining a group just left
  agent         agents.agent.submit of an N-row police export: start to last acknowledgement;
                ratio to the pipelined raw produce
  sanitiser     SanitiserService with an AuditLog ledger (as `exchange sanitiser run`), in-process,
                over the N raw messages already on the topic: first to last output by the output
                topic's timestamps; ratio to raw consume -> produce (same measure)
  feed          FeedService with a FeedStore and an AuditLog (as `exchange feed run`), in-process,
                over the N shared messages: first batch committed to the last, by the records the
                later commits stored; ratio to raw consume -> produce
  latency       the sanitiser (--latency-sanitisers processes, default 2, each with --member i/N)
                and the feed as separate processes (`python -m exchange ... run`), sealed records
                published at --latency-rate for --latency-seconds (sealed in advance; the first
                under a new data key), raw publish -> visible in the feed's store per record
                (the store polled every 2 ms): p50, p99, max, the first record, and the two
                hops (raw -> shared topic timestamp -> stored)
  scaling       the agent's supply published again and processed by `exchange sanitiser run`:
                once as started by default, then 1 and 2 processes in the same consumer group
                (with --scale-out when the CLI has it: the processes join the group and share the
                partitions; with one partition, the second gets none): ratio 2/1; then 2 processes
                each with a fixed share (--member 1/2, --member 2/2) when the CLI has it
  start-up      from starting a sanitiser (in-process service; CLI process, by default and with
                --scale-out) to its first output on an already-filled topic

--partitions sets EXCHANGE_TOPIC_PARTITIONS for the data topics (default 2, as the exchange creates them).
Progress goes to stderr, the figures to stdout (--json: one JSON object). A benchmark, not a test:
it exits 0 whatever the numbers, and a stage that fails or times out is reported as such. Every
process and temporary file it creates is removed on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.agent import check, records_to_send, submit  # noqa: E402
from bench._support import (  # noqa: E402
    BenchTimeout,
    Children,
    Offsets,
    Positions,
    World,
    add_partitions_option,
    cli_has,
    last_received,
    make_world,
    say,
    summary_ms,
    wait_for,
)
from exchange.core.names import (  # noqa: E402
    DEADLETTER_TOPIC,
    SANITISER_GROUP,
    SANITISER_ID,
    feed_group,
    key_topic,
    raw_topic,
    shared_topic,
)
from exchange.core.schemas import catalogue  # noqa: E402
from exchange.crypto.envelope import Sealed, Sealer, read_header  # noqa: E402
from exchange.services.feed import FeedService  # noqa: E402
from exchange.services.sanitiser import SanitiserService  # noqa: E402
from exchange.services.sanitiser_core import SanitiserCore, output_message_id  # noqa: E402
from exchange.storage.audit import AuditLog  # noqa: E402
from exchange.storage.feed_store import FeedStore  # noqa: E402
from exchange.testing.partnership import COUNCIL, DATASET, POLICE, police_offence_export  # noqa: E402
from exchange.testing.records import records_for  # noqa: E402
from exchange.transport.broker import EmbeddedBroker  # noqa: E402
from exchange.transport.kafka import KafkaSettings, ensure_topics, make_consumer, make_producer  # noqa: E402

RAW, SHARED = raw_topic(DATASET), shared_topic(DATASET)
BASE_IN, BASE_IN_BATCHED, BASE_OUT, BASE_WARM = "bench.produce", "bench.produce-batched", "bench.forward", "bench.warm"
IN_PROCESS_GROUP = "bench-sanitiser"  # the CLI's own group (exchange-sanitiser) is left for the process stages


def _ratio(value: float | None, baseline: float | None) -> float | None:
    return round(value / baseline, 3) if value and baseline else None


def _sealer(world: World) -> Sealer:
    """What the police agent seals with: for the sanitiser, a new data key every 1,000 records."""
    return Sealer(producer=POLICE, keys=world.keys[POLICE], topic=RAW,
                  recipients={SANITISER_ID: world.partnership.sanitiser.x25519})


def _seal(sealer: Sealer, record: dict, message_id: str) -> Sealed:
    dataset = catalogue()[DATASET]
    return sealer.seal(dataset.raw_codec.encode(record), message_id=message_id, dataset=DATASET,
                       schema_fingerprint=dataset.raw_codec.fingerprint, marking="OFFICIAL-SENSITIVE")


# -- envelope size -------------------------------------------------------------------------------

def envelope_sizes(world: World, work: Path) -> dict[str, Any]:
    """Mean size of 200 real police export rows as the agent seals them, and of a key grant."""
    sample = work / "sample-export.csv"
    police_offence_export(world.gazetteer, sample, rows=200, bad_rows=0, seed=5)
    dataset = catalogue()[DATASET]
    result, marking, _ = check(world.agent_config, sample, partnership=world.partnership, dataset=dataset)
    sealer = _sealer(world)
    sizes, grant = [], 0
    for index, (record, _) in enumerate(records_to_send(world.agent_config, dataset, result.accepted)):
        sealed = sealer.seal(dataset.raw_codec.encode(record), message_id=f"size-{index}", dataset=DATASET,
                             schema_fingerprint=dataset.raw_codec.fingerprint, marking=str(marking))
        sizes.append(len(sealed.envelope))
        grant = len(sealed.key_grant) if sealed.key_grant else grant
    return {"envelope_bytes": round(statistics.mean(sizes)), "envelope_bytes_min": min(sizes),
            "envelope_bytes_max": max(sizes), "key_grant_bytes": grant}


# -- baselines -----------------------------------------------------------------------------------

async def raw_produce(settings: KafkaSettings, topic: str, size: int, n: int, *, per_batch: int | None) -> float:
    """N messages of `size` bytes (32-character keys, like message ids); msg/s from the first send
    to the last acknowledgement. The producer is connected (one message to another topic) first."""
    payload = os.urandom(size)
    producer = make_producer(settings)
    await producer.start()
    try:
        await producer.send_and_wait(BASE_WARM, payload)
        keys = [f"{i:032x}".encode() for i in range(n)]
        started = time.perf_counter()
        step = per_batch or n
        for first in range(0, n, step):
            futures = [await producer.send(topic, payload, key=key) for key in keys[first:first + step]]
            await asyncio.gather(*futures)
        return n / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def raw_consume_produce(settings: KafkaSettings, offsets: Offsets, n: int, timeout: float) -> dict[str, Any]:
    """Consume N messages from BASE_IN and produce each to BASE_OUT, per batch of 500: send, wait for
    every acknowledgement, commit (the consume loop without a handler). Rate by the output topic's
    timestamps, first to last output, as the sanitiser's is measured."""
    consumer = make_consumer(settings, BASE_IN, group_id="bench-forward")
    producer = make_producer(settings)
    await producer.start()
    joining = time.monotonic()
    await consumer.start()
    consumed, first, first_batch = 0, None, None
    deadline = time.monotonic() + timeout
    try:
        while consumed < n:
            if time.monotonic() > deadline:
                raise BenchTimeout(f"consume -> produce: {consumed} of {n} within {timeout:.0f} s")
            batch = await consumer.getmany(timeout_ms=500, max_records=500)
            for tp, messages in batch.items():
                if not messages:
                    continue
                first = first or time.monotonic()
                first_batch = first_batch or first - joining
                futures = [await producer.send(BASE_OUT, m.value, key=m.key) for m in messages]
                await asyncio.gather(*futures)
                await consumer.commit({tp: messages[-1].offset + 1})
                consumed += len(messages)
        wall = time.monotonic() - (first or time.monotonic())
    finally:
        await consumer.stop()
        await producer.stop()
    rate, _, _ = await offsets.rate(BASE_OUT, {}, await offsets.ends(BASE_OUT))
    # The same group again, just after its member left (as a restarted service joins its group).
    again = make_consumer(settings, BASE_IN, group_id="bench-forward")
    rejoining = time.monotonic()
    await again.start()
    rejoin = time.monotonic() - rejoining
    await again.stop()
    return {"raw_consume_produce_msgs_per_s": round(rate), "raw_consume_produce_wall_msgs_per_s": round(n / wall),
            "raw_first_batch_fresh_group_s": round(first_batch or 0, 3), "raw_rejoin_used_group_s": round(rejoin, 3)}


# -- the agent -----------------------------------------------------------------------------------

async def agent_stage(world: World, settings: KafkaSettings, work: Path, n: int) -> dict[str, Any]:
    export = work / "police-export.csv"
    say(f"  writing a {n}-row police export")
    police_offence_export(world.gazetteer, export, rows=n, bad_rows=0, seed=2026)
    progress: list[tuple[float, int]] = []
    say("  agent submit")
    started = time.monotonic()
    report = await submit(world.agent_config, export, partnership=world.partnership, dataset=catalogue()[DATASET],
                          keys=world.keys[POLICE], settings=settings,
                          on_progress=lambda count: progress.append((time.monotonic(), count)))
    elapsed = time.monotonic() - started
    out: dict[str, Any] = {"agent_rows": report.accepted, "agent_published": report.published,
                           "agent_seconds": round(elapsed, 2), "agent_rows_per_s": round(report.accepted / elapsed)}
    if progress:  # the first batch acknowledged: everything before it is read, validate, seal, outbox
        first_at, first_count = progress[0]
        out["agent_prepare_seconds"] = round(first_at - started, 2)
        if report.published > first_count and elapsed > first_at - started:
            out["agent_publish_msgs_per_s"] = round((report.published - first_count) / (started + elapsed - first_at))
    if report.waiting or report.rejected:
        out["agent_note"] = f"{report.rejected} rejected, {report.waiting} still waiting in the outbox"
    return out


# -- the sanitiser and the feed, in-process ------------------------------------------------------

async def _run_until(service_run: Callable[[asyncio.Event], Coroutine[Any, Any, Any]],
                     done: Callable[[], Awaitable[bool]], *, timeout: float, what: str) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(service_run(stop))

    def alive() -> None:
        if task.done():
            task.result()
            raise RuntimeError(f"{what}: the service stopped")

    try:
        await wait_for(done, timeout=timeout, what=what, alive=alive)
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


async def sanitiser_stage(world: World, settings: KafkaSettings, offsets: Offsets, work: Path,
                          timeout: float) -> dict[str, Any]:
    raw_ends, starts = await offsets.ends(RAW), await offsets.ends(SHARED)
    raw_end = sum(raw_ends.values())
    async with AuditLog(work / "sanitiser-audit.db") as audit:
        started = time.time()
        core = SanitiserCore(world.partnership, catalogue(), world.keys["sanitiser"], world.gazetteer)
        service = SanitiserService(core, settings, ledger=audit, group_id=IN_PROCESS_GROUP)

        async def done() -> bool:
            return await offsets.caught_up(IN_PROCESS_GROUP, RAW, raw_ends)

        await _run_until(service.run, done, timeout=timeout, what=f"the sanitiser over {raw_end} raw messages")
    ends = await offsets.ends(SHARED)
    rate, first, _ = await offsets.rate(SHARED, starts, ends)
    stats = service.stats
    return {"sanitiser_msgs_per_s": round(rate), "sanitiser_inputs": raw_end,
            "sanitiser_outputs": sum(ends.values()) - sum(starts.values()),
            "sanitiser_released": stats.released, "sanitiser_dead_lettered": sum(stats.dead_lettered.values()),
            "startup_in_process_s": round(first - started, 3)}


class ProbedStore(FeedStore):
    """The feed store, noting after each commit when it happened and how many records it held:
    a record is stored when its batch is committed (however the store writes the batch)."""

    def __init__(self, path: Path):
        super().__init__(path)
        self.commits: list[tuple[float, int]] = []

    async def commit(self) -> None:
        await super().commit()
        self.commits.append((time.time(), await self.count()))

    @property
    def held(self) -> int:
        return self.commits[-1][1] if self.commits else 0


async def feed_stage(world: World, settings: KafkaSettings, work: Path, expected: int,
                     timeout: float) -> dict[str, Any]:
    """Rate from the first commit that stored records to the last, counting what the later ones
    stored (the first batch's records are the start line, not part of the count)."""
    async with ProbedStore(work / "council-feed.db") as store, AuditLog(work / "council-feed.audit.db") as audit:
        started = time.time()
        feed = FeedService(world.partnership, catalogue(), world.keys[COUNCIL], COUNCIL, settings, store, audit=audit)

        async def done() -> bool:
            return store.held >= expected

        await _run_until(feed.run, done, timeout=timeout, what=f"the feed storing {expected} records")
    storing = [(at, held) for at, held in store.commits if held > 0]
    (first, first_held), (last, last_held) = storing[0], storing[-1]
    return {"feed_records_per_s": round((last_held - first_held) / max(last - first, 1e-3)),
            "feed_stored": last_held, "feed_startup_s": round(first - started, 3)}


# -- latency at a steady rate, services as processes ----------------------------------------------

class StorePoller(threading.Thread):
    """Polls a feed store another process writes, every `every` seconds, read-only: when each
    message id became visible (committed), and the feed's own insert time (received_at)."""

    def __init__(self, path: Path, every: float = 0.002):
        super().__init__(daemon=True)
        self.path, self.every = path, every
        self.seen: dict[str, tuple[float, float]] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        conn, last = None, 0
        try:
            while not self._halt.is_set():
                if conn is None and self.path.exists():
                    conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=1, check_same_thread=False)
                if conn is not None:
                    try:
                        rows = conn.execute("SELECT rowid, message_id, received_at FROM records WHERE rowid > ? "
                                            "ORDER BY rowid", (last,)).fetchall()
                    except sqlite3.OperationalError:
                        rows = []  # not initialised yet, or busy
                    now = time.time()
                    for rowid, message_id, received_at in rows:
                        self.seen.setdefault(message_id, (now, received_at))
                        last = rowid
                self._halt.wait(self.every)
        finally:
            if conn is not None:
                conn.close()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


def _service_args(world: World, work: Path, audit: str) -> list[str]:
    return ["sanitiser", "run", "--config", str(world.files.partnership), "--keys", str(world.files.keys["sanitiser"]),
            "--gazetteer", str(world.files.gazetteer), "--audit", str(work / audit)]


async def latency_stage(world: World, settings: KafkaSettings, offsets: Offsets, children: Children, work: Path,
                        rate: float, seconds: float, sanitisers: int) -> dict[str, Any]:
    total = max(1, int(rate * seconds))
    run = uuid.uuid4().hex[:8]
    records = records_for(catalogue()[DATASET], world.gazetteer, total + 1, seed=4242)
    warm = _seal(_sealer(world), records[0], f"warm-{run}")
    sealer = _sealer(world)  # a fresh sealer: the first timed record is under a new data key
    items = [_seal(sealer, record, f"lat-{run}-{index:06d}") for index, record in enumerate(records[1:])]
    say(f"  {total} records sealed in advance; starting the sanitiser and the council's feed as processes")

    # The processes' groups start at the current ends: they see only what this stage publishes.
    await offsets.place_group(SANITISER_GROUP, RAW, await offsets.ends(RAW))
    shared_start = await offsets.ends(SHARED)
    if not await offsets.caught_up(feed_group(COUNCIL), SHARED, shared_start):  # the feed stage failed
        await offsets.place_group(feed_group(COUNCIL), SHARED, shared_start)
    db = work / "council-latency.db"
    if sanitisers > 1 and not cli_has(world.env, "sanitiser", "run", option="--member"):
        say("  this CLI has no --member: one sanitiser process")
        sanitisers = 1
    sanitiser_names = [f"latency-sanitiser-{i + 1}" for i in range(sanitisers)]
    for i, name in enumerate(sanitiser_names):  # each with a fixed share of the partitions
        children.start(name, *_service_args(world, work, f"{name}-audit.db"),
                       *(["--member", f"{i + 1}/{sanitisers}"] if sanitisers > 1 else []))
    children.start("latency-feed", "feed", "run", "--config", str(world.files.partnership), "--as", COUNCIL,
                   "--db", str(db), "--keys", str(world.files.keys[COUNCIL]))
    poller = StorePoller(db)
    poller.start()
    producer = make_producer(settings)
    await producer.start()
    try:
        # One record through both services first: both have joined their groups before the clock starts.
        await producer.send_and_wait(key_topic(RAW), warm.key_grant or b"", key=warm.header.key_id.encode())
        await producer.send_and_wait(RAW, warm.envelope, key=warm.header.message_id.encode())
        warm_out = output_message_id(POLICE, warm.header.message_id)

        async def warmed() -> bool:
            return warm_out in poller.seen

        await wait_for(warmed, timeout=180, what="the warm-up record at the feed", alive=children.check_alive)
        say(f"  services ready; publishing {total} records at {rate:g}/s")
        published: dict[str, float] = {}
        grant_waits: list[float] = []
        futures = []
        begin = time.time() + 0.01
        for index, sealed in enumerate(items):
            delay = begin + index / rate - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if sealed.key_grant is not None:  # as the agent: the grant acknowledged before the record
                grant_started = time.time()
                await producer.send_and_wait(key_topic(RAW), sealed.key_grant, key=sealed.header.key_id.encode())
                grant_waits.append(time.time() - grant_started)
            published[sealed.header.message_id] = time.time()
            futures.append(await producer.send(RAW, sealed.envelope, key=sealed.header.message_id.encode()))
        await asyncio.gather(*futures)
        publish_seconds = time.time() - begin
        expected = {output_message_id(POLICE, mid): mid for mid in published}

        async def all_stored() -> bool:
            return all(out in poller.seen for out in expected)

        timed_out = None
        try:
            await wait_for(all_stored, timeout=60 + 3 * seconds, what="every timed record at the feed", every=0.05,
                           alive=children.check_alive)
        except BenchTimeout as exc:
            timed_out = str(exc)
    finally:
        await producer.stop()
        poller.stop()
        children.stop(*sanitiser_names, "latency-feed")

    shared_end = await offsets.ends(SHARED)
    output_at = {read_header(m.value).message_id: m.timestamp / 1000
                 for m in await offsets.read(SHARED, shared_start, shared_end)}
    total_s, insert_s, hop_sanitiser, hop_feed = [], [], [], []
    for out_id, mid in expected.items():
        if out_id not in poller.seen:
            continue
        seen_at, received_at = poller.seen[out_id]
        total_s.append(seen_at - published[mid])
        insert_s.append(received_at - published[mid])
        if out_id in output_at:
            hop_sanitiser.append(output_at[out_id] - published[mid])
            hop_feed.append(seen_at - output_at[out_id])
    first_mid = items[0].header.message_id
    first_out = output_message_id(POLICE, first_mid)
    new_key = [items[i].header.message_id for i in range(len(items)) if items[i].key_grant is not None]
    new_key_s = [poller.seen[output_message_id(POLICE, m)][0] - published[m] for m in new_key
                 if output_message_id(POLICE, m) in poller.seen]
    out: dict[str, Any] = {
        "latency_records": total, "latency_stored": len(total_s), "latency_rate_target": rate,
        "latency_sanitisers": sanitisers,
        "latency_rate_achieved": round(total / publish_seconds),
        **{k: v for k, v in summary_ms(total_s).items() if k != "count"},
        "first_record_ms": round((poller.seen[first_out][0] - published[first_mid]) * 1000, 1)
        if first_out in poller.seen else None,
        "new_key_records_ms": [round(s * 1000, 1) for s in new_key_s],
        "key_grant_ack_ms_max": round(max(grant_waits) * 1000, 1) if grant_waits else None,
        "insert": summary_ms(insert_s), "hop_raw_to_shared": summary_ms(hop_sanitiser),
        "hop_shared_to_stored": summary_ms(hop_feed),
    }
    if total_s:
        # How long after the last publish the last record became visible: well over the median
        # latency means the services fell behind the offered rate and the figures are queueing.
        last_seen = max(poller.seen[o][0] for o in expected if o in poller.seen)
        out["latency_drain_s"] = round(last_seen - max(published.values()), 3)
        behind = out["latency_drain_s"] > 1.0 and (out["p50_ms"] or 0) > 1000
        out["latency_kept_up"] = not behind
    if timed_out:
        out["latency_note"] = f"{timed_out}: {len(total_s)} of {total} stored"
    return out


# -- one vs two sanitiser processes in one group -------------------------------------------------

async def _sanitiser_run(world: World, settings: KafkaSettings, offsets: Offsets, children: Children, work: Path,
                         supply: list, label: str, count: int, flags: list[str], timeout: float) -> dict[str, Any]:
    """The supply published again, byte for byte and with the same keys (so onto the same
    partitions); then `count` CLI sanitiser processes with `flags` ("{i}" in one is the process's
    number from 1), each with an audit log of its own (nothing is skipped as a redelivery), until
    the CLI's group has committed the new end."""
    producer = make_producer(settings)
    await producer.start()
    try:
        futures = [await producer.send(RAW, m.value, key=m.key) for m in supply]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    raw_ends, starts = await offsets.ends(RAW), await offsets.ends(SHARED)
    names = [f"sanitiser-{label}-{count}-{i + 1}" for i in range(count)]
    say(f"  {count} sanitiser process(es) {' '.join(flags) or '(default mode)'} over {len(supply)} raw messages")
    started = time.time()
    for i, name in enumerate(names):
        children.start(name, *_service_args(world, work, f"{name}-audit.db"),
                       *(flag.replace("{i}", str(i + 1)) for flag in flags))

    async def done() -> bool:
        return await offsets.caught_up(SANITISER_GROUP, RAW, raw_ends)

    try:
        await wait_for(done, timeout=timeout, what=f"{count} sanitiser process(es)", every=0.25,
                       alive=children.check_alive)
    finally:
        children.stop(*names)
    stamps = await offsets.timestamps(SHARED, starts, await offsets.ends(SHARED))
    return {"msgs_per_s": round((len(stamps) - 1) / max(stamps[-1] - stamps[0], 1e-3)), "outputs": len(stamps),
            "longest_pause_s": round(max(b - a for a, b in zip(stamps, stamps[1:], strict=False)), 3)
            if len(stamps) > 1 else None,
            "startup_s": round(stamps[0] - started, 3),
            "received_per_process": [last_received(children.log(n)) for n in names]}


async def scaling_stage(world: World, settings: KafkaSettings, offsets: Offsets, children: Children, work: Path,
                        supply_ends: Positions, timeout: float) -> dict[str, Any]:
    """`exchange sanitiser run` over the agent's supply (the raw topic up to `supply_ends`) again:
    once alone as started by default (start-up to first output on an already-filled topic), then
    1 and 2 processes in the CLI's group, with --scale-out when this CLI has it (the processes
    then join the group and share the partitions), else as started by default."""
    supply = await offsets.read(RAW, {}, supply_ends)
    if not supply:
        raise RuntimeError("no supply on the raw topic to process again")
    scale_out = cli_has(world.env, "sanitiser", "run", option="--scale-out")
    flags = ["--scale-out"] if scale_out else []
    found: dict[str, Any] = {"scaling_inputs": len(supply), "scaling_partitions": len(supply_ends),
                             "scaling_mode": " ".join(flags) or "default"}
    if min((await offsets.committed(SANITISER_GROUP, RAW)).values()) < 0:  # the latency stage did not place it
        await offsets.place_group(SANITISER_GROUP, RAW, await offsets.ends(RAW))
    default = await _sanitiser_run(world, settings, offsets, children, work, supply, "default", 1, [], timeout)
    found.update({f"cli_default_{k}": v for k, v in default.items()})
    for count in (1, 2):
        if count == 1 and not scale_out:
            run = default  # the same thing: one process as started by default
        else:
            run = await _sanitiser_run(world, settings, offsets, children, work, supply, "group", count, flags,
                                       timeout)
        found.update({f"sanitiser_{count}proc_{k}": v for k, v in run.items()})
    found["two_vs_one_ratio"] = _ratio(found.get("sanitiser_2proc_msgs_per_s"), found.get("sanitiser_1proc_msgs_per_s"))
    if cli_has(world.env, "sanitiser", "run", option="--member"):
        run = await _sanitiser_run(world, settings, offsets, children, work, supply, "member", 2,
                                   ["--member", "{i}/2"], timeout)
        found.update({f"sanitiser_member_{k}": v for k, v in run.items()})
        found["member_vs_one_ratio"] = _ratio(found.get("sanitiser_member_msgs_per_s"),
                                              found.get("sanitiser_1proc_msgs_per_s"))
    return found


# -- the run -------------------------------------------------------------------------------------

async def _stage(results: dict[str, Any], name: str, stage: Awaitable[dict[str, Any]]) -> bool:
    say(f"[{name}]")
    began = time.monotonic()
    try:
        results.update(await stage)
        say(f"  done in {time.monotonic() - began:.1f} s")
        return True
    except Exception as exc:  # a benchmark reports a failed stage and goes on; it never fails the run
        results.setdefault("errors", {})[name] = f"{exc.__class__.__name__}: {exc}"
        say(f"  {name} did not complete: {exc.__class__.__name__}: {exc}")
        if os.environ.get("BENCH_TRACEBACK"):
            traceback.print_exc()
        return False


async def measure(args: argparse.Namespace, world: World, settings: KafkaSettings, work: Path,
                  children: Children) -> dict[str, Any]:
    n = args.records
    results: dict[str, Any] = {"records": n}
    slow = 120 + n / 40  # generous: the machine may be busy; a stage that times out is reported as such
    await ensure_topics(settings, [RAW, key_topic(RAW), SHARED, key_topic(SHARED), DEADLETTER_TOPIC, BASE_IN,
                                   BASE_IN_BATCHED, BASE_OUT, BASE_WARM])
    results.update(envelope_sizes(world, work))
    size = results["envelope_bytes"]
    say(f"envelope {size} bytes (mean of 200 sealed export rows); key grant {results['key_grant_bytes']} bytes")
    async with Offsets(settings) as offsets:

        async def baselines() -> dict[str, Any]:
            pipelined = await raw_produce(settings, BASE_IN, size, n, per_batch=None)
            batched = await raw_produce(settings, BASE_IN_BATCHED, size, n, per_batch=500)
            return {"raw_produce_msgs_per_s": round(pipelined), "raw_produce_batched_msgs_per_s": round(batched),
                    **await raw_consume_produce(settings, offsets, n, slow)}

        wanted = set(args.stages)
        if "baselines" in wanted:
            await _stage(results, "baselines", baselines())
        agent_ok = "agent" in wanted and await _stage(results, "agent", agent_stage(world, settings, work, n))
        supply_ends = await offsets.ends(RAW)  # the agent's supply, before anything else is published there
        if agent_ok and "sanitiser" in wanted:
            await _stage(results, "sanitiser", sanitiser_stage(world, settings, offsets, work, slow))
        if agent_ok and "feed" in wanted:
            await _stage(results, "feed", feed_stage(world, settings, work, results.get("agent_rows", n), slow))
        if "latency" in wanted:
            await _stage(results, "latency", latency_stage(world, settings, offsets, children, work,
                                                           args.latency_rate, args.latency_seconds,
                                                           args.latency_sanitisers))
        if agent_ok and "scaling" in wanted:
            await _stage(results, "scaling", scaling_stage(world, settings, offsets, children, work, supply_ends,
                                                           slow))
    results["agent_ratio"] = _ratio(results.get("agent_rows_per_s"), results.get("raw_produce_msgs_per_s"))
    results["sanitiser_ratio"] = _ratio(results.get("sanitiser_msgs_per_s"),
                                        results.get("raw_consume_produce_msgs_per_s"))
    results["feed_ratio"] = _ratio(results.get("feed_records_per_s"), results.get("raw_consume_produce_msgs_per_s"))
    return results


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "not measured"
    return f"{value:,}{unit}" if isinstance(value, int) else f"{value}{unit}"


def render(r: dict[str, Any]) -> str:
    raw, forward = r.get("raw_produce_msgs_per_s"), r.get("raw_consume_produce_msgs_per_s")
    lines = [
        f"pipeline on the embedded broker: {r['records']:,} records, envelope {_fmt(r.get('envelope_bytes'))} bytes "
        f"(key grant {_fmt(r.get('key_grant_bytes'))} bytes); {r['cpus']} CPUs, load average "
        f"{r['load_start']} at start, {r['load_end']} at end",
        "",
        "baselines (aiokafka alone on this broker, this run)",
        f"  raw produce, acks=all, pipelined              {_fmt(raw, ' msg/s')}",
        f"  raw produce, acknowledged per 500             {_fmt(r.get('raw_produce_batched_msgs_per_s'), ' msg/s')}",
        f"  raw consume -> produce, commit per batch      {_fmt(forward, ' msg/s')} (first to last output; "
        f"wall {_fmt(r.get('raw_consume_produce_wall_msgs_per_s'), ' msg/s')})",
        "",
        "stage                                  rate               baseline                    ratio",
        f"  agent submit, start to last ack      {_fmt(r.get('agent_rows_per_s'), ' rows/s'):<18} "
        f"raw produce {_fmt(raw, ' msg/s'):<15} {_fmt(r.get('agent_ratio'))}",
        f"  sanitiser, first to last output      {_fmt(r.get('sanitiser_msgs_per_s'), ' msg/s'):<18} "
        f"consume->produce {_fmt(forward, ''):<10} {_fmt(r.get('sanitiser_ratio'))}",
        f"  feed, first to last stored           {_fmt(r.get('feed_records_per_s'), ' rec/s'):<18} "
        f"consume->produce {_fmt(forward, ''):<10} {_fmt(r.get('feed_ratio'))}",
    ]
    if "agent_prepare_seconds" in r:
        lines.append(f"  (agent: {r['agent_seconds']} s in all, {r['agent_prepare_seconds']} s before its first batch "
                     f"was acknowledged (read, validate, seal, outbox); then "
                     f"{_fmt(r.get('agent_publish_msgs_per_s'), ' msg/s')} from the outbox)")
    if "latency_records" in r:
        lines += [
            "",
            f"latency, raw publish -> visible in the feed's store, {r['latency_records']:,} records at "
            f"{r['latency_rate_target']:g}/s (achieved {r['latency_rate_achieved']:,}/s; "
            f"{r.get('latency_sanitisers', 1)} sanitiser process(es) and the feed)",
            f"  p50 {_fmt(r.get('p50_ms'), ' ms')}, p99 {_fmt(r.get('p99_ms'), ' ms')}, "
            f"max {_fmt(r.get('max_ms'), ' ms')} ({r['latency_stored']:,} of {r['latency_records']:,} stored)",
            f"  first record (new data key)  {_fmt(r.get('first_record_ms'), ' ms')}; every record opening a new "
            f"data key: {r.get('new_key_records_ms')} ms",
            f"  hops: raw -> shared output p50 {_fmt(r['hop_raw_to_shared']['p50_ms'], ' ms')} "
            f"p99 {_fmt(r['hop_raw_to_shared']['p99_ms'], ' ms')}; shared output -> stored p50 "
            f"{_fmt(r['hop_shared_to_stored']['p50_ms'], ' ms')} "
            f"p99 {_fmt(r['hop_shared_to_stored']['p99_ms'], ' ms')}",
            f"  (feed's insert time instead of visibility: p50 {_fmt(r['insert']['p50_ms'], ' ms')}, "
            f"p99 {_fmt(r['insert']['p99_ms'], ' ms')})",
        ]
        if r.get("latency_kept_up") is False:
            lines.append(f"  the services did not keep up with {r['latency_rate_target']:g}/s: the last record was "
                         f"visible {r['latency_drain_s']} s after the last publish (queueing dominates)")
        if r.get("latency_note"):
            lines.append(f"  note: {r['latency_note']}")
    if "sanitiser_1proc_msgs_per_s" in r:
        lines += [
            "",
            f"sanitiser processes in one consumer group ({r['scaling_mode']}), data topics of "
            f"{r['scaling_partitions']} partition(s), {r['scaling_inputs']:,} raw messages a run",
        ]
        for count in (1, 2):
            lines.append(
                f"  {count} process{'es' if count > 1 else '  '}  "
                f"{_fmt(r.get(f'sanitiser_{count}proc_msgs_per_s'), ' msg/s')}"
                f"; received per process {r.get(f'sanitiser_{count}proc_received_per_process')}, outputs "
                f"{_fmt(r.get(f'sanitiser_{count}proc_outputs'))}, first output after "
                f"{_fmt(r.get(f'sanitiser_{count}proc_startup_s'), ' s')}, longest pause "
                f"{_fmt(r.get(f'sanitiser_{count}proc_longest_pause_s'), ' s')}")
        lines.append(f"  ratio 2/1    {_fmt(r.get('two_vs_one_ratio'))}")
        if "sanitiser_member_msgs_per_s" in r:
            lines.append(
                f"  2 processes, --member 1/2 and 2/2 (fixed shares, no group join)  "
                f"{_fmt(r.get('sanitiser_member_msgs_per_s'), ' msg/s')}; received per process "
                f"{r.get('sanitiser_member_received_per_process')}, first output after "
                f"{_fmt(r.get('sanitiser_member_startup_s'), ' s')}; ratio to 1 process "
                f"{_fmt(r.get('member_vs_one_ratio'))}")
    lines += [
        "",
        "start-up to first output on an already-filled topic",
        f"  SanitiserService in-process, as constructed by default   {_fmt(r.get('startup_in_process_s'), ' s')}",
        f"  `exchange sanitiser run`, as started by default           {_fmt(r.get('cli_default_startup_s'), ' s')} "
        f"(then {_fmt(r.get('cli_default_msgs_per_s'), ' msg/s')})",
        f"  `exchange sanitiser run {r.get('scaling_mode', '')}`, 1 process           "
        f"{_fmt(r.get('sanitiser_1proc_startup_s'), ' s')}",
        f"  baselines: a bare consumer's first batch in a new group "
        f"{_fmt(r.get('raw_first_batch_fresh_group_s'), ' s')}; "
        f"re-joining a group just left {_fmt(r.get('raw_rejoin_used_group_s'), ' s')}",
        "  (a process adds the interpreter, imports, the key file's Argon2id KDF and the gazetteer)",
        f"  (feed in-process, to its first batch stored: {_fmt(r.get('feed_startup_s'), ' s')})",
    ]
    for stage, error in r.get("errors", {}).items():
        lines.append(f"NOT MEASURED: {stage}: {error}")
    return "\n".join(lines)


STAGES = ("baselines", "agent", "sanitiser", "feed", "latency", "scaling")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20000, help="N (default 20000)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--latency-rate", type=float, default=1000.0, help="records per second (default 1000)")
    parser.add_argument("--latency-seconds", type=float, default=5.0, help="seconds of publishing (default 5)")
    parser.add_argument("--latency-sanitisers", type=int, default=2,
                        help="sanitiser processes in the latency stage, each with a fixed share (--member i/N) of "
                             "the partitions (default 2: one per core, as a partnership at this rate would run)")
    parser.add_argument("--stages", type=lambda text: text.split(","), default=list(STAGES),
                        help=f"the stages to run, comma-separated (default all: {','.join(STAGES)}; the sanitiser, "
                             "feed and scaling stages need the agent's)")
    add_partitions_option(parser)
    args = parser.parse_args()
    if not set(args.stages) <= set(STAGES):
        parser.error(f"--stages: unknown {', '.join(sorted(set(args.stages) - set(STAGES)))}")
    if args.records < 2 or args.latency_rate <= 0 or args.latency_seconds <= 0 or not 1 <= args.partitions <= 256:
        parser.error("--records must be at least 2; the latency rate and duration positive; --partitions 1 to 256")
    results: dict[str, Any] = {"cpus": os.cpu_count(), "load_start": round(os.getloadavg()[0], 2),
                               "partitions": args.partitions}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as folder:
        work = Path(folder)
        try:
            with EmbeddedBroker(log_path=work / "broker.log") as broker:
                say(f"broker on {broker.bootstrap}; partnership in {work}")
                world = make_world(work / "partnership", broker.bootstrap, partitions=args.partitions)
                settings = KafkaSettings(broker.bootstrap, partitions=args.partitions)
                with Children(world.env, work / "logs") as children:
                    results.update(asyncio.run(measure(args, world, settings, work, children)))
        except Exception as exc:  # the broker or the set-up itself: still a report, still exit 0
            results.setdefault("errors", {})["setup"] = f"{exc.__class__.__name__}: {exc}"
            say(f"set-up failed: {exc.__class__.__name__}: {exc}")
    results.update(load_end=round(os.getloadavg()[0], 2), seconds=round(time.monotonic() - started, 1))
    results.setdefault("records", args.records)
    print(json.dumps(results, indent=2) if args.json else render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
