"""What a restore test of a backup is: its plan, tags, token, result and checks, with no FSx call.

The run itself: restore_run.py; the entry points: restores.py.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fsx_backup_provider.aws.fsx import tag_map

# The tag that marks a file system or volume as a restore test of a backup (its value).
RESTORE_TEST_TAG = "fsx-backup:restore-test-of"
# The run that restored it: `<host>:<pid>:<epoch seconds by which that run gives up>`.
RUN_TAG = "fsx-backup:restore-test-run"
TOKEN_PREFIX = "fsxrt"
DEFAULT_TIMEOUT_SECONDS = 7200.0
# Each wait's bound at most; a run gives up by twice that and two minutes after it
# starts, so a RUN_TAG deadline later than that was never written by a restore test.
MAX_TIMEOUT_SECONDS = 7 * 24 * 3600.0
_LONGEST_RUN_SECONDS = 2 * MAX_TIMEOUT_SECONDS + 120
# How many tokens a run walks past (each names a restore an earlier run deleted).
MAX_GENERATIONS = 1000
# Polls are at least this far apart, at most MAX_POLL_SECONDS, and otherwise
# a fifth of the time waited so far; a progress line at least every PROGRESS_SECONDS.
MIN_POLL_SECONDS = 0.5
MAX_POLL_SECONDS = 15.0
PROGRESS_SECONDS = 30.0

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_REFUSED = 2
EXIT_INTERRUPTED = 130

FILE_SYSTEM_TYPES = {
    "LUSTRE": "LustreConfiguration",
    "WINDOWS": "WindowsConfiguration",
    "OPENZFS": "OpenZFSConfiguration",
}
_BACKUP_ID = re.compile(r"^backup-[0-9a-f]{8,}$")
_RESOURCE_ID = {
    "subnet": re.compile(r"^subnet-[0-9a-f]{8,}$"),
    "security group": re.compile(r"^sg-[0-9a-f]{8,}$"),
    "storage virtual machine": re.compile(r"^svm-[0-9a-f]{17,}$"),
}
_READY = {"file system": frozenset({"AVAILABLE"}), "volume": frozenset({"CREATED", "AVAILABLE"})}
_GONE_SOON = frozenset({"DELETING"})

Progress = Callable[[str], None]


class RestoreTestRefused(Exception):
    """The restore test cannot run as asked; nothing was created."""


class RestoreTestFailed(Exception):
    """The restore test ran and failed (the message says how)."""


class RestoreTestBusy(RestoreTestRefused):
    """Another run is restore-testing the same backup right now."""


@dataclass
class RestoreTestResult:
    """The outcome of a restore test; `to_json()` is what `restore-test --json` prints.

    `result` is `succeeded`, `failed` (exit code 1, or 2 when refused before
    anything was created) or `cancelled` (Ctrl-C, 130). `cleaned_up` is true
    when nothing this run restored is left in FSx.
    """

    backup_id: str
    result: str = "failed"
    exit_code: int = EXIT_FAILED
    restored_id: str | None = None
    restore_seconds: float | None = None
    cleaned_up: bool = True
    error: str | None = None
    kind: str | None = None
    leftovers_deleted: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "command": "restore-test",
            "backup_id": self.backup_id,
            "result": self.result,
            "exit_code": self.exit_code,
            "restored_id": self.restored_id,
            "restore_seconds": self.restore_seconds,
            "cleaned_up": self.cleaned_up,
            "error": self.error,
            "leftovers_deleted": list(self.leftovers_deleted),
        }


@dataclass(frozen=True)
class RestorePlan:
    """What to restore and where: from the backup's description and the overrides."""

    backup_id: str
    kind: str  # "file system" or "volume"
    file_system_type: str | None = None
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    svm_id: str | None = None


def restore_token(backup_id: str, generation: int) -> str:
    """`fsxrt-<32 hex>-g<n>`: FSx's 63 characters of `[A-Za-z0-9_.-]`, from the backup ID."""
    digest = hashlib.sha256(f"restore-test\x1f{backup_id}".encode()).hexdigest()
    return f"{TOKEN_PREFIX}-{digest[:32]}-g{generation}"


def restore_tags(backup_id: str, run: str | None = None) -> list[dict[str, str]]:
    tags = [
        {"Key": RESTORE_TEST_TAG, "Value": backup_id},
        {"Key": "Name", "Value": f"fsx-backup restore test of {backup_id}"},
    ]
    return tags + ([{"Key": RUN_TAG, "Value": run}] if run else [])


def _host() -> str:
    # A tag value is letters, digits, spaces and _.:/=+-@ (FSx's rule).
    return re.sub(r"[^A-Za-z0-9_.=+@-]", "_", socket.gethostname())[:120] or "unknown-host"


def run_tag(deadline: float, host: str | None = None, pid: int | None = None) -> str:
    """RUN_TAG's value for a run of this process, which gives up by `deadline` (epoch
    seconds); the last field tells two runs of one process (threads) apart."""
    pid = os.getpid() if pid is None else pid
    return f"{host or _host()}:{pid}:{math.ceil(deadline)}:{secrets.token_hex(4)}"


def _ended(tag: str) -> str:
    """The same run's tag with its time up: what it left is a leftover at once."""
    host, pid, _deadline, run_id = tag.rsplit(":", 3)
    return f"{host}:{pid}:0:{run_id}"


# Beyond this a tag was not written by a restore test (os.kill would overflow).
_MAX_PID = 2**31 - 1


