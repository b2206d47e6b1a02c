"""`exchange`: the one command of the Community Safety Partnership secure exchange.

Subcommands are grouped by noun. Services (`sanitiser run`, `feed run`) run until interrupted;
every listing command takes `--json` for scripts.
"""

from __future__ import annotations

import click

from exchange.cli._common import SITE_OPTION, ExchangeGroup, use_site

__all__ = ["ExchangeGroup", "main"]


@click.group(cls=ExchangeGroup)
@click.version_option(package_name="csp-exchange", help="Show the version and exit.")
@SITE_OPTION
@click.pass_context
def main(ctx: click.Context, site_path: str | None) -> None:
    """Share crime, disorder and anti-social behaviour data within a Community Safety
    Partnership: agency agents publish sealed records, the sanitiser depersonalises and
    re-seals them for each authorised subscriber, and subscribers' feeds store what they
    may open.

    Start with `exchange demo`, which runs the whole pipeline on a local broker.

    A site config (--site, $EXCHANGE_CONFIG or ./exchange.toml) gives the defaults of the
    options every command shares: see config/exchange.toml.
    """
    use_site(ctx, site_path)


def _register() -> None:
    from exchange.cli import (
        acl,
        agent,
        audit,
        briefing,
        broker,
        demo,
        feed,
        gazetteer,
        governance,
        keys,
        sanitise,
        sanitiser,
        schemas,
        signatory,
        status,
    )

    for module in (acl, agent, audit, briefing, broker, demo, feed, governance, keys, sanitise, sanitiser, schemas,
                   signatory, status):
        main.add_command(module.command)
    main.add_command(gazetteer.gazetteer)


_register()
