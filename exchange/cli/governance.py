"""exchange governance ...: found the signed chain, print the trust anchor, publish the chain."""

from __future__ import annotations

import json
from pathlib import Path

import click

from exchange.cli._common import (
    BOOTSTRAP_OPTION,
    JSON_OPTION,
    PUBLISH_OPTION,
    REGISTRY_OPTION,
    ExchangeGroup,
    emit,
    publish_chain,
    run_with_registry,
)


@click.group("governance", cls=ExchangeGroup)
def command() -> None:
    """The partnership's governance as a chain of signed decisions, published to every site.

    \b
    Every decision (found, propose, approve, grant, revoke, suspend, reinstate, withdraw, rekey)
    is signed with the Ed25519 key of the signatory that decides it, names the person acting
    and their role, and carries the hash of the decision before it. The registry refuses a
    decision without the signatures the rules require:
      found               every founding responsible authority (and each founding grant's originator)
      propose             any active signatory
      approve             each active responsible authority, with its own key
      grant               the originator (a supplier of the dataset): its consent, on signed terms
      revoke              the grant's originator, or an active responsible authority
      suspend, reinstate  an active responsible authority other than the subject
      withdraw            the signatory itself, or an active responsible authority
      rekey               the signatory's old and new keys (or new key + every RA's approval)

    \b
    The IG lead's sequence:
      exchange governance found --config partnership.toml --key police.key --key council.key ...
      exchange governance anchor --out trust-anchor.json      (give this file to every site)
      exchange governance publish --bootstrap HOST:PORT       (or --publish on each decision)
    Every site then runs its services with --anchor trust-anchor.json: they follow the chain on
    the governance topic, check every signature against the anchor, and act on each decision
    within a second or two. `exchange audit verify --registry FILE` checks the stored chain.
    """


@command.command("found")
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The partnership's ISP config (TOML), signed whole into the founding decision.")
@REGISTRY_OPTION
@click.option("--key", "key_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A founding signatory's key file (repeat): every active responsible authority in the config, and "
                   "the approving originator of each grant it declares (a grant whose originator does not sign is "
                   "not imported).")
@click.option("--person", default=None, metavar="NAME", help="The person acting. Default: $EXCHANGE_ACTOR or login.")
@click.option("--role", required=True, metavar="ROLE", help="Their role (e.g. 'Partnership IG lead').")
@PUBLISH_OPTION
@click.option("--draft", "draft_to", default=None, type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the founding decision unsigned to FILE instead, for each founder to sign at its own site "
                   "(`exchange governance sign`); then `exchange governance submit FILE` founds the registry.")
@JSON_OPTION
def found(config_path, registry_path, key_files, person, role, publish_to, draft_to, as_json) -> None:
    """Found the partnership's chain: the config, signed by every founding responsible authority,
    becomes decision 1 of a new registry. Its signatories are the founding signatories; its grants
    those whose originator signed. Afterwards the config is never read for decisions again."""
    from exchange.cli._common import write_decision
    from exchange.crypto.keys import load_keypair
    from exchange.services.governance import found as found_chain
    from exchange.services.governance import founding_draft
    from exchange.storage.registry import default_actor

    text = Path(config_path).read_text(encoding="utf-8")
    if draft_to:
        write_decision(draft_to, founding_draft(text, person=person or default_actor(), role=role))
        click.echo(f"founding decision written to {draft_to}: every founder signs it (`exchange governance sign "
                   f"{draft_to} --key ... --as ID`), then `exchange governance submit {draft_to}`", err=True)
        return
    if not key_files:
        raise click.UsageError("give each founder's --key (or --draft FILE to have them sign at their own sites)")
    signers = [load_keypair(path) for path in key_files]

    async def action(registry, base):
        ledger = await found_chain(registry, text, signers=signers, person=person or default_actor(), role=role)
        return {"partnership": ledger.partnership().name, "version": ledger.version, "head": ledger.head,
                "signatories": sorted(ledger.records), "grants": [[g.signatory, g.dataset] for g in ledger.grants],
                "grants_not_imported": [list(r) for r in ledger.not_imported]}

    data = run_with_registry(None, registry_path, action, founded=False)
    lines = [f"founded {data['partnership']!r}: decision 1, hash {data['head']}",
             f"  signatories: {', '.join(data['signatories'])}",
             f"  grants: {len(data['grants'])} imported"]
    lines += [f"  NOT imported: the grant of {d} to {s}: {why}" for s, d, why in data["grants_not_imported"]]
    lines.append("Next: `exchange governance anchor --out trust-anchor.json`, and give that file to every site.")
    emit(data, as_json, "\n".join(lines))
    publish_chain(registry_path, publish_to)


