"""Backups and backup copies, the requests their idempotency tokens are bound to, and how
DescribeBackups filters see them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fsx_emulator.models.requests import tag_list
from fsx_emulator.models.resources import FileSystem, Volume
from fsx_emulator.models.timing import Timeline

# A copy is PENDING (FSx has accepted it, nothing is copied yet) for this share of its
# copy time, then COPYING for the rest.
COPY_PENDING_SHARE = 0.2


@dataclass(frozen=True)
class BackupRequest:
    """The CreateBackup parameters an idempotency token is bound to."""

    file_system_id: str | None
    volume_id: str | None
    tags: tuple[tuple[str, str], ...] | None

    # Named in IncompatibleParameterError's message.
    operation: ClassVar[str] = "CreateBackup"


@dataclass(frozen=True)
class CopyRequest:
    """The CopyBackup parameters an idempotency token is bound to.

    The Region and key are the ones in effect, so leaving SourceRegion or KmsKeyId out and
    naming their defaults are the same parameters.
    """

    source_backup_id: str
    source_region: str
    kms_key_id: str
    copy_tags: bool
    tags: tuple[tuple[str, str], ...] | None

    operation: ClassVar[str] = "CopyBackup"


@dataclass(eq=False)
class Backup:
    """A user-initiated backup or backup copy, whose lifecycle is derived from the clock.

    Deriving CREATING (a copy: PENDING, COPYING) -> AVAILABLE/FAILED lazily from the
    elapsed time needs no background thread and makes every description consistent with
    the moment it is read.
    """

    backup_id: str
    resource_arn: str
    owner_id: str
    kms_key_id: str
    creation_time: float
    timeline: Timeline
    failure_message: str | None
    resource_type: str
    file_system_id: str
    file_system_type: str
    volume_id: str | None
    source_id: str
    request: BackupRequest | CopyRequest
    file_system_description: dict[str, Any]
    volume_description: dict[str, Any] | None
    # The tags the backup had when it was deleted; None while it exists.
    tags_at_deletion: dict[str, str] | None = None
    # Copies of this backup into any Region that may be in progress: while one is, the
    # backup cannot be deleted.
    copies: list[Backup] = field(default_factory=list)
    # File systems and volumes restored from this backup that may still be CREATING:
    # while one is, the backup cannot be deleted.
    restores: list[FileSystem | Volume] = field(default_factory=list)

    @property
    def copied_from(self) -> CopyRequest | None:
        return self.request if isinstance(self.request, CopyRequest) else None

    def finished(self, now: float) -> bool:
        return self.timeline.finished(now)

    def _work_starts(self) -> float:
        """Seconds after its start when the data starts to move (a copy waits PENDING)."""
        return 0.0 if self.copied_from is None else COPY_PENDING_SHARE * self.timeline.duration

    def lifecycle(self, now: float) -> str:
        if self.tags_at_deletion is not None:
            return "DELETED"
        if not self.finished(now):
            if self.copied_from is None:
                return "CREATING"
            return "PENDING" if self.timeline.elapsed(now) < self._work_starts() else "COPYING"
        return "AVAILABLE" if self.failure_message is None else "FAILED"

    def progress_percent(self, now: float) -> int:
        if not self.finished(now):
            worked = self.timeline.elapsed(now) - self._work_starts()
            if worked < 0:
                return 0
            # Never 100 while in progress: a poller must see AVAILABLE to know it is done.
            working = self.timeline.duration - self._work_starts()
            return min(99, int(100 * worked / working))
        # A failed backup produced nothing usable, so it reports no progress.
        return 0 if self.failure_message is not None else 100

    def copy_in_progress(self, now: float) -> Backup | None:
        return next((copy for copy in self.copies if not copy.finished(now)), None)

    def restores_in_progress(self, now: float) -> list[FileSystem | Volume]:
        return [restored for restored in self.restores if restored.creating(now)]

    def describe(self, tags: Mapping[str, str], now: float) -> dict[str, Any]:
        lifecycle = self.lifecycle(now)
        description: dict[str, Any] = {
            "BackupId": self.backup_id,
            "Lifecycle": lifecycle,
            "Type": "USER_INITIATED",
            "ProgressPercent": self.progress_percent(now),
            "CreationTime": self.creation_time,
            "KmsKeyId": self.kms_key_id,
            "ResourceARN": self.resource_arn,
            "Tags": tag_list(tags),
            "FileSystem": self.file_system_description,
            "OwnerId": self.owner_id,
            "ResourceType": self.resource_type,
        }
        if self.volume_description is not None:
            description["Volume"] = self.volume_description
        if self.copied_from is not None:
            description["SourceBackupId"] = self.copied_from.source_backup_id
            description["SourceBackupRegion"] = self.copied_from.source_region
        if lifecycle == "FAILED" and self.failure_message is not None:
            description["FailureDetails"] = {"Message": self.failure_message}
        return description


def in_progress(backups: list[Backup], now: float) -> list[Backup]:
    return [backup for backup in backups if not backup.finished(now)]


def backup_attribute(backup: Backup, filter_name: str) -> str | None:
    """The value of `backup` a DescribeBackups filter compares with its Values.

    Filter names the model allows that no emulated backup can match (data repository
    and file cache backups) yield None and so match nothing.
    """
    match filter_name:
        case "file-system-id":
            return backup.file_system_id
        case "volume-id":
            return backup.volume_id
        case "backup-type":
            return "USER_INITIATED"
        case "file-system-type":
            return backup.file_system_type
        case _:
            return None
