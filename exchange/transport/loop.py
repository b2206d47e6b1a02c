"""The one consume loop of the exchange's services (sanitiser and feed).

    poll a batch  ->  handler.prepare(batch)   (one look-up for the whole batch, say)
                  ->  handler.handle(message) for each, in order
                  ->  publish what it produced (a key grant acknowledged before what follows it)
                  ->  wait for every acknowledgement
                  ->  handler.settle()   (store commit, audit, processed state)
                  ->  commit the group's offsets (every partition of the poll at once)

So an offset is committed only after everything the batch produced is acknowledged and every
store write is durable; a crash anywhere before that replays the batch, and the handlers'
idempotence (deterministic ids, stores that ignore ids they hold) makes the replay harmless.
The loop knows nothing of envelopes, records or SQLite: a handler does, and a handler can be
driven without a broker (tests/support has an in-memory consumer and producer).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from exchange._failpoints import failpoint
from exchange.core.messages import Handled, Incoming

__all__ = ["BatchConsumer", "ConsumeLoop", "Handler", "Producer"]


class BatchConsumer(Protocol):
    async def getmany(self, *partitions: Any, timeout_ms: int = 0,
                      max_records: int | None = None) -> Mapping[Any, Sequence[Incoming]]: ...
    async def commit(self, offsets: Mapping[Any, int]) -> None: ...


class Producer(Protocol):
    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> Awaitable[Any]: ...


class Handler(Protocol):
    async def prepare(self, messages: Sequence[Incoming]) -> None: ...
    async def handle(self, message: Incoming) -> Handled: ...
    async def settle(self, handled: Sequence[Handled]) -> None: ...


class ConsumeLoop:
    """Runs a handler over a consumer until `stop` is set (or, with `until_idle`, until no message
    has arrived for that many seconds). `before_batch` runs before a non-empty batch is handled
    (the sanitiser re-reads the partnership there); `every` lists (period in seconds, chore)
    pairs, each chore run at start and then at most that often (reports, retention)."""

    def __init__(self, consumer: BatchConsumer, handler: Handler, *, producer: Producer | None = None,
                 before_batch: Callable[[], Awaitable[None]] | None = None,
                 every: Sequence[tuple[float, Callable[[], Awaitable[None]]]] = (),
                 poll_ms: int = 500, max_records: int = 500, name: str = "loop"):
        self._consumer = consumer
        self._name = name  # names its crash points (exchange._failpoints)
        self._handler = handler
        self._producer = producer
        self._before_batch = before_batch
        self._chores = list(every)
        self._chores_last_run = [float("-inf")] * len(self._chores)
        self._poll_ms = poll_ms
        self._max_records = max_records

    async def run(self, stop: asyncio.Event, *, until_idle: float | None = None) -> None:
        last_activity = time.monotonic()
        failpoint(f"{self._name}.started")
        while not stop.is_set():
            await self._run_chores()
            batch = await self._consumer.getmany(timeout_ms=self._poll_ms, max_records=self._max_records)
            if batch and self._before_batch is not None:
                await self._before_batch()
            if any(batch.values()):
                await self.process(batch)
            if batch:
                last_activity = time.monotonic()
            elif until_idle is not None and time.monotonic() - last_activity >= until_idle:
                break

    async def process(self, batch: Mapping[Any, Sequence[Incoming]]) -> None:
        """One poll's messages, every partition's in one go: handle (each partition's in order),
        publish, settle once, commit every partition's offset at once (module docstring). One
        settle and one commit per poll, not per partition: the store's transaction and the audit's
        are the costs that do not shrink with the batch."""
        messages = [message for part in batch.values() for message in part]
        pending: list[Awaitable[Any]] = []
        results: list[Handled] = []
        await self._handler.prepare(messages)
        for message in messages:
            handled = await self._handler.handle(message)
            failpoint(f"{self._name}.handled")
            for out in handled.outputs:
                if self._producer is None:
                    raise RuntimeError("this loop has no producer, but its handler produced a message")
                future = await self._producer.send(out.topic, out.value, key=out.key)
                if out.is_key_grant:
                    await future  # the key is visible before any record sealed under it
                else:
                    pending.append(future)
            if handled.outputs:
                failpoint(f"{self._name}.sent")
            results.append(handled)
        await asyncio.gather(*pending)
        failpoint(f"{self._name}.acknowledged")
        await self._handler.settle(results)
        failpoint(f"{self._name}.settled")
        await self._consumer.commit({tp: part[-1].offset + 1 for tp, part in batch.items() if part})

    async def _run_chores(self) -> None:
        for index, (period, chore) in enumerate(self._chores):
            if time.monotonic() - self._chores_last_run[index] >= period:
                await chore()
                self._chores_last_run[index] = time.monotonic()
