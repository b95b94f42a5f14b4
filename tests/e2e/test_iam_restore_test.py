"""`restore_test` as a user holding the policy of docs/iam.md ("Restore tests").

The emulator's own tests (tests/emulator/test_iam_restores.py) prove each action of
that policy is judged; these prove the policy is what the provider's restore test,
as it is coded, needs: it runs with the policy, and fails naming any action taken out.
"""

from __future__ import annotations

from typing import Any

import pytest

from fsx_backup_provider.aws import fsx as fsx_module
from fsx_backup_provider.aws.restore_plan import RestoreTestResult, is_own_restore
from fsx_backup_provider.aws.restores import restore_test
from tests.emulator.test_iam_restores import (
    REGION,
    World,
    actions_of,
    restore_test_policy,
    without,
    world,
)

__all__ = ["world"]  # the module-scoped fixture, shared with the emulator's tests


# ---- fsx-backup restore-test itself, as a user holding the policy ----------------------


def run_as(
    world: World, monkeypatch: pytest.MonkeyPatch, name: str, policy: dict[str, Any], backup: str
) -> RestoreTestResult:
    key = world.user_key(name, policy)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    for variable in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    # The package keeps one client per connection: this user's keys need their own.
    monkeypatch.setattr(fsx_module, "_clients", {})
    return restore_test(backup, region=REGION, endpoint_url=world.endpoint_url, timeout=60)


def clean_up_restore_tests(world: World) -> None:
    """What a denied restore test left, deleted by the administrator."""
    admin = world.admin.client()
    for fs in admin.describe_file_systems()["FileSystems"]:
        if is_own_restore(dict(fs), world.file_system_backup) and fs["Lifecycle"] != "DELETING":
            admin.delete_file_system(
                FileSystemId=fs["FileSystemId"], LustreConfiguration={"SkipFinalBackup": True}
            )
    for volume in admin.describe_volumes()["Volumes"]:
        if is_own_restore(dict(volume), world.volume_backup) and volume["Lifecycle"] != "DELETING":
            admin.delete_volume(
                VolumeId=volume["VolumeId"], OntapConfiguration={"SkipFinalBackup": True}
            )


def test_the_policy_runs_fsx_backup_restore_test(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The policy of the page is enough for `restore_test` as it is coded, both kinds."""
    policy = restore_test_policy()
    backups_before = {b["BackupId"] for b in world.admin.client().describe_backups()["Backups"]}
    for backup in (world.file_system_backup, world.volume_backup):
        result = run_as(world, monkeypatch, f"tester-{backup[-6:]}", policy, backup)
        assert (result.exit_code, result.cleaned_up) == (0, True), result.error
        assert result.restored_id is not None
    backups_after = {b["BackupId"] for b in world.admin.client().describe_backups()["Backups"]}
    assert backups_after == backups_before


@pytest.mark.parametrize("action", actions_of(restore_test_policy()))
def test_restore_test_without_an_action_of_the_policy_fails_naming_it(
    world: World, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    """Each action of the policy is one `restore_test` needs, for one kind or the other."""
    policy = without(restore_test_policy(), action)
    name = f"tester-without-{action.removeprefix('fsx:').lower()}"
    errors = []
    try:
        for backup in (world.file_system_backup, world.volume_backup):
            result = run_as(world, monkeypatch, f"{name}-{backup[-6:]}", policy, backup)
            if result.exit_code != 0:
                errors.append(str(result.error))
    finally:
        clean_up_restore_tests(world)
    assert any(f"not authorized to perform: {action}" in error for error in errors), errors
