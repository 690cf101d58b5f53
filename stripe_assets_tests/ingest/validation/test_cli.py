"""`stripe-assets schema` prints the generated schema."""

from __future__ import annotations

import argparse
import json

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.stripe_schema import resource_fields
from stripe_assets.ingest.validation import cli


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["schema", *argv])
    return args.func(args)


def test_markdown_for_one_resource(capsys):
    assert run("prices") == 0
    out = capsys.readouterr().out
    assert out.startswith("### prices: Stripe price objects") and "### charges" not in out
    assert "| unit_amount | integer | yes |  | unit_amount_non_negative: unit_amount >= 0 |" in out


def test_json_for_every_resource_with_strict_enums(capsys):
    assert run("--json", "--strict-enums") == 0
    described = json.loads(capsys.readouterr().out)
    assert [row["column"] for row in described["customers"]] == list(resource_fields(get_resource("customers")))
    status = next(row for row in described["charges"] if row["column"] == "status")
    assert status["enum"].endswith("(open, enforced)")


def test_an_unknown_resource_is_a_usage_error(capsys):
    assert run("tax_codes") == 2
    assert "unknown Stripe resource 'tax_codes'" in capsys.readouterr().err
