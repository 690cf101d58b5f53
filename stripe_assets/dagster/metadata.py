"""What a load shows in the Dagster UI: materialization metadata and the column schema."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg

from stripe_assets.ingest.columns import SYSTEM_COLUMNS, ColumnSpec
from stripe_assets.ingest.outcomes import LoadReport, PartitionOutcome

PREVIEW_ROWS = 5
PREVIEW_COLUMNS = 6


def column_schema(columns: Sequence[ColumnSpec]) -> dg.TableSchema:
    system = {
        "raw": "The full Stripe object as returned by the API",
        "_partition": "Partition key of the load that wrote the row",
        "_run_id": "Dagster run that wrote the row",
        "_loaded_at": "When the row was written",
        "_deleted_at": "When Stripe deleted the object (null while it exists)",
        "_observed_at": "How new the row's state is: its event's time, or when it was listed or retrieved",
    }
    return dg.TableSchema(
        columns=[dg.TableColumn(c.name, c.type, description=c.description) for c in columns]
        + [dg.TableColumn(name, type_, description=system[name]) for name, type_ in SYSTEM_COLUMNS.items()]
    )


def _as_shown(column: ColumnSpec, value: object) -> object:
    """A value as the table holds it: Unix times as UTC times, like the TIMESTAMPTZ column."""
    if column.type == "TIMESTAMPTZ" and isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return value


def _preview(outcome: PartitionOutcome, columns: Sequence[ColumnSpec]) -> str:
    shown = [c for c in columns if c.type != "JSON"][:PREVIEW_COLUMNS]
    lines = [
        "| " + " | ".join(c.name for c in shown) + " |",
        "|" + "---|" * len(shown),
    ]
    for record in outcome.result.valid[:PREVIEW_ROWS]:
        cells = []
        for c in shown:
            value: object = record
            for key in c.path:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, dict):
                value = value.get("id")
            value = _as_shown(c, value)
            cells.append(str(value).replace("|", "\\|") if value is not None else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _int(value: int) -> dg.IntMetadataValue:
    return dg.MetadataValue.int(int(value))


def _float(value: float, digits: int) -> dg.FloatMetadataValue:
    return dg.MetadataValue.float(float(round(value, digits)))


def partition_figures(
    *, fetched: int, loaded: int, rejected: int, partition_rows: int | None, table_rows: int | None
) -> dict[str, dg.RawMetadataValue]:
    """The figures every materialization of a partition carries, a load's or a change's, under
    the same keys and numeric types: Dagster plots a partition's newest materialization, so a
    change recorded after a load keeps every series drawn (rows, quarantined, error rate)."""
    return {
        **({"dagster/row_count": _int(table_rows)} if table_rows is not None else {}),
        **({"dagster/partition_row_count": _int(partition_rows)} if partition_rows is not None else {}),
        "records_fetched": _int(fetched),
        "records_loaded": _int(loaded),
        "records_rejected": _int(rejected),
        "error_rate_pct": _float(100.0 * rejected / fetched if fetched else 0.0, 4),
    }


def partition_metadata(
    outcome: PartitionOutcome, columns: Sequence[ColumnSpec], table_rows: int | None
) -> dict[str, dg.RawMetadataValue]:
    """What one partition's materialization says: that partition's figures, and the rows of the
    whole table once the load landed (Dagster's `row_count` is the table's)."""
    window = outcome.window
    return {
        **partition_figures(
            fetched=outcome.records_total,
            loaded=outcome.records_loaded,
            rejected=outcome.records_rejected,
            partition_rows=outcome.records_loaded,
            table_rows=table_rows,
        ),
        "error_rate_pct": _float(100.0 * outcome.error_rate, 4),
        "window": f"{window.start.isoformat()} .. {window.end.isoformat()}",
        "preview": dg.MetadataValue.md(_preview(outcome, columns)),
    }


def run_metadata(report: LoadReport) -> dict[str, dg.RawMetadataValue]:
    """The whole load's figures and fetch cost (plotted per run on the asset page): on the
    materialization of a one-partition run, on the range's summary check result otherwise.
    Every number is typed as what it is (an Int or a Float, whatever its value), so each key
    plots as one series."""
    seconds = max(report.elapsed, 1e-9)
    figures: dict[str, dg.RawMetadataValue] = {
        "run_records_fetched": _int(report.records_fetched),
        "run_records_loaded": _int(report.records_loaded),
        "run_records_rejected": _int(report.records_rejected),
        "records_per_second": _float(report.records_fetched / seconds, 1),
        "seconds": _float(report.elapsed, 3),
        "validate_seconds": _float(report.validate_seconds, 3),
        "write_seconds": _float(report.write_seconds, 3),
        "outside_window_quarantined": _int(report.outside_window),
    }
    for name, value in report.stats.as_metadata().items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            figures[name] = value  # text (the API version): shown, never plotted
        elif name in FLOAT_STATS:
            figures[name] = _float(value, FLOAT_STATS[name])
        else:
            figures[name] = _int(int(value))
    return figures


# The fetch statistics that are rates or durations (with their digits); the others are counts.
FLOAT_STATS = {"api_requests_per_second": 2, "fetch_seconds": 3}
