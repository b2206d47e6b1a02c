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
    "EXIT_USAGE_ERROR", "JSON_OPTION", "PUBLISH_OPTION", "LOG_JSON_OPTION", "METRICS_PORT_OPTION", "REGISTRY_OPTION",
    "ExchangeGroup",
    "JsonLineFormatter", "OneLineFormatter", "briefing_options", "emit", "escape_controls", "governance_options",
    "SITE_OPTION", "decision_options", "parse_areas", "parse_date", "parse_time", "load_trust_anchor",
    "publish_chain", "run_decision", "write_decision", "start_follower", "run_until_signal", "run_with_registry",
    "serve_health", "setup_logging", "site_defaults", "table", "use_site",
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
    help="The partnership's ISP config (TOML).")
REGISTRY_OPTION = click.option(
    "--registry", "registry_path", required=True, envvar="EXCHANGE_REGISTRY", show_envvar=True,
    type=click.Path(dir_okay=False),
    help="The governance registry: the partnership's chain of signed decisions (an SQLite file).")
GOVERNANCE_CONFIG_OPTION = click.option(
    "--config", "config_path", default=None, type=click.Path(exists=True, dir_okay=False),
    help="The partnership's ISP config (TOML): optional; where it no longer matches the signed chain, the "
         "differences are reported (never applied).")
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
    return GOVERNANCE_CONFIG_OPTION(REGISTRY_OPTION(function))


PUBLISH_OPTION = click.option(
    "--publish", "publish_to", default=None, metavar="HOST:PORT", envvar="EXCHANGE_BOOTSTRAP", show_envvar=True,
    help="Publish the chain to the governance topic on this broker afterwards, so every site follows the decision "
         "within seconds. Without it (or $EXCHANGE_BOOTSTRAP), run `exchange governance publish`.")
KEY_HELP = ("The deciding signatory's key file: the decision is signed with it, and it is the signatory whose "
            "current key this is that decides (passphrase: $EXCHANGE_KEY_PASSPHRASE_FILE, $EXCHANGE_KEY_PASSPHRASE, "
            "else a prompt).")
DECISION_OPTIONS = [
    click.option("--person", default=None, metavar="NAME",
                 help="The person acting, as signed into the decision. Default: $EXCHANGE_ACTOR, else your login."),
    click.option("--role", required=True, metavar="ROLE",
                 help="Their role, as signed into the decision (e.g. 'Designated Liaison Officer')."),
    PUBLISH_OPTION,
    click.option("--draft", "draft_to", default=None, metavar="FILE", type=click.Path(dir_okay=False),
                 help="Do not sign or record: write the decision, drafted against the registry's chain, to FILE for "
                      "the deciding signatory to sign at its own site (`exchange governance sign FILE --key ...`) "
                      "and the registry's operator to record (`exchange governance submit FILE`)."),
]


def decision_options(function=None, *, key_help: str = KEY_HELP):
    """--key, --person, --role, --publish: what every signed governance decision takes."""
    def decorate(function):
        for option in reversed(DECISION_OPTIONS):
            function = option(function)
        # --key is not required of the parser: --draft needs none (run_decision says what is missing).
        return click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False),
                            help=key_help)(function)
    return decorate(function) if function is not None else decorate


def run_with_registry(config_path: str | None, registry_path: str,
                      action: Callable[[Any, Any], Awaitable[Any]], *, quiet: bool = False,
                      founded: bool = True) -> Any:
    """Open the registry (which must hold a founding decision unless `founded` is False), report
    where the config (if given) differs from the chain, then run `action(registry, config_partnership)`."""
    from exchange.core.partnership import load_partnership
    from exchange.storage.registry import Registry

    base = load_partnership(config_path) if config_path else None

    async def main():
        async with Registry(registry_path) as registry:
            if founded:
                await registry.require_founded()
                if base is not None and not quiet:
                    for line in await registry.differences(base):
                        click.echo(f"registry: note: {line} (the signed chain stands)", err=True)
            return await action(registry, base)

    return asyncio.run(main())


