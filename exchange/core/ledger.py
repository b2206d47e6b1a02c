"""The partnership's governance as a chain of signed decisions, and the rules each must keep.

Every decision (found, propose, approve, grant, revoke, suspend, reinstate, withdraw, rekey) is
a `Decision`: what is decided, about whom, on what terms, by which person in which role, when,
and the hash of the decision before it. It is signed with the Ed25519 key of each signatory
that decides it. `Ledger.apply` checks one decision against the state the chain has reached
(right place in the chain, right signers, valid signatures, the ISP's rules) and only then
changes the state; `Ledger.replay` does so from the founding decision, so the registry, the
sanitiser, every feed and every agent derive the same partnership from the same chain.

Who must sign (every signature is checked against the key the signer holds at that point):

    found      every active responsible authority of the founding config, and the approving
               originator of each grant it declares. A site's trust anchor is the founding
               responsible authorities' public keys: a chain whose founders differ is refused.
    propose    any active signatory (the proposer). The candidate is "proposed".
    approve    one active responsible authority, naming the decision it approves (a proposal
               or a rekey awaiting approval). When every active responsible authority other
               than the subject has approved, the candidate is active (or its keys replaced).
    grant      the approving originator: an active signatory that supplies the dataset. Its
               signature is its consent; purpose, legal basis, expiry and whether the legal
               basis permits sharing without consent are signed terms.
    revoke     the grant's approving originator or an active responsible authority.
    suspend, reinstate
               an active responsible authority other than the subject.
    withdraw   the signatory itself or an active responsible authority.
    rekey      always the new key (proof that the signatory holds it), and the old key; without
               the old key (lost) the new keys wait for every active responsible authority's
               approval, like an admission.

Pure: signatures are checked through the `Verify` function the caller passes
(exchange.crypto.decisions.verify_signature); nothing here does I/O.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from exchange.core.acl import check_principal
from exchange.core.governance import (
    Approval,
    Event,
    GrantRecord,
    SignatoryRecord,
    Suspension,
    check_approver,
    check_grant,
    next_status,
)
from exchange.core.names import PARTY_ID_RE, SANITISER_ID, default_principal
from exchange.core.partnership import KINDS, RESPONSIBLE_AUTHORITY, Grant, Partnership, Signatory
from exchange.core.public_keys import PublicKeys, b64, unb64
from exchange.core.schemas import Catalogue
from exchange.core.views import check_view
from exchange.errors import (
    ConfigError,
    DecisionRefused,
    GovernanceError,
    GrantRefused,
    InvalidProposal,
    NoSuchGrant,
    SignatoryExists,
    StatusChangeRefused,
    UnknownSignatory,
)

__all__ = ["ACTIONS", "DECISION_FORMAT", "Decision", "Ledger", "Pending", "Signature", "TrustAnchor", "Verify",
           "canonical"]

DECISION_FORMAT = "csp-exchange-decision/1"
ACTIONS = ("found", "propose", "approve", "grant", "revoke", "suspend", "reinstate", "withdraw", "rekey")

# verify(ed25519 public key, signed bytes, signature) -> whether the signature is good
Verify = Callable[[bytes, bytes, bytes], bool]


def canonical(value: Any) -> bytes:
    """The one byte form of a JSON value that is signed and hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Signature:
    signer: str  # the signatory's id
    key: str  # base64 of the Ed25519 public key that made it
    value: str  # base64 of the signature over Decision.signed_bytes()

    def as_dict(self) -> dict[str, str]:
        return {"signer": self.signer, "key": self.key, "value": self.value}


