"""Every exception the exchange raises on purpose, and the reason codes it records.

The tree (each class names what went wrong; `reason_code` is its machine-readable code)::

    ExchangeError                      anything the exchange refuses or cannot do (CLI exit 1)
    ├── UsageError                     the command line asks for something impossible (CLI exit 2)
    ├── ConfigError                    a configuration file is missing, malformed or inconsistent
    ├── KeyFileError                   a key file: wrong passphrase, damaged, not a key file
    ├── StoreLocked                    a store sealed at rest, opened without (or with another) key
    ├── EnvelopeError                  a sealed message could not be accepted
    │   ├── MalformedEnvelope          not an envelope (or key grant) at all
    │   │   └── OversizedMessage       over the size limit, refused before any decoding
    │   ├── UnknownProducer            the signer is not a known, active party
    │   ├── BadSignature               the signature does not verify
    │   ├── NotARecipient              sealed under a data key not granted to us
    │   ├── UnknownDataKey             the data key has not been announced (yet)
    │   └── DecryptionFailed           the ciphertext or wrapped key does not open
    ├── Refused                        a policy refusal, carrying its ReasonCode (fail closed)
    ├── GazetteerError                 the gazetteer cannot be loaded, built or queried
    │   ├── UnknownPostcode
    │   └── NoQualifyingPostcode
    ├── AuditError                     the audit log cannot be opened or written as asked
    ├── GovernanceError                a governance action was refused; the registry is unchanged
    │   ├── UnknownSignatory
    │   ├── SignatoryExists
    │   ├── InvalidProposal
    │   ├── StatusChangeRefused
    │   ├── ApprovalRefused
    │   ├── NoSuchGrant
    │   ├── DecisionRefused            not signed by whom the rules require, or not on the chain
    │   │   └── ChainBroken            a stored or published chain of decisions does not verify
    │   └── GrantRefused
    │       ├── TierNotPermitted
    │       │   └── AggregatesOnly
    │       ├── GrantConditionsMissing
    │       └── OriginatorApprovalRequired
    └── AclBrokerError                 the broker did not do what was asked with its ACLs
        ├── AclsUnsupported
        ├── AclsNotConfirmed
        ├── AclCreateFailed
        └── AclDeleteFailed

    ValueError
    ├── AvroDecodeError                bytes that are not a valid encoding under a schema
    ├── InvalidPostcode                text that is not a well-formed UK postcode
    └── RowInvalid                     an export row that fails validation (every reason kept)

    RuntimeError
    └── BrokerError                    the embedded test broker could not start

    Exception
    └── TransportUnavailable           the broker (not a message) failed: leave the offset, retry

The three ValueError subclasses are raised by pure parsing code and caught close by; they are
not ExchangeErrors because a caller that does not expect them should see a plain bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from exchange.core.acl import AclBinding

__all__ = [
    "AclBrokerError", "AclCreateFailed", "AclDeleteFailed", "AclsNotConfirmed", "AclsUnsupported",
    "AggregatesOnly", "ApprovalRefused", "AuditError", "AvroDecodeError", "BadSignature", "BrokerError",
    "ChainBroken", "ConfigError", "DecisionRefused", "DecryptionFailed", "EnvelopeError", "ExchangeError",
    "GazetteerError", "GovernanceError",
    "GrantConditionsMissing", "GrantRefused", "InvalidPostcode", "InvalidProposal", "KeyFileError", "StoreLocked",
    "MalformedEnvelope", "NoQualifyingPostcode", "NoSuchGrant", "NotARecipient", "OriginatorApprovalRequired",
    "OversizedMessage", "ReasonCode", "Refused", "RowInvalid", "SignatoryExists", "StatusChangeRefused",
    "TierNotPermitted", "TransportUnavailable", "UnknownDataKey", "UnknownPostcode", "UnknownProducer",
    "UnknownSignatory", "UsageError",
]


class ReasonCode(StrEnum):
    """Why a message was refused: what the dead-letter topic, a feed's refusals and the audit record.

    A StrEnum, so a code compares equal to its text and is stored as that text.
    """

    MALFORMED_ENVELOPE = "malformed_envelope"
    OVERSIZED_MESSAGE = "oversized_message"
    UNKNOWN_PRODUCER = "unknown_producer"
    PRODUCER_INACTIVE = "producer_inactive"
    PRODUCER_NOT_ALLOWED = "producer_not_allowed"
    BAD_SIGNATURE = "bad_signature"
    NOT_A_RECIPIENT = "not_a_recipient"
    UNKNOWN_DATA_KEY = "unknown_data_key"
    UNDECRYPTABLE = "undecryptable"
    SCHEMA_UNKNOWN = "schema_unknown"
    RECORD_INVALID = "record_invalid"
    REPLAYED_MESSAGE_ID = "replayed_message_id"
    MARKING_ABOVE_OFFICIAL = "marking_above_official"
    MARKING_UNMAPPED = "marking_unmapped"
    LOCATION_UNPLACEABLE = "location_unplaceable"
    DATASET_MISMATCH = "dataset_mismatch"
    NO_RECIPIENT = "no_recipient"
    ORIGINATOR_RESTRICTED = "originator_restricted"
    CONSENT_WITHHELD = "consent_withheld"
    INTERNAL_ERROR = "internal_error"


class ExchangeError(Exception):
    """Base class of every error the exchange raises on purpose."""

    reason_code: ClassVar[str] = "error"


class UsageError(ExchangeError):
    """The command line asks for something that cannot be done as asked (exit status 2)."""

    reason_code = "usage"


class ConfigError(ExchangeError):
    """A configuration file is missing, malformed or inconsistent."""

    reason_code = "config"


class KeyFileError(ExchangeError):
    """A key file cannot be read: wrong passphrase, damaged, or not a key file."""

    reason_code = "key_file"


class StoreLocked(ExchangeError):
    """A store whose records are sealed at rest was opened without its key, or with another one."""

    reason_code = "store_locked"


# --- envelope -------------------------------------------------------------------------------


class EnvelopeError(ExchangeError):
    """A sealed message could not be accepted."""

    reason_code = "envelope"


class MalformedEnvelope(EnvelopeError):
    reason_code = ReasonCode.MALFORMED_ENVELOPE


class OversizedMessage(MalformedEnvelope):
    reason_code = ReasonCode.OVERSIZED_MESSAGE


class UnknownProducer(EnvelopeError):
    reason_code = ReasonCode.UNKNOWN_PRODUCER


class BadSignature(EnvelopeError):
    reason_code = ReasonCode.BAD_SIGNATURE


class NotARecipient(EnvelopeError):
    reason_code = ReasonCode.NOT_A_RECIPIENT


class UnknownDataKey(EnvelopeError):
    """The data key named by the envelope has not been seen (yet) on the key topic."""

    reason_code = ReasonCode.UNKNOWN_DATA_KEY


class DecryptionFailed(EnvelopeError):
    reason_code = ReasonCode.UNDECRYPTABLE


# --- processing -----------------------------------------------------------------------------


class Refused(ExchangeError):
    """A message (or record) is refused on policy grounds (fail closed); it carries its code."""

    def __init__(self, reason_code: ReasonCode, message: str):
        super().__init__(message)
        self.reason_code = ReasonCode(reason_code)  # type: ignore[misc]  # per instance, by design


# --- gazetteer ------------------------------------------------------------------------------


class GazetteerError(ExchangeError):
    """The gazetteer could not be loaded, built or queried."""

    reason_code = "gazetteer"


class UnknownPostcode(GazetteerError):
    """The postcode is not in the gazetteer (or is not a postcode at all)."""

    reason_code = "unknown_postcode"

    def __init__(self, postcode: str, reason: str = "is not in the gazetteer") -> None:
        self.postcode = postcode
        super().__init__(f"postcode {postcode!r} {reason}")


class NoQualifyingPostcode(GazetteerError):
    """No postcode in the gazetteer has enough households to stand in for a record."""

    reason_code = "no_qualifying_postcode"

    def __init__(self, k: int, size: int, excluded: int = 0) -> None:
        self.k = k
        extra = f" after excluding {excluded} postcode(s)" if excluded else ""
        super().__init__(f"no postcode has at least {k} households among the {size:,} in the gazetteer{extra}")


# --- audit ----------------------------------------------------------------------------------


class AuditError(ExchangeError):
    """The audit log cannot be opened or written as asked."""

    reason_code = "audit"


# --- governance -----------------------------------------------------------------------------


class GovernanceError(ExchangeError):
    """A governance action was refused: the registry is unchanged."""

    reason_code = "governance"


class UnknownSignatory(GovernanceError):
    reason_code = "unknown_signatory"


class SignatoryExists(GovernanceError):
    reason_code = "signatory_exists"


class InvalidProposal(GovernanceError):
    reason_code = "invalid_proposal"


class StatusChangeRefused(GovernanceError):
    """The signatory is not in a status from which this change can be made."""

    reason_code = "status_change_refused"


class ApprovalRefused(GovernanceError):
    """Only an active responsible authority may approve a new signatory."""

    reason_code = "approval_refused"


class GrantRefused(GovernanceError):
    reason_code = "grant_refused"


class TierNotPermitted(GrantRefused):
    """The signatory's tier may not receive this dataset."""

    reason_code = "tier_not_permitted"


