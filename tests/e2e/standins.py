"""A stand-in for `aws.fsx.LustreFileSystem` in programs the engine runs offline.

pulumi-aws's aws plugin cannot be installed here, but what matters to an
FsxBackup declared with `file_system_id=lustre.id` is only that the ID is an
output of another resource of the same stack: unknown at preview until that
resource exists. This dynamic resource makes a Lustre file system in the
emulator (CreateFileSystem) and deletes it on destroy, like the real thing.

Its provider is pickled by reference, so the provider process imports this
module from the checkout (the tests' PYTHONPATH holds it).
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)


def _emulator(props: dict[str, Any]) -> Any:
    from fsx_emulator import Emulator

    return Emulator(str(props["endpoint_url"]), region=str(props["region"]))


class LustreStandInProvider(ResourceProvider):
    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        file_system_id = _emulator(props).create_file_system("LUSTRE")
        return CreateResult(file_system_id, {**props, "file_system_id": file_system_id})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        moved = [k for k in ("endpoint_url", "region") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(moved), replaces=moved, delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _emulator(props).client().delete_file_system(FileSystemId=id_)


class LustreStandIn(Resource, module="standin", name="LustreFileSystem"):
    """A Lustre PERSISTENT file system in the emulator; `id` is its file system ID."""

    file_system_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        endpoint_url: str,
        region: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"endpoint_url": endpoint_url, "region": region, "file_system_id": None}
        super().__init__(LustreStandInProvider(), name, props, opts)


class SleeperProvider(ResourceProvider):
    """Takes `seconds` to create and to update: something slow for others to wait on."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        import time

        time.sleep(float(props["seconds"]))
        return CreateResult(f"sleeper-{props['trigger']}", dict(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=olds.get("trigger") != news.get("trigger"), replaces=[])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        import time

        time.sleep(float(news["seconds"]))
        return UpdateResult(dict(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)


class Sleeper(Resource, module="standin", name="Sleeper"):
    """A resource whose create and update take `seconds`; change `trigger` to update it."""

    def __init__(
        self, name: str, seconds: float, trigger: str, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(SleeperProvider(), name, {"seconds": seconds, "trigger": trigger}, opts)
