"""Loading `dataflows.yaml`: the shipped file, where it is found, and one clear line per mistake."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets.dataflows.alert_settings import LogChannel, WebhookChannel
from stripe_assets.dataflows.config import (
    DATAFLOWS_ENV,
    DataflowConfigError,
    DataflowsConfig,
    load_dataflows,
    parse_dataflows,
)
from stripe_assets.ingest.columns import default_columns

SHIPPED = Path(__file__).resolve().parents[2] / "dataflows.yaml"


def test_shipped_file_equals_the_built_in_defaults():
    shipped = load_dataflows(SHIPPED)
    assert shipped == DataflowsConfig()
    assert [d.resource for d in shipped.dataflows] == list(RESOURCE_NAMES)  # one per declared resource
    for flow in shipped.dataflows:
        assert (flow.frequency, flow.interval, flow.backfill, flow.enabled) == ("day", 1, True, True)
        assert flow.history_start <= datetime(2025, 11, 23, tzinfo=UTC), "a year of history"
    assert shipped.ui_base_url == "http://localhost:3000"
    assert shipped.channels == {"log": LogChannel(type="log", path="data/alerts.jsonl")}


def test_shipped_mapping_adds_card_funding_to_the_default_charge_columns():
    charges = load_dataflows(SHIPPED).for_resource("charges")
    names = [c.name for c in charges.columns()]
    assert names == [c.name for c in default_columns(get_resource("charges"))] + ["card_funding"]
    added = charges.columns()[-1]
    assert (added.dotted_path, added.type) == ("payment_method_details.card.funding", "VARCHAR")


def test_file_is_found_by_argument_then_env_then_project_home_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    (tmp_path / "sub" / "dataflows.yaml").write_text("ui_base_url: http://cwd:3000\n")
    monkeypatch.delenv(DATAFLOWS_ENV, raising=False)
    assert load_dataflows() == DataflowsConfig(), "none in the home: built-in defaults, not the working directory's"

    (tmp_path / "dataflows.yaml").write_text("ui_base_url: http://home:3000\n")
    assert load_dataflows().ui_base_url == "http://home:3000"

    other = tmp_path / "elsewhere.yaml"
    other.write_text("ui_base_url: http://env:3000\n")
    monkeypatch.setenv(DATAFLOWS_ENV, str(other))
    assert load_dataflows().ui_base_url == "http://env:3000"

    assert load_dataflows(tmp_path / "sub" / "dataflows.yaml").ui_base_url == "http://cwd:3000"

    monkeypatch.setenv(DATAFLOWS_ENV, str(tmp_path / "missing.yaml"))
    with pytest.raises(
        DataflowConfigError, match=r"missing\.yaml: file not found \(from \$STRIPE_ASSETS_DATAFLOWS\)"
    ):
        load_dataflows()


def test_an_edited_file_is_read_again(tmp_path):
    path = tmp_path / "dataflows.yaml"
    path.write_text("dataflows: [{name: c, resource: charges, interval: 2}]\n")
    assert load_dataflows(path).dataflows[0].interval == 2
    path.write_text("dataflows: [{name: c, resource: charges, interval: 3}]\n")
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse clocks
    assert load_dataflows(path).dataflows[0].interval == 3


def test_numbers_are_read_with_yaml_1_2_rules():
    def interval(text: str) -> int | None:
        return parse_dataflows(f"dataflows: [{{name: c, resource: charges, interval: {text}}}]").dataflows[0].interval

    assert interval("010") == 10  # decimal, not YAML 1.1's octal 8
    assert interval("0o10") == 8
    assert interval("+12") == 12
    config = parse_dataflows("dataflows: [{name: c, resource: charges, validation: {threshold_pct: 2.5e0}}]")
    assert config.dataflows[0].validation.threshold_pct == 2.5


def test_the_old_alerts_key_on_is_read_with_a_warning(caplog):
    text = "channels: {log: {type: log}}\ndataflows: [{name: c, resource: charges, alerts: {%s: [failure]}}]"
    with caplog.at_level(logging.WARNING):
        old = parse_dataflows(text % "on")
    assert old.dataflows[0].alerts.send == ["failure"]
    assert "the alerts key `on:` is now `send:`" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert parse_dataflows(text % "send").dataflows[0].alerts == old.dataflows[0].alerts
    assert caplog.text == ""
    with pytest.raises(DataflowConfigError, match="`on` is the old name of `send`"):
        parse_dataflows(text.replace("{%s: [failure]}", "{on: [failure], send: [start]}"))


def test_omitted_fields_take_the_defaults_and_shorthands_expand():
    config = parse_dataflows(
        """
