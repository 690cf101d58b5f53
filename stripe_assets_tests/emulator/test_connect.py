"""The emulated Connect platform: connected accounts read through `Stripe-Account`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from stripe_assets_emulator import EmulatorConfig, RunningEmulator, start_emulator
from stripe_assets_emulator.config import ConnectConfig
from stripe_assets_tests.emulator.conftest import DAYS, START, Api


@pytest.fixture(scope="module")
def platform() -> Iterator[RunningEmulator]:
    config = EmulatorConfig(
        seed=5,
        start=START,
        days=DAYS,
        per_day=5,
        connect=ConnectConfig(accounts=12, per_day=3, empty_every=4, forbidden=(2,), deauthorize_after={3: 2}),
    )
    with start_emulator(config) as running:
        yield running


def _as(api: Api, account: str, path: str, **params: int | str) -> requests.Response:
    return api.session.get(api.emu.url + path, params=params, headers={"Stripe-Account": account}, timeout=10)


def test_accounts_are_listed_newest_first_with_cursors_and_created_filter(platform: RunningEmulator) -> None:
    api = Api(platform)
    everything = api.ok("/v1/accounts", limit=100)["data"]
    assert {a["id"] for a in everything} == set(platform.connected_accounts)
    created = [a["created"] for a in everything]
    assert created == sorted(created, reverse=True)
    first = api.ok("/v1/accounts", limit=5)
    assert first["has_more"] and [a["id"] for a in first["data"]] == [a["id"] for a in everything[:5]]
    rest = api.ok("/v1/accounts", limit=100, starting_after=first["data"][-1]["id"])
    assert [a["id"] for a in rest["data"]] == [a["id"] for a in everything[5:]] and not rest["has_more"]
    middle = everything[6]["created"]
    newer = api.ids("/v1/accounts", limit=100, **{"created[gt]": middle})
    assert newer == [a["id"] for a in everything if a["created"] > middle]
    account = everything[0]
    assert {"type", "country", "capabilities", "charges_enabled", "payouts_enabled"} <= set(account)
    assert api.ok(f"/v1/accounts/{account['id']}")["id"] == account["id"]
    assert api.ok("/v1/account")["id"] == platform.platform_account


def test_each_account_serves_its_own_objects(platform: RunningEmulator) -> None:
    api = Api(platform)
    own = set(api.ids("/v1/charges", limit=100))
    assert own == set(platform.listable_ids("charges"))
    account = platform.connected_accounts[1]  # not empty (every 4th from the first is)
    response = _as(api, account, "/v1/charges", limit=100)
    assert response.status_code == 200, response.text
    theirs = [c["id"] for c in response.json()["data"]]
    assert theirs and theirs == platform.listable_ids("charges", account=account)
    assert not own & set(theirs)
    one = _as(api, account, f"/v1/charges/{theirs[0]}")
    assert one.status_code == 200 and one.json()["id"] == theirs[0]
    assert _as(api, account, f"/v1/charges/{next(iter(own))}").status_code == 404  # not this account's
    empty = platform.connected_accounts[0]
    assert _as(api, empty, "/v1/charges").json()["data"] == []
    assert _as(api, empty, "/v1/events").json()["data"] == []
    assert _as(api, account, "/v1/account").json()["id"] == account


def test_unknown_and_forbidden_accounts_answer_403_like_stripe(platform: RunningEmulator) -> None:
    api = Api(platform)
    for account in ("acct_1Unknown0000000", platform.connected_accounts[2]):
        response = _as(api, account, "/v1/charges")
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "account_invalid"
        assert error["message"].endswith(
            f"does not have access to account '{account}' (or that account does not exist). "
            "Application access may have been revoked."
        )
        assert platform.api_key not in error["message"]
    platform.forbid(platform.connected_accounts[2], False)
    assert _as(api, platform.connected_accounts[2], "/v1/charges").status_code == 200
    platform.forbid(platform.connected_accounts[2])


def test_an_account_deauthorized_mid_run_answers_403_leaves_the_list_and_sends_an_event(
    platform: RunningEmulator,
) -> None:
    api = Api(platform)
    account = platform.connected_accounts[3]
    assert [_as(api, account, "/v1/charges").status_code for _ in range(3)] == [200, 200, 403]
    assert account not in api.ids("/v1/accounts", limit=100)
    events = api.ok("/v1/events", type="account.application.deauthorized")["data"]
    assert [e["account"] for e in events] == [account]
    assert events[0]["data"]["object"]["object"] == "application"
    other = platform.connected_accounts[5]
    platform.deauthorize(other)
    assert _as(api, other, "/v1/charges").status_code == 403
    assert api.get(f"/v1/accounts/{other}").status_code == 403
