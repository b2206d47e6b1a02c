"""Shared fixtures: one embedded broker per test session, and a synthetic partnership."""

from __future__ import annotations

import os

import pytest

from exchange.transport.broker import EmbeddedBroker
from exchange.transport.kafka import KafkaSettings
from tests.support.partnership import PASSPHRASE


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """A real Kafka-protocol broker (Tansu) on a free 127.0.0.1 port, one per test module (it starts
    in well under a second), so modules never see each other's topics, groups or offsets."""
    log = tmp_path_factory.mktemp("broker") / "broker.log"
    with EmbeddedBroker(log_path=log) as running:
        yield running


@pytest.fixture(scope="module")
def kafka(broker) -> KafkaSettings:
    return KafkaSettings(broker.bootstrap)


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory):
    """Synthetic gazetteer, keys, ISP config and agent mapping (the demo's), built once."""
    from exchange.testing.gazetteer import synthesise
    from exchange.testing.partnership import make_partnership

    root = tmp_path_factory.mktemp("partnership")
    synthesise(seed=11, out_db=root / "gazetteer.db")
    return make_partnership(root, PASSPHRASE, gazetteer=root / "gazetteer.db")


@pytest.fixture(scope="session")
def gazetteer(demo_files):
    from exchange.storage.gazetteer import Gazetteer

    return Gazetteer.open(demo_files.gazetteer)


@pytest.fixture(scope="session")
def party_keys(demo_files):
    from exchange.crypto.keys import KeyPair

    return {name: KeyPair.load(path, PASSPHRASE) for name, path in demo_files.keys.items()}


@pytest.fixture(scope="session")
def partnership(demo_files):
    from exchange.core.partnership import load_partnership

    return load_partnership(demo_files.partnership)


@pytest.fixture(autouse=True)
def _no_passphrase_leak(monkeypatch):
    monkeypatch.delenv("EXCHANGE_KEY_PASSPHRASE", raising=False)
    monkeypatch.delenv("EXCHANGE_KEY_PASSPHRASE_FILE", raising=False)
    yield


os.environ.setdefault("PYTHONHASHSEED", "0")