class AggregatesOnly(TierNotPermitted):
    """Tier 3 (scrutiny) signatories receive aggregates only, never record-level data."""

    reason_code = "aggregates_only"


class GrantConditionsMissing(GrantRefused):
    """Purpose, legal basis or expiry missing or unacceptable."""

    reason_code = "grant_conditions_missing"


class OriginatorApprovalRequired(GrantRefused):
    """A grant must be approved by a signatory that supplies the dataset."""

    reason_code = "originator_approval_required"


class NoSuchGrant(GovernanceError):
    reason_code = "no_such_grant"


class DecisionRefused(GovernanceError):
    """A governance decision lacks a valid signature by whom the rules require (a forged or
    "on behalf of" approval), or does not follow the chain it claims to extend."""

    reason_code = "decision_refused"


class ChainBroken(DecisionRefused):
    """A stored or published chain of decisions does not verify: a hash, signature or rule fails."""

    reason_code = "chain_broken"


# --- broker ACLs ----------------------------------------------------------------------------


class AclBrokerError(ExchangeError):
    """The broker did not do what was asked with its ACLs."""

    reason_code = "acl_broker"


class AclsUnsupported(AclBrokerError):
    """The broker does not implement this ACL request (or no version aiokafka can speak)."""

    reason_code = "acl_unsupported"


