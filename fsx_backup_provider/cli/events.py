"""The engine's event stream, read for people: progress lines, what changed, what failed."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any, TextIO

from fsx_backup_provider.core.constants import FSX_BACKUP_COPY_TYPE, FSX_BACKUP_TYPE

if TYPE_CHECKING:
    from pulumi import automation as auto

# What a step did to a backup, for the CHANGE column and `changes` in JSON.
_REPLACE_OPS = frozenset({"replace", "create-replacement", "delete-replaced"})
# Steps that delete a backup the state held.
_DELETE_OPS = frozenset({"delete", "delete-replaced"})
# Error diagnostics that follow every failure and say nothing about it.
_ENGINE_NOISE = frozenset({"Resource monitor has terminated, shutting down"})
_TRACEBACK = "Traceback (most recent call last):"
# The resources a step line is printed for: backups, and copies of them.
BACKUP_TYPES = frozenset({FSX_BACKUP_TYPE, FSX_BACKUP_COPY_TYPE})


class Console:
    """Lines to stderr (progress) from several threads, never interleaved."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        stream = self._stream or sys.stderr
        with self._lock:
            stream.write(text.rstrip("\n") + "\n")
            stream.flush()


def name_of_urn(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def op_name(value: Any) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def op_counts(changes: Mapping[Any, int] | None) -> dict[str, int]:
    return {op_name(op): int(count) for op, count in (changes or {}).items()}


def condense_error(message: str) -> str:
    """A provider error as the user needs it: the last exception's text, not the traceback.

    The Python dynamic provider host reports a failed operation as the whole
    traceback of the exception the provider raised; the provider's messages
    are written to be read on their own.
    """
    text = message.strip()
    if _TRACEBACK not in text:
        return text
    lines = text[text.rindex(_TRACEBACK) + len(_TRACEBACK) :].splitlines()
    # Frames are indented; the exception starts at the first line that is not.
    starts = [i for i, line in enumerate(lines) if line.strip() and not line[:1].isspace()]
    if not starts:
        return text
    exception = "\n".join(lines[starts[0] :]).strip()
    # fsx_backup_provider.core.lifecycle.FsxBackupError: ... -> FsxBackupError: ...
    return re.sub(r"^(?:\w+\.)+(\w+): ", r"\1: ", exception)


class EventWatcher:
    """Follows the engine's event stream: steps of backups and copies, errors, the summary.

    `changes` (name -> create/update/replace/delete) and `deleted_ids`
    (name -> the backup ID a finished step deleted) cover FsxBackups and
    FsxBackupCopies, so every backup or copy a run deletes has a progress
    line and an entry; other resources a stack holds (its seed) are not
    backups.
    """

    def __init__(self, say: Callable[[str], None], *, planning: bool = False) -> None:
        self.say = say
        self.planning = planning
        self._progress_shown: dict[str, str] = {}
        self.changes: dict[str, str] = {}
        self.deleted_ids: dict[str, str] = {}
        self._refreshed: set[str] = set()  # names whose refresh step began
        self.errors: list[str] = []
        self.summary: dict[str, int] | None = None

    def __call__(self, event: auto.EngineEvent) -> None:
        try:
            self._handle(event)
        except Exception as error:  # an odd event must never break the run
            self.say(f"fsx-backup: ignored an engine event it could not read: {error}")

    def _handle(self, event: auto.EngineEvent) -> None:
        diagnostic = event.diagnostic_event
        if (
            diagnostic is not None
            and diagnostic.ephemeral
            and diagnostic.urn
            and FSX_BACKUP_TYPE in diagnostic.urn
        ):
            # The provider reports each waiting create's lifecycle and
            # ProgressPercent to the engine (host/progress.py); show it once per change.
            name, message = name_of_urn(diagnostic.urn), diagnostic.message.strip()
            if message and self._progress_shown.get(name) != message:
                self._progress_shown[name] = message
                self.say(f"{name}: {message}")
        if diagnostic is not None and diagnostic.severity == "error":
            message = condense_error(diagnostic.message)
            if diagnostic.urn and message:
                message = f"{name_of_urn(diagnostic.urn)}: {message}"
            if message and message not in self.errors and message not in _ENGINE_NOISE:
                self.errors.append(message)
        if event.summary_event is not None:
            self.summary = op_counts(event.summary_event.resource_changes)
        for kind, step in (
            ("pre", event.resource_pre_event),
            ("done", event.res_outputs_event),
            ("failed", event.res_op_failed_event),
        ):
            if step is None or step.metadata.type not in BACKUP_TYPES:
                continue
            planning = bool(getattr(step, "planning", False))
            self._step(kind, step.metadata, planning)

    def _step(self, kind: str, metadata: auto.StepEventMetadata, planning: bool) -> None:
        name = name_of_urn(metadata.urn)
        op = op_name(metadata.op)
        # A refresh step ends as `refresh` (new state, or none for a backup gone
        # from FSx) or, under `fsx-backup refresh`, as `delete` with no delete
        # step begun: a backup deleted outside, dropped from the state by the
        # refresh and deleted by nobody in this run, so never in `deleted`.
        refreshing = name in self._refreshed
        if kind == "pre":
            self._refreshed.discard(name)
            if op == "refresh":
                self._refreshed.add(name)
        elif refreshing:
            self._refreshed.discard(name)
            gone = op in _DELETE_OPS or (op == "refresh" and metadata.new is None)
            if gone and kind == "done" and not (planning or self.planning):
                if op in _DELETE_OPS:
                    self.changes[name] = "delete"
                held = f" ({metadata.old.id})" if metadata.old is not None else ""
                self.say(
                    f"{name}: gone from FSx{held}, deleted outside this run: dropped from the state"
                )
                return
        if op in ("same", "refresh", "read"):
            return
        summary_op = "replace" if op in _REPLACE_OPS else op
        self.changes[name] = summary_op
        if planning or self.planning:
            if kind == "pre":
                self.say(f"{name}: {summary_op} (planned)")
            return
        if kind == "pre":
            self.say(f"{name}: {op} started")
            return
        if kind == "failed":
            self.say(f"{name}: {op} failed")
            return
        if op in _DELETE_OPS and metadata.old is not None:
            self.deleted_ids[name] = metadata.old.id
        outputs = (metadata.new.outputs if metadata.new else None) or {}
        detail = ""
        if outputs.get("backup_id"):
            detail = f" ({outputs['backup_id']} {outputs.get('lifecycle')})"
        elif op in _DELETE_OPS and metadata.old is not None:
            detail = f" ({metadata.old.id})"
        self.say(f"{name}: {op} done{detail}")
