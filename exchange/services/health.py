"""What a running daemon is doing, for its operators: JSON on `GET /status` and Prometheus metrics
on `GET /metrics`, served from a thread on 127.0.0.1 only (a request naming another host is
refused, as the briefing server refuses it: another site's page reaching 127.0.0.1 by DNS
rebinding).

    health = sanitiser_health(service)             # or Health(name) and register(collector)
    with health.serve(port=0) as server:           # inside the daemon's event loop
        print(server.url)                          # http://127.0.0.1:PORT
        await service.run(stop)

A collector is a function, plain or a coroutine function, returning a `Reading`: its section of the
status document, its metric families, and the last error of each kind it knows of. Collectors are
called at every request and read the service's live figures (SanitiserStats, FeedStats, the
outbox, the consumer): nothing is counted twice, and the metrics live in a registry of this
process's own (never prometheus-client's global one). A plain collector runs on the server's
thread (it only reads numbers); a coroutine runs on the daemon's event loop, where its consumer
and files live, and one that does not answer within `timeout` seconds is reported as unavailable
rather than holding the request.

What leaves: service, dataset, topic, producer and signatory ids, reason codes, exception class
names, counts and times. Never a record's content, a personal value, a key or an exception's
message (which could quote a value).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import json
import os
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from exchange.services._local_http import LocalHandler, LocalServer
from exchange.services.feed_core import FeedStats
from exchange.services.sanitiser_core import SanitiserStats
from exchange.storage.feed_store import FeedStore
from exchange.storage.outbox import OutboxStats

__all__ = [
    "Health", "HealthServer", "Reading", "agent_health", "briefing_health", "consumer_lag", "consumer_lag_collector",
    "feed_collector", "feed_health", "fetch_status", "inbox_collector", "outbox_collector", "sanitiser_collector",
    "sanitiser_health", "store_collector",
]

COLLECT_TIMEOUT = 5.0  # seconds a coroutine collector may take on the daemon's loop

HealthCollector = Callable[[], "Reading | Awaitable[Reading]"]


@dataclass
class Reading:
    """What one collector read: its part of the status document, its metric families, and the
    last error of each kind (exception class name -> epoch seconds)."""

    status: dict[str, Any] = field(default_factory=dict)
    metrics: Sequence[Metric] = ()
    errors: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Result:
    collector: str
    reading: Reading | None
    failure: str | None = None  # the exception's class name when the collector failed


def _iso(at: float | None) -> str | None:
    return None if at is None else dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="seconds")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("csp-exchange")
    except PackageNotFoundError:
        return "unknown"


class Health:
    """One daemon's health: its collectors, its private metrics registry, and its server."""

    def __init__(self, name: str, *, timeout: float = COLLECT_TIMEOUT, clock: Callable[[], float] = time.time):
        self.name = name
        self.timeout = timeout
        self.clock = clock
        self.started_at = clock()
        self.version = _version()
        self._collectors: list[HealthCollector] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Scrape(self))

    def register(self, collector: HealthCollector) -> HealthCollector:
        """Add a collector (returned, so this can decorate a function)."""
        self._collectors.append(collector)
        return collector

    def bind(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """The event loop coroutine collectors run on (serve() binds the running one)."""
        self._loop = loop

    # -- reading -------------------------------------------------------------------------------

    def read(self) -> list[_Result]:
        """Call every collector now. Not from the bound loop's own thread (a coroutine collector
        waits for that loop): the server calls it from its thread."""
        results = []
        for collector in self._collectors:
            name = getattr(collector, "__name__", type(collector).__name__)
            try:
                outcome = collector()
                if inspect.isawaitable(outcome):
                    outcome = self._wait(outcome)
                results.append(_Result(name, outcome))
            except Exception as exc:  # the class only: a message could quote a value
                results.append(_Result(name, None, exc.__class__.__name__))
        return results

    def _wait(self, awaitable: Awaitable[Reading]) -> Reading:
        async def wait() -> Reading:
            return await awaitable

        loop = self._loop
        if loop is None or loop.is_closed():
            return asyncio.run(wait())
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            raise RuntimeError("a coroutine collector cannot be read from its own event loop's thread")
        future = asyncio.run_coroutine_threadsafe(wait(), loop)
        try:
            return future.result(timeout=self.timeout)
        except TimeoutError:
            future.cancel()
            raise

    def status(self, results: Sequence[_Result] | None = None) -> dict[str, Any]:
        """The status document (GET /status)."""
        results = self.read() if results is None else results
        now = self.clock()
        document: dict[str, Any] = {
            "service": self.name, "version": self.version, "pid": os.getpid(), "started_at": _iso(self.started_at),
            "uptime_seconds": round(now - self.started_at, 1),
        }
        errors: dict[str, float] = {}
        unavailable: dict[str, str] = {}
        for result in results:
            if result.reading is None:
                unavailable[result.collector] = result.failure or "unknown"
                continue
            document.update(result.reading.status)
            _merge_errors(errors, result.reading.errors)
        last = max(errors.items(), key=lambda item: item[1], default=None)
        document["last_error"] = {"kind": last[0], "at": _iso(last[1])} if last else None
        document["errors"] = {kind: _iso(at) for kind, at in sorted(errors.items())}
        if unavailable:
            document["unavailable"] = unavailable
        return document

    def metrics(self) -> bytes:
        """The Prometheus text exposition of this process's registry (GET /metrics)."""
        return generate_latest(self.registry)

    def families(self, results: Sequence[_Result] | None = None) -> list[Metric]:
        results = self.read() if results is None else results
        info = GaugeMetricFamily("exchange_service_info", "The exchange daemon serving these metrics (always 1).",
                                 labels=["service", "version"])
        info.add_metric([self.name, self.version], 1)
        started = GaugeMetricFamily("exchange_service_start_time_seconds",
                                    "When this daemon started (Unix time).", value=self.started_at)
        up = GaugeMetricFamily("exchange_health_collector_up",
                               "1 when the collector answered at this scrape, 0 when it failed or timed out.",
                               labels=["collector"])
        merged: dict[str, Metric] = {}
        errors: dict[str, float] = {}
        for result in results:
            up.add_metric([result.collector], 0 if result.reading is None else 1)
            if result.reading is None:
                continue
            _merge_errors(errors, result.reading.errors)
            for family in result.reading.metrics:
                if family.name in merged:
                    merged[family.name].samples.extend(family.samples)
                else:
                    merged[family.name] = family
        last_error = GaugeMetricFamily("exchange_last_error_timestamp_seconds",
                                       "When the daemon last met an unexpected error of this kind (exception "
                                       "class; Unix time). Its message is never recorded.", labels=["kind"])
        for kind, at in sorted(errors.items()):
            last_error.add_metric([kind], at)
        return [info, started, up, *merged.values(), last_error]

    # -- serving -------------------------------------------------------------------------------

    def serve(self, port: int = 0) -> HealthServer:
        """Start serving on 127.0.0.1:`port` (0: any free port); binds the running event loop, if any,
        for coroutine collectors. Use as a context manager, or call stop()."""
        try:
            self.bind(asyncio.get_running_loop())
        except RuntimeError:
            pass
        return HealthServer(self, port).start()


def _merge_errors(into: dict[str, float], errors: Mapping[str, float]) -> None:
    for kind, at in errors.items():
        into[kind] = max(at, into.get(kind, at))


class _Scrape(Collector):
    """The registry's one collector: every registered collector, read at scrape time."""

    def __init__(self, health: Health):
        self._health = health

    def collect(self) -> Iterable[Metric]:
        return self._health.families()


class _Handler(LocalHandler):
    server: _Server
    server_version = "exchange-health"

    def do_GET(self) -> None:
        if self._refused_host():
            return
        path = self.path.split("?", 1)[0]
        health = self.server.health
        try:
            if path == "/metrics":
                self._send(HTTPStatus.OK, health.metrics(), CONTENT_TYPE_LATEST)
            elif path == "/status":
                body = json.dumps(health.status(), indent=2, sort_keys=False).encode() + b"\n"
                self._send(HTTPStatus.OK, body, "application/json")
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found: /status and /metrics only\n", "text/plain; charset=utf-8")
        except Exception as exc:  # the class only, never a traceback
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, f"unavailable: {type(exc).__name__}\n".encode(),
                       "text/plain; charset=utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], health: Health):
        super().__init__(address, _Handler)
        self.health = health


class HealthServer(LocalServer):
    """/status and /metrics of one Health on 127.0.0.1:`port`, served from a thread."""

    def __init__(self, health: Health, port: int = 0):
        self.health = health
        super().__init__(_Server(("127.0.0.1", port), health), f"{health.name}-health")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def fetch_status(url: str, *, timeout: float = 10.0) -> dict[str, Any]:
    """A daemon's status document, from its base URL (or the /status URL itself). Raises OSError
    (unreachable, refused, an HTTP error) or ValueError (not a status document)."""
    base = url.rstrip("/")
    target = base if base.endswith("/status") else base + "/status"
    if not target.startswith(("http://", "https://")):
        raise ValueError(f"{url!r} is not an http:// URL")
    with urllib.request.urlopen(target, timeout=timeout) as response:  # the scheme is checked above
        document = json.loads(response.read().decode("utf-8"))
    if not isinstance(document, dict) or "service" not in document:
        raise ValueError(f"{target} did not answer with an exchange status document")
    return document


# -- collectors ------------------------------------------------------------------------------------


def _counter(name: str, documentation: str, labels: Sequence[str] = (), samples: Iterable[tuple[Sequence[str], float]]
             = ()) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=list(labels))
    for values, value in samples:
        family.add_metric(list(values), value)
    return family


