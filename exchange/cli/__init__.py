"""`exchange`: the one command of the Community Safety Partnership secure exchange.

Subcommands are grouped by noun. Services (`sanitiser run`, `feed run`) run until interrupted;
every listing command takes `--json` for scripts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys

import click

from exchange.errors import ExchangeError

BOOTSTRAP_OPTION = click.option(
    "--bootstrap", envvar="EXCHANGE_BOOTSTRAP", default="127.0.0.1:9092", show_default=True,
    help="Kafka bootstrap address (host:port). Security settings come from EXCHANGE_SECURITY_PROTOCOL etc.",
)


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)


def run_until_signal(coroutine_factory) -> object:
    """Run a service coroutine(stop_event) until SIGINT/SIGTERM, then let it finish cleanly."""

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await coroutine_factory(stop)

    return asyncio.run(main())


def emit(data, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)


class ExchangeGroup(click.Group):
    """Turns the exchange's own errors into one clear line and exit status 2, not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ExchangeError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=ExchangeGroup)
@click.version_option(package_name="csp-exchange")
def main() -> None:
    """Share crime, disorder and anti-social behaviour data within a Community Safety
    Partnership: agency agents publish sealed records, the sanitiser depersonalises and
    re-seals them for each authorised subscriber, and subscribers' feeds store what they
    may open.

    Start with `exchange demo`, which runs the whole pipeline on a local broker.
    """


def _register() -> None:
    from exchange.cli import (
        acl,
        agent,
        audit,
        broker,
        demo,
        feed,
        keys,
        sanitise,
        sanitiser,
        schemas,
        signatory,
    )

    for module in (acl, agent, audit, broker, demo, feed, keys, sanitise, sanitiser, schemas, signatory):
        main.add_command(module.command)
    try:
        from exchange.cli.gazetteer import gazetteer
    except ImportError:  # pragma: no cover - during development only
        return
    main.add_command(gazetteer)


_register()
