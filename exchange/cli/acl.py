"""exchange acl ...: grants of datasets, and the broker ACLs that follow from them."""

from __future__ import annotations

import click

from exchange.cli._common import (
    BOOTSTRAP_OPTION,
    BY_OPTION,
    EXIT_APPLICATION_ERROR,
    JSON_OPTION,
    ExchangeGroup,
    decision_options,
    emit,
    governance_options,
    parse_date,
    run_decision,
    run_with_registry,
    table,
)

SANITISER_OPTIONS = [
    click.option("--sanitiser-principal", default="User:sanitiser", show_default=True,
                 envvar="EXCHANGE_SANITISER_PRINCIPAL", show_envvar=True, help="The sanitiser's broker user."),
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
    from exchange.services.governance import acl_state

    return await acl_state(registry, base, sanitiser_principal=sanitiser_principal, sanitiser_group=sanitiser_group,
                           bootstrap=bootstrap, prune_unowned=prune_unowned)


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
@click.option("--expires", required=True, callback=parse_date, metavar="YYYY-MM-DD",
              help="Last day the grant is in force (after today).")
@click.option("--field", "fields", multiple=True, metavar="NAME",
              help="Need to know: release only this optional field of the shared form (repeat for several); the "
                   "required fields (keys, dates, category, handling) always travel. Default: every field.")
@click.option("--area", "areas", multiple=True, metavar="DISTRICT|SECTOR",
              help="Need to know: release only records whose postcode lies in this district (NS1) or sector (NS1 4) "
                   "(repeat for several); records without a postcode are then not released. Default: everywhere.")
@click.option("--without-consent", is_flag=True,
              help="The legal basis permits sharing without the data subject's consent (ISP 5.1-5.4): records "
                   "whose consent was withheld may then be released under this grant.")
@decision_options(key_help="The ORIGINATOR's key file: the active signatory that supplies DATASET signs the grant, "
                           "and its signature is its consent to the sharing, on exactly these terms.")
@governance_options
@JSON_OPTION
def grant(signatory_id, dataset_id, purpose, legal_basis, expires, fields, areas, without_consent, as_json,
          **decision) -> None:
    """Grant DATASET to SIGNATORY, signed by the originator (a signatory that supplies DATASET)
    with its key file: purpose, legal basis, expiry and --without-consent are what it signs.
    Refused, with the reason, when the signatory's tier may not receive it, a condition is
    missing, or the signer does not supply the dataset. A grant of the same dataset to the same
    signatory still held is replaced (recorded as superseded). --field and --area limit it to a
    view: the sanitiser then releases only those fields, in those areas, to SIGNATORY."""

    terms = {"dataset": dataset_id, "purpose": purpose, "legal_basis": legal_basis, "expires": expires.isoformat(),
             "without_consent": without_consent, "fields": sorted(set(fields)), "areas": sorted(set(areas))}

    async def after(registry, made):
        record = next(g for g in await registry.grants(signatory_id) if g.id == made.version)
        return record.as_dict(registry.today())

    made, data = run_decision("grant", signatory_id, terms, after=after)
    if made is not None:
        emit(data, as_json, f"granted {dataset_id} to {signatory_id} until {data['expires']} (grant #{data['id']}), "
                            f"consented to by {data['approved_by']}.\n"
                            "Run `exchange acl apply` to give it broker access.")


@command.command("revoke")
@click.argument("signatory_id", metavar="SIGNATORY")
@click.argument("dataset_id", metavar="DATASET")
@click.option("--reason", default="", help="Why, for the history.")
@decision_options(key_help="The key file of the grant's originator (withdrawing its consent) or of an active "
                           "responsible authority.")
@governance_options
def revoke(signatory_id, dataset_id, reason, **decision) -> None:
    """Revoke SIGNATORY's grant of DATASET (signed by its originator or a responsible authority).
    The sanitiser stops sealing that dataset's data keys to it at once, and its feed destroys the
    personal records it holds under it; run `exchange acl apply` to remove its broker access."""

    async def after(registry, made):
        return (await registry.ledger()).events[-1].detail["grant_ids"]

    made, ids = run_decision("revoke", signatory_id, {"dataset": dataset_id, "reason": reason}, after=after)
    if made is not None:
        click.echo(f"revoked {dataset_id} from {signatory_id} (grant {', '.join(f'#{i}' for i in ids)}).\n"
                   "Run `exchange acl apply` to remove its broker access.")


@command.command("grants")
@governance_options
@JSON_OPTION
def grants(config_path, registry_path, as_json) -> None:
    """Every grant in the registry, with its state today (IN FORCE, EXPIRED or REVOKED) and the view
    it releases (its fields and areas, or the whole dataset)."""

    async def action(registry, base):
        today = registry.today()
        return [g.as_dict(today) for g in await registry.grants()]

    rows = run_with_registry(config_path, registry_path, action)
    text = table(["#", "SIGNATORY", "DATASET", "STATE", "EXPIRES", "APPROVED BY", "PURPOSE", "LEGAL BASIS", "VIEW"],
                 [[g["id"], g["signatory"], g["dataset"], g["state"].upper(), g["expires"], g["approved_by"],
                   g["purpose"], g["legal_basis"] or "-", _view_text(g)] for g in rows]) if rows else "no grants"
    emit(rows, as_json, text)


def _view_text(grant: dict) -> str:
    parts = ([f"fields: {', '.join(grant['fields'])}"] if grant["fields"] else []) + \
            ([f"areas: {', '.join(grant['areas'])}"] if grant["areas"] else [])
    return "; ".join(parts) or "whole"


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
        return await _state(registry, base, sanitiser_principal, sanitiser_group, bootstrap,
                            prune_unowned=prune_unowned)

    state = run_with_registry(config_path, registry_path, action)
    emit({"compared_with": state.compared_with, **state.plan.as_dict()}, as_json,
         plan_text(state.plan, title=f"ACL plan for {state.partnership.name}, compared with {state.compared_with}:"))


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
    from exchange.services.governance import apply_acls
    from exchange.transport.kafka import KafkaSettings

    settings = KafkaSettings.from_environment(bootstrap)

    async def action(registry, base):
        state = await _state(registry, base, sanitiser_principal, sanitiser_group, bootstrap,
                             prune_unowned=prune_unowned)
        text = plan_text(state.plan,
                         title=f"ACL plan for {state.partnership.name}, compared with {state.compared_with}:")
        result = {"compared_with": state.compared_with, "dry_run": dry_run, **state.plan.as_dict(), "created": 0,
                  "deleted": 0, "errors": []}
        if dry_run:
            return result, text + "\ndry run: nothing was changed"
        applied = await apply_acls(registry, settings, state, actor=actor)
        result.update(created=applied.created, deleted=applied.deleted, errors=applied.errors)
        return result, text + f"\napplied: {applied.created} created, {applied.deleted} removed"

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
        state = await _state(registry, base, sanitiser_principal, sanitiser_group, bootstrap)
        return [{**b.as_dict(), "state": "applied" if b in state.applied else "pending"}
                for b in sorted_bindings(state.desired)]

    rows = run_with_registry(config_path, registry_path, action)
    emit(rows, as_json, table(["PRINCIPAL", "RESOURCE TYPE", "PATTERN TYPE", "RESOURCE", "OPERATION", "PERMISSION",
                               "STATE"],
                              [[r["principal"], r["resource_type"], r["pattern_type"], r["resource_name"],
                                r["operation"], r["permission"], r["state"].upper()] for r in rows]))

