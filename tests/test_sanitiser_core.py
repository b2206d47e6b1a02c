"""The sanitiser's decision path without a broker: SanitiserCore on the consume loop, with an
in-memory consumer and producer (tests/support/fakes.py), real keys, real envelopes and the
synthetic gazetteer. Every ReasonCode has a case here that produces it."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from exchange.core.avro import codec
from exchange.core.messages import Handled
from exchange.core.names import DEADLETTER_TOPIC, key_topic
from exchange.core.schemas import catalogue
from exchange.crypto import envelope as envelope_module
from exchange.crypto.envelope import Header, Sealer, read_header
from exchange.crypto.keys import KeyPair
from exchange.errors import ReasonCode
from exchange.services.sanitiser_core import output_message_id
from exchange.testing.partnership import COUNCIL, DATASET, POLICE, VOLUNTARY
from tests.support.sanitiser_world import RAW, SHARED, World, resign


@pytest.fixture
def world(partnership, party_keys, gazetteer) -> World:
    return World(partnership, party_keys, gazetteer)


# -- the path of a genuine record -----------------------------------------------------------------


def test_a_genuine_record_is_released_after_its_key_grant_and_audited(world):
    world.supply(world.seal(world.record(0), "m-1"))
    world.run()

    shared = world.topics.read(SHARED)
    assert len(shared) == 1 and len(world.topics.read(key_topic(SHARED))) == 1
    assert world.audit.kinds() == ["receipt", "sanitisation", "release"]
    release = world.audit.events[-1]
    assert release.recipients == (COUNCIL,) and release.message_id == output_message_id(POLICE, "m-1")
    assert f"{POLICE}/m-1" in world.state.hashes and world.consumer.committed[RAW] == 1
    assert world.core.stats.released == 1 and not world.dead_letters()


def test_the_released_record_opens_for_the_grantee_only(world, party_keys):
    from exchange.crypto.envelope import Opener

    world.supply(world.seal(world.record(0), "m-1"))
    world.run()
    grantee = Opener(me=COUNCIL, keys=party_keys[COUNCIL], producers={"sanitiser": world.partnership.sanitiser.ed25519})
    outsider = Opener(me=VOLUNTARY, keys=party_keys[VOLUNTARY],
                      producers={"sanitiser": world.partnership.sanitiser.ed25519})
    for grant in world.topics.read(key_topic(SHARED)):
        assert grantee.accept_key_grant(grant).for_me
        assert not outsider.accept_key_grant(grant).for_me
    opened = grantee.open(world.topics.read(SHARED)[0])
    record = catalogue()[DATASET].shared_codec.decode(opened.payload)
    assert record["crime_ref"].startswith("PS-") and record["handling"]["originator"] == POLICE
    with pytest.raises(Exception) as refused:
        outsider.open(world.topics.read(SHARED)[0])
    assert refused.value.reason_code == ReasonCode.NOT_A_RECIPIENT


def test_a_redelivery_is_skipped_and_a_replay_is_refused(world):
    envelope = world.seal(world.record(0), "m-1")
    world.supply(envelope)
    world.run()
    world.supply(envelope)  # the same bytes again: a redelivery after a crash
    world.run()
    assert world.core.stats.duplicates == 1 and len(world.topics.read(SHARED)) == 1 and not world.dead_letters()

    world.supply(world.seal(world.record(1), "m-1"))  # the same id on other content: a replay
    world.run()
    assert world.codes() == [ReasonCode.REPLAYED_MESSAGE_ID] and len(world.topics.read(SHARED)) == 1


def test_a_replay_inside_one_batch_is_refused_too(world):
    world.supply(world.seal(world.record(0), "m-1"), world.seal(world.record(1), "m-1"))
    world.run()
    assert world.codes() == [ReasonCode.REPLAYED_MESSAGE_ID] and len(world.topics.read(SHARED)) == 1


def test_with_no_recipient_nothing_is_sealed_but_the_withholding_is_audited(partnership, party_keys, gazetteer):
    nobody = dataclasses.replace(partnership, grants=())
    world = World(nobody, party_keys, gazetteer)
    world.supply(world.seal(world.record(0), "m-1"))
    world.run()
    assert world.topics.read(SHARED) == [] and world.topics.read(key_topic(SHARED)) == []
    assert world.audit.kinds() == ["receipt", "sanitisation", "withheld"]
    assert world.audit.events[-1].reason_code == ReasonCode.NO_RECIPIENT
    assert world.core.stats.withheld_no_recipient == 1 and world.consumer.committed[RAW] == 1


def test_a_release_is_remembered_exactly_when_it_is_audited(world):
    class FailingAudit(type(world.audit)):
        async def append_many(self, events, *, processed=()):
            raise OSError("disk full")  # the one transaction fails: neither events nor processed ids land

    world.core.ledger = FailingAudit()
    envelope = world.seal(world.record(0), "m-1")
    world.supply(envelope)
    with pytest.raises(OSError):
        world.run()
    assert world.consumer.committed[RAW] == 0 and world.core.ledger.hashes == {}

    world.core.ledger = world.audit  # the restart: the message is delivered again
    world.consumer._position[RAW] = 0
    world.run()
    assert world.audit.kinds() == ["receipt", "sanitisation", "release"]  # audited once, not skipped as seen
    assert f"{POLICE}/m-1" in world.audit.hashes and world.consumer.committed[RAW] == 1


# -- every reason code ------------------------------------------------------------------------------


def _unknown_producer(world):
    stranger = KeyPair.generate("stranger")
    return World(world.partnership, world.keys, world.core.gazetteer, police_keys=stranger,
                 producer="stranger").seal(world.record(0), "m-x")


def _sealed_by(world, party: str) -> bytes:
    """A record of the dataset sealed for the sanitiser by another signatory, its grant published."""
    other = World(world.partnership, world.keys, world.core.gazetteer, police_keys=world.keys[party], producer=party)
    other.topics = world.topics
    return other.seal(world.record(0), "m-x")


def _inactive_producer(world):
    """A suspended signatory registered to supply the dataset."""
    signatories = dict(world.partnership.signatories)
    signatories[VOLUNTARY] = dataclasses.replace(signatories[VOLUNTARY], status="suspended",
                                                 supplies=frozenset({DATASET}))
    world.core.update_partnership(dataclasses.replace(world.partnership, signatories=signatories))
    return _sealed_by(world, VOLUNTARY)


def _producer_not_allowed(world):
    return _sealed_by(world, COUNCIL)


def _bad_signature(world):
    envelope = bytearray(world.seal(world.record(0), "m-x"))
    envelope[-5] ^= 0x01
    return bytes(envelope)


def _not_a_recipient(world):
    other = Sealer(producer=POLICE, keys=world.keys[POLICE], topic=RAW,
                   recipients={COUNCIL: world.keys[COUNCIL].public.x25519})
    sealed = other.seal(world.record(0), message_id="m-x", dataset=DATASET, marking="OFFICIAL",
                        schema_fingerprint=world.dataset.raw_codec.fingerprint)
    world.topics.append(key_topic(RAW), sealed.key_grant)
    return sealed.envelope


def _unknown_data_key(world):
    other = Sealer(producer=POLICE, keys=world.keys[POLICE], topic=RAW,
                   recipients={"sanitiser": world.partnership.sanitiser.x25519})
    return other.seal(world.record(0), message_id="m-x", dataset=DATASET, marking="OFFICIAL",
                      schema_fingerprint=world.dataset.raw_codec.fingerprint).envelope  # its grant is never published


def _undecryptable(world):
    known = world.seal(world.record(1), "m-known")  # publishes the grant of the key named below
    world.supply(known)
    known_key = Header.from_avro(codec("envelope").decode(known)["header"]).key_id
    other = Sealer(producer=POLICE, keys=world.keys[POLICE], topic=RAW,
                   recipients={"sanitiser": world.partnership.sanitiser.x25519})
    foreign = other.seal(world.record(0), message_id="m-x", dataset=DATASET, marking="OFFICIAL",
                         schema_fingerprint=world.dataset.raw_codec.fingerprint).envelope
    return resign(world, foreign, key_id=known_key)  # claims a key its ciphertext was not sealed under


CASES = {
    ReasonCode.MALFORMED_ENVELOPE: lambda w: b"\x00not an envelope",
    ReasonCode.OVERSIZED_MESSAGE: lambda w: b"\x00" * (envelope_module.MAX_ENVELOPE_BYTES + 1),
    ReasonCode.UNKNOWN_PRODUCER: _unknown_producer,
    ReasonCode.PRODUCER_INACTIVE: _inactive_producer,
    ReasonCode.PRODUCER_NOT_ALLOWED: _producer_not_allowed,
    ReasonCode.BAD_SIGNATURE: _bad_signature,
    ReasonCode.NOT_A_RECIPIENT: _not_a_recipient,
    ReasonCode.UNKNOWN_DATA_KEY: _unknown_data_key,
    ReasonCode.UNDECRYPTABLE: _undecryptable,
    ReasonCode.SCHEMA_UNKNOWN: lambda w: w.seal(w.record(0), "m-x", fingerprint="0" * 64),
    ReasonCode.RECORD_INVALID: lambda w: w.seal(b"\xff\xff\xff", "m-x"),
    ReasonCode.MARKING_ABOVE_OFFICIAL: lambda w: w.seal(w.record(0), "m-x", marking="SECRET"),
    ReasonCode.MARKING_UNMAPPED: lambda w: w.seal(w.record(0), "m-x", marking="TOP BANANA"),
    ReasonCode.LOCATION_UNPLACEABLE: lambda w: w.seal(w.record(0, postcode="ZZ9 9ZZ", easting=None, northing=None),
                                                      "m-x"),
    ReasonCode.DATASET_MISMATCH: lambda w: w.seal(w.record(0), "m-x", dataset="police_incident"),
}
# Codes reached by a sequence of messages rather than one: tested above.
ELSEWHERE = {ReasonCode.REPLAYED_MESSAGE_ID, ReasonCode.NO_RECIPIENT, ReasonCode.INTERNAL_ERROR,
             ReasonCode.ORIGINATOR_RESTRICTED,  # tests/test_corrections.py
             ReasonCode.CONSENT_WITHHELD}  # tests/test_consent.py


def test_every_reason_code_has_a_case():
    assert set(CASES) | ELSEWHERE == set(ReasonCode)


@pytest.mark.parametrize("code", sorted(CASES), ids=str)
def test_each_refusal_is_one_dead_letter_with_its_code_and_the_stream_goes_on(world, code):
    bad = CASES[code](world)
    world.supply(bad, world.seal(world.record(2), "m-genuine"))
    world.run()
    assert world.codes() == [code]
    released = [read_header(v).message_id for v in world.topics.read(SHARED)]
    assert output_message_id(POLICE, "m-genuine") in released, "the genuine record after the bad one was not released"
    rejection = next(e for e in world.audit.events if e.kind == "rejection")
    assert rejection.reason_code == code
    assert world.consumer.committed[RAW] == len(world.topics.read(RAW))


def test_a_defect_becomes_internal_error_naming_no_content(world):
    class BrokenGazetteer:
        def __getattr__(self, name):
            raise RuntimeError("secret street name")

    world.core.records.gazetteer = BrokenGazetteer()
    world.core.records._depersonalisers.clear()
    world.supply(world.seal(world.record(0), "m-x"))
    world.run()
    letter, = world.dead_letters()
    assert letter["reason_code"] == ReasonCode.INTERNAL_ERROR
    assert "RuntimeError" in letter["reason"] and "secret street name" not in letter["reason"]


def test_a_handled_message_yields_outputs_in_publish_order(world):
    handled = asyncio.run(world.core.handle(_message(world.seal(world.record(0), "m-1"))))
    assert isinstance(handled, Handled)
    assert [o.is_key_grant for o in handled.outputs] == [True, False]
    assert handled.processed is not None and handled.processed[0] == f"{POLICE}/m-1"


def _message(value: bytes):
    from tests.support.fakes import Message

    return Message(RAW, 0, 0, value)


# -- signature before replay; identity is (producer, message id) --------------------------------------


def test_a_forgery_carrying_a_genuine_id_cannot_get_the_genuine_refused(world):
    genuine = world.seal(world.record(0), "m-1")
    forged = bytearray(world.seal(world.record(1), "m-1"))
    forged[-5] ^= 0x01  # the same id, other content, a signature that does not verify
    world.supply(bytes(forged), genuine)
    world.run()
    assert world.codes() == [ReasonCode.BAD_SIGNATURE]
    assert [read_header(v).message_id for v in world.topics.read(SHARED)] == [output_message_id(POLICE, "m-1")]


def test_an_unverified_message_is_audited_as_claimed_never_attributed(world):
    forged = bytearray(world.seal(world.record(0), "m-1"))
    forged[-5] ^= 0x01
    world.supply(bytes(forged))
    world.run()
    rejection, = (e for e in world.audit.events if e.kind == "rejection")
    assert rejection.producer is None and f"claimed producer {POLICE} (not verified)" in rejection.detail


def test_equal_ids_from_two_producers_are_two_messages(world, partnership):
    signatories = dict(partnership.signatories)
    signatories[COUNCIL] = dataclasses.replace(signatories[COUNCIL], supplies=frozenset({DATASET}))
    world.core.update_partnership(dataclasses.replace(partnership, signatories=signatories))
    council = World(world.partnership, world.keys, world.core.gazetteer, police_keys=world.keys[COUNCIL],
                    producer=COUNCIL)
    council.topics = world.topics
    world.supply(world.seal(world.record(0), "m-1"), council.seal(world.record(1), "m-1"))
    world.run()
    assert not world.dead_letters() and len(world.topics.read(SHARED)) == 2
    assert {f"{POLICE}/m-1", f"{COUNCIL}/m-1"} <= set(world.state.hashes)


def test_a_header_field_of_the_wrong_shape_is_refused_without_echoing_it(world):
    hostile = resign(world, world.seal(world.record(0), "m-1"), message_id="x" * 500 + "\nFORGED LOG LINE")
    world.supply(hostile)
    world.run()
    letter, = world.dead_letters()
    assert letter["reason_code"] == ReasonCode.MALFORMED_ENVELOPE
    assert letter["message_id"] is None and "FORGED" not in letter["reason"] and "message id" in letter["reason"]


def test_a_dead_letter_keeps_a_prefix_and_a_hash_of_an_oversized_original(world):
    import hashlib

    from exchange.services.sanitiser_core import DEAD_LETTER_ORIGINAL_CAP, DEAD_LETTER_ORIGINAL_PREFIX

    huge = b"\x00" * (3 * 1024 * 1024)
    small = b"\x01not an envelope"
    world.supply(huge, small)
    world.run()
    big_letter, small_letter = world.dead_letters()
    assert big_letter["original_truncated"] and len(big_letter["original"]) == DEAD_LETTER_ORIGINAL_PREFIX
    assert big_letter["original_size"] == len(huge)
    assert big_letter["original_sha256"] == hashlib.sha256(huge).hexdigest()
    assert len(world.topics.read(DEADLETTER_TOPIC)[0]) < DEAD_LETTER_ORIGINAL_CAP
    assert small_letter["original"] == small and not small_letter["original_truncated"]
