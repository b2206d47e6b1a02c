"""Detached Ed25519 signatures over reports the exchange hands to others (the originator's report).

The signature covers bytes the caller chooses (for a report: its canonical JSON, see
exchange.core.originator_report.canonical_json). The signature file is JSON:

    {"format": "csp-exchange-report-signature/1", "signer": "sanitiser",
     "key_id": "<first 16 hex digits of SHA-256 of the signer's Ed25519 public key>",
     "signature": "<base64 of the 64-byte Ed25519 signature>"}

`verify_report` checks it against a public key the verifier already trusts (the sanitiser's, from
the partnership config): the key id in the file only helps to say *which* key was used when it is
not the expected one; it is never trusted on its own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from exchange.crypto import _primitives as primitives
from exchange.crypto.keys import KeyPair
from exchange.errors import ExchangeError

__all__ = ["SIGNATURE_FORMAT", "ReportSignatureError", "dumps", "key_id", "sign_report", "verify_report"]

SIGNATURE_FORMAT = "csp-exchange-report-signature/1"


class ReportSignatureError(ExchangeError):
    """A report's signature is missing, malformed, by another key, or does not match the report."""


def key_id(ed25519_public: bytes) -> str:
    return hashlib.sha256(ed25519_public).hexdigest()[:16]


def sign_report(keys: KeyPair, data: bytes) -> dict[str, str]:
    """The signature document (see the module docstring) of `data`, signed with `keys`."""
    signature = primitives.sign(keys.signing_key, data)
    return {"format": SIGNATURE_FORMAT, "signer": keys.name, "key_id": key_id(keys.public.ed25519),
            "signature": base64.b64encode(signature).decode("ascii")}


def verify_report(data: bytes, document: Any, ed25519_public: bytes) -> str:
    """Check that `document` (a parsed signature file) signs `data` under `ed25519_public`; the
    key id on success, ReportSignatureError otherwise."""
    if not isinstance(document, dict) or document.get("format") != SIGNATURE_FORMAT:
        raise ReportSignatureError(f"not a {SIGNATURE_FORMAT} signature file")
    expected = key_id(ed25519_public)
    if document.get("key_id") != expected:
        raise ReportSignatureError(f"signed by key {str(document.get('key_id'))[:16]!r}, "
                                   f"not the sanitiser's key {expected}")
    try:
        signature = base64.b64decode(str(document.get("signature", "")), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ReportSignatureError("the signature is not valid base64") from exc
    try:
        primitives.verify(ed25519_public, data, signature)
    except primitives.PrimitiveFailure as exc:
        raise ReportSignatureError("the signature does not match the report (changed since it was signed, "
                                   "or signed by another key)") from exc
    return expected


def dumps(document: dict[str, str]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
