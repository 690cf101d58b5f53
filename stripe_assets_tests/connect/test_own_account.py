"""Whose account a run's rows belong to: the account that answers the run's own
`GET /v1/account`, never one remembered from an earlier server at the same address."""

from __future__ import annotations

import socket
from datetime import date

from stripe_assets.ingest.accounts import platform_account
from stripe_assets.ingest.client import StripeReader
from stripe_assets_emulator import EmulatorConfig, start_emulator


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_new_server_at_the_same_address_and_key_is_asked_again():
    # A Stripe double restarted with other data (here: another seed, so another platform
    # account) on the port the last one used. Rows stamped with the old account would never be
    # replaced by the next load, which deletes its own account's rows only.
    port, answered = _free_port(), []
    for seed in (3, 11):
        config = EmulatorConfig(seed=seed, start=date(2026, 10, 1), days=2, per_day=2, port=port)
        with start_emulator(config) as emu:
            reader = StripeReader(emu.api_key, emu.url)
            answered.append((platform_account(reader), emu.platform_account))
            # Readers made for accounts share what their reader asked: one request a run.
            assert platform_account(reader.for_account("acct_1Other00000000000")) == emu.platform_account
            assert emu.requests_by_endpoint.get("/v1/account") == 1
    assert [got for got, _ in answered] == [expected for _, expected in answered]
    assert answered[0][1] != answered[1][1]
