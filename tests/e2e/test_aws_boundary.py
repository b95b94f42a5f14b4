"""Failures at the AWS boundary end refresh, up and destroy quickly, clearly, losing nothing.

A stack holding one FsxBackup made against the emulator; then, through the
real engine: no credentials anywhere in boto3's chain (each step within 15 s,
naming credentials, the profile and the Region), an endpoint on a closed
loopback port and one that accepts connections and never answers (each step
within 60 s, naming the endpoint URL). Afterwards, with the way to FSx
restored, the state still holds the same backup and destroy works. Measured
times are printed (`pytest -s` shows them).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from fsx_backup_provider import FsxBackup
from tests.boundary import CREDENTIAL_VARIABLES, SilentServer, closed_port, no_credentials_env
from tests.conftest import StackFactory, resources_of_type
from tests.e2e.conftest import REGION, preview_first, quiet
from tools.workspace import EMULATOR_CREDENTIALS

NO_CREDENTIALS_LIMIT = 15.0
UNREACHABLE_LIMIT = 60.0


@pytest.fixture
def no_inherited_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine inherits this process's environment: keep credentials out of it."""
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


class World:
    """One stack declaring `kept`, and `added` while `with_added` is set."""

    def __init__(self, fsx: Any, new_stack: StackFactory) -> None:
        self.fsx = fsx
        self.kept_source = fsx.create_file_system("LUSTRE")
        self.added_source = fsx.create_file_system("LUSTRE")
        self.with_added = False

        def program() -> None:
            FsxBackup("kept", file_system_id=self.kept_source, tags={"Name": "kept"})
            if self.with_added:
                FsxBackup("added", file_system_id=self.added_source)

        # The endpoint comes from the environment, not from aws:endpoints:
        # refresh and destroy configure the provider from the state's copy of
        # the stack config, so only the environment can move it between runs.
        fsx.set_faults(backup_seconds=1)
        self.stack = preview_first(
            new_stack(
                program, env={**EMULATOR_CREDENTIALS, "AWS_ENDPOINT_URL_FSX": fsx.endpoint_url}
            )
        )
        self.stack.set_config("aws:region", auto.ConfigValue(REGION))
        self.env = self.stack.workspace.env_vars
        self.stack.up(on_output=quiet)
        self.before = self.state()

    def state(self) -> list[dict[str, Any]]:
        return [
            {key: r[key] for key in ("urn", "id", "outputs")}
            for r in resources_of_type(self.stack, ":FsxBackup")
        ]

    def failing_steps(self, limit: float, expected: list[str]) -> dict[str, float]:
        """refresh, up (of a new backup), destroy: each fails within `limit`, naming `expected`."""
        steps: dict[str, Callable[[], Any]] = {
            "refresh": lambda: self.stack.refresh(on_output=quiet),
            "up": lambda: self.stack.up(on_output=quiet),
            "destroy": lambda: self.stack.destroy(on_output=quiet),
        }
        times: dict[str, float] = {}
        for name, step in steps.items():
            self.with_added = name == "up"
            start = time.monotonic()
            with pytest.raises(auto.CommandError) as failed:
                step()
            times[name] = time.monotonic() - start
            message = str(failed.value)
            for text in expected:
                assert text in message, f"{name}: {text!r} not in {message}"
            # fsx.py raises from None: botocore's own exceptions never reach the output.
            assert "botocore.exceptions" not in message, message
            assert self.state() == self.before, f"{name} changed the state"
        print(", ".join(f"{name} failed in {seconds:.1f} s" for name, seconds in times.items()))
        for name, seconds in times.items():
            assert seconds <= limit, f"{name} took {seconds:.1f} s (limit {limit} s)"
        self.with_added = False
        return times

    def recovers(self) -> None:
        """With the way to FSx back: the same backup in state and in FSx; destroy works."""
        backup_id = self.before[0]["id"]
        assert self.state() == self.before
        live = self.fsx.client().describe_backups()["Backups"]
        assert [b["BackupId"] for b in live] == [backup_id]
        self.stack.refresh(on_output=quiet)
        assert [r["id"] for r in self.state()] == [backup_id]
        self.stack.destroy(on_output=quiet)
        assert self.fsx.client().describe_backups()["Backups"] == []


@pytest.mark.usefixtures("no_inherited_credentials")
def test_no_credentials_fail_each_step_within_15_s(
    fsx: Any, new_stack: StackFactory, tmp_path: Path
) -> None:
    world = World(fsx, new_stack)
    saved = dict(world.env)
    for name in CREDENTIAL_VARIABLES:
        world.env.pop(name, None)
    world.env.update(no_credentials_env(tmp_path))
    world.failing_steps(
        NO_CREDENTIALS_LIMIT,
        [
            "NoCredentials: no AWS credentials found",
            f"Region {REGION} (from the region input or aws:region)",
            "profile 'default' (neither aws:profile nor AWS_PROFILE is set)",
            str(tmp_path / "empty-aws-file"),
        ],
    )
    world.env.clear()
    world.env.update(saved)
    world.recovers()


def closed_endpoint() -> AbstractContextManager[str]:
    return nullcontext(f"http://127.0.0.1:{closed_port()}")


@contextmanager
def silent_endpoint() -> Iterator[str]:
    with SilentServer() as server:
        yield server.url


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        (closed_endpoint, "EndpointUnreachable: could not connect to the FSx endpoint {url}"),
        (silent_endpoint, "Timeout: the FSx endpoint {url}, for Region"),
    ],
    ids=["connection-refused", "read-timeout"],
)
@pytest.mark.usefixtures("no_inherited_credentials")
def test_an_unreachable_endpoint_fails_each_step_within_60_s(
    fsx: Any,
    new_stack: StackFactory,
    endpoint: Callable[[], AbstractContextManager[str]],
    expected: str,
) -> None:
    world = World(fsx, new_stack)
    with endpoint() as url:
        world.env["AWS_ENDPOINT_URL_FSX"] = url
        world.failing_steps(UNREACHABLE_LIMIT, [expected.format(url=url), f"Region {REGION}"])
    world.env["AWS_ENDPOINT_URL_FSX"] = fsx.endpoint_url
    world.recovers()


@pytest.mark.usefixtures("no_inherited_credentials")
def test_what_a_user_sees_is_the_message_not_botocores_traceback(
    fsx: Any, new_stack: StackFactory
) -> None:
    """The engine shows the host's traceback text: one short paragraph, no chained cause."""
    world = World(fsx, new_stack)
    url = f"http://127.0.0.1:{closed_port()}"
    world.env["AWS_ENDPOINT_URL_FSX"] = url
    world.with_added = True
    lines: list[str] = []
    with pytest.raises(auto.CommandError):
        world.stack.up(on_output=lines.append, color="never")
    world.env["AWS_ENDPOINT_URL_FSX"] = fsx.endpoint_url
    world.recovers()
    shown = "\n".join(lines)
    print(shown)
    # The first FSx call of an `up` checks that the backup the stack holds still
    # exists (docs/design.md): it fails, and nothing is created.
    assert re.search(
        r"FsxBackupError: could not check that backup backup-[0-9a-f]+ still exists: "
        r"FSx DescribeBackups failed with EndpointUnreachable: .*" + re.escape(url),
        shown,
    )
    # Raised from None in fsx.py and by the provider: no botocore frame, no chain.
    assert "/botocore/" not in shown
    assert "During handling of the above exception" not in shown
    assert "direct cause" not in shown
