"""`log` channel: the alert as one line of the alert log file, and as a Dagster log message."""

from __future__ import annotations

import logging
from typing import Any

from stripe_assets.alerts.alert import Alert, render_text
from stripe_assets.alerts.alert_log import AlertLogError, append_record
from stripe_assets.alerts.channels.base import DeliveryError
from stripe_assets.dataflows.alert_settings import LogChannel


class LogSender:
    kind = "log"

    def __init__(self, name: str, config: LogChannel, logger: logging.Logger | Any) -> None:
        self.name = name
        self.config = config
        self.logger = logger

    @property
    def max_attempts(self) -> int:
        return 1

    def send(self, alert: Alert, deadline: float, attempts_left: int | None = None) -> int:
        level = logging.ERROR if alert.status == "failure" else logging.INFO
        self.logger.log(level, render_text(alert))
        try:
            append_record(self.config.path, {"record": "alert", **alert.model_dump(mode="json")})
        except AlertLogError as exc:
            raise DeliveryError(str(exc), attempts=1, unreachable=True) from None
        return 1
