"""The engine toolchain works: a dynamic resource from an installed module
goes through up, preview, refresh and destroy on a local backend."""

from __future__ import annotations

import pulumi
from pulumi import automation as auto

from bench.noop import Noop
from tests.conftest import StackFactory, resources_of_type


def program() -> None:
    res = Noop("hello", value="world")
    pulumi.export("value", res.value)
    pulumi.export("noop_id", res.id)


def test_up_preview_refresh_destroy(new_stack: StackFactory) -> None:
    stack = new_stack(program)

    up = stack.up(on_output=lambda _line: None)
    assert up.summary.result == "succeeded"
    assert up.outputs["value"].value == "world"
    assert up.outputs["noop_id"].value == "noop-world"
    assert up.summary.resource_changes == {"create": 2}
    [state] = resources_of_type(stack, ":Noop")
    assert state["id"] == "noop-world"
    assert state["type"] == "pulumi-python:dynamic/fsx-backup-provider:Noop"
    assert state["outputs"]["value"] == "world"

    preview = stack.preview(on_output=lambda _line: None)
    assert preview.change_summary == {auto.OpType.SAME: 2}

    refresh = stack.refresh(on_output=lambda _line: None)
    assert refresh.summary.result == "succeeded"
    [state] = resources_of_type(stack, ":Noop")
    assert state["id"] == "noop-world"

    destroy = stack.destroy(on_output=lambda _line: None)
    assert destroy.summary.result == "succeeded"
    assert destroy.summary.resource_changes == {"delete": 2}
    assert resources_of_type(stack, ":Noop") == []
