"""exchange status --url"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

from exchange.cli._common import CONTEXT_SETTINGS, JSON_OPTION, emit, escape_controls, table


@click.command("status", context_settings=CONTEXT_SETTINGS)
@click.option("--url", required=True, metavar="URL",
              help="A daemon's health address, as it printed it when started with --metrics-port "
                   "(http://127.0.0.1:PORT).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds to wait for the answer.")
@JSON_OPTION
def command(url: str, timeout: float, as_json: bool) -> None:
    """What a running daemon (`sanitiser run`, `feed run`, `agent run`, `briefing serve`) is doing,
    from its /status: counts, dead letters by reason, consumer lag, the outbox, last supply per
    producer, the last error. A table, or the document itself with --json. Exit status 1 if it
    cannot be reached."""
    from exchange.errors import ExchangeError
    from exchange.services.health import fetch_status

    try:
        document = fetch_status(url, timeout=timeout)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ExchangeError(f"cannot read the status at {url}: {reason}") from None
    rows = [[escape_controls(str(cell)) for cell in row] for row in _rows(document)]
    emit(document, as_json, table(["what", "value"], rows))


def _rows(document: dict[str, Any], prefix: str = "") -> Iterator[list[Any]]:
    """One row per figure, nested sections named by their path (sanitiser.dead_letters.bad_signature)."""
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            if value:
                yield from _rows(value, name + ".")
            else:
                yield [name, "none"]
        else:
            yield [name, "-" if value is None else value]
