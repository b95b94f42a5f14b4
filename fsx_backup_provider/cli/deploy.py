"""Running up, preview, refresh, destroy and cancel on a stack, into a Report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fsx_backup_provider.cli.engine import Target, command_error_text, lock_hint, open_stack
from fsx_backup_provider.cli.events import Console, EventWatcher, op_counts
from fsx_backup_provider.cli.interrupt import InterruptGuard
from fsx_backup_provider.cli.program import make_program
from fsx_backup_provider.cli.render import (
    EXIT_CHANGES,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    INTERRUPTED_MESSAGE,
    Report,
)
from fsx_backup_provider.cli.spec import BackupSpec
from fsx_backup_provider.cli.state import made_by_rotate, state_backups


def run(
    command: str,
    target: Target,
    specs: Sequence[BackupSpec],
    console: Console,
    *,
    parallel: int,
    verbose: bool,
    refresh: bool = False,
) -> Report:
    """One engine command on the stack; failures become the report's error and exit code.

    Ctrl-C while it runs lets the engine stop cleanly (interrupt.py); the
    report then says `cancelled`, with exit code 130.
    """
    report = Report(command, target.stack, target.project, target.backend)
    with InterruptGuard(console.line) as guard:
        _run(report, command, target, specs, console, parallel, verbose, refresh)
    if guard.interrupted and report.result != "succeeded":
        report.result, report.exit_code = "cancelled", EXIT_INTERRUPTED
        report.error = "\n".join(filter(None, [INTERRUPTED_MESSAGE, report.error]))
    return report


def _run(
    report: Report,
    command: str,
    target: Target,
    specs: Sequence[BackupSpec],
    console: Console,
    parallel: int,
    verbose: bool,
    refresh: bool,
) -> None:
    from pulumi import automation as auto

    watcher = EventWatcher(console.line, planning=command == "preview")
    declared = f", {len(specs)} backup(s) declared" if command in ("up", "preview") else ""
    console.line(
        f"fsx-backup {command}: stack {target.stack}, project {target.project}, "
        f"backend {target.backend}, region {target.region}{declared}"
    )
    common: dict[str, Any] = {
        "parallel": parallel,
        "color": "never",
        "on_output": console.line if verbose else None,
        "on_event": watcher,
    }
    try:
        with open_stack(
            target,
            make_program(specs),
            create=command in ("up", "preview"),
            preview=command == "preview",
        ) as stack:
            if command == "refresh":
                _say_pending_creates(stack, console)
            if command in ("up", "preview") and made_by_rotate(
                stack.export_stack().deployment or {}
            ):
                # Its periods are in no spec: `up` would delete every one.
                report.error = (
                    f"stack {target.stack} is a rotation's (fsx-backup rotate made it): "
                    f"fsx-backup {command} of a spec would delete its backups. Run "
                    "`fsx-backup rotate` on it, or pass another --stack"
                )
                report.exit_code = EXIT_USAGE
                return
            try:
                report.resource_changes, report.result = _engine_command(
                    stack, command, common, refresh
                )
                report.exit_code = EXIT_OK
                if command == "preview" and any(
                    count for op, count in report.resource_changes.items() if op != "same"
                ):
                    report.exit_code = EXIT_CHANGES
            except auto.CommandError as error:
                report.error = "\n".join(watcher.errors) or command_error_text(error)
                if isinstance(error, auto.ConcurrentUpdateError):
                    report.error += "\n" + lock_hint(target)
                report.resource_changes = watcher.summary
                report.result, report.exit_code = "failed", EXIT_FAILED
            report.changes = watcher.changes
            report.deleted = watcher.deleted_ids
            try:
                report.backups = {n: b.summary() for n, b in state_backups(stack).items()}
            except auto.CommandError as error:
                console.line(f"fsx-backup: cannot read the stack's state: {error}")
    except auto.InvalidVersionError as error:
        report.error = f"the Pulumi engine on PATH cannot be used: {error}"
        report.exit_code = EXIT_USAGE
    except auto.StackNotFoundError:
        report.error = (
            f"stack {target.stack!r} of project {target.project!r} does not exist in backend "
            f"{target.backend} (`up` creates it)"
        )
        report.exit_code = EXIT_USAGE
    except auto.CommandError as error:
        # The stack could not even be opened (an unreachable backend, say).
        report.error = command_error_text(error)


def _say_pending_creates(stack: Any, console: Console) -> None:
    """Refresh clears the creates a killed run left pending; say so, they are not lost."""
    pending = (stack.export_stack().deployment or {}).get("pending_operations") or []
    creates = [op for op in pending if op.get("type") == "creating"]
    if creates:
        console.line(
            f"fsx-backup: clearing {len(creates)} create(s) a killed run left pending; "
            "`fsx-backup up` finds their backups again by their ClientRequestTokens"
        )


def _engine_command(
    stack: Any, command: str, common: dict[str, Any], refresh: bool
) -> tuple[dict[str, int], str]:
    """(the engine's change counts, its result) for one command."""
    if command == "up":
        up = stack.up(refresh=refresh, **common)
        return op_counts(up.summary.resource_changes), str(up.summary.result)
    if command == "preview":
        return op_counts(stack.preview(**common).change_summary), "succeeded"
    if command == "refresh":
        refreshed = stack.refresh(run_program=False, clear_pending_creates=True, **common)
        return op_counts(refreshed.summary.resource_changes), str(refreshed.summary.result)
    destroyed = stack.destroy(run_program=False, **common)
    return op_counts(destroyed.summary.resource_changes), str(destroyed.summary.result)


def cancel(target: Target, console: Console) -> Report:
    """Clear the stack's lock (`pulumi cancel`): only when no run of it is in progress."""
    from pulumi import automation as auto

    report = Report("cancel", target.stack, target.project, target.backend)
    console.line(
        f"fsx-backup cancel: stack {target.stack}, project {target.project}, "
        f"backend {target.backend}"
    )
    try:
        with open_stack(target, lambda: None, create=False) as stack:
            stack.cancel()
            report.backups = {n: b.summary() for n, b in state_backups(stack).items()}
        report.result, report.exit_code = "succeeded", EXIT_OK
    except auto.StackNotFoundError:
        report.error = (
            f"stack {target.stack!r} of project {target.project!r} does not exist in backend "
            f"{target.backend}"
        )
        report.exit_code = EXIT_USAGE
    except auto.CommandError as error:
        report.error = command_error_text(error)
    return report
