"""exchange signatory ...: admission, suspension and withdrawal of ISP signatories."""

from __future__ import annotations

import click

from exchange.cli._common import (
    BY_OPTION,
    JSON_OPTION,
    ExchangeGroup,
    emit,
    governance_options,
    run_with_registry,
    table,
)
from exchange.core.partnership import TIERS


def _tier_text(tier: int) -> str:
    return TIERS[tier].label


@click.group("signatory", cls=ExchangeGroup)
def command() -> None:
    """Signatories of the Information Sharing Protocol: admit, suspend, reinstate, withdraw.

    \b
    Lifecycle:  proposed --(every active responsible authority approves)--> active
                active --suspend--> suspended --reinstate--> active
                any --withdraw--> withdrawn (final)
    Only an active signatory supplies data or receives it. A suspended one receives nothing
    sealed after the moment of suspension: the sanitiser re-reads the registry and changes
    the data key at once, and `exchange acl apply` removes its broker rights.

    Every command takes --config (the ISP config) and --registry (the live record, default
    $EXCHANGE_REGISTRY), or both from the site config (`exchange --site`), and records who did
    what, and when, in the registry's history.
    """


@command.command("propose")
@click.argument("signatory_id", metavar="ID")
@click.option("--name", required=True, help="The organisation's name, as in the ISP.")
@click.option("--kind", required=True, type=click.Choice(["responsible_authority", "co_operating_body", "other"]),
              help="responsible_authority (Crime and Disorder Act 1998 s.5), co_operating_body, or other.")
@click.option("--tier", required=True, type=click.IntRange(1, 3),
              help="1 core (may be granted personal data), 2 associate (depersonalised only), "
                   "3 scrutiny (aggregates only).")
@click.option("--principal", default=None, help="Its broker user, User:<name>. Default: User:<ID>.")
@click.option("--x25519", required=True, help="Its public X25519 key (from `exchange keys generate`).")
@click.option("--ed25519", required=True, help="Its public Ed25519 key (from `exchange keys generate`).")
@click.option("--supplies", multiple=True, metavar="DATASET",
              help="A dataset it will supply (repeat for several; see `exchange schemas list`).")
@click.option("--dlo", default="", help="Its designated liaison officer (name, role or contact).")
@BY_OPTION
@governance_options
@JSON_OPTION
def propose(signatory_id, name, kind, tier, principal, x25519, ed25519, supplies, dlo, actor, config_path,
            registry_path, as_json) -> None:
    """Propose ID as a new signatory. It stays "proposed", receiving and supplying nothing,
    until every active responsible authority has approved it (`exchange signatory approve`)."""

    async def action(registry, base):
        record = await registry.propose(signatory_id, name=name, kind=kind, tier=tier, principal=principal,
                                        x25519=x25519, ed25519=ed25519, supplies=supplies, liaison_officer=dlo,
                                        by=actor)
        return record, await registry.awaiting(signatory_id)

    record, awaiting = run_with_registry(config_path, registry_path, action)
    emit({**record.as_dict(), "awaiting_approval_from": list(awaiting)}, as_json,
         f"{signatory_id} ({name}, tier {_tier_text(tier)}) is proposed.\n"
         f"It needs the approval of every active responsible authority: {', '.join(awaiting) or 'none'}.")


@command.command("approve")
@click.argument("signatory_id", metavar="ID")
@click.option("--by", "approver", required=True, metavar="RA_ID",
              help="The id of the approving responsible authority (must itself be active).")
@governance_options
@JSON_OPTION
def approve(signatory_id, approver, config_path, registry_path, as_json) -> None:
    """Record that responsible authority RA_ID approves the admission of proposed signatory ID.
    When every active responsible authority has approved, ID becomes active."""

    result = run_with_registry(config_path, registry_path,
                               lambda registry, base: registry.approve(signatory_id, approver))
    if result.activated:
        text = f"{signatory_id} approved by {approver}. Every responsible authority has approved " \
               f"({', '.join(result.approved_by)}): {signatory_id} is now ACTIVE."
    else:
        text = f"{signatory_id} approved by {approver}. Still awaiting: {', '.join(result.awaiting)}."
    emit({"signatory": signatory_id, "approver": approver, "activated": result.activated,
          "approved_by": list(result.approved_by), "awaiting": list(result.awaiting)}, as_json, text)


@command.command("suspend")
@click.argument("signatory_id", metavar="ID")
@click.option("--reason", required=True, help="Why (e.g. the breach of the ISP); recorded in the history.")
@BY_OPTION
@governance_options
def suspend(signatory_id, reason, actor, config_path, registry_path) -> None:
    """Suspend active signatory ID (non-compliance). From that moment it receives nothing new:
    the sanitiser stops sealing data keys to it, and its grants are kept but give nothing until
    it is reinstated. Run `exchange acl apply` to remove its broker rights too."""

    run_with_registry(config_path, registry_path,
                      lambda registry, base: registry.suspend(signatory_id, reason, by=actor))
    click.echo(f"{signatory_id} is SUSPENDED ({reason}). Now run `exchange acl apply` to remove its broker rights.")


