"""The published partnership state: the registry's chain of signed decisions on the compacted
`governance` topic (one message per decision, keyed by its version), and the follower every
site runs to derive the live partnership from it.

A follower believes nothing it cannot check: it replays the chain from the founding decision
with exchange.core.ledger against the site's trust anchor (the founding responsible
authorities' keys, configured once). A message that is not the next valid decision is refused
and counted; the follower keeps the state it had. Who may write the topic is the broker's ACLs
(only the registry's operator); a forged or replaced decision is refused whoever wrote it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from aiokafka.errors import KafkaError

from exchange.core.ledger import Decision, Ledger, TrustAnchor
from exchange.core.names import GOVERNANCE_TOPIC
from exchange.core.partnership import Partnership
from exchange.core.schemas import Catalogue
from exchange.crypto.decisions import verify_signature
from exchange.errors import DecisionRefused, GovernanceError, TransportUnavailable
from exchange.transport.kafka import KafkaSettings, ensure_topics, make_producer
from exchange.transport.readers import KeyTopicReader, read_topic

__all__ = ["GovernanceFollower", "publish_decisions"]

log = logging.getLogger("exchange.governance")


def _key(version: int) -> bytes:
    return b"%010d" % version


async def publish_decisions(settings: KafkaSettings, decisions: Sequence[Decision]) -> int:
    """Publish each decision the topic does not hold as it is (missing, or replaced by something
    else under its key: the registry's decision then supersedes it); acks=all. How many were sent."""
    await ensure_topics(settings, [GOVERNANCE_TOPIC])
    held: dict[int, str] = {}
    for value in await read_topic(settings, GOVERNANCE_TOPIC, quiet_ms=300):
        try:
            decision = Decision.from_json(value)
        except DecisionRefused:
            continue
        held[decision.version] = decision.digest()  # the last under each key is what compaction keeps
    missing = [d for d in decisions if held.get(d.version) != d.digest()]
    if not missing:
        return 0
    producer = make_producer(settings)
    await producer.start()
    try:
        for decision in missing:
            await producer.send_and_wait(GOVERNANCE_TOPIC, decision.to_json().encode("utf-8"),
                                         key=_key(decision.version))
    except KafkaError as exc:
        raise TransportUnavailable(f"the governance topic could not be written: {exc.__class__.__name__}") from exc
    finally:
        await producer.stop()
    return len(missing)


class GovernanceFollower:
    """Follows the governance topic: `start()` reads the chain to its end (waiting up to
    `wait_for_founding` seconds for a founding decision), `refresh()` applies what is new and says
    whether the state moved. `partnership()` is the live Partnership for the services."""

    def __init__(self, settings: KafkaSettings, anchor: TrustAnchor, catalogue: Catalogue, *,
                 base: Partnership | None = None):
        self.anchor = anchor
        self.ledger = Ledger(catalogue, verify_signature, anchor=anchor)
        self._base = base
        self._accepted: dict[int, str] = {}  # version -> digest, to tell a redelivery from a substitute
        self._early: dict[int, list[Decision]] = {}  # read before the decision they follow (candidates)
        self.refused = 0
        self._reader = KeyTopicReader(settings, [GOVERNANCE_TOPIC], accept=self.accept,
                                      refusals=(GovernanceError,))

    @property
    def version(self) -> int:
        return self.ledger.version

    def partnership(self) -> Partnership:
        return self.ledger.partnership(self._base)

    async def start(self, *, wait_for_founding: float = 30.0) -> None:
        await self._reader.start()
        deadline = time.monotonic() + wait_for_founding
        while True:
            await self.refresh()
            if self.ledger.founded:
                return
            if time.monotonic() >= deadline:
                await self.stop()
                raise GovernanceError(f"no founding decision of {self.anchor.partnership!r} on the "
                                      f"{GOVERNANCE_TOPIC} topic: the registry publishes it with "
                                      "`exchange governance publish`")
            await asyncio.sleep(0.5)

    async def stop(self) -> None:
        await self._reader.stop()

    async def refresh(self) -> bool:
        """Read and apply what is new on the topic; True if the partnership moved."""
        before = self.ledger.version
        await self._reader.refresh()
        return self.ledger.version != before

    async def partnership_source(self) -> Partnership:
        """For SanitiserService(partnership_source=...)."""
        await self.refresh()
        return self.partnership()

    def accept(self, value: bytes) -> None:
        try:
            decision = Decision.from_json(value, origin=f"{GOVERNANCE_TOPIC} topic")
        except DecisionRefused:
            self._refuse("a message that is not a decision")
            raise
        digest = decision.digest()
        if decision.version in self._accepted:
            if self._accepted[decision.version] != digest:
                self._refuse(f"a different decision {decision.version} from the one already accepted")
                raise DecisionRefused(f"decision {decision.version} substituted")
            return  # read again (a restart, a compaction): nothing new
        self._early.setdefault(decision.version, []).append(decision)
        refusal: GovernanceError | None = None
        while (candidates := self._early.pop(self.ledger.version + 1, None)) is not None:
            for candidate in candidates:  # a forged one beside the real one: the real one applies
                try:
                    self.ledger.apply(candidate)
                except GovernanceError as exc:
                    self._refuse(f"decision {candidate.version} ({candidate.action} {candidate.subject}): {exc}")
                    refusal = exc
                    continue
                self._accepted[candidate.version] = candidate.digest()
                log.info("governance: decision %d (%s %s) accepted", candidate.version, candidate.action,
                         candidate.subject)
                break
            else:
                break  # none of them follows the chain: wait for one that does
        if refusal is not None and decision.version not in self._accepted:
            raise refusal

    def _refuse(self, what: str) -> None:
        self.refused += 1
        log.error("governance: refused %s; the partnership stays at version %d", what, self.ledger.version)