def _gauge(name: str, documentation: str, labels: Sequence[str] = (), samples: Iterable[tuple[Sequence[str], float]]
           = ()) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    for values, value in samples:
        family.add_metric(list(values), value)
    return family


def sanitiser_collector(stats: Callable[[], SanitiserStats]) -> Callable[[], Reading]:
    """The sanitiser's counts: messages by outcome, dead letters by reason, supplies per producer."""

    def sanitiser() -> Reading:
        s = stats()
        dead = {str(reason): count for reason, count in dict(s.dead_lettered).items()}
        receipts = {str(producer): count for producer, count in dict(s.receipts).items()}
        last_supply = dict(s.last_supply)
        withheld = {"no_recipient": s.withheld_no_recipient, "originator_restricted": s.withheld_by_originator}
        outcomes = {"released": s.released, "dead_lettered": sum(dead.values()), "duplicate": s.duplicates,
                    "withheld": sum(withheld.values()), "metadata": s.metadata, "withdrawal": s.withdrawals}
        now = time.time()
        metrics = [
            _counter("exchange_sanitiser_received", "Messages the sanitiser consumed from the raw topics.",
                     samples=[((), s.received)]),
            _counter("exchange_sanitiser_messages",
                     "Messages consumed, by what became of them: released (records sealed for subscribers), "
                     "dead_lettered, duplicate (a redelivery skipped), withheld (no recipient, or the originator's "
                     "handling), metadata (supply metadata), withdrawal.", ["outcome"],
                     [((outcome,), value) for outcome, value in outcomes.items()]),
            _counter("exchange_sanitiser_dead_letters", "Messages dead-lettered, by reason code.", ["reason"],
                     [((reason,), count) for reason, count in sorted(dead.items())]),
            _counter("exchange_sanitiser_withheld", "Records released to nobody, by reason code.", ["reason"],
                     [((reason,), count) for reason, count in withheld.items()]),
            _counter("exchange_sanitiser_moved", "Records moved to a qualifying postcode (fewer than k households).",
                     samples=[((), s.moved)]),
            _counter("exchange_sanitiser_redactions", "Free-text redactions made.", samples=[((), s.redactions)]),
            _counter("exchange_sanitiser_receipts", "Messages received whose producer's signature verified, by "
                     "producer.", ["producer"], [((p,), n) for p, n in sorted(receipts.items())]),
            _gauge("exchange_last_supply_timestamp_seconds", "When the last message from this producer arrived "
                   "(signature verified; Unix time).", ["producer"],
                   [((p,), at) for p, at in sorted(last_supply.items())]),
        ]
        status = {
            "sanitiser": {"received": s.received, **outcomes, "dead_letters": dict(sorted(dead.items())),
                          "withheld_by_reason": withheld, "moved": s.moved, "redactions": s.redactions},
            "producers": {p: {"receipts": receipts.get(p, 0), "last_supply": _iso(at),
                              "last_supply_age_seconds": round(max(0.0, now - at), 1)}
                          for p, at in sorted(last_supply.items())},
        }
        return Reading(status, metrics, dict([s.last_error]) if s.last_error else {})

    return sanitiser


