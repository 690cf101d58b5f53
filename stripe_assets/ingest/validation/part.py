"""The per-part fast path of a load: a part whose every record passes every check skips pandera.

    part = validate_part(get_resource("charges"), records, strict_enums=False, columns=columns)

yields exactly what `validate_records` yields for the same arguments: `verdict` decides, column
by column in C, whether the whole part is beyond doubt valid; a part it cannot vouch for goes
through `validate_records` unchanged, so failures and quarantine rows stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.columns import ColumnSpec
from stripe_assets.ingest.validation.schemas import resource_schema
from stripe_assets.ingest.validation.validate import ValidationResult, validate_records
from stripe_assets.ingest.validation.verdict import verdict


def validate_part(
    resource: StripeResource,
    records: Sequence[dict],
    *,
    strict_enums: bool = False,
    columns: Sequence[ColumnSpec] = (),
    reads: dict[str, list] | None = None,
    restore: Callable[[list[dict]], None] | None = None,
) -> ValidationResult:
    """What `validate_records` returns for these arguments, cheaper when the whole part is valid.

    `reads`: filled, on the fast path, with the valid records' top-level values already read
    (`records.top_level_values`), for `to_arrow` to take instead of reading them again.
    `restore`: gives records their fields left unbuilt (`lean.restore`) before the exact path,
    which explains and quarantines them."""
    records = list(records)
    # No exception is a doubt (a doubt is None): one raised here is a defect, and surfaces.
    drift = verdict(resource_schema(resource, strict_enums), records, columns, reads)
    if drift is None:
        if restore is not None:
            restore(records)
        return validate_records(resource, records, strict_enums=strict_enums, columns=columns)
    return ValidationResult(resource.name, len(records), records, [], [], drift, strict_enums)
