"""The API key never reaches a message the project shows or stores, whatever library quoted it."""

from __future__ import annotations

import json
import secrets

import dagster as dg
import pytest
from dagster._serdes import serialize_value

from stripe_assets.alerts.alert_log import read_records
from stripe_assets.alerts.routes import routes_from_dataflows
from stripe_assets.alerts.tick import run_alert_tick
from stripe_assets.cli import main
from stripe_assets.dataflows.config import DataflowsConfig
from stripe_assets.ingest.client import StripeReader, StripeReadError
from stripe_assets.ingest.redact import redact
from stripe_assets_tests.alerts.servers import WebhookServer, serve
from stripe_assets_tests.alerts.test_cli import write_dataflows
from stripe_assets_tests.faults.servers import ScriptedApi, echoing_authorization


def new_key() -> str:
    return "sk_test_" + secrets.token_hex(16)


def everything_stored_about(instance: dg.DagsterInstance, run_id: str) -> str:
    """Every event of the run (step failures, logs, the run's own failure) as stored."""
    return "\n".join(serialize_value(entry) for entry in instance.all_logs(run_id))


@pytest.mark.parametrize("ending", ["\n", "\r\n", " ", "\t"])
def test_key_with_surrounding_whitespace_is_refused_in_one_line_without_the_key(ending):
    key = new_key()
    with pytest.raises(StripeReadError) as caught:
        StripeReader(key + ending, "http://127.0.0.1:9")
    message = str(caught.value)
    assert "STRIPE_API_KEY ends with whitespace or a line break" in message
    assert "\n" not in message and key not in message and key[8:-4] not in message


def test_key_with_inner_control_character_is_refused():
    key = new_key()
    with pytest.raises(StripeReadError, match="contains a control or space character") as caught:
        StripeReader(key[:12] + "\x00" + key[12:], "http://127.0.0.1:9")
    assert key[8:-4] not in str(caught.value)


def test_run_with_a_crlf_key_fails_with_one_line_and_stores_no_key(project, emulator, monkeypatch):
    key = emulator.api_key + "\r\n"
    monkeypatch.setenv("STRIPE_API_KEY", key)
    result = project.load(type("E", (), {"api_key": key, "url": emulator.url})(), "charges", "2026-10-02")
    assert not result.success
    with project.instance() as instance:
        stored = everything_stored_about(instance, result.run_id)
    assert "STRIPE_API_KEY ends with whitespace or a line break" in stored
    assert "Bearer" not in stored and "InvalidHeader" not in stored

    runs = project.cli("runs", "charges", STRIPE_API_KEY=key)
    assert runs.returncode == 0, runs.stderr
    assert "error: charges: STRIPE_API_KEY ends with whitespace" in runs.stdout


def test_api_quoting_the_key_is_redacted_in_events_runs_alerts_and_webhook(project, tmp_path, monkeypatch):
    key = new_key()
    monkeypatch.setenv("STRIPE_API_KEY", key)
    # The list call is the one quoting the key here (events are not read first).
    project.dataflows.write_text(
        project.dataflows.read_text().replace("resource: charges", "resource: charges\n    changes: off", 1)
    )
    api = ScriptedApi(echoing_authorization)
    hook = WebhookServer()
    try:
        with project.instance() as instance:
            log = tmp_path / "alerts.jsonl"
            routes = routes_from_dataflows(DataflowsConfig.model_validate({
                "channels": {"log": {"type": "log", "path": str(log)},
                             "ops": {"type": "webhook", "url": hook.url, "timeout_seconds": 2}},
                "dataflows": [{"name": "stripe_charges", "resource": "charges",
                               "alerts": {"channels": ["log", "ops"]}}],
            }))
            cursor = run_alert_tick(instance, None, routes, logger=_quiet()).cursor
            result = project.load(type("E", (), {"api_key": key, "url": api.url})(), "charges", "2026-10-02")
            assert not result.success
            stored = everything_stored_about(instance, result.run_id)
            run_alert_tick(instance, cursor, routes, logger=_quiet())
        runs = project.cli("runs", "charges", STRIPE_API_KEY=key)
    finally:
        api.stop()
        hook.stop()

    secret_part = key[8:-4]
    assert "Authorization: Bearer ****" in stored  # the failure is there, its key is not
    assert secret_part not in stored
    failure = [b for b in hook.delivered if b["status"] == "failure"]
    assert failure and "Bearer ****" in failure[0]["text"]
    assert secret_part not in json.dumps(hook.bodies)
    assert secret_part not in log.read_text() and any(r["record"] == "delivery" for r in read_records(log))
    assert runs.returncode == 0 and "Bearer ****" in runs.stdout
    assert secret_part not in runs.stdout + runs.stderr


def test_redact_masks_the_configured_key_in_any_form(monkeypatch):
    key = new_key()
    monkeypatch.setenv("STRIPE_API_KEY", key + "\n")
    text = f"InvalidHeader: Invalid leading whitespace in header value {('Bearer ' + key + chr(10))!r}"
    assert key[8:-4] not in redact(text)
    monkeypatch.delenv("STRIPE_API_KEY")
    assert redact(f"key {key} rejected") == f"key sk_test_****{key[-4:]} rejected"  # by its shape


class ExpressLikeReceiver:
    """Answers every POST as Express does for an unknown route: 404 `Cannot POST <path>`."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = f"<pre>Cannot POST {self.path}</pre>".encode()
                self.send_response(404)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = serve(Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("source", ["url_env", "url"])
def test_a_receiver_echoing_the_webhook_path_leaks_no_token(tmp_path, monkeypatch, capsys, source):
    token = secrets.token_hex(12)
    receiver = ExpressLikeReceiver()
    url = f"{receiver.base}/services/T0{token[:8].upper()}/B0XXXX/{token}"
    channel = {"type": "webhook", "retries": 0}
    if source == "url_env":
        monkeypatch.setenv("TEAM_HOOK", url)  # a name redaction would not guess: the channel names it
        channel["url_env"] = "TEAM_HOOK"
    else:
        channel["url"] = url
    file = write_dataflows(tmp_path, {"team_chat": channel}, ["log", "team_chat"])
    try:
        code = main(["alerts", "test", "stripe_charges", "--file", file])
    finally:
        receiver.stop()
    out = capsys.readouterr()
    assert code != 0
    assert "FAILED  team_chat (webhook): HTTP 404: <pre>Cannot POST ****</pre> (not retried)" in out.out
    log = (tmp_path / "alerts.jsonl").read_text()
    assert "Cannot POST ****" in log
    for part in (token, token[:8].upper()):
        assert part not in out.out + out.err and part not in log


def test_every_documented_secret_is_redacted(monkeypatch):
    values = {
        "DAGSTER_PG_PASSWORD": "pg/pass@word:1%",
        "PGPASSWORD": "lake catalog pw",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG",
        "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEJr//////////",
        "SMTP_PASSWORD": "smtp-hunter2",
        "ALERTS_WEBHOOK_URL": "https://hooks.slack.com/services/T0AAAA/B0BBBB/cccccccccc",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    text = " | ".join(values.values()) + " | Cannot POST /services/T0AAAA/B0BBBB/cccccccccc"
    shown = redact(text)
    assert shown.count("****") == len(values) + 1, shown
    for value in values.values():
        assert value not in shown
    assert "cccccccccc" not in shown


def _quiet():
    import logging

    logger = logging.getLogger("test-secrets")
    logger.addHandler(logging.NullHandler())
    return logger
