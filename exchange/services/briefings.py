"""Briefings from a feed store: read it, build the figures (exchange.core.briefing), write the page
(exchange.core.briefing_page) or serve it live on 127.0.0.1.

The store is another process's file (the feed writes it), so it is only ever read, through a
read-only SQLite connection opened per read (as FeedStore.count_from_outside does): the briefing
can never change or lock what the feed writes, and a missing store reads as empty. The live page
polls `/version` (the store's record count, newest write and supplies) and reloads when it changes,
so a record the feed stores appears within about 2 seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from exchange.core.briefing import Briefing, build_briefing
from exchange.core.briefing_page import as_html, content_security_policy
from exchange.core.schemas import Catalogue, catalogue
from exchange.services._local_http import LocalHandler, LocalServer
from exchange.storage._files import open_private
from exchange.storage.feed_store import Sealing, load_value

__all__ = ["BriefingServer", "BriefingSpec", "FeedSnapshot", "briefing_title", "read_feed", "store_version",
           "write_briefing"]


@dataclass(frozen=True)
class FeedSnapshot:
    records: list[dict[str, Any]]
    supplies: list[dict[str, Any]]
    version: str


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)


def _version(conn: sqlite3.Connection) -> str:
    count, newest, versions = conn.execute("SELECT COUNT(*), MAX(received_at), TOTAL(versions) FROM records").fetchone()
    supplies, last_supply = conn.execute("SELECT COUNT(*), MAX(received_at) FROM supplies").fetchone()
    return f"{count}:{newest or 0}:{versions:.0f}:{supplies}:{last_supply or 0}"


def store_version(path: Path) -> str:
    """What changes whenever the feed stores, supersedes, withdraws or destroys a record or a supply."""
    if not Path(path).exists():
        return "none"
    try:
        with _connect(path) as conn:
            return _version(conn)
    except sqlite3.OperationalError:
        return "none"  # not initialised yet


def read_feed(path: Path, sealing: Sealing | None = None) -> FeedSnapshot:
    """Every record (shaped as FeedStore.records gives them) and supply in the store, read-only, in one
    read transaction, with the store's version at that moment."""
    if not Path(path).exists():
        return FeedSnapshot([], [], "none")
    try:
        conn = _connect(path)
    except sqlite3.OperationalError:
        return FeedSnapshot([], [], "none")
    try:
        conn.execute("BEGIN")
        version = _version(conn)
        records = [{"message_id": message_id, "dataset": dataset, "marking": marking,
                    **load_value(record, message_id, sealing)}
                   for message_id, dataset, marking, record in
                   conn.execute("SELECT message_id, dataset, marking, record FROM records ORDER BY rowid")]
        supplies = [{"dataset": dataset, **load_value(metadata, message_id, sealing)} for message_id, dataset, metadata
                    in conn.execute("SELECT message_id, dataset, metadata FROM supplies ORDER BY received_at")]
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return FeedSnapshot([], [], "none")
        raise
    finally:
        conn.close()
    return FeedSnapshot(records, supplies, version)


def briefing_title(period: str, partnership: str | None = None) -> str:
    """ "Daily partnership briefing: Northshire CSP" and the like."""
    kind = {"day": "Daily", "week": "Weekly", "month": "Monthly"}.get(period, "Partnership")
    return f"{kind} partnership briefing" + (f": {partnership}" if partnership else "")


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


@dataclass(frozen=True)
class BriefingSpec:
    """What a briefing is for: the period ending on `day` (None: yesterday, the last whole day, at the
    moment it is made), the areas, and the names on it."""

    day: dt.date | None = None
    period: str = "day"
    areas: Sequence[str] = ()
    title: str = "Partnership briefing"
    prepared_for: str = ""
    catalogue: Catalogue = field(default_factory=catalogue)

    def build(self, snapshot: FeedSnapshot, now: dt.datetime) -> Briefing:
        day = self.day or (now.date() - dt.timedelta(days=1))
        return build_briefing(self.catalogue, snapshot.records, snapshot.supplies, day=day, period=self.period,
                              areas=self.areas, now=now, title=self.title, prepared_for=self.prepared_for)


def write_briefing(db: Path, out: Path, spec: BriefingSpec, *, now: dt.datetime | None = None,
                   sealing: Sealing | None = None) -> Briefing:
    """Read the store, build the briefing and write the page to `out` (a private file)."""
    briefing = spec.build(read_feed(db, sealing), now or _now())
    with open_private(out, "w", encoding="utf-8") as handle:
        handle.write(as_html(briefing))
    return briefing


class _Handler(LocalHandler):
    server: _Server
    server_version = "exchange-briefing"

    def _send(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None, *,
              live: bool = False) -> None:
        page = {"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
                "Content-Security-Policy": content_security_policy(live) + "; frame-ancestors 'none'"}
        super()._send(status, body, content_type, {**page, **(headers or {})})

    def do_GET(self) -> None:
        if self._refused_host():  # another site's page reaching 127.0.0.1 by DNS rebinding
            return
        path = self.path.split("?", 1)[0]
        try:
            if path == "/version":
                body = json.dumps({"version": store_version(self.server.db)}).encode()
                self._send(HTTPStatus.OK, body, "application/json")
            elif path in ("/", "/index.html"):
                snapshot = read_feed(self.server.db, self.server.sealing)
                briefing = self.server.spec.build(snapshot, self.server.clock())
                self._send(HTTPStatus.OK, as_html(briefing, live_version=snapshot.version).encode(),
                           "text/html; charset=utf-8", live=True)
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
        except Exception as exc:  # the page says what failed, never a traceback or a record
            message = f"briefing unavailable: {type(exc).__name__}\n".encode()
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, message, "text/plain; charset=utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], db: Path, spec: BriefingSpec, clock: Callable[[], dt.datetime],
                 sealing: Sealing | None):
        super().__init__(address, _Handler)
        self.db, self.spec, self.clock, self.sealing = db, spec, clock, sealing


class BriefingServer(LocalServer):
    """The live briefing on 127.0.0.1:`port` (0: any free port), served from a thread.

        with BriefingServer(db, spec, port=0) as server:
            print(server.url)
    """

    def __init__(self, db: Path, spec: BriefingSpec, *, port: int = 0,
                 clock: Callable[[], dt.datetime] = _now, sealing: Sealing | None = None):
        super().__init__(_Server(("127.0.0.1", port), Path(db), spec, clock, sealing), "briefing-server")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"
