"""A local, deterministic stand-in for the read side of the Stripe API.

    from stripe_assets_emulator import EmulatorConfig, start_emulator
    with start_emulator(EmulatorConfig(seed=7, days=3, per_day=100)) as emu:
        ...  # point STRIPE_API_BASE at emu.url and STRIPE_API_KEY at emu.api_key

    with start_emulator(EmulatorConfig(seed=7, days=14, per_day=500)) as emu:
        emu.advance(days=3, changes={"charge_refunded": 500, "customer_deleted": 50})
        ...  # GET /v1/events lists what changed; objects are served in their current state

or `stripe-assets emulator --port 12111` from a shell.
"""

from stripe_assets_emulator.changes import Advance, ChangeRequestError
from stripe_assets_emulator.config import (
    INVALID_KINDS,
    RATE_LIMIT_PRESETS,
    ConnectConfig,
    EmulatorConfig,
    FaultConfig,
    RateLimit,
)
from stripe_assets_emulator.invalid import InvalidRecord
from stripe_assets_emulator.lifecycles import CHANGE_KINDS
from stripe_assets_emulator.runner import RunningEmulator, start_emulator

__all__ = [
    "CHANGE_KINDS",
    "INVALID_KINDS",
    "RATE_LIMIT_PRESETS",
    "Advance",
    "ChangeRequestError",
    "ConnectConfig",
    "EmulatorConfig",
    "FaultConfig",
    "InvalidRecord",
    "RateLimit",
    "RunningEmulator",
    "start_emulator",
]
