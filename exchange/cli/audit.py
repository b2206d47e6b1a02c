"""exchange audit ..."""

from __future__ import annotations

import asyncio
import json

import click

from exchange.cli._common import ExchangeGroup, emit, parse_time
from exchange.storage.audit import KINDS

DB_OPTION = click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False),
                         help="The audit log (SQLite) to read.")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")

# The audit holds ids, hashes, counts and codes, no record content; a listing of what was shared
# with whom is still partnership business, so printed listings carry this marking top and bottom.
LISTING_MARKING = "OFFICIAL"


@click.group("audit", cls=ExchangeGroup)
def command() -> None:
    """The audit trail: what the exchange received, released, refused, withheld, delivered and
    destroyed, with whom and when.

    Every event is chained to the one before it by a SHA-256 hash, and the log's head (its latest
    seq and hash) is kept beside it, so a changed, deleted, reordered or cut-off event shows up in
    `exchange audit verify`. The log holds ids, hashes, counts, markings and reason codes, never
    record content or personal data.

    Someone able to rewrite the whole file could still forge a consistent log. Anchor it: print
    `exchange audit head` every day somewhere they cannot reach, and keep it.
    """


def _run(coroutine):
    return asyncio.run(coroutine)


@command.command("verify")
@click.option("--db", "db_path", default=None, type=click.Path(exists=True, dir_okay=False),
              help="An audit log (SQLite) to check.")
@click.option("--registry", "registry_path", default=None, type=click.Path(exists=True, dir_okay=False),
              help="A governance registry to check: its chain of signed decisions.")
@click.option("--anchor", "anchor_path", default=None, type=click.Path(exists=True, dir_okay=False),
              help="With --registry: the trust anchor its founding decision must match.")
@JSON_OPTION
def verify(db_path: str | None, registry_path: str | None, anchor_path: str | None, as_json: bool) -> None:
    """Check the hash chain of an audit log (--db), of the governance registry (--registry), or both.

    An audit log: recomputes every event's hash from its contents and the hash before it, checks
    that seq runs 1, 2, 3 ... without a gap, and that the head names the last event. Compare the
    head printed here with one anchored earlier: an anchored seq and hash must still be in the
    chain (`exchange audit show --json` lists every event's hash).

    The registry: replays its chain of decisions from the founding one, checking each decision's
    hash link, every signature against the key its signer held at that point, and every
    governance rule (with --anchor, that the founders are the trust anchor's). Prints the version
    and head hash when intact; otherwise the first decision that fails and why.

    Exits with status 1 if anything fails.
    """
    if not db_path and not registry_path:
        raise click.UsageError("give --db (an audit log), --registry (the governance registry), or both")
    results, ok = [], True
    if db_path:
        result = _verify_audit(db_path)
        ok &= result["ok"]
        results.append(result)
    if registry_path:
        result = _verify_registry(registry_path, anchor_path)
        ok &= result["ok"]
        results.append(result)
    emit(results if len(results) > 1 else results[0], as_json, "\n".join(r["text"] for r in results))
    if not ok:
        click.get_current_context().exit(1)


def _verify_audit(db_path: str) -> dict:
    from exchange.storage.audit import AuditLog

    async def run():
        async with AuditLog(db_path, create=False) as audit:
            return await audit.verify(), await audit.head()

    report, (seq, digest) = _run(run())
    if report.ok:
        text = (f"audit log {db_path}: OK, {report.events} event(s) checked, hash chain and head intact\n"
                f"head: seq {seq} sha256 {digest}")
    else:
        text = "\n".join([f"audit log {db_path}: TAMPERED, {len(report.problems)} problem(s) in {report.events} "
                          "event(s) checked"] + [f"  {problem}" for problem in report.problems])
    return {"ok": report.ok, "events": report.events, "head": {"seq": seq, "hash": digest},
            "problems": list(report.problems), "text": text}


def _verify_registry(registry_path: str, anchor_path: str | None) -> dict:
    from exchange.cli._common import load_trust_anchor
    from exchange.errors import GovernanceError
    from exchange.storage.registry import Registry

    anchor = load_trust_anchor(anchor_path) if anchor_path else None

    async def run():
        async with Registry(registry_path) as registry:
            return await registry.verify(anchor)

    try:
        ledger = _run(run())
    except GovernanceError as exc:
        return {"ok": False, "registry": registry_path, "problems": [str(exc)],
                "text": f"registry {registry_path}: BROKEN: {exc}"}
    return {"ok": True, "registry": registry_path, "decisions": ledger.version, "head": ledger.head, "problems": [],
            "text": f"registry {registry_path}: OK, {ledger.version} signed decision(s) checked, hash chain, "
                    f"signatures and rules intact{' against the trust anchor' if anchor else ''}\n"
                    f"head: decision {ledger.version} sha256 {ledger.head}"}


