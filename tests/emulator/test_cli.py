"""The command line: flags, the ready line, signals; and EmulatorProcess."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fsx_emulator import Emulator, EmulatorProcess, EmulatorStartError
from fsx_emulator.cli import parse_args
from fsx_emulator.config import EmulatorConfig

NO_RETRIES = Config(retries={"total_max_attempts": 1})
SEED, THROTTLE_RATE, ERROR_RATE = 42, 0.3, 0.1


@pytest.fixture(scope="module")
def configured() -> Iterator[Emulator]:
    process = EmulatorProcess(
        region="eu-west-1",
        seed=SEED,
        throttle_rate=THROTTLE_RATE,
        error_rate=ERROR_RATE,
        token_ttl_seconds=0.5,
        backup_seconds=0,
        copy_seconds=2,
        restore_seconds=1.5,
        delete_seconds=2.5,
    )
    with process as emulator:
        yield emulator


def fault_pattern(emulator: Emulator, count: int = 40) -> list[str]:
    client = emulator.client(NO_RETRIES)
    seen = []
    for _ in range(count):
        try:
            client.describe_backups()
            seen.append("ok")
        except ClientError as error:
            seen.append(error.response["Error"]["Code"])
    return seen


def test_flags_reach_the_server(configured: Emulator) -> None:
    configured.reset()
    assert configured.health()["region"] == "eu-west-1"
    faults = configured.faults()
    assert (faults["seed"], faults["throttle_rate"], faults["error_rate"]) == (
        SEED,
        THROTTLE_RATE,
        ERROR_RATE,
    )
    assert (
        faults["backup_seconds"],
        faults["copy_seconds"],
        faults["restore_seconds"],
        faults["delete_seconds"],
    ) == (0, 2, 1.5, 2.5)
    configured.set_faults(throttle_rate=0, error_rate=0)
    backup = configured.client().create_backup(FileSystemId=configured.create_file_system())
    assert backup["Backup"]["ResourceARN"].startswith("arn:aws:fsx:eu-west-1:")
    assert backup["Backup"]["Lifecycle"] == "AVAILABLE"
    copy = configured.client().copy_backup(SourceBackupId=backup["Backup"]["BackupId"])
    assert copy["Backup"]["Lifecycle"] == "PENDING"


def test_same_seed_same_faults_across_processes(configured: Emulator, fsx: Emulator) -> None:
    configured.reset()
    from_flags = fault_pattern(configured)
    configured.reset()
    assert fault_pattern(configured) == from_flags
    fsx.set_faults(seed=SEED, throttle_rate=THROTTLE_RATE, error_rate=ERROR_RATE)
    assert fault_pattern(fsx) == from_flags
    assert set(from_flags) == {"ok", "ThrottlingException", "InternalServerError"}


def test_token_ttl(configured: Emulator) -> None:
    configured.reset()
    configured.set_faults(throttle_rate=0, error_rate=0)
    client = configured.client()
    file_system_id = configured.create_file_system()

    def create() -> str:
        backup = client.create_backup(FileSystemId=file_system_id, ClientRequestToken="ttl")
        return backup["Backup"]["BackupId"]

    configured.freeze_clock()
    first = create()
    configured.advance_clock(0.5)
    assert create() == first
    configured.advance_clock(0.01)
    assert create() != first


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ready_line_and_clean_exit_on_signal(signum: signal.Signals) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "fsx_emulator", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"fsx-emulator listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, line
        with urllib.request.urlopen(f"{match.group(1)}/_emulator/health", timeout=10) as response:
            assert response.status == 200
        process.send_signal(signum)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.wait()


def test_defaults_and_bad_flags() -> None:
    assert parse_args([]) == EmulatorConfig()
    assert EmulatorConfig().host == "127.0.0.1"
    assert EmulatorConfig().backup_seconds == 3
    assert EmulatorConfig().copy_seconds is None
    assert parse_args(["--copy-seconds", "0.5"]).copy_seconds == 0.5
    assert EmulatorConfig().restore_seconds is None
    assert parse_args(["--restore-seconds", "0.5"]).restore_seconds == 0.5
    assert EmulatorConfig().delete_seconds is None
    assert parse_args(["--delete-seconds", "0"]).delete_seconds == 0
    subnets = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
    assert parse_args([arg for s in subnets for arg in ("--subnet-id", s)]).subnet_ids == tuple(
        subnets
    )
    for bad in (
        ["--throttle-rate", "0.7", "--error-rate", "0.5"],
        ["--throttle-rate", "1.5"],
        ["--backup-seconds", "-1"],
        ["--copy-seconds", "-1"],
        ["--restore-seconds", "-1"],
        ["--delete-seconds", "-1"],
        ["--subnet-id", "sn-1"],
        ["--token-ttl-seconds", "0"],
        ["--enforce-iam", "-1"],
    ):
        with pytest.raises(SystemExit):
            parse_args(bad)


def test_emulator_process_reports_a_failed_start() -> None:
    with pytest.raises(EmulatorStartError, match="exited with code 2"):
        EmulatorProcess(throttle_rate=2.0).start()


def test_an_emulator_ends_when_the_process_that_started_it_is_killed() -> None:
    """A test run SIGKILLed (no teardown) must not leave its emulator serving for ever."""
    import os
    import time

    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from fsx_emulator import EmulatorProcess\n"
            "process = EmulatorProcess()\n"
            "process.start()\n"
            "assert process._process is not None\n"
            "print(process._process.pid, flush=True)\n"
            "time.sleep(300)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    os.kill(child, 0)  # serving
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        # Reaped by init once it exits; until then it may show as a zombie.
        stat = Path(f"/proc/{child}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return
        time.sleep(0.1)
    os.kill(child, signal.SIGKILL)
    raise AssertionError(f"the emulator {child} outlived its killed parent by 10 s")