FEED_OUTCOMES = ("stored", "superseded", "withdrawn", "duplicate", "refused", "destroyed")


def feed_collector(stats: Callable[[], FeedStats], signatory: str | None = None) -> Callable[[], Reading]:
    """A feed's counts: records stored, superseded, withdrawn, refused (FeedStats)."""

    def feed() -> Reading:
        s = stats()
        outcomes = {"stored": s.stored, "superseded": s.superseded, "withdrawn": s.withdrawn,
                    "duplicate": s.duplicates, "refused": s.refused, "destroyed": s.destroyed}
        metrics = [
            _counter("exchange_feed_records",
                     "Records by what the feed did with them: stored (new), superseded (a corrected version "
                     "replaced one held), withdrawn (deleted at the originator's request), duplicate (already "
                     "held), refused (could not be opened or accepted; a message), destroyed (at retention).",
                     ["outcome"], [((outcome,), outcomes[outcome]) for outcome in FEED_OUTCOMES]),
            _counter("exchange_feed_supplies", "Supply metadata messages received.", samples=[((), s.supplies)]),
            _counter("exchange_feed_aggregate_tables", "Aggregate tables received.", samples=[((), s.aggregates)]),
        ]
        section: dict[str, Any] = {"signatory": signatory} if signatory else {}
        section.update(outcomes, supplies=s.supplies, aggregate_tables=s.aggregates)
        return Reading({"feed": section}, metrics)

    return feed


