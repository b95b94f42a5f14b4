"""A dynamic resource that does nothing, from an installed module.

It measures the engine's own cost: the benchmark runs the same stack shape with
it as the floor that FsxBackup is compared against, and the engine smoke test
uses it to prove the toolchain works without any AWS behind it.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider


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
