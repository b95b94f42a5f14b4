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

from collections.abc import Sequence

from fsx_backup_provider.aws.errors import FsxApiError
from fsx_backup_provider.aws.fsx import FsxClient, client_for, tag_map
from fsx_backup_provider.aws.restore_plan import (
    _BACKUP_ID,
    DEFAULT_TIMEOUT_SECONDS,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REFUSED,
    RESTORE_TEST_TAG,
    Progress,
    RestoreTestBusy,
    RestoreTestFailed,
    RestoreTestRefused,
    RestoreTestResult,
    input_problems,
    plan_restore,
)
from fsx_backup_provider.aws.restore_run import RestoreRun
from fsx_backup_provider.aws.session import Connection


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
        RestoreRun(client, result, timeout, say).run(plan, keep_restored)
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
        RestoreRun(client, result, timeout, say).clear_leftovers()
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
            RestoreRun(client, swept, timeout, say).clear_leftovers()
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
