"""Loading `dataflows.yaml`: find the file, parse it strictly, validate it whole or not at all.

Which file: the `path` argument, else `$STRIPE_ASSETS_DATAFLOWS`, else `dataflows.yaml` in the project
home (`stripe_assets.settings`); with
none of them the built-in defaults apply (the model's defaults, equal to the shipped file).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from stripe_assets.dataflows.errors import DataflowConfigError, first_problem
from stripe_assets.dataflows.models import Dataflow, DataflowsConfig, FieldMapping
from stripe_assets.dataflows.values import show
from stripe_assets.settings import DATAFLOWS_ENV, DEFAULT_DATAFLOWS_FILE, settings

__all__ = [
    "DATAFLOWS_ENV",
    "DEFAULT_DATAFLOWS_FILE",
    "Dataflow",
    "DataflowConfigError",
    "DataflowsConfig",
    "FieldMapping",
    "config_source",
    "load_dataflows",
    "parse_dataflows",
    "strict_yaml_documents",
    "validate_dataflows",
]

BUILT_IN = "built-in defaults"


class _StrictLoader(yaml.SafeLoader):
    """YAML 1.2 core schema rules for a reviewed config file, not PyYAML's YAML 1.1 ones.

    Only true/false are booleans (`on`, `off`, `yes`, `no` are strings: a boolean field refuses
    them by name), integers are decimal (`010` is 10, not octal 8), `0o`/`0x` prefixed, and never
    sexagesimal (`1:00` stays a string, not 60), times stay strings (the model checks their UTC
    offset), and a key written twice is an error, not a silent override.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {show(key)} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        if digits.startswith("0o"):
            return sign * int(digits[2:], 8)
        if digits.startswith("0x"):
            return sign * int(digits[2:], 16)
        return sign * int(digits, 10)


# The YAML 1.2 core schema's implicit types (https://yaml.org/spec/1.2.2/#1032-tag-resolution);
# explicit tags (`!!int "12"`) still work as in YAML 1.1.
_CORE_RESOLVERS = (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", ["<"]),  # not YAML 1.2, but widely written: kept
)
_StrictLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in _CORE_RESOLVERS:
    _StrictLoader.add_implicit_resolver(_tag, re.compile(_pattern), _first)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)


# Nodes the file may expand to once aliases are followed: a real dataflows file has a few
# hundred; "billion laughs" aliases expand to billions and would hang whatever walks the result.
MAX_EXPANDED_NODES = 100_000


def _expanded_size(node: yaml.Node, memo: dict[int, int], limit: int) -> int:
    """How many nodes `node` stands for with every alias expanded (stops counting past `limit`)."""
    known = memo.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, yaml.SequenceNode):
        children: list[yaml.Node] = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    else:
        children = []
    for child in children:
        size += _expanded_size(child, memo, limit)
        if size > limit:
            break
    memo[id(node)] = size
    return size


def _load_bounded(text: str) -> Any:
    """`yaml.load` with _StrictLoader, refusing documents whose aliases expand beyond the bound."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}, MAX_EXPANDED_NODES) > MAX_EXPANDED_NODES:
            raise yaml.constructor.ConstructorError(
                None, None,
                f"aliases expand to more than {MAX_EXPANDED_NODES:,} values (an alias bomb?); write the values out",
                node.start_mark,
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def config_source(path: str | Path | None = None) -> Path | None:
    """The file that configures dataflows, or None when the built-in defaults apply."""
    if path is not None:
        return Path(path)
    return settings().dataflows_file


def parse_dataflows(text: str, source: str = DEFAULT_DATAFLOWS_FILE) -> DataflowsConfig:
    """Validate YAML text; every problem raises DataflowConfigError with one line naming `source`."""
    try:
        raw = _load_bounded(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise DataflowConfigError(f"{source}: not valid YAML: {where}{exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise DataflowConfigError(f"{source}: not valid YAML: {exc}") from None
    return validate_dataflows(raw, source)


def strict_yaml_documents(text: str) -> list[Any]:
    """Every document of a YAML file read as a dataflows file is (times as strings, only
    true/false as booleans, so `on:` stays a key): for dataflows written in another file."""
    return list(yaml.load_all(text, Loader=_StrictLoader))


def validate_dataflows(raw: Any, source: str = DEFAULT_DATAFLOWS_FILE) -> DataflowsConfig:
    """Validate an already parsed dataflows mapping; problems raise DataflowConfigError naming `source`."""
    if raw is None:
        raw = {}  # an empty file means every default
    if not isinstance(raw, dict):
        raise DataflowConfigError(
            f"{source}: the top level must be a mapping with keys channels, ui_base_url, dataflows "
            f"(got {type(raw).__name__})"
        )
    try:
        return DataflowsConfig.model_validate(raw)
    except ValidationError as exc:
        raise first_problem(exc, source, raw) from None


def load_dataflows(path: str | Path | None = None) -> DataflowsConfig:
    """The dataflows config (see the module doc for which file); cached until the file changes."""
    source = config_source(path)
    if source is None:
        return _built_in()
    try:
        stat = source.stat()
    except FileNotFoundError:
        via = f" (from ${DATAFLOWS_ENV})" if path is None else ""
        raise DataflowConfigError(f"{source}: file not found{via}") from None
    return _load_file(str(source), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=1)
def _built_in() -> DataflowsConfig:
    return DataflowsConfig()


@functools.lru_cache(maxsize=16)
def _load_file(source: str, mtime_ns: int, size: int) -> DataflowsConfig:
    return parse_dataflows(Path(source).read_text(encoding="utf-8"), source)
