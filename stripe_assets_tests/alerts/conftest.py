from __future__ import annotations

import ssl

import dagster as dg
import pytest

from stripe_assets_tests.alerts.servers import SmtpServer, WebhookServer


@pytest.fixture
def make_webhook():
    started: list[WebhookServer] = []

    def make(*behaviours: int | str, default: int | str = 200) -> WebhookServer:
        server = WebhookServer(*behaviours, default=default)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def make_smtp():
    started: list[SmtpServer] = []

    def make(credentials: tuple[str, str] | None = None, tls: ssl.SSLContext | None = None) -> SmtpServer:
        server = SmtpServer(credentials, tls)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def instance():
    """A real on-disk (sqlite) Dagster instance, like the one `dagster dev` uses."""
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def alert_log(tmp_path):
    return tmp_path / "alerts.jsonl"
