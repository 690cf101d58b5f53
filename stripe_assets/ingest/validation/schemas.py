"""One pandera schema per resource, generated from Stripe's schema at the pinned API version.

Nothing here lists Stripe's fields: they come from `stripe_schema.resource_fields` (the SDK's
typed classes), so upgrading the `stripe` package updates every schema. What is added on top is
generic (id prefixes from the catalog, the ISO format of `currency` fields, one-per-batch ids)
plus the few cross-field invariants in `rules`.

Columns hold raw Python values (see `frame`), and every check is element-wise, so a single record
with `amount = "1000"` fails for that record only. Check names, used in failures and quarantine
rows: `required`, `not_nullable` (pandera's own), `type`, `enum`, `id_format`, `unique`,
`currency_format` and the rule names.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from stripe_assets.catalog import StripeResource
from stripe_assets.catalog.rules import Rule
from stripe_assets.ingest.stripe_schema import API_VERSION, FieldSpec, describe_kind, resource_fields
from stripe_assets.ingest.validation import kinds

REQUIRED = "required"
NOT_NULLABLE = "not_nullable"  # pandera's name for its nullability check
TYPE = "type"
ENUM = "enum"
ID_FORMAT = "id_format"
UNIQUE = "unique"
CURRENCY_FORMAT = "currency_format"

CURRENCY_PATTERN = r"[a-z]{3}"  # "Three-letter ISO currency code, in lowercase"
ENUM_LISTED = 8  # enum values spelled out in descriptions and reasons before "..."


@dataclass(frozen=True)
class ResourceSchema:
    """A resource's pandera schema plus what validation needs to explain and count failures."""

    resource: str
    strict_enums: bool
    fields: Mapping[str, FieldSpec]  # every top-level field Stripe defines, in order
    id_pattern: str
    drift_enums: Mapping[str, frozenset[str]]  # open enums not enforced: unknown values are drift
    rules: Mapping[str, Rule]  # by check name
    checks: Mapping[str, list[FieldCheck]]  # per field, the checks its pandera column runs
    type_tests: TypeTests  # per field, its type test (None: any value)
    declare: Callable[[], pa.DataFrameSchema] = field(repr=False, compare=False)

    @functools.cached_property
    def schema(self) -> pa.DataFrameSchema:
        """The pandera schema, assembled when first used: a load whose parts are all valid never
        runs it (`verdict` runs its checks), and pandera deep-copies every column as it
        assembles one (2-4 ms a resource, in each process)."""
        return self.declare()


def id_pattern(resource: StripeResource) -> str:
    if resource.custom_ids:
        return r"^[A-Za-z0-9][A-Za-z0-9_\-.]*$"
    return f"^({'|'.join(resource.id_prefixes)})[A-Za-z0-9]+$"


def list_values(values: tuple[str, ...]) -> str:
    shown = ", ".join(values[:ENUM_LISTED])
    return shown if len(values) <= ENUM_LISTED else f"{shown}, ... ({len(values)} values)"


def _check(test: Callable[[np.ndarray], kinds.Outcome], name: str, description: str) -> pa.Check:
    def check_fn(series: pd.Series) -> bool | pd.Series:
        outcome = test(series.to_numpy())
        return True if outcome is True else pd.Series(outcome, index=series.index)

    # Nulls are passed on to the test (which lets them through): one isna() per check saved.
    return pa.Check(check_fn, name=name, description=description, ignore_na=False)


TypeTests = Mapping[str, Callable[[np.ndarray], kinds.Outcome] | None]


