"""Scheduled backups with retention: a backup every period, keep the newest N.

    from fsx_backup_provider.cli.rotate import rotate
    result = rotate("fs-0123456789abcdef0", keep=7, every="day", region="eu-west-1")
    result.created, result.deleted, result.kept     # backup IDs; kept newest first
    rotate(..., copy_to_region="us-west-2").copies  # backup ID -> its copy's ID

Each run works on one stack of its own. The stack declares one FsxBackup per
period, named `<prefix>-<stamp>` (`daily-2024-01-15`). A run refreshes the
stack (a backup deleted outside is dropped from the state), then declares the
run's period and the newest `keep - 1` earlier periods the state still holds,
and deploys: the period's backup is created, the periods that fell out of the
window are deleted. Which periods exist comes only from the stack's state, so
backups the stack did not make are never touched. Earlier periods are
declared exactly as the state records them, so a changed `--tag` or source
affects new periods only, and a re-run inside a period changes nothing.

With a copy Region, each kept backup also has an FsxBackupCopy there, named
`<backup name>-copy`. A copy belongs to its period, not to its backup: it is
deleted only when its period leaves the window, so a backup deleted by hand
never takes its copy with it. Copies already in the state are declared as
recorded, so a run without the flag keeps them; new backups get a copy only
when it is given.

A killed run leaves its creates pending in the state, with the inputs their
tokens derive from. The next run, in whatever period, first declares those
resources again (`_recover`): each create asks FSx with the killed run's own
token and gets back the backup that run made, which then rotates like any
other (kept if its period is in the window, else deleted). Only those tokens
are asked for; FSx is never listed.

The engine deletes after it creates, so the oldest backup goes only once the
new one is AVAILABLE; a failed create deletes nothing. The engine's lock on
the stack serialises runs: of two at once, one deploys and the other fails
naming the lock, and the stable ClientRequestToken means one period never has
two backups. See docs/rotation.md.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fsx_backup_provider.aws.servicemodel import string_rule
from fsx_backup_provider.cli.engine import (
    DEFAULT_PARALLEL,
    DEFAULT_PROJECT,
    StackState,
    StateBackup,
    Target,
    UsageError,
    checked_target,
    command_error_text,
    lock_hint,
    open_stack,
    prepare_backend,
)
from fsx_backup_provider.cli.events import EventWatcher
from fsx_backup_provider.cli.interrupt import Interrupted, InterruptGuard
from fsx_backup_provider.cli.program import (
    COPY_SUFFIX,
    declare_backup,
    declare_copy,
    export_backups,
    registered,
)
from fsx_backup_provider.cli.render import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    INTERRUPTED_MESSAGE,
)
from fsx_backup_provider.cli.rotation_plan import (
    ADJECTIVE,
    EARLIEST_AT,
    EVERY,
    RULES,
    Period,
    PeriodSlot,
    Retention,
    RotationPlan,
    check_made_by_rotate,
    in_utc,
    parse_at,
    period_in_name,
    period_of,
    period_slots,
    plan_rotation,
)
from fsx_backup_provider.cli.spec import (
    NAME_PATTERN,
    BackupSpec,
    SpecError,
    source_ids,
    validate_specs,
)
from fsx_backup_provider.cli.text import cap_lines, short
from fsx_backup_provider.core.constants import FSX_BACKUP_COPY_TYPE, ROTATION_MARKER_TYPE

if TYPE_CHECKING:
    import pulumi
    from pulumi import automation as auto

    from fsx_backup_provider.program.backup import FsxBackup

__all__ = [
    "ADJECTIVE",
    "EVERY",
    "CopyTarget",
    "Period",
    "Retention",
    "RotationFailed",
    "RotationPlan",
    "RotationResult",
    "default_stack",
    "parse_at",
    "period_in_name",
    "period_of",
    "plan_rotation",
    "rotate",
]

# A rotation's names start with the adjective of its period unless --name says otherwise.
DEFAULT_PREFIX = ADJECTIVE
# The stack output naming the rotation's prefix, period and rules (`fsx-backup list`).
ROTATION_OUTPUT = "rotation"


@dataclass(frozen=True)
class CopyTarget:
    """Where the copies of new backups go, and the KMS key that encrypts them."""

    region: str
    kms_key_id: str | None = None


@dataclass
class RotationResult:
    """What a rotate run did: backup IDs created, deleted, and kept (newest first)."""

    stack: str
    project: str
    backend: str
    period: str | None
    result: str = "succeeded"
    exit_code: int = EXIT_OK
    created: list[str] = field(default_factory=list)
    # Every backup and copy this run deleted.
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    # For the table: the kept periods' names (newest first; with a backup,
    # kept_names), what the state holds of the backups, and the name of each
    # backup or copy deleted.
    kept_names: list[str] = field(default_factory=list)
    period_names: list[str] = field(default_factory=list)
    backups: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted_names: dict[str, str] = field(default_factory=dict)
    # After a failure: the backups and copies the run meant to delete (their
    # period left the window) that are still held, name -> backup ID.
    not_deleted: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    problems: list[str] = field(default_factory=list)
    # Backup ID -> the ID of its copy, for the kept backups that have one.
    copies: dict[str, str] = field(default_factory=dict)
    # Kept periods whose backup is gone (deleted outside) and whose copy is
    # kept: name -> {"copy_id", "source_backup_id"}.
    copies_without_backup: dict[str, dict[str, str]] = field(default_factory=dict)
    # Backups and copies a killed run made, found by their tokens:
    # name -> {"backup_id", "action": "adopted" | "deleted"}.
    recovered: dict[str, dict[str, str]] = field(default_factory=dict)
    # With restore_test=True: the restore test of the period's backup (restores.py's JSON).
    restore_test: dict[str, Any] | None = None
    # The retention rules in use (rule -> count), and which rules keep each kept
    # period (name -> rules).
    retention: dict[str, int] = field(default_factory=dict)
    kept_by: dict[str, list[str]] = field(default_factory=dict)
    # --dry-run: nothing was changed; what a run would create ({"name",
    # "period"}) and delete ({"name", "period", "backup_id"}).
    dry_run: bool = False
    would_create: list[dict[str, str]] = field(default_factory=list)
    would_delete: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "command": "rotate",
            "stack": self.stack,
            "project": self.project,
            "backend": self.backend,
            "period": self.period,
            "result": self.result,
            "exit_code": self.exit_code,
            "created": self.created,
            "deleted": self.deleted,
            "not_deleted": self.not_deleted,
            "kept": self.kept,
            "copies": self.copies,
            "copies_without_backup": self.copies_without_backup,
            "recovered": self.recovered,
            "restore_test": self.restore_test,
            "retention": self.retention,
            "kept_by": self.kept_by,
            "dry_run": self.dry_run,
            "would_create": self.would_create,
            "would_delete": self.would_delete,
            "error": self.error,
            "problems": cap_lines(self.problems),
        }


class RotationFailed(Exception):
    """The engine failed (a backup FAILED, FSx refused, the stack is locked...), or
    the run was interrupted (Ctrl-C: `result.result` is `cancelled`).

    `result` is what the stack's state holds after the failure; `locked` is
    true when another run held the stack's lock.
    """

    def __init__(self, message: str, result: RotationResult, locked: bool) -> None:
        super().__init__(message)
        self.result = result
        self.locked = locked


def _program(
    slots: list[PeriodSlot],
    copy_target: CopyTarget | None,
    about: Mapping[str, Any] | None = None,
) -> Callable[[], Any]:
    """Declare each slot's backup and copy, and export the backups (and, given `about`,
    the rotation's prefix, period and rules as the `rotation` output, which `list` reads)."""

    async def program() -> None:
        import pulumi

        # The stack's mark, first and checkpointed before any backup (its
        # registration answers once the engine recorded it): a run killed after
        # its first CreateBackup leaves a stack the next run knows as its own.
        await pulumi.ComponentResource(ROTATION_MARKER_TYPE, "rotation").urn.future()
        backups: dict[str, FsxBackup] = {}
        resources: list[pulumi.Resource] = []
        for slot in slots:
            backup = None
            if slot.backup is not None:
                backup = backups[slot.name] = declare_backup(slot.backup)
                resources.append(backup)
            if slot.copy is not None:
                # Of this very backup, it depends on it (deleted first, made after);
                # otherwise (its backup gone, or made again) it is kept as it is.
                same = backup is not None and slot.backup_id == slot.copy.inputs.get(
                    "source_backup_id"
                )
                resources.append(_recorded_copy(slot.copy, backup if same else None))
            elif backup is not None and copy_target is not None:
                resources.append(
                    declare_copy(slot.name, backup, copy_target.region, copy_target.kms_key_id)
                )
        export_backups(backups)
        if about is not None:
            pulumi.export(ROTATION_OUTPUT, dict(about))
        await registered(resources)

    return program


