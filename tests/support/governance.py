"""Shared by the governance tests: a small partnership as a config mapping, a registry on it,
and ways to read ACL bindings."""

from __future__ import annotations

import asyncio
import datetime as dt

from exchange.core.acl import (
    Operation,
    ResourceType,
)
from exchange.core.schemas import catalogue
from exchange.crypto.keys import KeyPair
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


