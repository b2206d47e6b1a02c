"""exchange agent ..."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path

import click

from exchange.cli._common import (
    BOOTSTRAP_OPTION,
    LOG_JSON_OPTION,
    METRICS_PORT_OPTION,
    ExchangeGroup,
    emit,
    run_until_signal,
    serve_health,
    setup_logging,
    start_follower,
)


def agent_partnership(config, bootstrap: str):
    """The partnership as this agent sees it: its ISP config, or the signed state on the governance
    topic (read once, checked against the trust anchor) when the config names a trust_anchor."""
    if config.trust_anchor is None:
        from exchange.core.partnership import load_partnership

        return load_partnership(config.partnership)
    from exchange.transport.kafka import KafkaSettings

    async def read():
        follower = await start_follower(KafkaSettings.from_environment(bootstrap), str(config.trust_anchor))
        try:
            return follower.partnership()
        finally:
            await follower.stop()

    return asyncio.run(read())


def _progress(label: str):
    last = [0.0]

    def report(count: int) -> None:
        import time

        if time.monotonic() - last[0] > 1.0:
            click.echo(f"  {label}: {count}", err=True)
            last[0] = time.monotonic()

    return report


def _on_wait(waiting: int, oldest: float, delay: float) -> None:
    since = dt.datetime.fromtimestamp(oldest).strftime("%Y-%m-%d %H:%M:%S")
    click.echo(f"  broker unavailable: {waiting} record(s) waiting in the outbox since {since}; "
               f"retrying in {delay:.0f} s", err=True)


@click.group("agent", cls=ExchangeGroup)
def command() -> None:
    """The agency-side agent: validate an export, seal it for the sanitiser, publish it
    through a durable outbox."""


@command.command("submit")
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The agent's mapping file (TOML).")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@BOOTSTRAP_OPTION
@click.option("--give-up-after", default=300.0, show_default=True,
              help="Seconds to keep retrying an unavailable broker; what is unsent stays in the outbox.")
@click.option("--check", is_flag=True,
              help="Validate only: write the quarantine report and say what would be sent; seal, store and "
                   "publish nothing (no key file or broker needed).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail too.")
def submit(config_path: str, csv_file: str, bootstrap: str, give_up_after: float, check: bool, as_json: bool,
           verbose: bool) -> None:
    """Submit one CSV export. Rejected rows go to FILE.quarantine.csv with row number and
    reasons; rows already submitted are not published again. Exit status 1 if any row was
    rejected or any record is still waiting in the outbox."""
    from agents.agent import check as run_check
    from agents.agent import submit as run_submit
    from agents.config import AgentConfig
    from exchange.core.schemas import catalogue
    from exchange.crypto.keys import load_keypair
    from exchange.transport.kafka import KafkaSettings

    setup_logging(verbose)
    config = AgentConfig.load(config_path)
    partnership = agent_partnership(config, bootstrap)
    dataset = catalogue()[config.dataset]
    if check:
        result, marking, quarantine = run_check(config, Path(csv_file), partnership=partnership, dataset=dataset)
        rows = len(result.accepted) + len(result.rejected)
        emit({"file": csv_file, "rows": rows, "accepted": len(result.accepted), "rejected": len(result.rejected),
              "marking": str(marking), "quarantine": str(quarantine) if quarantine else None, "published": 0},
             as_json, f"{csv_file}: {rows} rows, {len(result.accepted)} would be sent marked {marking}, "
                      f"{len(result.rejected)} rejected" + (f"\nrejected rows and reasons: {quarantine}"
                                                             if quarantine else "") + "\n(check only: nothing sent)")
        sys.exit(0 if not result.rejected else 1)
    keys = load_keypair(config.key_file)
    report = asyncio.run(run_submit(
        config, Path(csv_file), partnership=partnership, dataset=dataset, keys=keys,
        settings=KafkaSettings.from_environment(bootstrap), give_up_after=give_up_after,
        on_progress=_progress("published"), on_wait=_on_wait))
    _emit_report(report, as_json)


@command.command("withdraw")
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The agent's mapping file (TOML): its column names name the key columns.")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@BOOTSTRAP_OPTION
@click.option("--give-up-after", default=300.0, show_default=True,
              help="Seconds to keep retrying an unavailable broker; what is unsent stays in the outbox.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail too.")
def withdraw(config_path: str, csv_file: str, bootstrap: str, give_up_after: float, as_json: bool,
             verbose: bool) -> None:
    """Withdraw records this agency supplied (no-crimed, cancelled, entered in error): every
    subscriber deletes them, and the deletion is audited at the sanitiser and at each feed.

    CSV_FILE holds one row per record with the dataset's natural-key columns, named as in the
    export (for police crime: the crime reference). A record withdrawn and later supplied again
    is sent again. Rows naming no valid key go to FILE.quarantine.csv; exit status 1 then."""
    from agents.agent import withdraw as run_withdraw
    from agents.config import AgentConfig
    from exchange.core.schemas import catalogue
    from exchange.crypto.keys import load_keypair
    from exchange.transport.kafka import KafkaSettings

    setup_logging(verbose)
    config = AgentConfig.load(config_path)
    report = asyncio.run(run_withdraw(
        config, Path(csv_file), partnership=agent_partnership(config, bootstrap), dataset=catalogue()[config.dataset],
        keys=load_keypair(config.key_file), settings=KafkaSettings.from_environment(bootstrap),
        give_up_after=give_up_after, on_wait=_on_wait))
    _emit_report(report, as_json)


@command.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The agent's mapping file (TOML), with an [inbox] table naming the folder to watch.")
@BOOTSTRAP_OPTION
@click.option("--poll", type=click.FloatRange(min=0.1), default=None, metavar="SECONDS",
              help="Look at the inbox every SECONDS instead of being told of changes by the filesystem (inotify, "
                   "through watchfiles): for folders where inotify sees nothing, such as network shares.")
@click.option("--give-up-after", default=60.0, show_default=True,
              help="Seconds one attempt keeps retrying an unavailable broker; the file then stays in the inbox "
                   "and is tried again later.")
@METRICS_PORT_OPTION
@LOG_JSON_OPTION
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail too.")
def run(config_path: str, bootstrap: str, poll: float | None, give_up_after: float, metrics_port: int | None,
        log_json: bool, verbose: bool) -> None:
    """Run the agent as a service: watch the inbox folder of the config's [inbox] table and
    submit each export that lands there once it is complete (renamed from NAME.part, or
    unchanged for inbox.stable_seconds), then move it to the processed folder (with its
    quarantine report) or, if it is refused or every row is rejected, to the failed folder with
    NAME.error.txt saying why. A file waits in the inbox while the broker is away. Logs one line
    per file; stops cleanly on SIGINT or SIGTERM. With --metrics-port, files by outcome and the
    outbox (records waiting, the oldest's age) are served on 127.0.0.1 (/status, /metrics)."""
    from agents.config import AgentConfig
    from agents.inbox import Inbox
    from exchange.core.partnership import load_partnership
    from exchange.core.schemas import catalogue
    from exchange.crypto.keys import load_keypair
    from exchange.errors import ConfigError
    from exchange.services.health import agent_health
    from exchange.storage.outbox import Outbox
    from exchange.transport.kafka import KafkaSettings

    setup_logging(verbose, log_json)
    config = AgentConfig.load(config_path)
    if config.inbox is None:
        raise ConfigError(f"{config_path}: no [inbox] table: `exchange agent run` needs the folder to watch "
                          "(inbox.folder; see the README, \"The agent as a service\")")
    dataset = catalogue()[config.dataset]
    keys = load_keypair(config.key_file)
    settings = KafkaSettings.from_environment(bootstrap)

    async def service(stop):
        follower = None
        if config.trust_anchor is not None:
            follower = await start_follower(settings, str(config.trust_anchor))
            partnership = follower.partnership()
        else:
            assert config.partnership is not None  # AgentConfig.load requires one of the two
            partnership = load_partnership(config.partnership)
        inbox = Inbox(config, partnership=partnership, dataset=dataset, keys=keys, settings=settings, poll=poll,
                      give_up_after=give_up_after, partnership_source=follower.partnership_source if follower else None)
        try:
            await _serve_inbox(inbox, stop)
        finally:
            if follower is not None:
                await follower.stop()

    async def _serve_inbox(inbox, stop):
        if metrics_port is None:
            outcomes = await inbox.run(stop)
        else:
            async with Outbox(config.outbox) as outbox:  # read for its gauges; submissions open their own
                health = agent_health(inbox, outbox.stats, signatory=config.signatory, dataset=config.dataset)
                with serve_health(health, metrics_port):
                    outcomes = await inbox.run(stop)
        went = [outcome.went for outcome in outcomes]
        click.echo(f"stopped: {went.count('processed') + went.count('deleted')} file(s) processed, "
                   f"{went.count('failed')} failed", err=True)

    run_until_signal(service)


def _emit_report(report, as_json: bool) -> None:
    data = {
        "file": str(report.source), "rows": report.rows, "accepted": report.accepted, "rejected": report.rejected,
        "already_submitted": report.already_submitted, "withdrawn": report.withdrawn,
        "already_withdrawn": report.already_withdrawn, "published": report.published, "waiting": report.waiting,
        "quarantine": str(report.quarantine) if report.quarantine else None,
    }
    text = (f"{report.source}: {report.rows} rows, {report.accepted} accepted, {report.rejected} rejected, "
            f"{report.already_submitted} already submitted")
    if report.withdrawn or report.already_withdrawn:
        text += f", {report.withdrawn} withdrawn ({report.already_withdrawn} withdrawn before)"
    text += f"; {report.published} message(s) published, {report.waiting} waiting in the outbox"
    if report.quarantine:
        text += f"\nrejected rows and reasons: {report.quarantine}"
    emit(data, as_json, text)
    sys.exit(0 if report.ok else 1)


@command.command("status")
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The agent's mapping file (TOML).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")
def status(config_path: str, as_json: bool) -> None:
    """How many sealed records wait in the outbox, and since when."""
    from agents.config import AgentConfig
    from exchange.storage.outbox import Outbox

    config = AgentConfig.load(config_path)

    async def read():
        async with Outbox(config.outbox) as outbox:
            return await outbox.stats()

    stats = asyncio.run(read())
    since = (dt.datetime.fromtimestamp(stats.oldest_created_at).isoformat(timespec="seconds")
             if stats.oldest_created_at else None)
    emit({"waiting": stats.waiting, "waiting_since": since, "published": stats.published}, as_json,
         f"{stats.waiting} waiting" + (f" since {since}" if since else "") + f"; {stats.published} published in all")


@command.command("flush")
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The agent's mapping file (TOML).")
@BOOTSTRAP_OPTION
@click.option("--give-up-after", default=300.0, show_default=True,
              help="Seconds to keep retrying an unavailable broker; what is unsent stays in the outbox.")
def flush(config_path: str, bootstrap: str, give_up_after: float) -> None:
    """Publish whatever waits in the outbox (after a broker outage or an agent crash)."""
    from agents.config import AgentConfig
    from agents.publisher import publish_with_retry
    from exchange.storage.outbox import Outbox
    from exchange.transport.kafka import KafkaSettings

    config = AgentConfig.load(config_path)

    async def run():
        async with Outbox(config.outbox) as outbox:
            sent = await publish_with_retry(outbox, KafkaSettings.from_environment(bootstrap),
                                            give_up_after=give_up_after, on_wait=_on_wait)
            return sent, await outbox.stats()

    sent, stats = asyncio.run(run())
    click.echo(f"{sent} published, {stats.waiting} still waiting")
    sys.exit(0 if stats.waiting == 0 else 1)
