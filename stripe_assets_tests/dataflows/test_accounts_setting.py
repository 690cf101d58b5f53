"""`accounts:` in the dataflows file: whose data the dataflows read."""

from __future__ import annotations

import pytest

from stripe_assets.dataflows.accounts import Accounts
from stripe_assets.dataflows.config import DataflowConfigError, parse_dataflows


def test_default_is_the_keys_own_account():
    config = parse_dataflows("dataflows: [{name: c, resource: charges}]")
    assert config.dataflows[0].reads(config.api) == Accounts(mode="self")


def test_api_section_applies_to_every_dataflow_and_a_dataflow_overrides_it():
    config = parse_dataflows(
        "api: {accounts: all}\n"
        "dataflows: [{name: c, resource: charges}, {name: r, resource: refunds, accounts: [acct_1A, acct_2B]}]"
    )
    charges, refunds = config.dataflows
    assert charges.reads(config.api) == Accounts(mode="all")
    assert refunds.reads(config.api) == Accounts(mode="list", ids=("acct_1A", "acct_2B"))
    assert parse_dataflows("api: {accounts: connected}").api.accounts.discovers


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "api: {accounts: everyone}",
            r"^f.yaml: field 'api.accounts': 'everyone' is not an accounts choice "
            r"\(allowed: self, connected, all or a list of acct_ ids\)$",
        ),
        (
            "dataflows: [{name: c, resource: charges, accounts: [acct_1A, cus_9]}]",
            r"^f.yaml: dataflow 'c', field 'accounts': 'cus_9' is not a connected account id",
        ),
        ("api: {accounts: []}", r"^f.yaml: field 'api.accounts': an empty list reads no account"),
    ],
)
def test_a_bad_value_is_one_line_naming_it(setting: str, message: str):
    with pytest.raises(DataflowConfigError, match=message):
        parse_dataflows(setting, "f.yaml")
