"""End-to-end fixtures: the real engine, the FsxBackup provider and the emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pulumi import automation as auto

from tests.conftest import StackFactory
from tools.workspace import EMULATOR_CREDENTIALS

REGION = "us-east-1"


def quiet(_line: str) -> None:
    """Engine output is not needed by the assertions; errors come back as exceptions."""


@pytest.fixture
def fsx_stack(new_stack: StackFactory, fsx: Any) -> Callable[..., auto.Stack]:
    """A stack for an inline program whose FsxBackups talk to the emulator.

    The endpoint and region come through stack config exactly as a user of
    pulumi-aws writes them (aws:endpoints, aws:region); credentials are dummy
    keys in the provider's environment (the emulator accepts any).
    """

    # Short backups keep the suite quick; tests that need longer ones say so.
    fsx.set_faults(backup_seconds=1)

    def make(program: auto.PulumiFn, **config: Any) -> auto.Stack:
        stack = new_stack(
            program,
            env=EMULATOR_CREDENTIALS,
        )
        stack.set_config("aws:region", auto.ConfigValue(REGION))
        stack.set_config("aws:endpoints", auto.ConfigValue(json.dumps([{"fsx": fsx.endpoint_url}])))
        for key, value in config.items():
            stack.set_config(key, auto.ConfigValue(value))
        return stack

    return make