def judge(rule: Rule, cols: Mapping[str, np.ndarray], type_tests: TypeTests) -> np.ndarray:
    """Where `rule` holds, judging only the records whose fields it reads passed their type
    checks: a wrong-typed value is the type check's failure (reported once, as such), and the
    rule never sees it (`amount` of "1000" would otherwise crash it or fail it too)."""
    outcomes = [test(cols[name]) for name in rule.reads if (test := type_tests.get(name)) is not None]
    masks = [o for o in outcomes if isinstance(o, np.ndarray)]  # True: every cell has its type
    if not masks:  # the common case: every value of the batch has its type
        return rule.holds(cols)
    typed = np.logical_and.reduce(masks)
    held = np.ones(len(typed), dtype=bool)
    if typed.any():
        held[typed] = rule.holds({c: values[typed] for c, values in cols.items()})
    return held


def _rule_check(rule: Rule, type_tests: TypeTests) -> pa.Check:
    def check_fn(frame: pd.DataFrame) -> bool | pd.Series:
        mask = judge(rule, {c: frame[c].to_numpy() for c in rule.reads}, type_tests)
        return True if mask.all() else pd.Series(mask, index=frame.index)

    return pa.Check(check_fn, name=rule.name, description=rule.description, ignore_na=False)


Test = Callable[[np.ndarray], kinds.Outcome]


@dataclass(frozen=True)
class FieldCheck:
    """One check of a field: its name (as failures carry it), its test and its description."""

    name: str
    test: Test
    description: str


def field_checks(
    spec: FieldSpec, resource: StripeResource, strict_enums: bool, rules: list[Rule], type_tests: TypeTests
) -> list[FieldCheck]:
    """The value checks of one field, in order; pandera's own nullability check comes on top."""
    checks: list[FieldCheck] = []
    if spec.required:
        checks.append(FieldCheck(REQUIRED, kinds.presence_test, "required"))
    type_test = kinds.kind_test(spec.kind)
    if type_test is not None:
        checks.append(FieldCheck(TYPE, type_test, describe_kind(spec)))
    if spec.enum is not None and (strict_enums or not spec.enum_open):
        checks.append(FieldCheck(ENUM, kinds.enum_test(spec.enum), f"one of {list_values(spec.enum)}"))
    if spec.name == "id":
        pattern = id_pattern(resource)
        checks.append(FieldCheck(ID_FORMAT, kinds.pattern_test(pattern), f"matches {pattern}"))
        checks.append(FieldCheck(UNIQUE, kinds.first_occurrence_test, "unique in the batch"))
    if spec.name == "currency" and spec.kind == "string":
        checks.append(FieldCheck(CURRENCY_FORMAT, kinds.pattern_test(CURRENCY_PATTERN), "three lowercase letters"))
    for rule in rules:
        single = lambda values, r=rule: judge(r, {r.column: values}, type_tests)  # noqa: E731
        checks.append(FieldCheck(rule.name, single, rule.description))
    return checks


def _column(spec: FieldSpec, checks: list[FieldCheck]) -> pa.Column:
    return pa.Column(
        None,  # no dtype: cells are raw JSON values, typed per element by the `type` check
        checks=[_check(c.test, c.name, c.description) for c in checks],
        nullable=spec.nullable,
        required=True,
        name=spec.name,
        metadata={"kind": spec.kind, "enum": spec.enum, "enum_open": spec.enum_open},
    )


# Built schemas by resource name and strict_enums (a declaration holds mappings: not hashable).
_BUILT: dict[tuple[str, bool], ResourceSchema] = {}


def resource_schema(resource: StripeResource, strict_enums: bool = False) -> ResourceSchema:
    """The schema of one resource; built once per process and setting."""
    key = (resource.name, strict_enums)
    built = _BUILT.get(key)
    if built is None:
        built = _BUILT[key] = _build_schema(resource, strict_enums)
    return built


