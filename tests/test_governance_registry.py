"""ISP governance in the registry: admission, the founding config and the chain, grants,
revocation, expiry, suspension; every change a signed decision (exchange.core.ledger), refused
when it lacks the signature the rules require. Pure rules and the registry on temporary SQLite
files."""

from __future__ import annotations

import datetime as dt

import pytest

from exchange.core.acl import (
    desired_bindings,
)
from exchange.core.names import GOVERNANCE_TOPIC
from exchange.core.partnership import Partnership
from exchange.core.schemas import catalogue
from exchange.crypto.decisions import draft, sign_decision
from exchange.errors import (
    AggregatesOnly,
    ApprovalRefused,
    DecisionRefused,
    ExchangeError,
    GovernanceError,
    GrantConditionsMissing,
    GrantRefused,
    InvalidProposal,
    NoSuchGrant,
    OriginatorApprovalRequired,
    SignatoryExists,
    StatusChangeRefused,
    TierNotPermitted,
    UnknownSignatory,
)
from exchange.services.governance import found
from exchange.storage.registry import Registry
from tests.support.governance import (
    NEXT_YEAR,
    OFFENCE,
    PPO,
    S115,
    TODAY,
    Signed,
    config_mapping,
    config_toml,
    founders,
    keypair,
    keys,
    new_keys,
    principals,
    readers,
    registry_with,
    run,
)

NOON = dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC)


def actor(signer: str) -> str:
    """How the history names a decision Signed made for `signer`."""
    return f"Test Person (Test role) for {signer}"


def beyond_governance(bindings, principal: str) -> set:
    """`principal`'s bindings other than reading the governance topic (which every signatory not
    withdrawn keeps, to follow its own suspension, admission or reinstatement)."""
    return {b for b in bindings if b.principal == principal and b.resource_name != GOVERNANCE_TOPIC}


async def forged(registry: Registry, action: str, subject: str, terms: dict, *, claims: str, key_of: str):
    """A decision whose signature names `claims` as signer but is made with `key_of`'s key."""
    decision = draft(await registry.ledger(), action, subject, terms, person="Forger", role="Nobody", at=NOON)
    return await registry.decide(sign_decision(decision, keypair(key_of), signer=claims))


# --- admission ---------------------------------------------------------------------------------


def test_admission_needs_every_active_responsible_authority_each_with_its_own_key(tmp_path):
    async def scenario():
        registry = await registry_with(tmp_path / "r.db")
        signed = Signed(registry)
        try:
            await signed.propose("housing", by="charity", name="Northshire Homes", kind="co_operating_body", tier=1,
                                 liaison_officer="ASB team leader")  # any active signatory may propose
            record = await registry.signatory("housing")
            assert (record.status, record.source) == ("proposed", "proposed")
            assert await registry.awaiting("housing") == ("council", "police")
            proposal = (await registry.ledger()).pending["housing"].decision

            with pytest.raises(ApprovalRefused, match="not a responsible authority"):
                await signed.approve("housing", by="charity")
            with pytest.raises(DecisionRefused, match="not a signatory"):
                await signed.approve("housing", by="nobody")
            with pytest.raises(DecisionRefused, match="exactly one signatory"):  # unsigned
                await signed.decision("approve", "housing", {"decision": proposal}, by=[])
            # "council" approves, but the signature is made with police's key: an approval on behalf of
            # another authority is refused, and council is still awaited.
            with pytest.raises(DecisionRefused, match="no valid signature by council"):
                await forged(registry, "approve", "housing", {"decision": proposal}, claims="council", key_of="police")
            assert await registry.approvals("housing") == []
            assert await registry.awaiting("housing") == ("council", "police")

            await signed.approve("housing", by="police")
            first = (await registry.events("housing"))[-1]
            assert first.detail["completed"] is False and first.detail["awaiting"] == ["council"]
            assert await registry.awaiting("housing") == ("council",)
            assert (await registry.signatory("housing")).status == "proposed"
            partnership = await registry.effective_partnership()
            assert not partnership.signatories["housing"].active

            await signed.approve("housing", by="council")
            second = (await registry.events("housing"))[-1]
            assert second.detail["completed"] is True and second.detail["of"] == "admission"
            assert (await registry.signatory("housing")).status == "active"
            approvals = await registry.approvals("housing")
            assert {a.approver for a in approvals} == {"police", "council"} and all(a.approved_at for a in approvals)
            events = await registry.events("housing")
            assert [e.action for e in events] == ["propose", "approve", "approve"]
            assert [e.actor for e in events] == [actor("charity"), actor("police"), actor("council")]
            with pytest.raises(StatusChangeRefused, match="only a proposed signatory"):
                await signed.approve("housing", by="police")
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


