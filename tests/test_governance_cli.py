"""The governance CLI end to end through CliRunner, with the broker's ACL calls replaced by an
in-memory stand-in (the real broker's ACL behaviour is test_acl_broker.py)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from exchange.core.acl import (
    AclBinding,
    Operation,
    PatternType,
    ResourceType,
)
from exchange.core.partnership import Partnership
from tests.support.governance import (
    OFFENCE,
    PPO,
    S115,
    config_mapping,
    keys,
)


@pytest.fixture
def base() -> Partnership:
    return Partnership.from_mapping(config_mapping())


# --- the CLI ------------------------------------------------------------------------------------


class FakeBroker:
    """Stands in for exchange.transport.acl_broker: holds ACLs in a set, like a broker with an authorizer."""

    def __init__(self, preset=()):
        self.acls = set(preset)
        self.calls = []

    async def describe_acls(self, settings):
        self.calls.append(("describe", settings.bootstrap))
        return set(self.acls)

    async def create_acls(self, settings, bindings):
        self.calls.append(("create", len(bindings)))
        self.acls |= set(bindings)

    async def delete_acls(self, settings, bindings):
        self.calls.append(("delete", len(bindings)))
        gone = self.acls & set(bindings)
        self.acls -= set(bindings)
        return frozenset(gone)


@pytest.fixture
def cli(tmp_path, monkeypatch):
    from exchange.cli import ExchangeGroup
    from exchange.cli import acl as acl_cli
    from exchange.cli import signatory as signatory_cli

    group = ExchangeGroup("exchange", commands={"acl": acl_cli.command, "signatory": signatory_cli.command})
    config = tmp_path / "isp.toml"
    lines = ['[partnership]\nname = "Northshire CSP"\n', f'[sanitiser]\nx25519 = "{keys()["x25519"]}"\n'
             f'ed25519 = "{keys()["ed25519"]}"\n']
    for s in config_mapping(grants=[])["signatory"]:
        supplies = ", ".join(f'"{d}"' for d in s.get("supplies", []))
        lines.append(f'[[signatory]]\nid = "{s["id"]}"\nname = "{s["name"]}"\nkind = "{s["kind"]}"\n'
                     f'tier = {s["tier"]}\nstatus = "{s["status"]}"\nsupplies = [{supplies}]\n'
                     f'x25519 = "{s["x25519"]}"\ned25519 = "{s["ed25519"]}"\n')
    lines.append(f'[[grant]]\nsignatory = "council"\ndataset = "{OFFENCE}"\npurpose = "Strategic assessment"\n'
                 f'legal_basis = "{S115}"\napproved_by = "police"\n'
                 f'expires = {(dt.date.today() + dt.timedelta(days=365)).isoformat()}\n')
    config.write_text("\n".join(lines))
    monkeypatch.setenv("EXCHANGE_REGISTRY", str(tmp_path / "registry.db"))
    monkeypatch.setenv("EXCHANGE_ACTOR", "ig-lead")
    runner = CliRunner()

    def invoke(*args, ok=True):
        result = runner.invoke(group, [*args[:2], "--config", str(config), *args[2:]], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def test_cli_flow_propose_approve_grant_plan_apply_suspend(cli, monkeypatch):
    import exchange.transport.acl_broker as acl_broker

    legacy = AclBinding("User:legacy", ResourceType.TOPIC, PatternType.LITERAL, f"shared.{OFFENCE}", Operation.READ)
    admin = AclBinding("User:acl-admin", ResourceType.CLUSTER, PatternType.LITERAL, "kafka-cluster", Operation.ALTER)
    broker = FakeBroker({legacy, admin})
    for name in ("describe_acls", "create_acls", "delete_acls"):
        monkeypatch.setattr(acl_broker, name, getattr(broker, name))
    expires = (dt.date.today() + dt.timedelta(days=200)).isoformat()
    k = keys()

    out = cli("signatory", "propose", "housing", "--name", "Northshire Homes", "--kind", "co_operating_body",
              "--tier", "1", "--x25519", k["x25519"], "--ed25519", k["ed25519"], "--dlo", "ASB team leader").output
    assert "housing" in out and "proposed" in out and "council, police" in out
    cli("acl", "grant", "housing", OFFENCE, "--purpose", "Tenancy enforcement", "--approved-by", "police",
        "--expires", expires)
    plan_json = json.loads(cli("acl", "plan", "--json").stdout)
    assert not [b for b in plan_json["to_add"] if b["principal"] == "User:housing"]  # not yet approved

    refused = cli("signatory", "approve", "housing", "--by", "charity", ok=False)
    assert refused.exit_code == 1 and "not a responsible authority" in refused.output
    assert "Still awaiting: council" in cli("signatory", "approve", "housing", "--by", "police").output
    assert "now ACTIVE" in cli("signatory", "approve", "housing", "--by", "council").output

    tier3 = cli("acl", "grant", "committee", OFFENCE, "--purpose", "Scrutiny", "--approved-by", "police",
                "--expires", expires, ok=False)
    assert tier3.exit_code == 1 and "aggregates only" in tier3.output
    tier2 = cli("acl", "grant", "charity", PPO, "--purpose", "IOM", "--legal-basis", S115, "--approved-by", "police",
                "--expires", expires, ok=False)
    assert tier2.exit_code == 1 and "only tier 1" in tier2.output

    text = cli("acl", "plan").output
    assert "PRINCIPAL" in text and "RESOURCE TYPE" in text and "PATTERN TYPE" in text and "PERMISSION" in text
    assert any(line.split() == ["add", "User:housing", "TOPIC", "LITERAL", f"shared.{OFFENCE}", "READ", "ALLOW"]
               for line in text.splitlines())

    dry = cli("acl", "apply", "--dry-run", "--bootstrap", "fake:9092")
    assert "dry run: nothing was changed" in dry.output and broker.acls == {legacy, admin}
    assert [c[0] for c in broker.calls] == ["describe"]

    applied = json.loads(cli("acl", "apply", "--bootstrap", "fake:9092", "--json").stdout)
    assert applied["created"] == len(applied["to_add"]) > 0 and applied["deleted"] == 0
    assert applied["kept_unowned"] == [legacy.as_dict()]  # the legacy ACL is on our topic: shown, kept
    assert json.loads(cli("acl", "plan", "--json").stdout)["to_add"] == []
    listing = json.loads(cli("acl", "list", "--json").stdout)
    assert listing and all(row["state"] == "applied" for row in listing)

    assert "SUSPENDED" in cli("signatory", "suspend", "housing", "--reason", "Breach of ISP clause 7").output
    after = json.loads(cli("acl", "plan", "--json").stdout)
    removed = {(b["principal"], b["resource_type"], b["resource_name"]) for b in after["to_remove"]}
    assert removed == {("User:housing", "TOPIC", f"shared.{OFFENCE}"),
                       ("User:housing", "TOPIC", f"keys.shared.{OFFENCE}"),
                       ("User:housing", "GROUP", "feed.housing"), ("User:housing", "GROUP", "feed.housing.")}
    assert after["to_add"] == []
    text = cli("acl", "plan").output
    assert any(line.split()[:2] == ["remove", "User:housing"] for line in text.splitlines())

    cli("acl", "apply", "--bootstrap", "fake:9092")
    assert not [b for b in broker.acls if b.principal == "User:housing"]
    assert legacy in broker.acls and admin in broker.acls  # never removed: not ours

    shown = json.loads(cli("signatory", "show", "housing", "--json").stdout)
    assert shown["status"] == "suspended"
    assert {a["approver"] for a in shown["approvals"]} == {"police", "council"}
    assert [g["dataset"] for g in shown["grants"]] == [OFFENCE] and shown["grants"][0]["approved_by"] == "police"
    assert shown["suspensions"][0]["reason"] == "Breach of ISP clause 7"
    assert shown["suspensions"][0]["suspended_by"] == "ig-lead"
    assert [e["action"] for e in shown["history"]] == ["proposed", "granted", "approved", "approved", "activated",
                                                       "suspended"]
    text = cli("signatory", "show", "housing").output
    assert "SUSPENDED" in text and "Breach of ISP clause 7" in text

    assert "ACTIVE again" in cli("signatory", "reinstate", "housing").output
    assert any(b["principal"] == "User:housing" for b in json.loads(cli("acl", "plan", "--json").stdout)["to_add"])

    cli("acl", "revoke", "council", OFFENCE, "--reason", "no longer needed")
    gone = json.loads(cli("acl", "plan", "--json").stdout)["to_remove"]
    assert {b["resource_name"] for b in gone if b["principal"] == "User:council"} >= {f"shared.{OFFENCE}"}
    grants = json.loads(cli("acl", "grants", "--json").stdout)
    assert {(g["signatory"], g["state"]) for g in grants} == {("council", "revoked"), ("housing", "in force")}

    listed = json.loads(cli("signatory", "list", "--json").stdout)
    assert {r["id"]: r["status"] for r in listed}["housing"] == "active"
    assert "ID" in cli("signatory", "list").output

    cli("signatory", "withdraw", "housing", "--reason", "left")
    assert cli("signatory", "reinstate", "housing", ok=False).exit_code == 1