@command.command("show")
@DB_OPTION
@click.option("--dataset", help="Only events about this dataset id (e.g. police_crime_offence).")
@click.option("--since", callback=parse_time,
              help="Only events at or after this time: YYYY-MM-DD (from midnight UTC) or an "
                   "ISO-8601 time (without an offset, UTC).")
@click.option("--kind", type=click.Choice(sorted(KINDS)), help="Only events of this kind.")
@click.option("--message-id", help="Only events about this message id.")
@click.option("--recipient", help="Only events naming this signatory among the recipients.")
@JSON_OPTION
def show(db_path: str, dataset: str | None, since: str | None, kind: str | None, message_id: str | None,
         recipient: str | None, as_json: bool) -> None:
    """List audit events, oldest first: have we recorded that we shared this information, with
    whom, and when?

    Each line gives the time (UTC), the kind of event (receipt, sanitisation, release, rejection,
    withheld, retention, delivery), the dataset, the message id, the producing signatory, the
    recipients, the protective marking and the reason code, with a count where one event stands
    for several records. Filters combine: for example
    `exchange audit show --db audit.db --dataset police_crime_offence --kind release --since 2024-04-01`
    lists every release of police offences since April and to whom each went.

    --json prints every field, including each event's seq, content hash and chain hash.
    """
    from exchange.storage.audit import AuditLog

    async def run():
        async with AuditLog(db_path, create=False) as audit:
            return await audit.query(dataset=dataset, since=since, kind=kind, message_id=message_id,
                                     recipient=recipient)

    rows = _run(run())
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    click.echo(LISTING_MARKING)
    click.echo(_table(rows) if rows else "no audit events match")
    click.echo(f"{len(rows)} event(s)")
    click.echo(LISTING_MARKING)


@command.command("head")
@DB_OPTION
@JSON_OPTION
def head(db_path: str, as_json: bool) -> None:
    """Print the head of the audit log: the seq and SHA-256 hash of its latest event.

    Record this line somewhere the exchange's operators cannot rewrite (a daily print-out, a
    ticket, another organisation's mailbox). Later, `exchange audit verify` must show a chain that
    still contains that seq with that hash; if it does not, the log was rewritten. This command
    reads the head as stored and does not check it: run verify for that.
    """
    from exchange.storage.audit import AuditLog

    async def run():
        async with AuditLog(db_path, create=False) as audit:
            return await audit.head()

    seq, digest = _run(run())
    emit({"seq": seq, "hash": digest}, as_json, f"seq {seq} sha256 {digest}")


_HEADINGS = ("time (UTC)", "kind", "dataset", "message id", "producer", "recipients", "marking", "reason", "count")


def _table(rows: list[dict]) -> str:
    cells = [(_time(r["at"]), r["kind"], r["dataset"] or "-", r["message_id"] or "-", r["producer"] or "-",
              _recipients(r["recipients"]), r["marking"] or "-", r["reason_code"] or "-", str(r["count"]))
             for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(_HEADINGS)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(_HEADINGS), line(["-" * w for w in widths]), *map(line, cells)])


def _time(at: str) -> str:
    # Stored as 2024-04-01T09:30:12.123456+00:00; seconds are enough to read.
    return at[:19].replace("T", " ") if isinstance(at, str) else str(at)


def _recipients(recipients) -> str:
    if isinstance(recipients, list):
        return ",".join(str(r) for r in recipients) or "-"
    return str(recipients)


@command.command("report")
@DB_OPTION
@click.option("--originator", required=True, metavar="ID", help="The signatory whose supplies to report on.")
@click.option("--since", help="From this time: YYYY-MM-DD (midnight UTC) or an ISO-8601 time (no offset: UTC).")
@click.option("--until", help="Up to this time: YYYY-MM-DD (that whole day, UTC) or an ISO-8601 time (exclusive).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              help="The partnership's ISP config, for the grants (purpose, legal basis) releases were made under. "
                   "Without it (or --registry) every release shows \"no grant recorded\".")
