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
@DB_OPTION
@JSON_OPTION
def verify(db_path: str, as_json: bool) -> None:
    """Check the whole hash chain and the head of the audit log at FILE.

    Recomputes every event's hash from its contents and the hash before it, checks that seq runs
    1, 2, 3 ... without a gap, and that the head names the last event. Prints how many events were
    checked and the head (seq and hash) when the log is intact; otherwise lists each problem with
    the seq where it is found, and exits with status 1.

    Compare the head printed here with one anchored earlier: an anchored seq and hash must still
    be in the chain (`exchange audit show --json` lists every event's hash).
    """
    from exchange.storage.audit import AuditLog

    async def run():
        async with AuditLog(db_path, create=False) as audit:
            return await audit.verify(), await audit.head()

    report, (seq, digest) = _run(run())
    if report.ok:
        emit({"ok": True, "events": report.events, "head": {"seq": seq, "hash": digest}, "problems": []}, as_json,
             f"audit log {db_path}: OK, {report.events} event(s) checked, hash chain and head intact\n"
             f"head: seq {seq} sha256 {digest}")
        return
    lines = [f"audit log {db_path}: TAMPERED, {len(report.problems)} problem(s) in {report.events} event(s) checked"]
    lines += [f"  {problem}" for problem in report.problems]
    emit({"ok": False, "events": report.events, "head": {"seq": seq, "hash": digest},
          "problems": list(report.problems)}, as_json, "\n".join(lines))
    click.get_current_context().exit(1)


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
