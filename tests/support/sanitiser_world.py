"""A sanitiser core on in-memory topics, and a supplier that seals for it: the world the broker-free
tests of the sanitiser and feed cores run in."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

from exchange.core.avro import codec
from exchange.core.names import DEADLETTER_TOPIC, key_topic, raw_topic, shared_topic
from exchange.core.partnership import Partnership
from exchange.core.schemas import catalogue
from exchange.crypto import _primitives as primitives
from exchange.crypto import envelope as envelope_module
from exchange.crypto.envelope import Header, Sealer
from exchange.crypto.keys import KeyPair
from exchange.services.sanitiser_core import SanitiserCore
from exchange.testing.partnership import DATASET, POLICE
from exchange.testing.records import records_for
from exchange.transport.loop import ConsumeLoop
from tests.support.fakes import (
    FakeConsumer,
    FakeKeyReader,
    FakeProducer,
    MemoryAudit,
    Topics,
)

TODAY = dt.date.today()
RAW = raw_topic(DATASET)
SHARED = shared_topic(DATASET)


class World:
    """One sanitiser core wired to in-memory topics, and a police supplier that seals for it."""

    def __init__(self, partnership: Partnership, party_keys: dict[str, KeyPair], gazetteer, *,
                 police_keys: KeyPair | None = None, producer: str = POLICE):
        self.partnership = partnership
        self.keys = party_keys
        self.topics = Topics()
        self.audit = MemoryAudit()
        self.state = self.audit  # the processed inputs live in the audit log, written with their events
        self.core = SanitiserCore(partnership, catalogue(), party_keys["sanitiser"], gazetteer,
                                  today=lambda: TODAY, ledger=self.audit)
        self.core.fetch_keys = FakeKeyReader(self.topics, [key_topic(RAW)], self.core.opener.accept_key_grant).refresh
        self.consumer = FakeConsumer(self.topics, RAW)
        self.loop = ConsumeLoop(self.consumer, self.core, producer=FakeProducer(self.topics), poll_ms=0)
        self.sealer = Sealer(producer=producer, keys=police_keys or party_keys[POLICE], topic=RAW,
                             recipients={"sanitiser": partnership.sanitiser.x25519})
        self.dataset = catalogue()[DATASET]
        self.records = records_for(self.dataset, gazetteer, 20, seed=5, today=TODAY)

    def seal(self, payload: bytes, message_id: str, *, dataset: str = DATASET, marking: str = "OFFICIAL",
             fingerprint: str | None = None, kind: str = "RECORD") -> bytes:
        sealed = self.sealer.seal(payload, message_id=message_id, dataset=dataset, marking=marking,
                                  schema_fingerprint=fingerprint or self.dataset.raw_codec.fingerprint, kind=kind)
        if sealed.key_grant is not None:
            self.topics.append(key_topic(RAW), sealed.key_grant)
        return sealed.envelope

    def record(self, index: int = 0, **changes) -> bytes:
        return self.dataset.raw_codec.encode({**self.records[index], **changes})

    def supply(self, *values: bytes | None, topic: str = RAW) -> None:
        for value in values:
            self.topics.append(topic, value)

    def run(self) -> None:
        """Everything supplied so far, through the consume loop, until a poll comes back empty."""
        asyncio.run(self.loop.run(asyncio.Event(), until_idle=0))

    def dead_letters(self) -> list[dict]:
        return [codec("dead_letter").decode(v) for v in self.topics.read(DEADLETTER_TOPIC)]

    def codes(self) -> list[str]:
        return [letter["reason_code"] for letter in self.dead_letters()]


def resign(world: World, envelope: bytes, **header_changes) -> bytes:
    """An envelope with header fields changed and signed again with the police key (what a buggy or
    hostile signatory could send)."""
    data = codec("envelope").decode(envelope)
    header = dataclasses.replace(Header.from_avro(data["header"]), **header_changes)
    header_bytes = envelope_module._encode_header(header)
    signed = envelope_module._envelope_signed_bytes(header_bytes, data["nonce"], data["ciphertext"])
    data.update(header=header.as_avro(), signature=primitives.sign(world.keys[POLICE].signing_key, signed))
    return codec("envelope").encode(data)


