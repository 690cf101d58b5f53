"""The emulator the demo loads from: the one already running on the port (`make dev` starts one
on the same port), else a new one, on another free port when something else holds it.

Whether the port is free is decided by asking it, not by timing: an emulator that `make dev`
starts a moment later takes the port first, ours then exits, and the demo uses that one.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Literal

START_SECONDS = 60.0
ATTEMPTS = 3

PortState = Literal["emulator", "other", "free"]


def probe(port: int, api_key: str) -> PortState:
    """What listens on 127.0.0.1:port: a Stripe API that accepts the key, something else, or nothing."""
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) != 0:
            return "free"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/charges?limit=1", headers={"Authorization": f"Bearer {api_key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            body = json.load(answer)
    except (urllib.error.URLError, OSError, ValueError):
        return "other"
    return "emulator" if isinstance(body, dict) and body.get("object") == "list" else "other"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _started(command: list[str], port: int, api_key: str) -> subprocess.Popen | None:
    """Our emulator once it answers, or None when it exited first (the port was taken)."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        if probe(port, api_key) == "emulator":
            return proc
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the emulator did not answer on port {port} within {START_SECONDS:.0f}s")


def _settled(port: int, api_key: str) -> PortState:
    """The port's state once whoever took it is up (another emulator may still be starting)."""
    deadline = time.monotonic() + START_SECONDS
    state = probe(port, api_key)
    while state == "other" and time.monotonic() < deadline:  # listening, not answering yet
        time.sleep(0.2)
        state = probe(port, api_key)
    return state


@contextlib.contextmanager
def demo_emulator(port: int, api_key: str, emulator_command: list[str]) -> Iterator[int]:
    """The port of an emulator that accepts `api_key`; one this started is stopped on exit.
    `emulator_command` starts an emulator when given `--port N --api-key KEY`."""
    for _ in range(ATTEMPTS):
        state = probe(port, api_key)
        if state == "emulator":
            print(f"An emulator is already running on port {port} (`make dev`?): the demo reuses it.")
            yield port
            return
        if state == "other":
            taken, port = port, free_port()
            print(f"Port {taken} is taken by something other than the emulator: starting one on port {port}.")
        proc = _started([*emulator_command, "--port", str(port), "--api-key", api_key], port, api_key)
        if proc is not None:
            try:
                yield port
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
            return
        # It exited before answering: another process took the port meanwhile. Look again.
        if _settled(port, api_key) == "free":
            continue
    raise SystemExit(f"could not start or find an emulator on port {port}")
