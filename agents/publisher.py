"""Drain the outbox to the broker: in order, key grants acknowledged before the records sealed
under them, each item removed only after its acknowledgement; retried with backoff while the
broker is away."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from exchange._failpoints import failpoint
from exchange.storage.outbox import Outbox, OutboxItem
from exchange.transport.kafka import KafkaSettings, make_producer

log = logging.getLogger("exchange.agent.publisher")


async def drain_once(outbox: Outbox, producer: AIOKafkaProducer, *, batch: int = 500,
                     on_progress: Callable[[int], None] | None = None) -> int:
    """Send everything waiting; return how many were acknowledged. Raises KafkaError on failure."""
    sent = 0
    while True:
        items = await outbox.pending(batch)
        if not items:
            return sent
        in_flight: list[tuple[OutboxItem, asyncio.Future]] = []
        for item in items:
            if item.is_key_grant:
                # The grant is acknowledged before anything sealed under it is sent, so no record
                # becomes visible before the key it needs (what was sent before it may still fly).
                await (await producer.send(item.topic, item.value, key=item.kafka_key))
                await outbox.mark_published([item])
                sent += 1
            else:
                in_flight.append((item, await producer.send(item.topic, item.value, key=item.kafka_key)))
                failpoint("agent.sent")
        sent += await _settle(outbox, in_flight)
        if on_progress:
            on_progress(sent)


async def _settle(outbox: Outbox, in_flight: list[tuple[OutboxItem, asyncio.Future]]) -> int:
    if not in_flight:
        return 0
    results = await asyncio.gather(*(future for _, future in in_flight), return_exceptions=True)
    done = [item for (item, _), result in zip(in_flight, results, strict=True) if not isinstance(result, BaseException)]
    await outbox.mark_published(done)
    failpoint("agent.acknowledged")
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise failures[0]
    return len(done)


async def publish_with_retry(outbox: Outbox, settings: KafkaSettings, *, give_up_after: float,
                             on_progress: Callable[[int], None] | None = None,
                             on_wait: Callable[[int, float, float], None] | None = None) -> int:
    """Publish until the outbox is empty or `give_up_after` seconds pass with the broker away.

    Records that could not be sent stay in the outbox for the next run (`exchange agent flush`).
    """
    started = time.monotonic()
    delay = 0.5
    total = 0
    while True:
        producer = make_producer(settings)
        try:
            await producer.start()
            total += await drain_once(outbox, producer, on_progress=on_progress)
            return total
        except (KafkaError, OSError) as exc:
            await outbox.record_failure(f"{exc.__class__.__name__}: {exc}")
            stats = await outbox.stats()
            elapsed = time.monotonic() - started
            if on_wait:
                on_wait(stats.waiting, stats.oldest_created_at or time.time(), delay)
            log.warning("broker unavailable (%s); %d waiting; retry in %.1f s", exc.__class__.__name__, stats.waiting,
                        delay)
            if elapsed + delay > give_up_after:
                return total
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
        finally:
            await stop_quietly(producer)


async def stop_quietly(producer: AIOKafkaProducer) -> None:
    try:
        await producer.stop()
    except Exception:  # stopping a producer that never connected can raise; nothing to release
        pass
