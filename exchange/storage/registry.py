"""The governance registry: the partnership's chain of signed decisions, kept in SQLite.

Every governance decision (exchange.core.ledger: found, propose, approve, grant, revoke,
suspend, reinstate, withdraw, rekey) arrives signed by the signatory that decides it. `decide`
checks it against the state the stored chain has reached, with the ledger's rules, and stores it
in the same transaction; nothing else changes the governance state. Every read (signatories,
grants, approvals, suspensions, history) is the stored chain replayed, so what the registry
shows is exactly what every site following the published chain derives. `verify` replays the
stored chain from its founding decision, checking each hash, signature and rule.

The registry also records the Kafka ACLs the exchange has put on the broker (`acl apply`): an
operator's action, not a governance decision, so it is kept beside the chain, with its own
history.

The partnership config (TOML) is signed whole into the founding decision by every founding
responsible authority (`exchange governance found`); afterwards editing a status, tier, key or
grant in it changes nothing: `differences` reports where it no longer matches the chain.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from exchange.core.acl import AclBinding
from exchange.core.governance import Approval, Event, GrantRecord, SignatoryRecord, Suspension
from exchange.core.ledger import Decision, Ledger, TrustAnchor
from exchange.core.partnership import Partnership, Signatory
from exchange.core.schemas import Catalogue
from exchange.core.schemas import catalogue as default_catalogue
from exchange.crypto.decisions import verify_signature
from exchange.errors import ChainBroken, GovernanceError, UnknownSignatory
from exchange.storage._sqlite import SqliteFile

__all__ = ["default_actor", "Registry", "partnership_source"]


def default_actor() -> str:
    """Who is acting, when no --person is given: $EXCHANGE_ACTOR, else the login name."""
    try:
        return os.environ.get("EXCHANGE_ACTOR") or getpass.getuser()
    except Exception:  # no login name (some containers)
        return "unknown"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    version INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    decision TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS acl_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS acl_owned (
    principal TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    pattern_type TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    operation TEXT NOT NULL,
    permission TEXT NOT NULL,
    host TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (principal, resource_type, pattern_type, resource_name, operation, permission, host)
);
"""