@command.command("reinstate")
@click.argument("signatory_id", metavar="ID")
@click.option("--note", default="", help="A note for the history (e.g. the decision that lifted the suspension).")
@BY_OPTION
@governance_options
def reinstate(signatory_id, note, actor, config_path, registry_path) -> None:
    """Lift the suspension of ID: it is active again and its grants still in force apply.
    Records it missed while suspended are not re-sent. Run `exchange acl apply` afterwards."""

    run_with_registry(config_path, registry_path,
                      lambda registry, base: registry.reinstate(signatory_id, by=actor, note=note))
    click.echo(f"{signatory_id} is ACTIVE again. Now run `exchange acl apply` to restore its broker rights.")


@command.command("withdraw")
@click.argument("signatory_id", metavar="ID")
@click.option("--reason", default="", help="Why it leaves, for the history.")
@BY_OPTION
@governance_options
def withdraw(signatory_id, reason, actor, config_path, registry_path) -> None:
    """Record that ID has left the ISP. This is final: it supplies and receives nothing from now
    on (re-joining is a new proposal under a new id). Run `exchange acl apply` afterwards."""

    run_with_registry(config_path, registry_path,
                      lambda registry, base: registry.withdraw(signatory_id, by=actor, reason=reason))
    click.echo(f"{signatory_id} has WITHDRAWN. Now run `exchange acl apply` to remove its broker rights.")


@command.command("list")
@governance_options
@JSON_OPTION
def list_(config_path, registry_path, as_json) -> None:
    """Every signatory in the registry: tier, kind, status, broker user, datasets supplied."""

    async def action(registry, base):
        return [r.as_dict() for r in await registry.signatories()]

    rows = run_with_registry(config_path, registry_path, action)
    text = table(["ID", "NAME", "KIND", "TIER", "STATUS", "PRINCIPAL", "SUPPLIES"],
                 [[r["id"], r["name"], r["kind"], r["tier"], r["status"].upper(), r["principal"],
                   ", ".join(r["supplies"]) or "-"] for r in rows]) if rows else "no signatories"
    emit(rows, as_json, text)


@command.command("show")
@click.argument("signatory_id", metavar="ID")
@governance_options
@JSON_OPTION
def show(signatory_id, config_path, registry_path, as_json) -> None:
    """One signatory in full: details, approvals (who and when), grants (with purpose, legal
    basis, approving originator, expiry and state), suspensions, and its history."""

    from exchange.services.governance import signatory_dossier

    data = run_with_registry(config_path, registry_path,
                             lambda registry, base: signatory_dossier(registry, signatory_id))
    lines = [f"{data['id']}: {data['name']}",
             f"  status:      {data['status'].upper()} (since {data['status_changed_at']})",
             f"  kind:        {data['kind']}",
             f"  tier:        {_tier_text(data['tier'])}",
             f"  principal:   {data['principal']}",
             f"  supplies:    {', '.join(data['supplies']) or '-'}",
             f"  liaison:     {data['liaison_officer'] or '-'}",
             f"  x25519:      {data['x25519']}",
             f"  ed25519:     {data['ed25519']}",
             f"  entered via: {data['source']} on {data['created_at']}",
             "", "Approvals:"]
    founding = "  none: a founding signatory, entered from the config when the registry was created"
    lines += [f"  {a['approver']} on {a['approved_at']}" for a in data["approvals"]] or [
        founding if data["source"] == "config" and data["status"] != "proposed" else "  none recorded"]
    if data["awaiting_approval_from"]:
        lines.append(f"  awaiting: {', '.join(data['awaiting_approval_from'])}")
    lines += ["", "Grants:"]
    if data["grants"]:
        lines += ["  " + line for line in table(
            ["#", "DATASET", "STATE", "EXPIRES", "APPROVED BY", "PURPOSE", "LEGAL BASIS"],
            [[g["id"], g["dataset"], g["state"].upper(), g["expires"], g["approved_by"], g["purpose"],
              g["legal_basis"] or "-"] for g in data["grants"]]).splitlines()]
    else:
        lines.append("  none")
    lines += ["", "Suspensions:"]
    lines += [f"  {s['suspended_at']} by {s['suspended_by']}: {s['reason']}"
              + (f" (reinstated {s['reinstated_at']} by {s['reinstated_by']})" if s["reinstated_at"] else "")
              for s in data["suspensions"]] or ["  none"]
    lines += ["", "History:"]
    lines += [f"  {e['at']}  {e['action']:<20} by {e['actor']}" for e in data["history"]] or ["  none"]
    emit(data, as_json, "\n".join(lines))
