"""Publishing the aggregate tables (exchange.core.aggregates) from the sanitiser's counts
(exchange.storage.tallies) to the signatories the partnership names for them: a chore of the
sanitiser service, run at start and every `--aggregate-every` seconds.

A table is published again only when it changed (its bytes, or the set of its recipients), for
the current month and the twelve before it, each beside the same month a year earlier.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable

from exchange.core.aggregates import aggregate_table, last_year, month_of
from exchange.core.avro import codec
from exchange.core.marking import OFFICIAL, parse_marking
from exchange.services.sanitiser_core import SanitiserCore
from exchange.storage.tallies import TallyStore
from exchange.transport.loop import Producer

__all__ = ["AggregatePublisher"]

log = logging.getLogger("exchange.aggregates")
MONTHS_PUBLISHED = 13


class AggregatePublisher:
    def __init__(self, core: SanitiserCore, tallies: TallyStore, *,
                 today: Callable[[], dt.date] = dt.date.today):
        self.core = core
        self.tallies = tallies
        self.today = today
        self.published = 0

    def _recent_months(self) -> set[str]:
        today = self.today()
        year, month, months = today.year, today.month, set()
        for _ in range(MONTHS_PUBLISHED):
            months.add(month_of(dt.date(year, month, 1)))
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return months

    async def publish(self, producer: Producer) -> int:
        """Seal and send every table that changed since it was last published; returns how many."""
        recipients = self.core.partnership.aggregates_for()
        if not recipients:
            return 0
        await self.tallies.forget_before(self.today())
        table_codec, sent = codec("aggregate_table"), 0
        threshold = self.core.partnership.aggregate_threshold
        recent = self._recent_months()
        for dataset_id, month in await self.tallies.months():
            if month not in recent or dataset_id not in self.core.catalogue:
                continue
            dataset = self.core.catalogue[dataset_id]
            earlier = last_year(month)
            body = aggregate_table(dataset, month, await self.tallies.counts(dataset_id, month),
                                   await self.tallies.counts(dataset_id, earlier), threshold)
            payload = table_codec.encode(body)
            digest = hashlib.sha256(payload + ",".join(s.id for s in recipients).encode()).hexdigest()
            if await self.tallies.published_digest(dataset_id, month) == digest:
                continue
            marking = OFFICIAL  # the highest marking any counted record was released under
            for text in await self.tallies.markings(dataset_id, (month, earlier)):
                marking = marking.at_least(parse_marking(text, self.core.partnership.legacy_markings))
            pending = []
            for out in self.core.seal_aggregate(dataset_id, month, payload, str(marking)):
                future = await producer.send(out.topic, out.value, key=out.key)
                if out.is_key_grant:
                    await future  # visible before the table sealed under it
                else:
                    pending.append(future)
            for future in pending:
                await future
            await self.tallies.mark_published(dataset_id, month, digest)
            sent += 1
        if sent:
            log.info("published %d aggregate table(s) to %s", sent, ", ".join(s.id for s in recipients))
        self.published += sent
        return sent
