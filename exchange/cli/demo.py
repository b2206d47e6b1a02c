"""exchange demo"""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("demo")
@click.option("--workdir", type=click.Path(file_okay=False), default="demo-run", show_default=True,
              help="Where the synthetic partnership, logs, stores and briefing go (emptied first).")
@click.option("--rows", type=int, default=300, show_default=True, help="Crimes in the synthetic police export.")
@click.option("--timeout", type=float, default=180.0, show_default=True, help="Seconds to wait for delivery.")
def command(workdir: str, rows: int, timeout: float) -> None:
    """Run the whole exchange on a local broker with synthetic data, and print a summary and a
    briefing. Every process it starts is stopped before it returns."""
    from exchange.services.demo import run_demo

    try:
        summary = run_demo(Path(workdir), rows=rows, timeout=timeout)
    except RuntimeError as exc:
        click.echo(f"demo failed: {exc}", err=True)
        sys.exit(1)
    click.echo(summary.render())
    click.echo("")
    click.echo(summary.briefing_text)
    click.echo(f"\nThe briefing as a page: {summary.briefing_path}")
    root = Path(workdir)
    passphrase, store, key = root / ".passphrase", root / "northshire-council-feed.db", root / "keys"
    click.echo(f"The demo's key files ({key}) open with the passphrase in {passphrase} (0600), e.g.\n"
               f"  EXCHANGE_KEY_PASSPHRASE_FILE={passphrase} exchange feed export --db {store} "
               f"--keys {key / 'northshire-council.key'} --dataset police_crime_offence --out offences.xlsx")
