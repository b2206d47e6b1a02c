"""Poison messages, as an attacker or a careless operator would send them, against the real services
running as separate processes on an embedded broker of their own; then a genuine supply must
arrive in full. Each attack is one that stopped, stalled or fooled an earlier version.

The scenario runs once (module fixture); each test below checks what one attack did.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import subprocess
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from exchange.core.avro import codec
from exchange.core.names import DEADLETTER_TOPIC, key_topic, raw_topic, shared_topic
from exchange.core.schemas import catalogue
from exchange.crypto import _primitives as primitives
from exchange.crypto import envelope as envelope_module
from exchange.crypto.envelope import Header, Sealer
from exchange.crypto.keys import KeyPair
from exchange.testing.partnership import COUNCIL, DATASET, POLICE, VOLUNTARY
from exchange.testing.records import records_for
from exchange.transport.broker import EmbeddedBroker
from exchange.transport.kafka import KafkaSettings
from exchange.transport.readers import read_topic
from tests.support.faults import (
    PASSPHRASE,
    Service,
    expected_outputs,
    make_exports,
    make_world,
    processed_count,
    store_count,
    store_ids,
    store_refusals,
)

pytestmark = pytest.mark.broker
RAW, SHARED = raw_topic(DATASET), shared_topic(DATASET)
FORGED_LINE = "2026-01-01 00:00:00 exchange.audit INFO all records destroyed"


@dataclasses.dataclass
class Attacked:
    dead_letters: list[dict]
    expected: set[str]
    stored: list[str]
    refusals: dict[str, int]
    alive: dict[str, bool]
    logs: dict[str, str]
    supply_seconds: float
    sanitiser_peak_kib: int
    wrong_key: subprocess.CompletedProcess
    stored_before_wrong_key: int
    stored_after_wrong_key: int


def _peak_kib(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", text).group(1))


def _resign(keys: KeyPair, envelope: bytes, **changes) -> bytes:
    data = codec("envelope").decode(envelope)
    header = dataclasses.replace(Header.from_avro(data["header"]), **changes)
    header_bytes = envelope_module._encode_header(header)
    signed = envelope_module._envelope_signed_bytes(header_bytes, data["nonce"], data["ciphertext"])
    data.update(header=header.as_avro(), signature=primitives.sign(keys.signing_key, signed))
    return codec("envelope").encode(data)


async def _send(bootstrap: str, messages: list[tuple[str, bytes | None]], *, compression: str | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type=compression,
                                max_request_size=80 * 1024 * 1024)
    await producer.start()
    try:
        for topic, value in messages:
            await producer.send_and_wait(topic, value, key=b"k")  # a null value needs a key (a tombstone)
    finally:
        await producer.stop()


def _hostile_envelopes(world, police: KeyPair, gazetteer_path: Path) -> list[tuple[str, bytes | None]]:
    """Signed by the real police key, so they reach the checks behind the signature."""
    from exchange.storage.gazetteer import Gazetteer

    dataset = catalogue()[DATASET]
    partnership_sanitiser = world_sanitiser_key(world)
    records = records_for(dataset, Gazetteer.open(gazetteer_path), 3, seed=77)
    announced = Sealer(producer=POLICE, keys=police, topic=RAW, recipients={"sanitiser": partnership_sanitiser})
    genuine_like = announced.seal(dataset.raw_codec.encode(records[0]), message_id="genuine-id-1", dataset=DATASET,
                                  marking="OFFICIAL", schema_fingerprint=dataset.raw_codec.fingerprint)
    out: list[tuple[str, bytes | None]] = [(key_topic(RAW), genuine_like.key_grant)]
    # A forgery carrying the genuine message's id, sent first, its signature broken.
    forged = bytearray(announced.seal(dataset.raw_codec.encode(records[1]), message_id="genuine-id-1",
                                      dataset=DATASET, marking="OFFICIAL",
                                      schema_fingerprint=dataset.raw_codec.fingerprint).envelope)
    forged[-5] ^= 1
    out.append((RAW, bytes(forged)))
    out.append((RAW, genuine_like.envelope))
    # 20 envelopes under data keys nobody announced.
    for i in range(20):
        unknown = Sealer(producer=POLICE, keys=police, topic=RAW, recipients={"sanitiser": partnership_sanitiser})
        out.append((RAW, unknown.seal(dataset.raw_codec.encode(records[2]), message_id=f"unknown-key-{i}",
                                      dataset=DATASET, marking="OFFICIAL",
                                      schema_fingerprint=dataset.raw_codec.fingerprint).envelope))
    # A message id of a million characters, and one with a forged log line in it.
    out.append((RAW, _resign(police, genuine_like.envelope, message_id="x" * 1_000_000)))
    out.append((RAW, _resign(police, genuine_like.envelope, message_id="m\n" + FORGED_LINE)))
    # A postcode the gazetteer does not know, with no coordinates: unplaceable.
    unplaceable = dict(records[2], postcode="ZZ9 9ZZ", easting=None, northing=None)
    out.append((RAW, announced.seal(dataset.raw_codec.encode(unplaceable), message_id="unplaceable-1",
                                    dataset=DATASET, marking="OFFICIAL",
                                    schema_fingerprint=dataset.raw_codec.fingerprint).envelope))
    # Three 32 KB cells in a signed record (the agent refuses such cells; a hostile signatory may not).
    long_cells = dict(records[2], method_of_entry="Mr John Smith " * 2400, property_stolen="A " * 16000,
                      address="12 High Street, " * 2000)
    out.append((RAW, announced.seal(dataset.raw_codec.encode(long_cells), message_id="long-cells-1",
                                    dataset=DATASET, marking="OFFICIAL",
                                    schema_fingerprint=dataset.raw_codec.fingerprint).envelope))
    return out


def world_sanitiser_key(world) -> bytes:
    from exchange.core.partnership import load_partnership

    return load_partnership(world.files.partnership).sanitiser.x25519


@pytest.fixture(scope="module")
def attacked(tmp_path_factory) -> Attacked:
    root = tmp_path_factory.mktemp("poison")
    with EmbeddedBroker(log_path=root / "broker.log") as broker:
        world = make_world(root / "world", broker.bootstrap)
        police = KeyPair.load(world.files.keys[POLICE], PASSPHRASE)
        services = {
            "sanitiser": Service(world, "sanitiser", world.sanitiser_args(),
                                 lambda: processed_count(world.sanitiser_state)),
            "feed": Service(world, "feed", world.feed_args(), lambda: store_count(world.council_db)),
        }
        try:
            for service in services.values():
                service.start()
            deadline = time.monotonic() + 60
            while not all(s.ready() for s in services.values()) and time.monotonic() < deadline:
                time.sleep(0.1)
            # Nulls on every kind of topic, garbage, an unsigned 0.72 MB value, 3 MiB gzip-compressed,
            # and 64 MiB of zeros gzipped to about 64 KiB.
            asyncio.run(_send(broker.bootstrap, [(RAW, None), (key_topic(RAW), None), (SHARED, None),
                                                 (key_topic(SHARED), None), (RAW, b""), (RAW, b"\x00garbage"),
                                                 (SHARED, b"\x00garbage"), (RAW, b"\x01" * 720_000)]))
            asyncio.run(_send(broker.bootstrap, [(RAW, b"\x02" * (3 << 20)), (RAW, bytes(64 << 20))],
                              compression="gzip"))
            asyncio.run(_send(broker.bootstrap, _hostile_envelopes(world, police, world.files.gazetteer)))
            # Then a genuine supply through the agent.
            export = make_exports(world, exports=1, records=60)[0]
            expected = expected_outputs(world, [export]).output_ids
            started = time.monotonic()
            submitted = world.run("agent", *world.agent_args(export))
            assert submitted.returncode in (0, 1), "agent submit failed"
            while not expected <= set(store_ids(world.council_db)) and time.monotonic() < started + 120:
                time.sleep(0.1)
            supply_seconds = time.monotonic() - started
            time.sleep(2.0)
            alive = {name: s.process is not None and s.process.poll() is None for name, s in services.items()}
            peak = _peak_kib(services["sanitiser"].process.pid) if alive["sanitiser"] else -1
            before = store_count(world.council_db)
            wrong_key = world.run("feed-wrong-key", "feed", "run", "--config", str(world.files.partnership),
                                  "--as", COUNCIL, "--db", str(world.root / "wrong-key.db"),
                                  "--keys", str(world.files.keys[VOLUNTARY]), timeout=60)
            after = store_count(world.council_db)
        finally:
            for service in services.values():
                service.stop()
        letters = [codec("dead_letter").decode(v)
                   for v in asyncio.run(read_topic(KafkaSettings(broker.bootstrap), DEADLETTER_TOPIC, quiet_ms=500))]
        logs = {name: (world.logs / f"{name}.log").read_text(errors="replace") for name in ("sanitiser", "feed")}
        logs["feed-wrong-key"] = (world.logs / "feed-wrong-key.log").read_text(errors="replace")
        return Attacked(letters, set(expected), store_ids(world.council_db), store_refusals(world.council_db),
                        alive, logs, supply_seconds, peak, wrong_key, before, after)


def _codes(attacked: Attacked) -> list[str]:
    return [letter["reason_code"] for letter in attacked.dead_letters]


def test_the_services_survive_every_attack_and_the_genuine_supply_arrives_in_full(attacked):
    print(f"\ngenuine supply of {len(attacked.expected)} records stored {attacked.supply_seconds:.1f} s after "
          f"submission; sanitiser peak memory {attacked.sanitiser_peak_kib / 1024:.0f} MiB; "
          f"dead letters by code {sorted(set(_codes(attacked)))}")
    assert attacked.alive == {"sanitiser": True, "feed": True}
    assert attacked.expected <= set(attacked.stored) and len(attacked.stored) == len(set(attacked.stored))


def test_nulls_garbage_and_oversized_values_become_capped_dead_letters(attacked):
    codes = _codes(attacked)
    assert codes.count("malformed_envelope") >= 4  # a null, an empty value, garbage, 0.72 MB unsigned
    assert codes.count("oversized_message") == 2  # 3 MiB and 64 MiB, sent gzip-compressed
    for letter in attacked.dead_letters:
        assert len(letter["original"]) <= 64 * 1024
    unsigned = [letter for letter in attacked.dead_letters if letter["original_size"] == 720_000]
    assert len(unsigned) == 1 and unsigned[0]["original_truncated"] and len(unsigned[0]["original"]) == 4096
    bomb = max(attacked.dead_letters, key=lambda letter: letter["original_size"])
    assert bomb["original_size"] == 64 << 20 and bomb["original_truncated"]


def test_a_null_on_a_shared_topic_is_a_recorded_refusal_at_the_feed(attacked):
    assert attacked.refusals.get("malformed_envelope", 0) >= 2  # the null and the garbage


def test_a_forgery_carrying_a_genuine_id_does_not_get_the_genuine_refused(attacked):
    assert "bad_signature" in _codes(attacked)
    assert "replayed_message_id" not in _codes(attacked)


def test_envelopes_under_unknown_keys_are_refused_and_do_not_hold_the_stream_up(attacked):
    assert _codes(attacked).count("unknown_data_key") == 20
    assert attacked.supply_seconds < 60


def test_hostile_message_ids_reach_no_log_audit_or_dead_letter(attacked):
    for name, text in attacked.logs.items():
        assert not any(line.startswith(FORGED_LINE) for line in text.splitlines()), name
        assert "x" * 1000 not in text, name
    for letter in attacked.dead_letters:
        assert letter["message_id"] is None or len(letter["message_id"]) <= 64
        assert FORGED_LINE not in letter["reason"]


def test_no_postcode_in_a_dead_letter_or_a_log(attacked):
    unplaceable = [letter for letter in attacked.dead_letters if letter["reason_code"] == "location_unplaceable"]
    assert len(unplaceable) == 1 and "ZZ9" not in unplaceable[0]["reason"]
    assert all("ZZ9" not in text for text in attacked.logs.values())


def test_over_long_cells_are_refused_by_field_name(attacked):
    invalid = [letter for letter in attacked.dead_letters if letter["message_id"] == "long-cells-1"]
    assert [letter["reason_code"] for letter in invalid] == ["record_invalid"]
    assert "method_of_entry" in invalid[0]["reason"] and "John" not in invalid[0]["reason"]


def test_a_feed_started_with_another_party_s_key_refuses_to_start_and_consumes_nothing(attacked):
    assert attacked.wrong_key.returncode == 1
    assert "does not hold the keys registered for 'northshire-council'" in attacked.logs["feed-wrong-key"]
    assert attacked.stored_after_wrong_key == attacked.stored_before_wrong_key
