"""exchange feed ..."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from exchange.cli._common import (
    BOOTSTRAP_OPTION,
    ExchangeGroup,
    emit,
    run_until_signal,
    setup_logging,
)


@click.group("feed", cls=ExchangeGroup)
def command() -> None:
    """A subscriber's feed: receive what this signatory may open, keep it, export it."""


@command.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "signatory", required=True, help="The subscribing signatory's id.")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="The feed store (SQLite).")
@click.option("--keys", "key_file", required=True, type=click.Path(exists=True, dir_okay=False))
@BOOTSTRAP_OPTION
@click.option("--audit", "audit_path", type=click.Path(dir_okay=False), default=None,
              help="Hash-chained audit log of deliveries, refusals and retention (default: beside --db).")
@click.option("--retention-every", type=float, default=3600.0, show_default=True,
              help="Seconds between destroy-by sweeps (also run at start).")
@click.option("--until-idle", type=float, default=None, help="Stop after this many seconds with nothing new.")
@click.option("-v", "--verbose", is_flag=True)
def run(config_path, signatory, db_path, key_file, bootstrap, audit_path, retention_every, until_idle, verbose) -> None:
    """Consume shared.<dataset> (and restricted.<dataset>) for every dataset SIGNATORY is
    granted, open each record with its key, and store it once. Messages it cannot open are
    recorded as refused with the reason."""
    from exchange.core.partnership import load_partnership
    from exchange.core.schemas import catalogue
    from exchange.crypto.keys import load_keypair
    from exchange.services.feed import FeedService
    from exchange.storage.feed_store import FeedStore
    from exchange.transport.kafka import KafkaSettings

    setup_logging(verbose)
    partnership = load_partnership(config_path)
    keys = load_keypair(key_file)

    from exchange.storage.audit import AuditLog

    audit_file = audit_path or str(Path(db_path).with_suffix(".audit.db"))

    async def service(stop):
        async with FeedStore(db_path) as store, AuditLog(audit_file) as audit:
            feed = FeedService(partnership, catalogue(), keys, signatory, KafkaSettings.from_environment(bootstrap),
                               store, audit=audit, retention_every=retention_every)
            stats = await feed.run(stop, until_idle=until_idle)
            click.echo(f"stored {stats.stored}, duplicates ignored {stats.duplicates}, supplies {stats.supplies}, "
                       f"refused {stats.refused}, destroyed at retention {stats.destroyed}", err=True)

    run_until_signal(service)


@command.command("export")
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--dataset", required=True)
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False))
def export(db_path: str, dataset: str, fmt: str, out: str) -> None:
    """Export one dataset's stored records (shared form, handling caveats as columns)."""
    from exchange.core.schemas import catalogue
    from exchange.services.exports import export_csv
    from exchange.storage.feed_store import FeedStore

    async def run():
        async with FeedStore(db_path) as store:
            return await export_csv(store, dataset, catalogue(), Path(out))

    count = asyncio.run(run())
    click.echo(f"{count} record(s) of {dataset} written to {out}")


@command.command("status")
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
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
