"""A rotation's copies without an engine: a copy lives and dies with its period, not its backup."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fsx_backup_provider.cli.rotation_plan import (
    Period,
    period_of,
    period_of_copy,
    plan_rotation,
)
from fsx_backup_provider.cli.spec import BackupSpec, SpecError
from fsx_backup_provider.cli.state import StateBackup

FS = "fs-0123456789abcdef0"


def day(n: int) -> Period:
    return period_of(datetime(2024, 3, n, 2, 0, tzinfo=UTC), "day")


def backups(*days: int) -> dict[str, StateBackup]:
    return {
        f"daily-2024-03-0{d}": StateBackup(
            f"daily-2024-03-0{d}", f"backup-{d:017x}", {"file_system_id": FS}, {}
        )
        for d in days
    }


def copies(*days: int) -> dict[str, StateBackup]:
    return {
        f"daily-2024-03-0{d}-copy": StateBackup(
            f"daily-2024-03-0{d}-copy",
            f"backup-{d + 100:017x}",
            {"source_backup_id": f"backup-{d:017x}", "region": "us-west-2", "copy_tags": True},
            {"region": "us-west-2"},
        )
        for d in days
    }


def new(period: Period) -> BackupSpec:
    return BackupSpec(period.name("daily"), FS, None, {}, "rotate")


def plan(
    held: dict[str, StateBackup], copied: dict[str, StateBackup], run: int, keep: int
) -> tuple[list[tuple[str, str | None, str | None]], list[str]]:
    """(name, recorded backup ID, copy name) of each kept period, newest first; and dropped."""
    result = plan_rotation(held, day(run), new(day(run)), keep, "daily", "s", copies=copied)
    kept = [
        (slot.name, slot.backup_id, slot.copy.name if slot.copy else None) for slot in result.slots
    ]
    return kept, result.dropped


def test_copies_are_named_after_their_periods() -> None:
    assert period_of_copy("daily-2024-03-02-copy", "daily", "day") == day(2)
    assert period_of_copy("daily-2024-03-02", "daily", "day") is None
    assert period_of_copy("weekly-2024-W09-copy", "daily", "day") is None


def test_a_period_leaves_with_its_backup_and_its_copy() -> None:
    kept, dropped = plan(backups(1, 2, 3), copies(1, 2, 3), run=4, keep=3)
    assert [name for name, _, _ in kept] == [
        "daily-2024-03-04",
        "daily-2024-03-03",
        "daily-2024-03-02",
    ]
    assert dropped == ["daily-2024-03-01", "daily-2024-03-01-copy"]


def test_a_lost_backup_keeps_its_copy_and_its_place_in_the_window() -> None:
    """Issue 22, 1: day 2's backup deleted by hand (the refresh dropped it): day 2 is
    still a period, so day 1 leaves the window, and day 2's copy stays."""
    kept, dropped = plan(backups(1, 3), copies(1, 2, 3), run=4, keep=3)
    assert kept == [
        ("daily-2024-03-04", None, None),
        ("daily-2024-03-03", f"backup-{3:017x}", "daily-2024-03-03-copy"),
        ("daily-2024-03-02", None, "daily-2024-03-02-copy"),
    ]
    assert dropped == ["daily-2024-03-01", "daily-2024-03-01-copy"]
    result = plan_rotation(backups(1, 3), day(4), new(day(4)), 3, "daily", "s", copies(1, 2, 3))
    assert [slot.name for slot in result.lost] == ["daily-2024-03-02"]
    assert [spec.name for spec in result.kept] == ["daily-2024-03-04", "daily-2024-03-03"]
    # The next day it leaves like any other period, copy and all.
    _kept, dropped = plan(backups(3, 4), copies(2, 3, 4), run=5, keep=3)
    assert dropped == ["daily-2024-03-02-copy"]


def test_the_runs_own_period_is_made_again_beside_its_kept_copy() -> None:
    kept, dropped = plan(backups(1), copies(1, 2), run=2, keep=2)
    assert kept[0] == ("daily-2024-03-02", None, "daily-2024-03-02-copy")
    result = plan_rotation(backups(1), day(2), new(day(2)), 2, "daily", "s", copies(1, 2))
    assert result.slots[0].backup == new(day(2)) and result.lost == []
    assert dropped == []


def test_a_copy_alone_still_counts_as_the_newest_period() -> None:
    with pytest.raises(SpecError, match="period 2024-03-02 is older than the newest"):
        plan_rotation(backups(1), day(2), new(day(2)), 2, "daily", "s", copies(3))


def test_copies_that_are_not_this_rotations_are_refused() -> None:
    stray = {"adhoc-copy": StateBackup("adhoc-copy", "backup-1234567890abcdef0", {}, {})}
    with pytest.raises(SpecError, match=r"\['adhoc-copy'\]"):
        plan_rotation(backups(1), day(2), new(day(2)), 2, "daily", "s", stray)
