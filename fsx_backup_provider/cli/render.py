"""What a command prints on stdout: a table, or one JSON object of a stable shape.

Every outcome of a command, including a spec or usage error that stopped it
before the engine ran, has the same JSON keys, so a script can read
`result`, `exit_code`, `error` and `problems` without first guessing which
kind of failure it got.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from fsx_backup_provider.cli.text import cap_lines

if TYPE_CHECKING:
    from fsx_backup_provider.aws.restore_plan import RestoreTestResult
    from fsx_backup_provider.cli.inventory import Listing
    from fsx_backup_provider.cli.rotate import RotationResult

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CHANGES = 3
EXIT_INTERRUPTED = 130
INTERRUPTED_MESSAGE = (
    "interrupted (Ctrl-C). Run the same command again: a create that was under way finds its "
    "backup again (stable ClientRequestToken), and nothing is made twice. If the next run says "
    "the stack is locked, see docs/cli.md (a killed run)."
)


@dataclass
class Report:
    """The outcome of up, preview, refresh, destroy or cancel (and of any usage error).

    `result` is `succeeded`, `failed` or `cancelled` (Ctrl-C).
    """

    command: str | None
    stack: str | None = None
    project: str | None = None
    backend: str | None = None
    result: str = "failed"
    exit_code: int = EXIT_FAILED
    resource_changes: dict[str, int] | None = None
    changes: dict[str, str] = field(default_factory=dict)
    deleted: dict[str, str] = field(default_factory=dict)
    backups: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "stack": self.stack,
            "project": self.project,
            "backend": self.backend,
            "result": self.result,
            "exit_code": self.exit_code,
            "resource_changes": self.resource_changes,
            "changes": dict(sorted(self.changes.items())),
            "deleted": dict(sorted(self.deleted.items())),
            "backups": self.backups,
            "error": self.error,
            "problems": cap_lines(self.problems),
        }


def write_json(document: Mapping[str, Any], out: TextIO) -> None:
    out.write(json.dumps(document, indent=2) + "\n")
    out.flush()


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns; the last one is not padded (ARNs are long)."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return lines


# The engine's summary counts every resource of the stack, not only its backups.
COUNTS_NOTE = "the engine's counts, with the stack, its seed and provider"


def render_table(report: Report) -> str:
    rows: list[tuple[str, str, str, str, str]] = []
    for name, backup in report.backups.items():
        rows.append(
            (
                name,
                report.changes.get(name, "same"),
                str(backup.get("backup_id") or "-"),
                str(backup.get("lifecycle") or "-"),
                str(backup.get("arn") or "-"),
            )
        )
    for name, op in sorted(report.changes.items()):
        if name not in report.backups:
            rows.append((name, op, report.deleted.get(name, "-"), "-", "-"))
    if rows:
        lines = table(("NAME", "CHANGE", "BACKUP ID", "LIFECYCLE", "ARN"), rows)
    elif report.exit_code == EXIT_USAGE:
        lines = []  # refused before the stack was read: its backups are not known here
    else:
        lines = [f"no backups in stack {report.stack}"]
    counts = ", ".join(f"{op} {n}" for op, n in sorted((report.resource_changes or {}).items()))
    verdict = report.result
    if report.command == "preview" and report.exit_code == EXIT_CHANGES:
        verdict = "succeeded, with changes"
    elif report.command == "preview" and report.exit_code == EXIT_OK:
        verdict = "succeeded, no changes"
    lines.append(
        f"{report.command} {verdict} on stack {report.stack}"
        + (f" ({counts}: {COUNTS_NOTE})" if counts else "")
    )
    return "\n".join(lines)


def render_rotation(result: RotationResult) -> str:
    """The kept periods newest first, then what was deleted; notes on lost and found backups.

    A KEPT BY column (the rules that keep each period) when rules other than
    --keep-last are in use; with --dry-run, what a run would create and delete.
    """
    rows = []
    adopted = {n for n, entry in result.recovered.items() if entry["action"] == "adopted"}
    would_create = {entry["name"] for entry in result.would_create}
    rules = set(result.retention) - {"last"}

    def row(*cells: str, name: str) -> tuple[str, ...]:
        if not rules:
            return cells
        kept_by = ",".join(result.kept_by.get(name, [])) or "-"
        return (*cells[:-1], kept_by, cells[-1])

    for name in result.period_names:
        gone = result.copies_without_backup.get(name)
        if gone is not None:
            rows.append(row(name, "same", "-", "gone", gone["copy_id"], name=name))
            continue
        backup = result.backups.get(name, {})
        backup_id = str(backup.get("backup_id") or "-")
        change = "create" if backup_id in result.created or name in would_create else "same"
        copy = result.copies.get(backup_id, "-")
        if f"{name}-copy" in would_create:
            copy = "create"
        rows.append(
            row(
                name,
                "adopt" if name in adopted else change,
                backup_id,
                str(backup.get("lifecycle") or "-"),
                copy,
                name=name,
            )
        )
    deletes = (
        {entry["name"]: entry["backup_id"] or "-" for entry in result.would_delete}
        if result.dry_run
        else result.deleted_names
    )
    rows += [
        row(name, "delete", backup_id, "-", "-", name=name) for name, backup_id in deletes.items()
    ]
    # A failed run: what it meant to delete and could not is still there, and says so.
    rows += [
        row(name, "not deleted", backup_id, "-", "-", name=name)
        for name, backup_id in result.not_deleted.items()
    ]
    header: tuple[str, ...] = ("NAME", "CHANGE", "BACKUP ID", "LIFECYCLE", "COPY")
    if rules:
        header = (*header[:-1], "KEPT BY", header[-1])
    lines = table(header, rows) if rows else []
    if result.dry_run and result.result == "succeeded":
        lines.append(
            f"rotate --dry-run on stack {result.stack}: period {result.period}, would create "
            f"{len(result.would_create)}, would delete {len(result.would_delete)}, would keep "
            f"{len(result.period_names)} period(s); nothing was changed"
        )
    else:
        lines.append(
            f"rotate {result.result} on stack {result.stack}: period {result.period}, "
            f"created {len(result.created)}, deleted {len(result.deleted)}, "
            f"kept {len(result.kept)}"
            + (f", not deleted {len(result.not_deleted)}" if result.not_deleted else "")
        )
    for name, gone in result.copies_without_backup.items():
        lines.append(
            f"{name}: its backup {gone['source_backup_id'] or '-'} is gone (deleted outside the "
            f"rotation); its copy {gone['copy_id']} is kept until the period leaves the window"
        )
    tested = result.restore_test
    if tested is not None:
        seconds = tested["restore_seconds"]
        lines.append(
            f"restore test of {tested['backup_id']}: {tested['result']}"
            + (f", restored as {tested['restored_id']}" if tested["restored_id"] else "")
            + (f" in {seconds:g} s" if seconds is not None else "")
            + (", cleaned up" if tested["cleaned_up"] else ", NOT cleaned up")
            + (f": {tested['error']}" if tested["error"] else "")
        )
    for name, entry in result.recovered.items():
        what = (
            "adopted into its period"
            if entry["action"] == "adopted"
            else "deleted: its period is outside the window"
        )
        lines.append(
            f"{name}: {entry['backup_id']}, made by a killed run, found by its token: {what}"
        )
    return "\n".join(lines)


def render_restore_test(result: RestoreTestResult) -> str:
    """One line per fact: what was restored, how long it took, what is left."""
    seconds = "-" if result.restore_seconds is None else f"{result.restore_seconds:g} s"
    rows = [
        (
            result.backup_id,
            result.kind or "-",
            result.restored_id or "-",
            seconds,
            "yes" if result.cleaned_up else "no",
        )
    ]
    lines = table(("BACKUP ID", "RESTORED AS", "RESTORED ID", "RESTORE TIME", "CLEANED UP"), rows)
    for leftover in result.leftovers_deleted:
        lines.append(f"deleted {leftover}, left by an earlier restore test of {result.backup_id}")
    outcome = "refused" if result.exit_code == EXIT_USAGE else result.result
    lines.append(f"restore-test {outcome} for {result.backup_id}")
    return "\n".join(lines)


def _size(size: object) -> str:
    if not isinstance(size, int):
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return "-"


def _age(seconds: object) -> str:
    if not isinstance(seconds, int):
        return "-"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days}d{hours}h"
    return f"{hours}h{rest // 60}m" if hours else f"{rest // 60}m{rest % 60}s"


def render_listing(listing: Listing) -> str:
    """One line per backup: `fsx-backup list`."""
    rows = [
        (
            entry["name"],
            entry["period"] or "-",
            entry["backup_id"] or "-",
            entry["lifecycle"] or "-",
            _size(entry["size_bytes"]),
            _age(entry["age_seconds"]),
            ",".join(entry["kept_by"] or []) or "-",
            entry["copy_id"] or "-",
        )
        for entry in listing.entries
    ]
    header = ("NAME", "PERIOD", "BACKUP ID", "LIFECYCLE", "SIZE", "AGE", "KEPT BY", "COPY")
    lines = table(header, rows) if rows else [f"no backups in stack {listing.stack}"]
    rotation = listing.rotation
    about = ""
    if rotation is not None:
        rules = ", ".join(f"{rule} {n}" for rule, n in rotation["retention"].items()) or "unknown"
        about = f" (rotation {rotation['prefix']}, every {rotation['every']}; keep {rules})"
    lines.append(f"{len(listing.entries)} backup(s) in stack {listing.stack}{about}")
    lines += listing.problems
    return "\n".join(lines)
