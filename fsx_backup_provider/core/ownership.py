"""Which backups and tokens a create may take: the rule, with no timing in it.

A derived token names one backup. A create whose token FSx answers with a
live backup takes it only when that backup can be its own interrupted create:
no resource of the stack holds it or its token now, and no resource of the
stack ever held the token. What shows it, before any create of the run:

- the stack's last checkpoint, read by the program (stack_state.py) and handed
  to the provider through the seed's check, which the engine runs before any
  backup's: the backup ID and token every FsxBackup and FsxBackupCopy of the
  stack holds, under its scope key;
- the stack's ledger (ledger.py): every token a resource of the stack held at
  the end of any run, kept when the resource leaves the state (state move,
  state delete, a rename, retain_on_delete), so a resource declared again in
  its place derives past it;
- this run: what its creates took, and what the engine's diffs show held.

A token the stack holds or held is *retired*: the token walk passes it by
without asking FSx (a user's own token is refused instead). An interrupted
create never completed, so its token is in neither; its re-run finds its
backup and takes it. Other stacks cannot reach this stack's tokens: each
stack's seed has a random base, and a stack cloned from another's state (or
renamed) draws a new one (providers/seed.py). Nothing here waits for other
resources to register: the checkpoint is known before the first create.

If the checkpoint could not be read, nothing can show a found backup is the
create's own, so the seed's check fails the run before any change (the rule
fails closed); a stack being created has no checkpoint and nothing to hold.

This module imports nothing of Pulumi's: it is the rule alone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

NOT_LOADED = (
    "the stack's seed (fsx-backup-seed) was not checked in this run (it is left out by "
    "--target or --exclude), so the provider does not know which backups the stack holds"
)


@dataclass(frozen=True)
class HeldBackup:
    """A backup or copy the stack's checkpoint records, and the resource holding it."""

    key: str
    backup_id: str | None
    token: str | None
    region: str | None


def held_from(rows: Any) -> list[HeldBackup]:
    """The seed's `holders.held` input (lists of token, backup ID, key, Region) as HeldBackups."""
    found: list[HeldBackup] = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, list) or len(row) != 4:
            continue
        token, backup_id, key, region = (v if isinstance(v, str) and v else None for v in row)
        if key is not None:
            found.append(HeldBackup(key, backup_id, token, region))
    return found


class Ownership:
    """Who holds which backups and tokens in the stack, for the creates and deletes of one run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held_tokens: dict[str, str] = {}
        self._held_backups: dict[str, str] = {}
        self._retired: set[str] = set()
        self._taken: set[str] = set()
        self._epochs: dict[str, int] = {}
        self._loaded = False

    # -- what the run starts from ------------------------------------------------

    def load(self, held: Iterable[HeldBackup], retired: Iterable[str]) -> None:
        """The stack's checkpoint and ledger, from the seed's check (before any create)."""
        with self._lock:
            for backup in held:
                if backup.token:
                    self._held_tokens.setdefault(backup.token, backup.key)
                if backup.backup_id:
                    self._held_backups.setdefault(backup.backup_id, backup.key)
            self._retired.update(t for t in retired if t)
            self._loaded = True

    @property
    def loaded(self) -> bool:
        with self._lock:
            return self._loaded

    def saw(self, key: str | None, *, token: Any = None, backup_id: Any = None) -> None:
        """The engine diffed a resource of the program that holds `token` and `backup_id`."""
        if not key:
            return
        with self._lock:
            if isinstance(token, str) and token:
                self._held_tokens[token] = key
                self._retired.add(token)
            if isinstance(backup_id, str) and backup_id:
                self._held_backups[backup_id] = key

    # -- the rule -------------------------------------------------------------------

    def retired(self, token: str) -> str | None:
        """Who holds or held `token`, which no create may use then (the resource itself
        included: a replacement's new backup is another backup): the holder's scope
        key, or "the stack" for a token only the ledger remembers; None if it is free."""
        with self._lock:
            holder = self._held_tokens.get(token)
            if holder is not None:
                return holder
            return "the stack" if token in self._retired else None

    def holder(self, backup_id: str) -> str | None:
        """The scope key of the resource of the stack that holds this backup, if one does."""
        with self._lock:
            return self._held_backups.get(backup_id)

    def held_backups(self) -> set[str]:
        with self._lock:
            return set(self._held_backups)

    # -- this run's creates and deletes -----------------------------------------

    def take(self, backup_id: str, token: str | None = None, key: str = "") -> str | None:
        """A create (or import) of this run found this backup: it is the resource
        `key`'s, unless the stack holds it already (returns that holder, takes nothing).

        Check and take are one step under the lock, and what is taken counts as
        held from then on: two resources of one run that reach one backup (the
        same user token, two imports of one ID) cannot both take it. No delete of
        this run may remove it, and no other create may take it or its token."""
        with self._lock:
            holder = self._held_backups.get(backup_id)
            if holder is not None:
                return holder
            self._taken.add(backup_id)
            self._held_backups[backup_id] = key or "another resource of this run"
            if token:
                self._retired.add(token)
                self._held_tokens.setdefault(token, key or "another resource of this run")
            return None

    def taken(self, backup_id: str) -> bool:
        with self._lock:
            return backup_id in self._taken

    def epoch(self, key: str | None, old_key: str | None, old_epoch: int | None) -> int:
        """The token epoch of a resource the engine checks now (see tokens.py).

        A resource in the state (checked with its old inputs) keeps its
        epoch, and its old scope key is marked as taken at that epoch. The
        engine checks a resource it replaces again without old inputs (right
        after the check with them, in this process): that check, and any new
        resource under a key an existing resource held, moves past it, so a
        replacement seldom derives a retired token (and walks past it if it does).
        """
        with self._lock:
            if old_epoch is not None:
                for held in {old_key, key} - {None}:
                    assert held is not None
                    self._epochs[held] = max(self._epochs.get(held, old_epoch), old_epoch)
                return old_epoch
            if key is None:
                return 0
            return self._epochs.get(key, -1) + 1
