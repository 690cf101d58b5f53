"""What every load of a run shares, whichever way it reads: the columns, the validation policy,
the run, what to tell the caller, and how hard to read. One value, built once by the caller (the
Dagster asset, a command, a benchmark, a test) and passed alike to `load_partitions`,
`load_connected` and `load_children`; what differs per call (accounts, the first write's extra
step) stays a keyword of that call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from stripe_assets.ingest.columns import ColumnSpec
from stripe_assets.ingest.fetch import DEFAULT_CONCURRENCY, PROGRESS_SECONDS
from stripe_assets.ingest.outcomes import Describe, OnPartition
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse.history import HistoryRetention


@dataclass(frozen=True)
class LoadOptions:
    """`describe` sees each window's validation result (its records are released right after);
    `on_partition` is called once the window landed. `log` receives progress lines (at most one
    per `progress_seconds`, and a last one) and the reader's retry warnings. Versions kept for
    rollback beyond `retention` are pruned after the load. `concurrency`: requests in flight."""

    columns: Sequence[ColumnSpec]
    settings: ValidationSettings
    run_id: str
    describe: Describe | None = None
    on_partition: OnPartition | None = None
    retention: HistoryRetention = field(default_factory=HistoryRetention)
    concurrency: int = DEFAULT_CONCURRENCY
    log: Callable[[str], None] | None = None
    progress_seconds: float = PROGRESS_SECONDS