async def consumer_lag(consumer: Any) -> dict[tuple[str, int], int]:
    """Messages not yet done, per (topic, partition) assigned to `consumer` (an AIOKafkaConsumer;
    None: {}): the end offset minus the group's committed offset (which the services commit only
    once a batch is settled), or minus the beginning offset where nothing was committed yet."""
    if consumer is None:
        return {}
    partitions = sorted(consumer.assignment())
    if not partitions:
        return {}
    ends = await consumer.end_offsets(partitions)
    committed = await asyncio.gather(*(consumer.committed(tp) for tp in partitions))
    never = [tp for tp, offset in zip(partitions, committed, strict=True) if offset is None]
    starts = await consumer.beginning_offsets(never) if never else {}
    return {(tp.topic, tp.partition): max(0, ends[tp] - (starts[tp] if offset is None else offset))
            for tp, offset in zip(partitions, committed, strict=True)}


def consumer_lag_collector(lag: Callable[[], Awaitable[Mapping[tuple[str, int], int]]]) -> Callable[[],
                                                                                                    Awaitable[Reading]]:
    """The consumer's lag per partition (a coroutine: it asks the broker, on the daemon's loop)."""

    async def consumer_lag() -> Reading:
        found = dict(await lag())
        metrics = [_gauge("exchange_consumer_lag", "Messages on the partition not yet processed and committed "
                          "(end offset minus committed offset).", ["topic", "partition"],
                          [((topic, str(partition)), value) for (topic, partition), value in sorted(found.items())])]
        status = {"consumer_lag": {"total": sum(found.values()),
                                   "partitions": {f"{topic}[{partition}]": value
                                                  for (topic, partition), value in sorted(found.items())}}}
        return Reading(status, metrics)

    return consumer_lag


def outbox_collector(stats: Callable[[], Awaitable[OutboxStats]],
                     clock: Callable[[], float] = time.time) -> Callable[[], Awaitable[Reading]]:
    """An agent's outbox: records waiting for the broker and since when (exchange.storage.outbox)."""

    async def outbox() -> Reading:
        s = await stats()
        age = max(0.0, clock() - s.oldest_created_at) if s.waiting and s.oldest_created_at else 0.0
        metrics = [
            _gauge("exchange_outbox_waiting", "Sealed messages in the outbox, waiting for the broker's "
                   "acknowledgement.", samples=[((), s.waiting)]),
            _gauge("exchange_outbox_oldest_age_seconds", "Age of the oldest message waiting in the outbox (0 when "
                   "none waits).", samples=[((), age)]),
            _counter("exchange_outbox_published", "Messages published from the outbox, ever.",
                     samples=[((), s.published)]),
        ]
        status = {"outbox": {"waiting": s.waiting, "oldest_waiting_since": _iso(s.oldest_created_at)
                             if s.waiting else None, "oldest_age_seconds": round(age, 1), "published": s.published}}
        return Reading(status, metrics)

    return outbox


