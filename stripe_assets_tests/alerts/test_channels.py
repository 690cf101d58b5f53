"""Each channel against a real receiver: what arrives, retries, timeouts, secrets from env."""

from __future__ import annotations

import ssl
import subprocess
import time

import pytest
from pydantic import ValidationError

from stripe_assets.alerts.alert import Alert
from stripe_assets.alerts.channels import DeliveryError
from stripe_assets.alerts.channels.email import EmailSender
from stripe_assets.alerts.channels.webhook import WebhookSender
from stripe_assets.dataflows.alert_settings import EmailChannel, WebhookChannel
from stripe_assets_tests.alerts.servers import HANG, closed_port_url, free_port


@pytest.fixture
def failure_alert() -> Alert:
    return Alert(
        alert_id="1a2b3c4d-0000:failure",
        status="failure",
        dataflows=["stripe_charges"],
        resources=["charges"],
        run_id="1a2b3c4d-0000",
        partition="2026-10-03",
        records_loaded=370,
        records_rejected=30,
        error_rate_pct=7.5,
        error="charges 2026-10-03: 7.5% of 400 records invalid (30), above the 5.0% threshold",
        failed_step="stripe__charges",
        run_url="http://localhost:3000/runs/1a2b3c4d-0000",
    )


def webhook(url: str | None = None, **kw) -> WebhookChannel:
    kw.setdefault("timeout_seconds", 1.0)
    kw.setdefault("backoff_seconds", 0.05)
    return WebhookChannel(type="webhook", url=url, **kw)


def soon(seconds: float = 20.0) -> float:
    return time.monotonic() + seconds


def test_webhook_url_from_environment(make_webhook, failure_alert, monkeypatch):
    hook = make_webhook()
    monkeypatch.setenv("OPS_HOOK_URL", hook.url)
    sender = WebhookSender("ops", WebhookChannel(type="webhook", url_env="OPS_HOOK_URL"))
    assert sender.send(failure_alert, soon()) == 1
    assert hook.delivered[0]["alert_id"] == failure_alert.alert_id


def test_webhook_missing_env_names_the_variable_and_not_the_url(failure_alert, monkeypatch):
    monkeypatch.delenv("OPS_HOOK_URL", raising=False)
    sender = WebhookSender("ops", WebhookChannel(type="webhook", url_env="OPS_HOOK_URL"))
    with pytest.raises(DeliveryError, match="environment variable OPS_HOOK_URL is not set") as err:
        sender.send(failure_alert, soon())
    assert err.value.attempts == 1 and not err.value.unreachable


def test_webhook_secret_url_never_appears_in_errors(make_webhook, failure_alert, monkeypatch):
    hook = make_webhook(default=500)
    secret = hook.url + "/T000/B000/s3cr3t"
    monkeypatch.setenv("OPS_HOOK_URL", secret)
    sender = WebhookSender("ops", WebhookChannel(type="webhook", url_env="OPS_HOOK_URL", retries=0))
    with pytest.raises(DeliveryError) as err:
        sender.send(failure_alert, soon())
    assert "s3cr3t" not in str(err.value) and "HTTP 500" in str(err.value)


@pytest.mark.parametrize("url", ["hooks.example.com/services/T000/s3cr3t", "http://[bad/s3cr3t", "ftp://x/s3cr3t"])
def test_a_malformed_secret_url_is_a_permanent_error_that_does_not_quote_it(failure_alert, monkeypatch, url):
    monkeypatch.setenv("OPS_HOOK_URL", url)
    sender = WebhookSender("ops", WebhookChannel(type="webhook", url_env="OPS_HOOK_URL"))
    with pytest.raises(DeliveryError, match="bad URL") as err:
        sender.send(failure_alert, soon())
    assert "s3cr3t" not in str(err.value) and err.value.attempts == 1


def test_webhook_retries_server_errors_with_growing_backoff_then_succeeds(make_webhook, failure_alert):
    hook = make_webhook(503, 502)
    started = time.monotonic()
    attempts = WebhookSender("ops", webhook(hook.url, retries=3, backoff_seconds=0.2)).send(failure_alert, soon())
    assert attempts == 3 and len(hook.delivered) == 1
    assert time.monotonic() - started >= 0.2 + 0.4  # 0.2 s, then 0.4 s


def test_webhook_rate_limit_waits_for_retry_after(make_webhook, failure_alert):
    hook = make_webhook((429, 1))
    started = time.monotonic()
    WebhookSender("ops", webhook(hook.url, retries=1, backoff_seconds=0.01)).send(failure_alert, soon())
    assert hook.attempts == 2 and len(hook.delivered) == 1
    assert time.monotonic() - started >= 1.0


def test_webhook_connection_refused_is_retried_and_marks_channel_down(failure_alert):
    sender = WebhookSender("ops", webhook(closed_port_url(), retries=2))
    with pytest.raises(DeliveryError, match="connection failed") as err:
        sender.send(failure_alert, soon())
    assert err.value.attempts == 3 and err.value.unreachable


