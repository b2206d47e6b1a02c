"""ACLs as code: the exact bindings the registry calls for, the plan, and properties over random
partnerships and random signed registry decisions, forged ones among them (pure; the real
broker's ACL behaviour is test_acl_broker.py)."""

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
from exchange.core.ledger import Ledger
from exchange.core.names import GOVERNANCE_TOPIC, SANITISER_GROUP
from exchange.core.partnership import Grant, Partnership, Signatory
from exchange.core.public_keys import b64
from exchange.core.schemas import catalogue
from exchange.crypto.decisions import draft, sign_decision, verify_signature
from exchange.crypto.keys import KeyPair
from exchange.errors import (
    ConfigError,
    GovernanceError,
)
from tests.support.governance import (
    NEXT_YEAR,
    OFFENCE,
    PPO,
    S115,
    TODAY,
    Signed,
    config_mapping,
    keypair,
    registry_with,
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
        allow(s, G, L, SANITISER_GROUP, R), allow(s, T, L, GOVERNANCE_TOPIC, R),
        *(allow(f"User:{sid}", T, L, GOVERNANCE_TOPIC, op) for sid in ("police", "council", "charity", "committee")
          for op in (R, D)),
        *(allow("User:police", T, L, f"{prefix}{d}", op) for d in (OFFENCE, PPO) for prefix in ("raw.", "keys.raw.")
          for op in (W, D)),
        allow("User:council", T, L, f"shared.{OFFENCE}", R), allow("User:council", T, L, f"keys.shared.{OFFENCE}", R),
        allow("User:council", G, L, "feed.council", R), allow("User:council", G, P, "feed.council.", R),
    }
    assert got == expected


def test_every_signatory_not_withdrawn_reads_the_governance_topic_and_nothing_else_unless_active(base):
    statuses = {"police": "active", "council": "suspended", "charity": "proposed", "committee": "withdrawn"}
    p = dataclasses.replace(base, signatories={sid: dataclasses.replace(s, status=statuses[sid])
                                               for sid, s in base.signatories.items()})
    bindings = desired_bindings(p, catalogue(), TODAY)
    governance = {b.principal for b in bindings if b.resource_name == GOVERNANCE_TOPIC}
    assert governance == {SANITISER_PRINCIPAL, "User:police", "User:council", "User:charity"}
    for principal in ("User:council", "User:charity"):
        assert {(b.resource_name, b.operation) for b in bindings if b.principal == principal} == {
            (GOVERNANCE_TOPIC, Operation.READ), (GOVERNANCE_TOPIC, Operation.DESCRIBE)}
    assert not [b for b in bindings if b.principal == "User:committee"]
    assert not [b for b in bindings if b.resource_name == GOVERNANCE_TOPIC
                and b.operation not in (Operation.READ, Operation.DESCRIBE)]  # only read: decisions are published


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
        name = binding.resource_name
        if binding.resource_type is ResourceType.TOPIC and name == GOVERNANCE_TOPIC:
            # Every signatory not withdrawn follows the signed chain (nothing personal on it), and only reads it.
            assert holder.status != "withdrawn", f"withdrawn {holder.id} got {binding}"
            assert binding.pattern_type is PatternType.LITERAL
            assert binding.operation in (Operation.READ, Operation.DESCRIBE)
            continue
        assert holder.active, f"{holder.status} {holder.id} got {binding}"  # unapproved/suspended get nothing
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


DAY = dt.datetime.now(dt.UTC).date()  # decisions are dated after the founding decision, made now
IDS = ["police", "council", "charity", "committee", "n4", "n5", "ghost"]  # ghost is never a signatory
_SIGNER = st.sampled_from([0, 1, 2, 4, 5, 3, 6])
_SUBJECT = st.sampled_from([1, 4, 2, 5, 3, 0])  # hypothesis leans to the first: keep the police supplying
_PROPOSE = st.tuples(st.just("propose"), st.integers(4, 5), st.integers(1, 3),
                     st.sampled_from(["responsible_authority", "other"]),
                     st.lists(st.sampled_from(DATASETS), max_size=2), _SIGNER)
_GRANT = st.tuples(st.just("grant"), _SUBJECT, st.sampled_from(DATASETS), st.sampled_from([0, 1, 4, 2]),
                   st.booleans(), st.sampled_from([30, 5, 1, 0, -3]))
# Grants most of the rules allow (so that some are made, to be suspended, revoked, expired ...).
_LIKELY_GRANT = st.tuples(st.just("grant"), st.sampled_from([1, 4, 2, 5]), st.sampled_from([OFFENCE, PPO]),
                          st.sampled_from([0, 4]), st.just(True), st.sampled_from([30, 5]))
_OPS = st.one_of(
    _PROPOSE,
    st.tuples(st.just("approve"), st.sampled_from([4, 5, 2]), _SIGNER),
    st.tuples(st.just("admit"), st.sampled_from([4, 5])),  # approval by every awaited responsible authority in turn
    _GRANT,
    _LIKELY_GRANT,
    _LIKELY_GRANT,
    st.tuples(st.just("revoke"), _SUBJECT, st.sampled_from(DATASETS), _SIGNER),
    st.tuples(st.sampled_from(["suspend", "reinstate", "withdraw"]), _SUBJECT, _SIGNER),
    # A decision whose signature names one signatory but is made with another's key.
    st.tuples(st.just("forge"), st.sampled_from(["approve", "grant", "suspend", "reinstate", "withdraw", "revoke"]),
              _SUBJECT, st.integers(0, 5), st.integers(0, 5)).filter(lambda op: op[3] != op[4]),
)


