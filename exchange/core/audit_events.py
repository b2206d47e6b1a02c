"""The facts the audit trail records, as values (exchange.storage.audit keeps them, hash-chained).

An event holds ids, hashes, counts, protective markings and reason codes only: no personal data
and no record content. `detail` is operator text, cut at DETAIL_LIMIT characters.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["DETAIL_LIMIT", "KINDS", "AuditEvent", "AuditSink", "content_hash"]

KINDS = frozenset({"receipt", "sanitisation", "release", "rejection", "withheld", "retention", "delivery",
                   "supersession", "withdrawal", "export", "briefing"})
DETAIL_LIMIT = 500
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def content_hash(value: bytes) -> str:
    """The `content_sha256` of a message: sha256 of its still-encrypted bytes, hex."""
    return hashlib.sha256(value).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One fact for the audit trail. Ids, hashes, counts, markings and codes only: no personal
    data and no record content (see the module docstring; `detail` is operator text)."""

    kind: str
    dataset: str | None = None
    message_id: str | None = None
    producer: str | None = None
    recipients: tuple[str, ...] = ()
    marking: str | None = None
    reason_code: str | None = None
    count: int = 1
    content_sha256: str | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"audit event kind must be one of {', '.join(sorted(KINDS))}, not {self.kind!r}")
        if isinstance(self.recipients, str):
            raise TypeError("recipients must be a sequence of signatory ids, not one string")
        recipients = tuple(self.recipients)
        if not all(isinstance(r, str) for r in recipients):
            raise TypeError("recipients must be signatory ids (str)")
        object.__setattr__(self, "recipients", recipients)
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 0:
            raise ValueError(f"count must be a non-negative int, not {self.count!r}")
        if self.content_sha256 is not None and not _SHA256_HEX.fullmatch(self.content_sha256):
            raise ValueError("content_sha256 must be 64 lower-case hex digits (use audit.content_hash)")
        for name in ("dataset", "message_id", "producer", "marking", "reason_code"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a str or None")
        if not isinstance(self.detail, str):
            raise TypeError("detail must be a str")
        if len(self.detail) > DETAIL_LIMIT:
            object.__setattr__(self, "detail", self.detail[:DETAIL_LIMIT - 1] + "…")


class AuditSink(Protocol):
    """Where audit events go (exchange.storage.audit.AuditLog)."""

    async def append_many(self, events: Iterable[AuditEvent]) -> Any: ...

    async def append(self, event: AuditEvent) -> Any: ...