@command.command("sign")
@click.argument("decision_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--key", "key_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Your signatory's key file (for a rekey: also the new key file, in a second run).")
@click.option("--as", "signer", required=True, metavar="ID",
              help="The signatory you sign for (the registry checks that this is its current key, or for a rekey "
                   "the new key in the decision).")
def sign(decision_file, key_file, signer) -> None:
    """Sign a drafted decision (from a command's --draft) at your own site: your key file never
    leaves it. Read DECISION_FILE first: what is signed is exactly what it says (action, subject,
    terms, person, role, time, and its place in the chain). The signature is added to the file."""
    from exchange.cli._common import write_decision
    from exchange.core.ledger import Decision
    from exchange.crypto.decisions import sign_decision
    from exchange.crypto.keys import load_keypair

    decision = Decision.from_json(Path(decision_file).read_bytes(), origin=decision_file)
    signed = sign_decision(decision, load_keypair(key_file), signer=signer)
    write_decision(decision_file, signed)
    click.echo(f"{decision_file}: decision {decision.version} ({decision.action} {decision.subject}) signed for "
               f"{signer}; {len(signed.signatures)} signature(s) now")


@command.command("submit")
@click.argument("decision_file", type=click.Path(exists=True, dir_okay=False))
@REGISTRY_OPTION
@PUBLISH_OPTION
def submit(decision_file, registry_path, publish_to) -> None:
    """Record a decision signed elsewhere (`exchange governance sign`). The registry checks it as
    it checks every decision: next on the chain, signed by whom the rules require, within them."""
    from exchange.core.ledger import Decision

    decision = Decision.from_json(Path(decision_file).read_bytes(), origin=decision_file)
    run_with_registry(None, registry_path, lambda registry, base: registry.decide(decision),
                      founded=decision.action != "found")
    click.echo(f"recorded decision {decision.version} ({decision.action} {decision.subject}), signed for "
               f"{', '.join(s.signer for s in decision.signatures)}")
    publish_chain(registry_path, publish_to)


@command.command("anchor")
@REGISTRY_OPTION
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the trust anchor to this file (0600) instead of printing it.")
def anchor(registry_path, out) -> None:
    """The partnership's trust anchor: its name and the founding responsible authorities' public
    Ed25519 keys. Configure it once at every site (--anchor): a site believes a governance chain
    only if its founding decision was signed by exactly these keys. It holds no secret."""
    from exchange.storage._files import open_private

    async def action(registry, base):
        return (await registry.ledger()).trust_anchor().as_dict()

    text = json.dumps(run_with_registry(None, registry_path, action), indent=2) + "\n"
    if out:
        with open_private(out, encoding="utf-8") as handle:
            handle.write(text)
        click.echo(f"trust anchor written to {out}", err=True)
    else:
        click.echo(text, nl=False)


@command.command("publish")
@REGISTRY_OPTION
@BOOTSTRAP_OPTION
def publish(registry_path, bootstrap) -> None:
    """Publish the registry's chain to the compacted governance topic (only the decisions the
    topic does not hold yet). Sites following it act on them within seconds."""

    run_with_registry(None, registry_path, lambda registry, base: registry.require_founded())
    publish_chain(registry_path, bootstrap)


@command.command("show")
@REGISTRY_OPTION
@JSON_OPTION
def show(registry_path, as_json) -> None:
    """The chain: each decision's version, time, action, subject, who signed and who acted."""

    async def action(registry, base):
        return [{"version": d.version, "at": d.at, "action": d.action, "subject": d.subject,
                 "signed_by": [s.signer for s in d.signatures], "person": d.person, "role": d.role,
                 "hash": d.digest()} for d in await registry.decisions()]

    rows = run_with_registry(None, registry_path, action)
    text = "\n".join(f"{r['version']:>4}  {r['at']}  {r['action']:<9} {r['subject']:<24} signed by "
                     f"{', '.join(r['signed_by'])}; {r['person']} ({r['role']})" for r in rows)
    emit(rows, as_json, text or "no decisions")
