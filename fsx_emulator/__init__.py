"""A local Amazon FSx emulator for backup tests, built on moto's FSx backend.

Run it with `fsx-emulator` / `python -m fsx_emulator`, from Python with
`EmulatorProcess`, or in pytest with the `fsx_emulator` and `fsx` fixtures
(`fsx_emulator.pytest_plugin`). See docs/emulator.md.
"""

from fsx_emulator.client import Emulator
from fsx_emulator.process import EmulatorProcess, EmulatorStartError

__all__ = ["Emulator", "EmulatorProcess", "EmulatorStartError"]
