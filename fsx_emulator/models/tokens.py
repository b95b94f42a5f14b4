"""Idempotency tokens: what each ClientRequestToken of a Region made, and from what.

CreateBackup, CopyBackup, CreateFileSystemFromBackup and CreateVolumeFromBackup share a
Region's tokens: FSx documents the same rule for each (the same token and parameters
return what the first request made; other parameters are IncompatibleParameterError),
and a token reused by another operation is a reuse with other parameters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fsx_emulator.models.backup import Backup, BackupRequest, CopyRequest
from fsx_emulator.models.resources import FileSystem, Volume


@dataclass(frozen=True)
class RestoreRequest:
    """The CreateFileSystemFromBackup or CreateVolumeFromBackup parameters a token is
    bound to: the request as sent, less its token, its tags in any order."""

    operation: str
    parameters: str

    @classmethod
    def of(cls, operation: str, params: Mapping[str, Any]) -> RestoreRequest:
        bound = {name: value for name, value in params.items() if name != "ClientRequestToken"}
        if isinstance(bound.get("Tags"), list):
            bound["Tags"] = sorted(bound["Tags"], key=lambda tag: str(tag.get("Key")))
        return cls(operation, json.dumps(bound, sort_keys=True))


TokenRequest = BackupRequest | CopyRequest | RestoreRequest
Made = Backup | FileSystem | Volume


@dataclass
class TokenRecord:
    request: TokenRequest
    made: Made
    registered: float


def named(made: Made) -> str:
    """What a token made, for error messages."""
    if isinstance(made, Backup):
        return f"backup '{made.backup_id}'"
    if isinstance(made, FileSystem):
        return f"file system '{made.file_system_id}'"
    return f"volume '{made.volume_id}'"
