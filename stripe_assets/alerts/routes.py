"""Who hears about which run: the alert part of `dataflows.yaml`, keyed for lookups by asset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from stripe_assets.dataflows.alert_settings import AlertSettings, ChannelConfig, LogChannel, RunStatus

DEFAULT_UI_BASE_URL = "http://localhost:3000"
ASSET_KEY_PREFIX = "stripe"


class DataflowAlerts(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    resource: str
    alerts: AlertSettings = Field(default_factory=AlertSettings)


class AlertRoutes(BaseModel):
    """Dataflows' alert settings plus the named channels they refer to (see `routes_from_dataflows`)."""

    model_config = ConfigDict(frozen=True)

    dataflows: list[DataflowAlerts]
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    ui_base_url: str = DEFAULT_UI_BASE_URL

    @property
    def all_channels(self) -> dict[str, ChannelConfig]:
        # `log` works without being declared: every project has an alert log. That dataflows
        # only name defined channels is checked when the dataflows file is loaded.
        return {"log": LogChannel(type="log"), **self.channels}

    def dataflow(self, name: str) -> DataflowAlerts:
        """The dataflow called `name`; its resource name works too (one dataflow per resource)."""
        for flow in self.dataflows:
            if flow.name == name:
                return flow
        for flow in self.dataflows:
            if flow.resource == name:
                return flow
        configured = ", ".join(f.name for f in self.dataflows) or "none"
        raise ValueError(f"no dataflow named {name!r} (configured: {configured})")  # as every command says

    def for_asset_keys(self, asset_keys: list[list[str]]) -> list[DataflowAlerts]:
        """Dataflows whose asset (`stripe/<resource>`) is among `asset_keys`, in config order."""
        resources = {key[1] for key in asset_keys if len(key) == 2 and key[0] == ASSET_KEY_PREFIX}
        return [flow for flow in self.dataflows if flow.resource in resources]

    def channels_for(self, flows: list[DataflowAlerts], status: RunStatus) -> list[str]:
        """Union of the channels of the dataflows subscribed to `status`, first mention first."""
        names: list[str] = []
        for flow in flows:
            if status in flow.alerts.send:
                names.extend(n for n in flow.alerts.channels if n not in names)
        return names

    def alert_log_paths(self) -> list[str]:
        """Where delivery outcomes are recorded: every configured log channel's file."""
        paths = [c.path for c in self.all_channels.values() if isinstance(c, LogChannel)]
        return list(dict.fromkeys(paths))


def routes_from_dataflows(config: Any) -> AlertRoutes:
    """Build routes from a loaded `DataflowsConfig` (its dataflows, channels and UI base URL)."""
    return AlertRoutes(
        dataflows=[
            DataflowAlerts(name=d.name, resource=d.resource, alerts=d.alerts) for d in config.dataflows
        ],
        channels=dict(config.channels),
        ui_base_url=getattr(config, "ui_base_url", None) or DEFAULT_UI_BASE_URL,
    )


def load_routes(path: str | Path | None = None) -> AlertRoutes:
    """Routes from the dataflows file (`path`, else $STRIPE_ASSETS_DATAFLOWS, else ./dataflows.yaml)."""
    from stripe_assets.dataflows.config import load_dataflows

    return routes_from_dataflows(load_dataflows(path))