def run_decision(action: str, subject: str, terms: dict[str, Any], *, new_key_file: str | None = None,
                 after: Callable[[Any, Any], Awaitable[Any]] | None = None) -> tuple[Any, Any]:
    """The one way a command makes a governance decision, from the current command's options
    (decision_options, governance_options): sign it with --key (and `new_key_file`, a rekey's new
    key) and record it in --registry, then publish the chain if asked; `after(registry, decision)`
    says what the command reports. With --draft FILE, write the decision unsigned instead, drafted
    against the registry's chain, for its signer to sign at their own site (`exchange governance
    sign`) and the registry's operator to record (`exchange governance submit`): (None, None)."""
    from exchange.crypto.keys import load_keypair
    from exchange.services.governance import decide, draft_for
    from exchange.storage.registry import default_actor

    params = click.get_current_context().params
    registry_path, config_path = params["registry_path"], params.get("config_path")
    person, role = params["person"] or default_actor(), params["role"]
    if params.get("draft_to"):
        draft = run_with_registry(config_path, registry_path, lambda registry, base: draft_for(
            registry, action, subject, terms, person=person, role=role))
        write_decision(params["draft_to"], draft)
        click.echo(f"draft of decision {draft.version} ({action} {subject}) written to {params['draft_to']}: the "
                   "deciding signatory signs it with `exchange governance sign`, then `exchange governance submit` "
                   "records it (before any other decision is recorded, or it must be drafted again)", err=True)
        return None, None
    key_files = [params["key_file"]] if params.get("key_file") else []
    if not key_files and new_key_file is None:
        raise click.UsageError("give --key (sign with it and record the decision now) or --draft FILE")
    signers = [load_keypair(path) for path in key_files]
    new_keys = load_keypair(new_key_file) if new_key_file else None

    async def make(registry, base):
        decision = await decide(registry, action, subject, terms, signers=signers, person=person, role=role,
                                new_keys=new_keys)
        return decision, (await after(registry, decision) if after else None)

    result = run_with_registry(config_path, registry_path, make)
    publish_chain(registry_path, params.get("publish_to"))
    return result


def write_decision(path: str, decision: Any) -> None:
    """A decision as a JSON file (canonical form plus a newline) a person can read and mail."""
    from exchange.storage._files import open_private

    with open_private(path, encoding="utf-8") as out:
        out.write(json.dumps(decision.as_dict(), indent=2, sort_keys=True) + "\n")


def load_trust_anchor(path: str) -> Any:
    """The trust anchor file at `path` (`exchange governance anchor --out`); ConfigError naming it."""
    from exchange.core.ledger import TrustAnchor
    from exchange.errors import ConfigError

    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the trust anchor ({exc.__class__.__name__})") from None
    return TrustAnchor.from_dict(document, origin=path)


async def start_follower(settings: Any, anchor_path: str, *, base: Any = None) -> Any:
    """A started follower of the governance topic, checked against the trust anchor file at `anchor_path`."""
    from exchange.core.schemas import catalogue
    from exchange.services.governance_topic import GovernanceFollower

    follower = GovernanceFollower(settings, load_trust_anchor(anchor_path), catalogue(), base=base)
    await follower.start()
    click.echo(f"following the governance chain of {follower.anchor.partnership!r}: version {follower.version}",
               err=True)
    return follower


def publish_chain(registry_path: str, bootstrap: str | None) -> None:
    """Publish what the governance topic lacks of the registry's chain; say so on stderr."""
    if not bootstrap:
        click.echo("not published: run `exchange governance publish` (or give --publish) so every site follows it",
                   err=True)
        return
    from exchange.services.governance_topic import publish_decisions
    from exchange.storage.registry import Registry
    from exchange.transport.kafka import KafkaSettings

    async def main() -> int:
        async with Registry(registry_path) as registry:
            decisions = await registry.decisions()
        return await publish_decisions(KafkaSettings.from_environment(bootstrap), decisions)

    count = asyncio.run(main())
    click.echo(f"published {count} decision(s) to the governance topic at {bootstrap}", err=True)


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


# --- the site config: one file whose keys are the defaults of every command's options -----------

SITE_ENV = "EXCHANGE_CONFIG"
SITE_DEFAULT_FILE = "exchange.toml"
SITE_OPTION = click.option(
    "--site", "site_path", default=None, metavar="FILE", envvar=SITE_ENV, show_envvar=True,
    help="This site's config (TOML): the defaults of every command's --config, --registry, --keys, --as, --db, "
         "--audit, --bootstrap, and the broker security and passphrase settings. Default: ./exchange.toml if "
         "it exists. An option on the command line, or its environment variable, beats it.")