class InboxLike(Protocol):
    """What the inbox collector reads of agents.inbox.Inbox."""

    outcomes: list[Any]
    decisions: dict[str, Any]
    watching: bool
    last_error: tuple[str, float] | None


INBOX_OUTCOMES = ("processed", "deleted", "failed", "waiting", "gone")


def inbox_collector(inbox: InboxLike, *, signatory: str | None = None,
                    dataset: str | None = None) -> Callable[[], Reading]:
    """The agent's inbox: files by what became of them, files waiting now, messages published."""

    def agent_inbox() -> Reading:
        outcomes = list(inbox.outcomes)
        decisions = list(dict(inbox.decisions).values())
        files = {went: sum(1 for o in outcomes if o.went == went) for went in INBOX_OUTCOMES}
        published = sum(o.count("published") for o in outcomes)
        waiting_now = sum(1 for d in decisions if str(d.action) == "wait")
        metrics = [
            _counter("exchange_agent_files", "Exports the agent handled, by what became of them (waiting: left in "
                     "the inbox for another try, counted at each try).", ["outcome"],
                     [((went,), files[went]) for went in INBOX_OUTCOMES]),
            _gauge("exchange_agent_inbox_waiting", "Exports in the inbox waiting: still being written, or for a "
                   "retry.", samples=[((), waiting_now)]),
            _counter("exchange_agent_messages_published", "Messages the agent's submissions published.",
                     samples=[((), published)]),
            _gauge("exchange_agent_watching", "1 while the filesystem reports changes to the inbox (inotify); 0 "
                   "when it is looked at every few seconds.", samples=[((), int(inbox.watching))]),
        ]
        section: dict[str, Any] = {}
        if signatory:
            section["signatory"] = signatory
        if dataset:
            section["dataset"] = dataset
        section.update(files=files, waiting_in_inbox=waiting_now, published=published, watching=inbox.watching)
        return Reading({"agent": section}, metrics, dict([inbox.last_error]) if inbox.last_error else {})

    return agent_inbox


def store_collector(db: Path) -> Callable[[], Reading]:
    """The records a feed store holds, read from outside (read-only; the feed process writes it)."""

    def feed_store() -> Reading:
        held = FeedStore.count_from_outside(Path(db))
        metrics = [_gauge("exchange_feed_store_records", "Records the feed store holds now.", samples=[((), held)])]
        return Reading({"store": {"records": held}}, metrics)

    return feed_store


# -- each daemon's Health ----------------------------------------------------------------------------


class _Consuming(Protocol):
    async def lag(self) -> dict[tuple[str, int], int]: ...


class _SanitiserLike(_Consuming, Protocol):
    @property
    def stats(self) -> SanitiserStats: ...


class _FeedLike(_Consuming, Protocol):
    @property
    def stats(self) -> FeedStats: ...

    @property
    def signatory(self) -> Any: ...


def sanitiser_health(service: _SanitiserLike) -> Health:
    """`exchange sanitiser run`: its counts and its consumer's lag."""
    health = Health("sanitiser")
    health.register(sanitiser_collector(lambda: service.stats))
    health.register(consumer_lag_collector(service.lag))
    return health


def feed_health(service: _FeedLike) -> Health:
    """`exchange feed run`: its counts and its consumer's lag."""
    health = Health("feed")
    health.register(feed_collector(lambda: service.stats, service.signatory.id))
    health.register(consumer_lag_collector(service.lag))
    return health


def agent_health(inbox: InboxLike, outbox_stats: Callable[[], Awaitable[OutboxStats]], *,
                 signatory: str | None = None, dataset: str | None = None) -> Health:
    """`exchange agent run`: its inbox and its outbox."""
    health = Health("agent")
    health.register(inbox_collector(inbox, signatory=signatory, dataset=dataset))
    health.register(outbox_collector(outbox_stats))
    return health


def briefing_health(db: Path) -> Health:
    """`exchange briefing serve`: the store it serves from."""
    health = Health("briefing")
    health.register(store_collector(db))
    return health
