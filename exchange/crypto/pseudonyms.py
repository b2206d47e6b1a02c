"""Keyed pseudonyms: reference numbers that could be traced in a source system become tokens that
are stable inside the partnership and reverse to nothing.

    token = "PS-" + base32(HMAC-SHA256(secret, domain || 0x00 || canonical value)[:10])

The canonical value has its whitespace collapsed and is upper-cased, so "cr/1 23" and "CR/1  23"
give one token; the domain (crime_ref, person_ref ...) keeps equal strings of different kinds
apart. The depersonalisation rules (exchange.core.depersonalise) receive a Pseudonymiser and
never see the secret's primitive.
"""

from __future__ import annotations

import base64

from exchange.crypto import _primitives as primitives

__all__ = ["Pseudonymiser", "pseudonym"]


def pseudonym(secret: bytes, domain: str, value: str) -> str:
    """A keyed, stable token: equal inputs in one domain give equal tokens; nothing reverses it."""
    canonical = " ".join(str(value).split()).upper()
    digest = primitives.keyed_digest(secret, f"{domain}\x00{canonical}".encode())
    return "PS-" + base64.b32encode(digest[:10]).decode("ascii")


class Pseudonymiser:
    """`pseudonymiser(domain, value)` under one secret. Has no repr that shows the secret."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes):
        self._secret = secret

    @classmethod
    def one_off(cls) -> Pseudonymiser:
        """Under a fresh random secret: tokens match nothing outside this run (offline use)."""
        return cls(primitives.random_bytes(32))

    def __call__(self, domain: str, value: str) -> str:
        return pseudonym(self._secret, domain, value)

    def __repr__(self) -> str:
        return "Pseudonymiser(<secret hidden>)"