def test_a_suspended_responsible_authority_cannot_approve_and_is_not_waited_for(tmp_path):
    async def scenario():
        registry = await registry_with(tmp_path / "r.db")
        signed = Signed(registry)
        try:
            await signed.propose("housing", name="Homes", kind="other", tier=2)
            await signed.suspend("council", "missed the ISP review", by="police")
            with pytest.raises(ApprovalRefused, match="suspended"):
                await signed.approve("housing", by="council")
            assert await registry.awaiting("housing") == ("police",)
            await signed.approve("housing", by="police")
            assert (await registry.events("housing"))[-1].detail["completed"] is True
            assert (await registry.signatory("housing")).status == "active"
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


def test_proposals_are_validated_and_signed_by_an_active_signatory(tmp_path):
    async def scenario():
        registry = await registry_with(tmp_path / "r.db")
        signed = Signed(registry)
        try:
            police = keys("police")
            with pytest.raises(SignatoryExists):
                await signed.propose("police", name="Again", kind="other", tier=2, **new_keys())
            with pytest.raises(InvalidProposal, match="already registered to police"):
                await signed.propose("copycat", name="Copycat", kind="other", tier=2, **police)
            with pytest.raises(InvalidProposal, match="principal"):
                await signed.propose("sneaky", name="Sneaky", kind="other", tier=2, principal="User:police",
                                     **new_keys())
            with pytest.raises(InvalidProposal, match="wildcard"):
                await signed.propose("everyone", name="All", kind="other", tier=2, principal="User:*", **new_keys())
            with pytest.raises(InvalidProposal, match="no dots"):
                await signed.propose("a.b", name="Dotted", kind="other", tier=2, **new_keys())
            with pytest.raises(InvalidProposal, match="base64|bytes"):
                await signed.propose("badkey", name="Bad key", kind="other", tier=2, x25519="nope", ed25519="nope")
            with pytest.raises(InvalidProposal, match="unknown dataset"):
                await signed.propose("fire", name="Fire", kind="responsible_authority", tier=1,
                                     supplies=["not_a_dataset"], **new_keys())
            with pytest.raises(DecisionRefused, match="not a signatory"):
                await signed.propose("fire", by="fire", name="Fire", kind="responsible_authority", tier=1)
            await signed.suspend("charity", "breach", by="police")
            with pytest.raises(DecisionRefused, match="suspended: only an active signatory proposes"):
                await signed.propose("fire", by="charity", name="Fire", kind="responsible_authority", tier=1)
            assert [r.id for r in await registry.signatories()] == ["charity", "committee", "council", "police"]
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


# --- the founding config and the chain -----------------------------------------------------------


