"""Every name the exchange gives to a topic, consumer group or broker principal, in one place.

    raw.<dataset>               sealed by a supplier's agent for the sanitiser
    shared.<dataset>            depersonalised, re-sealed for each granted subscriber
    restricted.<dataset>        a personal dataset, for tier-1 grantees only
    shared.aggregates           aggregate tables (counts, small numbers suppressed) for scrutiny
    keys.<topic>                the signed key grants of the data keys used on <topic>
    deadletter.sanitiser        what the sanitiser refused, with the reason
    governance                  the partnership's signed decisions, one message per decision
    group exchange-sanitiser    the sanitiser's consumer group
    group feed.<signatory>      a subscriber's feed
"""

from __future__ import annotations

import re

__all__ = [
    "AGGREGATES_TOPIC", "DATASET_ID_RE", "DEADLETTER_TOPIC", "FEED_GROUP_PREFIX", "GOVERNANCE_TOPIC", "MESSAGE_ID_RE",
    "PARTY_ID_RE", "SANITISER_GROUP", "SANITISER_ID", "default_principal", "feed_group", "key_topic", "raw_topic",
    "shared_topic",
]

SANITISER_ID = "sanitiser"  # the sanitiser's party id: producer of every shared envelope
SANITISER_GROUP = "exchange-sanitiser"
FEED_GROUP_PREFIX = "feed."
DEADLETTER_TOPIC = "deadletter.sanitiser"
GOVERNANCE_TOPIC = "governance"  # keyed by decision version; compacted, kept for ever
AGGREGATES_TOPIC = "shared.aggregates"  # no dataset is called "aggregates" (schemas/avro holds none)

# What an id may look like wherever it comes from outside (an envelope header, a config, the
# command line): checked before it is used in a log line, an audit event, a key or a file name.
PARTY_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")  # signatories and the sanitiser
DATASET_ID_RE = re.compile(r"[a-z][a-z0-9_]{0,62}")
MESSAGE_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")  # the exchange's own are 32 hex digits


def raw_topic(dataset: str) -> str:
    return f"raw.{dataset}"


def shared_topic(dataset: str, *, personal: bool = False) -> str:
    return f"{'restricted' if personal else 'shared'}.{dataset}"


def key_topic(data_topic: str) -> str:
    return f"keys.{data_topic}"


def feed_group(signatory_id: str) -> str:
    return f"{FEED_GROUP_PREFIX}{signatory_id}"


def default_principal(signatory_id: str) -> str:
    """The broker principal a signatory connects as, unless the config names another."""
    return f"User:{signatory_id}"
