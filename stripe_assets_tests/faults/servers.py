"""Tiny loopback HTTP servers playing a hostile or broken API."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (status, JSON body) for the request's path and headers
Answer = Callable[[str, dict[str, str]], tuple[int, dict]]


class ScriptedApi:
    """Answers every GET with `answer(path, headers)`; stopped with `stop()`."""

    def __init__(self, answer: Answer) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = answer(self.path, dict(self.headers))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

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
