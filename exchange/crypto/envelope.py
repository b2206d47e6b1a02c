"""Seal and open: the envelope every record travels in.

    sealer = Sealer(producer="northshire-police", keys=police_keys, topic="raw.police_crime_offence",
                    recipients={"sanitiser": sanitiser_public.x25519})
    sealed = sealer.seal(payload, message_id=..., dataset=..., schema_fingerprint=..., marking=...)
    # publish sealed.key_grant (if not None) to keys.<topic> first, then sealed.envelope to <topic>

    opener = Opener(me="sanitiser", keys=sanitiser_keys, producers={"northshire-police": verify_key})
    opener.accept_key_grant(grant_bytes)      # from keys.<topic>
    opened = opener.open(envelope_bytes)      # -> Opened(header, payload) or an EnvelopeError

A data key (AES-256-GCM) seals up to `max_records` payloads or `max_age` seconds, whichever
comes first, and is replaced at once when the recipient set changes. It is announced once in a
signed key grant, wrapped for each recipient with an X25519 sealed box, so the per-record cost
(bytes and CPU) does not grow with the number of recipients. Each envelope carries its own
Ed25519 signature and is verifiable on its own.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from exchange.core.avro import Codec, codec
from exchange.core.names import DATASET_ID_RE, MESSAGE_ID_RE, PARTY_ID_RE
from exchange.crypto import _primitives as primitives
from exchange.crypto.keys import KeyPair
from exchange.errors import (
    AvroDecodeError,
    BadSignature,
    DecryptionFailed,
    MalformedEnvelope,
    NotARecipient,
    OversizedMessage,
    UnknownDataKey,
    UnknownProducer,
)

__all__ = [
    "ENVELOPE_VERSION", "MAX_ENVELOPE_BYTES", "Envelope", "GrantInfo", "Header", "Opened", "Opener", "read_envelope",
    "read_header", "Sealed", "Sealer",
]

ENVELOPE_VERSION = 1
MAX_ENVELOPE_BYTES = 1_048_576
_ENVELOPE_DOMAIN = b"csp-exchange/envelope/v1\x00"
_GRANT_DOMAIN = b"csp-exchange/key-grant/v1\x00"
_KEY_ID_BYTES = 16


@dataclass(frozen=True, slots=True)
class Header:
    message_id: str
    kind: str  # "RECORD" or "METADATA"
    dataset: str
    schema_fingerprint: str
    producer: str
    produced_at_ms: int
    marking: str
    key_id: str
    version: int = ENVELOPE_VERSION

    def as_avro(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "message_id": self.message_id,
            "kind": self.kind,
            "dataset": self.dataset,
            "schema_fingerprint": self.schema_fingerprint,
            "producer": self.producer,
            "produced_at": self.produced_at_ms,
            "marking": self.marking,
            "key_id": self.key_id,
        }

    @classmethod
    def from_avro(cls, data: dict[str, Any]) -> Header:
        produced = data["produced_at"]
        millis = produced if isinstance(produced, int) else int(produced.timestamp() * 1000)
        return cls(
            message_id=data["message_id"],
            kind=data["kind"],
            dataset=data["dataset"],
            schema_fingerprint=data["schema_fingerprint"],
            producer=data["producer"],
            produced_at_ms=millis,
            marking=data["marking"],
            key_id=data["key_id"],
            version=data["version"],
        )


@dataclass(frozen=True, slots=True)
class Sealed:
    envelope: bytes
    header: Header
    key_grant: bytes | None  # a new data key to publish on keys.<topic> before the envelope


@dataclass(frozen=True, slots=True)
class Opened:
    header: Header
    payload: bytes


@dataclass(frozen=True, slots=True)
class Envelope:
    """An envelope as read, not yet trusted: its clear header (for routing and dead-lettering only,
    until Opener.open has checked the signature) and the parts the signature covers."""

    header: Header
    header_bytes: bytes  # the header exactly as sent: what the signature and the AEAD cover
    nonce: bytes
    ciphertext: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class GrantInfo:
    key_id: str
    topic: str
    producer: str
    recipients: tuple[str, ...]
    for_me: bool


@lru_cache(maxsize=1)
def _header_codec() -> Codec:
    # The Header is a nested record; it is encoded alone for the associated data and signature.
    return Codec(codec("envelope").schema["fields"][0]["type"])


@lru_cache(maxsize=1)
def _tail_codec() -> Codec:
    # What follows the header in an envelope (an Avro record is its fields' encodings in order):
    # read apart from it, so the header's own bytes are a slice of the envelope, never re-encoded.
    return Codec({"type": "record", "name": "EnvelopeTail", "fields": codec("envelope").schema["fields"][1:]})


def _encode_header(header: Header) -> bytes:
    return _header_codec().encode(header.as_avro())


def _envelope_signed_bytes(header_bytes: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    # Length-prefix each part so no boundary can be shifted between them.
    parts = [header_bytes, nonce, ciphertext]
    return _ENVELOPE_DOMAIN + b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def _grant_signed_bytes(grant: dict[str, Any]) -> bytes:
    unsigned = dict(grant, signature=b"")
    return _GRANT_DOMAIN + codec("key_grant").encode(unsigned)


class Sealer:
    """Seals payloads for a fixed set of recipients on one topic, rotating data keys."""

    def __init__(
        self,
        *,
        producer: str,
        keys: KeyPair,
        topic: str,
        recipients: Mapping[str, bytes],
        max_records: int = 1000,
        max_age: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ):
        if not recipients:
            raise ValueError(f"no recipients for {topic}: nothing may be sealed (fail closed)")
        self.producer = producer
        self.topic = topic
        self._keys = keys
        self._recipients = dict(recipients)
        self._max_records = max_records
        self._max_age = max_age
        self._clock = clock
        self._key: bytes | None = None
        self._key_id = ""
        self._key_born = 0.0
        self._key_uses = 0

    @property
    def recipients(self) -> tuple[str, ...]:
        return tuple(sorted(self._recipients))

    def set_recipients(self, recipients: Mapping[str, bytes]) -> bool:
        """Change who can open what is sealed next. Returns True if the set changed (key rotated)."""
        if not recipients:
            raise ValueError(f"no recipients for {self.topic}: nothing may be sealed (fail closed)")
        if dict(recipients) == self._recipients:
            return False
        self._recipients = dict(recipients)
        self._key = None  # rotate at once: nothing sealed from now on is readable by a removed party
        return True

    def seal(
        self,
        payload: bytes,
        *,
        message_id: str,
        dataset: str,
        schema_fingerprint: str,
        marking: str,
        kind: str = "RECORD",
    ) -> Sealed:
        grant = None
        now = self._clock()
        if self._key is None or self._key_uses >= self._max_records or now - self._key_born >= self._max_age:
            grant = self._rotate(now)
        assert self._key is not None  # _rotate set it
        self._key_uses += 1
        header = Header(
            message_id=message_id,
            kind=kind,
            dataset=dataset,
            schema_fingerprint=schema_fingerprint,
            producer=self.producer,
            produced_at_ms=int(now * 1000),
            marking=marking,
            key_id=self._key_id,
        )
        header_bytes = _encode_header(header)
        nonce, ciphertext = primitives.aead_encrypt(self._key, payload, header_bytes)
        signature = primitives.sign(self._keys.signing_key, _envelope_signed_bytes(header_bytes, nonce, ciphertext))
        # The envelope record is the header's encoding followed by the rest's: the header is not encoded twice.
        tail = _tail_codec().encode({"nonce": nonce, "ciphertext": ciphertext, "signature": signature})
        envelope = header_bytes + tail
        return Sealed(envelope=envelope, header=header, key_grant=grant)

    def _rotate(self, now: float) -> bytes:
        self._key = primitives.new_data_key()
        key_id_raw = primitives.random_bytes(_KEY_ID_BYTES)
        self._key_id = key_id_raw.hex()
        self._key_born = now
        self._key_uses = 0
        grant = {
            "version": ENVELOPE_VERSION,
            "key_id": self._key_id,
            "topic": self.topic,
            "producer": self.producer,
            "created_at": int(now * 1000),
            "recipients": [
                {"recipient": name, "wrapped": primitives.seal_to(public, key_id_raw + self._key)}
                for name, public in sorted(self._recipients.items())
            ],
            "signature": b"",
        }
        grant["signature"] = primitives.sign(self._keys.signing_key, _grant_signed_bytes(grant))
        return codec("key_grant").encode(grant)


def read_header(envelope: bytes) -> Header:
    """The clear header, unverified: for routing and dead-lettering only, never for trust."""
    return read_envelope(envelope).header


def read_envelope(envelope: bytes) -> Envelope:
    """The envelope's parts, unverified: read once, then handed to Opener.open, which trusts
    nothing in it until the signature checks."""
    if len(envelope) > MAX_ENVELOPE_BYTES:
        raise OversizedMessage(f"envelope of {len(envelope)} bytes exceeds the {MAX_ENVELOPE_BYTES}-byte limit")
    buffer = io.BytesIO(envelope)
    try:
        header = _header_codec().read(buffer)
        header_end = buffer.tell()
        tail = _tail_codec().read(buffer)
    except AvroDecodeError as exc:
        raise MalformedEnvelope(str(exc).replace("EnvelopeTail", "Envelope")) from exc
    if buffer.tell() != len(envelope):
        raise MalformedEnvelope(f"{len(envelope) - buffer.tell()} trailing bytes after Envelope")
    if header["version"] != ENVELOPE_VERSION:
        raise MalformedEnvelope(f"unsupported envelope version {header['version']}")
    _check_header(header)
    return Envelope(Header.from_avro(header), envelope[:header_end], tail["nonce"], tail["ciphertext"],
                    tail["signature"])


_HEADER_FIELDS = {
    "message_id": MESSAGE_ID_RE, "producer": PARTY_ID_RE, "dataset": DATASET_ID_RE,
    "key_id": re.compile(r"[0-9a-f]{32}"), "schema_fingerprint": re.compile(r"[0-9a-f]{64}"),
    "marking": re.compile(r"[ -~\u2013]{1,64}"),  # printable, an en dash allowed; no control characters
}


_GRANT_FIELDS = {"key_id": _HEADER_FIELDS["key_id"], "producer": PARTY_ID_RE,
                 "topic": re.compile(r"[a-z]{1,16}\.[a-z][a-z0-9_]{0,62}")}


def _check_grant(grant: dict[str, Any]) -> None:
    for name, shape in _GRANT_FIELDS.items():
        if not shape.fullmatch(grant[name]):
            raise MalformedEnvelope(f"key grant: field {name} is not valid ({len(grant[name])} characters)")
    if not all(PARTY_ID_RE.fullmatch(item["recipient"]) for item in grant["recipients"]):
        raise MalformedEnvelope("key grant: a recipient is not a valid party id")


def _check_header(header: dict[str, Any]) -> None:
    """Refuse a header whose fields are not the shape they must be, naming the field, never its
    value: these fields reach logs, audit events, dead-letter keys and topic names."""
    for name, shape in _HEADER_FIELDS.items():
        value = header[name]
        if not shape.fullmatch(value):
            raise MalformedEnvelope(f"header field {name} is not a valid {name.replace('_', ' ')} "
                                    f"({len(value)} characters)")


class Opener:
    """Verifies and opens envelopes addressed to one party."""

    def __init__(self, *, me: str, keys: KeyPair, producers: Mapping[str, bytes]):
        self.me = me
        self._keys = keys
        self._producers = dict(producers)
        # Keyed by (producer, key id): a grant signed by one party can never shadow another's key.
        self._data_keys: dict[tuple[str, str], bytes] = {}
        self._not_for_me: set[tuple[str, str]] = set()

    def set_producers(self, producers: Mapping[str, bytes]) -> None:
        self._producers = dict(producers)

    def _verify_key(self, producer: str) -> bytes:
        try:
            return self._producers[producer]
        except KeyError:
            raise UnknownProducer(f"producer {producer!r} is not a known, active party") from None

    def accept_key_grant(self, grant_bytes: bytes | None) -> GrantInfo:
        if grant_bytes is None:
            raise MalformedEnvelope("key grant: no value (a null Kafka record)")
        if len(grant_bytes) > MAX_ENVELOPE_BYTES:
            raise OversizedMessage(f"key grant of {len(grant_bytes)} bytes exceeds the size limit")
        try:
            grant = codec("key_grant").decode(grant_bytes)
        except AvroDecodeError as exc:
            raise MalformedEnvelope(f"key grant: {exc}") from exc
        _check_grant(grant)
        key_id = grant["key_id"]
        slot = (grant["producer"], key_id)
        try:
            primitives.verify(self._verify_key(grant["producer"]), _grant_signed_bytes(grant), grant["signature"])
        except primitives.PrimitiveFailure:
            raise BadSignature(f"key grant {key_id} for {grant['topic']}: "
                               f"signature of {grant['producer']!r} does not verify") from None
        recipients = tuple(item["recipient"] for item in grant["recipients"])
        mine = [item["wrapped"] for item in grant["recipients"] if item["recipient"] == self.me]
        if slot in self._data_keys or slot in self._not_for_me:
            # The first verified grant of a key id stands; a second one cannot replace it.
            return GrantInfo(key_id, grant["topic"], grant["producer"], recipients, for_me=slot in self._data_keys)
        if not mine:
            self._not_for_me.add(slot)
            return GrantInfo(key_id, grant["topic"], grant["producer"], recipients, for_me=False)
        try:
            unwrapped = primitives.unseal(self._keys.box_key, mine[0])
        except primitives.PrimitiveFailure:
            raise DecryptionFailed(f"key grant {key_id}: "
                                   f"the key wrapped for {self.me!r} does not open with its private key") from None
        if len(unwrapped) != _KEY_ID_BYTES + primitives.DATA_KEY_BYTES or unwrapped[:_KEY_ID_BYTES].hex() != key_id:
            raise DecryptionFailed(f"key grant {key_id}: wrapped key is bound to another key id")
        self._data_keys[slot] = unwrapped[_KEY_ID_BYTES:]
        return GrantInfo(key_id, grant["topic"], grant["producer"], recipients, for_me=True)

    async def open_fetching(self, envelope: bytes | Envelope, fetch_keys: Callable[[], Awaitable[int]] | None, *,
                            attempts: int = 3) -> Opened:
        """Open an envelope, calling `fetch_keys` (read what is new on the key topics; it returns how
        many grants it read) when its data key is new to us.

        A grant is published and acknowledged before any record sealed under it, so when a fetch
        finds nothing new the key was never announced: refused at once, with no wait. `open` checks
        the signature before it looks for the key, so only a signed envelope costs a fetch, and a
        fetch that finds nothing costs one end-offset request: envelopes naming unknown keys cannot
        stall the stream.
        """
        if fetch_keys is None:
            return self.open(envelope)
        if not isinstance(envelope, Envelope):
            envelope = read_envelope(envelope)
        for _ in range(attempts):
            try:
                return self.open(envelope)
            except UnknownDataKey:
                if not await fetch_keys():
                    raise
        return self.open(envelope)

    def open(self, envelope: bytes | Envelope) -> Opened:
        """Verify and decrypt an envelope: its bytes, or the Envelope read_envelope made of them."""
        read = envelope if isinstance(envelope, Envelope) else read_envelope(envelope)
        header = read.header
        try:
            primitives.verify(
                self._verify_key(header.producer),
                _envelope_signed_bytes(read.header_bytes, read.nonce, read.ciphertext),
                read.signature,
            )
        except primitives.PrimitiveFailure:
            raise BadSignature(f"message {header.message_id}: "
                               f"signature of {header.producer!r} does not verify") from None
        slot = (header.producer, header.key_id)
        if slot in self._not_for_me:
            raise NotARecipient(f"message {header.message_id}: "
                                f"{self.me!r} is not a recipient of data key {header.key_id}")
        data_key = self._data_keys.get(slot)
        if data_key is None:
            raise UnknownDataKey(f"message {header.message_id}: "
                                 f"data key {header.key_id} of {header.producer!r} has not been announced")
        try:
            payload = primitives.aead_decrypt(data_key, read.nonce, read.ciphertext, read.header_bytes)
        except primitives.PrimitiveFailure:
            raise DecryptionFailed(f"message {header.message_id}: "
                                   f"ciphertext does not decrypt under data key {header.key_id}") from None
        return Opened(header=header, payload=payload)
