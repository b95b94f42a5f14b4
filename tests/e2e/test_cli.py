"""`fsx-backup` end to end: the console script's main(), the real engine and the emulator.

Each test gets its own file backend and PULUMI_HOME under tmp_path; the FSx
endpoint and region come from the command line exactly as a user gives them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fsx_backup_provider.cli import main
from fsx_backup_provider.cli.render import EXIT_CHANGES, EXIT_FAILED, EXIT_OK, EXIT_USAGE
from fsx_backup_provider.core.holder import without_holder
from tests.e2e.cli_env import cli_command, isolate, live_backups

MUTATING = ("CreateBackup", "DeleteBackup", "TagResource", "UntagResource")
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli_args(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsx: Any, pulumi_env: dict[str, str]
) -> list[str]:
    """The flags every run shares; the environment holds only dummy AWS credentials.

    `pulumi_env` is asked for only so that a missing engine fails loudly here.
    """
    return isolate(monkeypatch, tmp_path, fsx)


@pytest.fixture
def cli(cli_args: list[str], capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run main() in this process: (exit code, stdout, stderr).

    `cancel` takes only the stack's flags (its lock is not an AWS matter).
    """

    def run(*args: str, stack: str = "cli-test") -> tuple[int, str, str]:
        capsys.readouterr()
        flags = cli_args[:2] if args[0] == "cancel" else cli_args
        code = main([*args, "--stack", stack, *flags])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def tags_of(backup: dict[str, Any]) -> dict[str, str]:
    # As declared: less the provider's own fsx-backup:stack tag (test_ownership.py).
    return without_holder({t["Key"]: t["Value"] for t in backup.get("Tags", [])})


def write_spec(path: Path, fs_id: str, vol_id: str, env: str) -> None:
    path.write_text(
        f"""# declared backups for fsx-backup
backups:
  - name: nightly
    fileSystemId: {fs_id}
    tags:
      Name: nightly
      Env: {env}
  - name: volume
    volumeId: {vol_id}
"""
    )


def mutating_calls(fsx: Any, before: dict[str, int]) -> dict[str, int]:
    now = fsx.calls()
    return {
        op: now.get(op, 0) - before.get(op, 0)
        for op in MUTATING
        if now.get(op, 0) != before.get(op, 0)
    }


