"""Shared by the governance tests: a small partnership as a config mapping with a key pair for
each signatory, a registry founded on it (signed by its responsible authorities), `Signed` to
make signed decisions as a named signatory, and ways to read ACL bindings."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import tomli_w

from exchange.core.acl import (
    Operation,
    ResourceType,
)
from exchange.core.ledger import Decision
from exchange.core.schemas import catalogue
from exchange.crypto.decisions import draft, sign_decision
from exchange.crypto.keys import KeyPair
from exchange.services.governance import found
from exchange.storage.registry import Registry

TODAY = dt.date(2026, 11, 21)
NEXT_YEAR = TODAY + dt.timedelta(days=365)
OFFENCE = "police_crime_offence"  # depersonalised
PPO = "ppo"  # personal
PERSONAL = sorted(d.id for d in catalogue() if d.personal)
S115 = "Crime and Disorder Act 1998 s.115"

_KEYPAIRS: dict[str, KeyPair] = {}


def keypair(party: str) -> KeyPair:
    """The key pair of a party of the test partnership (made once per test session)."""
    if party not in _KEYPAIRS:
        _KEYPAIRS[party] = KeyPair.generate(party)
    return _KEYPAIRS[party]


def keys(party: str | None = None) -> dict[str, str]:
    """Public keys as config text: the party's, or a fresh pair's."""
    return (keypair(party) if party else KeyPair.generate("x")).public.as_config()


def new_keys() -> dict[str, str]:
    return keys()


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
    return {"partnership": {"name": "Test CSP"}, "sanitiser": keys("sanitiser"),
            "signatory": [{**keys(s["id"]), **s} for s in signatories], "grant": grants}


def config_toml(mapping: dict) -> str:
    return tomli_w.dumps(mapping)


def run(coroutine):
    return asyncio.run(coroutine)


def founders(mapping: dict) -> list[KeyPair]:
    """Who signs the founding decision of `mapping`: its active responsible authorities and the
    originators its grants name."""
    ids = {s["id"] for s in mapping["signatory"] if s["kind"] == "responsible_authority" and s["status"] == "active"}
    ids |= {g["approved_by"] for g in mapping.get("grant", [])
            if any(s["id"] == g["approved_by"] for s in mapping["signatory"])}
    return [keypair(i) for i in sorted(ids)]


async def registry_with(path, mapping: dict | None = None, today=TODAY, *, signers: Iterable[KeyPair] | None = None
                        ) -> Registry:
    """A registry founded on `mapping` (default: config_mapping()), signed by its founders."""
    mapping = mapping if mapping is not None else config_mapping()
    registry = Registry(path, today=lambda: today)
    await registry.__aenter__()
    await found(registry, config_toml(mapping), signers=list(signers if signers is not None else founders(mapping)),
                person="Test IG lead", role="IG lead")
    return registry


@asynccontextmanager
async def founded(path, mapping: dict | None = None, today=TODAY, *, signers: Iterable[KeyPair] | None = None
                  ) -> AsyncIterator[Registry]:
    """`async with founded(path) as registry:` a registry_with(...) closed afterwards."""
    registry = await registry_with(path, mapping, today, signers=signers)
    try:
        yield registry
    finally:
        await registry.__aexit__(None, None, None)


class Signed:
    """Signed decisions as a named signatory of the test partnership, dated `today` (noon UTC):
    `await Signed(registry).approve("housing", by="police")`. `by` may name a party that is not
    a signatory (its key is then unknown to the chain) to show a refusal."""

    def __init__(self, registry: Registry, today: dt.date = TODAY):
        self.registry = registry
        self.at = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)

    async def decision(self, action: str, subject: str, terms: dict[str, Any], *, by: str | Iterable[str],
                       new_keys: KeyPair | None = None, person: str = "Test Person", role: str = "Test role"
                       ) -> Decision:
        ledger = await self.registry.ledger()
        decision = draft(ledger, action, subject, terms, person=person, role=role, at=self.at)
        for signer in ([by] if isinstance(by, str) else list(by)):
            decision = sign_decision(decision, keypair(signer), signer=signer)
        if new_keys is not None:
            decision = sign_decision(decision, new_keys, signer=subject)
        return await self.registry.decide(decision)

    async def propose(self, sid: str, *, by: str = "police", name: str, kind: str, tier: int,
                      supplies: Iterable[str] = (), liaison_officer: str = "", principal: str | None = None,
                      **public: str) -> Decision:
        terms = {"name": name, "kind": kind, "tier": tier, "supplies": sorted(supplies),
                 "liaison_officer": liaison_officer, **(public or keys(sid))}
        if principal:
            terms["principal"] = principal
        return await self.decision("propose", sid, terms, by=by)

    async def approve(self, sid: str, *, by: str) -> Decision:
        pending = (await self.registry.ledger()).pending.get(sid)
        return await self.decision("approve", sid, {"decision": pending.decision if pending else ""}, by=by)

    async def admit(self, sid: str, **proposal: Any) -> None:
        """Propose (as police) and approve by every active responsible authority."""
        await self.propose(sid, **proposal)
        for authority in await self.registry.awaiting(sid):
            await self.approve(sid, by=authority)

    async def grant(self, sid: str, dataset: str, *, purpose: str = "Strategic assessment", legal_basis: str = S115,
                    approved_by: str = "police", expires: dt.date = NEXT_YEAR, without_consent: bool = False
                    ) -> Decision:
        return await self.decision("grant", sid, {"dataset": dataset, "purpose": purpose, "legal_basis": legal_basis,
                                                  "expires": expires.isoformat(), "without_consent": without_consent},
                                   by=approved_by)

    async def revoke(self, sid: str, dataset: str, *, by: str = "police", reason: str = "") -> Decision:
        return await self.decision("revoke", sid, {"dataset": dataset, "reason": reason}, by=by)

    async def suspend(self, sid: str, reason: str, *, by: str = "council") -> Decision:
        return await self.decision("suspend", sid, {"reason": reason}, by=by)

    async def reinstate(self, sid: str, *, by: str = "council", note: str = "") -> Decision:
        return await self.decision("reinstate", sid, {"note": note}, by=by)

    async def withdraw(self, sid: str, *, by: str | None = None, reason: str = "") -> Decision:
        return await self.decision("withdraw", sid, {"reason": reason}, by=by or sid)


def readers(bindings, topic: str) -> set[str]:
    return {b.principal for b in bindings
            if b.resource_type is ResourceType.TOPIC and b.resource_name == topic and b.operation is Operation.READ}


def principals(bindings) -> set[str]:
    return {b.principal for b in bindings}
