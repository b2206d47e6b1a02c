"""An agent configured with the trust anchor instead of the ISP config reads the partnership from
the governance topic: it supplies while its agency is an active registered supplier, and is
refused before anything is sealed once a responsible authority's signed suspension is published."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from exchange.cli import main
from exchange.testing.partnership import COUNCIL, POLICE, police_offence_export
from tests.support.partnership import PASSPHRASE

pytestmark = pytest.mark.broker


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args), env={"EXCHANGE_KEY_PASSPHRASE": PASSPHRASE})


def test_an_agent_following_the_chain_is_refused_once_its_agency_is_suspended(kafka, demo_files, gazetteer,
                                                                              tmp_path):
    registry, anchor = tmp_path / "registry.db", tmp_path / "trust-anchor.json"
    key = {party: str(path) for party, path in demo_files.keys.items()}
    bootstrap = ["--bootstrap", kafka.bootstrap]
    assert _invoke("governance", "found", "--config", str(demo_files.partnership), "--registry", str(registry),
                   "--key", key[POLICE], "--key", key[COUNCIL], "--role", "IG lead",
                   "--publish", kafka.bootstrap).exit_code == 0
    assert _invoke("governance", "anchor", "--registry", str(registry), "--out", str(anchor)).exit_code == 0
    # The police agent's mapping, with the trust anchor where the ISP config was.
    config_text = demo_files.agent_config.read_text()
    assert 'partnership = "partnership.toml"' in config_text
    agent_config = demo_files.root / "police-agent-anchored.toml"
    agent_config.write_text(config_text.replace('partnership = "partnership.toml"', f'trust_anchor = "{anchor}"'))
    export = tmp_path / "crimes.csv"
    police_offence_export(gazetteer, export, rows=5, bad_rows=0, seed=41)

    supplied = _invoke("agent", "submit", "--config", str(agent_config), str(export), "--check", *bootstrap)
    assert supplied.exit_code == 0, supplied.output
    assert "5 would be sent" in supplied.output

    suspended = _invoke("signatory", "suspend", POLICE, "--reason", "ISP audit failed", "--key", key[COUNCIL],
                        "--role", "Chair", "--registry", str(registry), "--publish", kafka.bootstrap)
    assert suspended.exit_code == 0, suspended.output
    refused = _invoke("agent", "submit", "--config", str(agent_config), str(export), "--check", *bootstrap)
    assert refused.exit_code == 1
    assert "suspended" in refused.output and "would refuse this supply" in refused.output
