"""Which stack a backup belongs to: a per-stack seed, kept in the stack's own state.

A backup's ClientRequestToken must be stable (a re-run of an interrupted
create asks FSx for the same token and gets the same backup back) and unique
to one resource of one stack instance (two stacks, two backends, a renamed
stack or a resource declared again later must never land on another's
backup). Names alone are not unique: two operators' default backends, or two
organisations, can hold stacks of the same project and stack name.

So every program that declares FsxBackups also declares one small resource
of this provider's own, the *seed*, registered before any backup (every
FsxBackup takes an input from it, so the engine creates and checkpoints the
seed first). Its create draws a random `base`; the state then keeps it, so a
re-run after a crash finds the same base, and another stack, backend or
renamed stack's new namesake has its own. A destroy removes it.

The seed also numbers the resources it has seen declared: `identities` maps
the scope key of each declared FsxBackup (its URN without stack and project)
to `<base>.<serial>`, the serial being the seed revision at which it was
declared, for as long as it stays declared.
A resource removed from the program (say kept with retain_on_delete) and
declared again later gets a new serial, so it never finds the backup it left
behind. The list comes from the program itself: every FsxBackup constructed
while the program's main body runs is added, and the seed is registered when
that body returns (the next turn of the event loop). A backup constructed
later (inside an apply callback) gets a seed of its own, beside it.
"""

from __future__ import annotations

import asyncio
import importlib
import secrets
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from fsx_backup_provider.constants import FSX_BACKUP_SEED_NAME, RESOURCE_MODULE, STACK_TYPE
from fsx_backup_provider.ledger import LEDGER_RESOURCE_NAME, FsxBackupLedger
from fsx_backup_provider.stack_state import checkpoint, stack_name

SEED_RESOURCE_NAME = "fsx-backup-seed"

# Inputs the seed's check sets: whether the last `up`'s checkpoint held the
# stack's ledger (kept from up to up without an update: the engine records a
# resource's new inputs on an unchanged step too), and whether a ledger seen
# before is gone now, which makes it draw a new base (next_identities).
LEDGER_SEEN = "ledger_seen"
LEDGER_LOST = "ledger_lost"
# The name a late-declared resource's own seed gets, beside the resource.
LATE_SEED_SUFFIX = "-fsx-backup-seed"


def scope_key(urn: str) -> str:
    """What names a resource inside its stack: its URN without stack and project.

    `urn:pulumi:<stack>::<project>::<qualified type>::<name>` gives
    `<qualified type>::<name>`: unique in a stack (the engine refuses two
    resources with one URN) and unchanged when the stack or project is renamed.
    """
    parts = urn.split("::", 2)
    return parts[2] if len(parts) == 3 else urn


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


# -- the seed resource --------------------------------------------------------


def _positive_int(value: Any) -> int:
    # Pulumi carries numbers as floats: 3.0 in the state is the serial 3.
    if isinstance(value, int | float) and not isinstance(value, bool) and value == int(value):
        return int(value)
    return 0


