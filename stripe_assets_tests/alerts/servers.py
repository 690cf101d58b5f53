"""Real local receivers for alerts: an HTTP webhook endpoint and an SMTP server."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HANG = "hang"  # behaviour: accept the request, never answer (until the server stops)
# other behaviours: a status code, or (status code, Retry-After seconds)


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """A threading HTTP server on a free loopback port, serving from a daemon thread."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return httpd


class WebhookServer:
    """Answers each POST with the next scripted behaviour (status code or HANG), then `default`."""

    def __init__(self, *behaviours: int | str | tuple[int, int], default: int | str = 200) -> None:
        self.behaviours = list(behaviours)
        self.default = default
        self.bodies: list[dict[str, Any]] = []  # every request received, answered or not
        self.delivered: list[dict[str, Any]] = []  # requests answered 2xx
        self.release = threading.Event()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.bodies.append(body)
                    behaviour = server.behaviours.pop(0) if server.behaviours else server.default
                if behaviour == HANG:
                    server.release.wait(30)
                    return
                code, retry_after = behaviour if isinstance(behaviour, tuple) else (int(behaviour), None)
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                if retry_after is not None:
                    self.send_header("Retry-After", str(retry_after))
                self.end_headers()
                self.wfile.write(b"ok" if code < 300 else b"upstream trouble")
                if code < 300:
                    with server.lock:
                        server.delivered.append(body)

        self.httpd = serve(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    @property
    def attempts(self) -> int:
        return len(self.bodies)

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class _Collector:
    messages: list[Message] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


class SmtpServer:
    """aiosmtpd on 127.0.0.1; with `credentials`, AUTH is required (plain text allowed for tests)."""

    def __init__(self, credentials: tuple[str, str] | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.collector = _Collector()
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if tls is not None:  # STARTTLS offered, and required before any mail
            kwargs.update(tls_context=tls, require_starttls=True)
        if credentials:
            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = isinstance(auth_data, LoginPassword) and (
                    auth_data.login.decode(), auth_data.password.decode()
                ) == credentials
                return AuthResult(success=ok, handled=False)

            kwargs = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}
        self.tls = tls
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    @property
    def messages(self) -> list[Message]:
        return self.collector.messages

    def stop(self) -> None:
        self.controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port_url() -> str:
    """A URL nothing listens on: connections are refused at once."""
    return f"http://127.0.0.1:{free_port()}/hook"
