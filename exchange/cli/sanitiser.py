"""exchange sanitiser run"""

from __future__ import annotations

from contextlib import AsyncExitStack

import click

from exchange.cli._common import (
    BOOTSTRAP_OPTION,
    LOG_JSON_OPTION,
    METRICS_PORT_OPTION,
    ExchangeGroup,
    run_until_signal,
    serve_health,
    setup_logging,
    start_follower,
)


@click.group("sanitiser", cls=ExchangeGroup)
def command() -> None:
    """The central sanitiser service."""


@command.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The partnership's ISP config (TOML).")
@click.option("--keys", "key_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The sanitiser's key file (holds the pseudonym secret).")
@click.option("--gazetteer", "gazetteer_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Postcode gazetteer database (exchange gazetteer load / synth).")
@click.option("--audit", "audit_path", required=True, envvar="EXCHANGE_SANITISER_AUDIT", show_envvar=True,
              type=click.Path(dir_okay=False),
              help="SQLite hash-chained audit log of every receipt, sanitisation, release and rejection; it also "
                   "holds the ids processed (a redelivery is skipped, a replay refused), written with their events.")
@click.option("--registry", "registry_path", envvar="EXCHANGE_REGISTRY", show_envvar=True, default=None,
              type=click.Path(dir_okay=False),
              help="The governance registry (`exchange signatory` / `exchange acl`). When given, suppliers, "
                   "recipients, grants and suspensions follow it, re-read every --refresh seconds; without it, "
                   "the config alone.")
@click.option("--anchor", "anchor_path", envvar="EXCHANGE_TRUST_ANCHOR", show_envvar=True, default=None,
              type=click.Path(exists=True, dir_okay=False),
              help="The partnership's trust anchor (`exchange governance anchor`). When given, signatories, keys, "
                   "grants and suspensions follow the signed chain on the governance topic, checked against it, "
                   "looked at every --refresh seconds (instead of --registry).")
@click.option("--refresh", "refresh_every", type=float, default=1.0, show_default=True,
              help="Seconds between looks at the registry or the governance topic: a suspension takes effect "
                   "within this time.")
@click.option("--aggregates", "tallies_path", envvar="EXCHANGE_SANITISER_AGGREGATES", show_envvar=True,
              default=None, type=click.Path(dir_okay=False),
              help="SQLite file of aggregate counts (month, postcode sector, category per released record; no "
                   "record content). When given, the tables are published, small numbers suppressed, to the "
                   "signatories the config's [aggregates] names.")
@click.option("--aggregate-every", type=float, default=3600.0, show_default=True,
              help="Seconds between publications of the aggregate tables that changed.")
@click.option("--scale-out", is_flag=True,
              help="Join the consumer group so that several sanitiser processes (same config, keys, audit and "
                   "aggregates files) share the partitions (EXCHANGE_TOPIC_PARTITIONS). Without it this process "
                   "takes every partition itself and is consuming at once; run only one such process.")
@click.option("--member", "member", default=None, metavar="N/MEMBERS",
              help="Take a fixed share of the partitions instead of joining the group: member N of MEMBERS "
                   "takes partition p when p modulo MEMBERS is N-1. Run one process for each N (same files as "
                   "--scale-out). Each is consuming at once, also after a restart, where a group join takes "
                   "seconds; but a member that is down holds its share until it is restarted.")
@BOOTSTRAP_OPTION
@METRICS_PORT_OPTION
@LOG_JSON_OPTION
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail too.")
def run(config_path: str, key_file: str, gazetteer_path: str, audit_path: str,
        registry_path: str | None, anchor_path: str | None, refresh_every: float, tallies_path: str | None,
        aggregate_every: float, scale_out: bool, member: str | None, bootstrap: str, metrics_port: int | None,
        log_json: bool, verbose: bool) -> None:
    """Consume raw.<dataset> for every dataset a signatory supplies; verify the producer, open,
    depersonalise (Home Office Appendix 1), mark, seal for each granted subscriber and publish
    to shared.<dataset> (restricted.<dataset> for personal datasets). What it cannot process goes
    to deadletter.sanitiser with the reason; it never stops on bad input. Prints counts every
    few seconds. With --metrics-port, its counts, dead letters by reason, last supply per producer
    and consumer lag are served on 127.0.0.1 (/status, /metrics)."""
    from exchange.core.partnership import load_partnership
    from exchange.core.schemas import catalogue
    from exchange.crypto.keys import load_keypair
    from exchange.services.health import sanitiser_health
    from exchange.services.sanitiser import SanitiserService
    from exchange.services.sanitiser_core import SanitiserCore
    from exchange.storage.audit import AuditLog
    from exchange.storage.gazetteer import Gazetteer
    from exchange.storage.tallies import TallyStore
    from exchange.transport.kafka import KafkaSettings, Share

    setup_logging(verbose, log_json)
    if registry_path and anchor_path:
        raise click.UsageError("give --registry (a local registry) or --anchor (the governance topic), not both")
    if scale_out and member:
        raise click.UsageError("give --scale-out (join the group) or --member (a fixed share), not both")
    share = Share.parse(member) if member else None
    base = load_partnership(config_path)
    keys, gazetteer = load_keypair(key_file), Gazetteer.open(gazetteer_path)
    settings = KafkaSettings.from_environment(bootstrap)

    async def service(stop):
        async with AsyncExitStack() as files:
            partnership, source = base, None
            if registry_path:
                from exchange.storage.registry import partnership_source

                source = await files.enter_async_context(partnership_source(registry_path, base))
                partnership = await source()
            elif anchor_path:
                follower = await start_follower(settings, anchor_path, base=base)
                files.push_async_callback(follower.stop)
                partnership, source = follower.partnership(), follower.partnership_source
            core = SanitiserCore(partnership, catalogue(), keys, gazetteer)
            audit = await files.enter_async_context(AuditLog(audit_path))
            tallies = await files.enter_async_context(TallyStore(tallies_path)) if tallies_path else None
            sanitiser = SanitiserService(core, settings, ledger=audit,
                                         partnership_source=source, refresh_every=refresh_every, tallies=tallies,
                                         aggregate_every=aggregate_every, scale_out=scale_out, share=share)
            files.enter_context(serve_health(sanitiser_health(sanitiser), metrics_port))
            await sanitiser.run(stop)

    run_until_signal(service)