class FsxBackupSeedProvider(ResourceProvider):
    """A random base and the identities of the declared resources; nothing in AWS.

    Its class path is pickled into every state that holds a seed: it must
    keep resolving (see README, "What never moves").
    """

    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        from fsx_backup_provider.base import configure_process

        configure_process(req)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        from fsx_backup_provider.host import diffs

        diffs.install()
        declared = news.get("declared")
        failures = []
        if not isinstance(declared, list) or not all(isinstance(k, str) for k in declared):
            failures.append(CheckFailure("declared", "must be a list of resource scope keys"))
        else:
            _warm_up()
        # What the stack holds is this run's to know, never the state's to keep.
        holders = news.pop("holders", None)
        seen_before = olds.get(LEDGER_SEEN) is True
        news[LEDGER_SEEN], news[LEDGER_LOST] = seen_before, False
        if isinstance(holders, Mapping):
            problem = _load_holders(holders, seed_exists=bool(olds))
            if problem:
                failures.append(CheckFailure("holders", problem))
            elif holders.get("read"):
                # Only this is kept: whether the checkpoint holds the ledger.
                present = bool(holders.get("ledger"))
                news[LEDGER_SEEN], news[LEDGER_LOST] = present, seen_before and not present
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        declared = sorted(set(props.get("declared") or []))
        base = secrets.token_hex(16)
        outputs = {
            "declared": declared,
            "base": base,
            "revision": 1,
            "identities": {key: f"{base}.1" for key in declared},
            "stack": props.get("stack"),
        }
        return CreateResult(f"seed-{base[:12]}", outputs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [
            key
            for key, differs in (
                ("declared", set(olds.get("declared") or []) != set(news.get("declared") or [])),
                ("stack", _moved(olds, news.get("stack"))),
                ("ledger", news.get(LEDGER_LOST) is True),
            )
            if differs
        ]
        if changed:
            from fsx_backup_provider.host import diffs

            diffs.note(changed, [])
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        outputs = next_identities(
            olds, news.get("declared") or [], news.get("stack"), news.get(LEDGER_LOST) is True
        )
        return UpdateResult(outputs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


_warmed = threading.Event()


def _warm_up() -> None:
    """Import the backup providers and their validation now, in the background.

    The seed is checked first, and the declared resources only after its step
    completes: their first check would otherwise stop every engine call for
    the ~30 ms these imports and the model's patterns take (2% of a
    200-backup preview, `make bench`).
    """
    if _warmed.is_set():
        return
    _warmed.set()

    def load() -> None:
        from fsx_backup_provider.servicemodel import string_rule

        for module in ("fsx_backup_provider.provider", "fsx_backup_provider.backup_copy"):
            importlib.import_module(module)
        string_rule("TagKey")

    threading.Thread(target=load, name="fsx-backup-warm-up", daemon=True).start()


def _moved(olds: Mapping[str, Any], stack: Any) -> bool:
    """The seed's state now belongs to another stack than the one it was made in:
    a stack cloned from another's exported state, or renamed."""
    made_in = olds.get("stack")
    return isinstance(made_in, str) and isinstance(stack, str) and made_in != stack


def next_identities(
    olds: Mapping[str, Any],
    declared: Sequence[str],
    stack: Any = None,
    ledger_lost: bool = False,
) -> dict[str, Any]:
    """The seed's state after the program declares `declared` in `stack`.

    Keys still declared keep their identity (a re-run after a crash derives
    the same tokens); a key that is new, or back after being dropped, gets
    the next revision as its serial; keys no longer declared are forgotten.
    A seed whose state moved to another stack (a clone of the stack, or the
    stack renamed) draws a new base and renews every identity: the stack it
    was copied from keeps the old base, and the two must never derive one
    token. Resources already made keep their backups (an identity only feeds
    the tokens of creates to come).

    So does a seed whose stack's ledger, which it saw before, is gone
    (`pulumi state delete` or `destroy --target` of it, or a `state move` of
    it with a backup): the ledger was the record of which tokens the stack's
    resources held, and without it a resource declared again could derive a
    token whose backup another stack now holds. The price: a create a killed
    run left pending is not found again (its backup stays in FSx), which the
    warning says.
    """
    raw = olds.get("identities")
    old: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    base = olds.get("base")
    revision = _positive_int(olds.get("revision")) or 1
    keys = sorted(set(declared))
    if _moved(olds, stack) or ledger_lost:
        base, old = secrets.token_hex(16), {}
    if any(key not in old for key in keys):
        revision += 1
    identities = {
        key: old[key] if isinstance(old.get(key), str) else f"{base}.{revision}" for key in keys
    }
    outputs = {"declared": keys, "base": base, "revision": revision, "identities": identities}
    made_in = stack if isinstance(stack, str) else olds.get("stack")
    if made_in is not None:
        outputs["stack"] = made_in
    return outputs


def _load_holders(holders: Mapping[str, Any], seed_exists: bool) -> str | None:
    """Hand what the stack holds (read from its checkpoint by the program) to this
    process's Ownership before any create; what is wrong with it, if anything."""
    from fsx_backup_provider.lifecycle import process_state
    from fsx_backup_provider.ownership import held_from

    state = process_state()
    if not holders.get("read"):
        if not seed_exists:
            # A stack's first FsxBackups: it has no checkpoint yet, and no
            # backup of its own to hold.
            state.ownership.load([], [])
            return None
        return (
            "the stack's state could not be read to tell which backups it holds "
            f"({holders.get('error') or 'no reason given'}), and without that no create can "
            "tell its own interrupted backup from one another resource holds. Nothing was "
            "changed. The program reads it with the engine's builtin "
            "pulumi:pulumi:readStackResourceOutputs; check the backend is reachable."
        )
    held = held_from(holders.get("held"))
    retired = [t for t in holders.get("retired") or [] if isinstance(t, str)]
    state.ownership.load(held, retired)
    return None


class FsxBackupSeed(Resource, module=RESOURCE_MODULE, name=FSX_BACKUP_SEED_NAME):
    """The per-stack identity every FsxBackup's token is derived from (see module docstring)."""

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


# -- the program side ---------------------------------------------------------


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