def _recorded_copy(copy: StateBackup, backup: FsxBackup | None) -> pulumi.Resource:
    """A copy declared as the state records it: a later run's flags never replace it."""
    from fsx_backup_provider.program.copy import FsxBackupCopy

    inputs = copy.inputs
    return FsxBackupCopy(
        copy.name,
        backup.backup_id if backup is not None else inputs.get("source_backup_id"),
        source_region=inputs.get("source_region"),
        region=inputs.get("region"),
        kms_key_id=inputs.get("kms_key_id"),
        copy_tags=inputs.get("copy_tags"),
        tags=inputs.get("tags"),
    )


@dataclass
class _Run:
    """One rotate run's engine steps on its stack, with what each learnt."""

    target: Target
    stack: auto.Stack
    watcher: EventWatcher
    guard: InterruptGuard
    say: Callable[[str], None]
    common: dict[str, Any]
    # Every backup and copy ID the state held at some point of this run, by ID.
    seen: dict[str, str] = field(default_factory=dict)
    # The IDs seen before the run's own deploy: what it did not create. None
    # until the deploy starts: a run that failed before (a lock, a refresh
    # that failed) created nothing.
    seen_before_deploy: set[str] | None = None
    # The run's plan, once made; what it found a killed run had made.
    plan: RotationPlan | None = None
    recovered: dict[str, dict[str, str]] = field(default_factory=dict)

    def read(self) -> StackState:
        state = StackState.read(self.stack)
        for name, held in (*state.backups.items(), *state.copies.items()):
            if held.backup_id:
                self.seen[held.backup_id] = name
        return state

    def refresh(self, *, clear_pending_creates: bool) -> StackState:
        self.guard.check()
        self.stack.refresh(
            run_program=False,
            clear_pending_creates=clear_pending_creates,
            on_event=self.watcher,
            **self.common,
        )
        # What a refresh drops was deleted outside, not by this run.
        self.seen.clear()
        return self.read()

    def up(self, program: Callable[[], Any]) -> StackState:
        self.guard.check()
        self.stack.up(program=program, on_event=self.watcher, **self.common)
        return self.read()


