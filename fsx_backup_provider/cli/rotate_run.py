"""One rotate run's engine steps on its stack: its program, the recovery of a killed
run's creates, the restore test of its period, and the result read from the state."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fsx_backup_provider.cli.engine import Target
from fsx_backup_provider.cli.events import EventWatcher
from fsx_backup_provider.cli.interrupt import InterruptGuard
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
)
from fsx_backup_provider.cli.rotation_plan import (
    PeriodSlot,
    RotationPlan,
    period_slots,
)
from fsx_backup_provider.cli.state import StackState, StateBackup
from fsx_backup_provider.core.constants import FSX_BACKUP_COPY_TYPE, ROTATION_MARKER_TYPE

if TYPE_CHECKING:
    import pulumi
    from pulumi import automation as auto

    from fsx_backup_provider.program.backup import FsxBackup
from fsx_backup_provider.cli.rotate_result import (
    ROTATION_OUTPUT,
    CopyTarget,
    RotationFailed,
    RotationResult,
)


def rotation_program(
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
                resources.append(recorded_copy(slot.copy, backup if same else None))
            elif backup is not None and copy_target is not None:
                resources.append(
                    declare_copy(slot.name, backup, copy_target.region, copy_target.kms_key_id)
                )
        export_backups(backups)
        if about is not None:
            pulumi.export(ROTATION_OUTPUT, dict(about))
        await registered(resources)

    return program


def recorded_copy(copy: StateBackup, backup: FsxBackup | None) -> pulumi.Resource:
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
class Run:
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


def recover(
    run: Run,
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
    run.up(rotation_program([slots[p] for p in sorted(slots, reverse=True)], None))
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


def outcome(run: Run, plan: RotationPlan, state: StackState) -> RotationResult:
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


def restore_timeout(timeout: float | None) -> float:
    from fsx_backup_provider.aws.restore_plan import DEFAULT_TIMEOUT_SECONDS

    return DEFAULT_TIMEOUT_SECONDS if timeout is None else timeout


def restore_test_period(
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
    from fsx_backup_provider.aws.restore_plan import RestoreTestResult
    from fsx_backup_provider.aws.restores import clear_leftovers_of_gone_backups, run_restore_test

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
            timeout=restore_timeout(timeout),
            progress=say,
        )
        run_restore_test(
            tested,
            region=target.region,
            endpoint_url=endpoint_url,
            profile=profile,
            timeout=restore_timeout(timeout),
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
