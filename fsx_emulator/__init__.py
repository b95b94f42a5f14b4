"""A local Amazon FSx emulator for backup tests, built on moto's server.

Run it with `fsx-emulator` / `python -m fsx_emulator`, from Python with
`EmulatorProcess`, or in pytest with the opt-in plugin `fsx_emulator.pytest_plugin`.
See docs/emulator.md.

The names below are imported on first use (PEP 562), so that importing the pytest plugin,
a submodule of this package, imports neither boto3 nor moto.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fsx_emulator.client import Emulator
    from fsx_emulator.process import EmulatorExtraMissing, EmulatorProcess, EmulatorStartError

__all__ = ["Emulator", "EmulatorExtraMissing", "EmulatorProcess", "EmulatorStartError"]

_HOME = {
    "Emulator": "fsx_emulator.client",
    "EmulatorExtraMissing": "fsx_emulator.process",
    "EmulatorProcess": "fsx_emulator.process",
    "EmulatorStartError": "fsx_emulator.process",
}


def __getattr__(name: str) -> object:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