def _recover(
    run: _Run,
    state: StackState,
    prefix: str,
    every: str,
    plan_of: Callable[[StackState], RotationPlan],
) -> StackState:
    """Find the backups and copies a killed run left pending, by that run's own tokens.

    Declares everything the state holds, as recorded, plus each pending
    create with the inputs the killed run gave it: the stack's seed still
    holds that resource's identity (the killed run declared it), so its
    create derives the same token, and FSx answers with the backup the killed
    run made (or, had the run been killed before it reached FSx, makes it
    now). Nothing else changes and nothing is deleted in this step; the
    pending operations are cleared once their resources are in the state.
    Returns the state after; `run.recovered` says what was found, by name.
    """
    # A create pending under a name the state also holds is a replacement's,
    # under another epoch: not a backup the state lost track of.
    pending = [
        name
        for name in state.pending_creates
        if name not in state.backups and name not in state.copies
    ]
    if not pending:
        return state
    run.say(
        f"rotate: a killed run left {len(pending)} create(s) unfinished ({', '.join(pending)}); "
        "finding what it made by its ClientRequestTokens"
    )
    backups, copies = with_pending(state)
    slots = period_slots(backups, copies, prefix, every, run.target.stack)
    run.up(_program([slots[p] for p in sorted(slots, reverse=True)], None))
    # Resolved: the resources are in the state now, and the pending entries
    # would otherwise name them again after they are deleted.
    recovered_state = run.refresh(clear_pending_creates=True)
    held = {**recovered_state.backups, **recovered_state.copies}
    plan = plan_of(recovered_state)
    kept = {name for slot in plan.slots for name in slot.in_state()}
    for name in pending:
        if name not in held:
            continue
        action = "adopted" if name in kept else "deleted"
        run.recovered[name] = {"backup_id": held[name].backup_id, "action": action}
        run.say(
            f"rotate: {name}: {held[name].backup_id}, made by a killed run, found by its "
            + (
                "token: adopted into its period"
                if action == "adopted"
                else "token: its period is outside the window, so it is deleted with the others"
            )
        )
    return recovered_state


def with_pending(state: StackState) -> tuple[dict[str, StateBackup], dict[str, StateBackup]]:
    """The backups and copies of the state, with those a killed run left pending."""
    backups, copies = dict(state.backups), dict(state.copies)
    for name, (kind, held) in state.pending_creates.items():
        if name not in backups and name not in copies:
            (copies if kind == FSX_BACKUP_COPY_TYPE else backups)[name] = held
    return backups, copies


def _outcome(run: _Run, plan: RotationPlan, state: StackState) -> RotationResult:
    """The result, from the state after the run and every ID the run saw."""
    held = {b.backup_id for b in (*state.backups.values(), *state.copies.values())}
    kept_names = [slot.name for slot in plan.slots if slot.name in state.backups]
    copy_of = {
        state.backups[name].backup_id: copy.backup_id
        for name in kept_names
        if (copy := state.copies.get(f"{name}{COPY_SUFFIX}")) is not None
    }
    deleted = {name: backup_id for backup_id, name in run.seen.items() if backup_id not in held}
    recovered = run.recovered
    recovered_ids = {entry["backup_id"] for entry in recovered.values()}
    without_backup = {
        slot.name: {
            "copy_id": copy.backup_id,
            "source_backup_id": str(copy.inputs.get("source_backup_id") or ""),
        }
        for slot in plan.lost
        if slot.copy is not None and (copy := state.copies.get(slot.copy.name)) is not None
    }
    return RotationResult(
        stack=run.target.stack,
        project=run.target.project,
        backend=run.target.backend,
        period=plan.period.stamp,
        created=[
            b.backup_id
            for b in state.backups.values()
            if run.seen_before_deploy is not None
            and b.backup_id not in run.seen_before_deploy
            and b.backup_id not in recovered_ids
        ],
        deleted=list(deleted.values()),
        kept=[state.backups[n].backup_id for n in kept_names],
        kept_names=kept_names,
        period_names=[
            s.name for s in plan.slots if s.name in kept_names or s.name in without_backup
        ],
        backups={n: b.summary() for n, b in state.backups.items()},
        deleted_names=deleted,
        not_deleted={
            name: still.backup_id
            for name in plan.dropped
            if (still := state.backups.get(name) or state.copies.get(name)) is not None
        },
        copies=copy_of,
        copies_without_backup=without_backup,
        recovered=dict(recovered),
        retention=plan.retention.rules(),
        kept_by={
            n: plan.kept_by[n] for n in plan.kept_by if n in kept_names or n in without_backup
        },
    )


