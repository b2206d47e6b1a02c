"""The chain of signed governance decisions (exchange.core.ledger): who must sign what, that a
forged or "on behalf of" decision is refused, that the chain is tamper-evident, and that every
site replaying it against the trust anchor derives the same partnership. Registries on temporary
SQLite files; no broker."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3

import pytest

from exchange.core.ledger import Decision, Ledger, TrustAnchor
from exchange.core.names import GOVERNANCE_TOPIC
from exchange.core.schemas import catalogue
from exchange.crypto.decisions import draft, sign_decision, verify_signature
from exchange.crypto.keys import KeyPair
from exchange.errors import (
    ChainBroken,
    DecisionRefused,
    GovernanceError,
    OriginatorApprovalRequired,
)
from exchange.services.governance_topic import GovernanceFollower
from exchange.transport.kafka import KafkaSettings
from tests.support.governance import (
    OFFENCE,
    PPO,
    TODAY,
    Signed,
    config_mapping,
    config_toml,
    founded,
    keypair,
    keys,
    registry_with,
    run,
)

HOUSING = {"name": "Northshire Homes", "kind": "co_operating_body", "tier": 1, "liaison_officer": "ASB lead"}


def _replayed(decisions, anchor=None) -> Ledger:
    return Ledger.replay(decisions, catalogue(), verify_signature, anchor=anchor)


# --- founding ------------------------------------------------------------------------------------


def test_founding_needs_every_responsible_authority_and_a_founding_grant_its_originators_signature(tmp_path):
    async def scenario():
        with pytest.raises(DecisionRefused, match="not signed by founding responsible authority council"):
            await registry_with(tmp_path / "a.db", signers=[keypair("police")])
        # Both authorities sign, but the grant's originator is a third party that does not.
        mapping = config_mapping(extra_signatories=[
            {"id": "btp", "name": "British Transport Police", "kind": "co_operating_body", "tier": 1,
             "status": "active", "supplies": ["btp_crime"]}],
            grants=[{"signatory": "council", "dataset": "btp_crime", "purpose": "Stations", "legal_basis": "s115",
                     "approved_by": "btp", "expires": TODAY + dt.timedelta(days=30)}])
        async with founded(tmp_path / "b.db", mapping, signers=[keypair("police"), keypair("council")]) as registry:
            ledger = await registry.ledger()
            return [g.dataset for g in ledger.grants], ledger.not_imported

    grants, refused = run(scenario())
    assert grants == []
    assert refused and refused[0][:2] == ("council", "btp_crime") and "did not sign" in refused[0][2]


def test_a_site_believes_only_the_chain_its_trust_anchor_founded(tmp_path):
    async def scenario():
        async with founded(tmp_path / "r.db") as registry:
            return await registry.decisions(), (await registry.ledger()).trust_anchor()

    decisions, anchor = run(scenario())
    assert set(anchor.authorities) == {"council", "police"}
    assert TrustAnchor.from_dict(anchor.as_dict()) == anchor  # the file a site is given round-trips
    assert _replayed(decisions, anchor).version == len(decisions)

    # A chain founded by other keys under the same names (an impostor registry) is refused.
    impostor = dict(anchor.authorities, police=KeyPair.generate("impostor").public.ed25519)
    with pytest.raises(DecisionRefused, match="trust anchor"):
        _replayed(decisions, TrustAnchor(anchor.partnership, impostor))


# --- forged and "on behalf of" decisions ---------------------------------------------------------------


def test_an_approval_on_behalf_of_another_authority_is_refused(tmp_path):
    async def scenario():
        async with founded(tmp_path / "r.db") as registry:
            signed = Signed(registry)
            await signed.propose("housing", **HOUSING)
            pending = (await registry.ledger()).pending["housing"].decision
            unsigned = draft(await registry.ledger(), "approve", "housing", {"decision": pending},
                             person="Operator", role="Admin", at=signed.at)
            # The police key, labelled as the council's signature: the key is not the council's.
            forged = sign_decision(unsigned, keypair("police"), signer="council")
            with pytest.raises(DecisionRefused, match="no valid signature by council"):
                await registry.decide(forged)
            # Signed by the council, then changed: the signature no longer matches what it says.
            real = sign_decision(unsigned, keypair("council"), signer="council")
            tampered = dataclasses.replace(real, terms={"decision": pending, "extra": "changed after signing"})
            with pytest.raises(DecisionRefused, match="no valid signature by council"):
                await registry.decide(tampered)
            with pytest.raises(DecisionRefused):
                await registry.decide(dataclasses.replace(unsigned))  # no signature at all
            assert (await registry.signatory("housing")).status == "proposed"
            assert await registry.awaiting("housing") == ("council", "police")
            # Each authority with its own key: admitted.
            await signed.approve("housing", by="police")
            await signed.approve("housing", by="council")
            return (await registry.signatory("housing")).status

    assert run(scenario()) == "active"


def test_an_approval_names_the_proposal_it_approves(tmp_path):
    async def scenario():
        async with founded(tmp_path / "r.db") as registry:
            signed = Signed(registry)
            await signed.propose("housing", **HOUSING)
            with pytest.raises(DecisionRefused, match="awaiting approval is"):
                await signed.decision("approve", "housing", {"decision": "0" * 64}, by="police")

    run(scenario())


def test_who_may_sign_grants_suspensions_and_withdrawals(tmp_path):
    async def scenario():
        async with founded(tmp_path / "r.db") as registry:
            signed = Signed(registry)
            with pytest.raises(OriginatorApprovalRequired, match="does not supply"):
                await signed.grant("charity", OFFENCE, approved_by="council")  # the council does not supply it
            with pytest.raises(DecisionRefused, match="only an active responsible authority"):
                await signed.suspend("council", "breach", by="charity")
            with pytest.raises(DecisionRefused, match="about itself"):
                await signed.suspend("council", "breach", by="council")
            with pytest.raises(DecisionRefused, match="itself or an active responsible authority"):
                await signed.withdraw("charity", by="committee")
            grant = await signed.grant("charity", OFFENCE, purpose="Victim referrals", legal_basis="")
            assert grant.signatures[0].signer == "police"
            # The terms the originator signed are the grant's terms.
            record = next(g for g in await registry.grants("charity") if g.id == grant.version)
            return record.approved_by, record.purpose

    assert run(scenario()) == ("police", "Victim referrals")


def test_a_grant_signed_to_permit_sharing_without_consent_says_so_in_the_partnership(tmp_path):
    async def scenario():
        async with founded(tmp_path / "r.db") as registry:
            signed = Signed(registry)
            await signed.grant("council", PPO, purpose="IOM panel", without_consent=True)
            return await registry.effective_partnership()

    partnership = run(scenario())
    assert partnership.may_receive_without_consent("council", PPO, TODAY)
    assert not partnership.may_receive_without_consent("council", OFFENCE, TODAY)


def test_a_grant_may_sign_a_view_of_the_dataset(tmp_path):
    async def scenario():
        async with founded(tmp_path / "r.db") as registry:
            signed = Signed(registry)
            with pytest.raises(GovernanceError, match="no field"):
                await signed.decision("grant", "charity", {"dataset": OFFENCE, "purpose": "p", "expires": "2027-06-01",
                                                           "fields": ["victim_name"]}, by="police")
            await signed.decision("grant", "charity", {"dataset": OFFENCE, "purpose": "Hot spots",
                                                       "expires": "2027-06-01", "fields": ["weapon", "postcode"],
                                                       "areas": ["ns1 4"]}, by="police")
            return await registry.effective_partnership()

    grant = next(g for g in run(scenario()).grants if g.signatory == "charity")
    assert grant.fields == {"weapon", "postcode"} and grant.areas == {"NS1 4"}


# --- rekey ----------------------------------------------------------------------------------------


def test_rekey_with_the_old_key_takes_effect_at_once_and_needs_the_new_key_too(tmp_path):
    new = KeyPair.generate("charity-2026")

    async def scenario():
        async with founded(tmp_path / "r.db") as registry:
            signed = Signed(registry)
            with pytest.raises(DecisionRefused, match="no valid signature by charity"):
                await signed.decision("rekey", "charity", new.public.as_config(), by="charity")  # no proof
            await signed.decision("rekey", "charity", new.public.as_config(), by="charity", new_keys=new)
            partnership = await registry.effective_partnership()
            # The old key no longer decides for charity; the new one does.
            with pytest.raises(DecisionRefused):
                await signed.withdraw("charity", by="charity")
            ledger = await registry.ledger()
            return partnership.signatories["charity"].keys, ledger.signer_for(new.public.ed25519)

    registered, signer = run(scenario())
    assert registered == new.public and signer == "charity"


def test_a_lost_key_is_replaced_only_with_every_responsible_authoritys_approval(tmp_path):
    new = KeyPair.generate("charity-new")

    async def scenario():
        async with founded(tmp_path / "r.db") as registry:
            signed = Signed(registry)
            await signed.decision("rekey", "charity", new.public.as_config(), by=[], new_keys=new)
            before = (await registry.effective_partnership()).signatories["charity"].keys
            assert await registry.awaiting("charity") == ("council", "police")
            await signed.approve("charity", by="police")
            middle = (await registry.effective_partnership()).signatories["charity"].keys
            await signed.approve("charity", by="council")
            after = (await registry.effective_partnership()).signatories["charity"].keys
            return before, middle, after

    before, middle, after = run(scenario())
    assert before == middle == keypair("charity").public
    assert after == new.public


# --- the chain is tamper-evident -------------------------------------------------------------------


def test_the_stored_chain_is_checked_and_a_changed_decision_is_found(tmp_path):
    path = tmp_path / "r.db"

    async def build():
        async with founded(path) as registry:
            await Signed(registry).grant("charity", OFFENCE, purpose="Referrals", legal_basis="")
            return (await registry.verify()).version

    assert run(build()) == 2
    # Someone with the file widens the grant's purpose in place (and recomputes nothing).
    with sqlite3.connect(path) as db:
        (text,) = db.execute("SELECT decision FROM decisions WHERE version = 2").fetchone()
        db.execute("UPDATE decisions SET decision = ? WHERE version = 2",
                   (text.replace("Referrals", "Anything at all"),))

    async def check():
        from exchange.storage.registry import Registry

        async with Registry(path) as registry:
            await registry.verify()

    with pytest.raises(ChainBroken, match="decision 2"):
        run(check())


def test_a_decision_that_does_not_extend_the_chain_is_refused(tmp_path):
    async def scenario():
        async with founded(tmp_path / "r.db") as registry:
            ledger = await registry.ledger()
            stale = draft(ledger, "suspend", "charity", {"reason": "breach"}, person="A", role="Chair")
            await Signed(registry).grant("charity", OFFENCE, purpose="Referrals", legal_basis="")
            with pytest.raises(DecisionRefused, match="does not follow the chain"):
                await registry.decide(sign_decision(stale, keypair("council"), signer="council"))
            earlier = draft(await registry.ledger(), "suspend", "charity", {"reason": "breach"}, person="A",
                            role="Chair", at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
            earlier = dataclasses.replace(earlier, at="2020-01-01T00:00:00+00:00")
            with pytest.raises(DecisionRefused, match="before the decision it follows"):
                await registry.decide(sign_decision(earlier, keypair("council"), signer="council"))

    run(scenario())


# --- what a following site derives ---------------------------------------------------------------------


def test_a_follower_derives_the_registrys_partnership_and_refuses_substitutes(tmp_path):
    async def scenario():
        async with founded(tmp_path / "r.db") as registry:
            signed = Signed(registry)
            await signed.admit("housing", **HOUSING)
            await signed.grant("housing", PPO, purpose="ASB case panel")
            await signed.suspend("charity", "breach of ISP 7.2")
            return (await registry.decisions(), await registry.effective_partnership(),
                    (await registry.ledger()).trust_anchor())

    decisions, partnership, anchor = run(scenario())
    follower = GovernanceFollower(KafkaSettings("127.0.0.1:1"), anchor, catalogue())
    # Out of order (a compaction, a re-read): held until the decision before it arrives.
    for decision in reversed(decisions):
        follower.accept(decision.to_json().encode())
    assert follower.version == len(decisions)
    assert follower.partnership() == partnership
    follower.accept(decisions[1].to_json().encode())  # read again: nothing changes
    substitute = dataclasses.replace(decisions[-1], terms={"reason": "something else"})
    with pytest.raises(DecisionRefused):
        follower.accept(substitute.to_json().encode())
    with pytest.raises(DecisionRefused):
        follower.accept(b"not a decision")
    assert follower.refused == 2 and follower.partnership() == partnership
    assert GOVERNANCE_TOPIC == "governance"


def test_a_forged_decision_on_the_topic_changes_nothing_at_a_site(tmp_path):
    async def scenario():
        async with founded(tmp_path / "r.db") as registry:
            signed = Signed(registry)
            await signed.propose("housing", **HOUSING)
            return await registry.decisions(), (await registry.ledger()).trust_anchor()

    decisions, anchor = run(scenario())
    follower = GovernanceFollower(KafkaSettings("127.0.0.1:1"), anchor, catalogue())
    for decision in decisions:
        follower.accept(decision.to_json().encode())
    ledger = follower.ledger
    pending = ledger.pending["housing"].decision
    approval = draft(ledger, "approve", "housing", {"decision": pending}, person="Intruder", role="-")
    # Someone able to write the topic, with a key of their own, labels it the police's approval.
    forged = sign_decision(approval, KeyPair.generate("intruder"), signer="police")
    with pytest.raises(GovernanceError):
        follower.accept(forged.to_json().encode())
    assert follower.version == len(decisions)
    assert not follower.partnership().signatories["housing"].active


def test_decisions_round_trip_and_name_who_acted(tmp_path):
    async def scenario():
        async with founded(tmp_path / "r.db") as registry:
            await Signed(registry).propose("housing", **HOUSING, **keys("housing"))
            return await registry.decisions(), await registry.events("housing")

    decisions, events = run(scenario())
    assert all(Decision.from_json(d.to_json()) == d for d in decisions)
    assert events[0].action == "propose" and events[0].actor == "Test Person (Test role) for police"
    assert "config_toml" not in run_founding_event_detail(tmp_path)


def run_founding_event_detail(tmp_path):
    async def scenario():
        async with founded(tmp_path / "f.db") as registry:
            return (await registry.events())[0].detail

    return run(scenario())


def test_the_founding_config_is_the_signed_text(tmp_path):
    mapping = config_mapping()

    async def scenario():
        async with founded(tmp_path / "r.db", mapping) as registry:
            return (await registry.ledger()).founding_config

    assert run(scenario()) == config_toml(mapping)


def test_a_signatory_the_founding_config_names_as_proposed_awaits_every_authority(tmp_path):
    mapping = config_mapping(extra_signatories=[
        {"id": "housing", "name": "Northshire Homes", "kind": "co_operating_body", "tier": 1, "status": "proposed"}])

    async def scenario():
        async with founded(tmp_path / "r.db", mapping) as registry:
            signed = Signed(registry)
            assert await registry.awaiting("housing") == ("council", "police")
            await signed.approve("housing", by="police")
            await signed.approve("housing", by="council")
            return (await registry.signatory("housing")).status

    assert run(scenario()) == "active"
