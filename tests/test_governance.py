"""ISP governance: admission, grants, revocation, expiry, suspension, ACLs as code.

Pure rules and the registry on temporary SQLite files; the CLI through CliRunner with the broker
replaced by an in-memory fake (the real broker's ACL behaviour is tests/test_acl_broker.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.core.acl import (
    SANITISER_PRINCIPAL,
    AclBinding,
    Operation,
    PatternType,
    Permission,
    ResourceType,
    desired_bindings,
    plan,
)
from exchange.core.names import SANITISER_GROUP
from exchange.core.partnership import Grant, Partnership, Signatory
from exchange.core.schemas import catalogue
from exchange.crypto.keys import KeyPair
from exchange.errors import (
    AggregatesOnly,
    ApprovalRefused,
    ConfigError,
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

TODAY = dt.date(2026, 11, 21)
NEXT_YEAR = TODAY + dt.timedelta(days=365)
OFFENCE = "police_crime_offence"  # depersonalised
PPO = "ppo"  # personal
PERSONAL = sorted(d.id for d in catalogue() if d.personal)
S115 = "Crime and Disorder Act 1998 s.115"


def keys() -> dict[str, str]:
    return KeyPair.generate("x").public.as_config()


def config_mapping(extra_signatories=(), grants=None) -> dict:
    signatories = [
        {"id": "police", "name": "Northshire Police", "kind": "responsible_authority", "tier": 1, "status": "active",
         "supplies": [OFFENCE, PPO]},
        {"id": "council", "name": "Northshire District Council", "kind": "responsible_authority", "tier": 1,
         "status": "active"},
        {"id": "charity", "name": "Victim Support", "kind": "other", "tier": 2, "status": "active"},
        {"id": "committee", "name": "Crime and Disorder Committee", "kind": "other", "tier": 3, "status": "active"},
        *extra_signatories,
    ]
    if grants is None:
        grants = [{"signatory": "council", "dataset": OFFENCE, "purpose": "Strategic assessment", "legal_basis": S115,
                   "approved_by": "police", "expires": NEXT_YEAR}]
    return {"partnership": {"name": "Test CSP"}, "sanitiser": keys(),
            "signatory": [{**keys(), **s} for s in signatories], "grant": grants}


@pytest.fixture
def base() -> Partnership:
    return Partnership.from_mapping(config_mapping())


def run(coroutine):
    return asyncio.run(coroutine)


async def registry_with(path, base, today=TODAY) -> Registry:
    registry = Registry(path, today=lambda: today)
    await registry.__aenter__()
    await registry.sync_from_config(base)
    return registry


def new_keys() -> dict[str, str]:
    return keys()


def readers(bindings, topic: str) -> set[str]:
    return {b.principal for b in bindings
            if b.resource_type is ResourceType.TOPIC and b.resource_name == topic and b.operation is Operation.READ}


def principals(bindings) -> set[str]:
    return {b.principal for b in bindings}


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
                assert readers(desired_bindings(p, catalogue(), day), "restricted.ppo") == {f"User:{s}" for s in expected}
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


# --- ACLs (pure) --------------------------------------------------------------------------------


def test_exact_bindings_for_a_small_partnership(base):
    got = desired_bindings(base, catalogue(), TODAY)

    def allow(principal, rtype, pattern, name, op):
        return AclBinding(principal, rtype, pattern, name, op, Permission.ALLOW, "*")

    T, G, L, P = ResourceType.TOPIC, ResourceType.GROUP, PatternType.LITERAL, PatternType.PREFIXED
    R, W, D, C = Operation.READ, Operation.WRITE, Operation.DESCRIBE, Operation.CREATE
    s = SANITISER_PRINCIPAL
    expected = {
        allow(s, T, P, "raw.", R), allow(s, T, P, "raw.", C), allow(s, T, P, "keys.raw.", R), allow(s, T, P, "keys.raw.", C),
        *(allow(s, T, P, prefix, op) for prefix in ("shared.", "restricted.", "keys.shared.", "keys.restricted.")
          for op in (W, C)),
        allow(s, T, L, "deadletter.sanitiser", W), allow(s, T, L, "deadletter.sanitiser", C),
        allow(s, G, L, SANITISER_GROUP, R),
        *(allow("User:police", T, L, f"{prefix}{d}", op) for d in (OFFENCE, PPO) for prefix in ("raw.", "keys.raw.")
          for op in (W, D)),
        allow("User:council", T, L, f"shared.{OFFENCE}", R), allow("User:council", T, L, f"keys.shared.{OFFENCE}", R),
        allow("User:council", G, L, "feed.council", R), allow("User:council", G, P, "feed.council.", R),
    }
    assert got == expected


def test_sanitiser_group_matches_the_service():
    from exchange.services.sanitiser import GROUP_ID

    assert SANITISER_GROUP == GROUP_ID


def test_feed_group_prefix_cannot_reach_another_signatorys_group():
    mapping = config_mapping(extra_signatories=[
        {"id": "council-annex", "name": "Annex", "kind": "other", "tier": 1, "status": "active"}],
        grants=[{"signatory": sid, "dataset": OFFENCE, "purpose": "x", "approved_by": "police", "expires": NEXT_YEAR}
                for sid in ("council", "council-annex")])
    bindings = desired_bindings(Partnership.from_mapping(mapping), catalogue(), TODAY)
    council_groups = {b for b in bindings if b.principal == "User:council" and b.resource_type is ResourceType.GROUP}

    def matches(b: AclBinding, group: str) -> bool:
        return group == b.resource_name if b.pattern_type is PatternType.LITERAL else group.startswith(b.resource_name)

    assert any(matches(b, "feed.council") for b in council_groups)
    assert not any(matches(b, "feed.council-annex") for b in council_groups)


def test_shared_or_wildcard_principals_are_refused(base):
    police = base.signatories["police"]
    clash = dataclasses.replace(base, signatories={**base.signatories, "council": dataclasses.replace(
        base.signatories["council"], principal=police.principal)})
    with pytest.raises(ConfigError, match="already"):
        desired_bindings(clash, catalogue(), TODAY)
    wildcard = dataclasses.replace(base, signatories={**base.signatories, "council": dataclasses.replace(
        base.signatories["council"], principal="User:*")})
    with pytest.raises(ConfigError, match="wildcard"):
        desired_bindings(wildcard, catalogue(), TODAY)
    with pytest.raises(ConfigError, match="already"):
        desired_bindings(base, catalogue(), TODAY, sanitiser_principal="User:police")


def test_plan_never_deletes_what_it_does_not_own():
    def b(principal, name, op=Operation.READ, rtype=ResourceType.TOPIC):
        return AclBinding(principal, rtype, PatternType.LITERAL, name, op)

    desired = {b("User:council", "shared.x"), b("User:council", "keys.shared.x")}
    ours_stale = b("User:charity", "shared.x")  # we created it; no longer called for
    theirs = b("User:legacy", "shared.x")  # someone else created it, on our topics
    elsewhere = b("User:acl-admin", "kafka-cluster", Operation.ALTER, ResourceType.CLUSTER)  # not ours at all
    applied = {b("User:council", "shared.x"), ours_stale, theirs, elsewhere}
    owned = {b("User:council", "shared.x"), ours_stale}

    p = plan(desired, applied, owned)
    assert p.to_add == {b("User:council", "keys.shared.x")}
    assert p.to_remove == {ours_stale}
    assert p.kept_unowned == {theirs}

    pruned = plan(desired, applied, owned, prune_unowned=True)
    assert pruned.to_remove == {ours_stale, theirs}  # never the ACL administrator's own rights
    assert elsewhere not in pruned.to_remove and not pruned.kept_unowned

    assert plan(desired, desired, set()).empty


def test_binding_round_trips_through_dicts_and_wire_codes():
    binding = AclBinding("User:x", "topic", "PREFIXED", "raw.", 3, "ALLOW")
    assert binding.resource_type is ResourceType.TOPIC and binding.operation is Operation.READ
    assert AclBinding.from_dict(json.loads(json.dumps(binding.as_dict()))) == binding
    assert str(binding) == "ALLOW User:x READ TOPIC raw.* from *"
    with pytest.raises(ConfigError):
        AclBinding("User:x", "TOPICAL", "LITERAL", "x", "READ")


# --- properties over random partnerships ------------------------------------------------------

DATASETS = [OFFENCE, "council_asb", PPO, "prison_release"]
KEY_POOL = [KeyPair.generate(f"k{i}").public for i in range(8)]


@st.composite
def partnerships(draw):
    count = draw(st.integers(1, 6))
    signatories = {}
    for i in range(count):
        sid = f"s{i}"
        signatories[sid] = Signatory(
            id=sid, name=sid, kind=draw(st.sampled_from(["responsible_authority", "co_operating_body", "other"])),
            tier=draw(st.integers(1, 3)), status=draw(st.sampled_from(["proposed", "active", "suspended", "withdrawn"])),
            principal=f"User:{sid}", keys=KEY_POOL[i], supplies=frozenset(draw(st.lists(st.sampled_from(DATASETS)))))
    # Grants as a careless config might hold them: any tier, any dataset, conditions maybe missing.
    grants = tuple(Grant(signatory=draw(st.sampled_from(sorted(signatories))), dataset=draw(st.sampled_from(DATASETS)),
                         purpose=draw(st.sampled_from(["", "Tasking"])), legal_basis=draw(st.sampled_from(["", S115])),
                         approved_by="s0", expires=TODAY + dt.timedelta(days=draw(st.integers(-30, 30))))
                   for _ in range(draw(st.integers(0, 10))))
    return Partnership(name="Random CSP", k_households=4, retention_days=365, sanitiser=KEY_POOL[7],
                       signatories=signatories, grants=grants)


def check_access_properties(p: Partnership, today: dt.date) -> None:
    bindings = desired_bindings(p, catalogue(), today)
    by_principal = {s.principal: s for s in p.signatories.values()}
    for binding in bindings:
        if binding.principal == SANITISER_PRINCIPAL:
            continue
        holder = by_principal[binding.principal]
        assert holder.active, f"{holder.status} {holder.id} got {binding}"  # unapproved/suspended get nothing
        name = binding.resource_name
        if binding.resource_type is ResourceType.TOPIC:
            assert binding.pattern_type is PatternType.LITERAL
            if name.startswith(("shared.", "restricted.", "keys.shared.", "keys.restricted.")):
                assert binding.operation is Operation.READ  # nobody but the sanitiser writes them
                dataset = name.split(".")[-1]
                assert holder.tier != 3
                if name.startswith(("restricted.", "keys.restricted.")):
                    assert holder.tier == 1
                live = [g for g in p.grants if g.signatory == holder.id and g.dataset == dataset and g.in_force(today)]
                assert live, f"{holder.id} reads {name} without a grant in force"
            else:
                assert name.startswith(("raw.", "keys.raw.")) and binding.operation in (Operation.WRITE,
                                                                                         Operation.DESCRIBE)
                assert name.split(".")[-1] in holder.supplies
    for dataset in DATASETS:
        personal = catalogue()[dataset].personal
        for recipient in p.recipients(dataset, personal=personal, today=today):  # who gets a wrapped key
            assert recipient.active and recipient.tier != 3
            assert recipient.tier == 1 or not personal
            assert any(g.signatory == recipient.id and g.dataset == dataset and g.in_force(today) for g in p.grants)


@settings(max_examples=150, deadline=None)
@given(partnerships())
def test_no_tier_2_or_3_or_inactive_signatory_gets_personal_data_or_any_access(p):
    check_access_properties(p, TODAY)


_PROPOSE = st.tuples(st.just("propose"), st.integers(4, 5), st.integers(1, 3),
                     st.sampled_from(["responsible_authority", "other"]), st.lists(st.sampled_from(DATASETS), max_size=2))
_SUBJECT = st.sampled_from([4, 5, 1, 2, 3, 0])  # hypothesis leans to the first: keep the police supplying
_OPS = st.one_of(
    _PROPOSE,
    st.tuples(st.just("approve"), st.sampled_from([4, 5, 2]), st.sampled_from([0, 1, 2, 4])),
    st.tuples(st.just("admit"), st.sampled_from([4, 5])),  # approval by every responsible authority in turn
    st.tuples(st.just("grant"), _SUBJECT, st.sampled_from(DATASETS), st.sampled_from([0, 1, 4]),
              st.booleans(), st.sampled_from([30, 5, 1, 0, -3])),
    st.tuples(st.just("grant"), _SUBJECT, st.sampled_from(DATASETS), st.sampled_from([0, 1, 4]),
              st.booleans(), st.sampled_from([30, 5, 1, 0, -3])),
    st.tuples(st.just("revoke"), _SUBJECT, st.sampled_from(DATASETS)),
    st.tuples(st.just("suspend"), _SUBJECT),
    st.tuples(st.just("reinstate"), _SUBJECT),
    st.tuples(st.just("withdraw"), _SUBJECT),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PROPOSE, min_size=1, max_size=2), st.lists(_OPS, min_size=5, max_size=30), st.integers(0, 30))
def test_registry_operations_never_open_a_door_the_rules_keep_shut(proposals, ops, days_later):
    ops = proposals + ops
    base = Partnership.from_mapping(config_mapping(grants=[]))
    ids = ["police", "council", "charity", "committee", "n4", "n5"]

    async def scenario():
        async with Registry(":memory:", today=lambda: TODAY) as registry:
            await registry.sync_from_config(base)
            for op in ops:
                kind, *args = op
                try:
                    if kind == "propose":
                        index, tier, skind, supplies = args
                        await registry.propose(f"n{index}", name="New", kind=skind, tier=tier, supplies=supplies,
                                               **KEY_POOL[index].as_config())
                    elif kind == "approve":
                        await registry.approve(ids[args[0]], ids[args[1]])
                    elif kind == "admit":
                        for ra in await registry.responsible_authorities():
                            await registry.approve(ids[args[0]], ra)
                    elif kind == "grant":
                        who, dataset, approver, legal, days = args
                        await registry.grant(ids[who], dataset, purpose="Tasking", legal_basis=S115 if legal else "",
                                             approved_by=ids[approver], expires=TODAY + dt.timedelta(days=days))
                    elif kind == "revoke":
                        await registry.revoke(ids[args[0]], args[1])
                    elif kind == "suspend":
                        await registry.suspend(ids[args[0]], "breach")
                    else:
                        await getattr(registry, kind)(ids[args[0]])
                except GovernanceError:
                    pass
            effective = await registry.effective_partnership(base)
            for record in await registry.signatories():
                if record.source == "proposed" and record.status in ("active", "suspended"):
                    (activation,) = [e for e in await registry.events(record.id) if e.action == "activated"]
                    approvers = set(activation.detail["approved_by"])
                    assert approvers, f"{record.id} became {record.status} without approval"
                    assert approvers <= {a.approver for a in await registry.approvals(record.id)}
                    for approver in approvers:
                        assert (await registry.signatory(approver)).signatory.kind == "responsible_authority"
            for grant in effective.grants:
                holder = effective.signatories[grant.signatory]
                assert holder.tier != 3
                assert holder.tier == 1 or not catalogue()[grant.dataset].personal
            return effective

    effective = asyncio.run(scenario())
    check_access_properties(effective, TODAY + dt.timedelta(days=days_later))


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
        lines.append(f'[[signatory]]\nid = "{s["id"]}"\nname = "{s["name"]}"\nkind = "{s["kind"]}"\ntier = {s["tier"]}\n'
                     f'status = "{s["status"]}"\nsupplies = [{supplies}]\nx25519 = "{s["x25519"]}"\n'
                     f'ed25519 = "{s["ed25519"]}"\n')
    lines.append(f'[[grant]]\nsignatory = "council"\ndataset = "{OFFENCE}"\npurpose = "Strategic assessment"\n'
                 f'legal_basis = "{S115}"\napproved_by = "police"\nexpires = {(dt.date.today() + dt.timedelta(days=365)).isoformat()}\n')
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
    assert removed == {("User:housing", "TOPIC", f"shared.{OFFENCE}"), ("User:housing", "TOPIC", f"keys.shared.{OFFENCE}"),
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
