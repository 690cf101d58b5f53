"""One result for a batch validated in parts: exact counts, bounded samples.

A partition too large to hold in memory is validated a part at a time; the partition's decision
(accept or reject) and its check metadata need the counts of the whole, not its records.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

from stripe_assets.ingest.validation.validate import Drift, Tally, ValidationResult

KEPT_VALID = 5  # valid records kept (previews)
KEPT_FAILURES = 200  # failures kept one by one (samples); all are counted


class ResultMerger:
    def __init__(self, resource: str, strict_enums: bool = False):
        self.resource = resource
        self.strict_enums = strict_enums
        self.total = self.valid = self.invalid = 0
        self._valid_sample: list[dict] = []
        self._failures: list = []
        self._failures_by_check: Counter[tuple[str, str]] = Counter()
        self._records_by_check: Counter[tuple[str, str]] = Counter()
        self._by_summary: Counter[str] = Counter()
        self._unknown_fields: Counter[str] = Counter()
        self._unknown_enums: dict[str, Counter[str]] = {}

    def add(self, part: ValidationResult) -> None:
        offset = self.total
        self.total += part.records_total
        self.valid += len(part.valid)
        self.invalid += len(part.invalid)
        self._valid_sample.extend(part.valid[: KEPT_VALID - len(self._valid_sample)])
        room = KEPT_FAILURES - len(self._failures)
        self._failures.extend(
            dataclasses.replace(f, index=f.index + offset) for f in part.failures[: max(room, 0)]
        )
        records: dict[tuple[str, str], set[int]] = {}
        for f in part.failures:
            self._failures_by_check[(f.column, f.check)] += 1
            records.setdefault((f.column, f.check), set()).add(f.index)
            self._by_summary[f.summary] += 1
        for key, indexes in records.items():
            self._records_by_check[key] += len(indexes)
        self._unknown_fields.update(part.drift.unknown_fields)
        for column, values in part.drift.unknown_enum_values.items():
            self._unknown_enums.setdefault(column, Counter()).update(values)

    def result(self) -> ValidationResult:
        by_check = [
            (column, check, n, self._records_by_check[(column, check)])
            for (column, check), n in self._failures_by_check.most_common()
        ]
        drift = Drift(
            dict(sorted(self._unknown_fields.items())),
            {c: dict(v.most_common()) for c, v in self._unknown_enums.items()},
        )
        return ValidationResult(
            self.resource,
            self.total,
            list(self._valid_sample),
            [],
            list(self._failures),
            drift,
            self.strict_enums,
            Tally(self.valid, self.invalid, by_check, Counter(self._by_summary)),
        )
