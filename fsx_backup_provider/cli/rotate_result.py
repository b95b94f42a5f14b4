"""What a rotate run reports: its result, its failure, where its copies go."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fsx_backup_provider.cli.render import (
    EXIT_OK,
)
from fsx_backup_provider.cli.rotation_plan import (
    ADJECTIVE,
)
from fsx_backup_provider.cli.text import cap_lines

if TYPE_CHECKING:
    pass

# A rotation's names start with the adjective of its period unless --name says otherwise.
DEFAULT_PREFIX = ADJECTIVE
# The stack output naming the rotation's prefix, period and rules (`fsx-backup list`).
ROTATION_OUTPUT = "rotation"


@dataclass(frozen=True)
class CopyTarget:
    """Where the copies of new backups go, and the KMS key that encrypts them."""

    region: str
    kms_key_id: str | None = None


@dataclass
class RotationResult:
    """What a rotate run did: backup IDs created, deleted, and kept (newest first)."""

    stack: str
    project: str
    backend: str
    period: str | None
    result: str = "succeeded"
    exit_code: int = EXIT_OK
    created: list[str] = field(default_factory=list)
    # Every backup and copy this run deleted.
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    # For the table: the kept periods' names (newest first; with a backup,
    # kept_names), what the state holds of the backups, and the name of each
    # backup or copy deleted.
    kept_names: list[str] = field(default_factory=list)
    period_names: list[str] = field(default_factory=list)
    backups: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted_names: dict[str, str] = field(default_factory=dict)
    # After a failure: the backups and copies the run meant to delete (their
    # period left the window) that are still held, name -> backup ID.
    not_deleted: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    problems: list[str] = field(default_factory=list)
    # Backup ID -> the ID of its copy, for the kept backups that have one.
    copies: dict[str, str] = field(default_factory=dict)
    # Kept periods whose backup is gone (deleted outside) and whose copy is
    # kept: name -> {"copy_id", "source_backup_id"}.
    copies_without_backup: dict[str, dict[str, str]] = field(default_factory=dict)
    # Backups and copies a killed run made, found by their tokens:
    # name -> {"backup_id", "action": "adopted" | "deleted"}.
    recovered: dict[str, dict[str, str]] = field(default_factory=dict)
    # With restore_test=True: the restore test of the period's backup (restores.py's JSON).
    restore_test: dict[str, Any] | None = None
    # The retention rules in use (rule -> count), and which rules keep each kept
    # period (name -> rules).
    retention: dict[str, int] = field(default_factory=dict)
    kept_by: dict[str, list[str]] = field(default_factory=dict)
    # --dry-run: nothing was changed; what a run would create ({"name",
    # "period"}) and delete ({"name", "period", "backup_id"}).
    dry_run: bool = False
    would_create: list[dict[str, str]] = field(default_factory=list)
    would_delete: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "command": "rotate",
            "stack": self.stack,
            "project": self.project,
            "backend": self.backend,
            "period": self.period,
            "result": self.result,
            "exit_code": self.exit_code,
            "created": self.created,
            "deleted": self.deleted,
            "not_deleted": self.not_deleted,
            "kept": self.kept,
            "copies": self.copies,
            "copies_without_backup": self.copies_without_backup,
            "recovered": self.recovered,
            "restore_test": self.restore_test,
            "retention": self.retention,
            "kept_by": self.kept_by,
            "dry_run": self.dry_run,
            "would_create": self.would_create,
            "would_delete": self.would_delete,
            "error": self.error,
            "problems": cap_lines(self.problems),
        }


class RotationFailed(Exception):
    """The engine failed (a backup FAILED, FSx refused, the stack is locked...), or
    the run was interrupted (Ctrl-C: `result.result` is `cancelled`).

    `result` is what the stack's state holds after the failure; `locked` is
    true when another run held the stack's lock.
    """

    def __init__(self, message: str, result: RotationResult, locked: bool) -> None:
        super().__init__(message)
        self.result = result
        self.locked = locked