def _process_exists(pid: int) -> bool:
    if not 0 < pid <= _MAX_PID:
        return False  # 0 and -1 would name a process group, not a run
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_in_progress(
    description: dict[str, Any] | None,
    *,
    own: str | None = None,
    now: Callable[[], float] = time.time,
    host: Callable[[], str] = _host,
    exists: Callable[[int], bool] = _process_exists,
) -> str | None:
    """Which run, other than `own`, is still at the restore test this resource is part
    of ("process P on host H until T"), or None when no run is: a leftover."""
    value = tag_map(description or {}).get(RUN_TAG)
    if not value or value == own:
        return None
    parts = value.rsplit(":", 3)
    if len(parts) != 4 or not (parts[1].isascii() and parts[1].isdigit()):
        return None  # not a tag a restore test wrote: no run to wait for
    if not (parts[2].isascii() and parts[2].isdigit()) or len(parts[1] + parts[2]) > 30:
        return None
    run_host, pid, deadline = parts[0], int(parts[1]), int(parts[2])
    current = now()
    if not current < deadline <= current + _LONGEST_RUN_SECONDS or pid > _MAX_PID:
        return None
    if run_host == host() and not exists(pid):
        return None
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(deadline))
    return f"process {pid} on host {run_host}, which gives up by {until}"


def is_own_restore(description: dict[str, Any] | None, backup_id: str) -> bool:
    """Whether a file system or volume is a restore test of `backup_id`, by its tag."""
    if not description:
        return False
    return tag_map(description).get(RESTORE_TEST_TAG) == backup_id


def plan_restore(
    backup: dict[str, Any],
    subnet_ids: tuple[str, ...] = (),
    security_group_ids: tuple[str, ...] = (),
    svm_id: str | None = None,
    region: str | None = None,
) -> RestorePlan:
    """The restore of `backup` in `region`, or RestoreTestRefused saying why there is none."""
    backup_id = str(backup.get("BackupId"))
    copied_from = backup.get("SourceBackupRegion")
    # A copy from another Region describes its source's network, which is not here.
    elsewhere = bool(copied_from and region and copied_from != region)
    lifecycle = backup.get("Lifecycle")
    if lifecycle != "AVAILABLE":
        raise RestoreTestRefused(
            f"backup {backup_id} is {lifecycle}: only an AVAILABLE backup can be restored; "
            "wait until it is AVAILABLE, then run the restore test again"
        )
    resource_type = backup.get("ResourceType") or "FILE_SYSTEM"
    source = backup.get("FileSystem") or {}
    if resource_type == "VOLUME":
        volume = backup.get("Volume") or {}
        if volume.get("VolumeType", "ONTAP") != "ONTAP":
            raise RestoreTestRefused(
                f"backup {backup_id} is of a {volume.get('VolumeType')} volume: restore tests "
                "restore ONTAP volume backups and Lustre, Windows and OpenZFS file system backups"
            )
        if subnet_ids or security_group_ids:
            raise RestoreTestRefused(
                f"backup {backup_id} is of an ONTAP volume, restored into a storage virtual "
                "machine: --subnet-id and --security-group-id apply to file system backups "
                "(use --svm-id)"
            )
        if elsewhere and not svm_id:
            raise RestoreTestRefused(
                f"backup {backup_id} is a copy from {copied_from}: its volume's storage virtual "
                f"machine is in that Region, not in {region}; give --svm-id of {region}"
            )
        svm = svm_id or (volume.get("OntapConfiguration") or {}).get("StorageVirtualMachineId")
        if not svm:
            raise RestoreTestRefused(
                f"backup {backup_id}'s description names no storage virtual machine: give --svm-id"
            )
        return RestorePlan(backup_id, "volume", svm_id=str(svm))
    if svm_id:
        raise RestoreTestRefused(
            f"backup {backup_id} is of a file system: --svm-id applies to ONTAP volume backups"
        )
    fs_type = source.get("FileSystemType")
    if fs_type not in FILE_SYSTEM_TYPES:
        raise RestoreTestRefused(
            f"backup {backup_id} is of a {fs_type} file system, which cannot be restored from a "
            "backup: restore tests restore Lustre, Windows and OpenZFS file system backups and "
            "ONTAP volume backups"
        )
    if elsewhere and not subnet_ids:
        raise RestoreTestRefused(
            f"backup {backup_id} is a copy from {copied_from}: its file system's subnets are in "
            f"that Region, not in {region}; give --subnet-id of {region}"
        )
    subnets = subnet_ids or tuple(source.get("SubnetIds") or ())
    if not subnets:
        raise RestoreTestRefused(
            f"backup {backup_id}'s description names no subnets of its file system: give "
            "--subnet-id"
        )
    return RestorePlan(
        backup_id,
        "file system",
        file_system_type=str(fs_type),
        subnet_ids=tuple(subnets),
        security_group_ids=tuple(security_group_ids),
    )


def input_problems(
    backup_id: str,
    subnet_ids: tuple[str, ...],
    security_group_ids: tuple[str, ...],
    svm_id: str | None,
    timeout: float,
) -> list[str]:
    problems = []
    if not _BACKUP_ID.match(backup_id):
        problems.append(f"--backup-id {backup_id!r} is not a backup ID (backup-<hex>)")
    named = [("subnet", s) for s in subnet_ids] + [
        ("security group", g) for g in security_group_ids
    ]
    if svm_id is not None:
        named.append(("storage virtual machine", svm_id))
    for what, value in named:
        if not _RESOURCE_ID[what].match(value):
            problems.append(f"{value!r} is not a {what} ID")
    if not (0 < timeout <= MAX_TIMEOUT_SECONDS):
        problems.append(
            f"--timeout must be a number of seconds more than 0 and at most "
            f"{MAX_TIMEOUT_SECONDS:g} (7 days), got {timeout:g}"
        )
    return problems
