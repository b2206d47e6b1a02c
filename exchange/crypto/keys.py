"""Key pairs and passphrase-protected key files.

A key file holds one party's X25519 private key (to unwrap data keys sealed to it) and Ed25519
signing seed (to sign what it publishes), plus, for the sanitiser, the partnership's pseudonym
secret. The private part is encrypted with a key derived from a passphrase by Argon2id
(libsodium's moderate limits: 256 MiB, about 0.55 s a guess here) and XSalsa20-Poly1305 (SecretBox).
Public keys are shown base64-encoded, as they appear in the partnership config.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from exchange.core.public_keys import PublicKeys, b64, unb64
from exchange.crypto import _primitives as primitives
from exchange.errors import KeyFileError

__all__ = ["KEYFILE_FORMAT", "PASSPHRASE_ENV", "PASSPHRASE_FILE_ENV", "KeyPair", "PublicKeys", "load_keypair",
           "passphrase_from_environment"]

KEYFILE_FORMAT = "csp-exchange-keyfile/1"
PASSPHRASE_ENV = "EXCHANGE_KEY_PASSPHRASE"
PASSPHRASE_FILE_ENV = "EXCHANGE_KEY_PASSPHRASE_FILE"


class KeyPair:
    """A party's private keys. Deliberately has no __repr__ that could print them."""

    __slots__ = ("name", "_box_key", "_signing_key", "_pseudonym_secret")

    def __init__(
        self,
        name: str,
        box_key: primitives.BoxPrivateKey,
        signing_key: primitives.SigningKey,
        pseudonym_secret: bytes | None = None,
    ):
        self.name = name
        self._box_key = box_key
        self._signing_key = signing_key
        self._pseudonym_secret = pseudonym_secret

    @classmethod
    def generate(cls, name: str, *, with_pseudonym_secret: bool = False) -> KeyPair:
        secret = primitives.random_bytes(32) if with_pseudonym_secret else None
        return cls(name, primitives.new_box_key(), primitives.new_signing_key(), secret)

    def __repr__(self) -> str:
        return f"KeyPair(name={self.name!r}, <private keys hidden>)"

    @property
    def public(self) -> PublicKeys:
        return PublicKeys(primitives.public_box_key(self._box_key), primitives.public_verify_key(self._signing_key))

    @property
    def pseudonym_secret(self) -> bytes:
        if self._pseudonym_secret is None:
            raise KeyFileError(f"key file of {self.name!r} holds no pseudonym secret (only the sanitiser's does)")
        return self._pseudonym_secret

    def local_secret(self, purpose: str) -> bytes:
        """A secret for this party's own bookkeeping (an HMAC key), derived from its signing key
        under a purpose label: nothing more to keep or lose, and never the signing key itself."""
        return primitives.keyed_digest(bytes(self._signing_key), b"csp-exchange/local-secret/v1\x00" + purpose.encode())

    # Only exchange.crypto.envelope uses these two.
    @property
    def box_key(self) -> primitives.BoxPrivateKey:
        return self._box_key

    @property
    def signing_key(self) -> primitives.SigningKey:
        return self._signing_key

    def save(self, path: str | Path, passphrase: str) -> None:
        if len(passphrase) < 12:
            raise KeyFileError("the passphrase must be at least 12 characters")
        secret = {"x25519": b64(bytes(self._box_key)), "ed25519_seed": b64(bytes(self._signing_key))}
        if self._pseudonym_secret is not None:
            secret["pseudonym_secret"] = b64(self._pseudonym_secret)
        salt = primitives.random_bytes(primitives.KDF_SALT_BYTES)
        ops, mem = primitives.KDF_MODERATE
        box_key = primitives.passphrase_key(passphrase, salt, ops, mem)
        document = {
            "format": KEYFILE_FORMAT,
            "name": self.name,
            "public": self.public.as_config(),
            "kdf": {"name": "argon2id", "salt": b64(salt), "opslimit": ops, "memlimit": mem},
            "sealed": b64(primitives.secret_encrypt(box_key, json.dumps(secret).encode())),
        }
        path = Path(path)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Create with owner-only permissions from the start, never world-readable for a moment, and
        # reset an existing file (--force) to them before anything is written into it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(document, out, indent=2)

    @classmethod
    def load(cls, path: str | Path, passphrase: str) -> KeyPair:
        path = Path(path)
        try:
            document = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise KeyFileError(f"{path}: no such key file") from exc
        except (OSError, ValueError) as exc:
            raise KeyFileError(f"{path}: not a key file ({exc.__class__.__name__})") from exc
        if not isinstance(document, dict) or document.get("format") != KEYFILE_FORMAT:
            raise KeyFileError(f"{path}: not a {KEYFILE_FORMAT} key file")
        try:
            kdf = document["kdf"]
            salt = base64.b64decode(kdf["salt"])
            key = primitives.passphrase_key(passphrase, salt, int(kdf["opslimit"]), int(kdf["memlimit"]))
            secret = json.loads(primitives.secret_decrypt(key, base64.b64decode(document["sealed"])))
        except primitives.PrimitiveFailure as exc:
            raise KeyFileError(f"{path}: wrong passphrase or damaged key file") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise KeyFileError(f"{path}: damaged key file ({exc.__class__.__name__})") from exc
        pseudonym = secret.get("pseudonym_secret")
        return cls(
            str(document.get("name", path.stem)),
            primitives.box_key_from_bytes(unb64(secret["x25519"], what=f"{path}: x25519", length=32)),
            primitives.signing_key_from_seed(unb64(secret["ed25519_seed"], what=f"{path}: ed25519", length=32)),
            unb64(pseudonym, what=f"{path}: pseudonym secret", length=32) if pseudonym else None,
        )


def passphrase_from_environment(*, prompt_if_missing: bool = True, confirm: bool = False) -> str:
    """The key passphrase: $EXCHANGE_KEY_PASSPHRASE_FILE, then $EXCHANGE_KEY_PASSPHRASE, then a prompt."""
    file_name = os.environ.get(PASSPHRASE_FILE_ENV)
    if file_name:
        try:
            passphrase = Path(file_name).read_text().rstrip("\n")
        except (OSError, UnicodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not text"
            raise KeyFileError(f"{file_name}: cannot read the passphrase file (${PASSPHRASE_FILE_ENV}): "
                               f"{reason}") from None
        if not passphrase:
            raise KeyFileError(f"{file_name}: the passphrase file (${PASSPHRASE_FILE_ENV}) is empty")
        return passphrase
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if not prompt_if_missing:
        raise KeyFileError(f"no passphrase: set {PASSPHRASE_ENV} or {PASSPHRASE_FILE_ENV}")
    import click  # the prompt is a terminal concern; keep click out of the import path otherwise

    return click.prompt("Key passphrase", hide_input=True, confirmation_prompt=confirm)


def load_keypair(path: str | Path) -> KeyPair:
    return KeyPair.load(path, passphrase_from_environment())
