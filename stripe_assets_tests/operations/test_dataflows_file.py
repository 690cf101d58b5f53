"""Disabling a dataflow by a one-line edit of the dataflows file: comments and layout stay."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from stripe_assets.dataflows.config import parse_dataflows
from stripe_assets.operations.dataflows_file import plan_disable
from stripe_assets.operations.errors import OperationError

SHIPPED = Path(__file__).resolve().parents[2] / "dataflows.yaml"


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def write(tmp_path, text: str, newline: str = "\n") -> Path:
    path = tmp_path / "dataflows.yaml"
    path.write_bytes(text.replace("\n", newline).encode())
    return path


@pytest.mark.parametrize("name", [f.name for f in parse_dataflows(SHIPPED.read_text()).dataflows])
def test_each_shipped_dataflow_is_disabled_by_changing_its_enabled_line_only(tmp_path, name):
    path = write(tmp_path, SHIPPED.read_text())

    assert plan_disable(path, name).apply()

    before, after = SHIPPED.read_text(), path.read_text()
    (removed, added) = changed_lines(before, after)
    assert removed.startswith("-") and "enabled: true" in removed
    assert added == "+" + removed[1:].replace("enabled: true", "enabled: false")
    flows = {f.name: f.enabled for f in parse_dataflows(after).dataflows}
    assert flows == {f: f != name for f in flows}


def test_a_dataflow_without_enabled_gets_it_after_its_resource(tmp_path):
    text = (
        "dataflows:\n"
        "  - resource: prices   # name comes second here\n"
        "    name: 'stripe_prices'\n"
        "    mapping:\n"
        "      drop: [nickname]\n"
        "  # a comment between dataflows\n"
        "  - name: stripe_refunds\n"
        "    resource: refunds\n"
    )
    path = write(tmp_path, text, newline="\r\n")

    assert plan_disable(path, "stripe_prices").apply()

    after = path.read_bytes().decode()
    assert after == text.replace(
        "  - resource: prices   # name comes second here\n",
        "  - resource: prices   # name comes second here\n    enabled: false\n",
    ).replace("\n", "\r\n")
    assert not plan_disable(path, "stripe_prices").apply()  # already disabled: nothing to write
    assert path.read_bytes().decode() == after


def test_a_layout_the_line_edit_does_not_know_is_left_alone(tmp_path):
    text = "dataflows: [{name: stripe_prices, resource: prices}]\n"
    path = write(tmp_path, text)

    with pytest.raises(OperationError, match="cannot find `name: stripe_prices` in the dataflows file"):
        plan_disable(path, "stripe_prices")
    assert path.read_text() == text


def test_an_edit_is_not_written_over_a_file_changed_meanwhile(tmp_path):
    path = write(tmp_path, "dataflows:\n  - name: stripe_prices\n    resource: prices\n")
    edit = plan_disable(path, "stripe_prices")
    path.write_text(path.read_text() + "  - name: stripe_refunds\n    resource: refunds\n")

    with pytest.raises(OperationError, match="changed while the command ran; nothing was written"):
        edit.apply()
    assert "enabled" not in path.read_text()
