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

This module is the seed's provider; program/seed.py declares it.
"""

from __future__ import annotations

import importlib
import secrets
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

# Inputs the seed's check sets: whether the last `up`'s checkpoint held the
# stack's ledger (kept from up to up without an update: the engine records a
# resource's new inputs on an unchanged step too), and whether a ledger seen
# before is gone now, which makes it draw a new base (next_identities).
LEDGER_SEEN = "ledger_seen"
LEDGER_LOST = "ledger_lost"


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
        from fsx_backup_provider.providers.base import configure_process

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
        from fsx_backup_provider.aws.servicemodel import string_rule

        for module in (
            "fsx_backup_provider.providers.backup",
            "fsx_backup_provider.providers.copy",
        ):
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
    from fsx_backup_provider.core.ownership import held_from
    from fsx_backup_provider.core.process import process_state

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


# Every state that holds one records this class pickled by reference under
# the path it had before providers/ existed; that module re-exports it, and
# the class keeps reporting it, so states old and new record one path.
FsxBackupSeedProvider.__module__ = "fsx_backup_provider.identity"
