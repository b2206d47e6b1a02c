"""The fenced low-level layer: the only module that touches cryptographic primitives.

Everything else goes through exchange.crypto.envelope (seal/open) and exchange.crypto.keys (key files).
AES-256-GCM comes from pyca/cryptography; X25519 sealed boxes and Ed25519 from PyNaCl.
"""

from __future__ import annotations

import os

import nacl.exceptions
import nacl.public
import nacl.signing
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DATA_KEY_BYTES = 32
NONCE_BYTES = 12


class PrimitiveFailure(Exception):
    """A primitive refused its input (bad tag, bad signature, bad key). Deliberately vague."""


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def random_bytes(n: int) -> bytes:
    return os.urandom(n)


def aead_encrypt(key: bytes, plaintext: bytes, associated: bytes) -> tuple[bytes, bytes]:
    # A random 96-bit nonce is safe here: a data key seals a bounded number of records.
    nonce = os.urandom(NONCE_BYTES)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, associated)


def aead_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, associated: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, associated)
    except (InvalidTag, ValueError) as exc:
        raise PrimitiveFailure("authenticated decryption failed") from exc


def seal_to(recipient_public: bytes, plaintext: bytes) -> bytes:
    return nacl.public.SealedBox(nacl.public.PublicKey(recipient_public)).encrypt(plaintext)


def unseal(private_key: nacl.public.PrivateKey, sealed: bytes) -> bytes:
    try:
        return nacl.public.SealedBox(private_key).decrypt(sealed)
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise PrimitiveFailure("sealed box could not be opened") from exc


def sign(signing_key: nacl.signing.SigningKey, message: bytes) -> bytes:
    return signing_key.sign(message).signature


def verify(verify_key: bytes, message: bytes, signature: bytes) -> None:
    try:
        nacl.signing.VerifyKey(verify_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError) as exc:
        raise PrimitiveFailure("signature does not verify") from exc
