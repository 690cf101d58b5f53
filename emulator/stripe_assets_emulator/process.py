"""The emulator as a child process: `python -m stripe_assets_emulator.process < config.json`.

Reads an EmulatorConfig as JSON on stdin, prints the URL it serves at as its first line, and
serves until SIGTERM or SIGINT. `start_emulator(..., separate_process=True)` runs it.
"""

from __future__ import annotations

import sys

from stripe_assets_emulator.api import EmulatorApi
from stripe_assets_emulator.config import EmulatorConfig
from stripe_assets_emulator.dataset import Dataset
from stripe_assets_emulator.server import EmulatorHTTPServer, serve_until_stopped


def main() -> int:
    config = EmulatorConfig.model_validate_json(sys.stdin.read())
    log_requests = "--log-requests" in sys.argv[1:]
    server = EmulatorHTTPServer(
        (config.host, config.port), EmulatorApi(Dataset(config), prefetch=True), log_requests
    )
    print(server.url, flush=True)
    serve_until_stopped(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
