"""Which accounts an asset's run reads, and which of them it reads from the history start."""

from __future__ import annotations

from stripe_assets.catalog import StripeResource
from stripe_assets.dagster.partitions import PartitionedTimeModel
from stripe_assets.dataflows.accounts import Accounts
from stripe_assets.ingest.accounts import AccountsToRead, accounts_to_read, loaded_accounts
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.warehouse import Warehouse


def choose_accounts(reader: StripeReader, setting: Accounts) -> AccountsToRead:
    """The key's own account and/or the connected accounts the setting names, found now."""
    return accounts_to_read(reader, own=setting.reads_own, discover=setting.discovers, listed=setting.ids)


def seen_accounts(warehouse: Warehouse, spec: StripeResource, platform: str) -> set[str]:
    """Accounts whose objects of the resource `spec` declares were loaded before (the others
    start at the history start)."""
    if not warehouse.exists():
        return set()
    with warehouse.connect(read_only=True) as conn:
        return loaded_accounts(conn, spec, platform)


def history_windows(time: PartitionedTimeModel, windows: list[Window]) -> list[Window]:
    """Every partition of the dataflow up to the run's newest one, oldest first."""
    last = max(w.start for w in windows)
    keys = time.partitions_def.get_partition_keys()
    found = [Window(k, *time.window(k)) for k in keys]
    earlier = [w for w in found if w.start <= last and w.key not in {x.key for x in windows}]
    return sorted(earlier + list(windows), key=lambda w: w.start)


def accounts_failed_text(failed: dict[str, str]) -> str:
    """One line naming the accounts not read and the first reason."""
    if not failed:
        return ""
    names = ", ".join(sorted(failed))
    first = next(iter(failed.values()))
    return f"{len(failed)} account{'s' * (len(failed) != 1)} not read ({names}): {first}; the next run reads them again"
