"""The Pulumi program of `fsx-backup`, `rotate` and the example stack: an FsxBackup per spec."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from fsx_backup_provider.cli.spec import BackupSpec

if TYPE_CHECKING:
    import pulumi

    from fsx_backup_provider.program.backup import FsxBackup
    from fsx_backup_provider.program.copy import FsxBackupCopy

# The stack output: backup name -> {backup_id, arn, lifecycle, tags[, copy_id]}.
OUTPUT_NAME = "backups"
# A backup's copy in another Region is named after it.
COPY_SUFFIX = "-copy"


def declare_backup(spec: BackupSpec) -> FsxBackup:
    from fsx_backup_provider.program.backup import FsxBackup, FsxBackupArgs

    return FsxBackup(
        spec.name,
        FsxBackupArgs(
            file_system_id=spec.file_system_id,
            volume_id=spec.volume_id,
            # No tags at all lets a source with CopyTagsToBackups tag the backup.
            tags=dict(spec.tags) or None,
        ),
    )


def declare_copy(
    name: str, backup: FsxBackup, region: str, kms_key_id: str | None = None
) -> FsxBackupCopy:
    """A copy of `backup` in `region`, with the backup's tags, named `<name>-copy`."""
    import pulumi

    from fsx_backup_provider.program.copy import FsxBackupCopy

    return FsxBackupCopy(
        f"{name}{COPY_SUFFIX}",
        backup.backup_id,
        # Where the backup is: its own region input, else aws:region.
        source_region=pulumi.Config("aws").get("region"),
        region=region,
        kms_key_id=kms_key_id,
        copy_tags=True,
    )


def export_backups(
    backups: Mapping[str, FsxBackup], copies: Mapping[str, FsxBackupCopy] | None = None
) -> None:
    import pulumi

    exported: dict[str, dict[str, object]] = {}
    for name, backup in backups.items():
        exported[name] = {
            "backup_id": backup.backup_id,
            "arn": backup.arn,
            "lifecycle": backup.lifecycle,
            "tags": backup.tags,
        }
        if copies and name in copies:
            exported[name]["copy_id"] = copies[name].backup_id
    pulumi.export(OUTPUT_NAME, exported)


def declare_and_export(
    specs: Sequence[BackupSpec], copy_to_region: str | None = None
) -> dict[str, FsxBackup]:
    """Run inside a Pulumi program: declare every spec's backup (and, with a copy
    Region, its copy there) and export them all."""
    backups = {spec.name: declare_backup(spec) for spec in specs}
    copies = (
        {name: declare_copy(name, backup, copy_to_region) for name, backup in backups.items()}
        if copy_to_region
        else {}
    )
    export_backups(backups, copies)
    return backups


async def registered(resources: Iterable[pulumi.Resource]) -> None:
    """Wait until every resource's registration has answered, one callback each.

    When a program returns, the Python SDK waits for the Outputs still
    pending with `asyncio.wait(FIRST_COMPLETED)` in a loop
    (`wait_for_rpcs`, pulumi/runtime/stack.py): every round re-arms a
    callback on each pending Output and ends when one resolves. The
    registrations of a large stack answer one by one, so N of them cost N
    rounds over N Outputs: quadratic (a tenth of the CLI's CPU in a preview
    of 10,000 backups, py-spy). Waiting here first, with one callback per
    registration, leaves that loop next to nothing. A failed registration is
    left to the SDK, which reports it exactly as before.
    """
    await asyncio.gather(*(r.urn.future() for r in resources), return_exceptions=True)


def make_program(specs: Sequence[BackupSpec]) -> Callable[[], Awaitable[None]]:
    """The inline program for the Automation API (which awaits a coroutine program)."""

    async def program() -> None:
        await registered(declare_and_export(specs).values())

    return program
