"""Restore tests: prove that a backup restores, then leave nothing behind (docs/cli.md).

    from fsx_backup_provider import restore_test
    result = restore_test("backup-0123456789abcdef0", region="us-east-1")
    assert result.result == "succeeded", result.error

A file system backup (Lustre, Windows, OpenZFS) is restored with
CreateFileSystemFromBackup into the subnets of the file system it was taken
of; an ONTAP volume backup with CreateVolumeFromBackup into the volume's
storage virtual machine. The restored resource is waited on until it is
AVAILABLE (a volume: CREATED), then deleted with SkipFinalBackup (Windows and
OpenZFS file systems and ONTAP volumes otherwise take a final backup) and
waited on until it is gone. Every wait is bounded by `timeout`.

What a restore test creates carries the tag RESTORE_TEST_TAG = the backup's
ID, and a ClientRequestToken derived from the backup's ID (and a generation:
a token FSx still answers with a resource this test already deleted is passed
over). A run first deletes what an earlier, killed run of the same backup left
behind, found by that tag. Nothing is ever deleted whose fresh description
does not carry that tag with this backup's ID (`is_own_restore`).

A restore also carries RUN_TAG: the host and process of the run that made it
and the time by which that run gives up (`<host>:<pid>:<epoch seconds>`).
What another run of the same backup is still restoring is not a leftover: a
second, concurrent restore test of that backup is refused (exit 2, naming the
run) instead of deleting the first's restore under it. A restore is a
leftover once its run's time is up, or once its process is gone (same host).

Plain boto3 calls through the package's FSx client (fsx.py: its Region and
endpoint resolution, error mapping and retries); no Pulumi engine.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fsx_backup_provider.aws.errors import FsxApiError
from fsx_backup_provider.aws.fsx import FsxClient, client_for, tag_map
from fsx_backup_provider.aws.session import Connection

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


class _Run:
    """One restore test; its result fills in as it goes (read it after Ctrl-C too)."""

    def __init__(
        self,
        client: FsxClient,
        result: RestoreTestResult,
        timeout: float,
        progress: Progress,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.result = result
        self.timeout = timeout
        self.say = progress
        self.clock = clock
        self.sleep = sleep
        # This run's RUN_TAG: it gives up by then (the restore's and the delete's waits).
        self.run_tag = run_tag(time.time() + 2 * timeout + 120)

    # -- describing and deleting --------------------------------------------

    def describe(self, kind: str, resource_id: str) -> dict[str, Any] | None:
        if kind == "volume":
            return self.client.describe_volume(resource_id)
        return self.client.describe_file_system(resource_id)

    def delete(self, kind: str, resource_id: str) -> None:
        """Delete a restore of this backup, skipping the final backup. Never anything else."""
        backup_id = self.result.backup_id
        description = self.describe(kind, resource_id)
        if description is None:
            return
        if not is_own_restore(description, backup_id):
            raise RestoreTestFailed(
                f"{kind} {resource_id} is not tagged {RESTORE_TEST_TAG}={backup_id}: a restore "
                "test deletes only what it restored, so it was left as it is"
            )
        if description.get("Lifecycle") in _GONE_SOON:
            return
        if kind == "volume":
            self.client.delete_volume(
                {"VolumeId": resource_id, "OntapConfiguration": {"SkipFinalBackup": True}}
            )
            return
        fs_type = str(description.get("FileSystemType"))
        request: dict[str, Any] = {"FileSystemId": resource_id}
        member = FILE_SYSTEM_TYPES.get(fs_type)
        if member is not None:
            configuration: dict[str, Any] = {"SkipFinalBackup": True}
            if fs_type == "OPENZFS":
                # A restored OpenZFS file system has the backed-up one's child volumes,
                # and FSx deletes a file system with children only when told to.
                configuration["Options"] = ["DELETE_CHILD_VOLUMES_AND_SNAPSHOTS"]
            request[member] = configuration
        self.client.delete_file_system(request)

    def wait(
        self, kind: str, resource_id: str, done: Callable[[dict[str, Any] | None], bool], what: str
    ) -> tuple[dict[str, Any] | None, float]:
        """Poll until `done(description)`; (the last description, seconds waited).

        RestoreTestFailed when `self.timeout` passes first.
        """
        started = self.clock()
        deadline = started + self.timeout
        last_said = None
        shown = ""
        while True:
            description = self.describe(kind, resource_id)
            now = self.clock()
            lifecycle = "gone" if description is None else str(description.get("Lifecycle"))
            if done(description):
                return description, now - started
            if lifecycle != shown or last_said is None or now - last_said >= PROGRESS_SECONDS:
                self.say(
                    f"restore-test {self.result.backup_id}: {what} {kind} {resource_id}: "
                    f"{lifecycle}, {now - started:.0f} s of at most {self.timeout:g} s"
                )
                shown, last_said = lifecycle, now
            if now >= deadline:
                raise RestoreTestFailed(
                    f"{kind} {resource_id} was still {lifecycle} after {self.timeout:g} s "
                    f"(--timeout) while {what} it"
                )
            pause = min(MAX_POLL_SECONDS, max(MIN_POLL_SECONDS, (now - started) / 5))
            self.sleep(max(0.0, min(pause, deadline - now)))

    def delete_and_wait(self, kind: str, resource_id: str) -> None:
        self.delete(kind, resource_id)
        self.wait(kind, resource_id, lambda d: d is None, "deleting")

    # -- the steps ----------------------------------------------------------

    def leftovers(self) -> list[tuple[str, str]]:
        """(kind, ID) of every file system and volume tagged as a restore test of this backup."""
        backup_id = self.result.backup_id
        found = [
            ("file system", str(fs["FileSystemId"]))
            for fs in self.client.all_file_systems()
            if is_own_restore(fs, backup_id)
        ]
        found += [
            ("volume", str(volume["VolumeId"]))
            for volume in self.client.all_volumes()
            if is_own_restore(volume, backup_id)
        ]
        return found

    def refuse_if_busy(self) -> list[tuple[str, str]]:
        """The leftovers of this backup; RestoreTestBusy if another run is at one now."""
        found = self.leftovers()
        for kind, resource_id in found:
            busy = run_in_progress(self.describe(kind, resource_id), own=self.run_tag)
            if busy is not None:
                raise RestoreTestBusy(
                    f"another restore test of {self.result.backup_id} is running ({kind} "
                    f"{resource_id}, {busy}): nothing was created; run it again once that "
                    "one ended"
                )
        return found

    def clear_leftovers(self) -> None:
        for kind, resource_id in self.refuse_if_busy():
            self.say(
                f"restore-test {self.result.backup_id}: {kind} {resource_id} is left from an "
                "earlier restore test of this backup: deleting it first"
            )

            # One that is still being restored must be ready (or FAILED) before FSx deletes it.
            def settled(description: dict[str, Any] | None) -> bool:
                return description is None or description.get("Lifecycle") != "CREATING"

            self.wait(kind, resource_id, settled, "waiting to delete")
            self.delete_and_wait(kind, resource_id)
            self.result.leftovers_deleted.append(resource_id)

    def restore(self, plan: RestorePlan) -> tuple[str, dict[str, Any]]:
        """Start the restore; (its ID, its description)."""
        passed = set(self.result.leftovers_deleted)
        for generation in range(MAX_GENERATIONS):
            request: dict[str, Any] = {
                "BackupId": plan.backup_id,
                "ClientRequestToken": restore_token(plan.backup_id, generation),
                "Tags": restore_tags(plan.backup_id, self.run_tag),
            }
            try:
                if plan.kind == "volume":
                    request["Name"] = (
                        f"restore_test_{plan.backup_id[len('backup-') :]}_g{generation}"
                    )
                    request["OntapConfiguration"] = {"StorageVirtualMachineId": plan.svm_id}
                    description = self.client.create_volume_from_backup(request)
                    resource_id = str(description["VolumeId"])
                else:
                    request["SubnetIds"] = list(plan.subnet_ids)
                    if plan.security_group_ids:
                        request["SecurityGroupIds"] = list(plan.security_group_ids)
                    description = self.client.create_file_system_from_backup(request)
                    resource_id = str(description["FileSystemId"])
            except FsxApiError as error:
                # The token was used by an earlier run with other settings (other
                # subnets, say): what that run made is a leftover, deleted above.
                # Or another run started at the same moment made it, with its own
                # run tag: what is running is never restored a second time.
                if error.code == "IncompatibleParameterError":
                    self.refuse_if_busy()
                    continue
                raise
            # Two runs at once send the same token: the second is answered with
            # what the first is restoring.
            busy = run_in_progress(description, own=self.run_tag)
            if busy is not None:
                raise RestoreTestBusy(
                    f"another restore test of {plan.backup_id} is running ({plan.kind} "
                    f"{resource_id}, {busy}): run it again once that one ended"
                )
            # A token FSx still remembers answers with what it made, even once deleted.
            if (
                resource_id in passed
                or description.get("Lifecycle") in _GONE_SOON
                or not is_own_restore(description, plan.backup_id)
            ):
                continue
            return resource_id, description
        raise RestoreTestFailed(
            f"{MAX_GENERATIONS} restore tokens of {plan.backup_id} are all taken by earlier "
            "restore tests"
        )

    def run(self, plan: RestorePlan, keep_restored: bool) -> None:
        result = self.result
        result.kind = plan.kind
        self.clear_leftovers()
        where = (
            f"storage virtual machine {plan.svm_id}"
            if plan.kind == "volume"
            else f"subnets {', '.join(plan.subnet_ids)}"
        )
        self.say(f"restore-test {plan.backup_id}: restoring the {plan.kind} into {where}")
        started = self.clock()
        resource_id, _ = self.restore(plan)
        result.restored_id = resource_id
        result.cleaned_up = False
        try:
            self._test(plan, resource_id, started, keep_restored)
        finally:
            if not result.cleaned_up:
                self.release(plan.kind, resource_id)

    def release(self, kind: str, resource_id: str) -> None:
        """Mark what this run leaves as no longer in its hands: the next run's leftover
        at once, although this process (a caller of restore_test()) lives on."""
        try:
            description = self.describe(kind, resource_id)
            if description and is_own_restore(description, self.result.backup_id):
                ended = _ended(self.run_tag)
                self.client.tag_resource(str(description["ResourceARN"]), {RUN_TAG: ended})
        except FsxApiError as error:
            self.say(
                f"restore-test {self.result.backup_id}: could not mark {resource_id} as "
                f"left: {error}"
            )

    def _test(
        self, plan: RestorePlan, resource_id: str, started: float, keep_restored: bool
    ) -> None:
        """Wait until the restore is ready (or failed), then delete it unless kept."""
        result = self.result
        ready = _READY[plan.kind]

        def settled(description: dict[str, Any] | None) -> bool:
            return description is None or description.get("Lifecycle") != "CREATING"

        description, _ = self.wait(plan.kind, resource_id, settled, "restoring")
        result.restore_seconds = round(self.clock() - started, 1)
        lifecycle = None if description is None else description.get("Lifecycle")
        failure = None
        if lifecycle not in ready:
            details = (description or {}).get("FailureDetails") or (description or {}).get(
                "LifecycleTransitionReason"
            )
            why = f": {details['Message']}" if details and details.get("Message") else ""
            failure = f"the restored {plan.kind} {resource_id} ended {lifecycle or 'gone'}{why}"
            self.say(f"restore-test {plan.backup_id}: {failure}")
        else:
            self.say(
                f"restore-test {plan.backup_id}: {plan.kind} {resource_id} is {lifecycle} after "
                f"{result.restore_seconds:g} s"
            )
        if keep_restored and failure is None:
            self.say(f"restore-test {plan.backup_id}: kept {plan.kind} {resource_id}")
        else:
            self.delete_and_wait(plan.kind, resource_id)
            result.cleaned_up = True
            self.say(f"restore-test {plan.backup_id}: deleted {plan.kind} {resource_id}")
        if failure is not None:
            raise RestoreTestFailed(failure)


def run_restore_test(
    result: RestoreTestResult,
    *,
    subnet_ids: tuple[str, ...] = (),
    security_group_ids: tuple[str, ...] = (),
    svm_id: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    keep_restored: bool = False,
    progress: Progress | None = None,
) -> RestoreTestResult:
    """Run the restore test of `result.backup_id`, filling `result` in as it goes.

    KeyboardInterrupt passes through, with `result` holding what was done so far.
    """
    say = progress or (lambda _line: None)
    backup_id = result.backup_id
    problems = input_problems(backup_id, subnet_ids, security_group_ids, svm_id, timeout)
    if problems:
        return _finish(result, EXIT_REFUSED, "; ".join(problems))
    try:
        client = client_for(Connection(region=region, profile=profile, endpoint_url=endpoint_url))
    except FsxApiError as error:
        return _finish(result, EXIT_REFUSED, error.message)
    try:
        backup = client.describe_backups([backup_id]).get(backup_id)
        if backup is None:
            # What an earlier restore test of it left (a timeout, --keep-restored)
            # would otherwise stay for ever: nothing else names it any more.
            _clear_leftovers_of_a_gone_backup(client, result, timeout, say)
            raise RestoreTestRefused(f"backup {backup_id} was not found in Region {client.region}")
        plan = plan_restore(backup, subnet_ids, security_group_ids, svm_id, client.region)
    except RestoreTestRefused as refused:
        return _finish(result, EXIT_REFUSED, str(refused))
    except FsxApiError as error:
        return _finish(result, EXIT_FAILED, str(error))
    try:
        _Run(client, result, timeout, say).run(plan, keep_restored)
    except RestoreTestBusy as busy:
        return _finish(result, EXIT_REFUSED, str(busy))
    except (RestoreTestFailed, FsxApiError) as error:
        if result.restored_id is not None and not result.cleaned_up:
            say(
                f"restore-test {backup_id}: {result.kind} {result.restored_id} is left in FSx; "
                "the next restore test of this backup deletes it first"
            )
        return _finish(result, EXIT_FAILED, str(error))
    return _finish(result, EXIT_OK, None)


def _clear_leftovers_of_a_gone_backup(
    client: FsxClient, result: RestoreTestResult, timeout: float, say: Progress
) -> None:
    try:
        _Run(client, result, timeout, say).clear_leftovers()
    except (RestoreTestFailed, FsxApiError) as error:
        say(f"restore-test {result.backup_id}: could not delete what it left: {error}")


def clear_leftovers_of_gone_backups(
    *,
    also: Sequence[str] = (),
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    progress: Progress | None = None,
) -> list[str]:
    """Delete what restore tests of backups that no longer exist left in the Region
    (a rotation deleted them, say: no later restore test of theirs would); the IDs
    deleted. A restore is restored in its backup's Region, so a backup FSx does not
    know there is gone. `also`: backups about to be deleted (FSx refuses to delete a
    backup while a restore of it is CREATING). Failures are said, not raised, and the
    next call tries again.
    """
    say = progress or (lambda _line: None)
    deleted: list[str] = []
    try:
        client = client_for(Connection(region=region, profile=profile, endpoint_url=endpoint_url))
        tagged = {
            tag_map(resource).get(RESTORE_TEST_TAG, "")
            for resource in (*client.all_file_systems(), *client.all_volumes())
        }
        tagged = {backup_id for backup_id in tagged if _BACKUP_ID.match(backup_id)}
        live = set(client.describe_backups(sorted(tagged))) - set(also)
        gone = sorted(tagged - live)
    except Exception as error:  # a sweep is a courtesy: it never fails the caller
        say(f"restore-test: could not look for what restore tests left: {error}")
        return deleted
    for backup_id in gone:
        swept = RestoreTestResult(backup_id)
        try:
            _Run(client, swept, timeout, say).clear_leftovers()
        except Exception as error:
            say(f"restore-test {backup_id}: what restore tests of it left stays for now: {error}")
        deleted += swept.leftovers_deleted
    return deleted


def _finish(result: RestoreTestResult, exit_code: int, error: str | None) -> RestoreTestResult:
    result.exit_code = exit_code
    result.result = "succeeded" if exit_code == EXIT_OK else "failed"
    result.error = error
    return result


def restore_test(
    backup_id: str,
    *,
    subnet_ids: tuple[str, ...] | list[str] = (),
    security_group_ids: tuple[str, ...] | list[str] = (),
    svm_id: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    keep_restored: bool = False,
    progress: Progress | None = None,
) -> RestoreTestResult:
    """Restore `backup_id`, wait until it is ready, delete it again; the result says how it went.

    Never raises for a failed or refused test: read `result` (`succeeded` or
    `failed`) and `exit_code` (0; 1 failed; 2 refused, nothing created).
    `progress` receives one line per step and per change of lifecycle.
    """
    return run_restore_test(
        RestoreTestResult(backup_id),
        subnet_ids=tuple(subnet_ids),
        security_group_ids=tuple(security_group_ids),
        svm_id=svm_id,
        region=region,
        endpoint_url=endpoint_url,
        profile=profile,
        timeout=timeout,
        keep_restored=keep_restored,
        progress=progress,
    )
