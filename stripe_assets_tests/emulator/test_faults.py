"""Injected faults: invalid records, 429 rate limits, periodic 500s and latency."""

from __future__ import annotations

import time

import pytest
import requests

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.stripe_schema import deep_errors, resource_fields, value_errors
from stripe_assets_emulator import INVALID_KINDS, FaultConfig
from stripe_assets_emulator.config import RateLimit
from stripe_assets_emulator.faults import RateLimiter
from stripe_assets_emulator.generators import GENERATED as RESOURCE_NAMES
from stripe_assets_emulator.generators import generator_class


def _get(emu, path: str, **params) -> requests.Response:
    return requests.get(emu.url + path, params=params, auth=(emu.api_key, ""), timeout=10)


@pytest.mark.parametrize("kind", INVALID_KINDS)
def test_each_kind_of_invalid_record_breaks_the_field_the_truth_names(start_another, kind):
    # Five days: payouts (a few a day) start once the first charges' funds are available.
    emu = start_another(FaultConfig(invalid_fraction=0.2, invalid_kinds=(kind,)), days=5, per_day=30)
    for resource in RESOURCE_NAMES:
        records = emu.invalid_records(resource)
        served = {o["id"]: o for o in emu.objects(resource)}
        if kind not in generator_class(resource).breakages:  # no open enum to drift: served valid
            assert records == {}, resource
            continue
        if len(served) >= 50:  # too few payouts for a share to mean anything
            assert 0.08 * len(served) < len(records) < 0.35 * len(served), resource
        for object_id, record in records.items():
            obj = served[object_id]
            assert record.kind == kind
            assert record.field not in ("id", "object", "created")
            spec = resource_fields(get_resource(resource))[record.field]
            if kind == "unknown_enum":  # drift: only a strict check (deep_errors) flags it
                assert spec.enum is not None and obj[record.field] not in spec.enum, record
            else:
                assert value_errors(spec, obj.get(record.field), present=record.field in obj), record
            assert deep_errors(get_resource(resource).stripe_class, obj), record
        valid = [o for i, o in served.items() if i not in records and not o.get("deleted")]
        assert all(not deep_errors(get_resource(resource).stripe_class, o) for o in valid[:20])


def test_invalid_records_are_chosen_by_seed_and_served_as_recorded(start_another):
    faults = FaultConfig(invalid_fraction=0.1)
    first = start_another(faults, days=2)
    again = start_another(faults, days=2)
    other_seed = start_another(faults, days=2, seed=4)
    assert first.invalid_records("charges") == again.invalid_records("charges")
    assert set(first.invalid_records("charges")) != set(other_seed.invalid_records("charges"))
    kinds = {r.kind for resource in RESOURCE_NAMES for r in first.invalid_records(resource).values()}
    assert kinds == set(INVALID_KINDS)  # all kinds by default
    truth = {o["id"]: o for o in first.objects("charges")}
    for charge_id in list(first.invalid_records("charges"))[:5]:
        assert _get(first, f"/v1/charges/{charge_id}").json() == truth[charge_id]


