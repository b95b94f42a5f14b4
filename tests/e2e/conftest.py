"""End-to-end fixtures: the real engine, the FsxBackup provider and the emulator."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from pulumi import automation as auto

from fsx_backup_provider.core.constants import FSX_BACKUP_SEED_TYPE, FSX_BACKUP_TYPE
from fsx_backup_provider.core.holder import HOLDER_TAG, holder_value
from fsx_backup_provider.core.tokens import derived_token
from tests.conftest import StackFactory
from tools.workspace import EMULATOR_CREDENTIALS, preview_first

REGION = "us-east-1"


def quiet(_line: str) -> None:
    """Engine output is not needed by the assertions; errors come back as exceptions."""


@pytest.fixture
def fsx_stack(new_stack: StackFactory, fsx: Any) -> Callable[..., auto.Stack]:
    """A stack for an inline program whose FsxBackups talk to the emulator.

    The endpoint and region come through stack config exactly as a user of
    pulumi-aws writes them (aws:endpoints, aws:region); credentials are dummy
    keys in the provider's environment (the emulator accepts any). Its `up()`
    previews first, like a plain `pulumi up`; a test about speed alone passes
    `preview=False` and says why.
    """

    # Short backups keep the suite quick; tests that need longer ones say so.
    fsx.set_faults(backup_seconds=1)

    def make(program: auto.PulumiFn, preview: bool = True, **config: Any) -> auto.Stack:
        stack = new_stack(
            program,
            env=EMULATOR_CREDENTIALS,
        )
        if preview:
            preview_first(stack)
        stack.set_config("aws:region", auto.ConfigValue(REGION))
        stack.set_config("aws:endpoints", auto.ConfigValue(json.dumps([{"fsx": fsx.endpoint_url}])))
        for key, value in config.items():
            stack.set_config(key, auto.ConfigValue(value))
        return stack

    return make


def _seed(stack: auto.Stack) -> dict[str, Any]:
    """The state of the stack's FsxBackup seed."""
    deployment = stack.export_stack().deployment or {}
    [seed] = [
        r
        for r in deployment.get("resources", [])
        if r.get("type") == FSX_BACKUP_SEED_TYPE and r["urn"].endswith("::fsx-backup-seed")
    ]
    return dict(seed)


def seed_of(stack: auto.Stack) -> dict[str, Any]:
    """The outputs of the stack's FsxBackup seed (its base and identities)."""
    return dict(_seed(stack)["outputs"])


def token_for(
    stack: auto.Stack, name: str, source: str, generation: int = 0, epoch: int = 0
) -> str:
    """The token a top-level FsxBackup `name` of this stack derives (the seed must exist)."""
    seed = seed_of(stack)
    key = f"{FSX_BACKUP_TYPE}::{name}"
    identity = seed["identities"][key]
    return derived_token(identity, key, source, REGION, str(epoch), generation=generation)


def interrupted_tags(stack: auto.Stack, name: str, tags: dict[str, str]) -> list[dict[str, str]]:
    """The Tags a create of top-level FsxBackup `name` with `tags` sends: those and the
    stack's fsx-backup:stack tag (holder.py), for a test that plays an interrupted run."""
    seed = _seed(stack)
    urn = seed["urn"].rsplit("::", 2)[0] + f"::{FSX_BACKUP_TYPE}::{name}"
    identity = seed["outputs"]["identities"][f"{FSX_BACKUP_TYPE}::{name}"]
    sent = {**tags, HOLDER_TAG: holder_value(identity, urn)}
    return [{"Key": k, "Value": str(v)} for k, v in sent.items()]


def pulumi_cli(stack: auto.Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """The `pulumi` CLI on this stack, as a user would run it (e.g. `state rename`)."""
    workspace = stack.workspace
    env = {**os.environ, **(getattr(workspace, "env_vars", None) or {})}
    done = subprocess.run(
        ["pulumi", *args, "--stack", stack.name, "--non-interactive"],
        cwd=workspace.work_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr or done.stdout
    return done