class Registry(SqliteFile):
    """`async with Registry(path) as registry:`; `decide` is the one way the state changes."""

    SCHEMA = _SCHEMA
    ISOLATION_LEVEL = None  # transactions are explicit (BEGIN IMMEDIATE ... COMMIT)

    def __init__(self, path: str | Path, *, catalogue: Catalogue | None = None,
                 today: Callable[[], dt.date] = dt.date.today):
        super().__init__(path)
        self.catalogue = catalogue or default_catalogue()
        self.today = today
        self._ledger: Ledger | None = None

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        await self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            await self.db.execute("ROLLBACK")
            raise
        else:
            await self.db.execute("COMMIT")

    # --- the chain -----------------------------------------------------------------------------

    async def ledger(self) -> Ledger:
        """The state the stored chain has reached (decisions stored since the last call are applied)."""
        if self._ledger is None:
            self._ledger = Ledger(self.catalogue, verify_signature)
        ledger = self._ledger
        async with self.db.execute("SELECT version, hash, decision FROM decisions WHERE version > ? ORDER BY version",
                                   (ledger.version,)) as cur:
            rows = await cur.fetchall()
        for version, digest, text in rows:
            try:
                decision = Decision.from_json(text, origin=f"{self.path}: decision {version}")
                if decision.version != version or decision.digest() != digest:
                    raise ChainBroken(f"{self.path}: decision {version} does not match its stored hash")
                ledger.apply(decision)
            except GovernanceError as exc:
                self._ledger = None
                raise ChainBroken(f"{self.path}: the stored chain of decisions does not verify at decision "
                                  f"{version}: {exc}") from None
        return ledger

    async def decide(self, decision: Decision) -> Decision:
        """Check `decision` against the chain (exchange.core.ledger) and store it; GovernanceError
        (the registry unchanged) if it is refused."""
        async with self._transaction():
            ledger = await self.ledger()
            try:
                ledger.apply(decision)
                await self.db.execute("INSERT INTO decisions (version, hash, decision) VALUES (?,?,?)",
                                      (decision.version, decision.digest(), decision.to_json()))
            except BaseException:
                self._ledger = None  # re-read from the file: it may be ahead of what was stored
                raise
        return decision

    async def decisions(self, *, after: int = 0) -> list[Decision]:
        async with self.db.execute("SELECT decision FROM decisions WHERE version > ? ORDER BY version",
                                   (after,)) as cur:
            return [Decision.from_json(text) async for (text,) in cur]

    async def verify(self, anchor: TrustAnchor | None = None) -> Ledger:
        """Replay the whole stored chain afresh (every hash, signature and rule); ChainBroken if it fails."""
        self._ledger = Ledger(self.catalogue, verify_signature, anchor=anchor)
        return await self.ledger()

    async def founded(self) -> bool:
        return (await self.ledger()).founded

    async def require_founded(self) -> Ledger:
        ledger = await self.ledger()
        if not ledger.founded:
            raise GovernanceError(f"{self.path}: the registry holds no founding decision: the founding responsible "
                                  "authorities sign the partnership config with `exchange governance found` first")
        return ledger

    # --- reading -------------------------------------------------------------------------------

    async def signatories(self) -> list[SignatoryRecord]:
        ledger = await self.ledger()
        return [ledger.records[sid] for sid in sorted(ledger.records)]

    async def find(self, signatory_id: str) -> SignatoryRecord | None:
        return (await self.ledger()).records.get(signatory_id)

    async def signatory(self, signatory_id: str) -> SignatoryRecord:
        record = await self.find(signatory_id)
        if record is None:
            raise UnknownSignatory(f"{signatory_id!r} is not in the partnership's registry "
                                   "(see `exchange signatory list`)")
        return record

    async def grants(self, signatory_id: str | None = None, *, include_revoked: bool = True) -> list[GrantRecord]:
        grants = [g for g in (await self.ledger()).grants
                  if (signatory_id is None or g.signatory == signatory_id) and (include_revoked or not g.revoked)]
        return sorted(grants, key=lambda g: (g.signatory, g.dataset, g.id))

    async def approvals(self, candidate: str | None = None) -> list[Approval]:
        return [a for a in (await self.ledger()).approvals if candidate is None or a.candidate == candidate]

    async def suspensions(self, signatory_id: str | None = None) -> list[Suspension]:
        return [s for s in (await self.ledger()).suspensions if signatory_id is None or s.signatory == signatory_id]

    async def events(self, subject: str | None = None) -> list[Event]:
        """The governance history (one event per decision), and with no subject the ACL changes too."""
        events = [e for e in (await self.ledger()).events if subject is None or e.subject == subject]
        if subject is None or subject == "broker":
            async with self.db.execute("SELECT id, at, actor, detail FROM acl_events ORDER BY id") as cur:
                events += [Event(-i, at, actor, "acls_applied", "broker", json.loads(detail))
                           async for i, at, actor, detail in cur]
        return sorted(events, key=lambda e: e.at)

    async def responsible_authorities(self) -> list[str]:
        """Ids of the active responsible authorities: every one of them must approve a newcomer."""
        return (await self.ledger()).responsible_authorities()

    async def awaiting(self, candidate: str) -> tuple[str, ...]:
        """Active responsible authorities that have not yet approved what `candidate` awaits."""
        return (await self.ledger()).awaiting(candidate)

    async def effective_partnership(self, base: Partnership | None = None) -> Partnership:
        """The Partnership as the chain has it: signatories, statuses, keys, and grants less revoked
        ones (expired ones stay; Partnership ignores them). Settings (k, markings, the sanitiser's
        keys) come from `base` if given, else from the founding config."""
        return (await self.require_founded()).partnership(base)

    async def differences(self, config: Partnership) -> list[str]:
        """Where a (later edited) config no longer matches the chain: reported, never applied."""
        ledger = await self.ledger()
        out = []
        for signatory in sorted(config.signatories.values(), key=lambda s: s.id):
            record = ledger.records.get(signatory.id)
            if record is None:
                out.append(f"{signatory.id}: in the config but not a signatory on the chain (propose it with "
                           "`exchange signatory propose`)")
            else:
                out += _differences(signatory, record.signatory)
        return out

    # --- ACLs the exchange created ---------------------------------------------------------------

    async def acl_owned(self) -> frozenset[AclBinding]:
        async with self.db.execute("SELECT principal, resource_type, pattern_type, resource_name, operation, "
                                   "permission, host FROM acl_owned") as cur:
            return frozenset([AclBinding(*row) async for row in cur])

    async def record_acls(self, *, created: Iterable[AclBinding] = (), deleted: Iterable[AclBinding] = (),
                          forget: Iterable[AclBinding] = (), by: str | None = None) -> None:
        """Note bindings the exchange created on the broker (it owns them and may remove them
        later) and ones it deleted; `forget` drops owned bindings no longer on the broker."""
        by = by or default_actor()
        created, deleted, forget = list(created), list(deleted), list(forget)
        if not (created or deleted or forget):
            return
        async with self._transaction():
            for b in created:
                d = b.as_dict()
                await self.db.execute("INSERT OR IGNORE INTO acl_owned VALUES (?,?,?,?,?,?,?,?)",
                                      (d["principal"], d["resource_type"], d["pattern_type"], d["resource_name"],
                                       d["operation"], d["permission"], d["host"], _stamp()))
            for b in deleted + forget:
                d = b.as_dict()
                await self.db.execute("DELETE FROM acl_owned WHERE principal=? AND resource_type=? AND pattern_type=? "
                                      "AND resource_name=? AND operation=? AND permission=? AND host=?",
                                      (d["principal"], d["resource_type"], d["pattern_type"], d["resource_name"],
                                       d["operation"], d["permission"], d["host"]))
            await self.db.execute("INSERT INTO acl_events (at, actor, detail) VALUES (?,?,?)",
                                  (_stamp(), by, json.dumps({"created": [str(b) for b in created],
                                                              "deleted": [str(b) for b in deleted],
                                                              "forgotten": [str(b) for b in forget]})))


def _shown(value: Any) -> Any:
    return sorted(value) if isinstance(value, frozenset) else value


def _differences(config: Signatory, registry: Signatory) -> list[str]:
    out = []
    for name in ("status", "tier", "kind", "principal", "keys", "supplies", "name", "liaison_officer"):
        a, b = getattr(config, name), getattr(registry, name)
        if a == b:
            continue
        if name == "keys":
            out.append(f"{config.id}: the config gives other public keys than the registry holds; the registry's "
                       "are used")
        else:
            out.append(f"{config.id}: the config says {name} {_shown(a)!r}, the registry keeps {_shown(b)!r}")
    return out


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@asynccontextmanager
async def partnership_source(path: str | Path, base: Partnership | None = None
                             ) -> AsyncIterator[Callable[[], Awaitable[Partnership]]]:
    """For SanitiserService(partnership_source=...): the registry at `path` (it must exist and be
    founded) kept open, so that each call applies only the decisions recorded since the last one,
    by this process or any other, instead of replaying and re-verifying the whole chain."""
    if not Path(path).is_file():
        raise GovernanceError(f"{path}: no such registry")
    async with Registry(path) as registry:
        await registry.require_founded()

        async def source() -> Partnership:
            return await registry.effective_partnership(base)

        yield source
