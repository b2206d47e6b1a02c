"""The governance registry: the live state of the Information Sharing Protocol (SQLite).

The partnership config (exchange.core.partnership) declares who signed the ISP and what was granted;
the registry records what has been decided since: proposals, approvals by the responsible
authorities, grants and their revocation, suspensions and reinstatements, withdrawals, and the
Kafka ACLs the exchange has put on the broker. Every change writes an event to the history in
the same transaction, with who made it and when.

`effective_partnership(base)` gives the Partnership the services act on (statuses and grants as
the registry has them), so `SanitiserService(partnership_source=...)` picks up a suspension
within its refresh interval and rotates the data key away from the suspended signatory.

How the config and the registry combine (`sync_from_config`, run by every command):

  * The config seeds the registry. A signatory or grant the registry has never held is added;
    anything it already holds (a signatory by id, a grant by signatory and dataset, even a revoked
    one) stays as the registry has it. Editing a status, tier, key or grant in the config after
    that changes nothing: decisions are made with `exchange signatory ...` / `exchange acl ...`,
    so that each is recorded with who, when and why. Differences are reported, not applied.
  * On the first sync (an empty registry) signatories take the status the config gives them:
    they are the founding signatories of the ISP, with nobody yet to approve them. Afterwards a
    signatory new to the registry enters as "proposed" even if the config says "active" (it needs
    the approval of every active responsible authority); a config status of "suspended" or
    "withdrawn" is kept as it is, being stricter.
  * A config grant that breaks the grant rules (below) is not imported; the report says why.
    A config grant that has already expired is imported as it is (it gives nothing).

Grant rules (`exchange.core.governance.check_grant`; docs/design.md, Tiers and access):

  * tier 3 (scrutiny) receives aggregates only: no record-level dataset can be granted;
  * tier 2 (associate) may be granted depersonalised datasets only;
  * personal datasets go only to tier 1, with a purpose, a legal basis and an expiry;
  * every grant records its purpose and the approving originator: an active signatory that
    supplies the dataset; a new grant must expire in the future;
  * a suspended or withdrawn signatory cannot be granted anything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from exchange.core.acl import AclBinding, check_principal
from exchange.core.governance import (
    Approval,
    ApprovalResult,
    Event,
    GrantRecord,
    SignatoryRecord,
    Suspension,
    SyncReport,
    check_approver,
    check_grant,
    next_status,
)
from exchange.core.names import PARTY_ID_RE, SANITISER_ID, default_principal
from exchange.core.partnership import (
    KINDS,
    RESPONSIBLE_AUTHORITY,
    Grant,
    Partnership,
    Signatory,
)
from exchange.core.public_keys import PublicKeys
from exchange.core.schemas import Catalogue
from exchange.core.schemas import catalogue as default_catalogue
from exchange.errors import (
    ConfigError,
    GovernanceError,
    GrantRefused,
    InvalidProposal,
    NoSuchGrant,
    SignatoryExists,
    UnknownSignatory,
)
from exchange.storage._sqlite import SqliteFile

__all__ = ["default_actor", "open_live_partnership", "partnership_source", "Registry"]



def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def default_actor() -> str:
    """Who is making a change, for the history: $EXCHANGE_ACTOR, else the login name."""
    try:
        return os.environ.get("EXCHANGE_ACTOR") or getpass.getuser()
    except Exception:  # no login name (some containers)
        return "unknown"


# --- the registry -----------------------------------------------------------------------------


_SCHEMA = """
CREATE TABLE IF NOT EXISTS signatories (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    tier INTEGER NOT NULL CHECK (tier IN (1, 2, 3)),
    principal TEXT NOT NULL,
    x25519 TEXT NOT NULL,
    ed25519 TEXT NOT NULL,
    supplies TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'active', 'suspended', 'withdrawn')),
    liaison_officer TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status_changed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS approvals (
    candidate TEXT NOT NULL REFERENCES signatories(id),
    approver TEXT NOT NULL REFERENCES signatories(id),
    approved_at TEXT NOT NULL,
    PRIMARY KEY (candidate, approver)
);
CREATE TABLE IF NOT EXISTS grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    signatory TEXT NOT NULL REFERENCES signatories(id),
    dataset TEXT NOT NULL,
    purpose TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    expires TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    source TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    revoked_at TEXT,
    revoked_by TEXT,
    revoke_reason TEXT
);
CREATE INDEX IF NOT EXISTS grants_signatory ON grants(signatory, dataset);
CREATE TABLE IF NOT EXISTS suspensions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    signatory TEXT NOT NULL REFERENCES signatories(id),
    reason TEXT NOT NULL,
    suspended_at TEXT NOT NULL,
    suspended_by TEXT NOT NULL,
    reinstated_at TEXT,
    reinstated_by TEXT
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_subject ON events(subject);
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

