"""Alert channels: `log`, `webhook` and `email`, each a sender with bounded, retried delivery."""

from __future__ import annotations

import logging
from typing import Any

from stripe_assets.alerts.channels.base import DeliveryError, Sender
from stripe_assets.alerts.channels.email import EmailSender
from stripe_assets.alerts.channels.log import LogSender
from stripe_assets.alerts.channels.webhook import WebhookSender
from stripe_assets.dataflows.alert_settings import ChannelConfig, EmailChannel, LogChannel, WebhookChannel

__all__ = ["DeliveryError", "Sender", "make_sender", "make_senders"]


def make_sender(name: str, config: ChannelConfig, logger: logging.Logger | Any) -> Sender:
    if isinstance(config, LogChannel):
        return LogSender(name, config, logger)
    if isinstance(config, WebhookChannel):
        return WebhookSender(name, config)
    if isinstance(config, EmailChannel):
        return EmailSender(name, config)
    raise TypeError(f"channel {name!r}: unsupported type {type(config).__name__}")


def make_senders(channels: dict[str, ChannelConfig], logger: logging.Logger | Any) -> dict[str, Sender]:
    return {name: make_sender(name, config, logger) for name, config in channels.items()}