def test_the_config_after_founding_changes_nothing_its_differences_are_reported(tmp_path):
    path = tmp_path / "r.db"
    first = config_mapping()

    async def scenario():
        registry = await registry_with(path, first)
        try:
            assert [(r.id, r.source) for r in await registry.signatories()] == [
                ("charity", "founding"), ("committee", "founding"), ("council", "founding"), ("police", "founding")]
            assert [(g.id, g.signatory, g.dataset, g.source) for g in await registry.grants()] == [
                (1, "council", OFFENCE, "founding")]
            assert [e.action for e in await registry.events()] == ["found"]
            signed = Signed(registry)
            await signed.suspend("charity", "breach", by="council")
            await signed.revoke("council", OFFENCE, by="police")
            assert await registry.differences(Partnership.from_mapping(first)) == [
                "charity: the config says status 'active', the registry keeps 'suspended'"]
        finally:
            await registry.__aexit__(None, None, None)

        # The config is edited: a newcomer marked active, and the grant still declared. The chain
        # has one founding decision: the edited config cannot be founded again.
        edited_mapping = config_mapping(extra_signatories=[
            {"id": "fire", "name": "Fire and Rescue", "kind": "responsible_authority", "tier": 1, "status": "active"}])
        edited = Partnership.from_mapping(edited_mapping)
        async with Registry(path, today=lambda: TODAY) as registry:
            with pytest.raises(DecisionRefused, match="already founded"):
                await found(registry, config_toml(edited_mapping), signers=founders(edited_mapping), person="IG",
                            role="IG lead")
            differences = await registry.differences(edited)
            assert any(d.startswith("fire: in the config but not a signatory on the chain") for d in differences)
            assert "charity: the config says status 'active', the registry keeps 'suspended'" in differences
            assert await registry.find("fire") is None  # reported, never applied
            assert (await registry.signatory("charity")).status == "suspended"  # the signed decision stands
            effective = await registry.effective_partnership(edited)
            assert "fire" not in effective.signatories
            assert effective.grants == ()  # the revoked grant is not resurrected by the config
            assert not effective.recipients(OFFENCE, personal=False, today=TODAY)

            # Adding it takes decisions: a proposal, and the approval of every active responsible authority.
            signed = Signed(registry)
            await signed.propose("fire", name="Fire and Rescue", kind="responsible_authority", tier=1)
            assert (await registry.signatory("fire")).status == "proposed"  # whatever the file says
            for authority in await registry.awaiting("fire"):
                await signed.approve("fire", by=authority)
            assert (await registry.signatory("fire")).status == "active"
            differences = await registry.differences(edited)
            assert not [d for d in differences if d.startswith("fire")]
            assert await registry.responsible_authorities() == ["council", "fire", "police"]

    run(scenario())


def test_founding_imports_only_the_config_grants_that_keep_the_rules(tmp_path):
    mapping = config_mapping(
        extra_signatories=[{"id": "probation", "name": "Probation", "kind": "co_operating_body", "tier": 1,
                            "status": "active", "supplies": [PPO]}],
        grants=[
            {"signatory": "charity", "dataset": PPO, "purpose": "IOM", "legal_basis": S115, "approved_by": "police",
             "expires": NEXT_YEAR},
            {"signatory": "committee", "dataset": OFFENCE, "purpose": "Scrutiny", "approved_by": "police",
             "expires": NEXT_YEAR},
            {"signatory": "council", "dataset": PPO, "purpose": "IOM", "legal_basis": S115, "approved_by": "police",
             "expires": NEXT_YEAR},
            {"signatory": "police", "dataset": PPO, "purpose": "IOM", "legal_basis": S115,
             "approved_by": "probation", "expires": NEXT_YEAR}])

    async def scenario():
        # probation, an originator, does not sign: its grant is not imported (its signature is its consent)
        registry = await registry_with(tmp_path / "r.db", mapping, signers=[keypair("council"), keypair("police")])
        try:
            grants = await registry.grants()
            assert [(g.signatory, g.dataset, g.approved_by, g.source) for g in grants] == [
                ("council", PPO, "police", "founding")]
            refused = {(s, d): why for s, d, why in (await registry.ledger()).not_imported}
            assert set(refused) == {("charity", PPO), ("committee", OFFENCE), ("police", PPO)}
            assert "only tier 1" in refused[("charity", PPO)]
            assert "aggregates only" in refused[("committee", OFFENCE)]
            assert "did not sign the founding decision" in refused[("police", PPO)]
            (event,) = await registry.events()
            assert event.detail["grants"] == [["council", PPO]]
            assert len(event.detail["grants_not_imported"]) == 3
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


# --- grants -------------------------------------------------------------------------------------


