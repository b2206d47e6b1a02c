"""Broker ACLs as code: what the partnership's live state says each Kafka principal may do.

Pure: `desired_bindings` derives the bindings from a Partnership (the registry's effective one)
and the dataset catalogue; `plan` compares them with what the broker holds. Talking to the
broker is `exchange.transport.acl_broker`; remembering which bindings the exchange created is the
registry's `acl_owned` table.

What each principal gets (everything else is denied: the broker runs with
allow.everyone.if.no.acl.found=false):

  active supplier of dataset d   WRITE, DESCRIBE  raw.<d>, keys.raw.<d>                 (literal)
  the sanitiser                  READ             raw.*, keys.raw.*                      (prefixed)
                                 WRITE, CREATE    shared.*, restricted.*, keys.shared.*,
                                                  keys.restricted.* (prefixed), deadletter.sanitiser
                                 CREATE           raw.*, keys.raw.* (it creates its topics at start)
                                 READ             its consumer group, governance (literal)
  every signatory not withdrawn  READ, DESCRIBE   governance (literal): the signed partnership state
  subscriber with a grant of d   READ             shared.<d>, keys.shared.<d>            (literal)
  in force today                                  restricted.<d>, keys.restricted.<d> for a
                                                  personal dataset (tier 1 only)
                                 READ             group feed.<id> (literal) and feed.<id>.* (prefixed)
  active recipient of aggregates READ             shared.aggregates, keys.shared.aggregates (literal),
  ([aggregates] recipients)                       and its feed groups as above

Beyond reading the governance topic, a proposed, suspended or withdrawn signatory gets nothing;
so do expired or revoked grants, a
tier-2 signatory for a personal dataset and a tier-3 signatory for any record-level dataset. The
receiving side uses `Partnership.may_receive`, the same decision the sanitiser uses to choose who
gets the data key, so the two locks of the design agree.

Choice (differs from a bare "feed.<id>" prefix): the consumer group is granted as the literal
`feed.<id>` plus the prefix `feed.<id>.`. A bare prefix `feed.<id>` would also match
`feed.<id>-annex`, the group of a signatory whose id merely starts with this one's, letting one
partner join or move another partner's offsets.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from exchange.core.names import (
    AGGREGATES_TOPIC,
    DEADLETTER_TOPIC,
    FEED_GROUP_PREFIX,
    GOVERNANCE_TOPIC,
    SANITISER_GROUP,
    SANITISER_ID,
    default_principal,
    feed_group,
    key_topic,
    raw_topic,
    shared_topic,
)
from exchange.core.partnership import Partnership
from exchange.core.schemas import Catalogue
from exchange.errors import ConfigError

__all__ = [
    "SANITISER_PRINCIPAL", "AclBinding", "AclPlan", "check_principal", "desired_bindings", "in_exchange_scope",
    "Operation", "PatternType", "Permission", "plan", "ResourceType", "sanitiser_bindings", "sorted_bindings",
]

SANITISER_PRINCIPAL = default_principal(SANITISER_ID)
_PRINCIPAL = re.compile(r"^User:[A-Za-z0-9._@=-]+$")


class ResourceType(enum.Enum):
    """Kafka resource types, with their wire codes."""

    UNKNOWN = 0
    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5
    DELEGATION_TOKEN = 6
    USER = 7


class PatternType(enum.Enum):
    UNKNOWN = 0
    ANY = 1
    MATCH = 2
    LITERAL = 3
    PREFIXED = 4


class Operation(enum.Enum):
    UNKNOWN = 0
    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12
    CREATE_TOKENS = 13
    DESCRIBE_TOKENS = 14


class Permission(enum.Enum):
    UNKNOWN = 0
    ANY = 1
    DENY = 2
    ALLOW = 3


def _enum(kind: type[enum.Enum], value: Any) -> Any:
    if isinstance(value, kind):
        return value
    if isinstance(value, int):
        try:
            return kind(value)
        except ValueError:
            return kind["UNKNOWN"]
    try:
        return kind[str(value).upper()]
    except KeyError:
        raise ConfigError(f"{value!r} is not a Kafka {kind.__name__}") from None


@dataclass(frozen=True, slots=True)
class AclBinding:
    """One Kafka ACL: PRINCIPAL is ALLOWed (or DENYed) OPERATION on a resource from HOST."""

    principal: str
    resource_type: ResourceType
    pattern_type: PatternType
    resource_name: str
    operation: Operation
    permission: Permission = Permission.ALLOW
    host: str = "*"

    def __post_init__(self) -> None:
        for name, kind in (("resource_type", ResourceType), ("pattern_type", PatternType),
                           ("operation", Operation), ("permission", Permission)):
            object.__setattr__(self, name, _enum(kind, getattr(self, name)))

    def sort_key(self) -> tuple[str, int, str, int, int, int, str]:
        return (self.principal, self.resource_type.value, self.resource_name, self.pattern_type.value,
                self.operation.value, self.permission.value, self.host)

    def as_dict(self) -> dict[str, str]:
        return {"principal": self.principal, "resource_type": self.resource_type.name,
                "pattern_type": self.pattern_type.name, "resource_name": self.resource_name,
                "operation": self.operation.name, "permission": self.permission.name, "host": self.host}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AclBinding:
        return cls(principal=data["principal"], resource_type=data["resource_type"],
                   pattern_type=data["pattern_type"], resource_name=data["resource_name"],
                   operation=data["operation"], permission=data.get("permission", "ALLOW"),
                   host=data.get("host", "*"))

    def __str__(self) -> str:
        star = "*" if self.pattern_type is PatternType.PREFIXED else ""
        return (f"{self.permission.name} {self.principal} {self.operation.name} "
                f"{self.resource_type.name} {self.resource_name}{star} from {self.host}")


def sorted_bindings(bindings: Iterable[AclBinding]) -> list[AclBinding]:
    return sorted(bindings, key=AclBinding.sort_key)


def _allow(principal: str, resource_type: ResourceType, pattern: PatternType, name: str,
           *operations: Operation) -> set[AclBinding]:
    return {AclBinding(principal, resource_type, pattern, name, op) for op in operations}


def check_principal(principal: str, *, owner: str) -> None:
    """A principal must name one user: `User:<name>`, never a wildcard."""
    if not _PRINCIPAL.match(principal or ""):
        raise ConfigError(f"{owner}: principal {principal!r} must be User:<name> naming one broker user "
                          "(letters, digits, . _ @ = -); wildcards are not allowed")


def sanitiser_bindings(principal: str = SANITISER_PRINCIPAL, group: str = SANITISER_GROUP) -> frozenset[AclBinding]:
    raw_prefixes = [raw_topic(""), key_topic(raw_topic(""))]
    out_prefixes = [shared_topic(""), shared_topic("", personal=True),
                    key_topic(shared_topic("")), key_topic(shared_topic("", personal=True))]
    bindings: set[AclBinding] = set()
    for prefix in raw_prefixes:
        bindings |= _allow(principal, ResourceType.TOPIC, PatternType.PREFIXED, prefix,
                           Operation.READ, Operation.CREATE)
    for prefix in out_prefixes:
        bindings |= _allow(principal, ResourceType.TOPIC, PatternType.PREFIXED, prefix,
                           Operation.WRITE, Operation.CREATE)
    bindings |= _allow(principal, ResourceType.TOPIC, PatternType.LITERAL, DEADLETTER_TOPIC,
                       Operation.WRITE, Operation.CREATE)
    bindings |= _allow(principal, ResourceType.GROUP, PatternType.LITERAL, group, Operation.READ)
    bindings |= _allow(principal, ResourceType.TOPIC, PatternType.LITERAL, GOVERNANCE_TOPIC, Operation.READ)
    return frozenset(bindings)


def desired_bindings(partnership: Partnership, catalogue: Catalogue, today: dt.date,
                     sanitiser_principal: str = SANITISER_PRINCIPAL,
                     sanitiser_group: str = SANITISER_GROUP) -> frozenset[AclBinding]:
    """Every ACL the partnership's state calls for today (see the module doc for the table).

    Refuses (ConfigError) a wildcard or malformed principal, and a principal shared by two
    signatories or with the sanitiser, since the broker would then merge their rights.
    """
    check_principal(sanitiser_principal, owner="the sanitiser")
    seen: dict[str, str] = {sanitiser_principal: "the sanitiser"}
    for signatory in sorted(partnership.signatories.values(), key=lambda s: s.id):
        check_principal(signatory.principal, owner=f"signatory {signatory.id!r}")
        if signatory.principal in seen:
            raise ConfigError(f"signatory {signatory.id!r} uses principal {signatory.principal}, which is already "
                              f"{seen[signatory.principal]}'s: each party needs its own broker user")
        seen[signatory.principal] = f"signatory {signatory.id!r}"

    bindings: set[AclBinding] = set(sanitiser_bindings(sanitiser_principal, sanitiser_group))
    for signatory in partnership.signatories.values():
        if signatory.status != "withdrawn":
            # Every site follows the signed chain (public keys, statuses, grants: nothing personal);
            # a proposed or suspended signatory too, to see its admission or reinstatement.
            bindings |= _allow(signatory.principal, ResourceType.TOPIC, PatternType.LITERAL, GOVERNANCE_TOPIC,
                               Operation.READ, Operation.DESCRIBE)
        if not signatory.active:
            continue
        who = signatory.principal
        for dataset_id in sorted(signatory.supplies):
            if dataset_id in catalogue and partnership.may_supply(signatory.id, dataset_id):
                for topic in (raw_topic(dataset_id), key_topic(raw_topic(dataset_id))):
                    bindings |= _allow(who, ResourceType.TOPIC, PatternType.LITERAL, topic,
                                       Operation.WRITE, Operation.DESCRIBE)
        receives = False
        for dataset in catalogue:
            if partnership.may_receive(signatory.id, dataset.id, personal=dataset.personal, today=today):
                receives = True
                out = shared_topic(dataset.id, personal=dataset.personal)
                for topic in (out, key_topic(out)):
                    bindings |= _allow(who, ResourceType.TOPIC, PatternType.LITERAL, topic, Operation.READ)
        if any(s.id == signatory.id for s in partnership.aggregates_for()):
            receives = True
            for topic in (AGGREGATES_TOPIC, key_topic(AGGREGATES_TOPIC)):
                bindings |= _allow(who, ResourceType.TOPIC, PatternType.LITERAL, topic, Operation.READ)
        if receives:
            bindings |= _allow(who, ResourceType.GROUP, PatternType.LITERAL, feed_group(signatory.id), Operation.READ)
            if "." not in signatory.id:  # otherwise feed.<id>. could prefix another signatory's group
                bindings |= _allow(who, ResourceType.GROUP, PatternType.PREFIXED, feed_group(signatory.id) + ".",
                                   Operation.READ)
    return frozenset(bindings)


# --- the exchange's namespace on the broker ---------------------------------------------------

_MANAGED_TOPIC_PREFIXES = (raw_topic(""), key_topic(""), shared_topic(""), shared_topic("", personal=True))


def in_exchange_scope(binding: AclBinding, sanitiser_group: str = SANITISER_GROUP) -> bool:
    """Whether a binding concerns the exchange's own topics and groups. Pruning never reaches
    outside them (the ACL administrator's own rights, other applications' topics)."""
    name = binding.resource_name
    if binding.resource_type is ResourceType.TOPIC:
        if name == GOVERNANCE_TOPIC:
            # The registry operator's rights on it (write, and read to see what it holds) are the broker
            # administrator's binding: never pruned. The read bindings the exchange made are its own
            # (owned) and go when no longer called for, as every owned binding does.
            return False
        return name == DEADLETTER_TOPIC or (bool(name) and any(name.startswith(p) for p in _MANAGED_TOPIC_PREFIXES))
    if binding.resource_type is ResourceType.GROUP:
        return name == sanitiser_group or (name.startswith(FEED_GROUP_PREFIX) and len(name) > len(FEED_GROUP_PREFIX))
    return False


@dataclass(frozen=True)
class AclPlan:
    """What to change on the broker. `kept_unowned`: bindings on the exchange's topics and groups
    that are no longer called for but that the exchange did not create, left alone (removed only
    with prune_unowned=True). Bindings outside the exchange's namespace are not mentioned."""

    to_add: frozenset[AclBinding]
    to_remove: frozenset[AclBinding]
    kept_unowned: frozenset[AclBinding] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not self.to_add and not self.to_remove

    def as_dict(self) -> dict[str, list[dict[str, str]]]:
        return {"to_add": [b.as_dict() for b in sorted_bindings(self.to_add)],
                "to_remove": [b.as_dict() for b in sorted_bindings(self.to_remove)],
                "kept_unowned": [b.as_dict() for b in sorted_bindings(self.kept_unowned)]}


def plan(desired: Iterable[AclBinding], applied: Iterable[AclBinding], owned: Iterable[AclBinding], *,
         prune_unowned: bool = False, sanitiser_group: str = SANITISER_GROUP) -> AclPlan:
    """Bindings to add (desired, not applied) and to remove (applied, not desired, and created by
    the exchange). An applied binding the exchange did not create is never removed unless
    `prune_unowned`, and even then only inside the exchange's own topics and groups."""
    desired, applied, owned = frozenset(desired), frozenset(applied), frozenset(owned)
    surplus = applied - desired
    removable = frozenset(b for b in surplus if b in owned)
    # Not the exchange's to touch at all: bindings outside its topics and groups.
    unowned = frozenset(b for b in surplus - removable if in_exchange_scope(b, sanitiser_group))
    if prune_unowned:
        return AclPlan(to_add=desired - applied, to_remove=removable | unowned)
    return AclPlan(to_add=desired - applied, to_remove=removable, kept_unowned=unowned)
