"""Signing governance decisions with a signatory's key file, and the check the ledger uses.

The rules of who must sign what are exchange.core.ledger; this module only makes and checks
Ed25519 signatures over `Decision.signed_bytes()`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from exchange.core.ledger import Decision, Ledger, Signature
from exchange.core.public_keys import b64
from exchange.crypto import _primitives as primitives
from exchange.crypto.keys import KeyPair
from exchange.errors import DecisionRefused

__all__ = ["draft", "sign_decision", "signer_of", "verify_signature"]


def verify_signature(public_key: bytes, data: bytes, signature: bytes) -> bool:
    try:
        primitives.verify(public_key, data, signature)
    except primitives.PrimitiveFailure:
        return False
    return True


def sign_decision(decision: Decision, keys: KeyPair, *, signer: str) -> Decision:
    """`decision` with one more signature: `signer`'s, made with `keys`."""
    value = primitives.sign(keys.signing_key, decision.signed_bytes())
    return decision.signed_with(Signature(signer, b64(keys.public.ed25519), b64(value)))


def draft(ledger: Ledger, action: str, subject: str, terms: Mapping[str, Any], *, person: str, role: str,
          at: dt.datetime | None = None) -> Decision:
    """An unsigned decision that extends the chain `ledger` has reached."""
    moment = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    stamp = max(moment.isoformat(), ledger.last_at)  # never before the decision it follows
    return Decision(version=ledger.version + 1, previous=ledger.head, action=action, subject=subject,
                    terms=dict(terms), person=person, role=role, at=stamp)


def signer_of(ledger: Ledger, keys: KeyPair) -> str:
    """The signatory whose current key this key file holds (DecisionRefused if none)."""
    signer = ledger.signer_for(keys.public.ed25519)
    if signer is None:
        raise DecisionRefused(f"the key file of {keys.name!r} holds no signatory's current signing key: a "
                              "decision is signed with the deciding signatory's own key file")
    return signer
