"""Tiny loopback HTTP servers playing a hostile or broken API."""

from __future__ import annotations

import json
from collections.abc import Callable

from stripe_assets_tests.alerts.servers import QuietHandler, serve

# (status, JSON body) for the request's path and headers
Answer = Callable[[str, dict[str, str]], tuple[int, dict]]


class ScriptedApi:
    """Answers every GET with `answer(path, headers)`; stopped with `stop()`."""

    def __init__(
        self, answer: Answer, api_key: str = "sk_test_scripted", write: Callable[[object], bytes] | None = None
    ) -> None:
        """`write`: how a body is written out (default: `json.dumps`, one line, ASCII escapes)."""
        self.api_key = api_key  # what a client should send (the server accepts any)
        encode = write or (lambda body: json.dumps(body).encode())

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                status, body = answer(self.path, dict(self.headers))
                data = encode(body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = serve(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def echoing_authorization(path: str, headers: dict[str, str]) -> tuple[int, dict]:
    """A proxy that quotes the request's Authorization header in its error (keys included)."""
    return 400, {"error": {"type": "invalid_request_error",
                           "message": f"Bad request {path}: got Authorization: {headers.get('Authorization')}"}}