def test_invalid_records_are_listed_over_http(start_another):
    emu = start_another(FaultConfig(invalid_fraction=0.1), days=2)
    response = requests.get(emu.url + "/_emulator/invalid", params={"resource": "refunds"}, timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["resource"] == "refunds"
    assert body["invalid"] == {i: r._asdict() for i, r in emu.invalid_records("refunds").items()}
    assert body["invalid"]
    bad = requests.get(emu.url + "/_emulator/invalid", params={"resource": "tax_codes"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "resource"


def test_no_records_are_invalid_by_default(emu):
    assert all(emu.invalid_records(r) == {} for r in RESOURCE_NAMES)


def _burst(emu, path: str, n: int) -> list[requests.Response]:
    """n requests in a row through the emulator's HTTP server."""
    session = requests.Session()
    session.auth = (emu.api_key, "")
    return [session.get(emu.url + path, params={"limit": 1}, timeout=10) for _ in range(n)]


class _Clock:
    """The rate limiter's clock, moved by the test: no token comes back while a burst is sent,
    however slowly a loaded machine sends it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _stopped_clock(emu) -> _Clock:
    """The running emulator's rate limiter, on a clock of the test's (its buckets start full)."""
    faults = emu._serving.api.faults
    clock = _Clock()
    faults.limiter = RateLimiter(faults.limiter.limit, clock=clock)
    return clock


def test_rate_limit_answers_429_like_stripe(start_another):
    emu = start_another(FaultConfig(rate_limit="stripe-test"))  # 25 requests/s
    _stopped_clock(emu)
    answers = _burst(emu, "/v1/charges", 120)
    assert [a.status_code for a in answers] == [200] * 25 + [429] * 95  # one second's worth, then none
    for answer in answers[25:]:
        assert answer.headers["Stripe-Should-Retry"] == "true"
        assert answer.headers["Retry-After"] == "1"
        assert answer.json()["error"] == {
            "type": "invalid_request_error",
            "code": "rate_limit",
            "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
            "message": "Too many requests hit the API too quickly. We recommend an exponential "
            "backoff of your requests.",
        }


def test_rate_limit_buckets_refill_at_their_rate():
    now = [100.0]
    limiter = RateLimiter(RateLimit(global_rps=20), clock=lambda: now[0])
    assert sum(limiter.allow("/v1/prices") for _ in range(30)) == 20  # one second's worth
    now[0] += 0.25  # 5 tokens come back, no more
    assert [limiter.allow("/v1/prices") for _ in range(6)] == [True] * 5 + [False]
    now[0] += 10  # never more than one second's worth
    assert sum(limiter.allow("/v1/prices") for _ in range(30)) == 20


def test_a_rate_limited_emulator_answers_again_once_tokens_came_back(start_another):
    emu = start_another(FaultConfig(rate_limit=20))
    clock = _stopped_clock(emu)
    assert [a.status_code for a in _burst(emu, "/v1/prices", 30)] == [200] * 20 + [429] * 10
    assert _get(emu, "/v1/prices").status_code == 429  # no token back while the clock stands
    clock.now += 0.06  # one token comes back (1.2 of them)
    assert [_get(emu, "/v1/prices").status_code for _ in range(2)] == [200, 429]


def test_per_endpoint_limit_spares_other_endpoints(start_another):
    emu = start_another(FaultConfig(rate_limit="stripe-live"))  # 100/s overall, 25/s per endpoint
    _stopped_clock(emu)
    assert [a.status_code for a in _burst(emu, "/v1/charges", 30)] == [200] * 25 + [429] * 5
    assert _get(emu, "/v1/customers").status_code == 200


def test_each_api_key_draws_from_its_own_account_bucket(start_another):
    emu = start_another(FaultConfig(rate_limit=10))
    _stopped_clock(emu)
    assert [a.status_code for a in _burst(emu, "/v1/prices", 12)] == [200] * 10 + [429] * 2
    other = requests.get(emu.url + "/v1/prices", auth=("sk_test_another_account", ""), timeout=10)
    assert other.status_code == 401  # not limited: a key of its own, (here) unknown to the emulator
    assert requests.get(emu.url + "/_emulator/health", timeout=10).json()["rate_limited"] == 2


def test_error_every_nth_request_is_a_500_api_error(start_another):
    emu = start_another(FaultConfig(error_every=3))
    answers = [_get(emu, "/v1/refunds") for _ in range(9)]
    assert [a.status_code for a in answers] == [200, 200, 500] * 3
    error = answers[2].json()["error"]
    assert error["type"] == "api_error" and error["message"].startswith("Sorry, something went wrong.")


def test_latency_delays_every_request(start_another):
    emu = start_another(FaultConfig(latency_ms=80, latency_jitter_ms=40))
    _get(emu, "/v1/prices")  # connection set up
    started = time.perf_counter()
    for _ in range(3):
        assert _get(emu, "/v1/prices").status_code == 200
    per_request = (time.perf_counter() - started) / 3
    assert per_request >= 0.08  # a lower bound: a loaded machine only makes requests slower


def test_faults_are_validated_with_a_message_naming_the_field():
    with pytest.raises(ValueError, match="invalid_fraction"):
        FaultConfig(invalid_fraction=1.5)
    with pytest.raises(ValueError, match="rate limit 'fast'"):
        FaultConfig(rate_limit="fast")
    with pytest.raises(ValueError, match="invalid_kinds"):
        FaultConfig(invalid_kinds=("wrong_type", "sideways"))