def test_grant_rules(tmp_path):
    ok = dict(purpose="Integrated offender management", legal_basis=S115, approved_by="police", expires=NEXT_YEAR)

    async def scenario():
        registry = await registry_with(tmp_path / "r.db")
        signed = Signed(registry)
        try:
            with pytest.raises(AggregatesOnly, match="tier 3 .scrutiny.*aggregates only"):
                await signed.grant("committee", OFFENCE, **ok)
            with pytest.raises(AggregatesOnly):
                await signed.grant("committee", PPO, **ok)
            with pytest.raises(TierNotPermitted, match="personal dataset.*only tier 1"):
                await signed.grant("charity", PPO, **ok)
            with pytest.raises(GrantConditionsMissing, match="legal basis"):
                await signed.grant("council", PPO, **{**ok, "legal_basis": " "})
            with pytest.raises(GrantConditionsMissing, match="purpose"):
                await signed.grant("council", PPO, **{**ok, "purpose": ""})
            with pytest.raises(GrantConditionsMissing, match="not after today"):
                await signed.grant("council", PPO, **{**ok, "expires": TODAY})
            # The signer is the approving originator: one that does not supply the dataset cannot consent.
            with pytest.raises(OriginatorApprovalRequired, match="does not supply ppo"):
                await signed.grant("council", PPO, **{**ok, "approved_by": "council"})
            with pytest.raises(OriginatorApprovalRequired, match="does not supply ppo"):
                await signed.grant("council", PPO, **{**ok, "approved_by": "charity"})
            with pytest.raises(DecisionRefused, match="not a signatory"):
                await signed.grant("council", PPO, **{**ok, "approved_by": "ghost"})
            terms = {"dataset": PPO, "purpose": "IOM", "legal_basis": S115, "expires": NEXT_YEAR.isoformat()}
            with pytest.raises(DecisionRefused, match="exactly one signatory"):  # unsigned
                await signed.decision("grant", "council", terms, by=[])
            with pytest.raises(DecisionRefused, match="exactly one signatory"):  # not a joint decision
                await signed.decision("grant", "council", terms, by=["police", "council"])
            with pytest.raises(DecisionRefused, match="no valid signature by police"):
                await forged(registry, "grant", "council", terms, claims="police", key_of="council")
            with pytest.raises(GrantRefused, match="not a dataset"):
                await signed.grant("council", "made_up", **ok)
            with pytest.raises(UnknownSignatory):
                await signed.grant("ghost", OFFENCE, **ok)
            with pytest.raises(GrantRefused, match="without consent needs a legal basis"):
                await signed.grant("charity", OFFENCE, **{**ok, "legal_basis": ""}, without_consent=True)
            for error in (AggregatesOnly, TierNotPermitted, GrantConditionsMissing, OriginatorApprovalRequired):
                assert issubclass(error, GrantRefused) and issubclass(error, ExchangeError)
            assert issubclass(DecisionRefused, GovernanceError) and issubclass(DecisionRefused, ExchangeError)
            assert [g.id for g in await registry.grants()] == [1]  # nothing refused was recorded

            await signed.grant("charity", OFFENCE, purpose="Victim referrals", legal_basis="", approved_by="police")
            decision = await signed.grant("council", PPO, **ok)
            (record,) = [g for g in await registry.grants("council") if g.dataset == PPO]
            assert record.id == decision.version
            assert (record.granted_by, record.approved_by, record.source, record.state(TODAY)) == (
                actor("police"), "police", "signed", "in force")

            p = await registry.effective_partnership()
            assert [s.id for s in p.recipients(PPO, personal=True, today=TODAY)] == ["council"]
            assert [s.id for s in p.recipients(OFFENCE, personal=False, today=TODAY)] == ["charity", "council"]
            bindings = desired_bindings(p, catalogue(), TODAY)
            assert readers(bindings, "restricted.ppo") == {"User:council"}
            assert readers(bindings, "keys.restricted.ppo") == {"User:council"}
            assert readers(bindings, f"shared.{OFFENCE}") == {"User:council", "User:charity"}
            assert not beyond_governance(bindings, "User:committee")
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


