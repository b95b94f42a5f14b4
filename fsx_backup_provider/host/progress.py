"""Progress of a waiting create, shown in the engine's output.

A dynamic provider has no API for progress, but the engine starts every
provider plugin with the address of its Engine service as the one argument
(`python -m pulumi.dynamic 127.0.0.1:PORT`), and that service's Log RPC
attaches a message to a resource by URN. create() is not told its URN, so the
program sends it as an input (see identity.resource_urn).
"""

from __future__ import annotations

from typing import Any

from fsx_backup_provider.host.server import engine as _engine


def report(urn: Any, message: str) -> None:
    """Show `message` as the resource's current status; never fails the operation."""
    if not isinstance(urn, str) or not urn.startswith("urn:pulumi:"):
        return
    engine = _engine()
    if engine is None:
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
