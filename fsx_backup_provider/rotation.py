"""Moved to fsx_backup_provider.cli.rotate: scripts that import from here keep working."""

from __future__ import annotations

from typing import Any

from fsx_backup_provider.cli import rotate as _moved


def __getattr__(name: str) -> Any:
    return getattr(_moved, name)