# Which site key an option takes its default from, by the option's parameter name. The one table.
SITE_KEYS = {
    "config_path": "partnership",
    "registry_path": "registry",
    "key_file": "key_file",
    "signatory": "signatory",
    "bootstrap": "bootstrap",
    "db_path": "feed_db",
    "audit_path": "audit",
}
# Where a parameter name means something else, by command path (a prefix): None means no default.
SITE_KEY_EXCEPTIONS: dict[tuple[str, ...], dict[str, str | None]] = {
    ("agent",): {"config_path": None},  # the agent's own mapping file, not the ISP config
    ("audit",): {"db_path": "audit"},  # --db is the audit log there
    ("sanitise",): {"key_file": None},  # the sanitiser's pseudonym key, not this site's
    ("acl", "plan"): {"bootstrap": None},  # --bootstrap there asks to read the broker: left to the user
    ("acl", "list"): {"bootstrap": None},
}
# Site keys applied as environment variables (only where the variable is not already set).
SITE_ENVIRONMENT = {
    "security_protocol": ("EXCHANGE_SECURITY_PROTOCOL",),
    "sasl_mechanism": ("EXCHANGE_SASL_MECHANISM",),
    "sasl_username": ("EXCHANGE_SASL_USERNAME",),
    "sasl_password_file": ("EXCHANGE_SASL_PASSWORD_FILE", "EXCHANGE_SASL_PASSWORD"),
    "ssl_cafile": ("EXCHANGE_SSL_CAFILE",),
    "passphrase_file": ("EXCHANGE_KEY_PASSPHRASE_FILE", "EXCHANGE_KEY_PASSPHRASE"),
}
SITE_PATH_KEYS = frozenset({"partnership", "registry", "key_file", "feed_db", "audit", "sasl_password_file",
                            "ssl_cafile", "passphrase_file"})


def find_site(site_path: str | None) -> Path | None:
    """--site (or $EXCHANGE_CONFIG, which click reads into it), else ./exchange.toml if it exists."""
    if site_path:
        return Path(site_path)
    default = Path(SITE_DEFAULT_FILE)
    return default if default.is_file() else None


def load_site(path: Path) -> dict[str, str]:
    """The site file's settings, paths resolved against its folder; ConfigError naming file and key."""
    import tomllib

    from exchange.core.config_files import SiteFile, validated
    from exchange.errors import ConfigError

    origin = f"site config {path}"
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{origin}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{origin}: cannot be read ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML ({exc})") from None
    site = validated(SiteFile, document, origin=origin)
    folder = path.resolve().parent
    return {key: str(folder / value) if key in SITE_PATH_KEYS else value
            for key, value in site.model_dump(exclude_none=True).items()}


def site_defaults(group: click.Command, settings: dict[str, str]) -> dict[str, Any]:
    """A click default_map for `group`'s whole command tree: each option whose parameter name is in
    SITE_KEYS (less SITE_KEY_EXCEPTIONS) defaults to the site's value for that key."""

    def keys_for(path: tuple[str, ...]) -> dict[str, str | None]:
        keys: dict[str, str | None] = dict(SITE_KEYS)
        for prefix, overrides in SITE_KEY_EXCEPTIONS.items():
            if path[:len(prefix)] == prefix:
                keys.update(overrides)
        return keys

    def walk(command: click.Command, path: tuple[str, ...]) -> dict[str, Any]:
        keys = keys_for(path)
        found: dict[str, Any] = {}
        for param in command.params:
            site_key = keys.get(param.name or "") if isinstance(param, click.Option) else None
            if path and site_key is not None and site_key in settings:
                found[param.name or ""] = settings[site_key]
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                below = walk(sub, (*path, name))
                if below:
                    found[name] = below
        return found

    return walk(group, ())


def use_site(ctx: click.Context, site_path: str | None) -> None:
    """For the top-level group's callback: read the site file, keep it in ctx.obj["site"], make its
    values the defaults of the commands' options (ctx.default_map) and set the broker security and
    passphrase variables it names that are not already set."""
    import os

    path = find_site(site_path)
    obj = ctx.ensure_object(dict)
    obj["site"] = path
    obj["site_settings"] = settings = load_site(path) if path else {}
    if not settings:
        return
    defaults = site_defaults(ctx.command, settings)
    ctx.default_map = {**defaults, **(ctx.default_map or {})}
    for key, (variable, *alternatives) in SITE_ENVIRONMENT.items():
        if key in settings and not any(name in os.environ for name in (variable, *alternatives)):
            os.environ[variable] = settings[key]


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


