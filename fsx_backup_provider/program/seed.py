"""The stack's seed as a program declares it, and the identity each backup takes from it.

What the seed is and why: providers/seed.py. Here: the URN a resource is
about to get, the seed resource, the scope keys the program's main body
declares, and each resource's identity Output.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi.dynamic import Resource

from fsx_backup_provider.core.constants import FSX_BACKUP_SEED_NAME, RESOURCE_MODULE, STACK_TYPE
from fsx_backup_provider.core.scope import scope_key
from fsx_backup_provider.program.ledger import LEDGER_RESOURCE_NAME, FsxBackupLedger
from fsx_backup_provider.program.stack_state import checkpoint, stack_name
from fsx_backup_provider.providers.seed import FsxBackupSeedProvider

SEED_RESOURCE_NAME = "fsx-backup-seed"
# The name a late-declared resource's own seed gets, beside the resource.
LATE_SEED_SUFFIX = "-fsx-backup-seed"


def child_urn(resource_type: str, name: str, parent_urn: str | None) -> str:
    """The URN the engine gives a resource of `resource_type` named `name` under a parent.

    A child's type is qualified by its parent's (`parent$child`), except for
    children of the stack itself (pkg/resource/urn.go, NewURN).
    """
    if parent_urn is None:
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{resource_type}::{name}"
    prefix, parent_type, _parent_name = parent_urn.rsplit("::", 2)
    qualified = resource_type if parent_type == STACK_TYPE else f"{parent_type}${resource_type}"
    return f"{prefix}::{qualified}::{name}"


def resource_urn(
    resource_type: str, name: str, parent: pulumi.Resource | None
) -> str | pulumi.Output[str]:
    """The URN of a resource about to be registered, as an input that depends on nothing.

    A child's URN needs its parent's, known only once the parent is
    registered. Taking it with `parent.urn.apply(...)` would make the child
    depend on its parent, and the engine expands a dependency on a component
    to all the component's children, this one included: a cycle. So the value
    is carried over into an Output with no resources: waiting for the parent's
    registration, without depending on it.
    """
    if parent is None or parent.pulumi_resource_type == STACK_TYPE:
        return child_urn(resource_type, name, None)
    parent_urn = parent.urn

    async def value() -> str:
        resolved = await parent_urn.future()
        return child_urn(resource_type, name, resolved)

    return pulumi.Output(set(), value(), parent_urn.is_known(), parent_urn.is_secret())


class FsxBackupSeed(Resource, module=RESOURCE_MODULE, name=FSX_BACKUP_SEED_NAME):
    """The per-stack identity every FsxBackup's token is derived from (providers/seed.py)."""

    base: pulumi.Output[str]
    identities: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        resource_name: str,
        declared: pulumi.Input[Sequence[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "declared": declared,
            # The stack it lives in: a seed copied into another stack renews itself.
            "stack": stack_name(),
            "base": None,
            "revision": None,
            "identities": None,
        }
        holders = _holders()
        if holders is not None:
            props["holders"] = holders
        super().__init__(FsxBackupSeedProvider(), resource_name, props, opts)


async def _constant(value: Any) -> Any:
    return value


def _holders() -> pulumi.Output[dict[str, Any]] | None:
    """What the stack's last checkpoint says it holds, for the seed's check (ownership.py).

    Read at `up` only: a preview creates nothing. A secret input, so the
    engine never shows it; the seed's check hands it to the provider process
    and keeps none of it in the state.
    """
    if pulumi.runtime.is_dry_run():
        return None

    async def value() -> dict[str, Any]:
        read = await checkpoint()
        if read.error is not None:
            return {"read": False, "error": read.error}
        held = [
            [h.token or "", h.backup_id or "", scope_key(h.urn), str(h.outputs.get("region") or "")]
            for h in read.held
        ]
        return {
            "read": True,
            "held": held,
            "retired": sorted(read.ledger_tokens),
            "ledger": read.has_ledger,
        }

    return pulumi.Output(set(), value(), _constant(True), _constant(True))


class _ProgramSeeds:
    """The seed of one program run and the scope keys declared for it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # A key is known at once for a resource without a parent; under a
        # parent it waits for the parent's URN.
        self.keys: list[str | pulumi.Output[str]] = []
        self.sealed = False
        self.declared: asyncio.Future[list[str]] = loop.create_future()
        self._resolving: asyncio.Future[None] | None = None
        # The backups and copies declared in the main body, for the ledger.
        self.sources: list[pulumi.Resource] = []
        self.seed = FsxBackupSeed(SEED_RESOURCE_NAME, pulumi.Output.from_input(self.declared))
        # Runs once the program's main body has returned control to the loop.
        loop.call_soon(self._seal)
        # Identities handed out by key, filled in once from the seed's map.
        # Whether they are known (the seed's map is, or is not, in a preview)
        # and that none is secret hold for all of them: one future each, shared.
        self._loop = loop
        self._identities: dict[str, list[asyncio.Future[Any]]] = {}
        self._known: asyncio.Future[bool] = loop.create_future()
        self._not_secret: asyncio.Future[bool] = loop.create_future()
        self._not_secret.set_result(False)
        self._feeding: asyncio.Future[None] | None = None

    def identity(self, key: str) -> pulumi.Output[str]:
        """The identity of the resource with scope key `key`, depending on the seed.

        Built from futures that one task fills from the seed's map, rather
        than with an apply on the map per resource: every apply looks the
        whole map over for unknown values, so n resources cost n x n. One
        future of its own per resource, the rest shared (a preview of 200
        backups spent about 2% of its program's time on the others).
        """
        value: asyncio.Future[Any] = self._loop.create_future()
        self._identities.setdefault(key, []).append(value)
        if self._feeding is None:
            self._feeding = asyncio.ensure_future(self._feed())
        return pulumi.Output({self.seed}, value, self._known, self._not_secret)

    async def _feed(self) -> None:
        identities = self.seed.identities
        known = await identities.is_known()
        found = await identities.future() if known else None
        for key, waiting in self._identities.items():
            for value in waiting:
                try:
                    value.set_result(_identity_of(found, key) if known else None)
                except pulumi.RunError as missing:
                    # That registration fails with the reason; the rest go on.
                    value.set_exception(missing)
        self._known.set_result(known)

    def _seal(self) -> None:
        self.sealed = True
        if self.sources:
            # After every backup and copy of the main body: their tokens.
            FsxBackupLedger(
                LEDGER_RESOURCE_NAME,
                [source.client_request_token for source in self.sources],  # type: ignore[attr-defined]
            )
        known = {key for key in self.keys if isinstance(key, str)}
        waiting = [key for key in self.keys if not isinstance(key, str)]

        async def resolve() -> None:
            values = await asyncio.gather(*(key.future() for key in waiting))
            self.declared.set_result(sorted(known | {value for value in values if value}))

        self._resolving = asyncio.ensure_future(resolve())


_programs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _ProgramSeeds] = (
    weakref.WeakKeyDictionary()
)


def stack_identity(
    urn: str | pulumi.Output[str], name: str, parent: pulumi.Resource | None
) -> pulumi.Output[str]:
    """The identity input of a resource at `urn`: `<seed base>.<serial>`, depending on the seed.

    Every resource constructed while the program's main body runs shares the
    stack's seed; one constructed later gets a seed of its own, named after
    it and placed beside it.
    """
    # As few Outputs as may be: the SDK tracks every Output it makes until the
    # program ends, and each costs time in its end-of-program wait.
    key: str | pulumi.Output[str] = scope_key(urn) if isinstance(urn, str) else urn.apply(scope_key)
    loop = asyncio.get_event_loop()
    program = _programs.get(loop)
    if program is None:
        program = _programs[loop] = _ProgramSeeds(loop)
    if not program.sealed:
        program.keys.append(key)
        seed = program.seed
    else:
        seed = FsxBackupSeed(
            f"{name}{LATE_SEED_SUFFIX}",
            pulumi.Output.from_input(key).apply(lambda k: [k]),
            pulumi.ResourceOptions(parent=parent),
        )
    if seed is program.seed:
        # The stack's seed waits for every key declared, this one included,
        # so the identity is handed out before the seed's map arrives.
        return program.identity(key) if isinstance(key, str) else key.apply(program.identity)
    # A seed of the resource's own: a map of one key.
    return pulumi.Output.from_input(key).apply(
        lambda k: seed.identities.apply(lambda found: _identity_of(found, k))
    )


def _identity_of(identities: Any, key: str) -> str:
    """The resource's own identity from the seed's map.

    The map is None only under Pulumi's mocks (`pulumi.runtime.set_mocks`
    echo a resource's inputs as its outputs), where nothing is ever created:
    users' unit tests of programs that declare backups must still run. A key
    the map lacks is a new resource whose seed was left out of the run
    (`--target` of the resource alone, or `--exclude` of the seed): its
    identity was never recorded, so it cannot be created safely.
    """
    if identities is None:
        return ""
    if key not in identities:
        raise pulumi.RunError(
            f"{key.rsplit('::', 1)[-1]} ({key}) is new, and its identity must be recorded by "
            "the stack's seed (fsx-backup-seed) before it is created, but the seed is left out "
            "of this run (--target without it, or --exclude of it). Run `pulumi up` without "
            "--target/--exclude, or add `--target` with the seed's URN "
            "(`pulumi stack --show-urns` lists it)."
        )
    return str(identities[key])


def track(resource: pulumi.Resource) -> None:
    """Count a backup or copy constructed in the program's main body into the ledger."""
    program = _programs.get(asyncio.get_event_loop())
    if program is not None and not program.sealed:
        program.sources.append(resource)
