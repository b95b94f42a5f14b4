"""The installed package's version: one number, kept in pyproject.toml."""

from __future__ import annotations

import functools


@functools.cache
def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("fsx-backup-provider")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


def stamp(error: BaseException) -> None:
    """Note the version under an error the engine shows (the host prints the traceback,
    notes included): a report then says which release failed. The message is unchanged."""
    error.add_note(f"(fsx-backup-provider {version()})")
