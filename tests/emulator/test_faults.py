"""Injected throttling and server errors (semantics 9)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries.standard import ExponentialBackoff

from fsx_emulator.client import Emulator

NO_RETRIES = Config(retries={"total_max_attempts": 1})


def outcomes(call: Callable[[], object], count: int) -> list[str]:
    """ "ok" or the error code of each of `count` calls."""
    seen = []
    for _ in range(count):
        try:
            call()
            seen.append("ok")
        except ClientError as error:
            seen.append(error.response["Error"]["Code"])
    return seen


def test_rates_apply_and_faults_are_aws_json_errors(fsx: Emulator) -> None:
    client = fsx.client(NO_RETRIES)
    raw: list[tuple[int, dict[str, Any]]] = []

    def capture(response_dict: dict[str, Any], **_: Any) -> None:
        raw.append((response_dict["status_code"], json.loads(response_dict["body"] or b"{}")))

    client.meta.events.register("before-parse.fsx", capture)
    fsx.set_faults(throttle_rate=0.3, error_rate=0.2, seed=1)
    counts = Counter(outcomes(client.describe_backups, 300))

    assert set(counts) == {"ok", "ThrottlingException", "InternalServerError"}
    assert 0.2 < counts["ThrottlingException"] / 300 < 0.4
    assert 0.12 < counts["InternalServerError"] / 300 < 0.28
    assert fsx.faults()["injected"] == {
        "ThrottlingException": counts["ThrottlingException"],
        "InternalServerError": counts["InternalServerError"],
    }
    assert fsx.calls()["DescribeBackups"] == 300
    assert (400, {"__type": "ThrottlingException", "message": "Rate exceeded"}) in raw
    assert {status for status, body in raw if body.get("__type") == "InternalServerError"} == {500}


def test_same_seed_same_faults(fsx: Emulator) -> None:
    client = fsx.client(NO_RETRIES)
    file_system_id = fsx.create_file_system()

    def mixed_calls() -> list[str]:
        return outcomes(client.describe_backups, 20) + outcomes(
            lambda: client.describe_file_systems(FileSystemIds=[file_system_id]), 20
        )

    fsx.set_faults(throttle_rate=0.3, error_rate=0.1, seed=42)
    first = mixed_calls()
    fsx.set_faults(seed=42)
    second = mixed_calls()
    fsx.set_faults(seed=43)
    other_seed = mixed_calls()
    assert first == second
    assert first != other_seed
    assert "ThrottlingException" in first and "ok" in first


def test_faults_are_decided_before_any_state_change(fsx: Emulator) -> None:
    file_system_id = fsx.create_file_system()
    client = fsx.client(NO_RETRIES)
    for rates, code, status in (
        ({"throttle_rate": 1.0, "error_rate": 0.0}, "ThrottlingException", 400),
        ({"throttle_rate": 0.0, "error_rate": 1.0}, "InternalServerError", 500),
    ):
        fsx.set_faults(**rates)
        with pytest.raises(ClientError) as raised:
            client.create_backup(FileSystemId=file_system_id, ClientRequestToken="once")
        assert raised.value.response["Error"]["Code"] == code
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    fsx.set_faults(throttle_rate=0.0, error_rate=0.0)
    assert client.describe_backups()["Backups"] == []
    assert fsx.calls()["CreateBackup"] == 2


def test_standard_retries_ride_through_thirty_percent_throttling(
    fsx: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore backs off up to seconds per throttle; what is under test is that it sees
    # the emulator's faults as retryable, not how long it waits.
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    file_system_id = fsx.create_file_system()
    fsx.set_faults(throttle_rate=0.3, error_rate=0.05, seed=5)
    client = fsx.client(Config(retries={"mode": "standard", "max_attempts": 8}))

    backup_ids = [
        client.create_backup(FileSystemId=file_system_id, ClientRequestToken=f"token-{i}")[
            "Backup"
        ]["BackupId"]
        for i in range(25)
    ]
    described = client.describe_backups(BackupIds=backup_ids)["Backups"]

    assert len(set(backup_ids)) == 25
    assert {b["BackupId"] for b in described} == set(backup_ids)
    injected = sum(fsx.faults()["injected"].values())
    assert injected > 5
    assert fsx.calls()["_total"] == 1 + 25 + 1 + injected