channels:
  chat: {type: webhook, url_env: CHAT_URL}
dataflows:
  - name: fast_refunds
    resource: refunds
    frequency: minute
    start_time: 2026-01-01T00:05:00+00:00
    backfill: false
    alerts: {send: [failure], channels: [chat, log]}
    mapping:
      add:
        reason_again: reason
        paid_at: {path: created, type: timestamptz}
      rename: {description: note}
      drop: [receipt_number]
  - name: one_off
    resource: prices
    frequency: once
"""
    )
    fast, once = config.dataflows
    assert fast.interval == 15 and fast.backfill is False
    assert fast.alerts.send == ["failure"]
    assert config.channels["chat"] == WebhookChannel(type="webhook", url_env="CHAT_URL")
    assert "log" in config.channels, "log always exists"
    columns = {c.name: c for c in fast.columns()}
    assert columns["paid_at"].type == "TIMESTAMPTZ" and columns["note"].path == ("description",)
    assert "receipt_number" not in columns and columns["reason_again"].path == ("reason",)
    assert (once.interval, once.backfill) == (None, None)
    assert config.for_resource("prices") is once
    with pytest.raises(ValueError, match="no dataflow loads 'charges'"):
        config.for_resource("charges")


def flow(extra: str) -> str:
    return f"dataflows:\n  - name: stripe_charges\n    resource: charges\n{extra}"


INVALID = [
    (
        "interval zero",
        flow("    interval: 0\n"),
        "field 'interval': 0 is not allowed; the interval is never zero or negative (minimum 1)",
    ),
    (
        "interval negative",
        flow("    frequency: hour\n    interval: -2\n"),
        "field 'interval': -2 is not allowed; the interval is never zero or negative (minimum 1)",
    ),
    (
        "interval fraction",
        flow("    interval: 1.5\n"),
        "field 'interval': 1.5 is not a whole number (allowed: an integer of at least 1)",
    ),
    (
        "interval text",
        flow("    interval: '2'\n"),
        "field 'interval': '2' is not a whole number (allowed: an integer of at least 1)",
    ),
    (
        "minute under 15",
        flow("    frequency: minute\n    interval: 10\n"),
        "field 'interval': 10 is below the minimum of 15 for frequency 'minute'",
    ),
    (
        "once with interval",
        flow("    frequency: once\n    interval: 1\n"),
        "field 'interval': 1 is not allowed for frequency 'once' (it runs a single time; remove `interval`)",
    ),
    (
        "once with backfill",
        flow("    frequency: once\n    backfill: false\n"),
        "field 'backfill': false is not allowed for frequency 'once' (it always loads everything; remove `backfill`)",
    ),
    (
        "unknown frequency",
        flow("    frequency: monthly\n"),
        "field 'frequency': 'monthly' is not a frequency (allowed: once, minute, hour, day, week)",
    ),
    (
        "unknown resource",
        "dataflows:\n  - name: stripe_tax_codes\n    resource: tax_codes\n",
        f"dataflow 'stripe_tax_codes', field 'resource': 'tax_codes' is not a declared resource "
        f"(declared: {', '.join(RESOURCE_NAMES)}); to add it, declare it in stripe_assets/catalog/tax_codes.py",
    ),
    (
        "resource twice",
        flow("  - name: more_charges\n    resource: charges\n"),
        "dataflow 'more_charges', field 'resource': 'charges' is already loaded by dataflow 'stripe_charges' "
        "(one dataflow per resource)",
    ),
    (
        "name twice",
        flow("  - name: stripe_charges\n    resource: refunds\n"),
        "field 'name': 'stripe_charges' is used by two dataflows (names must be unique)",
    ),
    (
        "start without offset",
        flow("    start_time: 2026-01-01T02:00:00\n"),
        "field 'start_time': '2026-01-01T02:00:00' has no UTC offset (append Z, e.g. 2026-01-01T02:00:00Z)",
    ),
    (
        "start not UTC",
        flow("    start_time: 2026-01-01T02:00:00+01:00\n"),
        "field 'start_time': '2026-01-01T02:00:00+01:00' is not in UTC (use Z or +00:00, e.g. 2026-01-01T02:00:00Z)",
    ),
    (
        "start not a time",
        flow("    start_time: tomorrow\n"),
        "field 'start_time': 'tomorrow' is not an ISO-8601 time (e.g. 2026-01-01T02:00:00Z)",
    ),
    (
        "start with seconds",
        flow("    start_time: 2026-01-01T02:00:30Z\n"),
        "field 'start_time': '2026-01-01T02:00:30Z' is not on a whole minute (schedules tick on minutes)",
    ),
    (
        "history without offset",
        flow("    history_start: 2025-01-01\n"),
        "field 'history_start': '2025-01-01' has no UTC offset (append Z, e.g. 2026-01-01T02:00:00Z)",
    ),
    (
        "history after start",
        flow("    history_start: 2026-01-01T00:00:00Z\n    start_time: 2025-06-01T00:00:00Z\n"),
        "field 'history_start': 2026-01-01T00:00:00Z is after start_time 2025-06-01T00:00:00Z "
        "(a backfill begins at or before the start time)",
    ),
    (
        "unknown key",
        flow("    schedule: daily\n"),
        "dataflow 'stripe_charges': unknown key 'schedule' "
        "(allowed: name, resource, frequency, interval, start_time, history_start, "
        "backfill, enabled, validation, alerts, mapping, changes, accounts)",
    ),
    (
        "unknown nested key",
        flow("    validation: {threshold: 2}\n"),
        "field 'validation': unknown key 'threshold' "
        "(allowed: partial_ingestion, threshold_pct, diagnostics, strict_enums)",
    ),
    (
        "bad threshold",
        flow("    validation: {threshold_pct: 150}\n"),
        "field 'validation.threshold_pct': 150 is not valid: input should be less than or equal to 100",
    ),
    (
        "yaml 1.1 boolean",
        flow("    enabled: yes\n"),
        "field 'enabled': 'yes' is not a boolean (allowed: true, false)",
    ),
    (
        "yaml 1.1 boolean off",
        flow("    validation: {partial_ingestion: off}\n"),
        "field 'validation.partial_ingestion': 'off' is not a boolean (allowed: true, false)",
    ),
    (
        "yaml 1.1 boolean on",
        flow("    validation: {strict_enums: on}\n"),
        "field 'validation.strict_enums': 'on' is not a boolean (allowed: true, false)",
    ),
    (
        "yaml 1.1 sexagesimal",
        flow("    frequency: hour\n    interval: 1:00\n"),
        "field 'interval': '1:00' is not a whole number (allowed: an integer of at least 1)",
    ),
    (
        "bad mapping path",
        flow("    mapping: {add: {funding: payment_method_details.card.fundng}}\n"),
        "field 'mapping': add: column 'funding': 'payment_method_details.card.fundng': "
        "payment_method_details.card has no field 'fundng' (known: ",
    ),
    (
        "bad mapping type",
        flow("    mapping: {add: {amount_text: {path: amount, type: TEXT}}}\n"),
        "field 'mapping': add: column 'amount_text': unknown type 'TEXT' "
        "(allowed: VARCHAR, BIGINT, DOUBLE, BOOLEAN, TIMESTAMPTZ, DECIMAL(38,12), JSON)",
    ),
    (
        "mapping type that cannot hold a string",
        flow("    mapping: {add: {note_number: {path: description, type: BIGINT}}}\n"),
        "field 'mapping': add: column 'note_number': type BIGINT cannot hold 'description', "
        "a string in Stripe's schema (allowed: VARCHAR, JSON)",
    ),
    (
        "mapping type that cannot hold an object",
        flow("    mapping: {add: {has_outcome: {path: outcome, type: BOOLEAN}}}\n"),
        "field 'mapping': add: column 'has_outcome': type BOOLEAN cannot hold 'outcome', "
        "an object in Stripe's schema (allowed: JSON, VARCHAR)",
    ),
    (
        "drop required column",
        flow("    mapping: {drop: [id]}\n"),
        "field 'mapping': drop: column 'id' cannot be dropped (required: id, created)",
    ),
    (
        "undefined channel",
        flow("    alerts: {channels: [log, pager]}\n"),
        "field 'alerts.channels': 'pager' is not a defined channel (defined under `channels:`: log)",
    ),
    (
        "unknown alert status",
        flow("    alerts: {send: [failure, retry]}\n"),
        "field 'alerts.send[1]': 'retry' is not valid: input should be 'start', 'success' or 'failure'",
    ),
    (
        "missing resource",
        "dataflows:\n  - name: stripe_charges\n",
        "dataflow 'stripe_charges', field 'resource': required but missing",
    ),
]


@pytest.mark.parametrize("text,expected", [(t, e) for _, t, e in INVALID], ids=[i for i, _, _ in INVALID])
def test_invalid_config_fails_with_one_line_naming_file_dataflow_field_and_value(text, expected):
    with pytest.raises(DataflowConfigError) as caught:
        parse_dataflows(text, "dataflows.yaml")
    message = str(caught.value)
    assert "\n" not in message
    where = "" if expected.startswith("dataflow ") else "dataflow 'stripe_charges', "
    assert message.startswith(f"dataflows.yaml: {where}{expected}")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("colour: blue\n", "unknown top-level key 'colour' (allowed: channels, ui_base_url, history, api, dataflows)"),
        (
            "channels: {pager: {type: sms}}\n",
            "channel 'pager': type 'sms' is not a channel type (allowed: 'log', 'webhook', 'email')",
        ),
        (
            "channels: {pager: {type: webhook}}\n",
            "channel 'pager': webhook channel needs exactly one of `url` or `url_env`",
        ),
        (
            "channels: {pager: {type: webhook, url: 'http://x', secret: 1}}\n",
            "channel 'pager': unknown key 'secret' "
            "(allowed: type, timeout_seconds, retries, backoff_seconds, url, url_env)",
        ),
        (
            "dataflows: {charges: {}}\n",
            "field 'dataflows': {'charges': {}} is not valid: input should be a list",
        ),
        (
            "- charges\n",
            "the top level must be a mapping with keys channels, ui_base_url, dataflows (got list)",
        ),
        (
            "dataflows: [{name: a, resource: charges\n",
            "not valid YAML: line 2, column 1: expected ',' or '}'",
        ),
        (
            "ui_base_url: a\nui_base_url: b\n",
            "not valid YAML: line 2, column 1: key 'ui_base_url' appears twice",
        ),
    ],
)
def test_invalid_file_level_config(text, expected):
    with pytest.raises(DataflowConfigError) as caught:
        parse_dataflows(text, "dataflows.yaml")
    assert str(caught.value).startswith("dataflows.yaml: " + expected)


def test_message_names_the_file_it_came_from(tmp_path):
    path = tmp_path / "team" / "flows.yaml"
    path.parent.mkdir()
    path.write_text(flow("    frequency: minute\n    interval: 10\n"))
    with pytest.raises(DataflowConfigError) as caught:
        load_dataflows(path)
    assert str(caught.value) == (
        f"{path}: dataflow 'stripe_charges', field 'interval': 10 is below the minimum of 15 for frequency 'minute'"
    )


def test_unnamed_dataflow_is_named_by_position():
    with pytest.raises(DataflowConfigError, match=r"^x.yaml: dataflow #2, field 'name': required but missing$"):
        parse_dataflows(flow("  - resource: refunds\n"), "x.yaml")
