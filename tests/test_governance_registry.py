"""ISP governance in the registry: admission, the config and the registry, grants, revocation,
expiry, suspension. Pure rules and the registry on temporary SQLite files."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from exchange.core.acl import (
    desired_bindings,
)
from exchange.core.partnership import Partnership
from exchange.core.schemas import catalogue
from exchange.errors import (
    AggregatesOnly,
    ApprovalRefused,
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
from exchange.storage.registry import Registry
from tests.support.governance import (
    NEXT_YEAR,
    OFFENCE,
    PPO,
    S115,
    TODAY,
    config_mapping,
    new_keys,
    principals,
    readers,
    registry_with,
    run,
)


@pytest.fixture
def base() -> Partnership:
    return Partnership.from_mapping(config_mapping())


# --- admission ---------------------------------------------------------------------------------


def test_admission_needs_every_active_responsible_authority(tmp_path, base):
    async def scenario():
        registry = await registry_with(tmp_path / "r.db", base)
        try:
            await registry.propose("housing", name="Northshire Homes", kind="co_operating_body", tier=1,
                                   supplies=[], liaison_officer="ASB team leader", by="ig-lead", **new_keys())
            assert (await registry.signatory("housing")).status == "proposed"
            assert await registry.awaiting("housing") == ("council", "police")

            with pytest.raises(ApprovalRefused, match="not a responsible authority"):
                await registry.approve("housing", "charity")
            with pytest.raises(ApprovalRefused, match="not a signatory"):
                await registry.approve("housing", "nobody")

            first = await registry.approve("housing", "police")
            assert not first.activated and first.awaiting == ("council",)
            assert (await registry.signatory("housing")).status == "proposed"
            partnership = await registry.effective_partnership(base)
            assert not partnership.signatories["housing"].active

            second = await registry.approve("housing", "council")
            assert second.activated and second.approved_by == ("council", "police")
            assert (await registry.signatory("housing")).status == "active"
            approvals = await registry.approvals("housing")
            assert {a.approver for a in approvals} == {"police", "council"} and all(a.approved_at for a in approvals)
            assert [e.action for e in await registry.events("housing")] == ["proposed", "approved", "approved",
                                                                            "activated"]
            with pytest.raises(StatusChangeRefused, match="only a proposed signatory"):
                await registry.approve("housing", "police")
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


def test_a_suspended_responsible_authority_cannot_approve_and_is_not_waited_for(tmp_path, base):
    async def scenario():
        registry = await registry_with(tmp_path / "r.db", base)
        try:
            await registry.propose("housing", name="Homes", kind="other", tier=2, **new_keys())
            await registry.suspend("council", "missed the ISP review", by="ig-lead")
            with pytest.raises(ApprovalRefused, match="suspended"):
                await registry.approve("housing", "council")
            assert await registry.awaiting("housing") == ("police",)
            assert (await registry.approve("housing", "police")).activated
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


def test_proposals_are_validated(tmp_path, base):
    async def scenario():
        registry = await registry_with(tmp_path / "r.db", base)
        try:
            police = base.signatories["police"].keys.as_config()
            with pytest.raises(SignatoryExists):
                await registry.propose("police", name="Again", kind="other", tier=2, **new_keys())
            with pytest.raises(InvalidProposal, match="already registered to police"):
                await registry.propose("copycat", name="Copycat", kind="other", tier=2, **police)
            with pytest.raises(InvalidProposal, match="principal"):
                await registry.propose("sneaky", name="Sneaky", kind="other", tier=2, principal="User:police",
                                       **new_keys())
            with pytest.raises(InvalidProposal, match="wildcard"):
                await registry.propose("everyone", name="All", kind="other", tier=2, principal="User:*", **new_keys())
            with pytest.raises(InvalidProposal, match="no dots"):
                await registry.propose("a.b", name="Dotted", kind="other", tier=2, **new_keys())
            with pytest.raises(InvalidProposal, match="base64|bytes"):
                await registry.propose("badkey", name="Bad key", kind="other", tier=2, x25519="nope", ed25519="nope")
            with pytest.raises(InvalidProposal, match="unknown dataset"):
                await registry.propose("fire", name="Fire", kind="responsible_authority", tier=1,
                                       supplies=["not_a_dataset"], **new_keys())
            assert [r.id for r in await registry.signatories()] == ["charity", "committee", "council", "police"]
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


# --- the config and the registry ----------------------------------------------------------------


def test_sync_adds_only_what_the_registry_never_held(tmp_path):
    path = tmp_path / "r.db"
    first = Partnership.from_mapping(config_mapping())

    async def scenario():
        async with Registry(path, today=lambda: TODAY) as registry:
            report = await registry.sync_from_config(first)
            assert sorted(report.added_signatories) == ["charity", "committee", "council", "police"]
            assert report.added_grants == [("council", OFFENCE)]
            await registry.suspend("charity", "breach", by="ig-lead")
            await registry.revoke("council", OFFENCE, by="ig-lead")
            again = await registry.sync_from_config(first)
            assert not again.changed

        # The config is edited: a newcomer marked active, and the grant re-declared.
        edited = Partnership.from_mapping(config_mapping(extra_signatories=[
            {"id": "fire", "name": "Fire and Rescue", "kind": "responsible_authority", "tier": 1, "status": "active"}]))
        edited = dataclasses.replace(edited, signatories={**edited.signatories, "charity": dataclasses.replace(
            edited.signatories["charity"], keys=first.signatories["charity"].keys)})
        async with Registry(path, today=lambda: TODAY) as registry:
            report = await registry.sync_from_config(edited)
            assert report.added_signatories == ["fire"] and report.added_grants == []
            assert (await registry.signatory("fire")).status == "proposed"  # needs approval, whatever the file says
            assert (await registry.signatory("charity")).status == "suspended"  # registry decision stands
            assert any("charity: the config says status 'active', the registry keeps 'suspended'" in d
                       for d in report.differences)
            effective = await registry.effective_partnership(edited)
            assert effective.grants == ()  # the revoked grant is not resurrected by the config
            assert not effective.recipients(OFFENCE, personal=False, today=TODAY)

    run(scenario())


def test_sync_refuses_a_config_grant_that_breaks_the_rules(tmp_path):
    mapping = config_mapping(grants=[
        {"signatory": "charity", "dataset": PPO, "purpose": "IOM", "legal_basis": S115, "approved_by": "police",
         "expires": NEXT_YEAR},
        {"signatory": "committee", "dataset": OFFENCE, "purpose": "Scrutiny", "approved_by": "police",
         "expires": NEXT_YEAR},
        {"signatory": "council", "dataset": PPO, "purpose": "IOM", "legal_basis": S115, "approved_by": "police",
         "expires": NEXT_YEAR}])

    async def scenario():
        async with Registry(tmp_path / "r.db", today=lambda: TODAY) as registry:
            report = await registry.sync_from_config(Partnership.from_mapping(mapping))
            assert report.added_grants == [("council", PPO)]
            refused = {(s, d): why for s, d, why in report.refused_grants}
            assert "only tier 1" in refused[("charity", PPO)]
            assert "aggregates only" in refused[("committee", OFFENCE)]

    run(scenario())


# --- grants -------------------------------------------------------------------------------------


def test_grant_rules(tmp_path, base):
    ok = dict(purpose="Integrated offender management", legal_basis=S115, approved_by="police", expires=NEXT_YEAR)

    async def scenario():
        registry = await registry_with(tmp_path / "r.db", base)
        try:
            with pytest.raises(AggregatesOnly, match="tier 3 .scrutiny.*aggregates only"):
                await registry.grant("committee", OFFENCE, **ok)
            with pytest.raises(AggregatesOnly):
                await registry.grant("committee", PPO, **ok)
            with pytest.raises(TierNotPermitted, match="personal dataset.*only tier 1"):
                await registry.grant("charity", PPO, **ok)
            with pytest.raises(GrantConditionsMissing, match="legal basis"):
                await registry.grant("council", PPO, **{**ok, "legal_basis": " "})
            with pytest.raises(GrantConditionsMissing, match="purpose"):
                await registry.grant("council", PPO, **{**ok, "purpose": ""})
            with pytest.raises(GrantConditionsMissing, match="not after today"):
                await registry.grant("council", PPO, **{**ok, "expires": TODAY})
            with pytest.raises(OriginatorApprovalRequired, match="does not supply ppo"):
                await registry.grant("council", PPO, **{**ok, "approved_by": "council"})
            with pytest.raises(OriginatorApprovalRequired, match="not a signatory"):
                await registry.grant("council", PPO, **{**ok, "approved_by": "ghost"})
            with pytest.raises(OriginatorApprovalRequired):
                await registry.grant("council", PPO, **{**ok, "approved_by": ""})
            with pytest.raises(GrantRefused, match="not a dataset"):
                await registry.grant("council", "made_up", **ok)
            with pytest.raises(UnknownSignatory):
                await registry.grant("ghost", OFFENCE, **ok)
            for error in (AggregatesOnly, TierNotPermitted, GrantConditionsMissing, OriginatorApprovalRequired):
                assert issubclass(error, GrantRefused) and issubclass(error, ExchangeError)

            await registry.grant("charity", OFFENCE, purpose="Victim referrals", legal_basis="", approved_by="police",
                                 expires=NEXT_YEAR)
            record = await registry.grant("council", PPO, **ok, by="ig-lead")
            assert (record.granted_by, record.source, record.state(TODAY)) == ("ig-lead", "cli", "in force")

            p = await registry.effective_partnership(base)
            assert [s.id for s in p.recipients(PPO, personal=True, today=TODAY)] == ["council"]
            assert [s.id for s in p.recipients(OFFENCE, personal=False, today=TODAY)] == ["charity", "council"]
            bindings = desired_bindings(p, catalogue(), TODAY)
            assert readers(bindings, "restricted.ppo") == {"User:council"}
            assert readers(bindings, "keys.restricted.ppo") == {"User:council"}
            assert readers(bindings, f"shared.{OFFENCE}") == {"User:council", "User:charity"}
            assert "User:committee" not in principals(bindings)
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


def test_nothing_can_be_granted_to_a_suspended_or_withdrawn_signatory(tmp_path, base):
    ok = dict(purpose="Tasking", legal_basis=S115, approved_by="police", expires=NEXT_YEAR)

    async def scenario():
        registry = await registry_with(tmp_path / "r.db", base)
        try:
            await registry.suspend("charity", "breach", by="ig")
            with pytest.raises(GrantRefused, match="suspended"):
                await registry.grant("charity", OFFENCE, **ok)
            await registry.withdraw("charity", by="ig")
            with pytest.raises(GrantRefused, match="withdrawn"):
                await registry.grant("charity", OFFENCE, **ok)
            await registry.suspend("police", "breach", by="ig")
            with pytest.raises(OriginatorApprovalRequired, match="suspended"):
                await registry.grant("council", PPO, **ok)
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


def test_revoke_and_supersede(tmp_path, base):
    async def scenario():
        registry = await registry_with(tmp_path / "r.db", base)
        try:
            renewed = await registry.grant("council", OFFENCE, purpose="Tasking", legal_basis=S115,
                                           approved_by="police", expires=NEXT_YEAR + dt.timedelta(days=30))
            grants = await registry.grants("council")
            assert [(g.id, g.revoked) for g in grants] == [(1, True), (renewed.id, False)]
            assert grants[0].revoke_reason == f"superseded by grant {renewed.id}"
            assert (await registry.effective_partnership(base)).grants[0].expires == NEXT_YEAR + dt.timedelta(days=30)

            assert await registry.revoke("council", OFFENCE, by="ig-lead", reason="purpose ended") == [renewed.id]
            p = await registry.effective_partnership(base)
            assert p.grants == () and p.recipients(OFFENCE, personal=False, today=TODAY) == ()
            assert readers(desired_bindings(p, catalogue(), TODAY), f"shared.{OFFENCE}") == set()
            with pytest.raises(NoSuchGrant):
                await registry.revoke("council", OFFENCE)
            assert (await registry.grants("council"))[-1].state(TODAY) == "revoked"
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


def test_an_expired_grant_yields_nothing(tmp_path, base):
    expires = TODAY + dt.timedelta(days=10)

    async def scenario():
        registry = await registry_with(tmp_path / "r.db", base)
        try:
            await registry.grant("council", PPO, purpose="IOM", legal_basis=S115, approved_by="police", expires=expires)
            p = await registry.effective_partnership(base)
            for day, expected in ((expires, ["council"]), (expires + dt.timedelta(days=1), [])):
                assert [s.id for s in p.recipients(PPO, personal=True, today=day)] == expected
                assert (readers(desired_bindings(p, catalogue(), day), "restricted.ppo")
                        == {f"User:{s}" for s in expected})
            later = expires + dt.timedelta(days=1)
            assert [g.state(later) for g in await registry.grants("council") if g.dataset == PPO] == ["expired"]
            after = desired_bindings(p, catalogue(), NEXT_YEAR + dt.timedelta(days=1))  # the config grant expired too
            assert "User:council" not in principals(after)
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


# --- suspension ---------------------------------------------------------------------------------


def test_suspend_and_reinstate(tmp_path, base):
    async def scenario():
        registry = await registry_with(tmp_path / "r.db", base)
        try:
            before = desired_bindings(await registry.effective_partnership(base), catalogue(), TODAY)
            assert readers(before, f"shared.{OFFENCE}") == {"User:council"}

            with pytest.raises(GovernanceError, match="reason"):
                await registry.suspend("council", "  ", by="ig")
            await registry.suspend("council", "Data breach under investigation", by="ig-lead")
            p = await registry.effective_partnership(base)
            assert p.recipients(OFFENCE, personal=False, today=TODAY) == ()
            assert not p.may_receive("council", OFFENCE, personal=False, today=TODAY)
            assert "User:council" not in principals(desired_bindings(p, catalogue(), TODAY))
            with pytest.raises(StatusChangeRefused):
                await registry.suspend("council", "again", by="ig")

            # A suspended supplier can no longer supply either.
            await registry.suspend("police", "Audit", by="ig")
            p = await registry.effective_partnership(base)
            assert not p.may_supply("police", OFFENCE)
            assert "User:police" not in principals(desired_bindings(p, catalogue(), TODAY))

            await registry.reinstate("council", by="ig-lead", note="Investigation closed")
            await registry.reinstate("police", by="ig-lead")
            p = await registry.effective_partnership(base)
            assert desired_bindings(p, catalogue(), TODAY) == before
            with pytest.raises(StatusChangeRefused, match="only a suspended"):
                await registry.reinstate("council")
            (suspension,) = await registry.suspensions("council")
            assert (suspension.reason, suspension.suspended_by, suspension.reinstated_by) == (
                "Data breach under investigation", "ig-lead", "ig-lead")
            assert suspension.suspended_at and suspension.reinstated_at

            await registry.withdraw("council", by="ig-lead", reason="left the CSP")
            with pytest.raises(StatusChangeRefused):
                await registry.reinstate("council")
            with pytest.raises(StatusChangeRefused):
                await registry.withdraw("council")
            assert "User:council" not in principals(desired_bindings(await registry.effective_partnership(base),
                                                                     catalogue(), TODAY))
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())


