"""Every name the exchange gives to a topic, consumer group or broker principal, in one place.

    raw.<dataset>               sealed by a supplier's agent for the sanitiser
    shared.<dataset>            depersonalised, re-sealed for each granted subscriber
    restricted.<dataset>        a personal dataset, for tier-1 grantees only
    keys.<topic>                the signed key grants of the data keys used on <topic>
    deadletter.sanitiser        what the sanitiser refused, with the reason
    group exchange-sanitiser    the sanitiser's consumer group
    group feed.<signatory>      a subscriber's feed
"""

from __future__ import annotations

__all__ = [
    "DEADLETTER_TOPIC", "FEED_GROUP_PREFIX", "SANITISER_GROUP", "SANITISER_ID", "default_principal", "feed_group",
    "key_topic", "raw_topic", "shared_topic",
]

SANITISER_ID = "sanitiser"  # the sanitiser's party id: producer of every shared envelope
SANITISER_GROUP = "exchange-sanitiser"
FEED_GROUP_PREFIX = "feed."
DEADLETTER_TOPIC = "deadletter.sanitiser"


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
