"""`email` channel: a plain-text message over SMTP (optional STARTTLS, credentials from env)."""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage

from stripe_assets.alerts.alert import Alert, render_subject, render_text
from stripe_assets.alerts.channels.base import PermanentError, TransientError, retries_for, with_retries
from stripe_assets.dataflows.alert_settings import EmailChannel


def email_message(alert: Alert, config: EmailChannel) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = render_subject(alert)
    message["From"] = config.sender
    message["To"] = ", ".join(config.to)
    message["X-Stripe-Assets-Alert-Id"] = alert.alert_id
    message.set_content(render_text(alert) + "\n")
    return message


class EmailSender:
    kind = "email"

    def __init__(self, name: str, config: EmailChannel) -> None:
        self.name = name
        self.config = config

    def _credentials(self) -> tuple[str, str] | None:
        if self.config.username_env is None or self.config.password_env is None:
            return None
        values = []
        for var in (self.config.username_env, self.config.password_env):
            value = os.environ.get(var)
            if not value:
                raise PermanentError(f"environment variable {var} is not set")
            values.append(value)
        return values[0], values[1]

    @property
    def max_attempts(self) -> int:
        return self.config.retries + 1

    def send(self, alert: Alert, deadline: float, attempts_left: int | None = None) -> int:
        message = email_message(alert, self.config)

        def attempt(timeout: float) -> None:
            credentials = self._credentials()
            _send(self.config, message, credentials, timeout)

        return with_retries(
            attempt,
            retries=retries_for(self.config.retries, attempts_left),
            backoff_seconds=self.config.backoff_seconds,
            timeout_seconds=self.config.timeout_seconds,
            deadline=deadline,
        )


def _send(
    config: EmailChannel, message: EmailMessage, credentials: tuple[str, str] | None, timeout: float
) -> None:
    where = f"{config.host}:{config.port}"
    try:
        with smtplib.SMTP(config.host, config.port, timeout=timeout) as smtp:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if credentials:
                smtp.login(*credentials)
            smtp.send_message(message)
    except smtplib.SMTPNotSupportedError as exc:
        raise PermanentError(f"SMTP {where}: {exc}") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise PermanentError(f"SMTP {where}: login refused ({exc.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        text = "; ".join(f"{rcpt}: {code}" for rcpt, (code, _) in exc.recipients.items())
        if all(400 <= c < 500 for c in codes):
            raise TransientError(f"SMTP {where}: recipients refused for now ({text})") from None
        raise PermanentError(f"SMTP {where}: recipients refused ({text})") from None
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        text = f"SMTP {where}: {exc.smtp_code} {reply}".strip()
        if 400 <= exc.smtp_code < 500:
            raise TransientError(text) from None
        raise PermanentError(text) from None
    except TimeoutError:
        raise TransientError(f"SMTP {where}: no answer within {timeout:.1f} s") from None
    except smtplib.SMTPServerDisconnected as exc:
        raise TransientError(f"SMTP {where}: disconnected ({exc})") from None
    except ssl.SSLError as exc:
        raise PermanentError(f"SMTP {where}: TLS failed ({exc.reason or exc})") from None
    except (smtplib.SMTPException, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise TransientError(f"SMTP {where}: connection failed: {reason}") from None
