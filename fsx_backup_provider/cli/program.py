"""The Pulumi program of `fsx-backup`, `rotate` and the example stack: an FsxBackup per spec."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from fsx_backup_provider.cli.spec import BackupSpec

if TYPE_CHECKING:
    from fsx_backup_provider.resource import FsxBackup

# The stack output: backup name -> {backup_id, arn, lifecycle, tags}.
OUTPUT_NAME = "backups"


def declare_backup(spec: BackupSpec) -> FsxBackup:
    from fsx_backup_provider.resource import FsxBackup, FsxBackupArgs

    return FsxBackup(
        spec.name,
        FsxBackupArgs(
            file_system_id=spec.file_system_id,
            volume_id=spec.volume_id,
            # No tags at all lets a source with CopyTagsToBackups tag the backup.
            tags=dict(spec.tags) or None,
        ),
    )


def export_backups(backups: Mapping[str, FsxBackup]) -> None:
    import pulumi

    pulumi.export(
        OUTPUT_NAME,
        {
            name: {
                "backup_id": backup.backup_id,
                "arn": backup.arn,
                "lifecycle": backup.lifecycle,
                "tags": backup.tags,
            }
            for name, backup in backups.items()
        },
    )


def declare_and_export(specs: Sequence[BackupSpec]) -> dict[str, FsxBackup]:
    """Run inside a Pulumi program: declare every spec's backup and export them all."""
    backups = {spec.name: declare_backup(spec) for spec in specs}
    export_backups(backups)
    return backups


def make_program(specs: Sequence[BackupSpec]) -> Callable[[], None]:
    """The inline program for the Automation API."""

    def program() -> None:
        declare_and_export(specs)

    return program
