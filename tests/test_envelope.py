"""Seal/open: round trip, tampering with every byte region, wrong recipients, key rotation."""

from __future__ import annotations

import pytest

from exchange.core.avro import codec
from exchange.crypto.envelope import Opener, Sealer, read_header
from exchange.crypto.keys import KeyPair
from exchange.errors import (
    BadSignature,
    DecryptionFailed,
    EnvelopeError,
    MalformedEnvelope,
    NotARecipient,
    UnknownDataKey,
    UnknownProducer,
)


@pytest.fixture(scope="module")
def parties():
    return {name: KeyPair.generate(name) for name in ("police", "sanitiser", "council", "outsider")}


def make_sealer(parties, recipients=("sanitiser",), **kwargs):
    return Sealer(producer="police", keys=parties["police"], topic="raw.police_crime_offence",
                  recipients={r: parties[r].public.x25519 for r in recipients}, **kwargs)


def make_opener(parties, me="sanitiser"):
    return Opener(me=me, keys=parties[me], producers={"police": parties["police"].public.ed25519})


def seal(sealer, payload=b"the record", message_id="m-1"):
    return sealer.seal(payload, message_id=message_id, dataset="police_crime_offence",
                       schema_fingerprint="f" * 64, marking="OFFICIAL-SENSITIVE")


def test_round_trip_and_header(parties):
    sealed = seal(make_sealer(parties))
    opener = make_opener(parties)
    opener.accept_key_grant(sealed.key_grant)
    opened = opener.open(sealed.envelope)
    assert opened.payload == b"the record"
    assert opened.header == read_header(sealed.envelope)
    assert (opened.header.producer, opened.header.marking, opened.header.message_id) == (
        "police", "OFFICIAL-SENSITIVE", "m-1")
    assert b"the record" not in sealed.envelope


def _regions(envelope: bytes) -> dict[str, range]:
    """Byte ranges of header, nonce, ciphertext and signature inside an encoded envelope."""
    data = codec("envelope").decode(envelope)
    regions, cursor = {}, 0
    for name in ("nonce", "ciphertext", "signature"):
        start = envelope.index(data[name], cursor)
        regions[name] = range(start, start + len(data[name]))
        cursor = start + len(data[name])
    regions["header"] = range(0, regions["nonce"].start - 1)  # up to the nonce's length prefix
    return regions


@pytest.mark.parametrize("region", ["header", "nonce", "ciphertext", "signature"])
def test_tampering_with_any_byte_of_a_region_is_refused(parties, region):
    sealed = seal(make_sealer(parties))
    opener = make_opener(parties)
    opener.accept_key_grant(sealed.key_grant)
    span = _regions(sealed.envelope)[region]
    assert len(span) > 0
    for position in span:
        tampered = bytearray(sealed.envelope)
        tampered[position] ^= 0x01
        with pytest.raises(EnvelopeError):
            opener.open(bytes(tampered))


def test_tampered_key_grant_is_refused(parties):
    sealed = seal(make_sealer(parties))
    for position in range(0, len(sealed.key_grant), 7):
        tampered = bytearray(sealed.key_grant)
        tampered[position] ^= 0x01
        with pytest.raises(EnvelopeError):
            make_opener(parties).accept_key_grant(bytes(tampered))


def test_a_non_recipient_cannot_open(parties):
    sealed = seal(make_sealer(parties, recipients=("sanitiser", "council")))
    outsider = make_opener(parties, me="outsider")
    info = outsider.accept_key_grant(sealed.key_grant)
    assert not info.for_me and set(info.recipients) == {"sanitiser", "council"}
    with pytest.raises(NotARecipient):
        outsider.open(sealed.envelope)


def test_a_party_posing_as_a_recipient_cannot_unwrap(parties):
    """The outsider claims the council's name but holds only its own private key."""
    sealed = seal(make_sealer(parties, recipients=("council",)))
    impostor = Opener(me="council", keys=parties["outsider"], producers={"police": parties["police"].public.ed25519})
    with pytest.raises(DecryptionFailed):
        impostor.accept_key_grant(sealed.key_grant)


def test_unknown_producer_and_unknown_key(parties):
    sealed = seal(make_sealer(parties))
    stranger = Opener(me="sanitiser", keys=parties["sanitiser"], producers={})
    with pytest.raises(UnknownProducer):
        stranger.accept_key_grant(sealed.key_grant)
    with pytest.raises(UnknownDataKey):
        make_opener(parties).open(sealed.envelope)


def test_envelope_signed_by_another_key_is_refused(parties):
    forged = Sealer(producer="police", keys=parties["outsider"], topic="raw.x",
                    recipients={"sanitiser": parties["sanitiser"].public.x25519})
    sealed = seal(forged)
    with pytest.raises(BadSignature):
        make_opener(parties).accept_key_grant(sealed.key_grant)
    with pytest.raises(BadSignature):
        make_opener(parties).open(sealed.envelope)


def test_garbage_and_oversize_are_malformed(parties):
    opener = make_opener(parties)
    for junk in (b"", b"\x00", b"\xff" * 40, b"not an envelope at all"):
        with pytest.raises(MalformedEnvelope):
            opener.open(junk)
    with pytest.raises(MalformedEnvelope):
        opener.open(b"\x02" * 2_000_000)


def test_keys_rotate_by_count_and_when_recipients_change(parties):
    sealer = make_sealer(parties, max_records=3)
    grants = [seal(sealer, message_id=f"m-{i}").key_grant for i in range(7)]
    assert [g is not None for g in grants] == [True, False, False, True, False, False, True]
    assert seal(sealer).key_grant is None
    assert sealer.set_recipients({"council": parties["council"].public.x25519})
    after = seal(sealer)
    assert after.key_grant is not None
    # The sanitiser was removed: it cannot open what is sealed after the change.
    opener = make_opener(parties)
    opener.accept_key_grant(after.key_grant)
    with pytest.raises(NotARecipient):
        opener.open(after.envelope)


def test_per_record_size_does_not_grow_with_recipients(parties):
    few = make_sealer(parties, recipients=("sanitiser",))
    many = make_sealer(parties, recipients=("sanitiser", "council", "outsider"))
    seal(few), seal(many)  # the first seal of each mints a key
    assert len(seal(few).envelope) == len(seal(many).envelope)


def test_no_recipient_means_nothing_is_sealed(parties):
    with pytest.raises(ValueError):
        Sealer(producer="police", keys=parties["police"], topic="raw.x", recipients={})
