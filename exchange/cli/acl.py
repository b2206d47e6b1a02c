"""exchange acl ...: grants of datasets, and the broker ACLs that follow from them."""

from __future__ import annotations

import click

from exchange.cli._common import (
    BOOTSTRAP_OPTION,
    BY_OPTION,
    EXIT_APPLICATION_ERROR,
    JSON_OPTION,
    ExchangeGroup,
    emit,
    governance_options,
    parse_date,
    run_with_registry,
    table,
)

SANITISER_OPTIONS = [
    click.option("--sanitiser-principal", default="User:sanitiser", show_default=True,
                 envvar="EXCHANGE_SANITISER_PRINCIPAL", help="The sanitiser's broker user."),
    click.option("--sanitiser-group", default="exchange-sanitiser", show_default=True,
                 help="The sanitiser's consumer group."),
]


def sanitiser_options(function):
    for option in reversed(SANITISER_OPTIONS):
        function = option(function)
    return function


_HEADERS = ["CHANGE", "PRINCIPAL", "RESOURCE TYPE", "PATTERN TYPE", "RESOURCE", "OPERATION", "PERMISSION"]


def _rows(change: str, bindings) -> list[list[str]]:
    from exchange.core.acl import sorted_bindings

    return [[change, b.principal, b.resource_type.name, b.pattern_type.name, b.resource_name, b.operation.name,
             b.permission.name + ("" if b.host == "*" else f" from {b.host}")] for b in sorted_bindings(bindings)]


def plan_text(acl_plan, *, title: str) -> str:
    rows = _rows("add", acl_plan.to_add) + _rows("remove", acl_plan.to_remove) + _rows("keep", acl_plan.kept_unowned)
    lines = [title]
    lines.append(table(_HEADERS, rows) if rows else "nothing to change: the broker is in step with the registry")
    summary = f"{len(acl_plan.to_add)} to add, {len(acl_plan.to_remove)} to remove"
    if acl_plan.kept_unowned:
        summary += (f", {len(acl_plan.kept_unowned)} kept (on the exchange's topics and groups but not created by "
                    "it; --prune-unowned removes them)")
    lines.append(summary)
    return "\n".join(lines)


async def _state(registry, base, sanitiser_principal, sanitiser_group, bootstrap, *, prune_unowned=False):
    """(effective partnership, desired, applied, owned, plan, compared-with description)."""
    from exchange.core.acl import desired_bindings, plan
    from exchange.transport import acl_broker
    from exchange.transport.kafka import KafkaSettings

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
    return partnership, desired, applied, owned, acl_plan, against


@click.group("acl", cls=ExchangeGroup)
def command() -> None:
    """Grants of datasets to signatories, and the broker's access control lists (ACLs).

    \b
    A grant lets a signatory receive one dataset, for a recorded purpose, until an expiry
    date, with the approval of the originator (a signatory that supplies it). The rules:
      tier 1 (core)       personal datasets (purpose, legal basis, expiry) and depersonalised ones
      tier 2 (associate)  depersonalised datasets only
      tier 3 (scrutiny)   aggregates only: no record-level dataset can be granted
    A grant is enforced twice: the sanitiser seals the data key only to signatories it allows,
    and the broker's ACLs (from `acl plan` / `acl apply`) let only them read the topic.

    Broker ACLs follow the registry: active suppliers write their raw topics; only the
    sanitiser reads raw topics and writes shared / restricted ones; a signatory with a grant
    in force reads that dataset's shared (restricted, if personal) topic and its own consumer
    group. Suspended, withdrawn and proposed signatories, and expired or revoked grants, get
    nothing. `acl apply` never removes an ACL the exchange did not create unless told to.
    """


@command.command("grant")
@click.argument("signatory_id", metavar="SIGNATORY")
@click.argument("dataset_id", metavar="DATASET")
@click.option("--purpose", required=True, help="What the data is shared for; it travels with every record.")
@click.option("--legal-basis", default="", help="The legal basis (required for personal datasets), "
                                                "e.g. 'Crime and Disorder Act 1998 s.115'.")
@click.option("--approved-by", required=True, metavar="SUPPLIER_ID",
              help="The approving originator: the id of an active signatory that supplies DATASET.")
