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
resources again (`recover`, rotate_run.py): each create asks FSx with the killed run's own
token and gets back the backup that run made, which then rotates like any
other (kept if its period is in the window, else deleted). Only those tokens
are asked for; FSx is never listed.

The engine deletes after it creates, so the oldest backup goes only once the
new one is AVAILABLE; a failed create deletes nothing. The engine's lock on
the stack serialises runs: of two at once, one deploys and the other fails
naming the lock, and the stable ClientRequestToken means one period never has
two backups. See docs/rotation.md. Beside this module: rotate_result.py (what a
run reports), rotate_checks.py (its arguments), rotate_run.py (its engine
steps) and rotate_dry_run.py (--dry-run).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fsx_backup_provider.cli.engine import (
    DEFAULT_PARALLEL,
    DEFAULT_PROJECT,
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
from fsx_backup_provider.cli.render import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    INTERRUPTED_MESSAGE,
)
from fsx_backup_provider.cli.rotation_plan import (
    ADJECTIVE,
    EVERY,
    Period,
    Retention,
    RotationPlan,
    check_made_by_rotate,
    parse_at,
    period_in_name,
    period_of,
    plan_rotation,
)
from fsx_backup_provider.cli.spec import (
    SpecError,
)
from fsx_backup_provider.cli.state import StackState
from fsx_backup_provider.cli.text import short

if TYPE_CHECKING:
    pass
from fsx_backup_provider.cli.rotate_checks import (
    checked_arguments,
    checked_copy_target,
    default_stack,
    retention_of,
)
from fsx_backup_provider.cli.rotate_dry_run import preview_rotation, say_plan
from fsx_backup_provider.cli.rotate_result import (
    DEFAULT_PREFIX,
    CopyTarget,
    RotationFailed,
    RotationResult,
)
from fsx_backup_provider.cli.rotate_run import (
    Run,
    outcome,
    recover,
    restore_test_period,
    restore_timeout,
    rotation_program,
    with_pending,
)

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
        period, new = checked_arguments(source, retention, every, at, prefix, tags)
    except SpecError as error:
        raise SpecError(rule_problems + error.problems) from error
    if rule_problems:
        raise SpecError(rule_problems)
    from fsx_backup_provider.aws.restore_plan import MAX_TIMEOUT_SECONDS

    if restore_test_timeout is not None and not (0 < restore_test_timeout <= MAX_TIMEOUT_SECONDS):
        raise SpecError(
            [
                "--restore-test-timeout must be a number of seconds more than 0 and at most "
                f"{MAX_TIMEOUT_SECONDS:g} (7 days), got {restore_test_timeout:g}"
            ]
        )
    if dry_run and restore_test:
        raise SpecError(
            ["--dry-run changes nothing and so restores nothing: drop --restore-test, or --dry-run"]
        )
    copy_target = checked_copy_target(copy_to_region, copy_kms_key_id)
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
        return preview_rotation(target, prefix, period, copy_target, plan_of, say, adopt_stack)
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
                timeout=restore_timeout(restore_test_timeout),
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
        restore_test_period(result, target, endpoint_url, profile, say, restore_test_timeout, swept)
    return result


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
                run = Run(target, pulumi_stack, watcher, guard, say, common)
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
    run: Run,
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
    state = recover(run, state, prefix, own.period.every, plan_of)
    run.plan = plan_of(state)
    say_plan(run.say, run.plan)
    if before_deploy is not None:
        before_deploy([state.backups[n].backup_id for n in run.plan.dropped if n in state.backups])
    run.seen_before_deploy = set(run.seen)
    about = {
        "prefix": prefix,
        "every": run.plan.period.every,
        "retention": run.plan.retention.rules(),
    }
    state = run.up(rotation_program(run.plan.slots, copy_target, about))
    return outcome(run, run.plan, state)


def _plan_or_none(
    plan_of: Callable[[StackState], RotationPlan], run: Run | None
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
    run: Run | None,
    target: Target,
    period: Period,
) -> RotationFailed:
    """RotationFailed with what the state holds after the failure, as far as it can be read."""
    from pulumi import automation as auto

    result = RotationResult(target.stack, target.project, target.backend, period.stamp)
    if run is not None and run.plan is not None:
        with contextlib.suppress(auto.CommandError):
            result = outcome(run, run.plan, run.read())
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
