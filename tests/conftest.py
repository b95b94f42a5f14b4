"""Shared fixtures: the real Pulumi engine, driven through the Automation API.

Each test session gets its own PULUMI_HOME and a local file backend in a
temporary directory, so nothing is shared with the user's Pulumi and nothing
prompts. A missing engine is a failure, never a skip: run the suite through
`make test`, which builds or finds the engine and puts it on PATH.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

PROJECT = "fsx-e2e"


@pytest.fixture(scope="session")
def pulumi_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for the engine: isolated home, local backend, no plugin downloads."""
    if shutil.which("pulumi") is None or shutil.which("pulumi-resource-pulumi-python") is None:
        pytest.fail(
            "the Pulumi engine is not on PATH: run the tests with `make test` "
            '(or `eval "$(make -s env)"` first)'
        )
    root = tmp_path_factory.mktemp("pulumi")
    (root / "backend").mkdir()
    (root / "home").mkdir()
    env = {
        "PULUMI_HOME": str(root / "home"),
        "PULUMI_BACKEND_URL": f"file://{root / 'backend'}",
        "PULUMI_CONFIG_PASSPHRASE": "e2e-passphrase",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_PYTHON_CMD": os.environ.get(
            "PULUMI_PYTHON_CMD", shutil.which("python") or "python3"
        ),
    }
    return env


StackFactory = Callable[..., auto.Stack]


@pytest.fixture
def new_stack(pulumi_env: dict[str, str]) -> Iterator[StackFactory]:
    """Make stacks for inline programs; each is destroyed and removed at teardown."""
    made: list[auto.Stack] = []

    def make(
        program: auto.PulumiFn, env: dict[str, str] | None = None, **config: Any
    ) -> auto.Stack:
        stack_name = f"t{uuid.uuid4().hex[:10]}"
        stack = auto.create_stack(
            stack_name,
            project_name=PROJECT,
            program=program,
            opts=auto.LocalWorkspaceOptions(
                env_vars={**pulumi_env, **(env or {})},
                project_settings=auto.ProjectSettings(
                    name=PROJECT,
                    runtime="python",
                    backend=auto.ProjectBackend(pulumi_env["PULUMI_BACKEND_URL"]),
                ),
            ),
        )
        for key, value in config.items():
            stack.set_config(key, auto.ConfigValue(value=str(value)))
        made.append(stack)
        return stack

    yield make
    for stack in made:
        try:
            stack.destroy(on_output=lambda _line: None)
        finally:
            stack.workspace.remove_stack(stack.name)


def resources_of_type(stack: auto.Stack, type_suffix: str) -> list[dict[str, Any]]:
    """The resources in the exported state whose type ends with `type_suffix`."""
    deployment = stack.export_stack().deployment
    return [
        r for r in deployment.get("resources", []) if str(r.get("type", "")).endswith(type_suffix)
    ]


def workdir_of(stack: auto.Stack) -> Path:
    return Path(stack.workspace.work_dir)
