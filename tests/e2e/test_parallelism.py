"""Backups are created concurrently beyond the dynamic provider host's 4 workers,
and where the host's internals differ they are still created, 4 at a time."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pulumi
from pulumi import automation as auto

from fsx_backup_provider import FsxBackup
from fsx_backup_provider.host.parallelism import WARNING_PREFIX
from tests.conftest import StackFactory, resources_of_type
from tests.e2e.conftest import REGION, preview_first, quiet
from tools.workspace import EMULATOR_CREDENTIALS, most_in_flight

BACKUP_SECONDS = 4

# Loaded by every Python process of the stack's engine, so also by the
# provider process: it renames grpcio's server class there, as a grpcio
# release might, and the widening no longer finds the server's pool.
RENAME_GRPC_SERVER = """
import grpc._server

grpc._server._Server.__qualname__ = "_ServerOfAnotherRelease"
"""


def our_warnings(events: list[auto.EngineEvent]) -> list[str]:
    """The diagnostics the provider sent about its pool: the engine shows each
    on its resource's line and again under Diagnostics, so count the events."""
    return [
        event.diagnostic_event.message
        for event in events
        if event.diagnostic_event is not None
        and event.diagnostic_event.severity == "warning"
        and WARNING_PREFIX in event.diagnostic_event.message
    ]


def backups_program(fs_ids: list[str]) -> auto.PulumiFn:
    def program() -> None:
        for i, fs_id in enumerate(fs_ids):
            FsxBackup(f"b{i}", file_system_id=fs_id)
        pulumi.export("n", len(fs_ids))

    return program


def test_eight_creates_are_in_flight_at_once(fsx: Any, fsx_stack: Any) -> None:
    fs_ids = [fsx.create_file_system("LUSTRE") for _ in range(8)]
    fsx.set_faults(backup_seconds=BACKUP_SECONDS)

    events: list[auto.EngineEvent] = []
    fsx_stack(backups_program(fs_ids)).up(on_output=quiet, on_event=events.append, parallel=16)
    backups = fsx.client().describe_backups()["Backups"]
    assert len(backups) == 8 and all(b["Lifecycle"] == "AVAILABLE" for b in backups)
    # With the host's 4 workers, creates 5-8 could only start once 1-4 had
    # waited out their backup time.
    assert most_in_flight([b["CreationTime"] for b in backups], BACKUP_SECONDS) == 8
    assert our_warnings(events) == []


def test_without_the_internals_up_and_destroy_work_four_at_a_time(
    fsx: Any, new_stack: StackFactory, tmp_path: Path
) -> None:
    (tmp_path / "sitecustomize.py").write_text(RENAME_GRPC_SERVER)
    fs_ids = [fsx.create_file_system("LUSTRE") for _ in range(6)]
    fsx.set_faults(backup_seconds=BACKUP_SECONDS)
    pythonpath = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p)
    stack = preview_first(
        new_stack(backups_program(fs_ids), env={**EMULATOR_CREDENTIALS, "PYTHONPATH": pythonpath})
    )
    stack.set_config("aws:region", auto.ConfigValue(REGION))
    stack.set_config("aws:endpoints", auto.ConfigValue(json.dumps([{"fsx": fsx.endpoint_url}])))

    up_events: list[auto.EngineEvent] = []
    up = stack.up(on_output=quiet, on_event=up_events.append, parallel=16)
    assert up.summary.result == "succeeded"
    [warning] = our_warnings(up_events)
    assert "at most 4 FsxBackups at a time" in warning
    backups = fsx.client().describe_backups()["Backups"]
    assert len(backups) == 6 and all(b["Lifecycle"] == "AVAILABLE" for b in backups)
    # The slow path really ran: never more than the host's 4 at once.
    assert most_in_flight([b["CreationTime"] for b in backups], BACKUP_SECONDS) == 4

    destroy_events: list[auto.EngineEvent] = []
    destroy = stack.destroy(on_output=quiet, on_event=destroy_events.append, parallel=16)
    assert destroy.summary.result == "succeeded"
    assert resources_of_type(stack, ":FsxBackup") == []
    assert len(our_warnings(destroy_events)) == 1
    assert fsx.client().describe_backups()["Backups"] == []
