"""What the Dagster instance at $DAGSTER_HOME knows about a dataflow's asset: its runs, how each
ended, the error of a failed one and the load rate it reported."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

# The first failed step's one-line error (a threshold failure's own message, or the innermost
# user exception), as run alerts show it.
from stripe_assets.alerts.build import run_failure
from stripe_assets.ingest.redact import redact
from stripe_assets.operations.first_use import prepared_instance

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"
PAGE = 200  # planned-materialization events read per query
MAX_PAGES = 25  # stop looking further back than this many pages


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    status: str  # Dagster's run status: SUCCESS, FAILURE, STARTED, QUEUED, CANCELED, ...
    created: datetime
    started: datetime | None
    ended: datetime | None
    partitions: str | None  # what the run was asked to load (a key or `first...last`)
    error: str | None = None  # failed runs: the first failed step's error line
    records_per_second: float | None = None  # as the load measured it (materialization metadata)
    api_rate_limited: int | None = None  # 429 answers the load waited out

    @property
    def seconds(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return (self.ended - self.started).total_seconds()


@contextlib.contextmanager
def dagster_instance() -> Iterator[tuple[dg.DagsterInstance | None, str | None]]:
    """The instance at $DAGSTER_HOME and None, or None and why there is none."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        yield None, "DAGSTER_HOME is not set: no Dagster run history"
        return
    if not Path(home).is_absolute() or not Path(home).is_dir():
        yield None, f"DAGSTER_HOME {home} is not an absolute path to a directory: no Dagster run history"
        return
    with contextlib.ExitStack() as stack:
        try:
            instance = stack.enter_context(prepared_instance(Path(home)))
        except Exception as exc:  # a broken instance: the commands still show the warehouse's side
            yield None, f"the Dagster instance at {home} cannot be opened: {first_line(exc)}"
            return
        yield instance, None


def first_line(exc: Exception) -> str:
    """An exception's first non-empty line, redacted (for one-line notes)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return redact(lines[0] if lines else type(exc).__name__)


def instance_postgres_url(instance: dg.DagsterInstance | None) -> str | None:
    """The database of an instance whose runs live in Postgres (dagster-postgres), else None."""
    storage = instance.run_storage if instance is not None else None
    url = getattr(storage, "postgres_url", None)
    return url if isinstance(url, str) else None


def budget_database() -> str | None:
    """The Postgres of the instance at $DAGSTER_HOME, where every machine shares the key's request
    budget; None for an instance on local files (the budget is this machine's)."""
    with dagster_instance() as (instance, _):
        return instance_postgres_url(instance)


def _utc(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, tz=UTC) if timestamp else None


def _partitions(tags: dict[str, str]) -> str | None:
    if PARTITION_TAG in tags:
        return tags[PARTITION_TAG]
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        start, end = tags[RANGE_START_TAG], tags[RANGE_END_TAG]
        return start if start == end else f"{start}...{end}"
    return None


def _metadata_number(metadata: Mapping[str, object], name: str) -> float | None:
    value = getattr(metadata.get(name), "value", metadata.get(name))
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _load_figures(instance: dg.DagsterInstance, run_id: str, key: dg.AssetKey) -> tuple[float | None, int | None]:
    """The load's rate and 429 count: on the materialization of a one-partition run, on the
    summary check result (the one without a partition) of a ranged run."""
    metadatas: list[Mapping[str, object]] = []
    for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records:
        materialization = record.event_log_entry.asset_materialization
        if record.asset_key == key and materialization is not None:
            metadatas.append(materialization.metadata)
    for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records:
        event = record.event_log_entry.dagster_event
        evaluation = event.event_specific_data if event is not None else None
        summary = isinstance(evaluation, dg.AssetCheckEvaluation) and evaluation.partition is None
        if summary and evaluation.asset_key == key:  # type: ignore[union-attr]
            metadatas.append(evaluation.metadata)  # type: ignore[union-attr]
    rate: float | None = None
    limited: int | None = None
    for metadata in metadatas:
        value = _metadata_number(metadata, "records_per_second")
        rate = value if value is not None else rate
        value = _metadata_number(metadata, "api_rate_limited")
        limited = int(value) if value is not None else limited
    return rate, limited


def _run_ids_planning(instance: dg.DagsterInstance, key: dg.AssetKey, limit: int) -> list[str]:
    """Runs that set out to materialize `key`, newest first: every run of the asset, whether
    launched by a schedule, the UI, the CLI or in-process, and whether it got to write or not."""
    run_ids: dict[str, None] = {}
    before = None
    for _ in range(MAX_PAGES):
        records = instance.event_log_storage.get_event_records(
            dg.EventRecordsFilter(
                dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, asset_key=key, before_cursor=before
            ),
            limit=PAGE,
            ascending=False,
        )
        for record in records:
            run_ids.setdefault(record.run_id, None)
        if len(run_ids) >= limit or len(records) < PAGE:
            break
        before = records[-1].storage_id
    return list(run_ids)[:limit]


def run_infos(
    instance: dg.DagsterInstance, key: dg.AssetKey, run_ids: list[str], *, details: bool = True
) -> dict[str, RunInfo]:
    """The runs among `run_ids` the instance knows; `details` adds errors and load figures."""
    if not run_ids:
        return {}
    infos = {}
    for record in instance.get_run_records(dg.RunsFilter(run_ids=run_ids)):
        run = record.dagster_run
        error = rate = limited = None
        if details:
            if run.status == dg.DagsterRunStatus.FAILURE:
                error = run_failure(instance, run.run_id).get("error")
            rate, limited = _load_figures(instance, run.run_id, key)
        infos[run.run_id] = RunInfo(
            run_id=run.run_id,
            status=run.status.value,
            created=record.create_timestamp.astimezone(UTC),
            started=_utc(record.start_time),
            ended=_utc(record.end_time),
            partitions=_partitions(dict(run.tags)),
            error=error,
            records_per_second=rate,
            api_rate_limited=limited,
        )
    return infos


def asset_runs(
    instance: dg.DagsterInstance, key: dg.AssetKey, limit: int, *, details: bool = True
) -> list[RunInfo]:
    """The newest `limit` runs of the asset, newest first."""
    infos = run_infos(instance, key, _run_ids_planning(instance, key, limit), details=details)
    return sorted(infos.values(), key=lambda info: info.created, reverse=True)
