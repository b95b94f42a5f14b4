"""Dynamic resources that do nothing, from a module the provider process imports.

Noop measures the engine's own cost: the benchmark runs the same stack shape
with it as the floor that FsxBackup is compared against, and the engine smoke
test uses it to prove the toolchain works without any AWS behind it.
ShapedNoop is a diagnostic for the benchmark (see ShapedNoopProvider).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
)


class NoopProvider(ResourceProvider):
    """Stores its inputs as outputs; every call returns at once."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"noop-{props['value']}", {"value": props["value"]})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = olds.get("value") != news.get("value")
        return DiffResult(changes=changed, replaces=["value"] if changed else [])

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)


class Noop(Resource, module="fsx-backup-provider", name="Noop"):
    """`value` is echoed back as an output; changing it replaces the resource."""

    value: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        value: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(NoopProvider(), resource_name, {"value": value}, opts)


class ShapedNoopProvider(ResourceProvider):
    """Stores what an FsxBackup stores, and computes nothing.

    `make bench` previews a stack of these beside the floor to split an
    FsxBackup preview's cost in two: what the engine and SDK charge for the
    shape of the resource (its output attributes and stored properties),
    and what the FsxBackup provider itself adds (validation, diff, tokens).
    """

    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult({**news, "token_epoch": 0}, [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        source = props["file_system_id"]
        backup_id = "backup-" + hashlib.sha256(props["resource_urn"].encode()).hexdigest()[:17]
        arn_prefix = "arn:aws:fsx:us-east-1:123456789012"
        outputs = {
            **props,
            "backup_id": backup_id,
            "arn": f"{arn_prefix}:backup/{backup_id}",
            "tags_all": props.get("tags") or {},
            "lifecycle": "AVAILABLE",
            "type": "USER_INITIATED",
            "resource_type": "FILE_SYSTEM",
            "owner_id": "123456789012",
            "kms_key_id": f"{arn_prefix.replace(':fsx:', ':kms:')}:key/{source}",
            "creation_time": "2026-01-01T00:00:00.000000+00:00",
            "client_request_token": f"fsxb-{backup_id[7:]}-g0",
            "region": "us-east-1",
            "implicit_tags": False,
            "given": {},
        }
        return CreateResult(backup_id, outputs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replace = olds.get("file_system_id") != news.get("file_system_id")
        changed = replace or olds.get("tags") != news.get("tags")
        return DiffResult(changes=changed, replaces=["file_system_id"] if replace else [])


class ShapedNoop(Resource, module="fsx-backup-provider", name="ShapedNoop"):
    """Registered exactly as an FsxBackup of a file system is; see ShapedNoopProvider.

    The same output attributes declared on the class, the same properties
    registered, and, like FsxBackup's `identity` input from the stack's seed,
    one input (`identity`) that depends on another resource of the stack:
    give it the output of a Noop declared once.
    """

    backup_id: pulumi.Output[str]
    arn: pulumi.Output[str]
    file_system_id: pulumi.Output[str | None]
    volume_id: pulumi.Output[str | None]
    tags: pulumi.Output[dict[str, str]]
    tags_all: pulumi.Output[dict[str, str]]
    lifecycle: pulumi.Output[str]
    type: pulumi.Output[str]
    resource_type: pulumi.Output[str]
    owner_id: pulumi.Output[str]
    kms_key_id: pulumi.Output[str | None]
    creation_time: pulumi.Output[str]
    client_request_token: pulumi.Output[str]
    region: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        file_system_id: pulumi.Input[str],
        tags: dict[str, str],
        identity: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # Imported here: the resource module imports the whole provider.
        from fsx_backup_provider.host.outputs import release_own_outputs
        from fsx_backup_provider.program.backup import OUTPUT_KEYS
        from fsx_backup_provider.program.seed import child_urn

        props: dict[str, Any] = dict.fromkeys(OUTPUT_KEYS)
        props.update(
            file_system_id=file_system_id,
            tags=tags,
            resource_urn=child_urn(
                "pulumi-python:dynamic/fsx-backup-provider:ShapedNoop", resource_name, None
            ),
            identity=identity,
        )
        super().__init__(ShapedNoopProvider(), resource_name, props, opts)
        release_own_outputs(self, props)
