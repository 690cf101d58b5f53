"""Settings: defaults, per-resource volumes and one-line errors naming the bad value."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.stripe_schema import resource_fields
from stripe_assets_emulator import (
    INVALID_KINDS,
    RATE_LIMIT_PRESETS,
    EmulatorConfig,
    FaultConfig,
    RateLimit,
)
from stripe_assets_emulator.cli import config_from_args, register
from stripe_assets_emulator.dataset import Dataset
from stripe_assets_emulator.generators import GENERATED as RESOURCE_NAMES
from stripe_assets_emulator.generators import MissingGeneratorError, generator_class, generator_classes


def test_defaults_cover_the_thirty_days_before_today():
    config = EmulatorConfig()
    today = datetime.now(UTC).date()
    assert config.start == today - timedelta(days=30) and config.days == 30
    assert config.end_timestamp == int(
        datetime(today.year, today.month, today.day, tzinfo=UTC).timestamp()
    )
    assert (config.seed, config.api_key, config.count_per_day("charges")) == (42, "sk_test_emulator", 50)
    assert config.faults == FaultConfig()
    assert FaultConfig().rate_limit is None and FaultConfig().error_every is None


def test_per_day_can_differ_by_resource(start_another):
    emu = start_another(days=2, per_day={"charges": 25, "customers": 5, "refunds": 3})
    assert [emu.count(r) for r in ("charges", "customers", "refunds", "prices")] == [50, 10, 6, 100]
    settled = sum(1 for c in emu.objects("charges") if c["status"] == "succeeded" and c["captured"])
    assert emu.count("balance_transactions") == (
        settled + 6 + emu.count("payouts") + emu.count("disputes") + emu.count("transfers")
        + emu.count("application_fees")
    )


@pytest.mark.parametrize(
    ("per_day", "message"),
    [
        ({"tax_codes": 3}, "unknown Stripe resource 'tax_codes'"),
        ({"payouts": 3}, "payouts follow available funds"),
        ({"balance_transactions": 3},
         "balance transactions follow charges, refunds, payouts, disputes, transfers and application fees"),
        ({"charges": -1}, "per_day['charges'] must be between 0"),
        ({"charges": 0}, "per_day['charges'] must be > 0 when refunds are generated"),
        ({"prices": 0}, "per_day['prices'] must be > 0 when subscriptions are generated"),
        ({"products": 0}, "per_day['products'] must be > 0 when prices are generated"),
    ],
)
def test_bad_volumes_are_rejected_with_the_field_named(per_day, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        EmulatorConfig(per_day=per_day)


def test_an_account_with_only_some_resources_works(start_another):
    emu = start_another(
        days=2, per_day={"charges": 10, "refunds": 0, "subscriptions": 0, "customers": 0, "prices": 0}
    )
    charges = emu.objects("charges")
    assert len(charges) == 20 and all(c["customer"] is None for c in charges)
    assert emu.objects("refunds") == [] and emu.objects("customers") == []
    intents = emu.objects("setup_intents")  # cards saved without a customer
    assert intents and all(si["customer"] is None for si in intents)


def test_rate_limit_presets_match_stripes_documented_limits():
    assert RATE_LIMIT_PRESETS["stripe-test"] == RateLimit(global_rps=25, per_endpoint_rps=25)
    assert RATE_LIMIT_PRESETS["stripe-live"] == RateLimit(global_rps=100, per_endpoint_rps=25)
    assert FaultConfig(rate_limit="10").rate_limit == RateLimit(global_rps=10)
    assert FaultConfig(rate_limit=2.5).rate_limit == RateLimit(global_rps=2.5)
    with pytest.raises(ValueError, match="positive"):
        RateLimit.parse("0")


def test_a_resource_without_a_generator_says_where_to_add_one():
    with pytest.raises(MissingGeneratorError) as caught:
        generator_class("tax_codes")
    assert str(caught.value) == (
        "the emulator has no generator for 'tax_codes': add emulator/stripe_assets_emulator/generators/tax_codes.py "
        "defining GENERATOR (see charges.py there)"
    )


def test_every_declared_resource_has_a_generator_with_its_own_filters_and_breakages():
    generators = generator_classes()
    assert list(generators) == list(RESOURCE_NAMES)
    for name, generator in generators.items():
        assert generator.resource == name
        # Every way to break a record, except drift where the schema has no open enum to drift.
        open_enums = [f for f in resource_fields(get_resource(name)).values() if f.enum_open]
        assert set(generator.breakages) == set(INVALID_KINDS) - (set() if open_enums else {"unknown_enum"}), name
        assert generator.current_state_filters <= set(generator.filters), name



def test_dispute_rate_disputes_more_charges_and_its_default_keeps_the_data_set():
    def disputes(**extra) -> int:
        ds = Dataset(EmulatorConfig(seed=3, days=10, per_day=200, **extra))
        return sum(ds.plans.count("disputes", day) for day in range(10))

    assert disputes() == disputes(dispute_rate=0.01) < disputes(dispute_rate=0.2)
    with pytest.raises(ValidationError, match="dispute_rate"):
        EmulatorConfig(dispute_rate=1.5)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["emulator", "--dispute-rate", "0.2"])
    assert config_from_args(args).dispute_rate == 0.2
