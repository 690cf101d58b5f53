"""Validate a batch of raw Stripe objects: every failure of every record, plus schema drift.

    result = validate_records(get_resource("charges"), records)
    result.valid      # the records that passed, as given, in order
    result.failures   # one entry per failed check: id, column, check, value, reason, index
    result.drift      # fields and enum values Stripe added after the pinned API version
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.errors

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.columns import ColumnSpec
from stripe_assets.ingest.rejected import RejectedRecord
from stripe_assets.ingest.validation import kinds, reasons, schemas
from stripe_assets.ingest.validation.coercion import unfit_values
from stripe_assets.ingest.validation.frame import ABSENT, records_frame
from stripe_assets.ingest.validation.schemas import ResourceSchema, resource_schema

RECORD = "<record>"  # the column of a failure about the whole record (not a JSON object)


@dataclass(frozen=True)
class Failure:
    id: str  # the record's id, or "<record N>" when it has no usable id
    column: str
    check: str
    value: str | None  # the offending value as compact JSON (truncated); None when absent
    reason: str
    index: int  # position of the record in the batch
    summary: str  # the reason without record-specific numbers, for counting failures of a kind


@dataclass(frozen=True)
class Drift:
    """What Stripe sends that the pinned schema does not know; kept and counted, not rejected."""

    unknown_fields: dict[str, int] = field(default_factory=dict)  # field -> records carrying it
    unknown_enum_values: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> value -> count

    def __bool__(self) -> bool:
        return bool(self.unknown_fields or self.unknown_enum_values)


@dataclass(frozen=True)
class Tally:
    """The counts of a batch validated in parts, whose result keeps only samples of its lists."""

    valid: int
    invalid: int
    by_check: list[tuple[str, str, int, int]]  # as `failure_counts()` returns them
    by_summary: Counter[str]  # failure summary -> failures, first seen first


@dataclass(frozen=True)
class ValidationResult:
    """`valid` and `invalid` hold the records as given, in batch order; `invalid` has one entry
    per distinct `Failure.index`, however many failures that record has. With a `tally`, the
    lists and `failures` are samples and the tally holds the counts of the whole batch."""

    resource: str
    records_total: int
    valid: list[dict]
    invalid: list[dict]
    failures: list[Failure]
    drift: Drift
    strict_enums: bool = False
    tally: Tally | None = None

    @property
    def records_valid(self) -> int:
        return self.tally.valid if self.tally is not None else len(self.valid)

    @property
    def records_invalid(self) -> int:
        return self.tally.invalid if self.tally is not None else len(self.invalid)

    @property
    def error_rate(self) -> float:
        """Share of invalid records (0..1); a record with several failures counts once."""
        return self.records_invalid / self.records_total if self.records_total else 0.0

    def failure_counts(self) -> list[tuple[str, str, int, int]]:
        """(column, check, failures, records) per kind of failure, most frequent first."""
        if self.tally is not None:
            return list(self.tally.by_check)
        failures: Counter[tuple[str, str]] = Counter()
        records: dict[tuple[str, str], set[int]] = {}
        for f in self.failures:
            failures[(f.column, f.check)] += 1
            records.setdefault((f.column, f.check), set()).add(f.index)
        return [(c, k, n, len(records[(c, k)])) for (c, k), n in failures.most_common()]

    def top_reasons(self, n: int = 3) -> list[tuple[str, int]]:
        """The `n` most frequent failure summaries with their counts (first seen first on ties)."""
        if self.tally is not None:
            return self.tally.by_summary.most_common(n)
        return Counter(f.summary for f in self.failures).most_common(n)


def validate_records(
    resource: StripeResource, records: Sequence[dict], *, strict_enums: bool = False, columns: Sequence[ColumnSpec] = ()
) -> ValidationResult:
    """Check every record against the resource's schema, and that the table `columns` can hold
    its values; lazy: all failures, not the first."""
    schema = resource_schema(resource, strict_enums)
    records = list(records)
    if not records:
        return ValidationResult(resource.name, 0, [], [], [], Drift(), strict_enums)

    failures: list[Failure] = []
    if set(map(type, records)) <= {dict}:
        positions: list[int] = list(range(len(records)))
        objects = records
    else:  # a list item that is not an object, or was rejected when read, is not checked field by field
        positions = [i for i, r in enumerate(records) if isinstance(r, dict) and not isinstance(r, RejectedRecord)]
        objects = [records[i] for i in positions]
        failures += [
            Failure(
                reasons.record_id(r, i), RECORD, schemas.TYPE, reasons.show_value(r),
                f"expected an object, got {_type_name(r)}", i, f"{RECORD}: not an object",
            )
            for i, r in enumerate(records)
            if not isinstance(r, dict)
        ]
        failures += [
            Failure(
                reasons.record_id(r, i), r.column, r.check, reasons.show_value(r.get(r.column, ABSENT)),
                r.reason, i, f"{r.column}: {r.check}",
            )
            for i, r in enumerate(records)
            if isinstance(r, RejectedRecord)
        ]

    frame = records_frame(objects, list(schema.fields), positions)
    try:
        schema.schema.validate(frame, lazy=True, inplace=True)
    except pandera.errors.SchemaErrors as errors:
        failures += _failures(schema, records, errors.failure_cases)

    if columns:
        failures += _unfit(records, objects, positions, columns, failures)

    order = {name: i for i, name in enumerate(schema.fields)}
    failures.sort(key=lambda f: (f.index, order.get(f.column, -1)))
    bad = {f.index for f in failures}
    valid = [r for i, r in enumerate(records) if i not in bad] if bad else records
    invalid = [records[i] for i in sorted(bad)]
    drift = drift_of(schema, objects, lambda column: frame[column].to_numpy())
    return ValidationResult(resource.name, len(records), valid, invalid, failures, drift, strict_enums)


def _unfit(
    records: list, objects: list[dict], positions: list[int], columns: Sequence[ColumnSpec], found: list[Failure]
) -> list[Failure]:
    """Values a column would store as NULL, unless the schema already rejected that field."""
    failed = {(f.index, f.column) for f in found}
    field_of = {c.name: c.path[0] for c in columns}  # the top-level field each column reads
    return [
        Failure(
            reasons.record_id(records[positions[u.index]], positions[u.index]), u.column, schemas.TYPE,
            reasons.show_value(u.value), u.reason, positions[u.index], u.summary,
        )
        for u in unfit_values(objects, columns)
        if (positions[u.index], field_of[u.column]) not in failed
    ]


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _failures(schema: ResourceSchema, records: list, cases: pd.DataFrame) -> list[Failure]:
    failures = []
    seen: set[tuple[int, str, str]] = set()
    rows = cases[["column", "check", "failure_case", "index"]].itertuples(index=False, name=None)
    for column, check, case, index in rows:
        if pd.isna(index):
            # Not a record's fault: a check that could not run is a bug to surface, not a pass.
            raise RuntimeError(f"{schema.resource}: check {check!r} on {column!r} failed to run: {case}")
        index = int(index)
        rule = schema.rules.get(check)
        if rule is not None:
            column = rule.column  # frame-wide checks list every column of a failing row
        if (index, column, check) in seen:
            continue
        seen.add((index, column, check))
        record = records[index]
        value = record.get(column, ABSENT)
        why = reasons.reason(schema, check, column, value, record)
        failures.append(
            Failure(
                id=reasons.record_id(record, index),
                column=column,
                check=check,
                value=reasons.shown_value(schema, check, column, record),
                reason=why,
                index=index,
                summary=reasons.summary(schema, check, column, why),
            )
        )
    return failures


def drift_of(
    schema: ResourceSchema,
    objects: list[dict],
    cells: Callable[[str], np.ndarray],
    carrying: Mapping[str, int] | None = None,
) -> Drift:
    """Unknown fields of `objects` and unknown values of open enums, `cells(field)` holding the
    field's value per object (`ABSENT` where missing); `carrying`: the records carrying each
    unknown field, when already counted."""
    if carrying is None:
        extra = set().union(*objects) - schema.fields.keys()  # key sets merged in C: cheap
        carrying = {name: sum(1 for r in objects if name in r) for name in extra}
    unknown_fields = {name: carrying[name] for name in sorted(carrying)}
    enum_values = {}
    for column, known in schema.drift_enums.items():
        counts = kinds.unknown_values(cells(column), known)
        if counts:
            enum_values[column] = dict(sorted(counts.items(), key=lambda kv: -kv[1]))
    return Drift(unknown_fields, enum_values)