def _build_schema(stripe_resource: StripeResource, strict_enums: bool) -> ResourceSchema:
    resource = stripe_resource.name
    fields = resource_fields(stripe_resource)
    rules = stripe_resource.rules
    unknown = {c for r in rules for c in r.reads} - set(fields)
    if unknown:  # a rule naming a field Stripe no longer has must not silently pass
        missing = ", ".join(sorted(unknown))
        raise ValueError(f"{resource}: rules read fields Stripe does not define: {missing}")
    column_rules = {name: [r for r in rules if r.single_column and r.column == name] for name in fields}
    type_tests = {name: kinds.kind_test(spec.kind) for name, spec in fields.items()}
    checks = {
        name: field_checks(spec, stripe_resource, strict_enums, column_rules[name], type_tests)
        for name, spec in fields.items()
    }

    def declare() -> pa.DataFrameSchema:
        return pa.DataFrameSchema(
            {name: _column(spec, checks[name]) for name, spec in fields.items()},
            checks=[_rule_check(r, type_tests) for r in rules if not r.single_column],
            name=resource,
            title=f"Stripe {stripe_resource.object} objects, API {API_VERSION}",
            description=(
                f"Generated from the stripe package's stripe.{stripe_resource.stripe_class.__name__} class"
            ),
            strict=False,  # fields Stripe added after the pinned version are drift, not errors
            coerce=False,
        )

    return ResourceSchema(
        resource=resource,
        strict_enums=strict_enums,
        declare=declare,
        fields=fields,
        id_pattern=id_pattern(stripe_resource),
        drift_enums={
            name: frozenset(spec.enum)
            for name, spec in fields.items()
            if spec.enum is not None and spec.enum_open and not strict_enums
        },
        rules={r.name: r for r in rules},
        checks=checks,
        type_tests=type_tests,
    )


@dataclass(frozen=True)
class SchemaRow:
    column: str
    type: str
    nullable: bool  # may be null or left out; otherwise required and never null
    enum: str  # "" when not an enum
    rules: tuple[str, ...]  # value checks beyond type and nullability, as "name: requirement"


_SHOWN_ELSEWHERE = {REQUIRED, TYPE}  # expressed by the type and nullable columns of the table


def describe_schema(resource: StripeResource, strict_enums: bool = False) -> list[SchemaRow]:
    """The generated schema as a table, read back from the pandera schema itself."""
    built = resource_schema(resource, strict_enums)
    cross: dict[str, list[pa.Check]] = {}
    for check in built.schema.checks:
        cross.setdefault(built.rules[check.name].column, []).append(check)
    rows = []
    for name, column in built.schema.columns.items():
        meta = column.metadata or {}
        enum = ""
        if meta.get("enum"):
            if not meta["enum_open"]:
                policy = "closed"
            else:
                policy = "open, enforced" if strict_enums else "open: new values are drift"
            enum = f"{list_values(meta['enum'])} ({policy})"
        checks = [c for c in column.checks if c.name not in _SHOWN_ELSEWHERE and c.name != ENUM]
        checks += cross.get(name, [])
        rows.append(
            SchemaRow(
                column=name,
                type=_kind_noun(meta.get("kind", "any")),
                nullable=column.nullable,
                enum=enum,
                rules=tuple(f"{c.name}: {c.description}" for c in checks),
            )
        )
    return rows


def _kind_noun(kind: str) -> str:
    words = describe_kind(FieldSpec("", kind, True))  # type: ignore[arg-type]
    return words.removeprefix("an ").removeprefix("a ")


def schema_markdown(resource: StripeResource, strict_enums: bool = False) -> str:
    """`describe_schema` as a markdown table, headed by the resource and the API version."""
    built = resource_schema(resource, strict_enums)
    lines = [
        f"### {resource.name}: {built.schema.title}",
        "",
        f"{built.schema.description}. Not nullable means required and never null.",
        "",
        "| column | type | nullable | enum | rules |",
        "|---|---|---|---|---|",
    ]
    for row in describe_schema(resource, strict_enums):
        rules = "<br>".join(row.rules).replace("|", "\\|")
        lines.append(f"| {row.column} | {row.type} | {'yes' if row.nullable else 'no'} | {row.enum} | {rules} |")
    return "\n".join(lines)
