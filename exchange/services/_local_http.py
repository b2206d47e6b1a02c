"""The one way the exchange serves HTTP: on 127.0.0.1 only, from a thread, answering only requests
addressed to this machine by name (a page elsewhere that resolves its own name to 127.0.0.1, DNS
rebinding, gets 421), and logging no request. The briefing page and the health endpoints use it."""

from __future__ import annotations

import threading
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
