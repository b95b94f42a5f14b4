"""Progress of a waiting create, shown in the engine's output.

A dynamic provider has no API for progress, but the engine starts every
provider plugin with the address of its Engine service as the one argument
(`python -m pulumi.dynamic 127.0.0.1:PORT`), and that service's Log RPC
attaches a message to a resource by URN. create() is not told its URN, so it
is rebuilt from the token scope the program sent (project, stack, parent URN,
name): the same parts the engine builds it from.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from fsx_backup_provider.constants import FSX_BACKUP_TYPE as RESOURCE_TYPE
from fsx_backup_provider.host.parallelism import in_dynamic_provider_process

SCOPE_SEPARATOR = "\x1f"

_stub: Any = None
_stub_lock = threading.Lock()


def urn_of(scope: str) -> str | None:
    """The URN of the FsxBackup whose token scope this is."""
    parts = scope.split(SCOPE_SEPARATOR)
    if len(parts) != 4:
        return None
    project, stack, parent_urn, name = parts
    qualified = RESOURCE_TYPE
    if parent_urn:
        parent_type = parent_urn.split("::")[2] if parent_urn.count("::") >= 3 else ""
        # Children of the stack itself carry no parent type in their URN.
        if parent_type and parent_type != "pulumi:pulumi:Stack":
            qualified = f"{parent_type}${RESOURCE_TYPE}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def _engine() -> Any:
    global _stub
    with _stub_lock:
        if _stub is None and in_dynamic_provider_process() and len(sys.argv) > 1:
            import grpc  # type: ignore[import-untyped]
            from pulumi.runtime.proto import engine_pb2_grpc

            _stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(sys.argv[1]))
        return _stub


def report(scope: Any, message: str) -> None:
    """Show `message` as the resource's current status; never fails the operation."""
    if not isinstance(scope, str):
        return
    urn = urn_of(scope)
    engine = _engine()
    if urn is None or engine is None:
        return
    from pulumi.runtime.proto import engine_pb2

    try:
        engine.Log(
            engine_pb2.LogRequest(
                severity=engine_pb2.INFO, message=message, urn=urn, ephemeral=True
            ),
            timeout=5,
        )
    except Exception:  # progress is best effort: the create goes on regardless
        return
