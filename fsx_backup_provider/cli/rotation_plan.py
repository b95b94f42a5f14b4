"""Which periods a rotation keeps: pure functions of the stack's state, no engine, no AWS.

A period's backup is named `<prefix>-<stamp>` (`daily-2024-01-15`) and its
copy in another Region `<prefix>-<stamp>-copy`. A period exists while its
backup or its copy does, and the retention rules (`Retention`, restic's
`--keep-last/-hourly/-daily/-weekly/-monthly/-yearly`) pick which of the
periods that exist are kept: so a copy leaves only with its own period, and
a backup deleted by hand never takes its copy with it (the copy is what must
survive a lost backup). `--keep N` is `Retention(last=N)`: the newest N.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta

from fsx_backup_provider.cli.program import COPY_SUFFIX
from fsx_backup_provider.cli.spec import BackupSpec, SpecError
from fsx_backup_provider.cli.state import StateBackup
from fsx_backup_provider.cli.text import short

EVERY = ("hour", "day", "week")
ADJECTIVE = {"hour": "hourly", "day": "daily", "week": "weekly"}
# Sortable, and valid in a resource name (no ':'); weeks are ISO weeks, from Monday.
_STAMP = {"hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d", "week": "%G-W%V"}
# The earliest time a rotation runs for. Before it, a period's stamp is not
# the four-digit year first that names sort and parse back by, and near year
# 1 an offset or a week's Monday leaves the calendar (OverflowError).
EARLIEST_AT = datetime(1970, 1, 1, tzinfo=UTC)


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


def period_of_copy(name: str, prefix: str, every: str) -> Period | None:
    """The period whose backup a copy of this rotation is a copy of, or None."""
    backup = name.removesuffix(COPY_SUFFIX)
    return None if backup == name else period_in_name(backup, prefix, every)


def parse_at(text: str) -> datetime:
    """An ISO 8601 date or time; without an offset it is UTC.

    ValueError if it is not one; OverflowError if it has no UTC time (year 1 at +01:00).
    """
    return in_utc(datetime.fromisoformat(text.strip()))


def in_utc(at: datetime) -> datetime:
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


# The retention rules, in the order they are reported; each keeps the newest
# period of each of its N most recent buckets that hold a period.
RULES = ("last", "hourly", "daily", "weekly", "monthly", "yearly")


def _bucket(rule: str) -> Callable[[datetime, int], object]:
    """The bucket a period falls in for `rule`, from its start (UTC) and its rank (newest 0)."""
    buckets: dict[str, Callable[[datetime, int], object]] = {
        "last": lambda _at, rank: rank,  # every period a bucket of its own
        "hourly": lambda at, _rank: (at.year, at.month, at.day, at.hour),
        "daily": lambda at, _rank: (at.year, at.month, at.day),
        "weekly": lambda at, _rank: at.isocalendar()[:2],  # ISO year and week
        "monthly": lambda at, _rank: (at.year, at.month),
        "yearly": lambda at, _rank: at.year,
    }
    return buckets[rule]


@dataclass(frozen=True)
class Retention:
    """How many periods each rule keeps (0: the rule is not used).

    `Retention(last=N)` is `--keep N`.
    """

    last: int = 0
    hourly: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    yearly: int = 0

    def rules(self) -> dict[str, int]:
        """The rules in use, by name, in RULES order."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def describe(self) -> str:
        return ", ".join(f"{rule} {count}" for rule, count in self.rules().items()) or "nothing"


def retained(starts: Sequence[datetime], retention: Retention) -> list[list[str]]:
    """For each period (by its start, newest first), the rules that keep it ([]: dropped).

    restic's `forget` policy: each rule walks the periods newest first and
    keeps the first (newest) period of each new bucket until it has kept its
    count; a period is kept if any rule keeps it.
    """
    reasons: list[list[str]] = [[] for _ in starts]
    for rule, count in retention.rules().items():
        bucket_of, last, left = _bucket(rule), None, count
        for rank, start in enumerate(starts):
            if left == 0:
                break
            bucket = bucket_of(start, rank)
            if bucket != last:
                reasons[rank].append(rule)
                last, left = bucket, left - 1
    return reasons


@dataclass
class PeriodSlot:
    """A period the stack declares: its backup (None when it is gone) and its copy.

    `backup_id` is the recorded backup's ID ("" for a backup a killed run
    left pending, None for one this run makes).
    """

    period: Period
    name: str
    backup: BackupSpec | None = None
    backup_id: str | None = None
    copy: StateBackup | None = None

    def in_state(self) -> list[str]:
        """The names of this period's backup and copy that the stack holds (or left pending)."""
        names = [self.name] if self.backup is not None and self.backup_id is not None else []
        return names + ([self.copy.name] if self.copy is not None else [])


@dataclass(frozen=True)
class RotationPlan:
    period: Period
    slots: list[PeriodSlot]  # the kept periods, newest first; the run's own first of all
    dropped: list[str] = field(default_factory=list)  # backups and copies leaving the window
    # The rules that keep each kept period, by its backup's name.
    kept_by: dict[str, list[str]] = field(default_factory=dict)
    retention: Retention = field(default_factory=Retention)

    @property
    def kept(self) -> list[BackupSpec]:
        """The backups declared, newest first."""
        return [slot.backup for slot in self.slots if slot.backup is not None]

    @property
    def lost(self) -> list[PeriodSlot]:
        """Kept periods whose backup is gone and whose copy is kept."""
        return [slot for slot in self.slots if slot.backup is None and slot.copy is not None]


