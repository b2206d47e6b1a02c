"""exchange feed ..."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from exchange.cli._common import (
    BOOTSTRAP_OPTION,
    JSON_OPTION,
    LOG_JSON_OPTION,
    METRICS_PORT_OPTION,
    OUTPUT_AUDIT_OPTION,
    STORE_KEYS_OPTION,
    ExchangeGroup,
    emit,
    escape_controls,
    feed_audit_path,
    parse_date,
    run_until_signal,
    serve_health,
    setup_logging,
    start_follower,
    store_sealing,
    table,
)


@click.group("feed", cls=ExchangeGroup)
def command() -> None:
    """A subscriber's feed: receive what this signatory may open, keep it, export it."""


@command.command("run")
@click.option("--config", "config_path", default=None, type=click.Path(exists=True, dir_okay=False),
              help="The partnership's ISP config (TOML). Not needed with --anchor.")
@click.option("--anchor", "anchor_path", envvar="EXCHANGE_TRUST_ANCHOR", show_envvar=True, default=None,
              type=click.Path(exists=True, dir_okay=False),
              help="The partnership's trust anchor (`exchange governance anchor`): the feed then follows the signed "
                   "chain on the governance topic, checked against it (grants, suspensions and keys take effect "
                   "within seconds, no file to edit), and needs no --config.")
@click.option("--as", "signatory", required=True, help="The subscribing signatory's id.")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="The feed store (SQLite).")
@click.option("--keys", "key_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The subscriber's key file: opens what is sealed to it, and seals the store at rest.")
@BOOTSTRAP_OPTION
@click.option("--audit", "audit_path", type=click.Path(dir_okay=False), default=None,
              help="Hash-chained audit log of deliveries, refusals and retention (default: beside --db).")
@click.option("--retention-every", type=float, default=3600.0, show_default=True,
              help="Seconds between destroy-by sweeps (also run at start).")
@click.option("--until-idle", type=float, default=None, help="Stop after this many seconds with nothing new.")
@METRICS_PORT_OPTION
@LOG_JSON_OPTION
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail too.")
def run(config_path, anchor_path, signatory, db_path, key_file, bootstrap, audit_path, retention_every, until_idle,
        metrics_port, log_json, verbose) -> None:
    """Consume shared.<dataset> (and restricted.<dataset>) for every dataset SIGNATORY is
    granted, open each record with its key, and store it once. Messages it cannot open are
    recorded as refused with the reason. With --anchor, what SIGNATORY is granted follows the
    governance topic live: a new grant is consumed at once, and a suspension, revocation or
    expiry destroys the personal records it holds. With --metrics-port, records stored,
    superseded, withdrawn and refused and the consumer lag are served on 127.0.0.1."""
    from exchange.core.partnership import load_partnership
    from exchange.core.schemas import catalogue
    from exchange.crypto.keys import load_keypair
    from exchange.services.feed import FeedService
    from exchange.services.health import feed_health
    from exchange.storage.audit import AuditLog
    from exchange.storage.feed_store import FeedStore
    from exchange.transport.kafka import KafkaSettings

    if not config_path and not anchor_path:
        raise click.UsageError("give --anchor (follow the governance topic) or --config (the ISP config)")
    setup_logging(verbose, log_json)
    base = load_partnership(config_path) if config_path else None
    keys = load_keypair(key_file)
    settings = KafkaSettings.from_environment(bootstrap)
    audit_file = feed_audit_path(db_path, audit_path)

    async def service(stop):
        follower = await start_follower(settings, anchor_path, base=base) if anchor_path else None
        partnership = follower.partnership() if follower else base
        try:
            async with FeedStore(db_path) as store, AuditLog(audit_file) as audit:
                feed = FeedService(partnership, catalogue(), keys, signatory, settings, store, audit=audit,
                                   retention_every=retention_every, governance=follower)
                with serve_health(feed_health(feed), metrics_port):
                    stats = await feed.run(stop, until_idle=until_idle)
                click.echo(f"stored {stats.stored}, duplicates ignored {stats.duplicates}, supplies {stats.supplies}, "
                           f"refused {stats.refused}, destroyed at retention {stats.destroyed}", err=True)
        finally:
            if follower is not None:
                await follower.stop()

    run_until_signal(service)