def test_up_preview_update_refresh_destroy(fsx: Any, cli: Cli, tmp_path: Path) -> None:
    fs_id = fsx.create_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    vol_id = fsx.create_ontap_volume(name="vol1")
    spec = tmp_path / "backups.yaml"
    write_spec(spec, fs_id, vol_id, "dev")
    # Long enough backups that the provider reports them CREATING on the way.
    fsx.set_faults(backup_seconds=3)

    code, out, err = cli("up", "--file", str(spec), "--json")
    assert code == EXIT_OK, err
    report = json.loads(out)
    assert report["command"] == "up" and report["stack"] == "cli-test"
    assert report["result"] == "succeeded" and report["exit_code"] == 0
    # Two backups, the seed, the ledger and the stack.
    assert report["resource_changes"] == {"create": 5}
    assert report["changes"] == {"nightly": "create", "volume": "create"}
    backups = report["backups"]
    assert set(backups) == {"nightly", "volume"}
    live = live_backups(fsx)
    assert set(live) == {b["backup_id"] for b in backups.values()}
    assert all(b["Lifecycle"] == "AVAILABLE" for b in live.values())
    nightly = backups["nightly"]
    assert nightly["lifecycle"] == "AVAILABLE"
    assert nightly["arn"] == live[nightly["backup_id"]]["ResourceARN"]
    assert nightly["tags"] == {"Name": "nightly", "Env": "dev"}
    assert live[backups["volume"]["backup_id"]]["ResourceType"] == "VOLUME"
    # Progress went to stderr while the creates waited; stdout is only the JSON.
    assert re.search(r"^nightly: backup-[0-9a-f]+: CREATING \d+%$", err, re.M), err
    assert re.search(r"^volume: backup-[0-9a-f]+: CREATING \d+%$", err, re.M), err
    assert "nightly: create done (" in err

    fsx.set_faults(backup_seconds=0)
    before = fsx.calls()
    code, out, err = cli("preview", "--file", str(spec))
    assert code == EXIT_OK, err
    assert "preview succeeded, no changes" in out
    assert re.search(rf"^nightly\s+same\s+{nightly['backup_id']}\s+AVAILABLE\s+arn:", out, re.M)
    assert mutating_calls(fsx, before) == {}

    write_spec(spec, fs_id, vol_id, "prod")
    code, out, err = cli("preview", "--file", str(spec), "--json")
    assert code == EXIT_CHANGES, err
    planned = json.loads(out)
    assert planned["exit_code"] == EXIT_CHANGES
    assert planned["changes"] == {"nightly": "update"}
    assert planned["resource_changes"] == {"update": 1, "same": 4}
    assert mutating_calls(fsx, before) == {}

    code, out, err = cli("up", "--file", str(spec))
    assert code == EXIT_OK, err
    assert re.search(rf"^nightly\s+update\s+{nightly['backup_id']}\s+AVAILABLE", out, re.M), out
    assert mutating_calls(fsx, before) == {"TagResource": 1}
    assert tags_of(live_backups(fsx)[nightly["backup_id"]]) == {"Name": "nightly", "Env": "prod"}

    # Retagged behind the stack's back: refresh brings the change into the state.
    fsx.client().tag_resource(
        ResourceARN=nightly["arn"], Tags=[{"Key": "Env", "Value": "hijacked"}]
    )
    code, out, err = cli("refresh", "--json")
    assert code == EXIT_OK, err
    refreshed = json.loads(out)
    assert refreshed["result"] == "succeeded"
    assert refreshed["backups"]["nightly"]["tags"] == {"Name": "nightly", "Env": "hijacked"}
    assert refreshed["backups"]["nightly"]["backup_id"] == nightly["backup_id"]

    code, out, err = cli("destroy", "--json")
    assert code == EXIT_OK, err
    destroyed = json.loads(out)
    assert destroyed["backups"] == {}
    assert destroyed["changes"] == {"nightly": "delete", "volume": "delete"}
    assert destroyed["deleted"] == {
        "nightly": nightly["backup_id"],
        "volume": backups["volume"]["backup_id"],
    }
    assert live_backups(fsx) == {}

    # Destroy of a stack that does not exist is a usage error: nothing to do.
    code, _out, err = cli("destroy", stack="never-made")
    assert code == EXIT_USAGE and "does not exist" in err


def test_up_refresh_notices_a_backup_deleted_outside(fsx: Any, cli: Cli) -> None:
    fs_id = fsx.create_file_system("WINDOWS")
    fsx.set_faults(backup_seconds=0)
    declared = ("--backup", f"kept={fs_id}", "--json")
    code, out, err = cli("up", *declared)
    assert code == EXIT_OK, err
    first = json.loads(out)["backups"]["kept"]["backup_id"]
    fsx.client().delete_backup(BackupId=first)

    # Without --refresh the state still holds the deleted backup: the run says so,
    # and changes nothing.
    code, out, err = cli("up", *declared)
    assert code == EXIT_FAILED, err
    stale = json.loads(out)
    assert f"backup {first} of this resource is gone from FSx" in stale["error"]
    assert "up --refresh" in stale["error"]

    # With it, the engine reads FSx first, drops the backup and makes it again.
    before = fsx.calls()
    code, out, err = cli("up", "--refresh", *declared)
    assert code == EXIT_OK, err
    refreshed = json.loads(out)
    assert refreshed["changes"] == {"kept": "create"} and refreshed["deleted"] == {}
    assert f"kept: gone from FSx ({first}), deleted outside this run" in err
    again = refreshed["backups"]["kept"]["backup_id"]
    assert again != first
    assert set(live_backups(fsx)) == {again}
    # (Two CreateBackups: the token of the deleted backup, then the next generation's.)
    assert set(mutating_calls(fsx, before)) == {"CreateBackup"}

    # `refresh` alone drops a backup deleted outside and says so; it deleted nothing.
    fsx.client().delete_backup(BackupId=again)
    code, out, err = cli("refresh", "--json")
    assert code == EXIT_OK, err
    dropped = json.loads(out)
    assert dropped["changes"] == {"kept": "delete"} and dropped["deleted"] == {}
    assert dropped["backups"] == {}
    assert f"kept: gone from FSx ({again}), deleted outside this run" in err
    assert "delete done" not in err