class AclsNotConfirmed(AclBrokerError):
    """The broker answered without per-ACL results: whether anything changed is unknown."""

    reason_code = "acl_not_confirmed"


@dataclass
class AclCreateFailed(AclBrokerError):
    """Some bindings were refused; `created` holds the ones the broker confirmed."""

    message: str
    created: frozenset[AclBinding]
    failed: tuple[tuple[AclBinding, str], ...]
    reason_code = "acl_create_failed"

    def __str__(self) -> str:
        return self.message


@dataclass
class AclDeleteFailed(AclBrokerError):
    """Some bindings were not deleted; `deleted` holds the ones the broker confirmed."""

    message: str
    deleted: frozenset[AclBinding]
    failed: tuple[tuple[AclBinding, str], ...]
    reason_code = "acl_delete_failed"

    def __str__(self) -> str:
        return self.message


# --- parsing (plain ValueErrors, caught close to where they are raised) ---------------------


class AvroDecodeError(ValueError):
    """Bytes that are not a valid encoding under the expected schema."""


class InvalidPostcode(ValueError):
    """The text is not a well-formed UK postcode."""


class RowInvalid(ValueError):
    """An export row fails validation; `reasons` keeps every reason, each naming its field."""

    def __init__(self, reasons: Sequence[str]):
        super().__init__("; ".join(reasons))
        self.reasons = tuple(reasons)


class BrokerError(RuntimeError):
    """The embedded broker could not be found or started."""


class TransportUnavailable(Exception):
    """The broker, not the message, failed (a key topic could not be read, say). Not an
    ExchangeError on purpose: a service must not dead-letter a message for it, but leave its
    offset uncommitted and let the loop fail and restart."""
