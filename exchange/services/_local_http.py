"""The one way the exchange serves HTTP: on 127.0.0.1 only, from a thread, answering only requests
addressed to this machine by name (a page elsewhere that resolves its own name to 127.0.0.1, DNS
rebinding, gets 421), and logging no request. The briefing page and the health endpoints use it."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

__all__ = ["LocalHandler", "LocalServer"]


class LocalHandler(BaseHTTPRequestHandler):
    server_version = "exchange"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a request line can carry anything; the served pages and figures are the product

    server: ThreadingHTTPServer

    def _allowed_host(self) -> bool:
        host = (self.headers.get("Host") or "").lower()
        port = self.server.server_address[1]
        return host in {f"127.0.0.1:{port}", f"localhost:{port}"}

    def _refused_host(self) -> bool:
        """Answer 421 to a request not addressed to this machine by name; True if it was refused."""
        if self._allowed_host():
            return False
        self._send(HTTPStatus.MISDIRECTED_REQUEST, b"unknown host\n", "text/plain; charset=utf-8")
        return True

    def _send(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        raise NotImplementedError


class LocalServer:
    """A ThreadingHTTPServer bound to 127.0.0.1, run from a daemon thread; a context manager."""

    def __init__(self, server: ThreadingHTTPServer, name: str):
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> Self:
        if not self._thread.is_alive():
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