@dataclass(frozen=True)
class Decision:
    version: int  # its place in the chain: 1 is the founding decision
    previous: str  # Decision.digest() of the decision before it ("" for the founding one)
    action: str
    subject: str  # the signatory it concerns (the partnership's name for "found")
    terms: Mapping[str, Any]  # JSON values: what exactly is decided
    person: str  # the person who acted
    role: str  # in what capacity
    at: str  # when, ISO 8601 UTC, to the second
    signatures: tuple[Signature, ...] = ()

    def _body(self) -> dict[str, Any]:
        return {"format": DECISION_FORMAT, "version": self.version, "previous": self.previous, "action": self.action,
                "subject": self.subject, "terms": dict(self.terms), "person": self.person, "role": self.role,
                "at": self.at}

    def signed_bytes(self) -> bytes:
        """What each signer signs: everything but the signatures."""
        return canonical(self._body())

    def as_dict(self) -> dict[str, Any]:
        return {**self._body(), "signatures": [s.as_dict() for s in self.signatures]}

    def to_json(self) -> str:
        return canonical(self.as_dict()).decode("utf-8")

    def digest(self) -> str:
        """The hash the next decision names as `previous`: over the signatures too."""
        return hashlib.sha256(canonical(self.as_dict())).hexdigest()

    def signed_with(self, signature: Signature) -> Decision:
        return dataclasses.replace(self, signatures=(*self.signatures, signature))

    @property
    def date(self) -> dt.date:
        return dt.datetime.fromisoformat(self.at).date()

    @property
    def actor(self) -> str:
        """Who acted, in words: person (role), for signatory, for the history."""
        signers = ", ".join(dict.fromkeys(s.signer for s in self.signatures))
        return f"{self.person} ({self.role}) for {signers}" if self.role else f"{self.person} for {signers}"

    @classmethod
    def from_json(cls, text: str | bytes, *, origin: str = "decision") -> Decision:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise DecisionRefused(f"{origin}: not JSON ({exc.__class__.__name__})") from None
        return cls.from_dict(data, origin=origin)

    @classmethod
    def from_dict(cls, data: Any, *, origin: str = "decision") -> Decision:
        if not isinstance(data, dict) or data.get("format") != DECISION_FORMAT:
            raise DecisionRefused(f"{origin}: not a {DECISION_FORMAT} decision")
        try:
            signatures = tuple(Signature(str(s["signer"]), str(s["key"]), str(s["value"]))
                               for s in data["signatures"])
            decision = cls(version=int(data["version"]), previous=str(data["previous"]), action=str(data["action"]),
                           subject=str(data["subject"]), terms=dict(data["terms"]), person=str(data["person"]),
                           role=str(data["role"]), at=str(data["at"]), signatures=signatures)
            decision.date  # noqa: B018 - a timestamp that does not parse is refused here
        except (KeyError, TypeError, ValueError) as exc:
            raise DecisionRefused(f"{origin}: malformed decision ({exc.__class__.__name__}: {exc})") from None
        if decision.action not in ACTIONS:
            raise DecisionRefused(f"{origin}: unknown action {decision.action!r}")
        return decision


@dataclass(frozen=True, slots=True)
class TrustAnchor:
    """What a site is configured with once: the partnership's name and the Ed25519 public keys of
    its founding responsible authorities. A chain is believed only if its founding decision was
    signed by exactly these authorities with exactly these keys."""

    partnership: str
    authorities: Mapping[str, bytes]  # founding responsible authority id -> Ed25519 public key

    def as_dict(self) -> dict[str, Any]:
        return {"format": "csp-exchange-trust-anchor/1", "partnership": self.partnership,
                "responsible_authorities": {sid: b64(key) for sid, key in sorted(self.authorities.items())}}

    @classmethod
    def from_dict(cls, data: Any, *, origin: str = "trust anchor") -> TrustAnchor:
        if not isinstance(data, dict) or data.get("format") != "csp-exchange-trust-anchor/1":
            raise ConfigError(f"{origin}: not a csp-exchange-trust-anchor/1 file")
        try:
            authorities = {str(sid): unb64(str(key), what=f"{origin}: key of {sid}", length=32, error=ConfigError)
                           for sid, key in dict(data["responsible_authorities"]).items()}
            anchor = cls(str(data["partnership"]), authorities)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{origin}: malformed trust anchor ({exc.__class__.__name__})") from None
        if not anchor.authorities:
            raise ConfigError(f"{origin}: names no responsible authority")
        return anchor


@dataclass(frozen=True, slots=True)
class Pending:
    """A decision waiting for the approval of every active responsible authority."""

    kind: str  # "admission" or "rekey"
    decision: str  # the digest of the proposal or rekey decision approvals must name
    keys: PublicKeys  # the keys that take effect on approval
    approvals: Mapping[str, str] = field(default_factory=dict)  # approver -> when