@command.command("reseal")
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False), help="The feed store.")
@click.option("--old-keys", "old_key_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The key file the store was sealed with (the signatory's keys before `signatory rekey`).")
@click.option("--keys", "key_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The signatory's new key file.")
def reseal(db_path: str, old_key_file: str, key_file: str) -> None:
    """Seal the feed store's records again under a new key file, after `exchange signatory rekey`:
    the feed (and export, briefing) then opens it with the new key file. Both key files may have
    their own passphrase: $EXCHANGE_KEY_PASSPHRASE is asked for each unless set."""
    from exchange.crypto.at_rest import AtRest
    from exchange.crypto.keys import load_keypair
    from exchange.storage.feed_store import FeedStore

    old = AtRest.for_keys(load_keypair(old_key_file), "feed store")
    new = AtRest.for_keys(load_keypair(key_file), "feed store")

    async def run() -> int:
        async with FeedStore(db_path, sealing=old) as store:
            return await store.reseal(new)

    count = asyncio.run(run())
    click.echo(f"{db_path}: {count} sealed value(s) resealed under the new key file; open it with --keys {key_file}")


@command.command("export")
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False), help="The feed store.")
@click.option("--dataset", required=True, help="The dataset id to export (see `exchange schemas list`).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "geojson", "gpkg"]), default=None,
              help="csv (UTF-8 with a byte-order mark; handling in FILE.handling.txt), xlsx, geojson or gpkg. "
                   "Default: from the suffix of --out (.csv .xlsx .geojson .json .gpkg), else csv.")
@click.option("--since", type=str, callback=parse_date, default=None, metavar="YYYY-MM-DD",
              help="Only records whose event date is on or after this day.")
@click.option("--until", type=str, callback=parse_date, default=None, metavar="YYYY-MM-DD",
              help="Only records whose event date is on or before this day.")
@click.option("--crs", type=click.Choice(["4326", "27700"]), default=None,
              help="Coordinates of geojson and gpkg: 4326 (WGS 84 lon/lat; the geojson default, RFC 7946) or "
                   "27700 (British National Grid; the gpkg default).")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The file to write.")
@STORE_KEYS_OPTION
@OUTPUT_AUDIT_OPTION
def export(db_path: str, dataset: str, fmt: str | None, since, until, crs: str | None, out: str,
           key_file: str | None, audit_path: str | None) -> None:
    """Export one dataset's stored records for analysts: the shared form with each code's name
    beside it and the handling caveats as columns, carrying the marking (the highest of the
    records), caveats and destroy-by date inside the file (csv: in FILE.handling.txt beside it).
    The export is recorded in the feed's audit log (what, how many, marking, file, who); a sealed
    store needs its key file (--keys)."""
    from exchange.core.schemas import catalogue
    from exchange.services.exports import export as write_export
    from exchange.services.exports import format_for, handling_path, output_event
    from exchange.storage.audit import AuditLog
    from exchange.storage.feed_store import FeedStore

    chosen = fmt or format_for(out)
    sealing = store_sealing(key_file)

    async def run():
        async with FeedStore(db_path, sealing=sealing) as store:
            result = await write_export(store, dataset, catalogue(), Path(out), fmt=chosen, since=since,
                                        until=until, crs=int(crs) if crs else None, db_path=db_path)
        period = f"event dates {since or 'any'} to {until or 'any'}"
        try:
            async with AuditLog(feed_audit_path(db_path, audit_path)) as audit:
                await audit.append(output_event("export", dataset, result.records, str(result.marking),
                                                f"{chosen} export of {dataset}, {period}", out))
        except BaseException:
            for written in (Path(out), handling_path(out)):  # an output the audit does not record must not exist
                written.unlink(missing_ok=True)
            raise
        return result

    result = asyncio.run(run())
    notes = [f"marked {result.marking}"]
    if result.destroy_by:
        notes.append(f"destroy by {result.destroy_by}")
    if result.crs:
        notes.append(f"EPSG:{result.crs}")
    if result.without_geometry:
        notes.append(f"{result.without_geometry} without coordinates (null geometry)")
    if result.handling_file:
        notes.append(f"handling in {result.handling_file}")
    click.echo(f"{result.records} record(s) of {dataset} written to {out} as {chosen} ({'; '.join(notes)})")


