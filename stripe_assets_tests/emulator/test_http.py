"""Authentication, retrieval, error shapes and headers, as a client sees them on the wire."""

from __future__ import annotations

import http.client
import os
import re
from urllib.parse import urlsplit

import pytest
import requests

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.stripe_schema import API_VERSION
from stripe_assets_emulator import EmulatorConfig, start_emulator
from stripe_assets_emulator.generators import GENERATED as RESOURCE_NAMES

from .conftest import START


def test_missing_key_is_a_401_that_explains_how_to_authenticate(emu):
    response = requests.get(emu.url + "/v1/charges", timeout=10)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("You did not provide an API key.")


def test_wrong_key_is_a_401_that_masks_the_key(emu):
    wrong = "sk_test_51ThisIsNotTheRightKeyAtAll9876"
    response = requests.get(emu.url + "/v1/charges", headers={"Authorization": f"Bearer {wrong}"}, timeout=10)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "api_key_invalid"
    assert re.fullmatch(r"Invalid API Key provided: sk_test_\*+9876", error["message"])
    assert "ThisIsNotTheRightKey" not in response.text


@pytest.mark.parametrize("scheme", ["bearer", "basic"])
def test_the_key_is_accepted_as_bearer_token_or_basic_auth_user(emu, scheme):
    if scheme == "bearer":
        response = requests.get(
            emu.url + "/v1/customers", headers={"Authorization": f"Bearer {emu.api_key}"}, timeout=10
        )
    else:
        response = requests.get(emu.url + "/v1/customers", auth=(emu.api_key, ""), timeout=10)
    assert response.status_code == 200


def test_the_accepted_key_is_configurable(start_another):
    other = start_another(api_key="sk_test_other_key_1234")
    ok = requests.get(other.url + "/v1/prices", auth=("sk_test_other_key_1234", ""), timeout=10)
    default = requests.get(other.url + "/v1/prices", auth=("sk_test_emulator", ""), timeout=10)
    assert (ok.status_code, default.status_code) == (200, 401)


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_retrieve_by_id_returns_the_listed_object(api, emu, resource):
    objects = emu.objects(resource, include_hidden=False)
    listed = objects[min(7, len(objects) - 1)]  # disputes are few
    assert api.ok(f"{get_resource(resource).path}/{listed['id']}") == listed


def test_retrieving_an_unknown_id_is_a_404_naming_the_id_param(api):
    error = api.error("/v1/charges/ch_3NotARealChargeAtAll0000", 404)
    assert error == {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
        "message": "No such charge: 'ch_3NotARealChargeAtAll0000'",
        "param": "id",
    }


def test_retrieve_takes_expand_only(api, emu):
    charge = next(c for c in emu.objects("charges") if c["customer"])
    expanded = api.ok(f"/v1/charges/{charge['id']}", **{"expand[]": "customer"})
    assert expanded["customer"]["id"] == charge["customer"]
    assert (
        api.error(f"/v1/charges/{charge['id']}", 400, limit=3)["message"]
        == "Received unknown parameter: limit"
    )


def test_unknown_paths_are_404s_in_stripes_shape(api):
    for path in ("/v1/tax_codes", "/v2/charges", "/", "/v1/charges/ch_1/refunds", "/v1/charges/", "/v1"):
        error = api.error(path, 404)
        assert error["type"] == "invalid_request_error"
        assert error["message"].startswith("Unrecognized request URL (GET: ")


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_the_emulator_is_read_only(emu, method):
    response = requests.request(
        method, emu.url + "/v1/charges", auth=(emu.api_key, ""), data={"amount": 100}, timeout=10
    )
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_every_response_carries_request_id_json_and_the_api_version(emu):
    answers = [
        requests.get(emu.url + "/v1/charges", auth=(emu.api_key, ""), timeout=10),
        requests.get(emu.url + "/v1/charges", timeout=10),
        requests.get(emu.url + "/v1/nothing", auth=(emu.api_key, ""), timeout=10),
    ]
    request_ids = set()
    for response in answers:
        assert re.fullmatch(r"req_[0-9A-Za-z]{14}", response.headers["Request-Id"])
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["Stripe-Version"] == API_VERSION
        request_ids.add(response.headers["Request-Id"])
    assert len(request_ids) == len(answers)
    pinned = requests.get(
        emu.url + "/v1/charges", auth=(emu.api_key, ""), headers={"Stripe-Version": "2024-06-20"}, timeout=10
    )
    assert pinned.headers["Stripe-Version"] == "2024-06-20"


def test_connections_are_kept_alive_between_requests(emu):
    url = urlsplit(emu.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    try:
        connection.request("GET", "/v1/charges?limit=100", headers=headers)
        first = connection.getresponse()
        first.read()
        local_port = connection.sock.getsockname()[1]
        connection.request("GET", "/v1/refunds?limit=100", headers=headers)
        second = connection.getresponse()
        assert second.status == 200 and second.read().startswith(b'{"object":"list"')
        assert connection.sock.getsockname()[1] == local_port  # the same TCP connection
    finally:
        connection.close()


def test_requests_are_counted_per_endpoint(start_another):
    other = start_another()
    session = requests.Session()
    session.auth = (other.api_key, "")
    session.get(other.url + "/v1/charges", timeout=10)
    session.get(other.url + "/v1/charges", params={"limit": 0}, timeout=10)
    charge_id = other.listable_ids("charges")[0]
    session.get(other.url + f"/v1/charges/{charge_id}", timeout=10)
    session.get(other.url + "/_emulator/health", timeout=10)
    assert other.request_count == 3
    assert other.requests_by_endpoint == {"/v1/charges": 2, "/v1/charges/{id}": 1}


def test_it_can_serve_from_a_separate_process():
    config = EmulatorConfig(seed=3, start=START, days=2, per_day=20)
    with start_emulator(config, separate_process=True) as separate, start_emulator(config) as threaded:
        assert separate.pid != threaded.pid == os.getpid()
        pages = [
            requests.get(e.url + "/v1/charges", params={"limit": 100}, auth=(config.api_key, ""), timeout=10)
            for e in (separate, threaded)
        ]
        assert pages[0].content == pages[1].content
        assert [o["id"] for o in pages[0].json()["data"]] == separate.listable_ids("charges")
        assert separate.request_count == 1 and separate.requests_by_endpoint == {"/v1/charges": 1}
    with pytest.raises(requests.ConnectionError):
        requests.get(separate.url + "/v1/charges", timeout=2)