def rotate(
    source: str,
    keep: int | None = None,
    *,
    keep_last: int | None = None,
    keep_hourly: int | None = None,
    keep_daily: int | None = None,
    keep_weekly: int | None = None,
    keep_monthly: int | None = None,
    keep_yearly: int | None = None,
    dry_run: bool = False,
    every: str = "day",
    at: datetime | str | None = None,
    name: str | None = None,
    tags: Mapping[str, str] | None = None,
    stack: str | None = None,
    project: str = DEFAULT_PROJECT,
    backend: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    parallel: int = DEFAULT_PARALLEL,
    progress: Callable[[str], None] | None = None,
    engine_output: Callable[[str], None] | None = None,
    copy_to_region: str | None = None,
    copy_kms_key_id: str | None = None,
    restore_test: bool = False,
    restore_test_timeout: float | None = None,
    adopt_stack: bool = False,
) -> RotationResult:
    """Back up `source` (fs-... or fsvol-...) for the period of `at` (default: now), and keep
    the stack's backups that the retention rules keep.

    The rules are restic's (docs/rotation.md): `keep_last` N periods, the
    newest of each of the `keep_hourly`/`_daily`/`_weekly`/`_monthly`/
    `_yearly` N most recent hours, UTC days, ISO weeks, months or years that
    hold a backup; any combination, at least one. `keep` N is `keep_last` N.
    With `dry_run`, the state and FSx are only read: the result says what a
    run would create (`would_create`) and delete (`would_delete`).

    With `copy_to_region`, each kept backup has a copy there (encrypted with
    `copy_kms_key_id`, default: that Region's FSx key), rotated with it.

    With `restore_test`, once the rotation succeeded (and the stack's lock is
    released), the period's backup is restore-tested (restores.py, bounded by
    `restore_test_timeout`); the result's `restore_test` says how it went, and
    a failed one makes the result `failed` (exit code 1). It deletes nothing
    but its own restore.

    `name` is the backups' name prefix (default daily/hourly/weekly); `stack`
    defaults to `<prefix>-<source>`. A rotation works only on a stack a
    rotation made (it deletes what its rules drop): one that holds backups
    and no rotation's mark is refused, unless `adopt_stack` (for a stack
    fsx-backup 0.3 or earlier rotated, which left no mark). `progress` receives the progress lines
    `fsx-backup` prints, `engine_output` the engine's own output.

    Raises SpecError for arguments or a stack that a rotation cannot use
    (nothing is deployed), UsageError for the environment (no engine, no
    region, a bad backend), and RotationFailed when the deployment fails or
    is interrupted (Ctrl-C in the main thread lets the engine stop cleanly;
    the result then says `cancelled`).
    """
    prefix = DEFAULT_PREFIX.get(every, "") if name is None else name
    rule_problems: list[str] = []
    if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
        rule_problems.append(f"--parallel must be at least 1, got {short(parallel)}")
    try:
        retention = retention_of(
            keep,
            last=keep_last,
            hourly=keep_hourly,
            daily=keep_daily,
            weekly=keep_weekly,
            monthly=keep_monthly,
            yearly=keep_yearly,
        )
    except SpecError as error:
        rule_problems, retention = error.problems, Retention(last=1)
    try:
        period, new = _checked_arguments(source, retention, every, at, prefix, tags)
    except SpecError as error:
        raise SpecError(rule_problems + error.problems) from error
    if rule_problems:
        raise SpecError(rule_problems)
    from fsx_backup_provider.aws.restores import MAX_TIMEOUT_SECONDS

    if restore_test_timeout is not None and not (
        0 < restore_test_timeout <= MAX_TIMEOUT_SECONDS
    ):
        raise SpecError(
            [
                "--restore-test-timeout must be a number of seconds more than 0 and at most "
                f"{MAX_TIMEOUT_SECONDS:g} (7 days), got {restore_test_timeout:g}"
            ]
        )
    if dry_run and restore_test:
        raise SpecError(
            ["--dry-run changes nothing and so restores nothing: drop --restore-test, or "
             "--dry-run"]
        )
    copy_target = _checked_copy_target(copy_to_region, copy_kms_key_id)
    target = checked_target(
        stack or default_stack(source, every, name), project, backend, region, endpoint_url, profile
    )
    if not dry_run:
        # Last: a file:// backend's directory is created only for a run that goes ahead.
        target = replace(target, backend=prepare_backend(target.backend))
    say = progress or (lambda _line: None)
    say(
        f"fsx-backup rotate{' --dry-run' if dry_run else ''}: stack {target.stack}, project "
        f"{target.project}, backend {target.backend}, region {target.region}, period "
        f"{period.stamp}, keep {retention.describe()}"
    )
    common: dict[str, Any] = {"parallel": parallel, "color": "never", "on_output": engine_output}
    watcher = EventWatcher(say)

    def plan_of(state: StackState) -> RotationPlan:
        return plan_rotation(
            state.backups, period, new, retention, prefix, target.stack, copies=state.copies
        )

    if dry_run:
        return _dry_run(target, prefix, period, copy_target, plan_of, say, adopt_stack)
    swept: list[str] = []

    def before_deploy(dropped: list[str]) -> None:
        """A restore test's restore of a backup the run drops, still CREATING after a
        timed-out test, would fail its DeleteBackup (BackupRestoring): gone first."""
        from fsx_backup_provider.aws.restores import clear_leftovers_of_gone_backups

        swept.extend(
            clear_leftovers_of_gone_backups(
                also=dropped,
                region=target.region,
                endpoint_url=endpoint_url,
                profile=profile,
                timeout=_restore_timeout(restore_test_timeout),
                progress=say,
            )
        )

    result = _deploy(
        target,
        watcher,
        say,
        common,
        prefix,
        copy_target,
        plan_of,
        period,
        adopt_stack,
        before_deploy if restore_test else None,
    )
    if restore_test:
        _restore_test_period(
            result, target, endpoint_url, profile, say, restore_test_timeout, swept
        )
    return result


