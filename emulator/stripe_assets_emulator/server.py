"""The HTTP/1.1 server around the API: keep-alive connections, one thread per connection."""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from stripe_assets_emulator.api import EmulatorApi


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so SDK sessions reuse their connections
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server_version = "nginx"  # what api.stripe.com answers with
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    server: EmulatorHTTPServer

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def _respond(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""  # read in full, so the connection stays usable
        response = self.server.api.handle(self.command, self.path, self.headers, body)
        # `send_response` without its own `Date` (the wall clock): the answer carries the emulator's.
        self.log_request(response.status)
        self.send_response_only(response.status)
        self.send_header("Server", self.version_string())
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_OPTIONS = _respond

    def log_message(self, format: str, *args: object) -> None:
        if self.server.log_requests:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Connections waiting to be accepted. socketserver's default of 5 overflows when a run's
    # loads open their connections at once (two runs: 168 within a second); the kernel then
    # drops the handshake's last packet, and a client that already sent its request waits for
    # an answer until it times out. Stripe's servers accept them all.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], api: EmulatorApi, log_requests: bool = False):
        self.api = api
        self.log_requests = log_requests
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def server_close(self) -> None:
        super().server_close()
        self.api.close()

    def close_connections(self) -> None:
        """Ends idle keep-alive connections so that stopping frees the port at once."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve_until_stopped(server: EmulatorHTTPServer) -> None:
    """Serves in this (main) thread until Ctrl-C or SIGTERM, then closes everything."""
    # Also when started in the background, where shells start programs with SIGINT ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.close_connections()
        server.server_close()
