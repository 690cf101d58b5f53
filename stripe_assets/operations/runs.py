"""`runs`: a dataflow's run history — when, how long, how it ended, what it loaded, and why it
failed — merged from the Dagster instance and the warehouse's load log, with rollbacks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import dagster as dg

from stripe_assets.dataflows.config import Dataflow
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.ingest.warehouse.loads import (
    CHANGED,
    LOADED,
    REJECTED,
    PartitionLoad,
    partition_loads,
    rollback_events,
)
from stripe_assets.operations.asset_keys import AssetKeys
from stripe_assets.operations.instance import RunInfo, asset_runs, run_infos
from stripe_assets.operations.text import fmt_count, fmt_duration, fmt_time, partitions_label, render_table

ROLLBACK = "ROLLBACK"


@dataclass(frozen=True)
class RunEntry:
    kind: str  # "run" or "rollback"
    run_id: str | None
    at: datetime  # when it started (a run) or happened (a rollback)
    seconds: float | None
    status: str  # Dagster's status, LOADED/REJECTED for loads Dagster does not know, or ROLLBACK
    partitions: list[str]  # loaded (or rejected) by the run
    records_loaded: int | None = None
    records_rejected: int | None = None
    records_changed: int | None = None  # rows brought up to date from Stripe's events
    partitions_changed: list[str] = field(default_factory=list)
    records_per_second: float | None = None
    api_rate_limited: int | None = None
    error: str | None = None
    rolled_back: str | None = None  # "rolled back" / "partly rolled back"
    undid: list[str] = field(default_factory=list)  # a rollback's undone runs

    def as_json(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}


def _run_entry(run_id: str, info: RunInfo | None, every_load: list[PartitionLoad]) -> RunEntry:
    # Rows updated from events are no load of their partition: counted apart, not as "loaded".
    loads = [load for load in every_load if load.status != CHANGED]
    changes = [load for load in every_load if load.status == CHANGED]
    loaded = sum(load.records_loaded or 0 for load in loads) if loads else None
    rejected = sum(load.records_rejected or 0 for load in loads) if loads else None
    changed = sum(load.records_loaded or 0 for load in changes) if changes else None
    undone = [load for load in every_load if not load.active]
    rolled_back = None
    if undone:
        rolled_back = "rolled back" if len(undone) == len(every_load) else "partly rolled back"
    if info is not None:
        partitions = [load.partition for load in loads] or ([info.partitions] if info.partitions else [])
        return RunEntry(
            kind="run", run_id=run_id, at=info.started or info.created, seconds=info.seconds,
            status=info.status, partitions=partitions, records_loaded=loaded, records_rejected=rejected,
            records_changed=changed, partitions_changed=[load.partition for load in changes],
            records_per_second=info.records_per_second, api_rate_limited=info.api_rate_limited,
            error=info.error, rolled_back=rolled_back,
        )
    # A load Dagster does not know (another instance, or a load run outside Dagster).
    return RunEntry(
        kind="run", run_id=run_id, at=min(load.loaded_at for load in every_load), seconds=None,
        status=REJECTED.upper() if any(load.status == REJECTED for load in loads) else LOADED.upper(),
        partitions=[load.partition for load in loads], records_loaded=loaded, records_rejected=rejected,
        records_changed=changed, partitions_changed=[load.partition for load in changes],
        rolled_back=rolled_back,
    )


def collect_runs(
    dataflow: Dataflow,
    warehouse: Warehouse,
    instance: dg.DagsterInstance | None,
    limit: int,
    keys: AssetKeys | None = None,
) -> tuple[list[RunEntry], list[str]]:
    """The newest `limit` entries (runs and rollbacks), newest first, and notes on missing sources.
    `keys`: the project's asset keys (None: the catalog's)."""
    notes: list[str] = []
    key = (keys or AssetKeys())(dataflow.resource)
    by_run: dict[str, list[PartitionLoad]] = {}
    events = []
    if warehouse.exists():
        with warehouse.connect(read_only=True) as conn:
            for load in partition_loads(conn, dataflow.resource):
                by_run.setdefault(load.run_id, []).append(load)
            events = rollback_events(conn, dataflow.resource)
    else:
        notes.append(f"no warehouse at {warehouse} yet: no loads")
    infos: dict[str, RunInfo] = {}
    if instance is not None:
        infos = {info.run_id: info for info in asset_runs(instance, key, limit)}
        # Loads of runs older than those, if the instance still has them.
        newest_loads = sorted(by_run, key=lambda r: max(load.loaded_at for load in by_run[r]), reverse=True)
        missing = [run_id for run_id in newest_loads[:limit] if run_id not in infos]
        infos.update(run_infos(instance, key, missing))
    entries = [_run_entry(run_id, infos.get(run_id), by_run.get(run_id, [])) for run_id in {**infos, **by_run}]
    entries += [
        RunEntry(kind="rollback", run_id=None, at=event.at, seconds=None, status=ROLLBACK,
                 partitions=event.partitions, undid=event.run_ids)
        for event in events
    ]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    if not entries:
        notes.append(f"dataflow {dataflow.name} has no runs yet")
    return entries[:limit], notes


def render_runs(
    dataflow: Dataflow, entries: list[RunEntry], notes: list[str], key: dg.AssetKey | None = None
) -> str:
    asset = (key or AssetKeys()(dataflow.resource)).to_user_string()
    header = f"Runs of dataflow {dataflow.name} (asset {asset}), newest first"
    rows, extra = [], []
    for entry in entries:
        status = entry.status + (f", {entry.rolled_back}" if entry.rolled_back else "")
        rate = f"{entry.records_per_second:,.0f}" if entry.records_per_second is not None else "-"
        rows.append(
            [
                fmt_time(entry.at),
                entry.run_id or "rollback",
                fmt_duration(entry.seconds),
                status,
                partitions_label(entry.partitions),
                fmt_count(entry.records_loaded),
                fmt_count(entry.records_rejected),
                _changed_cell(entry),
                rate,
            ]
        )
        if entry.kind == ROLLBACK.lower():
            extra.append(f"undid run{'s' * (len(entry.undid) != 1)} {', '.join(entry.undid)}")
        else:
            extra.append(f"error: {entry.error}" if entry.error else "")
    lines = [header + ":"]
    if rows:
        table = render_table(
            ("STARTED (UTC)", "RUN", "DURATION", "STATUS", "PARTITIONS", "LOADED", "REJECTED", "CHANGED", "RECORDS/S"),
            rows,
        ).splitlines()
        lines.append(table[0])
        indent = " " * (len(fmt_time(entries[0].at)) + 2)
        for line, more in zip(table[1:], extra, strict=True):
            lines.append(line)
            if more:
                lines.append(indent + more)
    lines += [f"note: {note}" for note in notes]
    return "\n".join(lines) + "\n"


def _changed_cell(entry: RunEntry) -> str:
    """`14 in 3 partitions`: rows updated from events, apart from the loaded records."""
    if entry.records_changed is None:
        return "-"
    count = len(set(entry.partitions_changed))
    return f"{entry.records_changed:,} in {count} partition{'s' * (count != 1)}"
