"""The governance CLI end to end through CliRunner: the chain founded with the responsible
authorities' key files, every decision signed with the deciding signatory's key file, and the
broker's ACL calls replaced by an in-memory stand-in (the real broker's ACL behaviour is
test_acl_broker.py)."""

from __future__ import annotations

import asyncio
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
from exchange.core.names import GOVERNANCE_TOPIC
from exchange.storage.registry import Registry
from tests.support.governance import (
    OFFENCE,
    PPO,
    S115,
    config_mapping,
    config_toml,
    keypair,
    keys,
)
from tests.support.partnership import PASSPHRASE

# Who acts for each signatory, as signed into its decisions.
PEOPLE = {"police": ("Pat Police", "Designated Liaison Officer"),
          "council": ("Carol Council", "Community Safety Manager"),
          "charity": ("Chris Charity", "Service Manager")}


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


@pytest.fixture(scope="module")
def key_files(tmp_path_factory):
    """The key files of the signatories that decide in these tests (saving one takes ~0.5 s)."""
    folder = tmp_path_factory.mktemp("keys")
    files = {}
    for party in PEOPLE:
        files[party] = folder / f"{party}.key"
        keypair(party).save(files[party], PASSPHRASE)
    return files


def partnership_config(path, **changes):
    """The test partnership's ISP config (TOML), with its one grant in force for a year from today."""
    mapping = config_mapping(grants=[{"signatory": "council", "dataset": OFFENCE, "purpose": "Strategic assessment",
                                      "legal_basis": S115, "approved_by": "police",
                                      "expires": dt.date.today() + dt.timedelta(days=365)}])
    for signatory in mapping["signatory"]:
        signatory.update(changes.get(signatory["id"], {}))
    path.write_text(config_toml(mapping))
    return path


