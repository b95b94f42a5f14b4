"""What a stack holds: one line per backup, as `restic snapshots` is to restic.

    from fsx_backup_provider.cli.inventory import list_backups
    listing = list_backups("daily-fs-0123456789abcdef0", region="eu-west-1")
    for entry in listing.entries:
        entry["name"], entry["backup_id"], entry["lifecycle"], entry["kept_by"], entry["copy_id"]

Reads the stack's state (one export: no lock, nothing written) and asks FSx
about the backups and copies it records, by their IDs only, for their
lifecycle and size. For a rotation's stack (one `rotate` made, which records
its prefix, period and rules in the stack's `rotation` output), each backup
also says which retention rules keep it; rules given here win over the
recorded ones (and are needed for a stack rotated before they were recorded).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fsx_backup_provider.cli.engine import (
    DEFAULT_PROJECT,
    Target,
    UsageError,
    checked_target,
    command_error_text,
    open_stack,
)
from fsx_backup_provider.cli.program import COPY_SUFFIX
from fsx_backup_provider.cli.render import EXIT_FAILED, EXIT_OK
from fsx_backup_provider.cli.rotation_plan import (
    EVERY,
    Retention,
    period_slots,
    retained,
)
from fsx_backup_provider.cli.spec import SpecError
from fsx_backup_provider.cli.state import StackState, StateBackup
from fsx_backup_provider.cli.text import cap_lines

__all__ = ["Listing", "list_backups"]


@dataclass
class Listing:
    """The backups of a stack, one entry each (newest period first for a rotation)."""

    stack: str
    project: str
    backend: str
    # For a rotation: {"prefix", "every", "retention": {rule: count}}; else None.
    rotation: dict[str, Any] | None = None
    entries: list[dict[str, Any]] = field(default_factory=list)
    result: str = "succeeded"
    exit_code: int = EXIT_OK
    error: str | None = None
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "command": "list",
            "stack": self.stack,
            "project": self.project,
            "backend": self.backend,
            "result": self.result,
            "exit_code": self.exit_code,
            "rotation": self.rotation,
            "backups": self.entries,
            "error": self.error,
            "problems": cap_lines(self.problems),
        }


def list_backups(
    stack: str,
    *,
    project: str = DEFAULT_PROJECT,
    backend: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    retention: Retention | None = None,
    prefix: str | None = None,
    every: str | None = None,
    now: datetime | None = None,
) -> Listing:
    """The backups `stack` holds, each with its state in FSx, its age and its copy.

    `retention`, `prefix` and `every` say which rules keep what (default: as
    the last `rotate` of the stack recorded them). Raises UsageError for the
    environment (no engine, no region, a bad backend) or a stack that does
    not exist. If FSx cannot be read, the listing says `failed` (exit code 1)
    with what the state alone holds.
    """
    from pulumi import automation as auto

    target = checked_target(stack, project, backend, region, endpoint_url, profile)
    missing = UsageError(
        f"stack {stack!r} of project {project!r} does not exist in backend {target.backend}"
    )
    local = target.backend.removeprefix("file://")
    if local != target.backend:
        from pathlib import Path

        if not Path(local).is_dir():
            raise missing
    try:
        with open_stack(target, lambda: None, create=False) as pulumi_stack:
            state = StackState.read(pulumi_stack)
            recorded = pulumi_stack.outputs().get("rotation")
    except auto.StackNotFoundError:
        raise missing from None
    except auto.CommandError as error:
        raise UsageError(command_error_text(error)) from error
    listing = Listing(stack, project, target.backend)
    about = dict(recorded.value) if recorded is not None and recorded.value else {}
    prefix = prefix or about.get("prefix")
    every = every or about.get("every")
    rules = retention or Retention(**(about.get("retention") or {}))
    if prefix and every in EVERY:
        listing.rotation = {"prefix": prefix, "every": every, "retention": rules.rules()}
    live: dict[str, dict[str, Any]] = {}
    try:
        live = _described(target, {**state.backups, **state.copies})
    except Exception as error:  # the state alone is still worth showing
        listing.result, listing.exit_code = "failed", EXIT_FAILED
        listing.error = f"could not read the stack's backups from FSx: {error}"
    listing.entries = _entries(state, live, listing, now or datetime.now(UTC))
    return listing


def _entries(
    state: StackState,
    live: Mapping[str, dict[str, Any]],
    listing: Listing,
    now: datetime,
) -> list[dict[str, Any]]:
    names = sorted(
        {*state.backups, *(n.removesuffix(COPY_SUFFIX) for n in state.copies)}, reverse=True
    )
    periods: dict[str, str] = {}
    kept_by: dict[str, list[str]] = {}
    if listing.rotation is not None:
        try:
            slots = period_slots(
                state.backups,
                state.copies,
                listing.rotation["prefix"],
                listing.rotation["every"],
                listing.stack,
            )
        except SpecError as error:
            listing.problems += error.problems
        else:
            ordered = sorted(slots, reverse=True)
            names = [slots[p].name for p in ordered]
            periods = {slots[p].name: p.stamp for p in ordered}
            rules = Retention(**listing.rotation["retention"])
            reasons = retained([p.start for p in ordered], rules)
            kept_by = {slots[p].name: why for p, why in zip(ordered, reasons, strict=True)}
    entries = []
    for name in names:
        backup = state.backups.get(name)
        copy = state.copies.get(f"{name}{COPY_SUFFIX}")
        entry: dict[str, Any] = {"name": name, "period": periods.get(name)}
        entry.update(_described_entry(backup, live, now, listing.error is None))
        entry["kept_by"] = kept_by.get(name) if listing.rotation is not None else None
        copy_entry = _described_entry(copy, live, now, listing.error is None)
        entry["copy_id"] = copy_entry["backup_id"]
        entry["copy_region"] = (
            (copy.outputs.get("region") or copy.inputs.get("region")) if copy else None
        )
        entry["copy_lifecycle"] = copy_entry["lifecycle"]
        entries.append(entry)
    return entries


def _described_entry(
    held: StateBackup | None, live: Mapping[str, dict[str, Any]], now: datetime, read: bool
) -> dict[str, Any]:
    """backup_id, lifecycle (FSx's; `gone` if FSx no longer has it), size, creation, age."""
    if held is None:
        return {
            "backup_id": None,
            "lifecycle": None,
            "size_bytes": None,
            "created": None,
            "age_seconds": None,
        }
    described = live.get(held.backup_id)
    if described is not None:
        lifecycle = described.get("Lifecycle")
    elif read:
        lifecycle = "gone"
    else:  # FSx could not be read: as the state last recorded it
        lifecycle = held.outputs.get("lifecycle")
    created: Any = (described or {}).get("CreationTime") or held.outputs.get("creation_time")
    when: datetime | None = None
    if isinstance(created, datetime):
        when = created
    elif isinstance(created, str):
        try:
            when = datetime.fromisoformat(created)
        except ValueError:
            when = None
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    size = (described or {}).get("SizeInBytes")
    return {
        "backup_id": held.backup_id or None,
        "lifecycle": lifecycle,
        "size_bytes": size if isinstance(size, int) else None,
        "created": when.astimezone(UTC).isoformat() if when else None,
        "age_seconds": max(int((now - when).total_seconds()), 0) if when else None,
    }


def _described(target: Target, held: Mapping[str, StateBackup]) -> dict[str, dict[str, Any]]:
    # The same reads as rotate --dry-run's: the recorded IDs only, never a listing of FSx.
    from fsx_backup_provider.cli.rotate_dry_run import described_backups

    return described_backups(target, held)