def test_a_grants_expiry_is_checked_against_the_date_of_its_decision(tmp_path):
    # Decisions are dated after the founding decision (made now), so these days lie ahead of today.
    day = dt.date.today() + dt.timedelta(days=30)
    expires = day + dt.timedelta(days=10)

    async def scenario():
        # The registry's clock says a later day than any decision: the decision's own date counts.
        registry = await registry_with(tmp_path / "r.db", today=expires + dt.timedelta(days=100))
        try:
            decision = await Signed(registry, today=day).grant("council", PPO, expires=expires)
            assert decision.date == day
            with pytest.raises(GrantConditionsMissing, match=f"not after today .{expires.isoformat()}"):
                await Signed(registry, today=expires).grant("charity", OFFENCE, expires=expires)
            await Signed(registry, today=expires - dt.timedelta(days=1)).grant("charity", OFFENCE, expires=expires)
            assert {(g.signatory, g.dataset) for g in await registry.grants(include_revoked=False)} == {
                ("council", OFFENCE), ("council", PPO), ("charity", OFFENCE)}
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


def test_nothing_can_be_granted_to_a_suspended_or_withdrawn_signatory(tmp_path):
    ok = dict(purpose="Tasking", legal_basis=S115, approved_by="police", expires=NEXT_YEAR)

    async def scenario():
        registry = await registry_with(tmp_path / "r.db")
        signed = Signed(registry)
        try:
            await signed.suspend("charity", "breach", by="council")
            with pytest.raises(GrantRefused, match="suspended"):
                await signed.grant("charity", OFFENCE, **ok)
            await signed.withdraw("charity", reason="leaving")  # signed by charity itself
            with pytest.raises(GrantRefused, match="withdrawn"):
                await signed.grant("charity", OFFENCE, **ok)
            await signed.suspend("police", "breach", by="council")
            with pytest.raises(OriginatorApprovalRequired, match="suspended"):
                await signed.grant("council", PPO, **ok)
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


def test_revoke_and_supersede(tmp_path):
    async def scenario():
        registry = await registry_with(tmp_path / "r.db")
        signed = Signed(registry)
        try:
            renewed = await signed.grant("council", OFFENCE, purpose="Tasking",
                                         expires=NEXT_YEAR + dt.timedelta(days=30))
            grants = await registry.grants("council")
            assert [(g.id, g.revoked) for g in grants] == [(1, True), (renewed.version, False)]
            assert grants[0].revoke_reason == f"superseded by grant {renewed.version}"
            assert grants[0].revoked_by == actor("police")
            assert (await registry.effective_partnership()).grants[0].expires == NEXT_YEAR + dt.timedelta(days=30)

            # Neither its originator nor a responsible authority: refused.
            with pytest.raises(DecisionRefused, match="approving originator .police. or an active responsible"):
                await signed.revoke("council", OFFENCE, by="charity", reason="not mine to revoke")
            # A responsible authority that is not the originator may revoke it.
            revoked = await signed.revoke("council", OFFENCE, by="council", reason="purpose ended")
            assert (await registry.events("council"))[-1].detail["grant_ids"] == [renewed.version]
            p = await registry.effective_partnership()
            assert p.grants == () and p.recipients(OFFENCE, personal=False, today=TODAY) == ()
            assert readers(desired_bindings(p, catalogue(), TODAY), f"shared.{OFFENCE}") == set()
            with pytest.raises(NoSuchGrant):
                await signed.revoke("council", OFFENCE)
            last = (await registry.grants("council"))[-1]
            assert (last.state(TODAY), last.revoked_by, last.revoke_reason) == ("revoked", revoked.actor,
                                                                                 "purpose ended")

            # The originator withdraws its consent to a grant it made.
            await signed.grant("charity", OFFENCE, purpose="Victim referrals", legal_basis="")
            await signed.revoke("charity", OFFENCE, by="police", reason="consent withdrawn")
            assert [g.state(TODAY) for g in await registry.grants("charity")] == ["revoked"]
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


