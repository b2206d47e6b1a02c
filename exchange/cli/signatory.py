"""exchange signatory ...: admission, suspension and withdrawal of ISP signatories."""

from __future__ import annotations

import click

from exchange.cli._common import (
    JSON_OPTION,
    ExchangeGroup,
    decision_options,
    emit,
    governance_options,
    run_decision,
    run_with_registry,
    table,
)
from exchange.core.partnership import TIERS


def _tier_text(tier: int) -> str:
    return TIERS[tier].label


@click.group("signatory", cls=ExchangeGroup)
def command() -> None:
    """Signatories of the Information Sharing Protocol: admit, suspend, reinstate, withdraw, rekey.

    \b
    Lifecycle:  proposed --(every active responsible authority approves)--> active
                active --suspend--> suspended --reinstate--> active
                any --withdraw--> withdrawn (final)
    Only an active signatory supplies data or receives it. A suspended one receives nothing
    sealed after the moment of suspension: the sanitiser follows the chain and changes the
    data key at once, and `exchange acl apply` removes its broker rights.

    \b
    Every decision is signed with the deciding signatory's own key file (--key) and names the
    person acting and their role (--person, --role); the registry refuses one that lacks the
    signature the rules require (exchange governance --help). Who signs:
      propose             any active signatory
      approve             each active responsible authority, with its own key
      suspend, reinstate  an active responsible authority (not the subject)
      withdraw            the signatory itself, or an active responsible authority
      rekey               the signatory, with its new key and its old one (or, old key lost,
                          its new key, then every active responsible authority approves)
    Each takes --registry (default $EXCHANGE_REGISTRY) and --publish HOST:PORT to put the
    decision on the governance topic at once.
    """


def _pending_decision(registry_path: str, subject: str) -> str:
    async def digest(registry, base):
        pending = (await registry.ledger()).pending.get(subject)
        return pending.decision if pending else ""
    return run_with_registry(None, registry_path, digest)


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
@decision_options
@governance_options
@JSON_OPTION
def propose(signatory_id, name, kind, tier, principal, x25519, ed25519, supplies, dlo, as_json, **decision) -> None:
    """Propose ID as a new signatory, signed with your signatory's key (--key). It stays
    "proposed", receiving and supplying nothing, until every active responsible authority has
    approved it (`exchange signatory approve`)."""

    terms = {"name": name, "kind": kind, "tier": tier, "principal": principal or f"User:{signatory_id}",
             "x25519": x25519, "ed25519": ed25519, "supplies": sorted(set(supplies)), "liaison_officer": dlo}

    async def after(registry, decision):
        return (await registry.signatory(signatory_id)).as_dict(), await registry.awaiting(signatory_id)

    made, shown = run_decision("propose", signatory_id, terms, after=after)
    if made is None:
        return
    record, awaiting = shown
    emit({**record, "decision": made.version, "decision_hash": made.digest(),
          "awaiting_approval_from": list(awaiting)}, as_json,
         f"{signatory_id} ({name}, tier {_tier_text(tier)}) is proposed (decision {made.version}, signed for "
         f"{made.signatures[0].signer} by {made.person}).\n"
         f"It needs the approval of every active responsible authority: {', '.join(awaiting) or 'none'}.")


@command.command("approve")
@click.argument("signatory_id", metavar="ID")
@decision_options
@governance_options
@JSON_OPTION
def approve(signatory_id, as_json, **decision) -> None:
    """Approve, for the responsible authority whose key file --key is, what ID awaits: its
    admission (when proposed) or its new keys (a rekey without the old key). When every active
    responsible authority has approved, ID becomes active (or its new keys take effect). Each
    authority approves with its own key: an approval "on behalf of" another is impossible."""

    proposal = _pending_decision(decision["registry_path"], signatory_id)

    async def after(registry, made):
        return (await registry.ledger()).events[-1].detail

    made, detail = run_decision("approve", signatory_id, {"decision": proposal}, after=after)
    if made is None:
        return
    approver = made.signatures[0].signer
    if detail["completed"]:
        text = (f"{signatory_id} approved by {approver}. Every active responsible authority has approved: "
                + (f"{signatory_id} is now ACTIVE." if detail["of"] == "admission"
                   else f"{signatory_id}'s new keys are in force."))
    else:
        text = f"{signatory_id} approved by {approver}. Still awaiting: {', '.join(detail['awaiting'])}."
    emit({"signatory": signatory_id, "approver": approver, "of": detail["of"], "activated": detail["completed"],
          "awaiting": detail["awaiting"], "decision": made.version}, as_json, text)


