"""Preview: a resource's newest objects as the rows they would become, before any load.

Reads one list page from the API (the newest objects, as Stripe lists them), maps it through the
dataflow's columns exactly as a load would (`records.to_arrow`) and validates it; nothing is
written anywhere.
"""

from __future__ import annotations

import decimal
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.client import FetchStats, StripeReader, StripeReadError
from stripe_assets.ingest.columns import ColumnSpec
from stripe_assets.ingest.records import to_arrow
from stripe_assets.ingest.stripe_schema import API_VERSION
from stripe_assets.ingest.validation.decision import decide
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.validation.validate import Drift, Failure, validate_records

MAX_LIMIT = 100  # one page: Stripe's largest page size
CELL_CHARS = 32  # widest cell in the table layout
VALUE_CHARS = 120  # longest value in the one-record-per-block layout


@dataclass(frozen=True)
class Preview:
    resource: str
    dataflow: str | None  # None: no dataflow loads the resource; its default columns are shown
    api_base: str
    columns: list[ColumnSpec]
    records: int
    rows: list[dict[str, Any]]  # the records that would load, as column -> value
    failures: list[Failure]  # why the others would be quarantined
    drift: Drift
    verdict: str  # what the dataflow's validation settings would decide for such a batch

    def as_json(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "dataflow": self.dataflow,
            "api_base": self.api_base,
            "api_version": API_VERSION,
            "records": self.records,
            "columns": [{"name": c.name, "type": c.type, "path": c.dotted_path} for c in self.columns],
            "rows": [{k: _json_value(v) for k, v in row.items()} for row in self.rows],
            "invalid": [
                {"id": f.id, "column": f.column, "check": f.check, "value": f.value, "reason": f.reason}
                for f in self.failures
            ],
            "drift": {
                "unknown_fields": self.drift.unknown_fields,
                "unknown_enum_values": self.drift.unknown_enum_values,
            },
            "verdict": self.verdict,
        }


def fetch_newest(reader: StripeReader, resource: str, limit: int) -> list[dict]:
    """The `limit` newest objects (Stripe lists newest first), with the list parameters a complete
    read uses (e.g. canceled subscriptions included)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    spec = get_resource(resource)
    page = reader.get_page(spec.path, {"limit": limit, **spec.list_params}, FetchStats())
    data = page.get("data")
    if page.get("object") != "list" or not isinstance(data, list):
        raise StripeReadError(f"{spec.path} did not return a list object")
    return data[:limit]


def build_preview(
    resource: str,
    records: Sequence[dict],
    columns: Sequence[ColumnSpec],
    settings: ValidationSettings,
    *,
    dataflow: str | None,
    api_base: str,
) -> Preview:
    result = validate_records(get_resource(resource), records, strict_enums=settings.strict_enums)
    decision = decide(result, settings, label=f"{resource}, these {len(records)} records")
    rows: list[dict[str, Any]] = []
    if result.valid:
        table = to_arrow(
            result.valid, columns, partition_of=lambda _: "preview", run_id="preview",
            loaded_at=datetime.now(UTC),
        )
        rows = table.select([c.name for c in columns]).to_pylist()
    verdict = decision.message
    if result.invalid:
        verdict += "; a partition like this would " + ("load" if decision.accept else "fail")
    return Preview(
        resource=resource,
        dataflow=dataflow,
        api_base=api_base,
        columns=list(columns),
        records=len(records),
        rows=rows,
        failures=result.failures,
        drift=result.drift,
        verdict=verdict,
    )


# --- text ----------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    return value


def _text(value: Any, width: int) -> str:
    if value is None:
        text = ""
    elif isinstance(value, datetime):
        text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    else:
        text = str(_json_value(value))
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def _rows_as_table(columns: list[ColumnSpec], rows: list[dict[str, Any]]) -> list[str]:
    cells = [[_text(row[c.name], CELL_CHARS) for c in columns] for row in rows]
    widths = [max([len(c.name)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  " + " | ".join(c.name.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  " + "-+-".join("-" * w for w in widths))
    lines += ["  " + " | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return [line.rstrip() for line in lines]


def _rows_as_blocks(columns: list[ColumnSpec], rows: list[dict[str, Any]]) -> list[str]:
    width = max(len(c.name) for c in columns)
    lines: list[str] = []
    for n, row in enumerate(rows, 1):
        lines.append(f"  -[ record {n} ]" + "-" * max(0, width - 8))
        lines += [f"  {c.name.ljust(width)} | {_text(row[c.name], VALUE_CHARS)}" for c in columns]
    return lines


def render_preview(preview: Preview, width: int | None = None) -> str:
    """Columns and types, the rows (a table when it fits `width`, else one block per record),
    the records that would be quarantined and any schema drift."""
    spec = get_resource(preview.resource)
    width = width or shutil.get_terminal_size().columns
    source = f"dataflow {preview.dataflow}" if preview.dataflow else "default columns: no dataflow loads it"
    lines = [
        f"{preview.resource}: the {preview.records} newest object{'s' * (preview.records != 1)} from "
        f"{preview.api_base} (Stripe API {API_VERSION}); nothing was written",
        "",
        f"Columns of {spec.table} ({source}):",
    ]
    name_width = max(len(c.name) for c in preview.columns)
    type_width = max(len(c.type) for c in preview.columns)
    lines += [
        f"  {c.name.ljust(name_width)}  {c.type.ljust(type_width)}  {c.dotted_path}" for c in preview.columns
    ]
    lines += ["", f"Rows ({len(preview.rows)} of {preview.records} records would load):"]
    if preview.rows:
        table = _rows_as_table(preview.columns, preview.rows)
        fits = max(len(line) for line in table) <= width
        lines += table if fits else _rows_as_blocks(preview.columns, preview.rows)
    else:
        lines.append("  none")
    if preview.failures:
        invalid = len({f.index for f in preview.failures})
        lines += ["", f"Would be quarantined ({invalid} record{'s' * (invalid != 1)}):"]
        id_width = max(len(f.id) for f in preview.failures)
        lines += [f"  {f.id.ljust(id_width)}  {f.column}: {f.reason}" for f in preview.failures]
    lines += ["", f"Schema drift (what API {API_VERSION} does not know):"]
    drift = preview.drift
    if drift:
        if drift.unknown_fields:
            lines.append(
                "  unknown fields: "
                + ", ".join(f"{name} ({count} records)" for name, count in drift.unknown_fields.items())
            )
        for column, values in drift.unknown_enum_values.items():
            lines.append(
                f"  unknown values of {column}: " + ", ".join(f"{v} ({n})" for v, n in values.items())
            )
    else:
        lines.append("  none")
    lines += ["", f"Validation: {preview.verdict}"]
    return "\n".join(lines) + "\n"
