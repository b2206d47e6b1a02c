"""ACLs as code: the exact bindings the registry calls for, the plan, and properties over random
partnerships and registry operations (pure; the real broker's ACL behaviour is test_acl_broker.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json

import pytest
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
    ConfigError,
    GovernanceError,
)
from exchange.storage.registry import Registry
from tests.support.governance import (
    NEXT_YEAR,
    OFFENCE,
    PPO,
    S115,
    TODAY,
    config_mapping,
)


@pytest.fixture
def base() -> Partnership:
    return Partnership.from_mapping(config_mapping())


# --- ACLs (pure) --------------------------------------------------------------------------------


def test_exact_bindings_for_a_small_partnership(base):
    got = desired_bindings(base, catalogue(), TODAY)

    def allow(principal, rtype, pattern, name, op):
        return AclBinding(principal, rtype, pattern, name, op, Permission.ALLOW, "*")

    T, G, L, P = ResourceType.TOPIC, ResourceType.GROUP, PatternType.LITERAL, PatternType.PREFIXED
    R, W, D, C = Operation.READ, Operation.WRITE, Operation.DESCRIBE, Operation.CREATE
    s = SANITISER_PRINCIPAL
    expected = {
        allow(s, T, P, "raw.", R), allow(s, T, P, "raw.", C),
        allow(s, T, P, "keys.raw.", R), allow(s, T, P, "keys.raw.", C),
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
            tier=draw(st.integers(1, 3)),
            status=draw(st.sampled_from(["proposed", "active", "suspended", "withdrawn"])),
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
                     st.sampled_from(["responsible_authority", "other"]),
                     st.lists(st.sampled_from(DATASETS), max_size=2))
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