@click.option("--expires", required=True, callback=parse_date, metavar="YYYY-MM-DD",
              help="Last day the grant is in force (after today).")
@BY_OPTION
@governance_options
@JSON_OPTION
def grant(signatory_id, dataset_id, purpose, legal_basis, approved_by, expires, actor, config_path, registry_path,
          as_json) -> None:
    """Grant DATASET to SIGNATORY. Refused, with the reason, when the signatory's tier may not
    receive it, a condition is missing, or the approver does not supply the dataset. A grant of
    the same dataset to the same signatory still held is replaced (recorded as superseded)."""

    async def action(registry, base):
        record = await registry.grant(signatory_id, dataset_id, purpose=purpose, legal_basis=legal_basis,
                                      approved_by=approved_by, expires=expires, by=actor)
        return record.as_dict(registry.today())

    data = run_with_registry(config_path, registry_path, action)
    emit(data, as_json, f"granted {dataset_id} to {signatory_id} until {data['expires']} (grant #{data['id']}), "
                        f"approved by {approved_by}.\nRun `exchange acl apply` to give it broker access.")


@command.command("revoke")
@click.argument("signatory_id", metavar="SIGNATORY")
@click.argument("dataset_id", metavar="DATASET")
@click.option("--reason", default="", help="Why, for the history.")
@BY_OPTION
@governance_options
def revoke(signatory_id, dataset_id, reason, actor, config_path, registry_path) -> None:
    """Revoke SIGNATORY's grant of DATASET. The sanitiser stops sealing that dataset's data
    keys to it at once; run `exchange acl apply` to remove its broker access."""

    ids = run_with_registry(config_path, registry_path,
                            lambda registry, base: registry.revoke(signatory_id, dataset_id, by=actor, reason=reason))
    click.echo(f"revoked {dataset_id} from {signatory_id} (grant {', '.join(f'#{i}' for i in ids)}).\n"
               "Run `exchange acl apply` to remove its broker access.")


@command.command("grants")
@governance_options
@JSON_OPTION
def grants(config_path, registry_path, as_json) -> None:
    """Every grant in the registry, with its state today: IN FORCE, EXPIRED or REVOKED."""

    async def action(registry, base):
        today = registry.today()
        return [g.as_dict(today) for g in await registry.grants()]

    rows = run_with_registry(config_path, registry_path, action)
    text = table(["#", "SIGNATORY", "DATASET", "STATE", "EXPIRES", "APPROVED BY", "PURPOSE", "LEGAL BASIS"],
                 [[g["id"], g["signatory"], g["dataset"], g["state"].upper(), g["expires"], g["approved_by"],
                   g["purpose"], g["legal_basis"] or "-"] for g in rows]) if rows else "no grants"
    emit(rows, as_json, text)


@command.command("plan")
@governance_options
@click.option("--bootstrap", default=None, metavar="HOST:PORT",
              help="Compare with the ACLs the broker holds (read with DescribeAcls). Without it, compare with "
                   "the registry's record of what `acl apply` last applied.")
@click.option("--prune-unowned", is_flag=True, help="Show ACLs not created by the exchange as removals too.")
@sanitiser_options
@JSON_OPTION
def plan_(config_path, registry_path, bootstrap, prune_unowned, sanitiser_principal, sanitiser_group,
          as_json) -> None:
    """Show the ACL changes the registry calls for today, one line per ACL binding: principal,
    resource type, pattern type (LITERAL name or PREFIXED name*), resource, operation and
    ALLOW/DENY. Changes nothing."""

    async def action(registry, base):
        partnership, *_, acl_plan, against = await _state(registry, base, sanitiser_principal, sanitiser_group,
                                                          bootstrap, prune_unowned=prune_unowned)
        return partnership, acl_plan, against

    partnership, acl_plan, against = run_with_registry(config_path, registry_path, action)
    emit({"compared_with": against, **acl_plan.as_dict()}, as_json,
         plan_text(acl_plan, title=f"ACL plan for {partnership.name}, compared with {against}:"))


@command.command("apply")
@governance_options
@BOOTSTRAP_OPTION
@click.option("--prune-unowned", is_flag=True,
              help="Also remove ACLs on the exchange's topics and groups that it did not create (never ACLs "
                   "outside them, such as the ACL administrator's own).")
