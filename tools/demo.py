"""`make demo`: the main job, toured on the local FSx emulator.

Start the emulator; create a Lustre PERSISTENT file system and an ONTAP volume
through boto3; `pulumi up` the top-level stack (Pulumi.yaml, __main__.py) with
a backup of each; `pulumi preview` (no changes); change a tag in the stack
config and `pulumi up` (updated in place, same backup IDs); `pulumi destroy`;
stop the emulator. Every step's result is printed and checked: the demo exits
non-zero if any step does not do what it should.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import boto3
from pulumi import automation as auto

from fsx_emulator import EmulatorProcess
from tools.workspace import EMULATOR_CREDENTIALS

ROOT = Path(__file__).resolve().parent.parent
STACK = "demo"
REGION = "us-east-1"
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
    stack = auto.create_stack(stack_name=STACK, work_dir=str(ROOT))
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