def test_bad_spec_exits_2_without_calling_fsx(fsx: Any, cli: Cli, tmp_path: Path) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    before = fsx.calls()
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        f"""backups:
  - name: a
    fileSystemId: {fs_id}
  - name: a
    volumeId: fsvol-123
"""
    )
    code, out, err = cli("up", "--file", str(spec), "--backup", "b=fs-12,Owner=me")
    assert code == EXIT_USAGE
    assert out == ""
    assert "backups[1] ('a'): name 'a' is already used by" in err
    assert "backups[1] ('a'): volumeId: 'fsvol-123' must be" in err
    assert "--backup #1 ('b'): fileSystemId: 'fs-12' must be" in err
    assert fsx.calls() == before
    assert not (tmp_path / "state").exists()


def test_failed_backup_exits_1_with_the_engine_error(fsx: Any, cli: Cli) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    fsx.set_faults(backup_seconds=0, fail_next_backups={fs_id: "the storage array caught fire"})
    code, out, err = cli("up", "--backup", f"doomed={fs_id}", "--json")
    assert code == EXIT_FAILED
    report = json.loads(out)
    assert report["result"] == "failed" and report["exit_code"] == EXIT_FAILED
    assert report["backups"] == {}
    assert "doomed: FsxBackupError:" in report["error"]
    assert "the storage array caught fire" in report["error"]
    assert "Traceback" not in report["error"]
    assert "the storage array caught fire" in err
    assert live_backups(fsx) == {}


def test_module_entry_point_in_a_subprocess(fsx: Any, cli_args: list[str]) -> None:
    fs_id = fsx.create_file_system("WINDOWS")
    fsx.set_faults(backup_seconds=0)
    command = cli_command()
    flags = ["--backup", f"solo={fs_id},Name=solo", "--tag", "Team=storage", *cli_args]

    preview = subprocess.run(
        [*command, "preview", *flags], env=dict(os.environ), capture_output=True, text=True
    )
    assert preview.returncode == EXIT_CHANGES, preview.stderr
    assert re.search(r"^solo\s+create\s+-", preview.stdout, re.M), preview.stdout

    up = subprocess.run(
        [*command, "up", "--json", *flags], env=dict(os.environ), capture_output=True, text=True
    )
    assert up.returncode == EXIT_OK, up.stderr
    [backup] = live_backups(fsx).values()
    assert json.loads(up.stdout)["backups"]["solo"]["backup_id"] == backup["BackupId"]
    assert tags_of(backup) == {"Name": "solo", "Team": "storage"}


def test_names_the_backend_would_read_as_paths_are_refused(
    fsx: Any, cli_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`--stack .` and `--project .` once shared `.pulumi/stacks/fsx-backup.json`: the
    second run's up deleted the first's backup. Each is refused now, and nothing
    that either could have reached is touched."""
    fs_id = fsx.create_file_system("WINDOWS")
    fsx.set_faults(backup_seconds=0)
    declared = ["--backup", f"kept={fs_id}", "--json", *cli_args]
    capsys.readouterr()
    assert main(["up", "--project", "fsx-backup", "--stack", "fsx-backup", *declared]) == EXIT_OK
    [kept] = live_backups(fsx)
    before = fsx.calls()
    state = Path(cli_args[1].removeprefix("file://")) / ".pulumi"
    files = sorted(p.relative_to(state) for p in state.rglob("*.json"))
    for project, stack in (("fsx-backup", "."), (".", "fsx-backup"), ("..", "dev"), ("x", "..")):
        capsys.readouterr()
        code = main(["up", "--project", project, "--stack", stack, *declared])
        out, err = capsys.readouterr()
        assert code == EXIT_USAGE, err
        [problem] = json.loads(out)["problems"]
        assert "not '.' or '..'" in problem and ".pulumi/stacks/<project>/<stack>.json" in problem
    assert mutating_calls(fsx, before) == {}
    assert set(live_backups(fsx)) == {kept}
    assert sorted(p.relative_to(state) for p in state.rglob("*.json")) == files
