"""What a killed run left, read from the state without an engine: its pending creates."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from fsx_backup_provider.cli.rotate_run import with_pending
from fsx_backup_provider.cli.rotation_plan import period_of, plan_rotation
from fsx_backup_provider.cli.spec import BackupSpec, SpecError
from fsx_backup_provider.cli.state import StackState
from fsx_backup_provider.core.constants import (
    FSX_BACKUP_COPY_TYPE,
    FSX_BACKUP_SEED_TYPE,
    FSX_BACKUP_TYPE,
)

FS = "fs-0123456789abcdef0"
URN = "urn:pulumi:daily-fs::fsx-backup::"


def resource(kind: str, name: str, backup_id: str | None = None, **inputs: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"urn": f"{URN}{kind}::{name}", "type": kind, "inputs": inputs}
    if backup_id:
        found["id"] = backup_id
        found["outputs"] = {"backup_id": backup_id}
    return found


class FakeStack:
    def __init__(self, deployment: dict[str, Any]) -> None:
        self.deployment = deployment

    def export_stack(self) -> Any:
        return SimpleNamespace(deployment=self.deployment)


def state_with_a_killed_run() -> StackState:
    return StackState.read(
        FakeStack(
            {
                "resources": [
                    resource(FSX_BACKUP_TYPE, "daily-2024-04-01", "backup-1", file_system_id=FS),
                    resource(FSX_BACKUP_SEED_TYPE, "fsx-backup-seed", "seed-1"),
                ],
                "pending_operations": [
                    {
                        "type": "creating",
                        "resource": resource(
                            FSX_BACKUP_TYPE, "daily-2024-04-02", file_system_id=FS, tags={"A": "b"}
                        ),
                    },
                    {
                        "type": "creating",
                        "resource": resource(
                            FSX_BACKUP_COPY_TYPE,
                            "daily-2024-04-01-copy",
                            source_backup_id="backup-1",
                            region="us-west-2",
                        ),
                    },
                    # Not a create, or not a backup: not what a killed run left unmade.
                    {"type": "deleting", "resource": resource(FSX_BACKUP_TYPE, "daily-2024-03-30")},
                    {"type": "creating", "resource": resource(FSX_BACKUP_SEED_TYPE, "x")},
                ],
            }
        )
    )


def test_pending_creates_are_read_with_their_inputs() -> None:
    state = state_with_a_killed_run()
    assert set(state.backups) == {"daily-2024-04-01"} and state.copies == {}
    assert set(state.pending_creates) == {"daily-2024-04-02", "daily-2024-04-01-copy"}
    kind, pending = state.pending_creates["daily-2024-04-02"]
    assert kind == FSX_BACKUP_TYPE and pending.backup_id == ""
    assert pending.inputs == {"file_system_id": FS, "tags": {"A": "b"}}
    assert state.pending_creates["daily-2024-04-01-copy"][0] == FSX_BACKUP_COPY_TYPE


def test_pending_creates_are_declared_beside_the_state() -> None:
    backups, copies = with_pending(state_with_a_killed_run())
    assert set(backups) == {"daily-2024-04-01", "daily-2024-04-02"}
    assert set(copies) == {"daily-2024-04-01-copy"}


def test_a_killed_runs_period_counts_before_anything_runs() -> None:
    """Its period is the newest: a run for an earlier one is refused, as for any backup."""
    backups, copies = with_pending(state_with_a_killed_run())
    at = period_of(datetime(2024, 4, 1, 12, tzinfo=UTC), "day")
    spec = BackupSpec(at.name("daily"), FS, None, {}, "rotate")
    with pytest.raises(SpecError, match=r"older than the newest backup .*daily-2024-04-02"):
        plan_rotation(backups, at, spec, 2, "daily", "s", copies=copies)
    later = period_of(datetime(2024, 4, 3, tzinfo=UTC), "day")
    plan = plan_rotation(
        backups, later, BackupSpec(later.name("daily"), FS), 1, "daily", "s", copies=copies
    )
    assert plan.dropped == ["daily-2024-04-02", "daily-2024-04-01", "daily-2024-04-01-copy"]
