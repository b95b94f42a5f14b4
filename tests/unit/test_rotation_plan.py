"""Rotation without an engine: periods, their names, and which periods a run keeps."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from fsx_backup_provider.cli.inventory import Listing
from fsx_backup_provider.cli.render import render_listing
from fsx_backup_provider.cli.rotate import (
    Period,
    parse_at,
    period_in_name,
    period_of,
    plan_rotation,
)
from fsx_backup_provider.cli.rotate_checks import checked_arguments, default_stack, retention_of
from fsx_backup_provider.cli.rotation_plan import RULES, Retention, retained
from fsx_backup_provider.cli.spec import BackupSpec, SpecError
from fsx_backup_provider.cli.state import StateBackup

FS = "fs-0123456789abcdef0"
OTHER_FS = "fs-0fedcba9876543210"


def day(n: int) -> Period:
    return period_of(datetime(2024, 1, n, 3, 30, tzinfo=UTC), "day")


def recorded(
    *names: str, source: str = FS, tags: dict[str, str] | None = None
) -> dict[str, StateBackup]:
    inputs: dict[str, object] = {"file_system_id": source}
    if tags:
        inputs["tags"] = tags
    return {
        name: StateBackup(name, f"backup-{i:017x}", inputs, {"backup_id": f"backup-{i:017x}"})
        for i, name in enumerate(names)
    }


def new(period: Period, prefix: str = "daily", tags: dict[str, str] | None = None) -> BackupSpec:
    return BackupSpec(period.name(prefix), FS, None, tags or {}, "rotate")


def test_periods_and_their_stamps() -> None:
    at = datetime(2024, 1, 17, 13, 45, 12, tzinfo=UTC)  # a Wednesday
    assert period_of(at, "hour").stamp == "2024-01-17T13"
    assert period_of(at, "day").stamp == "2024-01-17"
    assert period_of(at, "week").stamp == "2024-W03"
    assert period_of(at, "week").start == datetime(2024, 1, 15, tzinfo=UTC)
    # The ISO week of 2021-01-03 (a Sunday) is week 53 of 2020.
    assert period_of(datetime(2021, 1, 3, tzinfo=UTC), "week").stamp == "2020-W53"
    # A time with an offset is read in UTC.
    plus_two = timezone(timedelta(hours=2))
    assert period_of(datetime(2024, 1, 18, 1, 0, tzinfo=plus_two), "day").stamp == "2024-01-17"


def test_names_parse_back_to_their_periods() -> None:
    for every in ("hour", "day", "week"):
        period = period_of(datetime(2024, 12, 30, 23, 5, tzinfo=UTC), every)
        assert period_in_name(period.name("nightly-db"), "nightly-db", every) == period
    assert period_in_name("daily-2024-1-5", "daily", "day") is None
    assert period_in_name("daily-2024-01-05", "weekly", "day") is None
    assert period_in_name("daily-2024-01-05T03", "daily", "day") is None
    assert period_in_name("daily-2024-01-05", "daily", "hour") is None
    assert period_in_name("ad-hoc", "daily", "day") is None


def test_parse_at() -> None:
    assert parse_at("2024-01-15") == datetime(2024, 1, 15, tzinfo=UTC)
    assert parse_at("2024-01-15T03:00:00Z") == datetime(2024, 1, 15, 3, tzinfo=UTC)
    assert parse_at("2024-01-15T05:00:00+02:00") == datetime(2024, 1, 15, 3, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_at("tomorrow")


def test_first_run_keeps_its_own_period() -> None:
    plan = plan_rotation({}, day(1), new(day(1)), 3, "daily", "s")
    assert [s.name for s in plan.kept] == ["daily-2024-01-01"] and plan.dropped == []


def test_keeps_the_newest_n_and_drops_the_rest() -> None:
    state = recorded("daily-2024-01-01", "daily-2024-01-03", "daily-2024-01-02")
    plan = plan_rotation(state, day(4), new(day(4)), 3, "daily", "s")
    assert [s.name for s in plan.kept] == [
        "daily-2024-01-04",
        "daily-2024-01-03",
        "daily-2024-01-02",
    ]
    assert plan.dropped == ["daily-2024-01-01"]
    # A smaller --keep drops more, oldest first.
    plan = plan_rotation(state, day(4), new(day(4)), 1, "daily", "s")
    assert [s.name for s in plan.kept] == ["daily-2024-01-04"]
    assert plan.dropped == ["daily-2024-01-03", "daily-2024-01-02", "daily-2024-01-01"]


def test_earlier_periods_are_declared_as_recorded() -> None:
    """A changed source or --tag affects new periods only; old backups are never replaced."""
    state = recorded("daily-2024-01-01", source=OTHER_FS, tags={"Env": "old"})
    plan = plan_rotation(state, day(2), new(day(2), tags={"Env": "new"}), 3, "daily", "s")
    newest, older = plan.kept
    assert (newest.file_system_id, dict(newest.tags)) == (FS, {"Env": "new"})
    assert (older.file_system_id, dict(older.tags)) == (OTHER_FS, {"Env": "old"})


def test_a_rerun_in_the_same_period_declares_the_same_backups() -> None:
    state = recorded("daily-2024-01-01", "daily-2024-01-02", tags={"Env": "old"})
    plan = plan_rotation(state, day(2), new(day(2), tags={"Env": "changed"}), 3, "daily", "s")
    assert [(s.name, dict(s.tags)) for s in plan.kept] == [
        ("daily-2024-01-02", {"Env": "old"}),
        ("daily-2024-01-01", {"Env": "old"}),
    ]
    assert plan.dropped == []


def test_an_earlier_period_is_refused() -> None:
    state = recorded("daily-2024-01-05")
    with pytest.raises(SpecError) as refused:
        plan_rotation(state, day(3), new(day(3)), 3, "daily", "s")
    [problem] = refused.value.problems
    assert (
        "period 2024-01-03 is older than the newest backup of stack s, daily-2024-01-05" in problem
    )


def test_backups_of_another_rotation_are_refused() -> None:
    state = recorded("daily-2024-01-01", "adhoc", "weekly-2024-W01")
    with pytest.raises(SpecError) as refused:
        plan_rotation(state, day(2), new(day(2)), 3, "daily", "s")
    [problem] = refused.value.problems
    assert "stack s holds backups that are not daily periods named daily-<stamp>" in problem
    assert "['adhoc', 'weekly-2024-W01']" in problem


def test_arguments_are_checked_before_anything_runs() -> None:
    period, spec = checked_arguments(FS, 3, "day", "2024-01-05T10:00:00Z", "daily", {"A": "b"})
    assert period == day(5) and spec == BackupSpec(
        "daily-2024-01-05", FS, None, {"A": "b"}, "rotate"
    )
    _period, volume = checked_arguments("fsvol-0123456789abcdef0", 1, "hour", None, "h", None)
    assert volume.volume_id == "fsvol-0123456789abcdef0" and volume.file_system_id is None
    with pytest.raises(SpecError) as refused:
        checked_arguments("fs-12", 0, "day", "2999-01-01", "bad prefix", {"aws:x": "1"})
    problems = "\n".join(refused.value.problems)
    assert "--keep 0: keep at least 1 backup" in problems
    assert "--at '2999-01-01': period 2999-01-01 has not started yet" in problems
    assert "--name 'bad prefix': a prefix of letters" in problems
    assert "fileSystemId: 'fs-12' must be 11 to 21 characters long" in problems
    assert "tag key 'aws:x' uses the prefix 'aws:'" in problems
    with pytest.raises(SpecError, match="--every 'month': use one of hour, day, week"):
        checked_arguments(FS, 1, "month", None, "m", None)


@pytest.mark.parametrize(
    "at",
    [
        "0001-01-01T00:00:00+01:00",  # no UTC time: before year 1
        "9999-12-31T23:59:59-01:00",  # no UTC time: after year 9999
        "0001-01-03",  # a week's Monday is before year 1
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
    ],
)
def test_at_out_of_range_is_a_problem_not_a_crash(at: str | datetime) -> None:
    for every in ("hour", "day", "week"):
        with pytest.raises(SpecError) as refused:
            checked_arguments(FS, 1, every, at, "daily", None)
        assert refused.value.problems == [
            f"--at {str(at)!r}: a rotation runs for a time from 1970-01-01T00:00:00Z to now"
        ]


def test_the_earliest_at_names_a_period_that_parses_back() -> None:
    for every in ("hour", "day", "week"):
        period, spec = checked_arguments(FS, 1, every, "1970-01-01T00:00:00Z", "daily", None)
        assert period_in_name(spec.name, "daily", every) == period


def test_default_stack_is_one_per_rotation() -> None:
    assert default_stack(FS, "day", None) == f"daily-{FS}"
    assert default_stack(FS, "week", "db") == f"db-{FS}"


# Calendar retention (issue 25): restic's --keep-last/-hourly/-daily/-weekly/-monthly/-yearly.


def expected_kept(starts: list[datetime], counts: dict[str, int]) -> dict[datetime, set[str]]:
    """The rules' semantics computed another way than the planner's walk: per rule, the
    distinct buckets that hold a period, the N most recent of them, and the newest period
    of each of those buckets."""
    key = {
        "last": lambda at: at,
        "hourly": lambda at: at.strftime("%Y-%m-%d %H"),
        "daily": lambda at: at.strftime("%Y-%m-%d"),
        "weekly": lambda at: at.strftime("%G-W%V"),
        "monthly": lambda at: at.strftime("%Y-%m"),
        "yearly": lambda at: at.strftime("%Y"),
    }
    kept: dict[datetime, set[str]] = {}
    for rule, count in counts.items():
        newest_of: dict[object, datetime] = {}
        for at in starts:
            bucket = key[rule](at)
            newest_of[bucket] = max(at, newest_of.get(bucket, at))
        for bucket in sorted(newest_of, key=lambda b: newest_of[b], reverse=True)[:count]:
            kept.setdefault(newest_of[bucket], set()).add(rule)
    return kept


def plan_names(starts: list[datetime], every: str, retention: Retention) -> dict[str, list[str]]:
    """The planner's kept periods (name -> rules), the newest being the run's own."""
    periods = sorted({period_of(at, every) for at in starts}, reverse=True)
    state = recorded(*(p.name("r") for p in periods[1:]))
    plan = plan_rotation(state, periods[0], new(periods[0], "r"), retention, "r", "s")
    assert [s.name for s in plan.slots] == list(plan.kept_by)  # newest first
    kept_names = set(plan.kept_by)
    assert set(plan.dropped) == {p.name("r") for p in periods[1:]} - kept_names
    return plan.kept_by


def test_the_worked_example_of_docs_rotation() -> None:
    """docs/rotation.md's table: daily runs from 2024-01-01 to 2024-03-15, --keep-daily 7
    --keep-weekly 4 --keep-monthly 6."""
    starts = [datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=n) for n in range(75)]
    assert starts[-1] == datetime(2024, 3, 15, tzinfo=UTC)
    kept = plan_names(starts, "day", Retention(daily=7, weekly=4, monthly=6))
    assert kept == {
        "r-2024-03-15": ["daily", "weekly", "monthly"],
        "r-2024-03-14": ["daily"],
        "r-2024-03-13": ["daily"],
        "r-2024-03-12": ["daily"],
        "r-2024-03-11": ["daily"],
        "r-2024-03-10": ["daily", "weekly"],
        "r-2024-03-09": ["daily"],
        "r-2024-03-03": ["weekly"],
        "r-2024-02-29": ["monthly"],
        "r-2024-02-25": ["weekly"],
        "r-2024-01-31": ["monthly"],
    }


def test_keep_n_is_keep_last_n() -> None:
    state = recorded(*(day(n).name("daily") for n in range(1, 6)))
    for keep in range(1, 8):
        as_int = plan_rotation(state, day(6), new(day(6)), keep, "daily", "s")
        as_rule = plan_rotation(state, day(6), new(day(6)), Retention(last=keep), "daily", "s")
        assert [s.name for s in as_int.slots] == [s.name for s in as_rule.slots]
        assert as_int.dropped == as_rule.dropped
        assert set(map(tuple, as_int.kept_by.values())) == {("last",)}


@pytest.mark.parametrize("every", ["hour", "day", "week"])
def test_rules_match_an_independent_computation(every: str) -> None:
    """Random sets of periods (gaps included) and random mixes of rules."""
    rng = random.Random(f"issue-25-{every}")
    step = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
    origin = datetime(2019, 12, 23, tzinfo=UTC)  # a Monday; ISO 2020 has 53 weeks
    for _trial in range(60):
        count = rng.randint(1, 400)
        starts = sorted(
            {origin + step[every] * rng.randint(0, 2000) for _ in range(count)}, reverse=True
        )
        counts = {rule: rng.randint(1, 12) for rule in RULES if rng.random() < 0.5} or {"daily": 3}
        kept = plan_names(starts, every, Retention(**counts))
        expected = expected_kept(starts, counts)
        assert kept == {
            period_of(at, every).name("r"): [r for r in RULES if r in rules]
            for at, rules in sorted(expected.items(), reverse=True)
        }


def test_the_runs_own_period_is_always_kept_and_copy_only_periods_count() -> None:
    """A period held only by its copy (its backup deleted outside) is a period like any
    other: it fills a bucket, and leaves with its copy."""
    copies = {
        "daily-2024-01-03-copy": StateBackup(
            "daily-2024-01-03-copy", "backup-0c0", {"source_backup_id": "backup-gone"}, {}
        )
    }
    state = recorded("daily-2024-01-01", "daily-2024-01-02")
    plan = plan_rotation(
        state, day(4), new(day(4)), Retention(daily=2), "daily", "s", copies=copies
    )
    assert plan.kept_by == {"daily-2024-01-04": ["daily"], "daily-2024-01-03": ["daily"]}
    assert [slot.name for slot in plan.lost] == ["daily-2024-01-03"]
    assert plan.dropped == ["daily-2024-01-02", "daily-2024-01-01"]
    # Weekly: 2024-01-01 is a Monday, all four days one ISO week: only the newest is kept.
    plan = plan_rotation(
        state, day(4), new(day(4)), Retention(weekly=5), "daily", "s", copies=copies
    )
    assert plan.kept_by == {"daily-2024-01-04": ["weekly"]}
    assert plan.dropped == ["daily-2024-01-03-copy", "daily-2024-01-02", "daily-2024-01-01"]


def test_retained_walks_newest_first() -> None:
    starts = [datetime(2024, 1, 1, tzinfo=UTC) - timedelta(hours=6 * n) for n in range(12)]
    # 2024-01-01T00, then 2023-12-31 18/12/06/00, 2023-12-30 ... newest first.
    assert retained(starts, Retention(daily=2, yearly=2)) == [
        ["daily", "yearly"],
        ["daily", "yearly"],
        *([[]] * 10),
    ]
    assert retained(starts, Retention(last=1, hourly=2)) == [
        ["last", "hourly"],
        ["hourly"],
        *([[]] * 10),
    ]
    assert retained([], Retention(last=3)) == []


def test_retention_flags_are_checked() -> None:
    assert retention_of(3) == Retention(last=3)
    assert retention_of(3, last=3, daily=7) == Retention(last=3, daily=7)
    assert retention_of(daily=7, weekly=4, monthly=12, yearly=3).describe() == (
        "daily 7, weekly 4, monthly 12, yearly 3"
    )
    with pytest.raises(SpecError) as refused:
        retention_of()
    assert "give at least one retention rule" in refused.value.problems[0]
    with pytest.raises(SpecError) as refused:
        retention_of(2, last=3, daily=0, weekly=True)  # type: ignore[arg-type]
    assert refused.value.problems == [
        "--keep-daily 0: keep at least 1 backup",
        "--keep-weekly True: give a whole number of backups",
        "--keep 2 and --keep-last 3: --keep is --keep-last; give one",
    ]


def test_the_list_table() -> None:
    listing = Listing("daily-x", "p", "file:///s", rotation=None)
    listing.rotation = {"prefix": "daily", "every": "day", "retention": {"daily": 7}}
    listing.entries = [
        {
            "name": "daily-2024-07-02",
            "period": "2024-07-02",
            "backup_id": "backup-1",
            "lifecycle": "AVAILABLE",
            "size_bytes": 3 * 1024**3,
            "age_seconds": 2 * 86400 + 3 * 3600 + 5,
            "kept_by": ["daily"],
            "copy_id": None,
        },
        {
            "name": "daily-2024-07-01",
            "period": "2024-07-01",
            "backup_id": "backup-2",
            "lifecycle": "gone",
            "size_bytes": None,
            "age_seconds": 65,
            "kept_by": [],
            "copy_id": "backup-3",
        },
    ]
    assert render_listing(listing).splitlines() == [
        "NAME              PERIOD      BACKUP ID  LIFECYCLE  SIZE     AGE   KEPT BY  COPY",
        "daily-2024-07-02  2024-07-02  backup-1   AVAILABLE  3.0 GiB  2d3h  daily    -",
        "daily-2024-07-01  2024-07-01  backup-2   gone       -        1m5s  -        backup-3",
        "2 backup(s) in stack daily-x (rotation daily, every day; keep daily 7)",
    ]


# A rotation deletes what its rules drop: it works only on a stack a rotation made.


def _export(*resources: dict[str, object]) -> dict[str, object]:
    return {"resources": list(resources)}


_STACK_ROOT = {"urn": "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", "type": "pulumi:pulumi:Stack"}


def test_a_stack_bears_a_rotations_mark_only_when_rotate_left_one() -> None:
    from fsx_backup_provider.cli.state import made_by_rotate
    from fsx_backup_provider.core.constants import ROTATION_MARKER_TYPE

    marker = {"urn": "urn:pulumi:s::p::fsx-backup:cli:Rotation::rotation",
              "type": ROTATION_MARKER_TYPE}
    assert made_by_rotate(_export(_STACK_ROOT, marker))
    # 0.4.0's mark: the root's `rotation` output.
    assert made_by_rotate(_export({**_STACK_ROOT, "outputs": {"rotation": {"prefix": "daily"}}}))
    # `fsx-backup up` exports `backups` only; a marker being deleted is no mark.
    assert not made_by_rotate(_export({**_STACK_ROOT, "outputs": {"backups": {}}}))
    assert not made_by_rotate(_export(_STACK_ROOT, {**marker, "delete": True}))
    assert not made_by_rotate({})


def test_rotate_refuses_a_stack_of_backups_named_like_periods_that_it_did_not_make() -> None:
    from fsx_backup_provider.cli.rotation_plan import check_made_by_rotate

    # The data loss the red team found: an `fsx-backup up` stack whose backups
    # parse as this rotation's periods; the plan alone would drop day 1.
    held = recorded("daily-2024-01-01", "daily-2024-01-02")
    plan = plan_rotation(held, day(3), BackupSpec("daily-2024-01-03", FS), Retention(last=2),
                         "daily", "s")
    assert plan.dropped == ["daily-2024-01-01"]
    with pytest.raises(SpecError) as refused:
        check_made_by_rotate(False, list(held), "s", adopt=False)
    assert "not made by fsx-backup rotate" in refused.value.problems[0]
    assert "--adopt-stack" in refused.value.problems[0]
    check_made_by_rotate(True, list(held), "s", adopt=False)  # rotate's own stack
    check_made_by_rotate(False, list(held), "s", adopt=True)  # 0.3's, adopted
    check_made_by_rotate(False, [], "s", adopt=False)  # an empty stack is anyone's first run


def test_rotate_refuses_an_empty_name_and_a_parallel_below_one() -> None:
    from fsx_backup_provider.cli.rotate import rotate

    with pytest.raises(SpecError) as refused:
        rotate(FS, 1, name="", parallel=0, stack="s")
    text = " ".join(refused.value.problems)
    assert "--name ''" in text or '--name ""' in text, text
    assert "--parallel must be at least 1, got 0" in text


def test_a_failed_run_shows_what_it_meant_to_delete_and_could_not() -> None:
    """A failed rotate's table once left out the periods it meant to drop: they are
    still held after the failure, and say so in the table and the JSON."""
    from fsx_backup_provider.cli.render import render_rotation
    from fsx_backup_provider.cli.rotate import RotationResult

    result = RotationResult(
        "daily-fs-1", "fsx-backup", "file://x", "2024-01-02", result="failed",
        not_deleted={"daily-2024-01-01": "backup-01", "daily-2024-01-01-copy": "backup-02"},
    )
    lines = render_rotation(result).splitlines()
    assert lines[1].split() == ["daily-2024-01-01", "not", "deleted", "backup-01", "-", "-"]
    assert lines[2].split() == ["daily-2024-01-01-copy", "not", "deleted", "backup-02", "-", "-"]
    assert lines[-1].endswith("kept 0, not deleted 2")
    assert result.to_json()["not_deleted"] == result.not_deleted