def _restore_timeout(timeout: float | None) -> float:
    from fsx_backup_provider.aws.restores import DEFAULT_TIMEOUT_SECONDS

    return DEFAULT_TIMEOUT_SECONDS if timeout is None else timeout


def _restore_test_period(
    result: RotationResult,
    target: Target,
    endpoint_url: str | None,
    profile: str | None,
    say: Callable[[str], None],
    timeout: float | None,
    swept: list[str],
) -> None:
    """Restore-test the period's backup (the newest kept), into `result`; `swept`: the
    restore-test leftovers the run already deleted."""
    from fsx_backup_provider.aws.restores import (
        RestoreTestResult,
        clear_leftovers_of_gone_backups,
        run_restore_test,
    )

    if not result.kept:
        result.restore_test = None
        result.result, result.exit_code = "failed", EXIT_FAILED
        result.error = "restore test: the period has no backup to restore"
        return
    tested = RestoreTestResult(result.kept[0])
    try:
        # Restores of backups gone from FSx (this run deleted some): nothing else
        # would ever delete them.
        swept_now = clear_leftovers_of_gone_backups(
            region=target.region,
            endpoint_url=endpoint_url,
            profile=profile,
            timeout=_restore_timeout(timeout),
            progress=say,
        )
        run_restore_test(
            tested,
            region=target.region,
            endpoint_url=endpoint_url,
            profile=profile,
            timeout=_restore_timeout(timeout),
            progress=say,
        )
    except KeyboardInterrupt:
        # The rotation is done and stands; what the restore test restored stays,
        # tagged, and the next restore test of that backup deletes it first.
        tested.result, tested.exit_code = "cancelled", EXIT_INTERRUPTED
        tested.error = "interrupted (Ctrl-C)"
        result.restore_test = tested.to_json()
        result.result, result.exit_code = "cancelled", EXIT_INTERRUPTED
        message = (
            f"interrupted (Ctrl-C) in the restore test of {tested.backup_id}, after the "
            "rotation succeeded; the next restore test of that backup deletes what it restored"
        )
        result.error = message
        raise RotationFailed(message, result, locked=False) from None
    tested.leftovers_deleted += swept + swept_now
    result.restore_test = tested.to_json()
    if tested.exit_code != EXIT_OK:
        result.result, result.exit_code = "failed", EXIT_FAILED
        result.error = f"restore test of {tested.backup_id} failed: {tested.error}"


