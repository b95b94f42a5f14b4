"""Scheduled backups with retention: a backup every period, keep the newest N.

    from fsx_backup_provider.rotation import rotate
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
`<backup name>-copy`, rotated with it: made with the period's backup, deleted
with it. Copies already in the state are declared as recorded, so a run
without the flag keeps them; new backups get a copy only when it is given.

The engine deletes after it creates, so the oldest backup goes only once the
new one is AVAILABLE; a failed create deletes nothing. The engine's lock on
the stack serialises runs: of two at once, one deploys and the other fails
naming the lock, and the stable ClientRequestToken means one period never has
two backups. See docs/rotation.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fsx_backup_provider.cli.engine import (
    DEFAULT_PARALLEL,
    DEFAULT_PROJECT,
    StateBackup,
    Target,
    UsageError,
    command_error_text,
    default_backend,
    find_engine,
    lock_hint,
    open_stack,
    prepare_backend,
    resolve_region,
    state_backups,
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
from fsx_backup_provider.cli.spec import (
    NAME_PATTERN,
    BackupSpec,
    SpecError,
    source_ids,
    validate_specs,
)
from fsx_backup_provider.cli.text import cap_lines, short
from fsx_backup_provider.constants import FSX_BACKUP_COPY_TYPE
from fsx_backup_provider.servicemodel import string_rule

if TYPE_CHECKING:
    import pulumi
    from pulumi import automation as auto

EVERY = ("hour", "day", "week")
ADJECTIVE = {"hour": "hourly", "day": "daily", "week": "weekly"}
# A rotation's names start with the adjective of its period unless --name says otherwise.
DEFAULT_PREFIX = ADJECTIVE
# Sortable, and valid in a resource name (no ':'); weeks are ISO weeks, from Monday.
_STAMP = {"hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d", "week": "%G-W%V"}


@dataclass(frozen=True)
class CopyTarget:
    """Where the copies of new backups go, and the KMS key that encrypts them."""

    region: str
    kms_key_id: str | None = None


@dataclass(frozen=True, order=True)
class Period:
    """One hour, day or ISO week, from its first instant (UTC)."""

    start: datetime
    every: str

    @property
    def stamp(self) -> str:
        return self.start.strftime(_STAMP[self.every])

    def name(self, prefix: str) -> str:
        return f"{prefix}-{self.stamp}"


def period_of(at: datetime, every: str) -> Period:
    at = in_utc(at)
    start = at.replace(minute=0, second=0, microsecond=0)
    if every in ("day", "week"):
        start = start.replace(hour=0)
    if every == "week":
        start -= timedelta(days=start.weekday())
    return Period(start, every)


def period_in_name(name: str, prefix: str, every: str) -> Period | None:
    """The period a backup of this rotation is named after, or None if it is not one."""
    stamp = name.removeprefix(f"{prefix}-")
    if stamp == name:
        return None
    try:
        if every == "week":
            parsed = datetime.strptime(f"{stamp}-1", f"{_STAMP['week']}-%u")
        else:
            parsed = datetime.strptime(stamp, _STAMP[every])
    except ValueError:
        return None
    period = period_of(parsed, every)
    # Only the exact spelling this module writes (not 2024-1-5) names a period.
    return period if period.stamp == stamp else None


# The earliest time a rotation runs for. Before it, a period's stamp is not
# the four-digit year first that names sort and parse back by, and near year
# 1 an offset or a week's Monday leaves the calendar (OverflowError).
EARLIEST_AT = datetime(1970, 1, 1, tzinfo=UTC)


def parse_at(text: str) -> datetime:
    """An ISO 8601 date or time; without an offset it is UTC.

    ValueError if it is not one; OverflowError if it has no UTC time (year 1 at +01:00).
    """
    return in_utc(datetime.fromisoformat(text.strip()))


def in_utc(at: datetime) -> datetime:
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


@dataclass(frozen=True)
class RotationPlan:
    period: Period
    kept: list[BackupSpec]  # newest first; the run's period first of all
    dropped: list[str]  # names of the backups that leave the window


def plan_rotation(
    recorded: Mapping[str, StateBackup],
    period: Period,
    new: BackupSpec,
    keep: int,
    prefix: str,
    stack: str,
) -> RotationPlan:
    """Which periods the stack declares this run; pure, from the state alone.

    Raises SpecError if the stack holds FsxBackups that are not periods of
    this rotation (they would be deleted), or if the run's period is older
    than the newest the stack holds (it would make a backup of today's data
    under an earlier date, and could push newer backups out).
    """
    periods: dict[Period, BackupSpec] = {}
    foreign: list[str] = []
    for name, backup in recorded.items():
        found = period_in_name(name, prefix, period.every)
        if found is None:
            foreign.append(name)
            continue
        periods[found] = BackupSpec(
            name,
            file_system_id=backup.inputs.get("file_system_id"),
            volume_id=backup.inputs.get("volume_id"),
            tags=backup.inputs.get("tags") or {},
            origin=f"stack {stack}",
        )
    if foreign:
        raise SpecError(
            [
                f"stack {stack} holds backups that are not {ADJECTIVE[period.every]} periods named "
                f"{prefix}-<stamp>: {short(sorted(foreign))}. A rotation needs a stack of its "
                "own, which it never shares: pass another --stack, or the --name and --every "
                "this stack was rotated with"
            ]
        )
    newest = max(periods, default=None)
    if newest is not None and period < newest:
        raise SpecError(
            [
                f"--at: period {period.stamp} is older than the newest backup of stack {stack}, "
                f"{newest.name(prefix)}; a rotation only moves forward (a backup made now would "
                "hold today's data under an earlier date). Nothing was changed"
            ]
        )
    periods.setdefault(period, new)
    ordered = sorted(periods, reverse=True)
    return RotationPlan(
        period,
        kept=[periods[p] for p in ordered[:keep]],
        dropped=[periods[p].name for p in ordered[keep:]],
    )


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
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    # For the table: the kept backups' names (newest first), what the state
    # holds of them, and the name of each deleted backup.
    kept_names: list[str] = field(default_factory=list)
    backups: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted_names: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    problems: list[str] = field(default_factory=list)
    # Backup ID -> the ID of its copy, for the kept backups that have one.
    copies: dict[str, str] = field(default_factory=dict)

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
            "kept": self.kept,
            "copies": self.copies,
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
    plan: RotationPlan,
    copies: Mapping[str, StateBackup],
    copy_target: CopyTarget | None,
) -> Callable[[], Any]:
    async def program() -> None:
        from fsx_backup_provider.backup_copy import FsxBackupCopy

        backups = {}
        resources: list[pulumi.Resource] = []
        for spec in plan.kept:
            backup = backups[spec.name] = declare_backup(spec)
            resources.append(backup)
            name = f"{spec.name}{COPY_SUFFIX}"
            recorded = copies.get(name)
            if recorded is not None:
                # As the state records it: a later run's flags never replace it.
                inputs = recorded.inputs
                copy = FsxBackupCopy(
                    name,
                    backup.backup_id,
                    source_region=inputs.get("source_region"),
                    region=inputs.get("region"),
                    kms_key_id=inputs.get("kms_key_id"),
                    copy_tags=inputs.get("copy_tags"),
                    tags=inputs.get("tags"),
                )
                resources.append(copy)
            elif copy_target is not None:
                resources.append(
                    declare_copy(spec.name, backup, copy_target.region, copy_target.kms_key_id)
                )
        export_backups(backups)
        await registered(resources)

    return program


def _outcome(
    target: Target,
    plan: RotationPlan,
    before: Mapping[str, StateBackup],
    after: Mapping[str, StateBackup],
    copies: Mapping[str, StateBackup] | None = None,
) -> RotationResult:
    kept_names = [spec.name for spec in plan.kept if spec.name in after]
    copy_of = {
        after[name].backup_id: copy.backup_id
        for name in kept_names
        if (copy := (copies or {}).get(f"{name}{COPY_SUFFIX}")) is not None
    }
    deleted = {n: b.backup_id for n, b in before.items() if n not in after}
    return RotationResult(
        stack=target.stack,
        project=target.project,
        backend=target.backend,
        period=plan.period.stamp,
        created=[
            b.backup_id
            for n, b in after.items()
            if n not in before or before[n].backup_id != b.backup_id
        ],
        deleted=list(deleted.values()),
        kept=[after[n].backup_id for n in kept_names],
        kept_names=kept_names,
        backups={n: b.summary() for n, b in after.items()},
        deleted_names=deleted,
        copies=copy_of,
    )


def rotate(
    source: str,
    keep: int,
    *,
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
) -> RotationResult:
    """Back up `source` (fs-... or fsvol-...) for the period of `at` (default: now), keep `keep`.

    With `copy_to_region`, each kept backup has a copy there (encrypted with
    `copy_kms_key_id`, default: that Region's FSx key), rotated with it.

    `name` is the backups' name prefix (default daily/hourly/weekly); `stack`
    defaults to `<prefix>-<source>`. `progress` receives the progress lines
    `fsx-backup` prints, `engine_output` the engine's own output.

    Raises SpecError for arguments or a stack that a rotation cannot use
    (nothing is deployed), UsageError for the environment (no engine, no
    region, a bad backend), and RotationFailed when the deployment fails or
    is interrupted (Ctrl-C in the main thread lets the engine stop cleanly;
    the result then says `cancelled`).
    """
    from pulumi import automation as auto

    prefix = name or DEFAULT_PREFIX.get(every, "")
    period, new = _checked_arguments(source, keep, every, at, prefix, tags)
    copy_target = _checked_copy_target(copy_to_region, copy_kms_key_id)
    target = Target(
        stack=stack or default_stack(source, every, name),
        project=project,
        backend=backend or default_backend(),
        endpoint_url=endpoint_url,
        profile=profile,
    )
    if target.problems():
        # Before the backend is touched (a file:// one would be created).
        raise UsageError("; ".join(target.problems()))
    target = replace(
        target,
        backend=prepare_backend(target.backend),
        region=resolve_region(region, profile),
    )
    find_engine()
    say = progress or (lambda _line: None)
    say(
        f"fsx-backup rotate: stack {target.stack}, project {target.project}, backend "
        f"{target.backend}, region {target.region}, period {period.stamp}, keep {keep}"
    )
    common: dict[str, Any] = {
        "parallel": parallel,
        "color": "never",
        "on_output": engine_output,
    }
    watcher = EventWatcher(say)
    with InterruptGuard(say) as guard:
        try:
            with open_stack(target, lambda: None, create=True) as pulumi_stack:
                recorded = state_backups(pulumi_stack)
                plan = plan_rotation(recorded, period, new, keep, prefix, target.stack)
                try:
                    if recorded:
                        # Creates a killed run left pending are found again by their tokens.
                        guard.check()
                        pulumi_stack.refresh(
                            run_program=False,
                            clear_pending_creates=True,
                            on_event=watcher,
                            **common,
                        )
                        recorded = state_backups(pulumi_stack)
                        plan = plan_rotation(recorded, period, new, keep, prefix, target.stack)
                    say(
                        f"rotate: period {period.stamp}; keeping "
                        + ", ".join(spec.name for spec in plan.kept)
                        + (f"; dropping {', '.join(plan.dropped)}" if plan.dropped else "")
                    )
                    copies = state_backups(pulumi_stack, FSX_BACKUP_COPY_TYPE)
                    program = _program(plan, copies, copy_target)
                    guard.check()
                    pulumi_stack.up(program=program, on_event=watcher, **common)
                except (auto.CommandError, Interrupted) as error:
                    after = _state_or_none(pulumi_stack)
                    failed = _outcome(target, plan, recorded, recorded if after is None else after)
                    raise _failure(error, watcher, target, failed, guard) from error
                return _outcome(
                    target,
                    plan,
                    recorded,
                    state_backups(pulumi_stack),
                    state_backups(pulumi_stack, FSX_BACKUP_COPY_TYPE),
                )
        except auto.InvalidVersionError as error:
            raise UsageError(f"the Pulumi engine on PATH cannot be used: {error}") from error
        except (auto.CommandError, Interrupted) as error:
            # The stack could not even be opened or read (an unreachable backend, say).
            failed = RotationResult(target.stack, target.project, target.backend, period.stamp)
            raise _failure(error, watcher, target, failed, guard) from error


def _state_or_none(pulumi_stack: auto.Stack) -> dict[str, StateBackup] | None:
    from pulumi import automation as auto

    try:
        return state_backups(pulumi_stack)
    except auto.CommandError:
        return None


def _failure(
    error: Exception,
    watcher: EventWatcher,
    target: Target,
    result: RotationResult,
    guard: InterruptGuard,
) -> RotationFailed:
    from pulumi import automation as auto

    locked = isinstance(error, auto.ConcurrentUpdateError)
    message = "\n".join(watcher.errors) or (
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


def _checked_arguments(
    source: str,
    keep: int,
    every: str,
    at: datetime | str | None,
    prefix: str,
    tags: Mapping[str, str] | None,
) -> tuple[Period, BackupSpec]:
    problems: list[str] = []
    if every not in EVERY:
        raise SpecError([f"--every {short(every)}: use one of {', '.join(EVERY)}"])
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
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