@command.command("suspend")
@click.argument("signatory_id", metavar="ID")
@click.option("--reason", required=True, help="Why (e.g. the breach of the ISP); signed into the decision.")
@decision_options
@governance_options
def suspend(signatory_id, reason, **decision) -> None:
    """Suspend active signatory ID (non-compliance), as an active responsible authority. From
    that moment it receives nothing new: the sanitiser stops sealing data keys to it, its feed
    destroys the personal records it holds, and its grants are kept but give nothing until it is
    reinstated. Run `exchange acl apply` to remove its broker rights too."""

    if run_decision("suspend", signatory_id, {"reason": reason})[0]:
        click.echo(f"{signatory_id} is SUSPENDED ({reason}). Now run `exchange acl apply` to remove its broker rights.")


@command.command("reinstate")
@click.argument("signatory_id", metavar="ID")
@click.option("--note", default="", help="A note for the history (e.g. the decision that lifted the suspension).")
@decision_options
@governance_options
def reinstate(signatory_id, note, **decision) -> None:
    """Lift the suspension of ID, as an active responsible authority: it is active again and its
    grants still in force apply. Records it missed while suspended are not re-sent. Run
    `exchange acl apply` afterwards."""

    if run_decision("reinstate", signatory_id, {"note": note})[0]:
        click.echo(f"{signatory_id} is ACTIVE again. Now run `exchange acl apply` to restore its broker rights.")


@command.command("withdraw")
@click.argument("signatory_id", metavar="ID")
@click.option("--reason", default="", help="Why it leaves, for the history.")
@decision_options
@governance_options
def withdraw(signatory_id, reason, **decision) -> None:
    """Record that ID has left the ISP (signed by ID itself or an active responsible authority).
    This is final: it supplies and receives nothing from now on (re-joining is a new proposal
    under a new id). Run `exchange acl apply` afterwards."""

    if run_decision("withdraw", signatory_id, {"reason": reason})[0]:
        click.echo(f"{signatory_id} has WITHDRAWN. Now run `exchange acl apply` to remove its broker rights.")


@command.command("rekey")
@click.argument("signatory_id", metavar="ID")
@click.option("--new-key", "new_key_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The new key file (from `exchange keys generate`); it signs too, to prove ID holds it.")
@click.option("--key-lost", is_flag=True,
              help="The old key file is lost or compromised (give no --key): the new keys take effect once every "
                   "active responsible authority has approved them (`exchange signatory approve ID`).")
@decision_options(key_help="ID's current (old) key file; omit it only with --key-lost.")
@governance_options
def rekey(signatory_id, new_key_file, key_lost, **decision) -> None:
    """Change ID's keys. With the old key file (--key) and the new one (--new-key), the change is
    signed by both and takes effect at once. The sanitiser seals the next data key of every
    dataset ID receives to the new key (data keys rotate at once); records sealed before stay
    readable with the old key file, so keep it until they are destroyed."""

    from exchange.crypto.keys import load_keypair

    context = click.get_current_context()
    if key_lost and context.get_parameter_source("key_file") is click.core.ParameterSource.DEFAULT_MAP:
        decision["key_file"] = context.params["key_file"] = None  # the site's key file is the one lost
    if bool(decision["key_file"]) == key_lost and not decision["draft_to"]:
        raise click.UsageError("give the old key file with --key, or say it is lost with --key-lost (not both)")
    new_public = load_keypair(new_key_file).public.as_config()
    made, _ = run_decision("rekey", signatory_id, new_public, new_key_file=new_key_file)
    if made is None:
        return
    if key_lost:
        click.echo(f"{signatory_id}'s new keys await the approval of every active responsible authority "
                   f"(decision {made.version}): each runs `exchange signatory approve {signatory_id} --key ...`.")
    else:
        click.echo(f"{signatory_id}'s keys are changed (decision {made.version}, signed with the old and the new "
                   "key). Data keys rotate at once.")


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
    founding = "  none: a founding signatory, signed into the founding decision by every responsible authority"
    lines += [f"  {a['approver']} on {a['approved_at']}" for a in data["approvals"]] or [
        founding if data["source"] == "founding" else "  none recorded"]
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