def _deploy(
    target: Target,
    watcher: EventWatcher,
    say: Callable[[str], None],
    common: dict[str, Any],
    prefix: str,
    copy_target: CopyTarget | None,
    plan_of: Callable[[StackState], RotationPlan],
    period: Period,
    adopt_stack: bool,
    before_deploy: Callable[[list[str]], None] | None,
) -> RotationResult:
    from pulumi import automation as auto

    with InterruptGuard(say) as guard:
        try:
            with open_stack(target, lambda: None, create=True) as pulumi_stack:
                run = _Run(target, pulumi_stack, watcher, guard, say, common)
                try:
                    return _rotate_on(run, prefix, copy_target, plan_of, adopt_stack, before_deploy)
                except (auto.CommandError, Interrupted) as error:
                    # Inside the stack's workspace, which can still read the state.
                    run.plan = run.plan or _plan_or_none(plan_of, run)
                    raise _failure(error, guard, run, target, period) from error
        except auto.InvalidVersionError as error:
            raise UsageError(f"the Pulumi engine on PATH cannot be used: {error}") from error
        except (auto.CommandError, Interrupted) as error:
            # The stack could not even be opened (an unreachable backend, say).
            raise _failure(error, guard, None, target, period) from error


def _rotate_on(
    run: _Run,
    prefix: str,
    copy_target: CopyTarget | None,
    plan_of: Callable[[StackState], RotationPlan],
    adopt_stack: bool,
    before_deploy: Callable[[list[str]], None] | None = None,
) -> RotationResult:
    """Refresh, recover what a killed run left, plan, deploy: the steps of one run."""
    state = run.read()
    # Refused before anything changes: a stack rotate did not make, backups
    # that are not this rotation's, or a period older than the newest (pending
    # creates count).
    backups, copies = with_pending(state)
    check_made_by_rotate(state.rotation, [*backups, *copies], run.target.stack, adopt_stack)
    own = plan_of(StackState(backups, copies, {}))
    if backups or copies:
        # Pending creates are kept: they are what finds a killed run's backups.
        state = run.refresh(clear_pending_creates=False)
    state = _recover(run, state, prefix, own.period.every, plan_of)
    run.plan = plan_of(state)
    _say_plan(run.say, run.plan)
    if before_deploy is not None:
        before_deploy(
            [state.backups[n].backup_id for n in run.plan.dropped if n in state.backups]
        )
    run.seen_before_deploy = set(run.seen)
    about = {
        "prefix": prefix,
        "every": run.plan.period.every,
        "retention": run.plan.retention.rules(),
    }
    state = run.up(_program(run.plan.slots, copy_target, about))
    return _outcome(run, run.plan, state)


def _dry_run(
    target: Target,
    prefix: str,
    period: Period,
    copy_target: CopyTarget | None,
    plan_of: Callable[[StackState], RotationPlan],
    say: Callable[[str], None],
    adopt_stack: bool,
) -> RotationResult:
    """What a run would do, from the state and FSx as they are: nothing is written.

    The state is read with one export (no lock, no refresh, no stack created);
    the backups and copies it records are described in FSx, and those FSx no
    longer has are left out, as the real run's refresh would. A create a
    killed run left pending counts as held (the real run finds it by its
    token), its backup ID unknown.
    """
    from pulumi import automation as auto

    state = StackState({}, {}, {})
    local = target.backend.removeprefix("file://")
    if local == target.backend or Path(local).is_dir():
        try:
            with open_stack(target, lambda: None, create=False) as pulumi_stack:
                state = StackState.read(pulumi_stack)
        except auto.StackNotFoundError:
            pass
        except auto.CommandError as error:
            result = RotationResult(target.stack, target.project, target.backend, period.stamp)
            result.dry_run, result.result, result.exit_code = True, "failed", EXIT_FAILED
            result.error = command_error_text(error)
            raise RotationFailed(result.error, result, False) from error
    backups, copies = with_pending(state)
    # Refused as a real run would be: a stack rotate did not make, backups not
    # this rotation's, an older period.
    check_made_by_rotate(state.rotation, [*backups, *copies], target.stack, adopt_stack)
    plan_of(StackState(backups, copies, {}))
    try:
        live = described_backups(target, {**backups, **copies})
    except Exception as error:  # FSx could not be read: nothing is known
        result = RotationResult(target.stack, target.project, target.backend, period.stamp)
        result.dry_run, result.result, result.exit_code = True, "failed", EXIT_FAILED
        result.error = f"--dry-run: could not read the stack's backups from FSx: {error}"
        raise RotationFailed(result.error, result, False) from error
    gone = [
        name
        for name, recorded in {**backups, **copies}.items()
        if recorded.backup_id and recorded.backup_id not in live
    ]
    for name in gone:
        say(f"rotate: {name}: {(backups.get(name) or copies[name]).backup_id} is gone from FSx")
    backups = {n: b for n, b in backups.items() if n not in gone}
    copies = {n: c for n, c in copies.items() if n not in gone}
    plan = plan_of(StackState(backups, copies, {}))
    _say_plan(say, plan)
    held = {**backups, **copies}
    would_create = []
    for slot in plan.slots:
        if slot.backup is not None and slot.backup_id is None:
            would_create.append({"name": slot.name, "period": slot.period.stamp})
        if slot.backup is not None and slot.copy is None and copy_target is not None:
            would_create.append({"name": f"{slot.name}{COPY_SUFFIX}", "period": slot.period.stamp})
    would_delete = []
    for name in plan.dropped:
        dropped = period_in_name(name.removesuffix(COPY_SUFFIX), prefix, period.every)
        would_delete.append(
            {
                "name": name,
                "period": dropped.stamp if dropped else "",
                "backup_id": held[name].backup_id,
            }
        )
    kept_names = [slot.name for slot in plan.slots if slot.backup is not None]
    summaries = {n: b.summary() for n, b in backups.items()}
    for summary in summaries.values():
        if summary["backup_id"] in live:
            summary["lifecycle"] = live[summary["backup_id"]].get("Lifecycle")
    lost = {
        slot.name: {
            "copy_id": slot.copy.backup_id,
            "source_backup_id": str(slot.copy.inputs.get("source_backup_id") or ""),
        }
        for slot in plan.lost
        if slot.copy is not None
    }
    return RotationResult(
        stack=target.stack,
        project=target.project,
        backend=target.backend,
        period=period.stamp,
        kept=[backups[n].backup_id for n in kept_names if n in backups],
        kept_names=kept_names,
        period_names=[slot.name for slot in plan.slots],
        backups=summaries,
        copies={
            backups[slot.name].backup_id: slot.copy.backup_id
            for slot in plan.slots
            if slot.copy is not None and slot.name in backups
        },
        copies_without_backup=lost,
        retention=plan.retention.rules(),
        kept_by=plan.kept_by,
        dry_run=True,
        would_create=would_create,
        would_delete=would_delete,
    )