@command.command("supplies")
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False), help="The feed store.")
@click.option("--dataset", default=None, help="Only the supplies of this dataset.")
@JSON_OPTION
@STORE_KEYS_OPTION
def supplies(db_path: str, dataset: str | None, as_json: bool, key_file: str | None) -> None:
    """Every supply received, with its metadata (guidance 3.4): supplier, contact, dataset,
    period, records, rejected, date supplied and caveats."""
    from exchange.services.exports import list_supplies
    from exchange.storage.feed_store import FeedStore

    async def read():
        async with FeedStore(db_path, sealing=store_sealing(key_file)) as store:
            return await list_supplies(store, dataset)

    found = asyncio.run(read())
    rows = [[s["supplier"], s["contact"] or "", s["dataset"], f"{s['period_start'] or '?'} to {s['period_end'] or '?'}",
             s["records"], s["rejected"], s["date_supplied"] or "", s["caveats"] or ""] for s in found]
    text = table(["supplier", "contact", "dataset", "period", "records", "rejected", "supplied", "caveats"],
                 [[escape_controls(str(c)) for c in row] for row in rows]) if rows else "no supplies received"
    emit(found, as_json, text)


@command.command("aggregates")
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The feed store (SQLite) of a signatory the partnership names for aggregates.")
@click.option("--dataset", default=None, help="Only this dataset's tables.")
@click.option("--json", "as_json", is_flag=True, help="The tables as JSON (suppressed counts are null).")
def aggregates(db_path: str, dataset: str | None, as_json: bool) -> None:
    """The aggregate tables received (scrutiny, tier 3): records per postcode sector and
    category for each month, beside the same month a year earlier, small numbers shown as "<5"
    (the rule is printed with each table), each table with its marking."""
    from exchange.storage.feed_store import FeedStore

    async def read():
        async with FeedStore(db_path) as store:
            return await store.aggregates(dataset)

    tables = asyncio.run(read())
    if as_json:
        emit(tables, True, "")
        return
    blocks = []
    for found in tables:
        suppressed = f"<{found['threshold']}"

        def shown(value, suppressed=suppressed) -> str:
            return suppressed if value is None else str(value)
        rows = [[escape_controls(c["area"]), escape_controls(c["category"]), shown(c["count"]), shown(c["last_year"])]
                for c in found["cells"] if c["count"] != 0 or c["last_year"] != 0]
        rows.append(["all", "all", shown(found["total"]), shown(found["total_last_year"])])
        blocks.append(f"{found['marking']}\n{found['dataset']} {found['month']} (by {found['area_kind']} and "
                      f"{found['category_field'] or 'category'}; a year earlier beside it)\n"
                      + table(["area", "category", "records", "a year earlier"], rows) + f"\n{found['rule']}\n"
                      + found["marking"])
    emit(tables, False, "\n\n".join(blocks) or "no aggregate tables received")


@command.command("status")
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The feed store.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")
def status(db_path: str, as_json: bool) -> None:
    """Records held per dataset, supplies received, and refusals by reason."""
    from exchange.storage.feed_store import FeedStore

    async def read():
        async with FeedStore(db_path) as store:
            return await store.counts_by_dataset(), len(await store.supplies()), await store.refusals()

    held, supplies, refused = asyncio.run(read())
    lines = [f"{dataset}: {count} record(s)" for dataset, count in sorted(held.items())] or ["no records"]
    lines.append(f"supplies received: {supplies}")
    lines.append("refused: " + (", ".join(f"{k} {v}" for k, v in sorted(refused.items())) or "none"))
    emit({"records": held, "supplies": supplies, "refused": refused}, as_json, "\n".join(lines))
