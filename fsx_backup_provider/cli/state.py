"""What a stack's state holds, read with one export: its backups, copies and pending creates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fsx_backup_provider.cli.events import name_of_urn
from fsx_backup_provider.core.constants import (
    FSX_BACKUP_COPY_TYPE,
    FSX_BACKUP_TYPE,
    ROTATION_MARKER_TYPE,
    STACK_TYPE,
)

if TYPE_CHECKING:
    from pulumi import automation as auto


@dataclass(frozen=True)
class StateBackup:
    """An FsxBackup as the stack's state records it."""

    name: str
    backup_id: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]

    def summary(self) -> dict[str, Any]:
        return {
            "backup_id": self.backup_id,
            "arn": self.outputs.get("arn"),
            "lifecycle": self.outputs.get("lifecycle"),
            "tags": self.outputs.get("tags") or {},
            "file_system_id": self.outputs.get("file_system_id"),
            "volume_id": self.outputs.get("volume_id"),
        }


def state_backups(
    stack: auto.Stack, resource_type: str = FSX_BACKUP_TYPE
) -> dict[str, StateBackup]:
    """The FsxBackups (or FsxBackupCopies) the stack's state holds now, by name;
    other resources are left out."""
    return _of_type(stack.export_stack().deployment or {}, resource_type)


def _of_type(deployment: Mapping[str, Any], resource_type: str) -> dict[str, StateBackup]:
    found: dict[str, StateBackup] = {}
    for resource in deployment.get("resources") or []:
        if resource.get("type") != resource_type or resource.get("delete"):
            continue
        found.update(_state_backup(resource))
    return dict(sorted(found.items()))


def _state_backup(resource: Mapping[str, Any]) -> dict[str, StateBackup]:
    outputs = resource.get("outputs") or {}
    name = name_of_urn(str(resource.get("urn", "")))
    backup_id = str(outputs.get("backup_id") or resource.get("id") or "")
    return {name: StateBackup(name, backup_id, resource.get("inputs") or {}, outputs)}


@dataclass(frozen=True)
class StackState:
    """What a rotation reads from its stack's state, from one export.

    `pending_creates` are the FsxBackups and FsxBackupCopies whose create a
    killed run left pending: recorded with their inputs (the token's
    ingredients) but no backup ID, since the engine never heard back.
    """

    backups: dict[str, StateBackup]
    copies: dict[str, StateBackup]
    pending_creates: dict[str, tuple[str, StateBackup]]
    # `fsx-backup rotate` made the stack: its mark (a ROTATION_MARKER_TYPE
    # component, from 0.5.0) or its `rotation` output (0.4.0) is in the state.
    rotation: bool = False

    @classmethod
    def read(cls, stack: auto.Stack) -> StackState:
        deployment = stack.export_stack().deployment or {}
        pending: dict[str, tuple[str, StateBackup]] = {}
        for operation in deployment.get("pending_operations") or []:
            resource = operation.get("resource") or {}
            kind = resource.get("type")
            if operation.get("type") == "creating" and kind in (
                FSX_BACKUP_TYPE,
                FSX_BACKUP_COPY_TYPE,
            ):
                pending.update(
                    (name, (str(kind), backup)) for name, backup in _state_backup(resource).items()
                )
        return cls(
            backups=_of_type(deployment, FSX_BACKUP_TYPE),
            copies=_of_type(deployment, FSX_BACKUP_COPY_TYPE),
            pending_creates=dict(sorted(pending.items())),
            rotation=made_by_rotate(deployment),
        )


def made_by_rotate(deployment: Mapping[str, Any]) -> bool:
    """Whether `fsx-backup rotate` made the stack of this deployment (a stack export)."""
    for resource in deployment.get("resources") or []:
        kind = resource.get("type")
        if kind == ROTATION_MARKER_TYPE and not resource.get("delete"):
            return True
        if kind == STACK_TYPE and "rotation" in (resource.get("outputs") or {}):
            return True
    return False