def described_backups(target: Target, held: Mapping[str, StateBackup]) -> dict[str, dict[str, Any]]:
    """The live FSx descriptions of the backups and copies `held` records, by backup ID;
    those FSx does not know, or reports DELETED, are left out. Only these IDs are asked."""
    from fsx_backup_provider.aws.fsx import client_for
    from fsx_backup_provider.aws.session import Connection
    from fsx_backup_provider.core.lifecycle import gone

    by_region: dict[str | None, list[str]] = {}
    for backup in held.values():
        if backup.backup_id:
            region = backup.inputs.get("region") or target.region
            by_region.setdefault(region, []).append(backup.backup_id)
    live: dict[str, dict[str, Any]] = {}
    for region, ids in by_region.items():
        client = client_for(Connection(region, target.profile, target.endpoint_url))
        for backup_id, described in client.describe_backups(ids).items():
            if not gone(described):
                live[backup_id] = dict(described)
    return live


def _say_plan(say: Callable[[str], None], plan: RotationPlan) -> None:
    say(
        f"rotate: period {plan.period.stamp}; keeping "
        + ", ".join(slot.name for slot in plan.slots)
        + (f"; dropping {', '.join(plan.dropped)}" if plan.dropped else "")
    )
    for slot in plan.lost:
        assert slot.copy is not None
        say(
            f"rotate: {slot.name}: its backup {slot.copy.inputs.get('source_backup_id')} is gone "
            f"(deleted outside the rotation); its copy {slot.copy.backup_id} in "
            f"{slot.copy.outputs.get('region') or slot.copy.inputs.get('region')} is kept until "
            "the period leaves the window"
        )


def _plan_or_none(
    plan_of: Callable[[StackState], RotationPlan], run: _Run | None
) -> RotationPlan | None:
    if run is None:
        return None
    from pulumi import automation as auto

    try:
        return plan_of(StackState.read(run.stack))
    except (auto.CommandError, SpecError):  # the failure being reported matters more
        return None


def _failure(
    error: Exception,
    guard: InterruptGuard,
    run: _Run | None,
    target: Target,
    period: Period,
) -> RotationFailed:
    """RotationFailed with what the state holds after the failure, as far as it can be read."""
    from pulumi import automation as auto

    result = RotationResult(target.stack, target.project, target.backend, period.stamp)
    if run is not None and run.plan is not None:
        with contextlib.suppress(auto.CommandError):
            result = _outcome(run, run.plan, run.read())
    locked = isinstance(error, auto.ConcurrentUpdateError)
    watcher_errors = run.watcher.errors if run is not None else []
    message = "\n".join(watcher_errors) or (
        command_error_text(error) if isinstance(error, auto.CommandError) else ""
    )
    if locked:
        message = f"{message}\n{lock_hint(target)}"
    if guard.interrupted:
        message = "\n".join(filter(None, [INTERRUPTED_MESSAGE, message]))
        result.result, result.exit_code = "cancelled", EXIT_INTERRUPTED
    else:
        result.result, result.exit_code = "failed", EXIT_FAILED
    result.error = message
    return RotationFailed(message, result, locked)


