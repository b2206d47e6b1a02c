"""exchange broker"""

from __future__ import annotations

import signal
import time

import click

from exchange.transport.broker import EmbeddedBroker


@click.command("broker")
@click.option("--port", type=int, default=None, help="Port on 127.0.0.1 (default: a free one).")
def command(port: int | None) -> None:
    """Run the embedded Kafka-protocol broker (Tansu) on 127.0.0.1 until interrupted.

    For the demo, tests and a developer's laptop: memory storage, no ACLs, no SASL or TLS.
    Prints the bootstrap address to use as --bootstrap / EXCHANGE_BOOTSTRAP.
    """
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    with EmbeddedBroker(port) as broker:
        click.echo(broker.bootstrap, nl=True)
        try:
            while not stopping:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
