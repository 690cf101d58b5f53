"""Turning a dataflow off in the dataflows file by editing one line, so comments and layout stay.

The edit is checked by parsing the result: it must differ from the file only in that dataflow's
`enabled`, otherwise nothing is written (a file written in a style the line edit does not know,
such as flow mappings or anchors, is left for a person to change).
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from stripe_assets.dataflows.config import DataflowsConfig, parse_dataflows
from stripe_assets.operations.errors import FAILED, OperationError

_ITEM = re.compile(r"^(?P<indent> *)-(?P<gap> +)\S")


def _key_line(key: str) -> re.Pattern[str]:
    # `  key: value  # comment` or `- key: value`, capturing the value and what follows it.
    return re.compile(
        rf"^(?P<lead> *(?:- +)?){key}:(?P<space> *)(?P<value>[^#\s][^#]*?|)(?P<rest> *(?:#.*)?)$"
    )


def _key_column(line: str) -> int:
    match = _ITEM.match(line)
    if match:
        return len(match["indent"]) + 1 + len(match["gap"])
    return len(line) - len(line.lstrip(" "))


def _unquoted(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"" else value


def _item_bounds(lines: list[str], name: str) -> tuple[int, int, int, int]:
    """(first line, end line, key column, index of the `name:` line) of the dataflow's item."""
    name_line = _key_line("name")
    for index, line in enumerate(lines):
        match = name_line.match(line.rstrip("\r\n"))
        if not match or _unquoted(match["value"].strip()) != name:
            continue
        column = _key_column(line)
        start = index
        while start >= 0 and not _ITEM.match(lines[start]):
            start -= 1
        if start < 0:
            break
        dash = len(_ITEM.match(lines[start])["indent"])  # type: ignore[index]
        end = start + 1
        while end < len(lines):
            text = lines[end].rstrip("\r\n")
            if text.strip() and not text.lstrip().startswith("#") and len(text) - len(text.lstrip(" ")) <= dash:
                break
            end += 1
        return start, end, column, index
    raise OperationError(f"cannot find `name: {name}` in the dataflows file", exit_code=FAILED)


def disabled_text(text: str, name: str) -> str:
    """`text` with `enabled: false` for dataflow `name` (set, or added after its `resource:`)."""
    lines = text.splitlines(keepends=True)
    start, end, column, name_index = _item_bounds(lines, name)
    enabled_line = _key_line("enabled")
    resource_line = _key_line("resource")
    insert_after = name_index
    for index in range(start, end):
        line = lines[index]
        body = line.rstrip("\r\n")
        if _key_column(line) != column:
            continue
        match = enabled_line.match(body)
        if match:
            rest = match["rest"]
            # Keep a trailing comment where it was: `true` -> `false` is one character longer.
            if match["value"] == "true" and rest.startswith("  "):
                rest = rest[1:]
            lines[index] = f"{match['lead']}enabled:{match['space'] or ' '}false{rest}{line[len(body):]}"
            return "".join(lines)
        if resource_line.match(body):
            insert_after = index
    ending = lines[insert_after][len(lines[insert_after].rstrip("\r\n")):] or "\n"
    if not lines[insert_after].endswith(("\n", "\r")):
        lines[insert_after] += ending
    lines.insert(insert_after + 1, f"{' ' * column}enabled: false{ending}")
    return "".join(lines)


def _expected(config: DataflowsConfig, name: str) -> dict:
    dumped = config.model_dump()
    for flow in dumped["dataflows"]:
        if flow["name"] == name:
            flow["enabled"] = False
    return dumped


@dataclass(frozen=True)
class FileEdit:
    """A checked edit of the dataflows file, applied only if the file is still as it was read."""

    path: Path
    before: str
    after: str | None  # None: the dataflow is already disabled

    def apply(self) -> bool:
        """Write the edit; False when there was nothing to change."""
        if self.after is None:
            return False
        if _read(self.path) != self.before:
            raise OperationError(f"{self.path} changed while the command ran; nothing was written", exit_code=FAILED)
        _replace(self.path, self.after)
        return True


def plan_disable(path: Path, name: str) -> FileEdit:
    """The edit setting `enabled: false` for dataflow `name` in the file at `path`.

    Raises OperationError when the edited text would not parse to the same config with only that
    change (nothing is written then).
    """
    text = _read(path)
    before = parse_dataflows(text, str(path))
    if not next(flow for flow in before.dataflows if flow.name == name).enabled:
        return FileEdit(path, text, None)
    edited = disabled_text(text, name)
    try:
        after = parse_dataflows(edited, str(path))
    except ValueError as exc:
        raise OperationError(
            f"cannot edit {path} safely ({exc}); set `enabled: false` for dataflow {name} by hand",
            exit_code=FAILED,
        ) from None
    if after.model_dump() != _expected(before, name):
        raise OperationError(
            f"cannot edit {path} safely (the line edit changed more than `enabled`); "
            f"set `enabled: false` for dataflow {name} by hand",
            exit_code=FAILED,
        )
    return FileEdit(path, text, edited)


def _read(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as handle:  # keep \r\n line endings as they are
        return handle.read()


def _replace(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temp, path.stat().st_mode & 0o7777)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
