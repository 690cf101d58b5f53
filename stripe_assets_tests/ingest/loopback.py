"""A tiny Stripe-like list API on loopback, answering each GET with `handle(query)` as JSON."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class LoopbackApi:
    def __init__(self, handle: Callable[[dict[str, str]], dict]):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                body = json.dumps(handle(query)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def oldest_first(objects: list[dict]) -> LoopbackApi:
    """A list endpoint that pages oldest first (against Stripe's documented order)."""
    ordered = sorted(objects, key=lambda o: (o["created"], o["id"]))

    def page(query: dict[str, str]) -> dict:
        low, high = int(query.get("created[gte]", 0)), int(query.get("created[lt]", 2**40))
        items = [o for o in ordered if low <= o["created"] < high]
        if "starting_after" in query:
            items = items[[o["id"] for o in items].index(query["starting_after"]) + 1 :]
        limit = int(query.get("limit", 10))
        return {"object": "list", "url": "/v1/charges", "has_more": len(items) > limit, "data": items[:limit]}

    return LoopbackApi(page)
