"""What every resource of this provider does the same way, in the provider process:
the error users see, the wait for AVAILABLE with progress, and delete-and-wait.

Beside it in core/: ownership.py (which backups and tokens the stack holds
or held), gates.py (how many creates at a time), process.py (what the
provider process shares) and claims.py (the create under a stable token).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from fsx_backup_provider.aws.errors import FsxApiError
from fsx_backup_provider.aws.fsx import FINAL_LIFECYCLES, Backup
from fsx_backup_provider.aws.poller import BackupPoller, Progress, WaitTimeout
from fsx_backup_provider.host.progress import report
from fsx_backup_provider.host.watchdog import engine_gone
from fsx_backup_provider.version import stamp

DEFAULT_CREATE_TIMEOUT = 1800.0
DEFAULT_DELETE_TIMEOUT = 1800.0
# The shortest time between two DescribeBackups rounds; most rounds are
# further apart (the poller goes by each backup's progress).
POLL_INTERVAL_SECONDS = 0.5
# Backoff while FSx says "not now" for a reason outside this process
# (another backup of the source, the copy limit, a source being copied).
BACKOFF_START_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 30.0


class FsxBackupError(Exception):
    """A failure the user must see: names the backup or token and what to do."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        stamp(self)


# The dynamic provider host shows the engine `traceback.format_exc()`, whose
# last line names the exception's class by module: the package's name reads best.
FsxBackupError.__module__ = "fsx_backup_provider"


def settled(backup: Backup | None) -> bool:
    """FSx no longer knows the backup, or it will not change by itself any more."""
    return backup is None or backup.get("Lifecycle") in FINAL_LIFECYCLES


def gone(backup: Backup | None) -> bool:
    return backup is None or backup.get("Lifecycle") == "DELETED"


def remaining(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.0)


def backoff(start: float = BACKOFF_START_SECONDS) -> Iterator[float]:
    delay = start
    while True:
        yield delay
        delay = min(delay * 2, BACKOFF_MAX_SECONDS)


def progress_reporter(urn: Any) -> Progress:
    """Report each change of lifecycle or ProgressPercent of the resource at `urn`, once."""
    last: tuple[Any, Any] | None = None

    def progress(backup: Backup) -> None:
        nonlocal last
        seen = (backup.get("Lifecycle"), backup.get("ProgressPercent"))
        if seen == last:
            return
        last = seen
        percent = f" {seen[1]}%" if seen[1] is not None else ""
        report(urn, f"{backup['BackupId']}: {seen[0]}{percent}")

    return progress


def ensure_engine(what: str) -> None:
    """Raise instead of changing FSx once the engine that asked for the change is gone.

    A provider outlives a killed engine for a moment (host/watchdog.py ends
    it); nothing it sends then is recorded anywhere, so it sends nothing.
    """
    if engine_gone():
        raise FsxBackupError(
            f"{what} was not sent to FSx: the Pulumi engine that asked for it is gone "
            "(killed or crashed). Nothing was changed; run the command again."
        )


def wait_available(
    poller: BackupPoller,
    backup: Backup,
    token: str | None,
    deadline: float,
    progress: Progress | None,
) -> Backup:
    """Wait until the backup leaves its in-progress lifecycles; FsxBackupError if not in time."""
    backup_id = backup["BackupId"]
    try:
        final = poller.wait_for(backup_id, settled, timeout=remaining(deadline), progress=progress)
    except FsxApiError as error:
        raise FsxBackupError(
            f"could not follow backup {backup_id} (token {token!r}) while it is created: "
            f"{error}. The backup is left in FSx; once this is fixed, re-running "
            "`pulumi up` resumes waiting on this same backup."
        ) from None
    except WaitTimeout as timeout:
        last = timeout.last or backup
        lifecycle, percent = last.get("Lifecycle"), last.get("ProgressPercent")
        raise FsxBackupError(
            f"backup {backup_id} (token {token!r}) is still {lifecycle}"
            + (f" at {percent}%" if percent is not None else "")
            + " after create_timeout_seconds. It is left in FSx and is not lost: "
            "re-running `pulumi up` resumes waiting on this same backup (the token "
            "finds it again); raise create_timeout_seconds if these backups take longer."
        ) from None
    if final is None or final.get("Lifecycle") == "DELETED":
        raise FsxBackupError(
            f"backup {backup_id} (token {token!r}) was deleted outside Pulumi while it "
            "was being created. Run `pulumi up` again to create a new one."
        )
    return final


