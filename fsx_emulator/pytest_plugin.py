"""pytest fixtures for tests that talk to the FSx emulator.

- `fsx_emulator` (session): one emulator process for the whole test session.
- `fsx` (function): the same emulator, reset before the test, so each test starts with
  no file systems, no backups, zero call counts and the startup fault settings.
- `fsx_emulator_options` (session): keyword arguments for `EmulatorProcess`; override it
  in a conftest.py to start the emulator differently (e.g. `{"backup_seconds": 0}`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fsx_emulator.client import Emulator
from fsx_emulator.process import EmulatorProcess


@pytest.fixture(scope="session")
def fsx_emulator_options() -> dict[str, Any]:
    return {}


@pytest.fixture(scope="session")
def fsx_emulator(fsx_emulator_options: dict[str, Any]) -> Iterator[Emulator]:
    with EmulatorProcess(**fsx_emulator_options) as emulator:
        yield emulator


@pytest.fixture
def fsx(fsx_emulator: Emulator) -> Emulator:
    fsx_emulator.reset()
    return fsx_emulator
