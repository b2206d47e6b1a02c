"""UK postcodes: normalisation and format checks. Pure functions, no I/O.

A postcode is normalised to upper case with a single space before the inward code
("cv324ab", "CV32 4AB" and "CV324AB" are all "CV32 4AB").
"""

from __future__ import annotations

import re

from exchange.errors import InvalidPostcode

__all__ = ["POSTCODE_IN_TEXT_RE", "is_postcode", "normalise_postcode", "postcode_sector"]

# Outward code: area (1-2 letters) + district (digit, digit+digit or digit+letter); inward: digit + 2 letters.
# The inward letters never include C, I, K, M, O or V (Royal Mail), which catches many typing errors.
_OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_POSTCODE_RE = re.compile(rf"^({_OUTWARD})({_INWARD})$")
# For finding postcodes inside free text (word bounded, any spacing).
POSTCODE_IN_TEXT_RE = re.compile(rf"\b({_OUTWARD})\s*({_INWARD})\b", re.IGNORECASE)


def normalise_postcode(text: str) -> str:
    """Return the postcode in canonical form, or raise InvalidPostcode saying why."""
    compact = re.sub(r"\s+", "", text or "").upper()
    match = _POSTCODE_RE.match(compact)
    if not match:
        raise InvalidPostcode(f"{text!r} is not a UK postcode (expected e.g. 'CV32 4AB')")
    return f"{match.group(1)} {match.group(2)}"


def is_postcode(text: str) -> bool:
    try:
        normalise_postcode(text)
    except InvalidPostcode:
        return False
    return True


def postcode_sector(postcode: str) -> str:
    """The sector ("CV32 4") of a postcode: coarse enough to share where a full postcode is not."""
    canonical = normalise_postcode(postcode)
    return canonical[:-2]