@pytest.fixture
def cli(tmp_path, monkeypatch, key_files):
    from exchange.cli import ExchangeGroup
    from exchange.cli import acl as acl_cli
    from exchange.cli import audit as audit_cli
    from exchange.cli import governance as governance_cli
    from exchange.cli import signatory as signatory_cli

    group = ExchangeGroup("exchange", commands={"acl": acl_cli.command, "signatory": signatory_cli.command,
                                                "governance": governance_cli.command, "audit": audit_cli.command})
    monkeypatch.setenv("EXCHANGE_REGISTRY", str(tmp_path / "registry.db"))
    monkeypatch.setenv("EXCHANGE_ACTOR", "ig-lead")
    monkeypatch.delenv("EXCHANGE_BOOTSTRAP", raising=False)  # no decision is published to a broker here
    runner = CliRunner()

    def invoke(*args, ok=True):
        result = runner.invoke(group, [str(a) for a in args], env={"EXCHANGE_KEY_PASSPHRASE": PASSPHRASE},
                               catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    invoke.config = partnership_config(tmp_path / "isp.toml")
    invoke.registry = tmp_path / "registry.db"
    return invoke


def signing(key_files, party: str) -> list[str]:
    """The options that sign a decision as `party`: its key file, the person acting and their role."""
    person, role = PEOPLE[party]
    return ["--key", str(key_files[party]), "--person", person, "--role", role]


def found(cli, key_files):
    return cli("governance", "found", "--config", cli.config, "--key", key_files["police"], "--key",
               key_files["council"], "--person", "Ian Lead", "--role", "Partnership IG lead", "--json")


def test_governance_commands_need_a_founded_registry_signed_by_every_responsible_authority(cli, key_files, tmp_path):
    unfounded = cli("signatory", "list", ok=False)
    assert unfounded.exit_code == 1 and "exchange governance found" in unfounded.output

    other = tmp_path / "other.db"
    refused = cli("governance", "found", "--config", cli.config, "--registry", other, "--key", key_files["police"],
                  "--role", "Partnership IG lead", ok=False)
    assert refused.exit_code == 1 and "not signed by founding responsible authority council" in refused.output

    founded = json.loads(found(cli, key_files).stdout)
    assert (founded["version"], founded["partnership"]) == (1, "Test CSP")
    assert founded["signatories"] == ["charity", "committee", "council", "police"]
    assert founded["grants"] == [["council", OFFENCE]] and founded["grants_not_imported"] == []
    again = cli("governance", "found", "--config", cli.config, "--key", key_files["police"], "--key",
                key_files["council"], "--role", "Partnership IG lead", ok=False)
    assert again.exit_code == 1 and "already founded" in again.output

    anchor = json.loads(cli("governance", "anchor").stdout)
    assert anchor["partnership"] == "Test CSP"
    assert anchor["responsible_authorities"] == {sid: keys(sid)["ed25519"] for sid in ("council", "police")}
    cli("governance", "anchor", "--out", tmp_path / "anchor.json")

    chain = json.loads(cli("governance", "show", "--json").stdout)
    assert [(d["version"], d["action"], d["signed_by"], d["person"], d["role"]) for d in chain] == [
        (1, "found", ["police", "council"], "Ian Lead", "Partnership IG lead")]
    verified = cli("audit", "verify", "--registry", cli.registry, "--anchor", tmp_path / "anchor.json")
    assert "OK, 1 signed decision(s) checked" in verified.output and "against the trust anchor" in verified.output


def test_cli_flow_propose_approve_grant_plan_apply_suspend(cli, key_files, monkeypatch, tmp_path):
    import exchange.transport.acl_broker as acl_broker

    legacy = AclBinding("User:legacy", ResourceType.TOPIC, PatternType.LITERAL, f"shared.{OFFENCE}", Operation.READ)
    admin = AclBinding("User:acl-admin", ResourceType.CLUSTER, PatternType.LITERAL, "kafka-cluster", Operation.ALTER)
    broker = FakeBroker({legacy, admin})
    for name in ("describe_acls", "create_acls", "delete_acls"):
        monkeypatch.setattr(acl_broker, name, getattr(broker, name))
    expires = (dt.date.today() + dt.timedelta(days=200)).isoformat()
    k = keys("housing")
    police, council, charity = (signing(key_files, party) for party in ("police", "council", "charity"))
    found(cli, key_files)

    out = cli("signatory", "propose", "housing", "--name", "Northshire Homes", "--kind", "co_operating_body",
              "--tier", "1", "--x25519", k["x25519"], "--ed25519", k["ed25519"], "--dlo", "ASB team leader",
              *police).output
    assert "housing" in out and "proposed" in out and "council, police" in out and "signed for police" in out
    granted = cli("acl", "grant", "housing", OFFENCE, "--purpose", "Tenancy enforcement", "--expires", expires,
                  *police).output
    assert "consented to by police" in granted
    plan_json = json.loads(cli("acl", "plan", "--json").stdout)
    # not yet approved: it may only follow the governance chain
    assert {b["resource_name"] for b in plan_json["to_add"] if b["principal"] == "User:housing"} == {GOVERNANCE_TOPIC}

    refused = cli("signatory", "approve", "housing", *charity, ok=False)
    assert refused.exit_code == 1 and "not a responsible authority" in refused.output
    assert "Still awaiting: council" in cli("signatory", "approve", "housing", *police).output
    assert "now ACTIVE" in cli("signatory", "approve", "housing", *council).output

    tier3 = cli("acl", "grant", "committee", OFFENCE, "--purpose", "Scrutiny", "--expires", expires, *police,
                ok=False)
    assert tier3.exit_code == 1 and "aggregates only" in tier3.output
    tier2 = cli("acl", "grant", "charity", PPO, "--purpose", "IOM", "--legal-basis", S115, "--expires", expires,
                *police, ok=False)
    assert tier2.exit_code == 1 and "only tier 1" in tier2.output
    not_the_originator = cli("acl", "grant", "housing", PPO, "--purpose", "IOM", "--legal-basis", S115,
                             "--expires", expires, *council, ok=False)
    assert not_the_originator.exit_code == 1 and "does not supply ppo" in not_the_originator.output

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

    self_suspension = cli("signatory", "suspend", "police", "--reason", "Audit", *police, ok=False)
    assert self_suspension.exit_code == 1 and "cannot decide this about itself" in self_suspension.output
    assert "SUSPENDED" in cli("signatory", "suspend", "housing", "--reason", "Breach of ISP clause 7",
                              *council).output
    after = json.loads(cli("acl", "plan", "--json").stdout)
    removed = {(b["principal"], b["resource_type"], b["resource_name"]) for b in after["to_remove"]}
    assert removed == {("User:housing", "TOPIC", f"shared.{OFFENCE}"),
                       ("User:housing", "TOPIC", f"keys.shared.{OFFENCE}"),
                       ("User:housing", "GROUP", "feed.housing"), ("User:housing", "GROUP", "feed.housing.")}
    assert after["to_add"] == []
    text = cli("acl", "plan").output
    assert any(line.split()[:2] == ["remove", "User:housing"] for line in text.splitlines())

    cli("acl", "apply", "--bootstrap", "fake:9092")
    assert {b.resource_name for b in broker.acls if b.principal == "User:housing"} == {GOVERNANCE_TOPIC}
    assert legacy in broker.acls and admin in broker.acls  # never removed: not ours

    shown = json.loads(cli("signatory", "show", "housing", "--json").stdout)
    assert shown["status"] == "suspended" and shown["source"] == "proposed"
    assert {a["approver"] for a in shown["approvals"]} == {"police", "council"}
    assert [g["dataset"] for g in shown["grants"]] == [OFFENCE] and shown["grants"][0]["approved_by"] == "police"
    assert shown["suspensions"][0]["reason"] == "Breach of ISP clause 7"
    assert shown["suspensions"][0]["suspended_by"] == "Carol Council (Community Safety Manager) for council"
    assert [e["action"] for e in shown["history"]] == ["propose", "grant", "approve", "approve", "suspend"]
    text = cli("signatory", "show", "housing").output
    assert "SUSPENDED" in text and "Breach of ISP clause 7" in text

    assert "ACTIVE again" in cli("signatory", "reinstate", "housing", *council).output
    assert any(b["principal"] == "User:housing" for b in json.loads(cli("acl", "plan", "--json").stdout)["to_add"])

    revoked = cli("acl", "revoke", "council", OFFENCE, "--reason", "no longer needed", *police).output
    assert "(grant #1)" in revoked  # the founding grant: its id is the founding decision's version
    gone = json.loads(cli("acl", "plan", "--json").stdout)["to_remove"]
    assert {b["resource_name"] for b in gone if b["principal"] == "User:council"} >= {f"shared.{OFFENCE}"}
    grants = json.loads(cli("acl", "grants", "--json").stdout)
    assert {(g["signatory"], g["state"]) for g in grants} == {("council", "revoked"), ("housing", "in force")}

    listed = json.loads(cli("signatory", "list", "--json").stdout)
    assert {r["id"]: r["status"] for r in listed}["housing"] == "active"
    assert "ID" in cli("signatory", "list").output
    # A config edited afterwards changes nothing: where it differs from the chain is reported.
    edited = partnership_config(tmp_path / "edited.toml", charity={"status": "suspended"})
    noted = cli("signatory", "list", "--config", edited, "--json")
    assert "charity: the config says status 'suspended', the registry keeps 'active'" in noted.stderr
    assert {r["id"]: r["status"] for r in json.loads(noted.stdout)}["charity"] == "active"

    cli("signatory", "withdraw", "housing", "--reason", "left", *council)
    assert cli("signatory", "reinstate", "housing", *council, ok=False).exit_code == 1

    chain = json.loads(cli("governance", "show", "--json").stdout)
    assert [(d["action"], d["subject"], d["signed_by"]) for d in chain] == [
        ("found", "Test CSP", ["police", "council"]), ("propose", "housing", ["police"]),
        ("grant", "housing", ["police"]), ("approve", "housing", ["police"]), ("approve", "housing", ["council"]),
        ("suspend", "housing", ["council"]), ("reinstate", "housing", ["council"]), ("revoke", "council", ["police"]),
        ("withdraw", "housing", ["council"])]
    assert "OK, 9 signed decision(s) checked" in cli("audit", "verify", "--registry", cli.registry).output

    async def broker_events():
        async with Registry(cli.registry) as registry:
            return await registry.events("broker")

    applications = asyncio.run(broker_events())
    assert [(e.action, e.subject, e.actor) for e in applications] == [("acls_applied", "broker", "ig-lead")] * 2
