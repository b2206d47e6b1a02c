"""Sealing what a party keeps on its own disk: a feed store's records, so that a copy of the file
(a backup, a stolen laptop, another account on the server) reads as nothing without the
signatory's key file.

The key is derived from the party's key pair (KeyPair.local_secret), so there is nothing more to
keep or lose. Each value is sealed with XSalsa20-Poly1305 under a random 192-bit nonce (safe for
any number of values) and bound to its context (the row's message id): a sealed value moved to
another row does not open.
"""

from __future__ import annotations

from exchange.crypto import _primitives as primitives
from exchange.crypto.keys import KeyPair
from exchange.errors import StoreLocked

__all__ = ["AtRest"]

_CHECK = b"csp-exchange/at-rest/key-check/v1"


class AtRest:
    """seal(plaintext, context) / open(sealed, context) under one key. No repr shows the key."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ValueError("an at-rest key is 32 bytes")
        self._key = key

    @classmethod
    def for_keys(cls, keys: KeyPair, purpose: str) -> AtRest:
        return cls(keys.local_secret(f"at rest: {purpose}"))

    def __repr__(self) -> str:
        return "AtRest(<key hidden>)"

    def check_value(self) -> str:
        """A value stored beside the sealed data that tells, at open, whether this is its key."""
        return primitives.keyed_digest(self._key, _CHECK).hex()[:32]

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        if len(context) > 0xFFFF:
            raise ValueError("context too long")
        return primitives.secret_encrypt(self._key, len(context).to_bytes(2, "big") + context + plaintext)

    def open(self, sealed: bytes, context: bytes) -> bytes:
        try:
            opened = primitives.secret_decrypt(self._key, sealed)
        except primitives.PrimitiveFailure:
            raise StoreLocked("a sealed value does not open with this key") from None
        size = int.from_bytes(opened[:2], "big")
        if opened[2:2 + size] != context:
            raise StoreLocked("a sealed value belongs to another row")
        return opened[2 + size:]