_SIGNATORY_COLUMNS = ("id, name, kind, tier, principal, x25519, ed25519, supplies, status, liaison_officer, "
                      "source, created_at, status_changed_at")
_GRANT_COLUMNS = ("id, signatory, dataset, purpose, legal_basis, approved_by, expires, granted_at, granted_by, "
                  "source, revoked, revoked_at, revoked_by, revoke_reason")


class Registry(SqliteFile):
    """`async with Registry(path) as registry:`; every change is one transaction with its event."""

    SCHEMA = _SCHEMA
    ISOLATION_LEVEL = None  # transactions are explicit (BEGIN IMMEDIATE ... COMMIT)

    def __init__(self, path: str | Path, *, catalogue: Catalogue | None = None,
                 today: Callable[[], dt.date] = dt.date.today, clock: Callable[[], dt.datetime] = _now):
        super().__init__(path)
        self.catalogue = catalogue or default_catalogue()
        self.today = today
        self.clock = clock

    async def prepare(self) -> None:
        await self.db.execute("PRAGMA foreign_keys=ON")
        await super().prepare()

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

    def _stamp(self) -> str:
        return self.clock().isoformat()

    async def _event(self, actor: str, action: str, subject: str, **detail: Any) -> None:
        await self.db.execute("INSERT INTO events (at, actor, action, subject, detail) VALUES (?,?,?,?,?)",
                              (self._stamp(), actor, action, subject, json.dumps(detail, sort_keys=True, default=str)))

    # --- reading -------------------------------------------------------------------------------

    @staticmethod
    def _signatory_from_row(row) -> SignatoryRecord:
        (sid, name, kind, tier, principal, x25519, ed25519, supplies, status, dlo, source, created,
         changed) = row
        signatory = Signatory(id=sid, name=name, kind=kind, tier=tier, status=status, principal=principal,
                              keys=PublicKeys.from_config(x25519, ed25519, owner=f"registry: signatory {sid!r}"),
                              supplies=frozenset(json.loads(supplies)), liaison_officer=dlo)
        return SignatoryRecord(signatory, source, created, changed)

    @staticmethod
    def _grant_from_row(row) -> GrantRecord:
        (gid, signatory, dataset, purpose, legal_basis, approved_by, expires, granted_at, granted_by, source,
         revoked, revoked_at, revoked_by, reason) = row
        return GrantRecord(gid, signatory, dataset, purpose, legal_basis, approved_by, dt.date.fromisoformat(expires),
                           granted_at, granted_by, source, bool(revoked), revoked_at, revoked_by, reason)

    async def signatories(self) -> list[SignatoryRecord]:
        async with self.db.execute(f"SELECT {_SIGNATORY_COLUMNS} FROM signatories ORDER BY id") as cur:
            return [self._signatory_from_row(row) async for row in cur]

    async def find(self, signatory_id: str) -> SignatoryRecord | None:
        async with self.db.execute(f"SELECT {_SIGNATORY_COLUMNS} FROM signatories WHERE id = ?",
                                   (signatory_id,)) as cur:
            row = await cur.fetchone()
        return self._signatory_from_row(row) if row else None

    async def signatory(self, signatory_id: str) -> SignatoryRecord:
        record = await self.find(signatory_id)
        if record is None:
            raise UnknownSignatory(f"{signatory_id!r} is not in the partnership's registry "
                                   "(see `exchange signatory list`)")
        return record

    async def grants(self, signatory_id: str | None = None, *, include_revoked: bool = True) -> list[GrantRecord]:
        query, args = f"SELECT {_GRANT_COLUMNS} FROM grants", []
        where = []
        if signatory_id is not None:
            where.append("signatory = ?")
            args.append(signatory_id)
        if not include_revoked:
            where.append("revoked = 0")
        if where:
            query += " WHERE " + " AND ".join(where)
        async with self.db.execute(query + " ORDER BY signatory, dataset, id", args) as cur:
            return [self._grant_from_row(row) async for row in cur]

    async def approvals(self, candidate: str | None = None) -> list[Approval]:
        query = "SELECT candidate, approver, approved_at FROM approvals"
        args: tuple[Any, ...] = ()
        if candidate is not None:
            query, args = query + " WHERE candidate = ?", (candidate,)
        async with self.db.execute(query + " ORDER BY approved_at, approver", args) as cur:
            return [Approval(*row) async for row in cur]

    async def suspensions(self, signatory_id: str | None = None) -> list[Suspension]:
        query = ("SELECT signatory, reason, suspended_at, suspended_by, reinstated_at, reinstated_by "
                 "FROM suspensions")
        args: tuple[Any, ...] = ()
        if signatory_id is not None:
            query, args = query + " WHERE signatory = ?", (signatory_id,)
        async with self.db.execute(query + " ORDER BY id", args) as cur:
            return [Suspension(*row) async for row in cur]

    async def events(self, subject: str | None = None) -> list[Event]:
        query = "SELECT id, at, actor, action, subject, detail FROM events"
        args: tuple[Any, ...] = ()
        if subject is not None:
            query, args = query + " WHERE subject = ?", (subject,)
        async with self.db.execute(query + " ORDER BY id", args) as cur:
            return [Event(i, at, actor, action, subj, json.loads(detail))
                    async for i, at, actor, action, subj, detail in cur]

    async def responsible_authorities(self) -> list[str]:
        """Ids of the active responsible authorities: every one of them must approve a newcomer."""
        async with self.db.execute("SELECT id FROM signatories WHERE kind = ? AND status = 'active' ORDER BY id",
                                   (RESPONSIBLE_AUTHORITY,)) as cur:
            return [row[0] async for row in cur]

    async def awaiting(self, candidate: str) -> tuple[str, ...]:
        """Active responsible authorities that have not yet approved a proposed signatory."""
        approved = {a.approver for a in await self.approvals(candidate)}
        return tuple(ra for ra in await self.responsible_authorities() if ra not in approved)

    async def effective_partnership(self, base: Partnership) -> Partnership:
        """The Partnership as the registry has it: statuses, and grants minus revoked ones (expired
        ones stay; Partnership ignores them). Everything else (name, k, markings, the sanitiser's
        keys) comes from `base`, the config."""
        signatories = {r.id: r.signatory for r in await self.signatories()}
        grants = tuple(g.as_grant() for g in await self.grants(include_revoked=False) if g.signatory in signatories)
        return dataclasses.replace(base, signatories=signatories, grants=grants)

    # --- the config ----------------------------------------------------------------------------

    async def sync_from_config(self, partnership: Partnership, *, actor: str = "partnership config") -> SyncReport:
        """Add what the config declares and the registry has never held (rules: module doc)."""
        report = SyncReport()
        async with self._transaction():
            first = await self.scalar("SELECT COUNT(*) FROM signatories") == 0
            async with self.db.execute("SELECT DISTINCT signatory, dataset FROM grants") as cur:
                held_grants = {(s, d) async for s, d in cur}
            known = {r.id: r for r in await self.signatories()}
            stamp = self._stamp()
            for signatory in sorted(partnership.signatories.values(), key=lambda s: s.id):
                record = known.get(signatory.id)
                if record is not None:
                    report.differences += _differences(signatory, record.signatory)
                    continue
                status = signatory.status if first or signatory.status != "active" else "proposed"
                self._check_new_signatory_fields(signatory, [r.signatory for r in known.values()])
                await self._insert_signatory(dataclasses.replace(signatory, status=status), "config", stamp)
                await self._event(actor, "signatory_added", signatory.id, status=status, config_status=signatory.status,
                                  tier=signatory.tier, kind=signatory.kind, principal=signatory.principal,
                                  supplies=sorted(signatory.supplies))
                known[signatory.id] = SignatoryRecord(dataclasses.replace(signatory, status=status), "config",
                                                      stamp, stamp)
                report.added_signatories.append(signatory.id)
            for grant in partnership.grants:
                if (grant.signatory, grant.dataset) in held_grants:
                    continue
                held_grants.add((grant.signatory, grant.dataset))
                try:
                    if grant.dataset not in self.catalogue:
                        raise GrantRefused(f"{grant.dataset!r} is not a dataset of the catalogue")
                    holder = known[grant.signatory].signatory
                    approver = known.get(grant.approved_by)
                    check_grant(holder, grant.dataset, personal=self.catalogue[grant.dataset].personal,
                                purpose=grant.purpose, legal_basis=grant.legal_basis,
                                approver=approver.signatory if approver else None, approved_by=grant.approved_by,
                                expires=grant.expires, today=None)
                except GrantRefused as exc:
                    report.refused_grants.append((grant.signatory, grant.dataset, str(exc)))
                    await self._event(actor, "grant_not_imported", grant.signatory, dataset=grant.dataset,
                                      reason=str(exc))
                    held_grants.discard((grant.signatory, grant.dataset))
                    continue
                gid = await self._insert_grant(grant, by=actor, source="config")
                await self._event(actor, "granted", grant.signatory, grant_id=gid, dataset=grant.dataset,
                                  purpose=grant.purpose, legal_basis=grant.legal_basis, approved_by=grant.approved_by,
                                  expires=grant.expires.isoformat(), source="config")
                report.added_grants.append((grant.signatory, grant.dataset))
        return report

    def _check_new_signatory_fields(self, signatory: Signatory, others: Iterable[Signatory]) -> None:
        where = f"signatory {signatory.id!r}"
        if not PARTY_ID_RE.fullmatch(signatory.id) or signatory.id == SANITISER_ID:
            raise InvalidProposal(f"{where}: an id is 1-63 lower-case letters, digits, '-' or '_' (no dots), "
                                  f"and {SANITISER_ID!r} is reserved")
        if signatory.kind not in KINDS:
            raise InvalidProposal(f"{where}: kind must be one of {', '.join(KINDS)}")
        if signatory.tier not in (1, 2, 3):
            raise InvalidProposal(f"{where}: tier must be 1 (core), 2 (associate) or 3 (scrutiny)")
        try:
            check_principal(signatory.principal, owner=where)
        except ConfigError as exc:
            raise InvalidProposal(str(exc)) from None
        unknown = sorted(d for d in signatory.supplies if d not in self.catalogue)
        if unknown:
            raise InvalidProposal(f"{where}: supplies unknown dataset(s) {', '.join(unknown)}")
        for other in others:
            if other.principal == signatory.principal:
                raise InvalidProposal(f"{where}: principal {signatory.principal} already belongs to {other.id}; "
                                      "each signatory needs its own broker user")
            if other.keys.x25519 == signatory.keys.x25519 or other.keys.ed25519 == signatory.keys.ed25519:
                raise InvalidProposal(f"{where}: its public keys are already registered to {other.id}; "
                                      "each signatory needs its own key pair")

    async def _insert_signatory(self, s: Signatory, source: str, stamp: str) -> None:
        keys = s.keys.as_config()
        await self.db.execute(
            f"INSERT INTO signatories ({_SIGNATORY_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (s.id, s.name, s.kind, s.tier, s.principal, keys["x25519"], keys["ed25519"], json.dumps(sorted(s.supplies)),
             s.status, s.liaison_officer, source, stamp, stamp))

    async def _insert_grant(self, grant: Grant, *, by: str, source: str) -> int:
        cursor = await self.db.execute(
            "INSERT INTO grants (signatory, dataset, purpose, legal_basis, approved_by, expires, granted_at,"
            " granted_by, source) VALUES (?,?,?,?,?,?,?,?,?)",
            (grant.signatory, grant.dataset, grant.purpose, grant.legal_basis, grant.approved_by,
             grant.expires.isoformat(), self._stamp(), by, source))
        assert cursor.lastrowid is not None  # an INSERT into a rowid table
        return cursor.lastrowid

    async def _set_status(self, signatory_id: str, status: str) -> None:
        await self.db.execute("UPDATE signatories SET status = ?, status_changed_at = ? WHERE id = ?",
                              (status, self._stamp(), signatory_id))

    # --- admission -----------------------------------------------------------------------------

    async def propose(self, signatory_id: str, *, name: str, kind: str, tier: int, x25519: str, ed25519: str,
                      principal: str | None = None, supplies: Iterable[str] = (), liaison_officer: str = "",
                      by: str | None = None) -> SignatoryRecord:
        """Record a new signatory as proposed; it becomes active once every active responsible
        authority has approved it."""
        by = by or default_actor()
        try:
            keys = PublicKeys.from_config(x25519, ed25519, owner=f"signatory {signatory_id!r}")
        except ConfigError as exc:
            raise InvalidProposal(str(exc)) from None
        signatory = Signatory(id=signatory_id, name=name, kind=kind, tier=int(tier), status="proposed",
                              principal=principal or default_principal(signatory_id), keys=keys,
                              supplies=frozenset(supplies), liaison_officer=liaison_officer or "")
        if not name.strip():
            raise InvalidProposal(f"signatory {signatory_id!r}: a name is required")
        async with self._transaction():
            existing = await self.find(signatory_id)
            if existing is not None:
                raise SignatoryExists(f"{signatory_id!r} is already in the registry (status {existing.status})")
            self._check_new_signatory_fields(signatory, [r.signatory for r in await self.signatories()])
            await self._insert_signatory(signatory, "proposed", self._stamp())
            await self._event(by, "proposed", signatory_id, name=name, kind=kind, tier=signatory.tier,
                              principal=signatory.principal, supplies=sorted(signatory.supplies),
                              liaison_officer=liaison_officer, awaiting=await self.responsible_authorities())
        return await self.signatory(signatory_id)

    async def approve(self, candidate: str, by: str) -> ApprovalResult:
        """Record the approval of a proposed signatory by the responsible authority `by`; the
        candidate becomes active when every active responsible authority has approved."""
        async with self._transaction():
            record = await self.signatory(candidate)
            activated_status = next_status(candidate, record.status, "approve")
            approver = await self.find(by)
            check_approver(candidate, approver.signatory if approver else None, by)
            cursor = await self.db.execute("INSERT OR IGNORE INTO approvals (candidate, approver, approved_at) "
                                           "VALUES (?,?,?)", (candidate, by, self._stamp()))
            if cursor.rowcount:
                await self._event(by, "approved", candidate)
            required = await self.responsible_authorities()
            approved = {a.approver for a in await self.approvals(candidate)}
            awaiting = tuple(ra for ra in required if ra not in approved)
            activated = not awaiting
            if activated:
                await self._set_status(candidate, activated_status)
                await self._event(by, "activated", candidate, approved_by=sorted(approved & set(required)))
        return ApprovalResult(candidate, by, activated, tuple(sorted(approved & set(required))), awaiting)

    # --- grants --------------------------------------------------------------------------------

    async def grant(self, signatory_id: str, dataset_id: str, *, purpose: str, legal_basis: str, approved_by: str,
                    expires: dt.date, by: str | None = None) -> GrantRecord:
        """Grant a dataset to a signatory under the grant rules (module doc). A grant of the same
        dataset to the same signatory still held is superseded (revoked) by the new one."""
        by = by or default_actor()
        if dataset_id not in self.catalogue:
            raise GrantRefused(f"{dataset_id!r} is not a dataset of the catalogue (see `exchange schemas list`)")
        async with self._transaction():
            holder = (await self.signatory(signatory_id)).signatory
            approver = await self.find(approved_by) if approved_by else None
            check_grant(holder, dataset_id, personal=self.catalogue[dataset_id].personal, purpose=purpose,
                        legal_basis=legal_basis, approver=approver.signatory if approver else None,
                        approved_by=approved_by, expires=expires, today=self.today())
            grant = Grant(signatory_id, dataset_id, purpose.strip(), legal_basis.strip(), approved_by, expires)
            superseded = [g.id for g in await self.grants(signatory_id, include_revoked=False)
                          if g.dataset == dataset_id]
            gid = await self._insert_grant(grant, by=by, source="cli")
            for old in superseded:
                await self.db.execute("UPDATE grants SET revoked = 1, revoked_at = ?, revoked_by = ?, "
                                      "revoke_reason = ? WHERE id = ?",
                                      (self._stamp(), by, f"superseded by grant {gid}", old))
            await self._event(by, "granted", signatory_id, grant_id=gid, dataset=dataset_id, purpose=grant.purpose,
                              legal_basis=grant.legal_basis, approved_by=approved_by, expires=expires.isoformat(),
                              superseded=superseded)
        return next(g for g in await self.grants(signatory_id) if g.id == gid)

    async def revoke(self, signatory_id: str, dataset_id: str, *, by: str | None = None, reason: str = "") -> list[int]:
        """Revoke every grant of a dataset the signatory holds; returns the revoked grant ids."""
        by = by or default_actor()
        async with self._transaction():
            await self.signatory(signatory_id)
            held = [g.id for g in await self.grants(signatory_id, include_revoked=False) if g.dataset == dataset_id]
            if not held:
                raise NoSuchGrant(f"{signatory_id} holds no grant of {dataset_id} to revoke")
            for gid in held:
                await self.db.execute("UPDATE grants SET revoked = 1, revoked_at = ?, revoked_by = ?, "
                                      "revoke_reason = ? WHERE id = ?", (self._stamp(), by, reason, gid))
            await self._event(by, "revoked", signatory_id, dataset=dataset_id, grant_ids=held, reason=reason)
        return held

    # --- suspension and withdrawal -------------------------------------------------------------

    async def suspend(self, signatory_id: str, reason: str, *, by: str | None = None) -> None:
        """From now on the signatory supplies and receives nothing (its grants are kept)."""
        by = by or default_actor()
        if not (reason or "").strip():
            raise GovernanceError("a suspension must record its reason (e.g. the breach of the ISP)")
        async with self._transaction():
            record = await self.signatory(signatory_id)
            await self._set_status(signatory_id, next_status(signatory_id, record.status, "suspend"))
            await self.db.execute("INSERT INTO suspensions (signatory, reason, suspended_at, suspended_by) "
                                  "VALUES (?,?,?,?)", (signatory_id, reason.strip(), self._stamp(), by))
            await self._event(by, "suspended", signatory_id, reason=reason.strip())

    async def reinstate(self, signatory_id: str, *, by: str | None = None, note: str = "") -> None:
        """Lift a suspension: the signatory is active again and its grants in force apply."""
        by = by or default_actor()
        async with self._transaction():
            record = await self.signatory(signatory_id)
            await self._set_status(signatory_id, next_status(signatory_id, record.status, "reinstate"))
            await self.db.execute("UPDATE suspensions SET reinstated_at = ?, reinstated_by = ? "
                                  "WHERE signatory = ? AND reinstated_at IS NULL", (self._stamp(), by, signatory_id))
            await self._event(by, "reinstated", signatory_id, note=note)

    async def withdraw(self, signatory_id: str, *, by: str | None = None, reason: str = "") -> None:
        """The signatory leaves the ISP, for good: it supplies and receives nothing from now on."""
        by = by or default_actor()
        async with self._transaction():
            record = await self.signatory(signatory_id)
            await self._set_status(signatory_id, next_status(signatory_id, record.status, "withdraw"))
            await self._event(by, "withdrawn", signatory_id, previous_status=record.status, reason=reason)

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
                                       d["operation"], d["permission"], d["host"], self._stamp()))
            for b in deleted + forget:
                d = b.as_dict()
                await self.db.execute("DELETE FROM acl_owned WHERE principal=? AND resource_type=? AND pattern_type=? "
                                      "AND resource_name=? AND operation=? AND permission=? AND host=?",
                                      (d["principal"], d["resource_type"], d["pattern_type"], d["resource_name"],
                                       d["operation"], d["permission"], d["host"]))
            await self._event(by, "acls_applied", "broker", created=[str(b) for b in created],
                              deleted=[str(b) for b in deleted], forgotten=[str(b) for b in forget])


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


async def open_live_partnership(path: str | Path, base: Partnership, *, actor: str = "partnership config",
                                **options: Any) -> tuple[Partnership, SyncReport]:
    """Sync the config into the registry at `path` (creating it) and return the effective partnership."""
    async with Registry(path, **options) as registry:
        report = await registry.sync_from_config(base, actor=actor)
        return await registry.effective_partnership(base), report


def partnership_source(path: str | Path, base: Partnership) -> Callable[[], Awaitable[Partnership]]:
    """For SanitiserService(partnership_source=...): reads the registry afresh on each call."""

    async def source() -> Partnership:
        async with Registry(path) as registry:
            return await registry.effective_partnership(base)

    return source
