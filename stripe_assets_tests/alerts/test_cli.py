"""`stripe-assets alerts test <dataflow>` against a real dataflows file and real receivers."""

from __future__ import annotations

import yaml

from stripe_assets.alerts.alert_log import read_records
from stripe_assets.cli import main
from stripe_assets_tests.alerts.servers import closed_port_url


def write_dataflows(tmp_path, channels: dict, dataflow_channels: list[str]) -> str:
    path = tmp_path / "dataflows.yaml"
    config = {
        "channels": {"log": {"type": "log", "path": str(tmp_path / "alerts.jsonl")}, **channels},
        "ui_base_url": "https://dagster.example.com",
        "dataflows": [
            {
                "name": "stripe_charges",
                "resource": "charges",
                "alerts": {"send": ["failure"], "channels": dataflow_channels},
            }
        ],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return str(path)


def test_sample_alert_reaches_every_channel(tmp_path, make_webhook, make_smtp, capsys, monkeypatch):
    hook, smtp = make_webhook(), make_smtp()
    monkeypatch.setenv("TEAM_HOOK", hook.url)
    file = write_dataflows(
        tmp_path,
        {
            "team_chat": {"type": "webhook", "url_env": "TEAM_HOOK"},
            "oncall": {
                "type": "email",
                "host": "127.0.0.1",
                "port": smtp.port,
                "starttls": False,
                "sender": "dagster@example.com",
                "to": ["data-team@example.com"],
            },
        },
        ["log", "team_chat", "oncall"],
    )

    code = main(["alerts", "test", "stripe_charges", "--file", file])

    out = capsys.readouterr().out
    assert code == 0, out
    for line in ("ok      log (log)", "ok      team_chat (webhook)", "ok      oncall (email)"):
        assert line in out
    (body,) = hook.delivered
    assert body["test"] is True and body["dataflows"] == ["stripe_charges"]
    assert body["run_url"].startswith("https://dagster.example.com/runs/")
    assert smtp.messages[0]["Subject"].startswith("[stripe-assets] TEST FAILURE stripe_charges run ")
    records = list(read_records(tmp_path / "alerts.jsonl"))
    assert [r["record"] for r in records].count("alert") == 1
    assert sorted(r["channel"] for r in records if r["record"] == "delivery") == ["log", "oncall", "team_chat"]


def test_unreachable_channel_is_reported_and_fails_the_command(tmp_path, make_webhook, capsys):
    hook = make_webhook()
    file = write_dataflows(
        tmp_path,
        {
            "team_chat": {"type": "webhook", "url": hook.url},
            "gone": {"type": "webhook", "url": closed_port_url(), "retries": 1, "backoff_seconds": 0.05},
        },
        ["team_chat", "gone"],
    )

    code = main(["alerts", "test", "stripe_charges", "--file", file])

    out = capsys.readouterr().out
    assert code == 1
    assert "ok      team_chat (webhook)" in out
    assert "FAILED  gone (webhook): connection failed: Connection refused (gave up after 2 attempts)" in out
    failed = [r for r in read_records(tmp_path / "alerts.jsonl") if r["record"] == "delivery" and not r["delivered"]]
    assert [r["channel"] for r in failed] == ["gone"]


def test_the_resource_name_works_as_the_dataflow(tmp_path, capsys):
    file = write_dataflows(tmp_path, {}, ["log"])

    code = main(["alerts", "test", "charges", "--file", file])

    out = capsys.readouterr().out
    assert code == 0, out
    assert "Sending a test alert for dataflow stripe_charges to: log" in out and "ok      log (log)" in out


def test_unknown_dataflow_is_a_one_line_error(tmp_path, capsys):
    file = write_dataflows(tmp_path, {}, ["log"])
    assert main(["alerts", "test", "stripe_refunds", "--file", file]) == 2
    err = capsys.readouterr().err.strip()
    # worded as every command words it (`runs`, `delete`, ...)
    assert err == "stripe-assets alerts test: no dataflow named 'stripe_refunds' (configured: stripe_charges)"


def test_bad_dataflows_file_is_a_one_line_error(tmp_path, capsys):
    assert main(["alerts", "test", "stripe_charges", "--file", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("stripe-assets alerts test: ") and "missing.yaml" in err and "\n" not in err
