"""A small account whose clock moves, a project loading it, and a key that may not read events."""

from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.request
from datetime import date

import pytest

from stripe_assets_emulator import EmulatorConfig, start_emulator
from stripe_assets_tests.operations.harness import make_project

START = date(2026, 10, 1)
FLOWS = """\
dataflows:
  - {name: stripe_customers, resource: customers, start_time: 2026-10-01T00:10:00Z, history_start: 2026-10-01T00:00:00Z}
  - {name: stripe_charges, resource: charges, start_time: 2026-10-01T00:10:00Z, history_start: 2026-10-01T00:00:00Z}
  - {name: stripe_prices, resource: prices, start_time: 2026-10-01T00:10:00Z, history_start: 2026-10-01T00:00:00Z,
     changes: {mode: lookback, lookback: 2}}
"""


@pytest.fixture
def live():
    """An emulator of its own (its clock is moved by the test): 4 days, 30 objects a day."""
    with start_emulator(EmulatorConfig(seed=7, start=START, days=4, per_day=30)) as emu:
        yield emu


@pytest.fixture
def small_project(tmp_path, live, monkeypatch):
    made = make_project(tmp_path / "project", live)
    made.dataflows.write_text(FLOWS)
    for name, value in made.env.items():
        monkeypatch.setenv(name, value)
    return made


class _NoEventsKey(http.server.BaseHTTPRequestHandler):
    """Stripe as a restricted key without `rak_event_read` sees it: 403 on /v1/events, the rest as is."""

    upstream = ""

    def do_GET(self) -> None:
        if self.path.startswith("/v1/events"):
            body = (
                b'{"error": {"type": "invalid_request_error", "message": "The provided key does not have '
                b"the required permissions for this endpoint: rak_event_read.\"}}"
            )
            self._answer(403, body, {})
            return
        request = urllib.request.Request(self.upstream + self.path, headers=dict(self.headers))
        try:
            with urllib.request.urlopen(request) as response:
                self._answer(response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as error:
            self._answer(error.code, error.read(), dict(error.headers))

    def _answer(self, status: int, body: bytes, headers: dict) -> None:
        self.send_response(status)
        for name in ("Stripe-Version", "Content-Type"):
            if name in headers:
                self.send_header(name, headers[name])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def no_events_key(live):
    """The emulator behind a real HTTP server that refuses /v1/events with 403."""
    handler = type("Handler", (_NoEventsKey,), {"upstream": live.url})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(params=["duckdb-file", "ducklake-postgres"])
def any_backend_project(request, small_project, monkeypatch):
    """The small project on the DuckDB file, and on a DuckLake with its catalog in Postgres."""
    if request.param == "ducklake-postgres":
        postgres, db = request.getfixturevalue("postgres"), request.getfixturevalue("postgres_db")
        small_project.lake = f"ducklake:postgres:{postgres.dsn(db)}"
        small_project.lake_data = small_project.root / "lake"
        for name, value in small_project.env.items():
            monkeypatch.setenv(name, value)
    return small_project
