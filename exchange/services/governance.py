"""Governance work that spans the registry, key files and the broker: signing a decision with
the deciding signatories' key files and recording it, founding the chain, reconciling the
broker's ACLs with what the registry calls for today, and a signatory's full dossier. The CLI
renders these; the rules themselves are exchange.core.ledger, exchange.core.governance and
exchange.core.acl."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from exchange.core.acl import AclBinding, AclPlan, desired_bindings, plan
from exchange.core.ledger import Decision, Ledger
from exchange.core.partnership import Partnership
from exchange.core.schemas import catalogue as default_catalogue
from exchange.crypto.decisions import draft, sign_decision, signer_of, verify_signature
from exchange.crypto.keys import KeyPair
from exchange.errors import AclCreateFailed, AclDeleteFailed, DecisionRefused, ExchangeError
from exchange.storage.registry import Registry
from exchange.transport import acl_broker
from exchange.transport.kafka import KafkaSettings

__all__ = ["AclApplied", "AclState", "acl_state", "apply_acls", "decide", "draft_for", "found", "founding_draft",
           "signatory_dossier"]


async def draft_for(registry: Registry, action: str, subject: str, terms: Mapping[str, Any], *, person: str,
                    role: str) -> Decision:
    """An unsigned decision extending the chain the registry holds."""
    return draft(await registry.require_founded(), action, subject, terms, person=person, role=role)


async def decide(registry: Registry, action: str, subject: str, terms: Mapping[str, Any], *,
                 signers: Sequence[KeyPair], person: str, role: str, new_keys: KeyPair | None = None) -> Decision:
    """Draft the decision against the chain the registry holds, sign it with each key file (each
    signs as the signatory whose current key it holds; `new_keys`, for a rekey, as `subject`), and
    record it. The registry checks it with the ledger's rules: GovernanceError if refused."""
    ledger = await registry.require_founded()
    decision = draft(ledger, action, subject, terms, person=person, role=role)
    for keys in signers:
        decision = sign_decision(decision, keys, signer=signer_of(ledger, keys))
    if new_keys is not None:
        decision = sign_decision(decision, new_keys, signer=subject)
    return await registry.decide(decision)


def founding_draft(config_toml: str, *, person: str, role: str) -> Decision:
    """The unsigned founding decision of a partnership config (for its founders to sign)."""
    base = Partnership.from_toml(config_toml, origin="the partnership config")
    return draft(Ledger(default_catalogue(), verify_signature), "found", base.name, {"config_toml": config_toml},
                 person=person, role=role)


async def found(registry: Registry, config_toml: str, *, signers: Sequence[KeyPair], person: str,
                role: str) -> Ledger:
    """Sign the partnership config as the founding decision with the founding signatories' key
    files (every active responsible authority, and each grant's approving originator) and record it."""
    if await registry.founded():
        raise DecisionRefused(f"{registry.path} is already founded: the chain has one founding decision")
    base = Partnership.from_toml(config_toml, origin="the partnership config")
    by_key = {s.keys.ed25519: s.id for s in base.signatories.values()}
    decision = founding_draft(config_toml, person=person, role=role)
    for keys in signers:
        signer = by_key.get(keys.public.ed25519)
        if signer is None:
            raise DecisionRefused(f"the key file of {keys.name!r} holds the key of no signatory in the config")
        decision = sign_decision(decision, keys, signer=signer)
    await registry.decide(decision)
    return await registry.ledger()


@dataclass(frozen=True)
class AclState:
    partnership: Partnership
    desired: frozenset[AclBinding]
    applied: frozenset[AclBinding]
    owned: frozenset[AclBinding]
    plan: AclPlan
    compared_with: str  # what `applied` was read from, in words


async def acl_state(registry: Registry, base: Partnership, *, sanitiser_principal: str, sanitiser_group: str,
                    bootstrap: str | None, prune_unowned: bool = False) -> AclState:
    """What the registry calls for today against what is applied: the broker's ACLs when
    `bootstrap` is given, else the registry's record of what `acl apply` last applied."""
    partnership = await registry.effective_partnership(base)
    desired = desired_bindings(partnership, registry.catalogue, registry.today(), sanitiser_principal, sanitiser_group)
    owned = await registry.acl_owned()
    if bootstrap:
        applied = frozenset(await acl_broker.describe_acls(KafkaSettings.from_environment(bootstrap)))
        against = f"the ACLs on the broker at {bootstrap}"
    else:
        applied = owned
        against = "the registry's record of the ACLs it applied (give --bootstrap to read the broker instead)"
    acl_plan = plan(desired, applied, owned, prune_unowned=prune_unowned, sanitiser_group=sanitiser_group)
    return AclState(partnership, desired, applied, owned, acl_plan, against)


@dataclass
class AclApplied:
    created: int = 0
    deleted: int = 0
    errors: list[str] = field(default_factory=list)


async def apply_acls(registry: Registry, settings: KafkaSettings, state: AclState, *, actor: str | None) -> AclApplied:
    """Remove, then add, what the plan says; record in the registry only what the broker confirmed."""
    result = AclApplied()
    acl_plan = state.plan
    # Owned bindings someone removed from the broker by hand are no longer ours to track.
    await registry.record_acls(forget=state.owned - state.applied, by=actor)
    if acl_plan.to_remove:
        try:
            await acl_broker.delete_acls(settings, acl_plan.to_remove)
            await registry.record_acls(deleted=acl_plan.to_remove, by=actor)
            result.deleted = len(acl_plan.to_remove)
        except AclDeleteFailed as exc:
            done = acl_plan.to_remove - {b for b, _ in exc.failed}
            await registry.record_acls(deleted=done, by=actor)
            result.deleted = len(done)
            result.errors.append(str(exc))
        except ExchangeError as exc:
            result.errors.append(str(exc))
    if acl_plan.to_add:
        try:
            await acl_broker.create_acls(settings, acl_plan.to_add)
            await registry.record_acls(created=acl_plan.to_add, by=actor)
            result.created = len(acl_plan.to_add)
        except AclCreateFailed as exc:
            await registry.record_acls(created=exc.created, by=actor)
            result.created = len(exc.created)
            result.errors.append(str(exc))
        except ExchangeError as exc:
            result.errors.append(str(exc))
    return result


async def signatory_dossier(registry: Registry, signatory_id: str) -> dict[str, Any]:
    """One signatory in full: details, approvals, grants with their state today, suspensions, history."""
    record = await registry.signatory(signatory_id)
    today = registry.today()
    return {
        **record.as_dict(),
        "approvals": [{"approver": a.approver, "approved_at": a.approved_at}
                      for a in await registry.approvals(signatory_id)],
        "awaiting_approval_from": list(await registry.awaiting(signatory_id)) if record.status == "proposed" else [],
        "grants": [g.as_dict(today) for g in await registry.grants(signatory_id)],
        "suspensions": [s.__dict__ for s in await registry.suspensions(signatory_id)],
        "history": [{"at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail}
                    for e in await registry.events(signatory_id)],
    }
