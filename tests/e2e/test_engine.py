"""The engine toolchain works: a dynamic resource from an installed module
goes through up, preview, refresh and destroy on a local backend; and a user's
own repo can get just the engine on PATH."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest
from pulumi import automation as auto

from bench.noop import Noop
from tests.conftest import StackFactory, resources_of_type
from tests.e2e.conftest import preview_first


def program() -> None:
    res = Noop("hello", value="world")
    pulumi.export("value", res.value)
    pulumi.export("noop_id", res.id)


def test_up_preview_refresh_destroy(new_stack: StackFactory) -> None:
    stack = preview_first(new_stack(program))

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


ROOT = Path(__file__).resolve().parents[2]


def test_engine_path_exports_only_the_engine() -> None:
    """`tools/engine.sh --print-path` (`make -s engine-path`): one `export PATH=`
    line that, eval'd in a shell with nothing of this repo, runs the engine."""
    bare = {
        "PATH": "/usr/bin:/bin",
        "HOME": os.environ["HOME"],
        **{k: v for k, v in os.environ.items() if k == "XDG_CACHE_HOME"},
    }
    printed = subprocess.run(
        [ROOT / "tools/engine.sh", "--print-path"],
        env=bare, capture_output=True, text=True, check=True, timeout=1200,
    ).stdout  # fmt: skip
    [line] = printed.splitlines()
    assert line.startswith('export PATH="') and line.endswith(':$PATH"'), line
    shell = subprocess.run(
        ["bash", "-c", f"{line}\n"
         "command -v pulumi pulumi-language-python pulumi-resource-pulumi-python\n"
         "pulumi version\nenv"],
        env=bare, capture_output=True, text=True, check=True, timeout=120, cwd="/",
    ).stdout.splitlines()  # fmt: skip
    engine_dir = line.removeprefix('export PATH="').removesuffix(':$PATH"')
    assert [Path(found).parent for found in shell[:3]] == [Path(engine_dir)] * 3
    assert shell[3].startswith("v3."), shell[3]
    # Nothing of the dev shell (`make env`): no backend, home, venv or passphrase.
    assert not [v for v in shell[4:] if v.startswith(("PULUMI_", "VIRTUAL_ENV="))]


def test_an_automation_script_outside_its_venvs_path_runs_with_workspace_env(
    pulumi_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's Automation API script run as `venv/bin/python deploy.py`, the venv not
    on PATH, no PULUMI_PYTHON_CMD: the provider's shim runs `python3` from PATH, which
    has no pulumi. workspace_env() names the script's interpreter."""
    import shutil

    from fsx_backup_provider.automation import workspace_env
    from tools.workspace import inline_stack

    engine_dir = str(Path(str(shutil.which("pulumi"))).parent)
    bare_path = f"{engine_dir}:/usr/bin:/bin"
    monkeypatch.delenv("PULUMI_PYTHON_CMD", raising=False)
    monkeypatch.setenv("PATH", bare_path)
    base = {k: v for k, v in pulumi_env.items() if k != "PULUMI_PYTHON_CMD"}
    base["PATH"] = bare_path
    made = []
    try:
        without = preview_first(inline_stack(base, program, "fsx-backup-provider-tests"))
        made.append(without)
        with pytest.raises(auto.CommandError):
            without.up(on_output=lambda _line: None)
        with_env = preview_first(
            inline_stack({**base, **workspace_env()}, program, "fsx-backup-provider-tests")
        )
        made.append(with_env)
        up = with_env.up(on_output=lambda _line: None)
        assert up.summary.result == "succeeded" and up.outputs["value"].value == "world"
        assert workspace_env()["PULUMI_PYTHON_CMD"] == sys.executable
        assert workspace_env("/opt/py")["PULUMI_PYTHON_CMD"] == "/opt/py"
    finally:
        for stack in made:
            with contextlib.suppress(auto.CommandError):
                stack.cancel()
            stack.destroy(on_output=lambda _line: None)
            stack.workspace.remove_stack(stack.name)
