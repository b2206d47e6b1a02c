"""exchange briefing [serve]"""

from __future__ import annotations

from pathlib import Path

import click

from exchange.cli._common import (
    METRICS_PORT_OPTION,
    OUTPUT_AUDIT_OPTION,
    STORE_KEYS_OPTION,
    ExchangeGroup,
    briefing_options,
    feed_audit_path,
    run_until_signal,
    serve_health,
    store_sealing,
)


def _spec(day, period, areas, config_path, signatory):
    from exchange.services.briefings import BriefingSpec, briefing_title

    name, prepared_for = None, ""
    if signatory and not config_path:
        raise click.UsageError("--as needs --config (the partnership config naming the signatory)")
    if config_path:
        from exchange.core.partnership import load_partnership

        partnership = load_partnership(config_path)
        name = partnership.name
        if signatory:
            prepared_for = partnership.signatory(signatory).name
    return BriefingSpec(day=day, period=period, areas=areas, title=briefing_title(period, name),
                        prepared_for=prepared_for)


@click.group("briefing", cls=ExchangeGroup, invoke_without_command=True)
@click.option("--db", "db_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The feed store (SQLite), read only.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Where to write the page (HTML).")
@briefing_options
@STORE_KEYS_OPTION
@OUTPUT_AUDIT_OPTION
@click.pass_context
def command(ctx: click.Context, db_path, out, day, period, areas, config_path, signatory, key_file,
            audit_path) -> None:
    """Write the partnership briefing (a NIM tasking product) for every dataset the feed store
    holds, as one self-contained page: counts per dataset and category against the baseline with
    significant changes flagged, every day, flagged incidents, a hotspot map, emerging issues, data
    freshness per supplier, supply caveats, and the marking and handling at top and bottom.

    `exchange briefing serve` serves the same page live on 127.0.0.1. A sealed store needs its key
    file (--keys); each page written is recorded in the feed's audit log."""
    if ctx.invoked_subcommand is not None:
        return
    if db_path is None or out is None:
        raise click.UsageError("--db and --out are required (or use `exchange briefing serve`)")
    from exchange.services.briefings import write_briefing

    briefing = write_briefing(Path(db_path), Path(out), _spec(day, period, areas, config_path, signatory),
                              sealing=store_sealing(key_file))
    try:
        _audit(db_path, audit_path, briefing.in_period, str(briefing.marking),
               f"briefing for {briefing.period.label()}", out)
    except BaseException:
        Path(out).unlink(missing_ok=True)  # a page the audit does not record must not exist
        raise
    click.echo(f"{briefing.marking}: briefing for {briefing.period.label()} ({briefing.in_period} records in the "
               f"period, {len(briefing.emerging)} emerging issues) written to {out}")


@command.command("serve")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False),
              help="The feed store (SQLite), read only on every request; it need not exist yet.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port on 127.0.0.1 (0: any free port). The URL is printed.")
@METRICS_PORT_OPTION
@briefing_options
@STORE_KEYS_OPTION
@OUTPUT_AUDIT_OPTION
def serve(db_path, port, metrics_port, day, period, areas, config_path, signatory, key_file, audit_path) -> None:
    """Serve the briefing on 127.0.0.1 only, rebuilt from the store on every request; the page
    reloads itself within seconds of the feed storing a record. Runs until interrupted. With
    --metrics-port, the records the store holds are served on another port (/status, /metrics).
    The start of serving is recorded in the feed's audit log (not every page view)."""
    from exchange.services.briefings import BriefingServer
    from exchange.services.health import briefing_health

    spec = _spec(day, period, areas, config_path, signatory)
    try:
        server = BriefingServer(Path(db_path), spec, port=port, sealing=store_sealing(key_file))
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
    with server:
        click.echo(f"Serving the briefing of {db_path} at {server.url} (Ctrl-C to stop)")
        if Path(db_path).exists():
            _audit(db_path, audit_path, 0, None, "live briefing served on 127.0.0.1 (each page carries its marking)",
                   server.url)

        async def wait(stop):
            with serve_health(briefing_health(Path(db_path)), metrics_port):
                await stop.wait()

        run_until_signal(wait)


def _audit(db_path: str, audit_path: str | None, count: int, marking: str | None, what: str, out: str) -> None:
    """Record the output in the feed's audit log: outputs leave the store's protection."""
    import asyncio

    from exchange.services.exports import output_event
    from exchange.storage.audit import AuditLog

    async def append() -> None:
        async with AuditLog(feed_audit_path(db_path, audit_path)) as audit:
            await audit.append(output_event("briefing", None, count, marking, what, out))
    asyncio.run(append())