def _checked_copy_target(region: str | None, kms_key_id: str | None) -> CopyTarget | None:
    """--copy-to-region and --copy-kms-key-id, by FsxBackupCopy's own rules (the FSx model)."""
    if region is None:
        if kms_key_id is not None:
            raise SpecError(["--copy-kms-key-id: give --copy-to-region too (where the copies go)"])
        return None
    problems = []
    region_problem = string_rule("Region").problem(region)
    if region_problem:
        problems.append(f"--copy-to-region {short(region)}: {region_problem}")
    if kms_key_id is not None:
        key_problem = string_rule("KmsKeyId").problem(kms_key_id)
        if key_problem:
            problems.append(f"--copy-kms-key-id: {key_problem}")
    if problems:
        raise SpecError(problems)
    return CopyTarget(region, kms_key_id)


def default_stack(source: str, every: str, name: str | None) -> str:
    """A stack of its own for each rotation: `<prefix>-<source>` (daily-fs-0123456789abcdef0)."""
    return f"{name or DEFAULT_PREFIX.get(every, every)}-{source}"


def retention_of(
    keep: int | None = None,
    *,
    last: int | None = None,
    hourly: int | None = None,
    daily: int | None = None,
    weekly: int | None = None,
    monthly: int | None = None,
    yearly: int | None = None,
) -> Retention:
    """The rules of --keep/--keep-last/... (None: not given); SpecError if they cannot be used.

    Each given rule keeps at least 1; at least one is given; `keep` is `last`.
    """
    given = {
        "last": last,
        "hourly": hourly,
        "daily": daily,
        "weekly": weekly,
        "monthly": monthly,
        "yearly": yearly,
    }
    problems = []
    for flag, count in (("keep", keep), *((f"keep-{r}", given[r]) for r in RULES)):
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            problems.append(f"--{flag} {short(count)}: give a whole number of backups")
        elif count is not None and count < 1:
            problems.append(f"--{flag} {short(count)}: keep at least 1 backup")
    if keep is not None and last is not None and keep != last:
        problems.append(
            f"--keep {short(keep)} and --keep-last {short(last)}: --keep is --keep-last; give one"
        )
    if keep is None and all(count is None for count in given.values()):
        problems.append(
            "give at least one retention rule: --keep-last, --keep-hourly, --keep-daily, "
            "--keep-weekly, --keep-monthly or --keep-yearly (or --keep N, the same as "
            "--keep-last N)"
        )
    if problems:
        raise SpecError(problems)
    if keep is not None:
        given["last"] = keep
    return Retention(**{rule: count or 0 for rule, count in given.items()})


def _checked_arguments(
    source: str,
    keep: int | Retention,
    every: str,
    at: datetime | str | None,
    prefix: str,
    tags: Mapping[str, str] | None,
) -> tuple[Period, BackupSpec]:
    problems: list[str] = []
    if every not in EVERY:
        raise SpecError([f"--every {short(every)}: use one of {', '.join(EVERY)}"])
    if isinstance(keep, Retention):
        pass  # checked by retention_of
    elif isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        problems.append(f"--keep {short(keep)}: keep at least 1 backup")
    now = datetime.now(UTC)
    when: datetime | None = now
    out_of_range = (
        f"--at {short(str(at))}: a rotation runs for a time from "
        f"{EARLIEST_AT:%Y-%m-%dT%H:%M:%SZ} to now"
    )
    try:
        if isinstance(at, str):
            when = parse_at(at)
        elif isinstance(at, datetime):
            when = in_utc(at)
        elif at is not None:
            when = None
            problems.append(f"--at {short(at)}: give an ISO 8601 string or a datetime")
    except ValueError:
        when = None
        problems.append(
            f"--at {short(at)}: not an ISO 8601 date or time, e.g. 2024-01-15 or "
            "2024-01-15T03:00:00Z"
        )
    except OverflowError:
        when = None
        problems.append(out_of_range)
    if when is not None and when < EARLIEST_AT:
        problems.append(out_of_range)
    if when is None or when < EARLIEST_AT:
        when = now  # only to go on checking the other arguments
    period = period_of(when, every)
    if period.start > now:
        problems.append(
            f"--at {short(str(at))}: period {period.stamp} has not started yet; a rotation "
            "runs for the current period or a past one"
        )
    if not NAME_PATTERN.fullmatch(period.name(prefix)):
        problems.append(
            f"--name {short(prefix)}: a prefix of letters, digits, '.', '_' or '-', starting "
            f"with a letter or digit, at most {100 - len(period.stamp) - 1} characters"
        )
    file_system_id, volume_id = source_ids(source, f"--source {short(source)}", problems)
    new = BackupSpec(
        period.name(prefix), file_system_id, volume_id, dict(tags or {}), origin="rotate"
    )
    if file_system_id or volume_id:
        problems += validate_specs([new], {})
    if problems:
        raise SpecError(problems)
    return period, new