def test_an_expired_grant_yields_nothing(tmp_path):
    expires = TODAY + dt.timedelta(days=10)

    async def scenario():
        registry = await registry_with(tmp_path / "r.db")
        try:
            await Signed(registry).grant("council", PPO, purpose="IOM", legal_basis=S115, approved_by="police",
                                         expires=expires)
            p = await registry.effective_partnership()
            for day, expected in ((expires, ["council"]), (expires + dt.timedelta(days=1), [])):
                assert [s.id for s in p.recipients(PPO, personal=True, today=day)] == expected
                assert (readers(desired_bindings(p, catalogue(), day), "restricted.ppo")
                        == {f"User:{s}" for s in expected})
            later = expires + dt.timedelta(days=1)
            assert [g.state(later) for g in await registry.grants("council") if g.dataset == PPO] == ["expired"]
            after = desired_bindings(p, catalogue(), NEXT_YEAR + dt.timedelta(days=1))  # the founding grant expired too
            assert not beyond_governance(after, "User:council")
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


# --- suspension ---------------------------------------------------------------------------------


def test_suspend_and_reinstate(tmp_path):
    async def scenario():
        registry = await registry_with(tmp_path / "r.db")
        signed = Signed(registry)
        try:
            before = desired_bindings(await registry.effective_partnership(), catalogue(), TODAY)
            assert readers(before, f"shared.{OFFENCE}") == {"User:council"}

            with pytest.raises(GovernanceError, match="reason"):
                await signed.suspend("council", "  ", by="police")
            # Only an active responsible authority other than the subject suspends.
            with pytest.raises(DecisionRefused, match="cannot decide this about itself"):
                await signed.suspend("council", "Data breach under investigation", by="council")
            with pytest.raises(DecisionRefused, match="not a responsible authority"):
                await signed.suspend("council", "Data breach under investigation", by="charity")
            with pytest.raises(DecisionRefused, match="no valid signature by police"):
                await forged(registry, "suspend", "council", {"reason": "forged"}, claims="police", key_of="charity")
            await signed.suspend("council", "Data breach under investigation", by="police")
            p = await registry.effective_partnership()
            assert p.recipients(OFFENCE, personal=False, today=TODAY) == ()
            assert not p.may_receive("council", OFFENCE, personal=False, today=TODAY)
            bindings = desired_bindings(p, catalogue(), TODAY)
            assert not beyond_governance(bindings, "User:council")
            assert readers(bindings, GOVERNANCE_TOPIC) >= {"User:council"}  # it still follows the chain
            with pytest.raises(StatusChangeRefused):
                await signed.suspend("council", "again", by="police")
            # A suspended responsible authority decides nothing.
            with pytest.raises(DecisionRefused, match="council is not active"):
                await signed.suspend("police", "Audit", by="council")
            await signed.reinstate("council", by="police", note="Investigation closed")

            # A suspended supplier can no longer supply either.
            await signed.suspend("police", "Audit", by="council")
            p = await registry.effective_partnership()
            assert not p.may_supply("police", OFFENCE)
            assert not beyond_governance(desired_bindings(p, catalogue(), TODAY), "User:police")
            with pytest.raises(DecisionRefused, match="police is not active"):  # nor reinstates itself
                await signed.reinstate("police", by="police")
            await signed.reinstate("police", by="council")

            p = await registry.effective_partnership()
            assert desired_bindings(p, catalogue(), TODAY) == before
            with pytest.raises(StatusChangeRefused, match="only a suspended"):
                await signed.reinstate("council", by="police")
            (suspension,) = await registry.suspensions("council")
            assert (suspension.reason, suspension.suspended_by, suspension.reinstated_by) == (
                "Data breach under investigation", actor("police"), actor("police"))
            assert suspension.suspended_at and suspension.reinstated_at
            assert [e.action for e in await registry.events("council")] == ["suspend", "reinstate"]

            # Withdrawal: the signatory itself or an active responsible authority, and final.
            with pytest.raises(DecisionRefused, match="only council itself or an active responsible authority"):
                await signed.withdraw("council", by="charity")
            await signed.withdraw("council", reason="left the CSP")
            with pytest.raises(StatusChangeRefused):
                await signed.reinstate("council", by="police")
            with pytest.raises(StatusChangeRefused):
                await signed.withdraw("council", by="police")
            await signed.withdraw("committee", by="police", reason="committee dissolved")
            after = desired_bindings(await registry.effective_partnership(), catalogue(), TODAY)
            assert not {"User:council", "User:committee"} & principals(after)  # not even the governance topic
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())
