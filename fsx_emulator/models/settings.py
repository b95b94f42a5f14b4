"""What every account and Region of the emulator shares: the state lock, the run-time
knobs and the IDs it mints."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from uuid import uuid4

# All FSx state in the process sits behind one lock. Requests spend well under a
# millisecond inside it, so finer locks would buy nothing but ordering bugs.
STATE_LOCK = threading.RLock()


@dataclass
class EmulatorSettings:
    """Run-time knobs shared by every account and region the emulator serves."""

    backup_seconds: float = 3.0
    # None: copies take the backup_seconds in force when they are made.
    copy_seconds: float | None = None
    # None: restores take the backup_seconds in force when they are made.
    restore_seconds: float | None = None
    # None: deletes take the restore seconds in force when they are made.
    delete_seconds: float | None = None
    token_ttl_seconds: float | None = None
    # Source (file system or volume) ID -> FailureDetails.Message of its next backup.
    fail_next_backups: dict[str, str] = field(default_factory=dict)
    # Source backup ID -> FailureDetails.Message of its next copy.
    fail_next_copies: dict[str, str] = field(default_factory=dict)
    # Backup ID -> the failure message of the next file system or volume restored from it.
    fail_next_restores: dict[str, str] = field(default_factory=dict)
    # Subnets known in every account and Region (--subnet-id), besides those each
    # Region learns from its file systems and the control endpoint.
    subnet_ids: frozenset[str] = frozenset()

    @property
    def effective_copy_seconds(self) -> float:
        return self.backup_seconds if self.copy_seconds is None else self.copy_seconds

    @property
    def effective_restore_seconds(self) -> float:
        return self.backup_seconds if self.restore_seconds is None else self.restore_seconds

    @property
    def effective_delete_seconds(self) -> float:
        if self.delete_seconds is None:
            return self.effective_restore_seconds
        return self.delete_seconds


settings = EmulatorSettings()


def new_id(prefix: str) -> str:
    # AWS mints 17 hex digits after the prefix; the model's patterns allow 8 or more.
    return f"{prefix}-{uuid4().hex[:17]}"
