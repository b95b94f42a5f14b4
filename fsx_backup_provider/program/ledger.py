"""The stack's ledger as a program declares it (its provider: providers/ledger.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pulumi
from pulumi.dynamic import Resource

from fsx_backup_provider.core.constants import FSX_BACKUP_LEDGER_NAME, RESOURCE_MODULE
from fsx_backup_provider.providers.ledger import FsxBackupLedgerProvider

LEDGER_RESOURCE_NAME = "fsx-backup-ledger"


class FsxBackupLedger(Resource, module=RESOURCE_MODULE, name=FSX_BACKUP_LEDGER_NAME):
    """The tokens every FsxBackup and FsxBackupCopy of the stack ever held (module docstring)."""

    tokens: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        tokens: Sequence[pulumi.Output[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(FsxBackupLedgerProvider(), resource_name, {"tokens": _after(tokens)}, opts)


def _after(tokens: Sequence[pulumi.Output[str]]) -> pulumi.Output[list[str]]:
    """The tokens, as an input that waits for them without depending on their resources.

    A dependency would make `pulumi destroy --target <a backup>` refuse (the
    ledger "will be destroyed but was not specified") or, with
    --target-dependents, destroy the ledger and what it remembers. Waiting for
    the values is all the ledger needs: it is registered once every backup's
    create has answered. At `up` a token that is not known (a create that
    failed) is left out; at preview an unknown one makes the list unknown.
    """
    preview = pulumi.runtime.is_dry_run()

    async def values() -> list[str]:
        found = [await token.future() for token in tokens]
        return [t for t in found if isinstance(t, str)]

    async def known() -> bool:
        return not preview or all([await token.is_known() for token in tokens])

    async def secret() -> bool:
        return any([await token.is_secret() for token in tokens])

    # Tasks, not bare coroutines: they run even when nothing awaits them (a
    # program that fails first would warn of coroutines never awaited).
    return pulumi.Output(
        set(),
        asyncio.ensure_future(values()),
        asyncio.ensure_future(known()),
        asyncio.ensure_future(secret()),
    )