def _terms(ledger, action: str, subject: str, dataset: str = OFFENCE) -> dict:
    if action == "approve":
        pending = ledger.pending.get(subject)
        return {"decision": pending.decision if pending else ""}
    if action == "grant":
        return {"dataset": dataset, "purpose": "Tasking", "legal_basis": S115,
                "expires": (DAY + dt.timedelta(days=30)).isoformat(), "without_consent": False}
    if action == "revoke":
        return {"dataset": dataset, "reason": "x"}
    return {"reason": "breach", "note": ""}


def check_every_decision_was_signed_as_the_rules_require(decisions) -> None:
    """Replay the chain, checking each decision against the state before it by the ISP's rules
    written out here again, independently of the ledger's code."""
    ledger = Ledger(catalogue(), verify_signature)
    approvers: dict[str, set[str]] = {}
    for decision in decisions:
        before = {sid: r.signatory for sid, r in ledger.records.items()}
        held = [g for g in ledger.grants if not g.revoked]
        ledger.apply(decision)
        if decision.action == "found":
            continue
        (signer,) = {s.signer for s in decision.signatures}
        assert signer in before, f"{decision.action} signed by {signer}, not a signatory"
        by = before[signer]
        assert all(s.key == b64(by.keys.ed25519) for s in decision.signatures), "signed with another's key"
        authority = by.kind == "responsible_authority" and by.active
        subject, action = decision.subject, decision.action
        if action == "propose":
            assert by.active
            approvers[subject] = set()
        elif action == "approve":
            assert authority and signer != subject
            approvers[subject].add(signer)
        elif action == "grant":
            dataset = decision.terms["dataset"]
            assert by.active and dataset in by.supplies, f"{signer} consented to {dataset} it does not supply"
            holder = before[subject]
            assert holder.status in ("proposed", "active") and holder.tier != 3
            assert holder.tier == 1 or not catalogue()[dataset].personal
        elif action == "revoke":
            originators = {g.approved_by for g in held if g.signatory == subject
                           and g.dataset == decision.terms["dataset"]}
            assert authority or signer in originators
        elif action in ("suspend", "reinstate"):
            assert authority and signer != subject
        elif action == "withdraw":
            assert authority or signer == subject
        if before.get(subject) and before[subject].status == "proposed" and ledger.records[subject].status == "active":
            awaited = {sid for sid, s in before.items()
                       if s.kind == "responsible_authority" and s.active and sid != subject}
            assert action == "approve" and awaited <= approvers[subject], (
                f"{subject} became active without the approval of {sorted(awaited - approvers[subject])}")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PROPOSE, min_size=1, max_size=2), st.lists(_OPS, min_size=10, max_size=30), st.integers(0, 30))
def test_registry_decisions_never_open_a_door_the_rules_keep_shut(proposals, ops, days_later):
    ops = proposals + ops

    async def scenario():
        registry = await registry_with(":memory:", config_mapping(grants=[]), today=DAY)
        signed = Signed(registry, today=DAY)
        try:
            for op in ops:
                kind, *args = op
                version = (await registry.ledger()).version
                try:
                    if kind == "propose":
                        index, tier, skind, supplies, proposer = args
                        await signed.propose(f"n{index}", by=IDS[proposer], name="New", kind=skind, tier=tier,
                                             supplies=supplies)
                    elif kind == "approve":
                        await signed.approve(IDS[args[0]], by=IDS[args[1]])
                    elif kind == "admit":
                        for authority in await registry.awaiting(IDS[args[0]]):
                            await signed.approve(IDS[args[0]], by=authority)
                    elif kind == "grant":
                        who, dataset, originator, legal, days = args
                        await signed.grant(IDS[who], dataset, purpose="Tasking", legal_basis=S115 if legal else "",
                                           approved_by=IDS[originator], expires=DAY + dt.timedelta(days=days))
                    elif kind == "revoke":
                        await signed.revoke(IDS[args[0]], args[1], by=IDS[args[2]])
                    elif kind == "forge":
                        action, subject, claims, key_of = args
                        ledger = await registry.ledger()
                        decision = draft(ledger, action, IDS[subject], _terms(ledger, action, IDS[subject]),
                                         person="Forger", role="Nobody", at=signed.at)
                        with pytest.raises(GovernanceError):
                            await registry.decide(sign_decision(decision, keypair(IDS[key_of]), signer=IDS[claims]))
                    else:
                        subject, signer = args
                        terms = {"reason": "breach"} if kind != "reinstate" else {"note": ""}
                        await signed.decision(kind, IDS[subject], terms, by=IDS[signer])
                except GovernanceError:
                    assert (await registry.ledger()).version == version  # a refusal changes nothing
            check_every_decision_was_signed_as_the_rules_require(await registry.decisions())
            effective = await registry.effective_partnership()
            for grant in effective.grants:
                holder = effective.signatories[grant.signatory]
                assert holder.tier != 3
                assert holder.tier == 1 or not catalogue()[grant.dataset].personal
            return effective
        finally:
            await registry.__aexit__(None, None, None)

    effective = asyncio.run(scenario())
    check_access_properties(effective, DAY + dt.timedelta(days=days_later))
