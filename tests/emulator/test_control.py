"""The /_emulator control endpoints."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from fsx_emulator.client import Emulator


def control(fsx: Emulator, method: str, name: str, body: object = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{fsx.endpoint_url}/_emulator/{name}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_health(fsx: Emulator) -> None:
    status, document = control(fsx, "GET", "health")
    assert status == 200
    assert document["status"] == "ok"
    assert document["region"] == "us-east-1"


def test_calls_count_every_fsx_request_and_reset_clears_everything(fsx: Emulator) -> None:
    client = fsx.client()
    file_system_id = fsx.create_file_system()
    client.create_backup(FileSystemId=file_system_id)
    client.describe_backups()
    client.describe_backups()
    with pytest.raises(client.exceptions.BackupNotFound):
        client.describe_backups(BackupIds=["backup-0123456789abcdef0"])
    assert fsx.calls() == {
        "CreateFileSystem": 1,
        "CreateBackup": 1,
        "DescribeBackups": 3,
        "_total": 5,
    }
    fsx.set_faults(
        throttle_rate=0.5,
        backup_seconds=9,
        copy_seconds=7,
        restore_seconds=5,
        delete_seconds=6,
        fail_next_backups={file_system_id: "x"},
        fail_next_copies={"backup-0123456789abcdef0": "y"},
        fail_next_restores={"backup-0123456789abcdef0": "z"},
    )

    fsx.reset()
    assert fsx.calls() == {"_total": 0}
    assert client.describe_file_systems()["FileSystems"] == []
    assert client.describe_backups()["Backups"] == []
    faults = fsx.faults()
    assert (faults["throttle_rate"], faults["backup_seconds"], faults["copy_seconds"]) == (0, 0, 0)
    assert (faults["restore_seconds"], faults["delete_seconds"]) == (0, 0)
    assert (faults["fail_next_backups"], faults["fail_next_copies"], faults["injected"]) == (
        {},
        {},
        {},
    )
    assert faults["fail_next_restores"] == {}


def test_control_endpoints_are_never_faulted_or_counted(fsx: Emulator) -> None:
    fsx.set_faults(error_rate=1.0)
    for _ in range(5):
        assert control(fsx, "GET", "health")[0] == 200
        assert control(fsx, "GET", "calls")[0] == 200
    assert fsx.calls() == {"_total": 0}


@pytest.mark.parametrize(
    "body",
    [
        {"throttle_rate": 1.5},
        {"throttle_rate": 0.6, "error_rate": 0.6},
        {"error_rate": "high"},
        {"backup_seconds": -1},
        {"copy_seconds": -1},
        {"copy_seconds": "slow"},
        {"seed": 1.5},
        {"fail_next_backups": {"not-an-id": "x"}},
        {"fail_next_backups": {"fs-0123456789abcdef0": ""}},
        {"fail_next_copies": {"fs-0123456789abcdef0": "a file system is not a backup"}},
        {"fail_next_copies": {"backup-0123456789abcdef0": ""}},
        {"restore_seconds": -1},
        {"delete_seconds": "later"},
        {"fail_next_restores": {"fs-0123456789abcdef0": "a file system is not a backup"}},
        {"no_such_setting": 1},
        [1, 2],
    ],
)
def test_bad_fault_settings_change_nothing(fsx: Emulator, body: object) -> None:
    before = fsx.faults()
    status, document = control(fsx, "POST", "faults", body)
    assert status == 400
    assert document["error"]
    assert fsx.faults() == before


def test_unknown_endpoint(fsx: Emulator) -> None:
    status, document = control(fsx, "GET", "nothing-here")
    assert status == 404
    assert "/_emulator/calls" in document["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"subnet_ids": []},
        {"subnet_ids": ["not-a-subnet"]},
        {"subnet_ids": "subnet-0123456789abcdef0"},
        {"subnet_ids": ["subnet-0123456789abcdef0"], "region": "mars-north-1"},
        {"subnet_ids": ["subnet-0123456789abcdef0"], "account_id": "me"},
        {"subnet_ids": ["subnet-0123456789abcdef0"], "vpc": "vpc-1"},
        [1],
    ],
)
def test_bad_subnet_registrations_change_nothing(fsx: Emulator, body: object) -> None:
    status, document = control(fsx, "POST", "subnets", body)
    assert status == 400
    assert document["error"]
    assert fsx.register_subnets("subnet-0fedcba9876543210") == ["subnet-0fedcba9876543210"]


def test_subnets_are_registered_per_region_and_forgotten_on_reset(fsx: Emulator) -> None:
    subnet = "subnet-0123456789abcdef0"
    status, document = control(
        fsx, "POST", "subnets", {"subnet_ids": [subnet], "region": "eu-west-1"}
    )
    assert (status, document) == (
        200,
        {"account_id": "123456789012", "region": "eu-west-1", "subnet_ids": [subnet]},
    )
    assert fsx.register_subnets("subnet-0fedcba9876543210") == ["subnet-0fedcba9876543210"]
    fsx.reset()
    assert fsx.register_subnets("subnet-0fedcba9876543210", region="eu-west-1") == [
        "subnet-0fedcba9876543210"
    ]
