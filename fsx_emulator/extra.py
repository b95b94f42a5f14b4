"""Whether the `emulator` extra (moto, its server's web framework) is there; one line if not.

Nothing here imports moto: this is what runs before anything that would.
"""

from __future__ import annotations

import importlib.util

INSTALL_COMMAND = "pip install 'fsx-backup-provider[emulator]'"

# What the extra provides that the emulator imports when it starts: moto itself, and
# the web framework moto's server is built on.
EXTRA_MODULES = ("moto", "flask", "flask_cors")


def missing_extra_message(module: str) -> str:
    """The one line a user sees when `module`, part of the extra, cannot be imported."""
    return (
        f"The FSx emulator needs moto's server, which the 'emulator' extra installs "
        f"({module} is not importable): {INSTALL_COMMAND}"
    )


def missing_extra_module() -> str | None:
    """The first module of the extra that cannot be imported, or None if all can."""
    for module in EXTRA_MODULES:
        if importlib.util.find_spec(module) is None:
            return module
    return None
