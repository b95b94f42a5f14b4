"""The checks of rotate's arguments before anything runs, and the names it derives."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fsx_backup_provider.aws.servicemodel import string_rule
from fsx_backup_provider.cli.rotation_plan import (
    EARLIEST_AT,
    EVERY,
    RULES,
    Period,
    Retention,
    in_utc,
    parse_at,
    period_of,
)
from fsx_backup_provider.cli.spec import (
    NAME_PATTERN,
    BackupSpec,
    SpecError,
    source_ids,
    validate_specs,
)
from fsx_backup_provider.cli.text import short

if TYPE_CHECKING:
    pass
from fsx_backup_provider.cli.rotate_result import DEFAULT_PREFIX, CopyTarget


def checked_copy_target(region: str | None, kms_key_id: str | None) -> CopyTarget | None:
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


def checked_arguments(
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
