"""pytest fixtures for tests that talk to the FSx emulator. Opt in to load them.

In the root `conftest.py` of your tests::

    pytest_plugins = ["fsx_emulator.pytest_plugin"]

or on the command line: `pytest -p fsx_emulator.pytest_plugin`. Fixtures:

- `fsx_emulator_options` (session): keyword arguments for `EmulatorProcess`.
- `fsx_emulator_session` (session): one emulator process for the whole session.
- `fsx_emulator` (function): that emulator, reset before the test.

Loading this module imports neither boto3 nor moto: they are imported when a test first
uses a fixture, and a missing `emulator` extra fails that test with one line saying what
to install.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fsx_emulator.client import Emulator


@pytest.fixture(scope="session")
def fsx_emulator_options() -> dict[str, Any]:
    """Keyword arguments for `fsx_emulator.EmulatorProcess`; session scope; `{}` here.

    Override this fixture in a conftest.py to start the emulator differently, e.g.
    `return {"backup_seconds": 0, "copy_seconds": 1}` (flags of `fsx-emulator`: region,
    backup_seconds, copy_seconds, seed, throttle_rate, error_rate, token_ttl_seconds,
    enforce_iam). Tests under that conftest then get an emulator started with them.
    """
    return {}


@pytest.fixture(scope="session")
def fsx_emulator_session(fsx_emulator_options: dict[str, Any]) -> Iterator[Emulator]:
    """An `Emulator` handle on one emulator process for the session; session scope.

    The process starts on a free loopback port when a test first needs it, with
    `fsx_emulator_options`, and is stopped at the end of the session. State left by one
    test is seen by the next: use `fsx_emulator` for a reset emulator.
    """
    from fsx_emulator.process import EmulatorExtraMissing, EmulatorProcess

    process = EmulatorProcess(**fsx_emulator_options)
    try:
        emulator = process.start()
    except EmulatorExtraMissing as missing:
        # `from None`: the one line is the whole story, without the exception it replaces.
        raise pytest.fail.Exception(str(missing), pytrace=False) from None
    try:
        yield emulator
    finally:
        process.stop()


@pytest.fixture
def fsx_emulator(fsx_emulator_session: Emulator) -> Emulator:
    """The session's `Emulator`, reset before the test; function scope.

    Each test starts with no file systems, volumes, backups or tokens in any Region,
    zero call counts, and the fault settings the emulator was started with.
    """
    fsx_emulator_session.reset()
    return fsx_emulator_session
