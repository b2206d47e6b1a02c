"""What the exchange's commands share: options, output, logging, service running, and the one
place where errors become exit statuses.

Exit statuses, for schedulers and scripts:
  0  done
  1  an application error: the exchange refused or could not do it (a governance rule, a bad
     file, a wrong passphrase, the broker), or it ran and rejected something (quarantined rows,
     records still waiting in the outbox); the message says which
  2  a usage error: the command line itself is wrong (unknown option, missing or bad value)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click

from exchange.errors import ExchangeError, UsageError

__all__ = [
    "BOOTSTRAP_OPTION", "BY_OPTION", "CONFIG_OPTION", "CONTEXT_SETTINGS", "EXIT_APPLICATION_ERROR",
    "EXIT_USAGE_ERROR", "JSON_OPTION", "LOG_JSON_OPTION", "METRICS_PORT_OPTION", "REGISTRY_OPTION", "ExchangeGroup",
    "JsonLineFormatter", "OneLineFormatter", "briefing_options", "emit", "escape_controls", "governance_options",
    "parse_areas", "parse_date", "parse_time", "report_sync", "run_until_signal", "run_with_registry", "serve_health",
    "setup_logging", "table",
]

EXIT_APPLICATION_ERROR = 1
EXIT_USAGE_ERROR = 2
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}

BOOTSTRAP_OPTION = click.option(
    "--bootstrap", envvar="EXCHANGE_BOOTSTRAP", default="127.0.0.1:9092", show_default=True, show_envvar=True,
    help="Kafka bootstrap address (host:port). Security settings come from EXCHANGE_SECURITY_PROTOCOL etc.",
)
CONFIG_OPTION = click.option(
    "--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False),
    help="The partnership's ISP config (TOML). It seeds the registry: signatories and grants it declares that "
         "the registry has never held are added; decisions already in the registry are never overridden by it.")
REGISTRY_OPTION = click.option(
    "--registry", "registry_path", required=True, envvar="EXCHANGE_REGISTRY", type=click.Path(dir_okay=False),
    help="The governance registry (an SQLite file; created from the config on first use). "
         "Default: $EXCHANGE_REGISTRY.")
BY_OPTION = click.option(
    "--by", "actor", default=None, metavar="NAME",
    help="Who is making this change, as recorded in the history. Default: $EXCHANGE_ACTOR, else your login name.")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table.")
METRICS_PORT_OPTION = click.option(
    "--metrics-port", type=click.IntRange(0, 65535), default=None, metavar="N",
    help="Serve this daemon's state on 127.0.0.1:N only: JSON on /status (`exchange status --url`), Prometheus "
         "metrics on /metrics. 0: any free port. The URL is printed on stderr. Default: off.")
LOG_JSON_OPTION = click.option(
    "--log-json", is_flag=True,
    help="Log one JSON object per line (time, level, logger, message; an exception by its class only) instead of text.")


def governance_options(function):
    return CONFIG_OPTION(REGISTRY_OPTION(function))


def run_with_registry(config_path: str, registry_path: str,
                      action: Callable[[Any, Any], Awaitable[Any]], *, quiet: bool = False) -> Any:
    """Load the config, open the registry, bring it in step with the config, then run
    `action(registry, config_partnership)` and return its result."""
    from exchange.core.partnership import load_partnership
    from exchange.storage.registry import Registry

    base = load_partnership(config_path)

    async def main():
        async with Registry(registry_path) as registry:
            report = await registry.sync_from_config(base)
            if not quiet:
                report_sync(report)
            return await action(registry, base)

    return asyncio.run(main())


def report_sync(report) -> None:
    """Tell the operator (on stderr) what the config added and where it differs from the registry."""
    for sid in report.added_signatories:
        click.echo(f"registry: added signatory {sid} from the config", err=True)
    for sid, dataset in report.added_grants:
        click.echo(f"registry: added the grant of {dataset} to {sid} from the config", err=True)
    for sid, dataset, why in report.refused_grants:
        click.echo(f"registry: NOT imported the config's grant of {dataset} to {sid}: {why}", err=True)
    for line in report.differences:
        click.echo(f"registry: note: {line} (registry decisions stand; use the CLI to change them)", err=True)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def parse_time(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.datetime | None:
    """A click callback: YYYY-MM-DD or an ISO-8601 time; a bad value is a usage error."""
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected YYYY-MM-DD or an ISO-8601 time") from None


def parse_date(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def parse_areas(ctx, param, value):
    """A click callback: postcode sectors ("NX1 2") or districts ("NX1"); anything else is a usage error."""
    from exchange.core.briefing import parse_area

    try:
        return tuple(parse_area(v) for v in value or ())
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


STORE_KEYS_OPTION = click.option(
    "--keys", "key_file", type=click.Path(exists=True, dir_okay=False), default=None, envvar="EXCHANGE_FEED_KEYS",
    show_envvar=True,
    help="The subscriber's key file: a feed store is sealed at rest under it (the passphrase as for every key "
         "file: $EXCHANGE_KEY_PASSPHRASE_FILE, $EXCHANGE_KEY_PASSPHRASE or a prompt).")
OUTPUT_AUDIT_OPTION = click.option(
    "--audit", "audit_path", type=click.Path(dir_okay=False), default=None,
    help="The feed's audit log, where this output is recorded (default: beside --db, as `feed run` keeps it).")


def store_sealing(key_file: str | None):
    """What opens a sealed feed store (None without --keys: then only a plain store's records read)."""
    if key_file is None:
        return None
    from exchange.crypto.at_rest import AtRest
    from exchange.crypto.keys import load_keypair

    return AtRest.for_keys(load_keypair(key_file), "feed store")


def feed_audit_path(db_path: str, audit_path: str | None) -> Path:
    return Path(audit_path) if audit_path else Path(db_path).with_suffix(".audit.db")


def briefing_options(function):
    """What a briefing is for (`exchange briefing` and `exchange briefing serve`): the day, the period,
    the areas, and the partnership and subscriber to name on it."""
    options = [
        click.option("--date", "day", callback=parse_date, metavar="YYYY-MM-DD",
                     help="The last day of the period. Default: yesterday (the last whole day)."),
        click.option("--period", type=click.Choice(["day", "week", "month"]), default="day", show_default=True,
                     help="day: the date; week: the 7 days ending on it; month: its calendar month up to it."),
        click.option("--area", "areas", multiple=True, callback=parse_areas, metavar="SECTOR_OR_DISTRICT",
                     help="Only records in this postcode sector ('NX1 2') or district ('NX1'); repeatable."),
        click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), default=None,
                     help="The partnership's ISP config, to name the partnership on the page."),
        click.option("--as", "signatory", default=None, metavar="ID",
                     help="The subscribing signatory (named on the page as who it is prepared for; needs --config)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """Control characters as visible escapes, so nothing a message carries can start a line of its own."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        text)


class OneLineFormatter(logging.Formatter):
    """Every log record is exactly one line: control characters in it (a newline in a value, a
    traceback) are escaped, so a forged line cannot be written into the log."""

    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(super().format(record))


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line, for log collectors: time (ISO 8601, UTC), level, logger, message, and
    an exception's class name (never its text or traceback, which could quote a value). JSON escapes
    every control character, so a value cannot start a line of its own here either."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=True)


def setup_logging(verbose: bool, json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter() if json_lines
                         else OneLineFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler], force=True)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)


def run_until_signal(coroutine_factory: Callable[[asyncio.Event], Awaitable[Any]]) -> Any:
    """Run a service coroutine(stop_event) until SIGINT/SIGTERM, then let it finish cleanly."""

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await coroutine_factory(stop)

    return asyncio.run(main())


def serve_health(health: Any, port: int | None) -> contextlib.AbstractContextManager[Any]:
    """With `--metrics-port N`: serve `health` (exchange.services.health.Health) on 127.0.0.1:N and say
    where on stderr; without, nothing. Call it inside the daemon's event loop; use as a context manager."""
    if port is None:
        return contextlib.nullcontext()
    try:
        server = health.serve(port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
    click.echo(f"{health.name} status at {server.url}/status, metrics at {server.url}/metrics", err=True)
    return server


def emit(data: Any, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)


class ExchangeGroup(click.Group):
    """Turns the exchange's own errors into one clear line and an exit status (module docstring),
    not a traceback."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("context_settings", CONTEXT_SETTINGS)
        super().__init__(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_USAGE_ERROR)
        except ExchangeError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_APPLICATION_ERROR)