class Ledger:
    """The state a chain of decisions has reached. `apply` checks a decision fully before it
    changes anything, so a refused decision (GovernanceError) leaves the state as it was."""

    def __init__(self, catalogue: Catalogue, verify: Verify, *, anchor: TrustAnchor | None = None):
        self.catalogue = catalogue
        self._verify = verify
        self.anchor = anchor
        self.version = 0
        self.head = ""
        self.last_at = ""
        self.founding_config = ""  # the ISP config (TOML) the founding decision signed
        self.base: Partnership | None = None
        self.records: dict[str, SignatoryRecord] = {}
        self.grants: list[GrantRecord] = []
        self.pending: dict[str, Pending] = {}
        self.approvals: list[Approval] = []
        self.suspensions: list[Suspension] = []
        self.events: list[Event] = []
        self.not_imported: list[tuple[str, str, str]] = []  # founding grants refused: signatory, dataset, why

    @classmethod
    def replay(cls, decisions: Iterable[Decision], catalogue: Catalogue, verify: Verify, *,
               anchor: TrustAnchor | None = None) -> Ledger:
        ledger = cls(catalogue, verify, anchor=anchor)
        for decision in decisions:
            ledger.apply(decision)
        return ledger

    # --- what the chain says --------------------------------------------------------------

    @property
    def founded(self) -> bool:
        return self.version > 0

    def signatory(self, signatory_id: str) -> Signatory:
        record = self.records.get(signatory_id)
        if record is None:
            raise UnknownSignatory(f"{signatory_id!r} is not a signatory of the partnership "
                                   "(see `exchange signatory list`)")
        return record.signatory

    def responsible_authorities(self) -> list[str]:
        return sorted(sid for sid, r in self.records.items()
                      if r.signatory.kind == RESPONSIBLE_AUTHORITY and r.signatory.active)

    def awaiting(self, subject: str) -> tuple[str, ...]:
        pending = self.pending.get(subject)
        if pending is None:
            return ()
        return tuple(ra for ra in self.responsible_authorities() if ra != subject and ra not in pending.approvals)

    def signer_for(self, public_ed25519: bytes) -> str | None:
        """The signatory whose current signing key this is, if any."""
        return next((sid for sid, r in sorted(self.records.items()) if r.signatory.keys.ed25519 == public_ed25519),
                    None)

    def partnership(self, base: Partnership | None = None) -> Partnership:
        """The Partnership the services act on: the founding config's settings (or `base`'s), with
        the signatories, statuses, keys and grants (less revoked ones) the chain has reached."""
        settings = base or self.base
        if settings is None:
            raise GovernanceError("the governance chain holds no founding decision yet")
        signatories = {sid: r.signatory for sid, r in self.records.items()}
        grants = tuple(g.as_grant() for g in self.grants if not g.revoked and g.signatory in signatories)
        return dataclasses.replace(settings, signatories=signatories, grants=grants)

    def trust_anchor(self) -> TrustAnchor:
        """The founding responsible authorities' keys: what every site is configured with."""
        if not self.events:
            raise GovernanceError("the governance chain holds no founding decision yet")
        founders = self.events[0].detail["founding_authorities"]
        return TrustAnchor(self.base.name if self.base else "",
                           {sid: unb64(key, what=sid, length=32) for sid, key in founders.items()})

    # --- applying one decision ------------------------------------------------------------

    def apply(self, decision: Decision) -> None:
        where = f"decision {decision.version} ({decision.action} {decision.subject})"
        if decision.version != self.version + 1 or decision.previous != self.head:
            raise DecisionRefused(f"{where}: does not follow the chain at version {self.version} "
                                  f"(head {self.head[:12] or 'none'}): it was made against another state; "
                                  "prepare it again")
        if self.last_at and decision.at < self.last_at:
            raise DecisionRefused(f"{where}: dated {decision.at}, before the decision it follows ({self.last_at})")
        if not decision.person.strip():
            raise DecisionRefused(f"{where}: names no acting person")
        if (decision.action == "found") != (self.version == 0):
            raise DecisionRefused(f"{where}: a chain begins with, and only with, the founding decision")
        handler = getattr(self, f"_{decision.action}")
        commit = handler(decision, where)  # checks everything, returns the change to make
        outcome = commit()  # what the change adds to the history event
        self.version, self.head, self.last_at = decision.version, decision.digest(), decision.at
        detail = dict(decision.terms)
        detail.pop("config_toml", None)
        self.events.append(Event(decision.version, decision.at, decision.actor, decision.action, decision.subject,
                                 {**detail, **outcome}))

    # --- signatures -------------------------------------------------------------------------

    def _signed_by(self, decision: Decision, signer: str, key: bytes) -> bool:
        body = decision.signed_bytes()
        for signature in decision.signatures:
            if signature.signer != signer or signature.key != b64(key):
                continue
            try:
                value = unb64(signature.value, what="signature", length=64, error=ValueError)
            except ValueError:
                return False
            return self._verify(key, body, value)
        return False

    def _require(self, decision: Decision, where: str, signer: str, *, key: bytes | None = None) -> None:
        """A valid signature by `signer`, with its current key unless `key` is given."""
        if key is None:
            key = self.signatory(signer).keys.ed25519
        if not self._signed_by(decision, signer, key):
            raise DecisionRefused(f"{where}: carries no valid signature by {signer}'s key: refused "
                                  "(a decision is made only with the deciding signatory's own key file)")

    def _only_signer(self, decision: Decision, where: str) -> Signatory:
        """The one signatory that signed, with its current key and validly."""
        signers = {s.signer for s in decision.signatures}
        if len(signers) != 1:
            raise DecisionRefused(f"{where}: must be signed by exactly one signatory, not {len(signers)}")
        signer = signers.pop()
        if signer not in self.records:
            raise DecisionRefused(f"{where}: signed by {signer!r}, who is not a signatory")
        self._require(decision, where, signer)
        return self.signatory(signer)

    def _active_authority(self, decision: Decision, where: str, *, not_subject: bool = True) -> Signatory:
        signer = self._only_signer(decision, where)
        if signer.kind != RESPONSIBLE_AUTHORITY or not signer.active:
            why = "not active" if not signer.active else "not a responsible authority"
            raise DecisionRefused(f"{where}: {signer.id} is {why}: only an active responsible authority decides this")
        if not_subject and signer.id == decision.subject:
            raise DecisionRefused(f"{where}: {signer.id} cannot decide this about itself")
        return signer

    # --- the actions ------------------------------------------------------------------------

    def _found(self, decision: Decision, where: str) -> Callable[[], dict[str, Any]]:
        text = decision.terms.get("config_toml")
        if not isinstance(text, str):
            raise DecisionRefused(f"{where}: carries no partnership config")
        try:
            base = Partnership.from_toml(text, origin="the founding config")
        except ConfigError as exc:
            raise DecisionRefused(f"{where}: {exc}") from None
        founders = {sid: s for sid, s in base.signatories.items() if s.kind == RESPONSIBLE_AUTHORITY and s.active}
        if not founders:
            raise DecisionRefused(f"{where}: the founding config has no active responsible authority")
        if decision.subject != base.name:
            raise DecisionRefused(f"{where}: names partnership {decision.subject!r}, the config {base.name!r}")
        if self.anchor is not None:
            keys = {sid: s.keys.ed25519 for sid, s in founders.items()}
            if self.anchor.partnership != base.name or dict(self.anchor.authorities) != keys:
                raise DecisionRefused(f"{where}: its founding responsible authorities and keys are not this site's "
                                      "trust anchor: this is not the partnership the site was configured for")
        for sid, signatory in founders.items():
            if not self._signed_by(decision, sid, signatory.keys.ed25519):
                raise DecisionRefused(f"{where}: not signed by founding responsible authority {sid}: every one "
                                      "must sign the founding decision")
        others = list(base.signatories.values())
        for signatory in others:
            _check_new_signatory(signatory, [o for o in others if o.id != signatory.id], self.catalogue)
        imported: list[Grant] = []
        refused: list[tuple[str, str, str]] = []
        for grant in base.grants:
            try:
                if grant.dataset not in self.catalogue:
                    raise GrantRefused(f"{grant.dataset!r} is not a dataset of the catalogue")
                originator = base.signatories.get(grant.approved_by)
                check_grant(base.signatories[grant.signatory], grant.dataset,
                            personal=self.catalogue[grant.dataset].personal, purpose=grant.purpose,
                            legal_basis=grant.legal_basis, approver=originator, approved_by=grant.approved_by,
                            expires=grant.expires, today=None)
                if originator is None or not self._signed_by(decision, originator.id, originator.keys.ed25519):
                    raise GrantRefused(f"its approving originator {grant.approved_by} did not sign the founding "
                                       "decision (its signature is its consent)")
                if any(g.signatory == grant.signatory and g.dataset == grant.dataset for g in imported):
                    raise GrantRefused("the config grants it twice")
                view = check_view(self.catalogue[grant.dataset], grant.fields, grant.areas)
                grant = dataclasses.replace(grant, fields=view.fields, areas=view.areas)
            except GrantRefused as exc:
                refused.append((grant.signatory, grant.dataset, str(exc)))
                continue
            imported.append(grant)

        def commit() -> dict[str, Any]:
            self.founding_config, self.base = text, base
            for sid, s in base.signatories.items():
                self.records[sid] = SignatoryRecord(s, "founding", decision.at, decision.at)
                if s.status == "proposed":  # named in the config but not yet admitted: approvals name this decision
                    self.pending[sid] = Pending("admission", decision.digest(), s.keys)
            for grant in imported:
                self.grants.append(GrantRecord(decision.version, grant.signatory, grant.dataset, grant.purpose,
                                               grant.legal_basis, grant.approved_by, grant.expires, decision.at,
                                               decision.actor, "founding", False, None, None, None,
                                               without_consent=grant.without_consent, fields=grant.fields,
                                               areas=grant.areas))
            self.not_imported = refused
            return {"founding_authorities": {sid: b64(s.keys.ed25519) for sid, s in founders.items()},
                    "signatories": sorted(base.signatories),
                    "grants": [[g.signatory, g.dataset] for g in imported],
                    "grants_not_imported": [list(r) for r in refused]}
        return commit

    def _propose(self, decision: Decision, where: str) -> Callable[[], dict[str, Any]]:
        proposer = self._only_signer(decision, where)
        if not proposer.active:
            raise DecisionRefused(f"{where}: {proposer.id} is {proposer.status}: only an active signatory proposes")
        sid, terms = decision.subject, decision.terms
        if sid in self.records:
            raise SignatoryExists(f"{sid!r} is already a signatory (status {self.records[sid].status})")
        try:
            keys = PublicKeys.from_config(str(terms.get("x25519", "")), str(terms.get("ed25519", "")),
                                          owner=f"signatory {sid!r}")
            candidate = Signatory(id=sid, name=str(terms.get("name", "")).strip(), kind=str(terms.get("kind", "")),
                                  tier=int(terms.get("tier", 0)), status="proposed",
                                  principal=str(terms.get("principal") or default_principal(sid)), keys=keys,
                                  supplies=frozenset(str(d) for d in terms.get("supplies", [])),
                                  liaison_officer=str(terms.get("liaison_officer", "")))
        except (ConfigError, TypeError, ValueError) as exc:
            raise InvalidProposal(f"{where}: {exc}") from None
        if not candidate.name:
            raise InvalidProposal(f"signatory {sid!r}: a name is required")
        _check_new_signatory(candidate, [r.signatory for r in self.records.values()], self.catalogue)

        def commit() -> dict[str, Any]:
            self.records[sid] = SignatoryRecord(candidate, "proposed", decision.at, decision.at)
            self.pending[sid] = Pending("admission", decision.digest(), keys)
            return {"proposed_by": proposer.id, "awaiting": self.awaiting(sid)}
        return commit

    def _approve(self, decision: Decision, where: str) -> Callable[[], dict[str, Any]]:
        subject = decision.subject
        pending = self.pending.get(subject)
        if pending is None:
            record = self.records.get(subject)
            if record is None:
                raise UnknownSignatory(f"{subject!r} is not a signatory of the partnership")
            next_status(subject, record.status, "approve")  # says why (already active, withdrawn, ...)
            raise StatusChangeRefused(f"{subject} has nothing awaiting approval")
        approver = self._only_signer(decision, where)
        check_approver(subject, approver, approver.id)
        if approver.id == subject:
            raise DecisionRefused(f"{where}: {subject} cannot approve its own {pending.kind}")
        if decision.terms.get("decision") != pending.decision:
            raise DecisionRefused(f"{where}: approves decision {str(decision.terms.get('decision'))[:12]!r}, but "
                                  f"{subject}'s {pending.kind} awaiting approval is {pending.decision[:12]}")

        def commit() -> dict[str, Any]:
            approvals = {**pending.approvals, approver.id: decision.at}
            self.pending[subject] = dataclasses.replace(pending, approvals=approvals)
            self.approvals.append(Approval(subject, approver.id, decision.at))
            awaiting = self.awaiting(subject)
            completed = not awaiting
            if completed:
                del self.pending[subject]
                record = self.records[subject]
                if pending.kind == "admission":
                    self._set(subject, status=next_status(subject, record.status, "approve"), at=decision.at)
                else:
                    self._set(subject, keys=pending.keys, at=decision.at)
            return {"approver": approver.id, "of": pending.kind, "completed": completed,
                    "awaiting": list(awaiting)}
        return commit

    def _grant(self, decision: Decision, where: str) -> Callable[[], dict[str, Any]]:
        terms, subject = decision.terms, decision.subject
        dataset = str(terms.get("dataset", ""))
        if dataset not in self.catalogue:
            raise GrantRefused(f"{dataset!r} is not a dataset of the catalogue (see `exchange schemas list`)")
        holder = self.signatory(subject)
        originator = self._only_signer(decision, where)
        try:
            expires = dt.date.fromisoformat(str(terms.get("expires", "")))
        except ValueError:
            raise GrantRefused(f"{where}: expires {terms.get('expires')!r} is not a date (YYYY-MM-DD)") from None
        purpose, legal_basis = str(terms.get("purpose", "")).strip(), str(terms.get("legal_basis", "")).strip()
        check_grant(holder, dataset, personal=self.catalogue[dataset].personal, purpose=purpose,
                    legal_basis=legal_basis, approver=originator, approved_by=originator.id, expires=expires,
                    today=decision.date)
        without_consent = bool(terms.get("without_consent", False))
        if without_consent and not legal_basis:
            raise GrantRefused(f"{where}: sharing without consent needs a legal basis that permits it")
        view = check_view(self.catalogue[dataset], [str(f) for f in terms.get("fields", [])],
                          [str(a) for a in terms.get("areas", [])])
        superseded = [g for g in self.grants if g.signatory == subject and g.dataset == dataset and not g.revoked]

        def commit() -> dict[str, Any]:
            for old in superseded:
                self._revoke_record(old, decision, f"superseded by grant {decision.version}")
            self.grants.append(GrantRecord(decision.version, subject, dataset, purpose, legal_basis, originator.id,
                                           expires, decision.at, decision.actor, "signed", False, None, None, None,
                                           without_consent=without_consent, fields=view.fields, areas=view.areas))
            return {"grant_id": decision.version, "approved_by": originator.id,
                    "superseded": [g.id for g in superseded]}
        return commit

    def _revoke(self, decision: Decision, where: str) -> Callable[[], dict[str, Any]]:
        subject, dataset = decision.subject, str(decision.terms.get("dataset", ""))
        self.signatory(subject)
        held = [g for g in self.grants if g.signatory == subject and g.dataset == dataset and not g.revoked]
        if not held:
            raise NoSuchGrant(f"{subject} holds no grant of {dataset} to revoke")
        signer = self._only_signer(decision, where)
        originators = {g.approved_by for g in held}
        if signer.id not in originators and not (signer.kind == RESPONSIBLE_AUTHORITY and signer.active):
            raise DecisionRefused(f"{where}: only the grant's approving originator ({', '.join(sorted(originators))}) "
                                  "or an active responsible authority may revoke it")
        reason = str(decision.terms.get("reason", ""))

        def commit() -> dict[str, Any]:
            for grant in held:
                self._revoke_record(grant, decision, reason)
            return {"grant_ids": [g.id for g in held]}
        return commit

    def _suspend(self, decision: Decision, where: str) -> Callable[[], dict[str, Any]]:
        reason = str(decision.terms.get("reason", "")).strip()
        if not reason:
            raise GovernanceError("a suspension must record its reason (e.g. the breach of the ISP)")
        status = next_status(decision.subject, self.signatory(decision.subject).status, "suspend")
        self._active_authority(decision, where)

        def commit() -> dict[str, Any]:
            self._set(decision.subject, status=status, at=decision.at)
            self.suspensions.append(Suspension(decision.subject, reason, decision.at, decision.actor, None, None))
            return {}
        return commit

    def _reinstate(self, decision: Decision, where: str) -> Callable[[], dict[str, Any]]:
        status = next_status(decision.subject, self.signatory(decision.subject).status, "reinstate")
        self._active_authority(decision, where)

        def commit() -> dict[str, Any]:
            self._set(decision.subject, status=status, at=decision.at)
            self.suspensions = [dataclasses.replace(s, reinstated_at=decision.at, reinstated_by=decision.actor)
                                if s.signatory == decision.subject and s.reinstated_at is None else s
                                for s in self.suspensions]
            return {}
        return commit

    def _withdraw(self, decision: Decision, where: str) -> Callable[[], dict[str, Any]]:
        subject = decision.subject
        self.signatory(subject)
        previous = self.records[subject].status
        status = next_status(subject, previous, "withdraw")
        signer = self._only_signer(decision, where)
        if signer.id != subject and not (signer.kind == RESPONSIBLE_AUTHORITY and signer.active):
            raise DecisionRefused(f"{where}: only {subject} itself or an active responsible authority may "
                                  "record its withdrawal")

        def commit() -> dict[str, Any]:
            self._set(subject, status=status, at=decision.at)
            self.pending.pop(subject, None)
            return {"previous_status": previous}
        return commit

    def _rekey(self, decision: Decision, where: str) -> Callable[[], dict[str, Any]]:
        subject = decision.subject
        current = self.signatory(subject)
        if current.status == "withdrawn":
            raise StatusChangeRefused(f"{subject} has withdrawn: its keys cannot change")
        try:
            keys = PublicKeys.from_config(str(decision.terms.get("x25519", "")),
                                          str(decision.terms.get("ed25519", "")), owner=f"{where}: new keys")
        except ConfigError as exc:
            raise InvalidProposal(str(exc)) from None
        if keys.ed25519 == current.keys.ed25519 or keys.x25519 == current.keys.x25519:
            raise InvalidProposal(f"{where}: the new keys must both differ from the current ones")
        for other in self.records.values():
            if other.id != subject and (other.signatory.keys.ed25519 == keys.ed25519
                                        or other.signatory.keys.x25519 == keys.x25519):
                raise InvalidProposal(f"{where}: the new keys are already registered to {other.id}")
        if any(s.signer != subject for s in decision.signatures):
            raise DecisionRefused(f"{where}: only {subject} signs its own rekey (others approve it afterwards)")
        self._require(decision, where, subject, key=keys.ed25519)
        with_old_key = self._signed_by(decision, subject, current.keys.ed25519)

        def commit() -> dict[str, Any]:
            if with_old_key:
                if subject in self.pending and self.pending[subject].kind == "rekey":
                    del self.pending[subject]  # a rekey awaiting approval is overtaken
                self._set(subject, keys=keys, at=decision.at)
            else:
                self.pending[subject] = Pending("rekey", decision.digest(), keys)
            return {"signed_by_old_key": with_old_key,
                    "awaiting": [] if with_old_key else list(self.awaiting(subject))}
        return commit

    # --- changes ---------------------------------------------------------------------------

    def _set(self, subject: str, *, at: str, status: str | None = None, keys: PublicKeys | None = None) -> None:
        record = self.records[subject]
        changes: dict[str, Any] = {}
        if status is not None:
            changes["status"] = status
        if keys is not None:
            changes["keys"] = keys
        signatory = dataclasses.replace(record.signatory, **changes)
        self.records[subject] = dataclasses.replace(
            record, signatory=signatory, status_changed_at=at if status is not None else record.status_changed_at)

    def _revoke_record(self, grant: GrantRecord, decision: Decision, reason: str) -> None:
        self.grants = [dataclasses.replace(g, revoked=True, revoked_at=decision.at, revoked_by=decision.actor,
                                           revoke_reason=reason) if g is grant else g for g in self.grants]


def _check_new_signatory(signatory: Signatory, others: Iterable[Signatory], catalogue: Catalogue) -> None:
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
    unknown = sorted(d for d in signatory.supplies if d not in catalogue)
    if unknown:
        raise InvalidProposal(f"{where}: supplies unknown dataset(s) {', '.join(unknown)}")
    for other in others:
        if other.principal == signatory.principal:
            raise InvalidProposal(f"{where}: principal {signatory.principal} already belongs to {other.id}; "
                                  "each signatory needs its own broker user")
        if other.keys.x25519 == signatory.keys.x25519 or other.keys.ed25519 == signatory.keys.ed25519:
            raise InvalidProposal(f"{where}: its public keys are already registered to {other.id}; "
                                  "each signatory needs its own key pair")
