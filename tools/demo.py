"""`make demo`: the main job, toured on the local FSx emulator.

Start the emulator; create a Lustre PERSISTENT file system and an ONTAP volume
through boto3; `pulumi up` the top-level stack (Pulumi.yaml, __main__.py) with
a backup of each; `pulumi preview` (no changes); change a tag in the stack
config and `pulumi up` (updated in place, same backup IDs); `pulumi destroy`;
then a short rotation (`fsx-backup rotate`: three daily runs, keep 2, each
kept backup copied to another Region) and its destroy; stop the emulator.
Every step's result is printed and checked: the demo exits non-zero if any
step does not do what it should.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import boto3
from pulumi import automation as auto

from fsx_backup_provider.cli import main as fsx_backup_main
from fsx_emulator import EmulatorProcess
from tools.workspace import EMULATOR_CREDENTIALS, preview_first

ROOT = Path(__file__).resolve().parent.parent
STACK = "demo"
ROTATION_STACK = "demo-rotation"
REGION = "us-east-1"
DR_REGION = "eu-west-1"
SUBNET = "subnet-0123456789abcdef0"


class DemoFailed(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise DemoFailed(what)
    print(f"   ok: {what}")


def seed_sources(endpoint_url: str) -> tuple[str, str]:
    fsx = boto3.client("fsx", endpoint_url=endpoint_url, region_name=REGION)
    lustre = fsx.create_file_system(
        FileSystemType="LUSTRE",
        StorageCapacity=1200,
        SubnetIds=[SUBNET],
        LustreConfiguration={"DeploymentType": "PERSISTENT_2", "PerUnitStorageThroughput": 125},
        Tags=[{"Key": "Name", "Value": "demo-lustre"}],
    )["FileSystem"]["FileSystemId"]
    ontap = fsx.create_file_system(
        FileSystemType="ONTAP",
        StorageCapacity=1024,
        SubnetIds=[SUBNET],
        OntapConfiguration={"DeploymentType": "SINGLE_AZ_1", "ThroughputCapacity": 128},
    )["FileSystem"]["FileSystemId"]
    svm = fsx.create_storage_virtual_machine(FileSystemId=ontap, Name="demo-svm")[
        "StorageVirtualMachine"
    ]["StorageVirtualMachineId"]
    volume = fsx.create_volume(
        VolumeType="ONTAP",
        Name="demo_volume",
        OntapConfiguration={
            "StorageVirtualMachineId": svm,
            "JunctionPath": "/demo",
            "SizeInMegabytes": 1024,
        },
    )["Volume"]["VolumeId"]
    return lustre, volume


def backups_config(lustre: str, volume: str, env_tag: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "lustre-nightly",
            "fileSystemId": lustre,
            "tags": {"Name": "lustre-nightly", "Env": env_tag},
        },
        {"name": "ontap-volume", "volumeId": volume, "tags": {"Name": "ontap-volume"}},
    ]


def run(endpoint_url: str) -> None:
    fsx = boto3.client("fsx", endpoint_url=endpoint_url, region_name=REGION)
    print("== seeding the emulator through boto3")
    lustre, volume = seed_sources(endpoint_url)
    print(f"   Lustre PERSISTENT_2 file system {lustre}, ONTAP volume {volume}")

    workspace = auto.LocalWorkspace(work_dir=str(ROOT))
    if any(summary.name == STACK for summary in workspace.list_stacks()):
        # A demo stopped half-way left state about an emulator that is gone.
        workspace.remove_stack(STACK, force=True)
    # Each `up` previews first, as a plain `pulumi up` does.
    stack = preview_first(auto.create_stack(stack_name=STACK, work_dir=str(ROOT)))
    stack.set_config("aws:region", auto.ConfigValue(REGION))
    stack.set_config("aws:endpoints", auto.ConfigValue(json.dumps([{"fsx": endpoint_url}])))
    stack.set_config(
        "backups", auto.ConfigValue(json.dumps(backups_config(lustre, volume, "demo")))
    )

    print("== pulumi up")
    up = stack.up(on_output=print)
    backups = up.outputs["backups"].value
    for name, backup in backups.items():
        print(f"   {name}: {backup['backup_id']} {backup['lifecycle']} {backup['arn']}")
    check(
        all(b["lifecycle"] == "AVAILABLE" for b in backups.values()), "both backups are AVAILABLE"
    )
    live = {b["BackupId"] for b in fsx.describe_backups()["Backups"]}
    check(live == {b["backup_id"] for b in backups.values()}, "FSx holds exactly those two backups")

    print("== pulumi preview")
    preview = stack.preview(on_output=print)
    check(set(preview.change_summary) == {auto.OpType.SAME}, "preview shows no changes")

    print("== change the Env tag in the stack config, pulumi up")
    stack.set_config(
        "backups", auto.ConfigValue(json.dumps(backups_config(lustre, volume, "prod")))
    )
    update = stack.up(on_output=print)
    changes = update.summary.resource_changes or {}
    check(
        changes.get(auto.OpType.UPDATE) == 1 and not changes.get(auto.OpType.REPLACE),
        "one backup updated in place",
    )
    after = update.outputs["backups"].value
    check(
        {n: b["backup_id"] for n, b in after.items()}
        == {n: b["backup_id"] for n, b in backups.items()},
        "the backup IDs did not change",
    )
    [tagged] = fsx.describe_backups(BackupIds=[after["lustre-nightly"]["backup_id"]])["Backups"]
    check({"Key": "Env", "Value": "prod"} in tagged["Tags"], "FSx shows the new tag")

    print("== pulumi destroy")
    stack.destroy(on_output=print)
    check(fsx.describe_backups()["Backups"] == [], "no backup is left in FSx")
    stack.workspace.remove_stack(STACK)

    rotation_tour(workspace, endpoint_url, lustre)


def rotation_tour(workspace: auto.LocalWorkspace, endpoint_url: str, lustre: str) -> None:
    """Three nightly runs of `fsx-backup rotate --keep 2 --copy-to-region`, dated with
    --at, then destroy: each kept backup has a copy in another Region, rotated with it."""
    if any(summary.name == ROTATION_STACK for summary in workspace.list_stacks()):
        workspace.remove_stack(ROTATION_STACK, force=True)
    fsx = boto3.client("fsx", endpoint_url=endpoint_url, region_name=REGION)
    dr = boto3.client("fsx", endpoint_url=endpoint_url, region_name=DR_REGION)
    where = [
        *("--stack", ROTATION_STACK, "--project", workspace.project_settings().name),
        *("--backend", os.environ["PULUMI_BACKEND_URL"]),
        *("--region", REGION, "--endpoint-url", endpoint_url),
    ]
    created: list[str] = []
    copied: dict[str, str] = {}
    for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
        command = [
            *("rotate", "--source", lustre, "--keep", "2", "--at", day),
            *("--copy-to-region", DR_REGION),
        ]
        print(f"== fsx-backup {' '.join(command)}")
        code, result = fsx_backup(*command, *where)
        check(code == 0 and len(result["created"]) == 1, f"one backup made for {day}")
        created += result["created"]
        copied.update(result["copies"])
    check(
        sorted(result["deleted"]) == sorted([created[0], copied[created[0]]]),
        "the third run deleted the first day's backup and its copy",
    )
    check(result["kept"] == [created[2], created[1]], "the newest two are kept, newest first")
    live = {b["BackupId"] for b in fsx.describe_backups()["Backups"]}
    check(live == set(result["kept"]), "FSx holds exactly the two kept backups")
    copies = {b["BackupId"]: b for b in dr.describe_backups()["Backups"]}
    for backup_id, copy_id in result["copies"].items():
        print(f"   {backup_id} in {REGION} -> copy {copy_id} in {DR_REGION}")
    check(
        set(result["copies"]) == live and set(result["copies"].values()) == set(copies),
        f"each kept backup has one copy in {DR_REGION}, and the first day's copy is gone",
    )
    check(
        all(
            copies[c]["SourceBackupId"] == b and copies[c]["Lifecycle"] == "AVAILABLE"
            for b, c in result["copies"].items()
        ),
        "each copy names its backup as its source and is AVAILABLE",
    )

    print(f"== fsx-backup destroy --stack {ROTATION_STACK}")
    code, destroyed = fsx_backup("destroy", *where)
    check(
        code == 0 and set(destroyed["deleted"].values()) == live | set(copies),
        "both backups and both copies deleted",
    )
    check(fsx.describe_backups()["Backups"] == [], "no backup is left in FSx")
    check(dr.describe_backups()["Backups"] == [], f"no copy is left in {DR_REGION}")
    workspace.remove_stack(ROTATION_STACK)


def fsx_backup(*args: str) -> tuple[int, dict[str, Any]]:
    """The `fsx-backup` console script in this process; progress goes to stderr."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = fsx_backup_main([*args, "--json"])
    result: dict[str, Any] = json.loads(out.getvalue())
    return code, result


def main() -> int:
    os.environ.update(EMULATOR_CREDENTIALS)
    print("== starting the FSx emulator")
    try:
        with EmulatorProcess(backup_seconds=2) as emulator:
            print(f"   listening on {emulator.endpoint_url}")
            run(emulator.endpoint_url)
        print("== emulator stopped\nDEMO OK")
        return 0
    except (DemoFailed, auto.CommandError) as failure:
        print(f"DEMO FAILED: {failure}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
