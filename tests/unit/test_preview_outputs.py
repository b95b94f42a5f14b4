"""At preview, an in-place update keeps known every output it cannot change (preview.py).

The rule, without an engine: an output the engine left unknown, of a
resource whose ID is known (kept: unchanged or updated in place), is the
state's value for that backup; `backup_id` is the ID itself. The state is
read once, only when needed; a failed read leaves the output unknown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest

from fsx_backup_provider.core.constants import FSX_BACKUP_TYPE
from fsx_backup_provider.program import preview, stack_state
from fsx_backup_provider.program.stack_state import Checkpoint, Held

BACKUP = "backup-0123456789abcdef0"
ARN = f"arn:aws:fsx:us-east-1:123456789012:backup/{BACKUP}"


def output(value: Any, known: bool = True, secret: bool = False) -> pulumi.Output[Any]:
    async def constant(v: Any) -> Any:
        return v

    return pulumi.Output(set(), constant(value), constant(known), constant(secret))


class Resource:
    """What the descriptors see of a registered FsxBackup: outputs in its __dict__."""

    backup_id: pulumi.Output[str]
    arn: pulumi.Output[str]
    tags: pulumi.Output[dict[str, str]]


preview.install(Resource, ("backup_id", "arn", "tags"))


def resource(id_known: bool, outputs_known: bool, secret_outputs: tuple[str, ...] = ()) -> Resource:
    made = Resource()
    made.__dict__.update(
        id=output(BACKUP if id_known else None, id_known),
        backup_id=output(BACKUP if outputs_known else None, outputs_known),
        arn=output(ARN if outputs_known else None, outputs_known),
        tags=output({"Name": "a"} if outputs_known else None, outputs_known),
    )
    opts = pulumi.ResourceOptions(additional_secret_outputs=list(secret_outputs))
    preview.declare(made, FSX_BACKUP_TYPE, {"file_system_id": "fs-0123456789abcdef0"}, opts)  # type: ignore[arg-type]
    return made


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """A preview whose state records the backup; counts the state reads."""
    count: list[int] = []

    async def read_state() -> Checkpoint:
        count.append(1)
        held = Held("urn:x", FSX_BACKUP_TYPE, {"backup_id": BACKUP, "arn": ARN})
        return Checkpoint((held,), by_id={(FSX_BACKUP_TYPE, BACKUP): held})

    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: True)
    monkeypatch.setattr(stack_state, "_read", read_state)
    yield count


def run(body: Any) -> Any:
    async def main() -> Any:
        return await body()

    return asyncio.run(main())


def test_an_updated_resource_keeps_its_id_and_recorded_outputs(reads: list[int]) -> None:
    async def body() -> Any:
        made = resource(id_known=True, outputs_known=False)
        outs = [made.backup_id, made.arn, made.tags]
        return [(await o.future(), await o.is_known()) for o in outs]

    assert run(body) == [(BACKUP, True), (ARN, True), (None, False)]
    assert reads == [1], "the state is read once, and only for what the ID cannot give"


def test_a_replaced_or_new_resource_stays_unknown(reads: list[int]) -> None:
    async def body() -> Any:
        made = resource(id_known=False, outputs_known=False)
        return [await made.backup_id.is_known(), await made.arn.is_known()]

    assert run(body) == [False, False]
    assert reads == []


def test_known_outputs_are_as_the_engine_gave_them(reads: list[int]) -> None:
    async def body() -> Any:
        made = resource(id_known=True, outputs_known=True)
        return await made.arn.future()

    assert run(body) == ARN
    assert reads == []


def test_secretness_follows_the_declaration(reads: list[int]) -> None:
    async def body() -> Any:
        made = resource(id_known=True, outputs_known=False, secret_outputs=("arn",))
        return await made.arn.is_secret(), await made.backup_id.is_secret()

    assert run(body) == (True, False)


def test_a_backup_the_state_does_not_record_stays_unknown(
    reads: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def nothing() -> Checkpoint:
        return Checkpoint()

    monkeypatch.setattr(stack_state, "_read", nothing)

    async def body() -> Any:
        made = resource(id_known=True, outputs_known=False)
        return await made.arn.is_known()

    assert run(body) is False


def test_a_failed_read_warns_once_and_leaves_outputs_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warned: list[str] = []
    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: True)
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: warned.append(message))

    async def failing(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("no backend client is available")

    monkeypatch.setattr(pulumi.runtime, "invoke_async", failing)
    monkeypatch.setattr(pulumi, "get_organization", lambda: "organization")
    monkeypatch.setattr(pulumi, "get_project", lambda: "p")
    monkeypatch.setattr(pulumi, "get_stack", lambda: "s")

    async def body() -> Any:
        made = resource(id_known=True, outputs_known=False)
        return await made.arn.is_known(), await made.backup_id.future()

    assert run(body) == (False, BACKUP)
    assert len(warned) == 1 and "no backend client is available" in warned[0]


def test_outside_a_preview_the_registered_output_is_returned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: False)

    async def body() -> bool:
        made = resource(id_known=True, outputs_known=False)
        return made.arn is made.__dict__["arn"]

    assert run(body) is True


def test_the_state_read_keeps_each_values_secrecy() -> None:
    """As the resource monitor sends it: a secret output is marked, the others are not."""
    from google.protobuf import struct_pb2

    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    result = struct_pb2.Struct()
    result.update(
        {
            "outputs": {
                "urn:x": {
                    "type": FSX_BACKUP_TYPE,
                    "outputs": {
                        "backup_id": BACKUP,
                        "arn": {**secret, "value": ARN},
                        "volume_id": None,
                    },
                },
                "urn:ledger": {
                    "type": "pulumi-python:dynamic/fsx:FsxBackupLedger",
                    "outputs": {"tokens": {**secret, "value": ["t1", "t2"]}},
                },
            }
        }
    )
    read = stack_state._parse(result, marked=True)
    held = read.find(FSX_BACKUP_TYPE, BACKUP)
    assert held is not None
    assert held.outputs == {"backup_id": BACKUP, "arn": ARN, "volume_id": None}
    assert held.secret_keys == {"arn"}
    assert read.ledger_tokens == {"t1", "t2"}
    unmarked = stack_state._parse(
        {"outputs": {"urn:x": {"type": FSX_BACKUP_TYPE, "outputs": {"backup_id": BACKUP}}}},
        marked=False,
    )
    assert unmarked.held[0].secret_keys == {"backup_id"}, "unmarked: every value counts as secret"