def test_webhook_hang_is_cut_at_the_deadline(make_webhook, failure_alert):
    hook = make_webhook(default=HANG)
    started = time.monotonic()
    with pytest.raises(DeliveryError) as err:
        WebhookSender("ops", webhook(hook.url, timeout_seconds=10, retries=5)).send(
            failure_alert, time.monotonic() + 1.5
        )
    # The one attempt was cut at the deadline, not at its own 10 s timeout, and is left for a
    # later batch (not a connection refused, not the retries spent).
    assert err.value.out_of_time and err.value.attempts == 1, err.value
    assert "retried in a later batch" in str(err.value)
    assert time.monotonic() - started < 9  # well under the attempt's own timeout, even on a loaded machine


def test_webhook_channel_needs_exactly_one_url_source():
    with pytest.raises(ValidationError, match="exactly one of `url` or `url_env`"):
        WebhookChannel(type="webhook")
    with pytest.raises(ValidationError, match="exactly one of `url` or `url_env`"):
        WebhookChannel(type="webhook", url="http://x", url_env="X")


def email(port: int, **kw) -> EmailChannel:
    return EmailChannel(
        type="email",
        host="127.0.0.1",
        port=port,
        starttls=False,
        sender="alerts@example.com",
        to=["data-team@example.com", "oncall@example.com"],
        timeout_seconds=2,
        backoff_seconds=0.05,
        **kw,
    )


def test_email_subject_body_and_recipients(make_smtp, failure_alert):
    smtp = make_smtp()
    assert EmailSender("mail", email(smtp.port)).send(failure_alert, soon()) == 1
    (message,) = smtp.messages
    assert message["Subject"] == "[stripe-assets] FAILURE stripe_charges run 1a2b3c4d"
    assert message["From"] == "alerts@example.com"
    assert smtp.collector.recipients == [["data-team@example.com", "oncall@example.com"]]
    assert message.get_content_type() == "text/plain"
    body = message.get_payload(decode=True).decode()
    assert "Error in step stripe__charges: charges 2026-10-03: 7.5% of 400 records invalid" in body
    assert "370 loaded, 30 rejected (7.5% invalid)" in body
    assert "http://localhost:3000/runs/1a2b3c4d-0000" in body


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_email_logs_in_with_credentials_from_environment(make_smtp, failure_alert, monkeypatch):
    smtp = make_smtp(credentials=("alerts", "hunter2"))
    monkeypatch.setenv("SMTP_USER", "alerts")
    monkeypatch.setenv("SMTP_PASSWORD", "hunter2")
    config = email(smtp.port, username_env="SMTP_USER", password_env="SMTP_PASSWORD")
    EmailSender("mail", config).send(failure_alert, soon())
    assert len(smtp.messages) == 1

    monkeypatch.setenv("SMTP_PASSWORD", "wrong")
    with pytest.raises(DeliveryError, match="login refused") as err:
        EmailSender("mail", config).send(failure_alert, soon())
    assert err.value.attempts == 1  # bad credentials are not retried
    assert "wrong" not in str(err.value)


def test_email_refuses_to_send_in_clear_when_starttls_is_unavailable(make_smtp, failure_alert):
    smtp = make_smtp()
    config = email(smtp.port).model_copy(update={"starttls": True})
    with pytest.raises(DeliveryError, match="STARTTLS"):
        EmailSender("mail", config).send(failure_alert, soon())
    assert smtp.messages == []


def test_email_is_delivered_over_starttls(make_smtp, failure_alert, tmp_path, monkeypatch):
    """README: 'plain-text SMTP with STARTTLS': the server takes mail only after STARTTLS, with a
    certificate the sender verifies (a self-signed one, trusted through SSL_CERT_FILE)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    smtp = make_smtp(tls=tls)
    plain = email(smtp.port)  # starttls off: the server refuses the mail
    with pytest.raises(DeliveryError):
        EmailSender("mail", plain).send(failure_alert, soon())
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    assert EmailSender("mail", plain.model_copy(update={"starttls": True})).send(failure_alert, soon()) == 1
    (message,) = smtp.messages
    assert message["Subject"] == "[stripe-assets] FAILURE stripe_charges run 1a2b3c4d"


def test_email_unreachable_server_is_reported(failure_alert):
    with pytest.raises(DeliveryError, match="connection failed") as err:
        EmailSender("mail", email(free_port(), retries=1)).send(failure_alert, soon())
    assert err.value.attempts == 2 and err.value.unreachable


def test_alerts_left_when_the_batch_runs_out_of_time_stay_pending_not_failed(make_webhook, failure_alert):
    from stripe_assets.alerts.dispatch import Job, dispatch

    hook = make_webhook(200, 200, 503)  # the third answer asks for a retry that cannot fit
    sender = WebhookSender("ops", WebhookChannel(type="webhook", url=hook.url, backoff_seconds=5))
    jobs = [Job(i, failure_alert, ("ops",)) for i in range(10)]
    result = dispatch(jobs, {"ops": sender}, time.monotonic() + 1.0)
    delivered = [d for d in result.deliveries if d.delivered]
    assert len(delivered) == 2 and len(hook.delivered) == 2
    assert not [d for d in result.deliveries if not d.delivered]  # nothing failed for good
    assert result.pending == {(i, "ops") for i in range(2, 10)}  # retried by the next batch