# -- delete ---------------------------------------------------------------------


def delete_and_wait(
    delete: Callable[[], str],
    poller: BackupPoller,
    backup_id: str,
    timeout: float,
    urn: Any = None,
    cancelled: threading.Event | None = None,
) -> None:
    """DeleteBackup, waiting out what FSx says must finish first, then wait until it is gone.

    BackupNotFound counts as done. BackupInProgress (the backup is still
    being created) is waited out through the poller; BackupBeingCopied (a
    copy of it is being made, perhaps in another Region) and BackupRestoring
    (a file system or volume is being restored from it: a restore test, say)
    with a backoff, as FSx does not follow either through the backup; a set
    `cancelled` (the engine's Ctrl-C) ends that wait.
    """
    cancelled = cancelled or threading.Event()
    deadline = time.monotonic() + timeout
    delays = backoff()
    while True:
        ensure_engine(f"the request to delete backup {backup_id}")
        try:
            lifecycle = delete()
            break
        except FsxApiError as error:
            if error.code == "BackupNotFound":
                return
            if error.code not in ("BackupInProgress", "BackupBeingCopied", "BackupRestoring"):
                raise FsxBackupError(f"could not delete backup {backup_id}: {error}") from None
            if remaining(deadline) <= 0:
                raise FsxBackupError(
                    f"backup {backup_id} could not be deleted before delete_timeout_seconds ran "
                    f"out (FSx: {error.code}); run `pulumi destroy` (or up) again."
                ) from None
            if error.code in ("BackupBeingCopied", "BackupRestoring"):
                what = "a copy of it" if error.code == "BackupBeingCopied" else "a restore of it"
                delay = min(next(delays), remaining(deadline))
                report(urn, f"{backup_id}: waiting {delay:.0f} s for {what} to finish")
                if cancelled.wait(delay):
                    raise FsxBackupError(
                        f"backup {backup_id} was not deleted: the run was cancelled (Ctrl-C) "
                        f"while {what} was being made; run `pulumi destroy` again."
                    ) from None
                continue
        try:
            poller.wait_for(backup_id, settled, timeout=remaining(deadline))
        except WaitTimeout:
            raise FsxBackupError(
                f"backup {backup_id} stayed in progress until delete_timeout_seconds ran "
                "out and could not be deleted; run `pulumi destroy` (or up) again."
            ) from None
        except FsxApiError as error:
            raise FsxBackupError(
                f"could not wait for backup {backup_id} before deleting it: {error}"
            ) from None
    if lifecycle == "DELETED":
        # DELETED is final: FSx may list the backup a while longer, but it
        # never comes back, so there is nothing left to wait for.
        return
    try:
        poller.wait_for(backup_id, gone, timeout=remaining(deadline))
    except WaitTimeout:
        raise FsxBackupError(
            f"backup {backup_id} was asked to delete but is still there after "
            "delete_timeout_seconds; run `pulumi destroy` again to keep waiting."
        ) from None
    except FsxApiError as error:
        raise FsxBackupError(
            f"backup {backup_id} was asked to delete, but could not be followed: {error}"
        ) from None


def whole_number(value: Any) -> int | None:
    # Pulumi carries every number as a float; 3.0 in the state is the int 3.
    if isinstance(value, int | float) and not isinstance(value, bool) and value == int(value):
        return int(value)
    return None


def timeout_of(props: Mapping[str, Any], key: str, default: float) -> float:
    value = props.get(key)
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )
