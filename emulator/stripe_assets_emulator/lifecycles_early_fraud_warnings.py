"""Early fraud warnings follow their charge: once it is fully refunded or disputed, they can no
longer be acted on (`actionable` false, `radar.early_fraud_warning.updated`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_assets_emulator.generators.early_fraud_warnings import EarlyFraudWarnings, actionable
from stripe_assets_emulator.plans import ref

if TYPE_CHECKING:
    from stripe_assets_emulator.lifecycles import Change, Changer


def warnings_follow_charge(changer: Changer, change: Change) -> None:
    """After a change to the charge at `change.place`: its actionable warnings turn unactionable
    if it is now fully refunded or disputed, in the same second."""
    ds = changer.ds
    if actionable(ds.current("charges", *change.place)):
        return
    generator = ds.generator(EarlyFraudWarnings)
    for day, slot in generator.by_charge.get(ref(*change.place), ()):
        warning = ds.current("early_fraud_warnings", day, slot)
        if warning["actionable"]:
            ds.put("early_fraud_warnings", day, slot, {**warning, "actionable": False})
            served = ds.served("early_fraud_warnings", day, slot)
            changer.emit(change, "radar.early_fraud_warning.updated", served, {"actionable": True})
