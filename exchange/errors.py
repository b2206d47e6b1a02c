"""Exception classes. Each says what went wrong; envelope and processing errors carry a
machine-readable reason code, which is what the dead-letter topic and the audit record."""

from __future__ import annotations


class ExchangeError(Exception):
    """Base class of every error the exchange raises on purpose."""

    reason_code = "error"


class ConfigError(ExchangeError):
    """A configuration file is missing, malformed or inconsistent."""

    reason_code = "config"


class KeyFileError(ExchangeError):
    """A key file cannot be read: wrong passphrase, damaged, or not a key file."""

    reason_code = "key_file"


# --- envelope -------------------------------------------------------------------------------


class EnvelopeError(ExchangeError):
    """A sealed message could not be accepted."""

    reason_code = "envelope"


class MalformedEnvelope(EnvelopeError):
    reason_code = "malformed_envelope"


class OversizedMessage(MalformedEnvelope):
    reason_code = "oversized_message"


class UnknownProducer(EnvelopeError):
    reason_code = "unknown_producer"


class BadSignature(EnvelopeError):
    reason_code = "bad_signature"


class NotARecipient(EnvelopeError):
    reason_code = "not_a_recipient"


class UnknownDataKey(EnvelopeError):
    """The data key named by the envelope has not been seen (yet) on the key topic."""

    reason_code = "unknown_data_key"


class DecryptionFailed(EnvelopeError):
    reason_code = "undecryptable"


# --- processing -----------------------------------------------------------------------------


class Refused(ExchangeError):
    """The sanitiser refuses a message on policy grounds (fail closed)."""

    reason_code = "refused"

    def __init__(self, reason_code: str, message: str):
        super().__init__(message)
        self.reason_code = reason_code
