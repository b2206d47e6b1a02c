"""The fenced low-level layer: the only module that touches cryptographic primitives.

Everything else goes through exchange.crypto.envelope (seal/open) and exchange.crypto.keys (key files).
AES-256-GCM comes from pyca/cryptography; X25519 sealed boxes and Ed25519 from PyNaCl.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import TypeAlias

import nacl.exceptions
import nacl.public
import nacl.pwhash
import nacl.secret
import nacl.signing
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DATA_KEY_BYTES = 32
NONCE_BYTES = 12
PRIVATE_KEY_BYTES = 32
BoxPrivateKey: TypeAlias = nacl.public.PrivateKey
SigningKey: TypeAlias = nacl.signing.SigningKey
_KDF = nacl.pwhash.argon2id
KDF_SALT_BYTES = _KDF.SALTBYTES
# libsodium's "moderate" limits: 3 passes over 256 MiB, about 0.55 s per guess on this 2-core
# machine (the "interactive" preset is 64 MiB and 0.08 s: 7 times cheaper for whoever steals a key file).
KDF_MODERATE = (_KDF.OPSLIMIT_MODERATE, _KDF.MEMLIMIT_MODERATE)


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


# --- private keys ---------------------------------------------------------------------------


def new_box_key() -> BoxPrivateKey:
    return nacl.public.PrivateKey.generate()


def new_signing_key() -> SigningKey:
    return nacl.signing.SigningKey.generate()


def box_key_from_bytes(raw: bytes) -> BoxPrivateKey:
    return nacl.public.PrivateKey(raw)


def signing_key_from_seed(seed: bytes) -> SigningKey:
    return nacl.signing.SigningKey(seed)


def public_box_key(private_key: BoxPrivateKey) -> bytes:
    return bytes(private_key.public_key)


def public_verify_key(signing_key: SigningKey) -> bytes:
    return bytes(signing_key.verify_key)


# --- passphrase-protected secrets -----------------------------------------------------------


def passphrase_key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    """A SecretBox key derived from a passphrase by Argon2id."""
    return _KDF.kdf(nacl.secret.SecretBox.KEY_SIZE, passphrase.encode(), salt, opslimit, memlimit)


def secret_encrypt(key: bytes, plaintext: bytes) -> bytes:
    return bytes(nacl.secret.SecretBox(key).encrypt(plaintext))


def secret_decrypt(key: bytes, sealed: bytes) -> bytes:
    try:
        return nacl.secret.SecretBox(key).decrypt(sealed)
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise PrimitiveFailure("secret box could not be opened") from exc


# --- keyed hashing --------------------------------------------------------------------------


def keyed_digest(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256."""
    return hmac.new(key, message, hashlib.sha256).digest()
