"""Protective markings (Government Security Classifications 2014). Pure.

The exchange is accredited for OFFICIAL only, which includes OFFICIAL-SENSITIVE. The spellings
agencies use are accepted ("OFFICIAL - SENSITIVE [PERSONAL]", an en dash, "OFFICIAL SENSITIVE",
"OFFICIAL-SENSITIVE: PERSONAL", any case). Older GPMS markings map onto it by a table the
partnership can extend, following the ISP's restriction levels: PROTECT (may cause distress) is
OFFICIAL-SENSITIVE, RESTRICTED (personal data about an offender, victim or witness) is
OFFICIAL-SENSITIVE [PERSONAL]; CONFIDENTIAL, SECRET and TOP SECRET, and anything unmapped, are
refused (fail closed), whatever a table says.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from exchange.errors import ReasonCode, Refused

__all__ = [
    "ABOVE_OFFICIAL", "CLASSIFICATIONS", "DEFAULT_LEGACY_MAP", "DESCRIPTORS", "OFFICIAL",
    "OFFICIAL_SENSITIVE_PERSONAL", "Marking", "marking_is_above_official", "parse_marking",
]

CLASSIFICATIONS = ("OFFICIAL", "OFFICIAL-SENSITIVE")
DESCRIPTORS = ("PERSONAL", "ORGANISATIONAL", "COMMERCIAL")
ABOVE_OFFICIAL = ("CONFIDENTIAL", "SECRET", "TOP SECRET")
DEFAULT_LEGACY_MAP: Mapping[str, str] = {
    "NOT PROTECTIVELY MARKED": "OFFICIAL",
    "UNCLASSIFIED": "OFFICIAL",
    "PROTECT": "OFFICIAL-SENSITIVE",
    "PROTECT - PERSONAL": "OFFICIAL-SENSITIVE [PERSONAL]",
    "RESTRICTED": "OFFICIAL-SENSITIVE [PERSONAL]",
}


@dataclass(frozen=True, slots=True, order=True)
class Marking:
    classification: str
    descriptor: str | None = None

    def __str__(self) -> str:
        return f"{self.classification} [{self.descriptor}]" if self.descriptor else self.classification

    @property
    def sensitive(self) -> bool:
        return self.classification == "OFFICIAL-SENSITIVE"

    def at_least(self, floor: Marking) -> Marking:
        """This marking raised to `floor` where lower, keeping a descriptor either carries: the
        way a marking travels, never lowered."""
        classification = max(self.classification, floor.classification, key=CLASSIFICATIONS.index)
        return Marking(classification, self.descriptor or floor.descriptor)

    def lower_than(self, other: Marking) -> bool:
        return (CLASSIFICATIONS.index(self.classification) < CLASSIFICATIONS.index(other.classification)
                or (other.descriptor is not None and self.descriptor is None))


OFFICIAL = Marking("OFFICIAL")
OFFICIAL_SENSITIVE_PERSONAL = Marking("OFFICIAL-SENSITIVE", "PERSONAL")

_MARKING_RE = re.compile(r"^(?P<cls>[A-Z][A-Z -]*?)\s*(?:\[(?P<desc>[A-Z]+)\])?$")


def _spelling(text: str) -> str:
    """One spelling for the ways agencies write a marking: upper case, single spaces, hyphens for
    dashes, "OFFICIAL-SENSITIVE" however it is joined, a descriptor in square brackets."""
    text = re.sub(r"\s+", " ", text.replace("\u2013", "-").replace("\u2014", "-").strip().upper())
    text = re.sub(r"^OFFICIAL ?(?:- ?)?SENSITIVE\b", "OFFICIAL-SENSITIVE", text)
    return re.sub(r"^(OFFICIAL-SENSITIVE) ?(?:[:-] ?| )\[?([A-Z]+)\]?$", r"\1 [\2]", text)


def marking_is_above_official(text: str) -> bool:
    """CONFIDENTIAL, SECRET or TOP SECRET, with or without a descriptor, in any case and spacing."""
    normalised = re.sub(r"\s+", " ", text.strip().upper())
    return any(normalised == level or normalised.startswith(level + " ") for level in ABOVE_OFFICIAL)


def parse_marking(text: str, legacy_map: Mapping[str, str] = DEFAULT_LEGACY_MAP) -> Marking:
    """Parse a marking as an agency sent it, mapping legacy GPMS markings. Refuses above OFFICIAL."""
    # Every record carries a marking, and a supply uses one or two: remembered per spelling and table.
    return _parse_cached(text or "", tuple(sorted(legacy_map.items())))


@lru_cache(maxsize=256)
def _parse_cached(text: str, legacy_map: tuple[tuple[str, str], ...]) -> Marking:
    normalised = _spelling(text)
    if not normalised:
        raise Refused(ReasonCode.MARKING_UNMAPPED, "record carries no protective marking")
    mapped = {k.upper(): v for k, v in legacy_map}.get(normalised, normalised)
    if marking_is_above_official(normalised) or marking_is_above_official(mapped):  # never mapped down
        raise Refused(ReasonCode.MARKING_ABOVE_OFFICIAL,
                      f"marking {text!r} is above OFFICIAL; the exchange is not accredited for it")
    match = _MARKING_RE.match(mapped)
    if not match or match.group("cls").strip() not in CLASSIFICATIONS:
        raise Refused(ReasonCode.MARKING_UNMAPPED, f"marking {text!r} is not a known or mapped classification")
    descriptor = match.group("desc")
    if descriptor is not None and descriptor not in DESCRIPTORS:
        raise Refused(ReasonCode.MARKING_UNMAPPED, f"marking {text!r} has an unknown descriptor [{descriptor}]")
    return Marking(match.group("cls").strip(), descriptor)
