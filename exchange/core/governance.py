"""The governance rules of the Information Sharing Protocol, without storage: which status
changes are allowed (one table), who may approve an admission, and whether a grant keeps the
tier and consent rules. exchange.storage.registry applies them inside its transactions.

    action      from                          to
    approve     proposed                      active (once every active responsible authority approved)
    suspend     active                        suspended
    reinstate   suspended                     active
    withdraw    proposed, active, suspended   withdrawn
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exchange.core.partnership import (
    RESPONSIBLE_AUTHORITY,
    Grant,
    Signatory,
    tier_permits,
)
from exchange.errors import (
    AggregatesOnly,
    ApprovalRefused,
    GrantConditionsMissing,
    GrantRefused,
    OriginatorApprovalRequired,
    StatusChangeRefused,
    TierNotPermitted,
)

__all__ = [
    "TRANSITIONS", "Approval", "ApprovalResult", "Event", "GrantRecord", "SignatoryRecord", "Suspension", "SyncReport",
    "Transition", "check_approver", "check_grant", "next_status",
]


@dataclass(frozen=True, slots=True)
class Transition:
    allowed_from: frozenset[str]
    to: str
    refusal: str  # completes "<id> is <status>: ..." when the signatory is in another status


TRANSITIONS: Mapping[str, Transition] = {
    "approve": Transition(frozenset({"proposed"}), "active", "only a proposed signatory can be approved"),
    "suspend": Transition(frozenset({"active"}), "suspended", "only an active signatory can be suspended"),
    "reinstate": Transition(frozenset({"suspended"}), "active", "only a suspended signatory can be reinstated"),
    "withdraw": Transition(frozenset({"proposed", "active", "suspended"}), "withdrawn", "it has already withdrawn"),
}


def next_status(signatory_id: str, status: str, action: str) -> str:
    """The status `action` leads to from `status`; StatusChangeRefused if the table does not allow it."""
    transition = TRANSITIONS[action]
    if status not in transition.allowed_from:
        if status == "withdrawn" and action == "withdraw":
            raise StatusChangeRefused(f"{signatory_id} has already withdrawn")
        raise StatusChangeRefused(f"{signatory_id} is {status}: {transition.refusal}")
    return transition.to


def check_approver(candidate: str, approver: Signatory | None, by: str) -> None:
    """Only an active responsible authority may approve the admission of a new signatory."""
    if approver is None:
        raise ApprovalRefused(f"{by!r} is not a signatory, so it cannot approve {candidate}")
    if approver.kind != RESPONSIBLE_AUTHORITY:
        raise ApprovalRefused(f"{approver.name} ({by}) is a {approver.kind.replace('_', ' ')}, "
                              f"not a responsible authority: only responsible authorities approve new signatories")
    if approver.status != "active":
        raise ApprovalRefused(f"{approver.name} ({by}) is {approver.status}: only an active "
                              "responsible authority may approve a new signatory")


def check_grant(signatory: Signatory, dataset_id: str, *, personal: bool, purpose: str, legal_basis: str,
                approver: Signatory | None, approved_by: str, expires: dt.date | None,
                today: dt.date | None = None) -> None:
    """Raise a GrantRefused subclass if this grant breaks the ISP's rules. `today` given: the
    grant must expire after it (new grants); None: expiry is not checked against today (imports)."""
    who = f"{signatory.name} ({signatory.id}, tier {signatory.tier})"
    if signatory.status in ("suspended", "withdrawn"):
        raise GrantRefused(f"{who} is {signatory.status}: nothing can be granted to it"
                           + (" until it is reinstated" if signatory.status == "suspended" else ""))
    by_tier = tier_permits(signatory.tier, personal=personal)
    if by_tier.code == "aggregates_only":
        raise AggregatesOnly(f"{who} is a tier 3 (scrutiny) signatory: it receives aggregates only, so no "
                             f"record-level dataset such as {dataset_id} can be granted to it")
    if not by_tier:
        raise TierNotPermitted(f"{dataset_id} is a personal dataset; only tier 1 (core) signatories may receive "
                               f"personal data, and {who} is tier {signatory.tier} (depersonalised datasets only)")
    if not (purpose or "").strip():
        raise GrantConditionsMissing(f"a grant of {dataset_id} to {signatory.id} must record the purpose it "
                                     "is shared for (it travels with every record as the permitted purpose)")
    if personal and not (legal_basis or "").strip():
        raise GrantConditionsMissing(f"{dataset_id} is a personal dataset: the grant to {signatory.id} must record "
                                     "its legal basis (e.g. Crime and Disorder Act 1998 s.115)")
    if expires is None:
        raise GrantConditionsMissing(f"a grant of {dataset_id} to {signatory.id} must have an expiry date")
    if today is not None and expires <= today:
        raise GrantConditionsMissing(f"the expiry date {expires.isoformat()} of the grant of {dataset_id} to "
                                     f"{signatory.id} is not after today ({today.isoformat()})")
    if not approved_by:
        raise OriginatorApprovalRequired(f"a grant of {dataset_id} must name the approving originator "
                                         f"(a signatory that supplies {dataset_id})")
    if approver is None:
        raise OriginatorApprovalRequired(f"the approving originator {approved_by!r} is not a signatory")
    if dataset_id not in approver.supplies:
        raise OriginatorApprovalRequired(f"{approver.name} ({approver.id}) does not supply {dataset_id}, so it "
                                         f"cannot approve its sharing: the originator of the data must")
    if not approver.active:
        raise OriginatorApprovalRequired(f"the approving originator {approver.id} is {approver.status}, not active")


# --- what the registry holds, as values -----------------------------------------------------


@dataclass(frozen=True)
class Approval:
    candidate: str
    approver: str
    approved_at: str


@dataclass(frozen=True)
class GrantRecord:
    id: int
    signatory: str
    dataset: str
    purpose: str
    legal_basis: str
    approved_by: str
    expires: dt.date
    granted_at: str
    granted_by: str
    source: str
    revoked: bool
    revoked_at: str | None
    revoked_by: str | None
    revoke_reason: str | None
    without_consent: bool = False  # the signed legal basis permits sharing without consent (ISP 5.1-5.4)
    fields: frozenset[str] = frozenset()  # the view released (exchange.core.views): optional fields ...
    areas: frozenset[str] = frozenset()  # ... and postcode districts / sectors; empty: all

    def state(self, today: dt.date) -> str:
        if self.revoked:
            return "revoked"
        return "in force" if today <= self.expires else "expired"

    def as_grant(self) -> Grant:
        return Grant(signatory=self.signatory, dataset=self.dataset, purpose=self.purpose,
                     legal_basis=self.legal_basis, approved_by=self.approved_by, expires=self.expires,
                     without_consent=self.without_consent, fields=self.fields, areas=self.areas)

    def as_dict(self, today: dt.date) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["expires"] = self.expires.isoformat()
        data["state"] = self.state(today)
        data["fields"], data["areas"] = sorted(self.fields), sorted(self.areas)
        return data


@dataclass(frozen=True)
class Suspension:
    signatory: str
    reason: str
    suspended_at: str
    suspended_by: str
    reinstated_at: str | None
    reinstated_by: str | None


@dataclass(frozen=True)
class Event:
    id: int
    at: str
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class SignatoryRecord:
    signatory: Signatory
    source: str
    created_at: str
    status_changed_at: str

    @property
    def id(self) -> str:
        return self.signatory.id

    @property
    def status(self) -> str:
        return self.signatory.status

    def as_dict(self) -> dict[str, Any]:
        s = self.signatory
        return {"id": s.id, "name": s.name, "kind": s.kind, "tier": s.tier, "status": s.status,
                "principal": s.principal, **s.keys.as_config(), "supplies": sorted(s.supplies),
                "liaison_officer": s.liaison_officer, "source": self.source, "created_at": self.created_at,
                "status_changed_at": self.status_changed_at}


@dataclass(frozen=True)
class ApprovalResult:
    candidate: str
    approver: str
    activated: bool
    approved_by: tuple[str, ...]
    awaiting: tuple[str, ...]


@dataclass
class SyncReport:
    added_signatories: list[str] = dataclasses.field(default_factory=list)
    added_grants: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    refused_grants: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)  # signatory, dataset, why
    differences: list[str] = dataclasses.field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added_signatories or self.added_grants)
