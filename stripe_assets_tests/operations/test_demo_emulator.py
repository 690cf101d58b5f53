"""`make demo` next to `make dev`: the demo reuses an emulator on its port, or starts its own."""

from __future__ import annotations

import http.server
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

from stripe_assets.operations.demo_emulator import demo_emulator, free_port, probe

EMULATOR = [str(Path(sys.executable).parent / "stripe-assets"), "emulator"]


def test_an_emulator_already_on_the_port_is_reused_and_left_running(emulator, capsys):
    port = urlparse(emulator.url).port
    before = emulator.request_count

    with demo_emulator(port, emulator.api_key, EMULATOR) as used:
        assert used == port
        assert probe(used, emulator.api_key) == "emulator"

    assert "An emulator is already running on port" in capsys.readouterr().out
    assert emulator.request_count > before  # the demo asked it, and it still answers
    assert probe(port, emulator.api_key) == "emulator"


def test_a_free_port_gets_an_emulator_that_stops_with_the_demo(capsys):
    port = free_port()
    with demo_emulator(port, "sk_test_emulator", EMULATOR) as used:
        assert used == port and probe(port, "sk_test_emulator") == "emulator"
    assert probe(port, "sk_test_emulator") == "free"
    assert "already running" not in capsys.readouterr().out


def test_a_port_held_by_something_else_moves_the_emulator_to_a_free_one(capsys):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    taken = server.server_address[1]
    try:
        with demo_emulator(taken, "sk_test_emulator", EMULATOR) as used:
            assert used != taken and probe(used, "sk_test_emulator") == "emulator"
    finally:
        server.shutdown()
        server.server_close()
    out = capsys.readouterr().out
    assert f"Port {taken} is taken by something other than the emulator: starting one on port {used}." in out
    assert "exited before it was ready" not in out
