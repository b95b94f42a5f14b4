"""One restore test run: restore a backup, wait, check, delete what it made (restores.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fsx_backup_provider.aws.errors import FsxApiError
from fsx_backup_provider.aws.fsx import FsxClient
from fsx_backup_provider.aws.restore_plan import (
    _GONE_SOON,
    _READY,
    FILE_SYSTEM_TYPES,
    MAX_GENERATIONS,
    MAX_POLL_SECONDS,
    MIN_POLL_SECONDS,
    PROGRESS_SECONDS,
    RESTORE_TEST_TAG,
    RUN_TAG,
    Progress,
    RestorePlan,
    RestoreTestBusy,
    RestoreTestFailed,
    RestoreTestResult,
    _ended,
    is_own_restore,
    restore_tags,
    restore_token,
    run_in_progress,
    run_tag,
)


class RestoreRun:
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