@click.option("--dry-run", is_flag=True, help="Read the broker and show the plan; change nothing.")
@sanitiser_options
@BY_OPTION
@JSON_OPTION
def apply(config_path, registry_path, bootstrap, prune_unowned, dry_run, sanitiser_principal, sanitiser_group,
          actor, as_json) -> None:
    """Bring the broker's ACLs in step with the registry: read what the broker holds, remove
    what is no longer called for (only ACLs the exchange created, unless --prune-unowned), add
    what is missing, and record what was done. Run it after every suspension, reinstatement,
    withdrawal, admission, grant or revocation. Exit status 1 if the broker refused anything."""
    from exchange.errors import ExchangeError
    from exchange.transport import acl_broker
    from exchange.transport.kafka import KafkaSettings

    settings = KafkaSettings.from_environment(bootstrap)

    async def action(registry, base):
        partnership, desired, applied, owned, acl_plan, against = await _state(
            registry, base, sanitiser_principal, sanitiser_group, bootstrap, prune_unowned=prune_unowned)
        result = {"compared_with": against, "dry_run": dry_run, **acl_plan.as_dict(), "created": 0, "deleted": 0,
                  "errors": []}
        text = plan_text(acl_plan, title=f"ACL plan for {partnership.name}, compared with {against}:")
        if dry_run:
            return result, text + "\ndry run: nothing was changed"
        # Owned bindings someone removed from the broker by hand are no longer ours to track.
        await registry.record_acls(forget=owned - applied, by=actor)
        if acl_plan.to_remove:
            try:
                await acl_broker.delete_acls(settings, acl_plan.to_remove)
                await registry.record_acls(deleted=acl_plan.to_remove, by=actor)
                result["deleted"] = len(acl_plan.to_remove)
            except acl_broker.AclDeleteFailed as exc:
                done = acl_plan.to_remove - {b for b, _ in exc.failed}
                await registry.record_acls(deleted=done, by=actor)
                result["deleted"] = len(done)
                result["errors"].append(str(exc))
            except ExchangeError as exc:
                result["errors"].append(str(exc))
        if acl_plan.to_add:
            try:
                await acl_broker.create_acls(settings, acl_plan.to_add)
                await registry.record_acls(created=acl_plan.to_add, by=actor)
                result["created"] = len(acl_plan.to_add)
            except acl_broker.AclCreateFailed as exc:
                await registry.record_acls(created=exc.created, by=actor)
                result["created"] = len(exc.created)
                result["errors"].append(str(exc))
            except ExchangeError as exc:
                result["errors"].append(str(exc))
        text += f"\napplied: {result['created']} created, {result['deleted']} removed"
        return result, text

    result, text = run_with_registry(config_path, registry_path, action)
    emit(result, as_json, text)
    if result["errors"]:
        for error in result["errors"]:
            click.echo(f"error: {error}", err=True)
        raise SystemExit(EXIT_APPLICATION_ERROR)


@command.command("list")
@governance_options
@click.option("--bootstrap", default=None, metavar="HOST:PORT",
              help="Mark each binding as present or not on this broker, instead of by the registry's record.")
@sanitiser_options
@JSON_OPTION
def list_(config_path, registry_path, bootstrap, sanitiser_principal, sanitiser_group, as_json) -> None:
    """Every ACL binding the registry calls for today, and whether it is in place (APPLIED) or
    not yet (PENDING: run `exchange acl apply`)."""
    from exchange.core.acl import sorted_bindings

    async def action(registry, base):
        _, desired, applied, *_ = await _state(registry, base, sanitiser_principal, sanitiser_group, bootstrap)
        return [{**b.as_dict(), "state": "applied" if b in applied else "pending"} for b in sorted_bindings(desired)]

    rows = run_with_registry(config_path, registry_path, action)
    emit(rows, as_json, table(["PRINCIPAL", "RESOURCE TYPE", "PATTERN TYPE", "RESOURCE", "OPERATION", "PERMISSION",
                               "STATE"],
                              [[r["principal"], r["resource_type"], r["pattern_type"], r["resource_name"],
                                r["operation"], r["permission"], r["state"].upper()] for r in rows]))

