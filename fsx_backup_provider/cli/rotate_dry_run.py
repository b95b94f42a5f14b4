"""`rotate --dry-run`: what a run would do, from the state and FSx as they are."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fsx_backup_provider.cli.engine import Target, command_error_text, open_stack
from fsx_backup_provider.cli.program import (
    COPY_SUFFIX,
)
from fsx_backup_provider.cli.render import (
    EXIT_FAILED,
)
from fsx_backup_provider.cli.rotation_plan import (
    Period,
    RotationPlan,
    check_made_by_rotate,
    period_in_name,
)
from fsx_backup_provider.cli.state import StackState, StateBackup

if TYPE_CHECKING:
    pass
from fsx_backup_provider.cli.rotate_result import CopyTarget, RotationFailed, RotationResult
from fsx_backup_provider.cli.rotate_run import (
    with_pending,
)


def preview_rotation(
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
    say_plan(say, plan)
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


def say_plan(say: Callable[[str], None], plan: RotationPlan) -> None:
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