@click.option("--registry", "registry_path", type=click.Path(exists=True, dir_okay=False),
              help="The governance registry: the grants come from its signed chain (every grant ever made, "
                   "revoked ones included, with the originator who consented) instead of the config.")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "html", "json"]), default="text",
              show_default=True, help="How to write the report.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="Write the report here (default: stdout).")
@click.option("--keys", "key_file", type=click.Path(exists=True, dir_okay=False),
              help="The sanitiser's key file: sign the report (needs --out). The signature (OUT.sig) covers the "
                   "report's canonical JSON, which is OUT itself with --format json, else written beside it as "
                   "OUT.json; check it with `exchange audit verify-report`.")
def report(db_path: str, originator: str, since: str | None, until: str | None, config_path: str | None,
           registry_path: str | None, fmt: str, out_path: str | None, key_file: str | None) -> None:
    """The originator's view of the sanitiser's audit log (--db): what became of ORIGINATOR's supplies.

    For the period: which recipients received how many of its records of which dataset, first and
    last, under which grant (purpose, legal basis, approver; "no grant recorded" when none was in
    force); what was withheld (no_recipient, originator_restricted), what was refused (rejections
    of messages verified as the originator's) by reason code, and what it withdrew. It answers
    the ISP question "Have I recorded that I have shared this information?". The report names
    partners and volumes: every format is marked OFFICIAL-SENSITIVE at top and bottom.
    """
    from pathlib import Path

    from exchange.services.originator_report import load_report, render, render_json, signed_form

    if key_file and not out_path:
        raise click.UsageError("--keys signs a report file: give --out FILE too")
    grants: tuple = ()
    if config_path:
        from exchange.core.partnership import load_partnership

        grants = load_partnership(config_path).grants
    if registry_path:
        from exchange.storage.registry import Registry

        async def chain_grants() -> tuple:
            async with Registry(registry_path) as registry:
                return tuple(g.as_grant() for g in await registry.grants())

        grants = _run(chain_grants())
    result = _run(load_report(db_path, originator, grants, since=since, until=until))
    text = render(result, fmt)
    if out_path is None:
        click.echo(text, nl=False)
        return
    out = Path(out_path)
    out.write_text(text, encoding="utf-8")
    if not key_file:
        click.echo(f"wrote {out}")
        return
    from exchange.crypto.keys import load_keypair
    from exchange.crypto.signed_reports import dumps, sign_report

    keys = load_keypair(key_file)
    signed = out if fmt == "json" else out.with_name(out.name + ".json")
    if signed != out:
        signed.write_text(render_json(result), encoding="utf-8")
    signature = Path(str(out) + ".sig")
    signature.write_text(dumps({**sign_report(keys, signed_form(result)), "report": signed.name}), encoding="utf-8")
    click.echo(f"wrote {out}" + (f" and {signed}" if signed != out else "") + f", signed in {signature}")


@command.command("verify-report")
@click.option("--report", "report_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The report's JSON form (OUT with --format json, else OUT.json).")
@click.option("--signature", "signature_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The signature file (OUT.sig).")
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The partnership's ISP config: the sanitiser's public key is checked against its [sanitiser].")
def verify_report_command(report_path: str, signature_path: str, config_path: str) -> None:
    """Check that a report from `exchange audit report --keys` was signed by the partnership's
    sanitiser and has not changed since. The signature covers the canonical JSON of the report
    (keys sorted, no spaces), so the JSON file's layout does not matter, its content does.
    Exits 0 when it verifies, 1 otherwise, saying why."""
    from exchange.core.originator_report import canonical_json
    from exchange.core.partnership import load_partnership
    from exchange.crypto.signed_reports import ReportSignatureError, verify_report

    sanitiser_key = load_partnership(config_path).sanitiser.ed25519
    try:
        document = json.loads(open(report_path, encoding="utf-8").read())
        signature = json.loads(open(signature_path, encoding="utf-8").read())
    except (UnicodeError, ValueError) as exc:
        raise ReportSignatureError(f"not JSON ({exc.__class__.__name__}): pass the report's JSON form "
                                   "and its .sig file") from None
    if not isinstance(document, dict):
        raise ReportSignatureError(f"{report_path}: not a report (a JSON object)")
    key = verify_report(canonical_json(document), signature, sanitiser_key)
    click.echo(f"{report_path}: signature OK, signed by the sanitiser's key {key}")