def recorded_spec(backup: StateBackup, origin: str) -> BackupSpec:
    """A backup declared exactly as the state records it (a later run's flags never replace it)."""
    return BackupSpec(
        backup.name,
        file_system_id=backup.inputs.get("file_system_id"),
        volume_id=backup.inputs.get("volume_id"),
        tags=backup.inputs.get("tags") or {},
        origin=origin,
    )


def period_slots(
    backups: Mapping[str, StateBackup],
    copies: Mapping[str, StateBackup],
    prefix: str,
    every: str,
    stack: str,
) -> dict[Period, PeriodSlot]:
    """Every period the state holds a backup or a copy of.

    Raises SpecError if it holds backups or copies that are not periods of
    this rotation: deploying would delete them.
    """
    slots: dict[Period, PeriodSlot] = {}
    foreign: list[str] = []
    for name, backup in backups.items():
        period = period_in_name(name, prefix, every)
        if period is None:
            foreign.append(name)
            continue
        slot = slots.setdefault(period, PeriodSlot(period, name))
        slot.backup, slot.backup_id = recorded_spec(backup, f"stack {stack}"), backup.backup_id
    for name, copy in copies.items():
        period = period_of_copy(name, prefix, every)
        if period is None:
            foreign.append(name)
            continue
        slots.setdefault(period, PeriodSlot(period, period.name(prefix))).copy = copy
    if foreign:
        raise SpecError(
            [
                f"stack {stack} holds backups that are not {ADJECTIVE[every]} periods named "
                f"{prefix}-<stamp>: {short(sorted(foreign))}. A rotation needs a stack of its "
                "own, which it never shares: pass another --stack, or the --name and --every "
                "this stack was rotated with"
            ]
        )
    return slots


def check_made_by_rotate(marked: bool, held: Sequence[str], stack: str, adopt: bool) -> None:
    """Refuse a stack that holds backups and that no `fsx-backup rotate` made.

    A rotation deletes every backup of its stack its rules drop, so it works
    only on a stack it made (`marked`: the mark a rotation leaves in its
    stack): never on one `fsx-backup up` or a Pulumi program made, whatever
    its backups are named. `adopt` takes a stack fsx-backup 0.3 or earlier
    rotated (which left no mark) as the rotation's own.
    """
    if held and not marked and not adopt:
        raise SpecError(
            [
                f"stack {stack} was not made by fsx-backup rotate (it holds "
                f"{short(sorted(held))} and no rotation's mark): a rotation deletes the backups "
                "its rules drop, so it never works on a stack `fsx-backup up` or a Pulumi "
                "program made; its backups stay as they are (`fsx-backup destroy --stack "
                f"{stack}` deletes them). Give the rotation a stack of its own: drop --stack "
                "for the default <prefix>-<source>, or name a new one. If fsx-backup 0.3 or "
                "earlier rotated this stack, pass --adopt-stack once"
            ]
        )


def plan_rotation(
    recorded: Mapping[str, StateBackup],
    period: Period,
    new: BackupSpec,
    keep: int | Retention,
    prefix: str,
    stack: str,
    copies: Mapping[str, StateBackup] | None = None,
) -> RotationPlan:
    """Which periods the stack declares this run; pure, from the state alone.

    The periods are those whose backup or copy the state holds, plus the
    run's own: those the retention rules keep (`keep` N: the newest N) are
    kept, with what they have; the rest are dropped, backup and copy. The
    run's own period is the newest, so every rule keeps it. The run's
    period gets `new` if the state has no backup of it (the first run in
    it, or its backup was deleted outside); an earlier period whose backup
    is gone keeps just its copy.

    Raises SpecError if the stack holds FsxBackups or copies that are not
    periods of this rotation (they would be deleted), or if the run's period
    is older than the newest the stack holds (it would make a backup of
    today's data under an earlier date, and could push newer backups out).
    """
    slots = period_slots(recorded, copies or {}, prefix, period.every, stack)
    newest = max(slots, default=None)
    if newest is not None and period < newest:
        raise SpecError(
            [
                f"--at: period {period.stamp} is older than the newest backup of stack {stack}, "
                f"{newest.name(prefix)}; a rotation only moves forward (a backup made now would "
                "hold today's data under an earlier date). Nothing was changed"
            ]
        )
    own = slots.setdefault(period, PeriodSlot(period, new.name))
    if own.backup is None:
        own.backup = new
    retention = Retention(last=keep) if isinstance(keep, int) else keep
    ordered = [slots[p] for p in sorted(slots, reverse=True)]
    reasons = retained([slot.period.start for slot in ordered], retention)
    kept = [slot for slot, why in zip(ordered, reasons, strict=True) if why]
    return RotationPlan(
        period,
        slots=kept,
        dropped=[
            name
            for slot, why in zip(ordered, reasons, strict=True)
            if not why
            for name in slot.in_state()
        ],
        kept_by={slot.name: why for slot, why in zip(ordered, reasons, strict=True) if why},
        retention=retention,
    )
