"""The stack's last checkpoint, as the user's program reads it (program side).

The engine's builtin invoke `pulumi:pulumi:readStackResourceOutputs` (what
stack references are built on) gives a program the resources of a stack's
last checkpoint with their outputs. Read on the program's own stack, once per
program run, it tells two things no provider call does:

- which backups and tokens the stack's FsxBackups and FsxBackupCopies hold,
  and which tokens the stack's ledger says were ever held: the ownership a
  create must respect (program/seed.py sends it to the provider through the seed);
- at preview, the outputs a backup updated in place keeps (preview.py).

A failed read is reported, never raised: the caller decides what it costs.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from fsx_backup_provider.core.constants import (
    FSX_BACKUP_COPY_TYPE,
    FSX_BACKUP_LEDGER_TYPE,
    FSX_BACKUP_TYPE,
)

READ_STATE = "pulumi:pulumi:readStackResourceOutputs"
BACKUP_TYPES = (FSX_BACKUP_TYPE, FSX_BACKUP_COPY_TYPE)


@dataclass(frozen=True)
class Held:
    """A backup or copy of the checkpoint: its resource's URN, what it holds, and
    which of its outputs the state keeps secret."""

    urn: str
    type: str
    outputs: Mapping[str, Any]
    secret_keys: frozenset[str] = frozenset()

    @property
    def backup_id(self) -> str | None:
        value = self.outputs.get("backup_id")
        return value if isinstance(value, str) else None

    @property
    def token(self) -> str | None:
        value = self.outputs.get("client_request_token")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Checkpoint:
    """What the stack's last checkpoint holds of this provider's, or why it could not be read."""

    held: tuple[Held, ...] = ()
    # Every token the stack's ledger records as having been held.
    ledger_tokens: frozenset[str] = frozenset()
    error: str | None = None
    # The checkpoint holds the stack's ledger (providers/seed.py: a ledger that is
    # gone makes the seed draw a new base).
    has_ledger: bool = False
    by_id: dict[tuple[str, str], Held] = field(default_factory=dict, compare=False)

    def find(self, type_token: str, backup_id: str) -> Held | None:
        return self.by_id.get((type_token, backup_id))


def stack_name() -> str:
    """The program's stack, fully qualified (`organization/project/stack`)."""
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"


async def _invoke_keeping_secrets(name: str) -> Any:
    """The invoke's result as the engine sends it, secrets still marked per value.

    The SDK's invoke functions unwrap every secret and say only whether the
    whole result held one, which would make every output of every backup
    secret at preview in a stack with one secret tag. So the request goes to
    the resource monitor directly (pulumi.runtime.settings.get_monitor, the
    generated ResourceInvokeRequest): internals, which a caller falls back
    from (to the SDK's invoke, treating every value as secret).
    """
    from pulumi.runtime import rpc
    from pulumi.runtime.proto import resource_pb2
    from pulumi.runtime.settings import get_monitor

    args = await rpc.serialize_properties({"stackName": name}, {})
    request = resource_pb2.ResourceInvokeRequest(tok=READ_STATE, args=args, acceptResources=True)
    monitor = get_monitor()
    if monitor is None:
        raise RuntimeError("no resource monitor")
    response = await asyncio.get_running_loop().run_in_executor(
        None, lambda: monitor.Invoke(request)
    )
    if response.failures:
        raise RuntimeError(f"{response.failures[0].reason} ({response.failures[0].property})")
    return getattr(response, "return")


def _parse(result: Any, marked: bool) -> Checkpoint:
    """Our resources of an invoke result; `marked`: secrets are still marked in it."""
    from pulumi.runtime import rpc

    held: list[Held] = []
    ledger: set[str] = set()
    has_ledger = False
    for urn, entry in _items(_get(result, "outputs")):
        kind = _get(entry, "type")
        if kind not in (*BACKUP_TYPES, FSX_BACKUP_LEDGER_TYPE):
            continue
        outputs: dict[str, Any] = {}
        secret: set[str] = set()
        for key, value in _items(_get(entry, "outputs")):
            if key == "__provider":
                continue
            plain = rpc.deserialize_property(value) if marked else value
            if not marked or rpc.is_rpc_secret(plain):
                secret.add(key)
            outputs[key] = rpc.unwrap_rpc_secret(plain) if marked else plain
        if kind == FSX_BACKUP_LEDGER_TYPE:
            has_ledger = True
            ledger.update(t for t in outputs.get("tokens") or [] if isinstance(t, str))
        else:
            held.append(Held(str(urn), str(kind), outputs, frozenset(secret)))
    by_id = {(h.type, h.backup_id): h for h in held if h.backup_id}
    return Checkpoint(tuple(held), frozenset(ledger), None, has_ledger=has_ledger, by_id=by_id)


def _get(container: Any, key: str) -> Any:
    """`container[key]` of a dict or a protobuf Struct (which has no `get`), else None."""
    fields = getattr(container, "fields", None)
    if fields is not None:
        return container[key] if key in fields else None
    return container.get(key) if isinstance(container, Mapping) else None


def _items(container: Any) -> list[tuple[str, Any]]:
    if isinstance(container, Mapping) or getattr(container, "fields", None) is not None:
        return list(container.items())
    return []


async def _read() -> Checkpoint:
    # A legacy (non-project) file backend takes the bare stack name.
    names = (stack_name(), pulumi.get_stack())
    errors: list[str] = []
    for name in names:
        try:
            return _parse(await _invoke_keeping_secrets(name), marked=True)
        except Exception as error:  # internals differ, or the name's form: try on
            errors.append(_first_line(error))
        try:
            return _parse(await pulumi.runtime.invoke_async(READ_STATE, {"stackName": name}), False)
        except Exception as error:  # every failure is the caller's to weigh
            errors.append(_first_line(error))
    return Checkpoint(error=errors[-1] if errors else "no reason given")


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[-1] if text else type(error).__name__


_reads: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Future[Checkpoint]] = (
    weakref.WeakKeyDictionary()
)


def checkpoint() -> asyncio.Future[Checkpoint]:
    """The stack's last checkpoint, read once per program run (its first caller starts it)."""
    loop = asyncio.get_event_loop()
    found = _reads.get(loop)
    if found is None:
        found = _reads[loop] = asyncio.ensure_future(_read())
    return found
