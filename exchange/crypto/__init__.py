"""Cryptography, fenced: `_primitives` is the only module that touches PyNaCl, cryptography or
HMAC; everything else composes it here.

    envelope     Sealer / Opener: signed, encrypted envelopes and the key grants of their data keys
    keys         key pairs and passphrase-protected key files
    pseudonyms   keyed pseudonyms of reference numbers
    signed_reports  detached Ed25519 signatures over reports (the originator's report)
"""

from exchange.crypto.envelope import Opened, Opener, Sealed, Sealer, read_header
from exchange.crypto.keys import KeyPair, load_keypair
from exchange.crypto.pseudonyms import Pseudonymiser

__all__ = ["KeyPair", "Opened", "Opener", "Pseudonymiser", "Sealed", "Sealer", "load_keypair", "read_header"]
