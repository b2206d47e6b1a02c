"""Public keys as the partnership config shows them: base64 text, checked for length. Pure (no
cryptographic library): the private side is exchange.crypto.keys."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from exchange.errors import ConfigError, KeyFileError

__all__ = ["PublicKeys", "b64", "unb64"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, *, what: str, length: int, error: type[Exception] = KeyFileError) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise error(f"{what} is not valid base64") from exc
    if len(raw) != length:
        raise error(f"{what} must be {length} bytes, got {len(raw)}")
    return raw


@dataclass(frozen=True, slots=True)
class PublicKeys:
    """What a party publishes: the key others seal to and the key that checks its signatures."""

    x25519: bytes
    ed25519: bytes

    def as_config(self) -> dict[str, str]:
        return {"x25519": b64(self.x25519), "ed25519": b64(self.ed25519)}

    @classmethod
    def from_config(cls, x25519: str, ed25519: str, *, owner: str) -> PublicKeys:
        return cls(
            x25519=unb64(x25519, what=f"{owner}: x25519 public key", length=32, error=ConfigError),
            ed25519=unb64(ed25519, what=f"{owner}: ed25519 public key", length=32, error=ConfigError),
        )
