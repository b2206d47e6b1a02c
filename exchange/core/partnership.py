"""The Information Sharing Protocol as data: signatories, tiers, grants, and the decisions that
follow from them. Pure: `Partnership.from_toml` parses text; nothing here does I/O.

The tier rules are stated once, in TIERS (docs/design.md, Tiers and access); the registry's
grant checks, the recipient sets and the broker ACLs all ask `tier_permits`. Only active
signatories supply or receive; an expired grant yields nothing. Every Decision carries the
ReasonCode a refusal is recorded under.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exchange.core.config_files import K_MINIMUM, PartnershipFile, validated
from exchange.core.marking import DEFAULT_LEGACY_MAP, marking_is_above_official, parse_marking
from exchange.core.names import SANITISER_ID, default_principal
from exchange.core.public_keys import PublicKeys
from exchange.errors import ConfigError, ReasonCode, Refused

__all__ = [
    "KINDS", "RESPONSIBLE_AUTHORITY", "STATUSES", "TIERS", "allow", "Decision", "Grant", "load_partnership",
    "Partnership", "refuse", "Signatory", "Tier", "tier_permits",
]

STATUSES = ("proposed", "active", "suspended", "withdrawn")
KINDS = ("responsible_authority", "co_operating_body", "other")
RESPONSIBLE_AUTHORITY = "responsible_authority"


@dataclass(frozen=True, slots=True)
class Tier:
    """What a tier of the Information Sharing Protocol may receive."""

    number: int
    name: str
    record_level: bool  # any record-level dataset at all (tier 3 receives aggregates only)
    personal: bool  # personal datasets (with purpose, legal basis and expiry)

    @property
    def label(self) -> str:
        return f"{self.number} ({self.name})"


TIERS: Mapping[int, Tier] = {
    1: Tier(1, "core", record_level=True, personal=True),
    2: Tier(2, "associate", record_level=True, personal=False),
    3: Tier(3, "scrutiny", record_level=False, personal=False),
}


@dataclass(frozen=True, slots=True)
class Signatory:
    id: str
    name: str
    kind: str
    tier: int
    status: str
    principal: str
    keys: PublicKeys
    supplies: frozenset[str] = frozenset()
    liaison_officer: str = ""

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class Grant:
    signatory: str
    dataset: str
    purpose: str
    legal_basis: str
    approved_by: str
    expires: dt.date
    without_consent: bool = False  # the legal basis permits sharing without consent (ISP 5.1-5.4)
    fields: frozenset[str] = frozenset()  # need to know: the optional fields released (empty: all)
    areas: frozenset[str] = frozenset()  # postcode districts / sectors covered (empty: everywhere)

    def in_force(self, today: dt.date) -> bool:
        return today <= self.expires


@dataclass(frozen=True, slots=True)
class Decision:
    """Allowed or not, why, and (when refused) the code the refusal is recorded under."""

    allowed: bool
    reason: str
    code: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def allow(reason: str) -> Decision:
    return Decision(True, reason)


def refuse(code: str, reason: str) -> Decision:
    return Decision(False, reason, code)


def tier_permits(tier: int, *, personal: bool) -> Decision:
    """The tier rule, the one statement of it: may a signatory of this tier hold this kind of dataset?"""
    rules = TIERS[tier]
    if not rules.record_level:
        return refuse("aggregates_only", f"tier {rules.label} receives aggregates only")
    if personal and not rules.personal:
        return refuse("tier_not_permitted", f"tier {tier} may not receive personal datasets")
    return allow(f"tier {rules.label}")


@dataclass(frozen=True)
class Partnership:
    name: str
    k_households: int
    retention_days: int
    sanitiser: PublicKeys
    signatories: Mapping[str, Signatory]
    grants: tuple[Grant, ...]
    legacy_markings: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LEGACY_MAP))
    release_markings: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # said on every start (a k below the guidance's minimum, say)
    # (originator, dataset) -> the marking the originator declared its depersonalised form may carry
    depersonalised_markings: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # (originator, dataset) -> days its records are kept (the originator's policy; else retention_days)
    retention_policies: Mapping[tuple[str, str], int] = field(default_factory=dict)
    # pseudonym domain -> the originators whose references in it link (declared with a legal basis)
    linkage_domains: Mapping[str, frozenset[str]] = field(default_factory=dict)
    aggregate_recipients: tuple[str, ...] = ()  # who receives the aggregate tables ([aggregates])
    aggregate_threshold: int = 5

    # --- decisions ---------------------------------------------------------------------------

    def signatory(self, signatory_id: str) -> Signatory:
        try:
            return self.signatories[signatory_id]
        except KeyError:
            raise ConfigError(f"{signatory_id!r} is not a signatory of {self.name}") from None

    def may_supply(self, producer: str, dataset: str) -> Decision:
        signatory = self.signatories.get(producer)
        if signatory is None:
            return refuse(ReasonCode.UNKNOWN_PRODUCER, f"{producer!r} is not a signatory")
        if not signatory.active:
            return refuse(ReasonCode.PRODUCER_INACTIVE, f"{producer!r} is {signatory.status}, not active")
        if dataset not in signatory.supplies:
            return refuse(ReasonCode.PRODUCER_NOT_ALLOWED, f"{producer!r} is not registered to supply {dataset}")
        return allow("registered supplier")

    def may_receive(self, signatory_id: str, dataset: str, *, personal: bool, today: dt.date) -> Decision:
        signatory = self.signatories.get(signatory_id)
        if signatory is None:
            return refuse("not_a_signatory", f"{signatory_id!r} is not a signatory")
        if not signatory.active:
            return refuse("not_active", f"{signatory_id!r} is {signatory.status}")
        by_tier = tier_permits(signatory.tier, personal=personal)
        if not by_tier:
            return by_tier
        grants = [g for g in self.grants if g.signatory == signatory_id and g.dataset == dataset]
        if not grants:
            return refuse("no_grant", f"no grant of {dataset} to {signatory_id!r}")
        live = [g for g in grants if g.in_force(today)]
        if not live:
            return refuse("grant_expired",
                          f"grant of {dataset} to {signatory_id!r} expired {max(g.expires for g in grants)}")
        if personal and not all(g.purpose and g.legal_basis for g in live):
            return refuse("grant_conditions_missing",
                          f"grant of personal dataset {dataset} lacks a purpose or legal basis")
        return allow(live[0].purpose)

    def aggregates_for(self) -> tuple[Signatory, ...]:
        """Who receives the aggregate tables today: the active signatories [aggregates] names."""
        named = (self.signatories.get(s) for s in sorted(self.aggregate_recipients))
        return tuple(s for s in named if s is not None and s.active)

    def may_receive_without_consent(self, signatory_id: str, dataset: str, today: dt.date) -> bool:
        """A record whose consent was withheld may reach this signatory only under a grant in force
        whose legal basis permits sharing without consent (ISP 5.1-5.4)."""
        return any(g.without_consent and g.legal_basis and g.in_force(today) for g in self.grants
                   if g.signatory == signatory_id and g.dataset == dataset)

    def recipients(self, dataset: str, *, personal: bool, today: dt.date) -> tuple[Signatory, ...]:
        """Everyone who may open the shared form of a dataset today, in id order."""
        return tuple(
            s for s in sorted(self.signatories.values(), key=lambda s: s.id)
            if self.may_receive(s.id, dataset, personal=personal, today=today)
        )

    def grant_for(self, signatory_id: str, dataset: str, today: dt.date) -> Grant | None:
        for grant in self.grants:
            if grant.signatory == signatory_id and grant.dataset == dataset and grant.in_force(today):
                return grant
        return None

    def pseudonym_scope(self, domain: str, originator: str, *, linkage_allowed: bool) -> str:
        """The key a pseudonym is made under: the domain within the originator, so equal references
        from two agencies never join (nor can one agency's records probe another's tokens); a
        declared linkage domain is shared by its originators, where the release allows linkage
        (every recipient tier 1)."""
        if linkage_allowed and originator in self.linkage_domains.get(domain, frozenset()):
            return f"linkage/{domain}"
        return f"{originator}/{domain}"

    def destroy_by(self, originator: str, dataset: str, today: dt.date, *, personal: bool) -> dt.date:
        """When a record shared today must be destroyed: after the originator's retention period
        for the dataset (the partnership's default otherwise); a personal record no later than the
        last grant in force that lets anyone receive it."""
        days = self.retention_policies.get((originator, dataset), self.retention_days)
        destroy_by = today + dt.timedelta(days=days)
        if personal:
            ends = [g.expires for g in self.grants if g.dataset == dataset and g.in_force(today)]
            destroy_by = min([destroy_by, *ends]) if ends else today
        return destroy_by

    def producers(self) -> dict[str, bytes]:
        """Signature keys of everyone whose envelopes may be verified: active signatories and the sanitiser."""
        keys = {s.id: s.keys.ed25519 for s in self.signatories.values() if s.active}
        keys[SANITISER_ID] = self.sanitiser.ed25519
        return keys

    def supplied_datasets(self) -> frozenset[str]:
        return frozenset(d for s in self.signatories.values() for d in s.supplies)

    # --- parsing -----------------------------------------------------------------------------

    @classmethod
    def from_toml(cls, text: str, *, origin: str = "<partnership>") -> Partnership:
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{origin}: not valid TOML ({exc})") from exc
        return cls.from_mapping(document, origin=origin)

    @classmethod
    def from_mapping(cls, document: Mapping[str, Any], *, origin: str = "<partnership>") -> Partnership:
        """Checked against the declared shape first (exchange.core.config_files), then the rules."""
        checked = validated(PartnershipFile, document, origin=origin)
        signatories: dict[str, Signatory] = {}
        for entry in checked.signatory:
            where = f"signatory {entry.id!r}"
            if entry.id in signatories or entry.id == SANITISER_ID:
                raise ConfigError(f"{origin}: {where} is defined twice or uses a reserved id")
            signatories[entry.id] = Signatory(
                id=entry.id, name=entry.name, kind=entry.kind, tier=entry.tier, status=entry.status,
                principal=entry.principal or default_principal(entry.id),
                keys=PublicKeys.from_config(entry.x25519, entry.ed25519, owner=where),
                supplies=frozenset(entry.supplies), liaison_officer=entry.liaison_officer,
            )
        unknown = [r for r in checked.aggregates.recipients if r not in signatories]
        if unknown:
            raise ConfigError(f"{origin}: aggregates.recipients names unknown signatory {unknown[0]!r}")
        grants = []
        for index, item in enumerate(checked.grant, start=1):
            if item.signatory not in signatories:
                raise ConfigError(f"{origin}: grant[{index}] names unknown signatory {item.signatory!r}")
            grants.append(Grant(signatory=item.signatory, dataset=item.dataset, purpose=item.purpose,
                                legal_basis=item.legal_basis, approved_by=item.approved_by, expires=item.expires,
                                without_consent=item.without_consent, fields=frozenset(item.fields),
                                areas=frozenset(item.areas)))
        meta = checked.partnership
        warnings = []
        if meta.k_households < K_MINIMUM:
            if not meta.k_below_minimum_acknowledged:
                raise ConfigError(f"{origin}: partnership.k_households = {meta.k_households} is below the guidance's "
                                  f"minimum of {K_MINIMUM} households; set k_below_minimum_acknowledged = true "
                                  "to record that the partnership decided so")
            warnings.append(f"k_households = {meta.k_households} is below the guidance's minimum of {K_MINIMUM} "
                            f"(acknowledged in {origin})")
        legacy = dict(DEFAULT_LEGACY_MAP)
        for marking, maps_to in checked.markings.legacy.items():
            legacy[marking] = _checked_legacy(marking, maps_to, origin)
        declared = {}
        for originator, datasets in checked.markings.depersonalised.items():
            for dataset_id, marking in datasets.items():
                where = f"{origin}: markings.depersonalised.{originator}.{dataset_id}"
                try:
                    parse_marking(marking, legacy)
                except Refused as exc:
                    raise ConfigError(f"{where}: {marking!r} is not a marking the exchange can carry "
                                      f"({exc.reason_code})") from None
                declared[(originator, dataset_id)] = marking
        return cls(
            name=meta.name, k_households=meta.k_households, retention_days=meta.retention_days,
            sanitiser=PublicKeys.from_config(checked.sanitiser.x25519, checked.sanitiser.ed25519, owner="[sanitiser]"),
            signatories=signatories, grants=tuple(grants), legacy_markings=legacy,
            release_markings=dict(checked.markings.release), warnings=tuple(warnings),
            depersonalised_markings=declared,
            retention_policies={(originator, dataset_id): days for originator, datasets in checked.retention.items()
                                for dataset_id, days in datasets.items()},
            linkage_domains={entry.domain: frozenset(entry.originators) for entry in checked.linkage},
            aggregate_recipients=tuple(checked.aggregates.recipients), aggregate_threshold=checked.aggregates.threshold,
        )


def _checked_legacy(marking: str, maps_to: str, origin: str) -> str:
    """A legacy marking may map only onto OFFICIAL or OFFICIAL-SENSITIVE, and nothing above OFFICIAL
    may be mapped at all: lowering a marking the originator set is not the exchange's to do."""
    where = f"{origin}: markings.legacy.{marking!r}"
    if marking_is_above_official(marking):
        raise ConfigError(f"{where}: {marking!r} is above OFFICIAL; it cannot be mapped down, only refused")
    try:
        parse_marking(maps_to, {})
    except Refused as exc:
        raise ConfigError(f"{where}: maps to {maps_to!r}, which is not a classification the exchange can carry "
                          f"({exc.reason_code})") from None
    return maps_to


def load_partnership(path: str | os.PathLike[str]) -> Partnership:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read partnership config ({exc.strerror})") from exc
    return Partnership.from_toml(text, origin=str(path))

