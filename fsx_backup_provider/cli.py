"""`fsx-backup`: declare FSx backups from the command line and deploy them.

    fsx-backup up --file backups.yaml --region us-east-1
    fsx-backup preview --backup nightly=fs-0123456789abcdef0,Env=prod --json
    fsx-backup destroy --stack dev

A console script on top of the Pulumi Automation API: an inline program
declares one FsxBackup per entry of the spec (a YAML/JSON file and/or
`--backup` flags), and `up`, `preview`, `refresh` or `destroy` runs on the
chosen stack and backend (a local file backend by default). The spec is
checked before the engine is touched. While backups are being created their
lifecycle and ProgressPercent are shown on stderr; the result goes to stdout
as a table or, with `--json`, as one JSON object. See docs/cli.md.

Exit codes: 0 success (for `preview`: no changes), 1 the engine or the
deployment failed, 2 usage or spec error (nothing was run), 3 `preview`
succeeded and there are changes, 130 interrupted.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from fsx_backup_provider.constants import FSX_BACKUP_TYPE
from fsx_backup_provider.fsx import default_region

if TYPE_CHECKING:
    from pulumi import automation as auto

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CHANGES = 3
EXIT_INTERRUPTED = 130

COMMANDS = ("up", "preview", "refresh", "destroy")
DEFAULT_STACK = "dev"
DEFAULT_PROJECT = "fsx-backup"
DEFAULT_BACKEND_DIR = "~/.fsx-backup/state"
# The passphrase of the local backend's secrets when PULUMI_CONFIG_PASSPHRASE
# (or _FILE) is not set. The CLI stores no secret, so it guards nothing; it
# only keeps the engine from prompting. Documented in docs/cli.md.
DEFAULT_PASSPHRASE = "fsx-backup-local"
DEFAULT_PARALLEL = 64

OUTPUT_NAME = "backups"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# Project and stack names as the engine accepts them (a stack may be
# qualified as org/stack or org/project/stack on a cloud backend).
PROJECT_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,100}")
STACK_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,100}(/[A-Za-z0-9_.-]{1,100}){0,2}")
SPEC_FIELDS = ("name", "fileSystemId", "volumeId", "tags")

# What a step did to a backup, for the CHANGE column and `changes` in JSON.
_REPLACE_OPS = frozenset({"replace", "create-replacement", "delete-replaced"})


class SpecError(Exception):
    """The backups as declared cannot be deployed; every problem is listed."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class UsageError(Exception):
    """A command line or environment problem found before the engine runs."""


# -- the spec ---------------------------------------------------------------


@dataclass(frozen=True)
class BackupSpec:
    """One declared backup: its resource name, exactly one source, its tags."""

    name: str
    file_system_id: str | None = None
    volume_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    # Where it was declared, for error messages: "backups.yaml: backups[1]", "--backup #2".
    origin: str = ""

    @property
    def source(self) -> str:
        return self.file_system_id or self.volume_id or ""

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": self.name}
        if self.file_system_id is not None:
            entry["fileSystemId"] = self.file_system_id
        if self.volume_id is not None:
            entry["volumeId"] = self.volume_id
        if self.tags:
            entry["tags"] = dict(self.tags)
        return entry


def _where(origin: str, name: Any) -> str:
    return f"{origin} ({name!r})" if isinstance(name, str) and name else origin


def _string_map(value: Any, where: str, what: str, problems: list[str]) -> dict[str, str]:
    """A mapping of strings to strings, or problems saying which key or value is not."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"{where}: {what} must be a mapping of keys to values, got {value!r}")
        return {}
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            problems.append(f"{where}: {what}: key {key!r} must be a string")
        elif not isinstance(item, str):
            problems.append(
                f"{where}: {what}: the value of {key!r} must be a string, got {item!r} "
                "(quote it in YAML)"
            )
        else:
            result[key] = item
    return result


def parse_entry(entry: Any, origin: str) -> tuple[BackupSpec | None, list[str]]:
    """One entry of a spec file's `backups` list."""
    if not isinstance(entry, Mapping):
        return None, [
            f"{origin}: each entry must be a mapping with name and fileSystemId or volumeId, "
            f"got {entry!r}"
        ]
    name = entry.get("name")
    where = _where(origin, name)
    problems: list[str] = []
    for key in entry:
        if key not in SPEC_FIELDS:
            close = difflib.get_close_matches(str(key), SPEC_FIELDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"{where}: unknown field {key!r}{hint}; the fields are {', '.join(SPEC_FIELDS)}"
            )
    if name is None:
        problems.append(f"{where}: name is missing")
    elif not isinstance(name, str):
        problems.append(f"{where}: name must be a string, got {name!r}")
    fs_id, vol_id = entry.get("fileSystemId"), entry.get("volumeId")
    for key, value in (("fileSystemId", fs_id), ("volumeId", vol_id)):
        if value is not None and not isinstance(value, str):
            problems.append(f"{where}: {key} must be a string, got {value!r}")
    tags = _string_map(entry.get("tags"), where, "tags", problems)
    if problems:
        return None, problems
    return (
        BackupSpec(
            name=str(name),
            file_system_id=fs_id,
            volume_id=vol_id,
            tags=tags,
            origin=origin,
        ),
        [],
    )


def parse_spec_document(document: Any, origin: str) -> tuple[list[BackupSpec], list[str]]:
    """`{"backups": [{"name": ..., "fileSystemId"|"volumeId": ..., "tags": {...}}]}`."""
    if not isinstance(document, Mapping) or "backups" not in document:
        return [], [
            f'{origin}: expected a mapping with a "backups" list, e.g. '
            '{"backups": [{"name": "nightly", "fileSystemId": "fs-0123456789abcdef0"}]}'
        ]
    problems = [
        f'{origin}: unknown top-level key {key!r}; the only key is "backups"'
        for key in document
        if key != "backups"
    ]
    entries = document["backups"]
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        return [], [*problems, f"{origin}: backups must be a list, got {entries!r}"]
    specs: list[BackupSpec] = []
    for index, entry in enumerate(entries):
        spec, entry_problems = parse_entry(entry, f"{origin}: backups[{index}]")
        problems += entry_problems
        if spec is not None:
            specs.append(spec)
    return specs, problems


def load_spec_file(path: Path) -> tuple[list[BackupSpec], list[str]]:
    """A spec file: JSON if it ends in .json, else YAML (which also reads JSON)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        return [], [f"{path}: cannot read the spec file: {error.strerror or error}"]
    except UnicodeDecodeError as error:
        return [], [f"{path}: the spec file is not UTF-8 text: {error}"]
    document: Any
    if path.suffix.lower() == ".json":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            return [], [f"{path}: not valid JSON: {error}"]
    else:
        import yaml

        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            return [], [f"{path}: not valid YAML: {error}"]
    return parse_spec_document(document, str(path))


def _key_value(text: str, where: str, problems: list[str]) -> tuple[str, str] | None:
    key, sep, value = text.partition("=")
    if not sep or not key:
        problems.append(f"{where}: expected Key=Value, got {text!r}")
        return None
    return key, value


def parse_backup_flag(text: str, origin: str) -> tuple[BackupSpec | None, list[str]]:
    """`NAME=fs-...|fsvol-...[,Key=Value...]`: one backup from the command line."""
    where = f"{origin} {text!r}"
    head, *tag_parts = text.split(",")
    name, sep, source = head.partition("=")
    if not sep or not name or not source:
        return None, [f"{where}: expected NAME=fs-...|fsvol-...[,Key=Value...]"]
    problems: list[str] = []
    fs_id = vol_id = None
    if source.startswith("fsvol-"):
        vol_id = source
    elif source.startswith("fs-"):
        fs_id = source
    else:
        problems.append(
            f"{where}: source {source!r} is neither a file system ID (fs-...) "
            "nor an ONTAP volume ID (fsvol-...)"
        )
    tags: dict[str, str] = {}
    for part in tag_parts:
        pair = _key_value(part, f"{where}: tag", problems)
        if pair is None:
            continue
        if pair[0] in tags:
            problems.append(f"{where}: tag {pair[0]!r} is given twice")
        tags[pair[0]] = pair[1]
    if problems:
        return None, problems
    return BackupSpec(name, fs_id, vol_id, tags, origin), []


def parse_tag_flags(values: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """`--tag K=V` flags: tags for every backup."""
    problems: list[str] = []
    tags: dict[str, str] = {}
    for text in values:
        pair = _key_value(text, "--tag", problems)
        if pair is None:
            continue
        if pair[0] in tags:
            problems.append(f"--tag: {pair[0]!r} is given twice")
        tags[pair[0]] = pair[1]
    return tags, problems


_FIELD_OF_INPUT = {"file_system_id": "fileSystemId", "volume_id": "volumeId", "tags": "tags"}


def validate_specs(specs: Sequence[BackupSpec], common_tags: Mapping[str, str]) -> list[str]:
    """Every rule the declared backups break, each naming the entry and field.

    The provider's own checks (ID patterns, tag rules from the FSx service
    model) run here too, so a bad spec fails before the engine starts.
    """
    from fsx_backup_provider.servicemodel import list_rule
    from fsx_backup_provider.validation import ONE_SOURCE, tag_failures, validate_inputs

    problems = [f"--tag: {f.reason}" for f in tag_failures("--tag", common_tags or None)]
    limit = list_rule("Tags").max_items
    first_origin: dict[str, str] = {}
    for spec in specs:
        where = _where(spec.origin, spec.name)
        if not NAME_PATTERN.fullmatch(spec.name):
            problems.append(
                f"{where}: name {spec.name!r} must be 1 to 100 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        if spec.name in first_origin:
            problems.append(
                f"{where}: name {spec.name!r} is already used by {first_origin[spec.name]}; "
                "names must be unique"
            )
        else:
            first_origin[spec.name] = spec.origin
        if spec.file_system_id is None and spec.volume_id is None:
            problems.append(
                f"{where}: needs exactly one source, fileSystemId (a file system, fs-...) "
                "or volumeId (an ONTAP volume, fsvol-...); it has neither"
            )
        elif spec.file_system_id is not None and spec.volume_id is not None:
            problems.append(
                f"{where}: needs exactly one source, fileSystemId or volumeId; it has both "
                "(an ONTAP volume backup takes only volumeId)"
            )
        inputs = {
            "file_system_id": spec.file_system_id,
            "volume_id": spec.volume_id,
            "tags": dict(spec.tags) or None,
        }
        for failure in validate_inputs(inputs):
            if failure.rule == ONE_SOURCE:
                continue  # said above, in the spec's own words
            problems.append(f"{where}: {_FIELD_OF_INPUT[failure.property]}: {failure.reason}")
        merged = {**common_tags, **spec.tags}
        if len(merged) > limit:
            problems.append(
                f"{where}: tags: {len(merged)} tags with the --tag ones; "
                f"an FSx backup holds at most {limit}"
            )
    return problems


def build_specs(
    file: Path | None, backup_flags: Sequence[str], tag_flags: Sequence[str]
) -> list[BackupSpec]:
    """The backups declared by `--file` and `--backup`, with `--tag` merged in.

    An entry's own tag wins over a `--tag` of the same key. Raises SpecError
    listing every problem.
    """
    problems: list[str] = []
    specs: list[BackupSpec] = []
    if file is not None:
        from_file, file_problems = load_spec_file(file)
        specs += from_file
        problems += file_problems
    for index, text in enumerate(backup_flags, start=1):
        spec, flag_problems = parse_backup_flag(text, f"--backup #{index}")
        problems += flag_problems
        if spec is not None:
            specs.append(spec)
    common, tag_problems = parse_tag_flags(tag_flags)
    problems += tag_problems
    problems += validate_specs(specs, common)
    if problems:
        raise SpecError(problems)
    return [
        BackupSpec(s.name, s.file_system_id, s.volume_id, {**common, **s.tags}, s.origin)
        for s in specs
    ]


# -- the inline program -----------------------------------------------------


def make_program(specs: Sequence[BackupSpec]) -> Callable[[], None]:
    """One FsxBackup per spec; exports `backups`: name -> {backup_id, arn, lifecycle, tags}."""

    def program() -> None:
        import pulumi

        from fsx_backup_provider.resource import FsxBackup, FsxBackupArgs

        exported: dict[str, Any] = {}
        for spec in specs:
            backup = FsxBackup(
                spec.name,
                FsxBackupArgs(
                    file_system_id=spec.file_system_id,
                    volume_id=spec.volume_id,
                    # No tags at all lets a source with CopyTagsToBackups tag the backup.
                    tags=dict(spec.tags) or None,
                ),
            )
            exported[spec.name] = {
                "backup_id": backup.backup_id,
                "arn": backup.arn,
                "lifecycle": backup.lifecycle,
                "tags": backup.tags,
            }
        pulumi.export(OUTPUT_NAME, exported)

    return program


# -- progress ---------------------------------------------------------------


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


def _op(value: Any) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def _op_map(changes: Mapping[Any, int] | None) -> dict[str, int]:
    return {_op(op): int(count) for op, count in (changes or {}).items()}


# Error diagnostics that follow every failure and say nothing about it.
_ENGINE_NOISE = frozenset({"Resource monitor has terminated, shutting down"})
_TRACEBACK = "Traceback (most recent call last):"


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
    # fsx_backup_provider.provider.FsxBackupError: ... -> FsxBackupError: ...
    return re.sub(r"^(?:\w+\.)+(\w+): ", r"\1: ", exception)


class EventWatcher:
    """Follows the engine's event stream: steps of FsxBackups, errors, the summary."""

    def __init__(self, command: str, console: Console) -> None:
        self.command = command
        self.console = console
        self._progress_shown: dict[str, str] = {}
        self.changes: dict[str, str] = {}
        self.deleted_ids: dict[str, str] = {}
        self.errors: list[str] = []
        self.summary: dict[str, int] | None = None

    def __call__(self, event: auto.EngineEvent) -> None:
        try:
            self._handle(event)
        except Exception as error:  # an odd event must never break the run
            self.console.line(f"fsx-backup: ignored an engine event it could not read: {error}")

    def _handle(self, event: auto.EngineEvent) -> None:
        diagnostic = event.diagnostic_event
        if (
            diagnostic is not None
            and diagnostic.ephemeral
            and diagnostic.urn
            and FSX_BACKUP_TYPE in diagnostic.urn
        ):
            # The provider reports each waiting create's lifecycle and
            # ProgressPercent to the engine (progress.py); show it once per change.
            name, message = name_of_urn(diagnostic.urn), diagnostic.message.strip()
            if message and self._progress_shown.get(name) != message:
                self._progress_shown[name] = message
                self.console.line(f"{name}: {message}")
        if diagnostic is not None and diagnostic.severity == "error":
            message = condense_error(diagnostic.message)
            if diagnostic.urn and message:
                message = f"{name_of_urn(diagnostic.urn)}: {message}"
            if message and message not in self.errors and message not in _ENGINE_NOISE:
                self.errors.append(message)
        if event.summary_event is not None:
            self.summary = _op_map(event.summary_event.resource_changes)
        for kind, step in (
            ("pre", event.resource_pre_event),
            ("done", event.res_outputs_event),
            ("failed", event.res_op_failed_event),
        ):
            if step is None or step.metadata.type != FSX_BACKUP_TYPE:
                continue
            planning = bool(getattr(step, "planning", False))
            self._step(kind, step.metadata, planning)

    def _step(self, kind: str, metadata: auto.StepEventMetadata, planning: bool) -> None:
        name = name_of_urn(metadata.urn)
        op = _op(metadata.op)
        if op in ("same", "refresh", "read"):
            return
        summary_op = "replace" if op in _REPLACE_OPS else op
        self.changes[name] = summary_op
        if op == "delete" and metadata.old is not None:
            self.deleted_ids[name] = metadata.old.id
        if planning or self.command == "preview":
            if kind == "pre":
                self.console.line(f"{name}: {summary_op} (planned)")
            return
        if kind == "pre":
            self.console.line(f"{name}: {op} started")
            return
        if kind == "failed":
            self.console.line(f"{name}: {op} failed")
            return
        outputs = (metadata.new.outputs if metadata.new else None) or {}
        detail = ""
        if outputs.get("backup_id"):
            detail = f" ({outputs['backup_id']} {outputs.get('lifecycle')})"
        self.console.line(f"{name}: {op} done{detail}")


# -- running the engine -----------------------------------------------------


@dataclass
class Options:
    command: str
    stack: str
    project: str
    backend: str
    region: str | None
    endpoint_url: str | None
    profile: str | None
    parallel: int
    json: bool
    verbose: bool


def default_backend() -> str:
    return "file://" + str(Path(DEFAULT_BACKEND_DIR).expanduser())


def prepare_backend(url: str) -> str:
    """The backend URL to use; a local one (file://) has `~` expanded and is created."""
    if "://" not in url:
        raise UsageError(
            f"--backend {url!r} is not a URL: give file:///path/to/dir for a local "
            "backend, or s3://..., azblob://..., gs://..., https://api.pulumi.com"
        )
    if not url.startswith("file://"):
        return url
    raw = url[len("file://") :]
    if not raw:
        raise UsageError("--backend file:// needs a directory, e.g. file://~/.fsx-backup/state")
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--backend: cannot create {path}: {error.strerror or error}") from error
    return f"file://{path}"


def find_engine() -> str:
    """The `pulumi` executable; the Python dynamic provider shim must be beside it or on PATH."""
    pulumi_path = shutil.which("pulumi")
    how = (
        'In a checkout of fsx-backup-provider run `eval "$(make -s env)"` (it builds or finds '
        "the pinned engine and puts it on PATH); otherwise install the Pulumi CLI "
        "(https://www.pulumi.com/docs/install/) so that `pulumi` is on PATH."
    )
    if pulumi_path is None:
        raise UsageError(f"the Pulumi engine (`pulumi`) is not on PATH. {how}")
    shim = "pulumi-resource-pulumi-python"
    beside = Path(pulumi_path).resolve().parent / shim
    if shutil.which(shim) is None and not beside.exists():
        raise UsageError(
            f"found {pulumi_path}, but not `{shim}`, which runs Python dynamic providers "
            f"such as FsxBackup. {how}"
        )
    return pulumi_path


def resolve_region(region: str | None, profile: str | None) -> str:
    """--region, else the AWS chain (AWS_REGION, the profile's region)."""
    try:
        resolved = default_region(region, profile)
    except ValueError as error:
        raise UsageError(f"--profile: {error}") from error
    if not resolved:
        raise UsageError(
            "no AWS region: pass --region, or set AWS_REGION or a region in your AWS profile"
        )
    return resolved


def engine_env(backend: str) -> dict[str, str]:
    env = {
        "PULUMI_BACKEND_URL": backend,
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        # The provider process must import fsx_backup_provider: run it with this
        # very interpreter unless the user chose another.
        "PULUMI_PYTHON_CMD": os.environ.get("PULUMI_PYTHON_CMD") or sys.executable,
    }
    has_passphrase = "PULUMI_CONFIG_PASSPHRASE" in os.environ or (
        "PULUMI_CONFIG_PASSPHRASE_FILE" in os.environ
    )
    if backend.startswith("file://") and not has_passphrase:
        env["PULUMI_CONFIG_PASSPHRASE"] = DEFAULT_PASSPHRASE
    return env


def stack_config(options: Options, region: str) -> dict[str, Any]:
    config: dict[str, Any] = {"aws:region": region}
    if options.endpoint_url:
        config["aws:endpoints"] = json.dumps([{"fsx": options.endpoint_url}])
    if options.profile:
        config["aws:profile"] = options.profile
    return config


def _command_error_text(error: Exception) -> str:
    """The engine's own words from a CommandError: its stderr, else its stdout's tail."""
    stderr = str(getattr(error, "stderr", "") or "")
    text = str(error)
    if " stderr: " in text:
        stderr = text.split(" stderr: ", 1)[1]
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    if lines:
        return "\n".join(lines[-20:])
    stdout = text.split(" stdout: ", 1)[1].split("\n stderr: ", 1)[0] if " stdout: " in text else ""
    tail = [line for line in stdout.strip().splitlines() if line.strip()][-20:]
    return "\n".join(tail) or text.strip()


def backups_in_state(stack: auto.Stack) -> dict[str, dict[str, Any]]:
    """The FsxBackups the stack's state holds now: name -> their outputs."""
    deployment = stack.export_stack().deployment or {}
    found: dict[str, dict[str, Any]] = {}
    for resource in deployment.get("resources") or []:
        if resource.get("type") != FSX_BACKUP_TYPE or resource.get("delete"):
            continue
        outputs = resource.get("outputs") or {}
        found[name_of_urn(str(resource.get("urn", "")))] = {
            "backup_id": outputs.get("backup_id") or resource.get("id"),
            "arn": outputs.get("arn"),
            "lifecycle": outputs.get("lifecycle"),
            "tags": outputs.get("tags") or {},
            "file_system_id": outputs.get("file_system_id"),
            "volume_id": outputs.get("volume_id"),
        }
    return dict(sorted(found.items()))


@dataclass
class Report:
    command: str
    stack: str
    project: str
    backend: str
    result: str = "failed"
    exit_code: int = EXIT_FAILED
    resource_changes: dict[str, int] | None = None
    changes: dict[str, str] = field(default_factory=dict)
    backups: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None

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
            "backups": self.backups,
            "error": self.error,
        }


def render_table(report: Report, deleted_ids: Mapping[str, str]) -> str:
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
            backup_id = deleted_ids.get(name, "-") if op == "delete" else "-"
            rows.append((name, op, backup_id or "-", "-", "-"))
    lines: list[str] = []
    if rows:
        header = ("NAME", "CHANGE", "BACKUP ID", "LIFECYCLE", "ARN")
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
        for row in [header, *rows]:
            cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
            lines.append("  ".join([*cells, row[4]]).rstrip())
    else:
        lines.append(f"no backups in stack {report.stack}")
    counts = ", ".join(f"{op} {n}" for op, n in sorted((report.resource_changes or {}).items()))
    verdict = report.result
    if report.command == "preview" and report.exit_code == EXIT_CHANGES:
        verdict = "succeeded, with changes"
    elif report.command == "preview" and report.exit_code == EXIT_OK:
        verdict = "succeeded, no changes"
    lines.append(
        f"{report.command} {verdict} on stack {report.stack}"
        + (f" ({counts}; counts include the stack itself)" if counts else "")
    )
    return "\n".join(lines)


def run(options: Options, specs: Sequence[BackupSpec], region: str, out: TextIO) -> int:
    from pulumi import automation as auto

    console = Console()
    backend = options.backend
    report = Report(options.command, options.stack, options.project, backend)
    watcher = EventWatcher(options.command, console)
    on_output: Callable[[str], None] | None = console.line if options.verbose else None
    program = make_program(specs)
    declared = f", {len(specs)} backup(s) declared" if options.command in ("up", "preview") else ""
    console.line(
        f"fsx-backup {options.command}: stack {options.stack}, project {options.project}, "
        f"backend {backend}, region {region}{declared}"
    )
    stack: auto.Stack | None = None
    with tempfile.TemporaryDirectory(prefix="fsx-backup-") as work_dir:
        workspace_options = auto.LocalWorkspaceOptions(
            work_dir=work_dir,
            project_settings=auto.ProjectSettings(
                name=options.project,
                runtime="python",
                backend=auto.ProjectBackend(backend),
            ),
            stack_settings={
                options.stack: auto.StackSettings(config=stack_config(options, region))
            },
            env_vars=engine_env(backend),
        )
        try:
            if options.command in ("up", "preview"):
                stack = auto.create_or_select_stack(
                    options.stack, options.project, program, opts=workspace_options
                )
            else:
                stack = auto.select_stack(
                    options.stack, options.project, program, opts=workspace_options
                )
            common: dict[str, Any] = {
                "parallel": options.parallel,
                "color": "never",
                "on_output": on_output,
                "on_event": watcher,
            }
            if options.command == "up":
                result = stack.up(**common)
                report.resource_changes = _op_map(result.summary.resource_changes)
                report.result = result.summary.result
            elif options.command == "preview":
                preview = stack.preview(**common)
                report.resource_changes = _op_map(preview.change_summary)
                report.result = "succeeded"
            elif options.command == "refresh":
                refreshed = stack.refresh(run_program=False, **common)
                report.resource_changes = _op_map(refreshed.summary.resource_changes)
                report.result = refreshed.summary.result
            else:
                destroyed = stack.destroy(run_program=False, **common)
                report.resource_changes = _op_map(destroyed.summary.resource_changes)
                report.result = destroyed.summary.result
            report.exit_code = EXIT_OK
            if options.command == "preview" and any(
                count for op, count in report.resource_changes.items() if op != "same"
            ):
                report.exit_code = EXIT_CHANGES
        except auto.InvalidVersionError as error:
            console.line(f"fsx-backup: error: the Pulumi engine on PATH cannot be used: {error}")
            return EXIT_USAGE
        except auto.StackNotFoundError:
            console.line(
                f"fsx-backup: error: stack {options.stack!r} of project {options.project!r} "
                f"does not exist in backend {backend} (`up` creates it)"
            )
            return EXIT_USAGE
        except auto.CommandError as error:
            report.error = "\n".join(watcher.errors) or _command_error_text(error)
            report.resource_changes = watcher.summary
            report.result = "failed"
            report.exit_code = EXIT_FAILED
        report.changes = watcher.changes
        if stack is not None:
            try:
                report.backups = backups_in_state(stack)
            except auto.CommandError as error:
                console.line(f"fsx-backup: cannot read the stack's state: {error}")
    if report.error:
        console.line(f"fsx-backup: {options.command} failed:\n{report.error}")
    if options.json:
        out.write(json.dumps(report.to_json(), indent=2, sort_keys=False) + "\n")
    else:
        out.write(render_table(report, watcher.deleted_ids) + "\n")
    out.flush()
    return report.exit_code


# -- command line -----------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fsx-backup",
        description=(
            "Declare Amazon FSx backups and deploy them with the Pulumi engine. "
            "Non-interactive: nothing asks for confirmation."
        ),
        epilog=(
            "exit codes: 0 success (preview: no changes), 1 engine or deployment failure, "
            "2 usage or spec error, 3 preview found changes, 130 interrupted. See docs/cli.md."
        ),
    )
    parser.add_argument("command", choices=COMMANDS, help="what to run on the stack")
    parser.add_argument("--stack", default=DEFAULT_STACK, help="stack name (default: %(default)s)")
    parser.add_argument(
        "--project", default=DEFAULT_PROJECT, help="project name (default: %(default)s)"
    )
    parser.add_argument(
        "--backend",
        default=None,
        help=f"state backend URL (default: file://{DEFAULT_BACKEND_DIR}, created)",
    )
    parser.add_argument(
        "--file",
        type=Path,
        default=None,
        help='spec file (.yaml/.yml or .json): {"backups": [...]}',
    )
    parser.add_argument(
        "--backup",
        action="append",
        default=[],
        metavar="NAME=SOURCE[,Key=Value...]",
        help="declare a backup of fs-... or fsvol-... (repeatable)",
    )
    parser.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a tag for every backup (repeatable; an entry's own tag wins)",
    )
    parser.add_argument("--region", default=None, help="AWS region (default: the AWS chain)")
    parser.add_argument(
        "--endpoint-url", default=None, help="FSx endpoint URL (sets aws:endpoints fsx)"
    )
    parser.add_argument("--profile", default=None, help="AWS profile (sets aws:profile)")
    parser.add_argument(
        "--parallel",
        type=int,
        default=DEFAULT_PARALLEL,
        help="resource operations at once (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also stream the engine's output to stderr"
    )
    parser.add_argument(
        "-y", "--yes", action="store_true", help="accepted and ignored: never interactive"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The `fsx-backup` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        # argparse exits 2 on bad usage (and 0 for --help); as a function, return it.
        code = exit_.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)

    def usage_error(message: str) -> int:
        print(f"fsx-backup: error: {message}", file=sys.stderr)
        return EXIT_USAGE

    if args.parallel < 1:
        return usage_error(f"--parallel must be at least 1, got {args.parallel}")
    if not PROJECT_PATTERN.fullmatch(args.project):
        return usage_error(
            f"--project {args.project!r}: use 1 to 100 letters, digits, '_', '.' or '-'"
        )
    if not STACK_PATTERN.fullmatch(args.stack):
        return usage_error(
            f"--stack {args.stack!r}: use letters, digits, '_', '.' or '-' "
            "(optionally org/stack or org/project/stack)"
        )
    if args.endpoint_url is not None and not re.match(r"https?://", args.endpoint_url):
        return usage_error(f"--endpoint-url {args.endpoint_url!r} must be an http(s) URL")
    try:
        specs = build_specs(args.file, args.backup, args.tag)
    except SpecError as error:
        print("fsx-backup: error: the backups as declared cannot be used:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_USAGE
    if args.command in ("up", "preview") and not specs:
        return usage_error(
            "no backups declared: give --file or --backup (to delete every backup of the "
            "stack, run `fsx-backup destroy`)"
        )
    try:
        backend = prepare_backend(args.backend or default_backend())
        find_engine()
        region = resolve_region(args.region, args.profile)
    except UsageError as error:
        return usage_error(str(error))
    options = Options(
        command=args.command,
        stack=args.stack,
        project=args.project,
        backend=backend,
        region=region,
        endpoint_url=args.endpoint_url,
        profile=args.profile,
        parallel=args.parallel,
        json=args.json,
        verbose=args.verbose,
    )
    try:
        return run(options, specs, region, sys.stdout)
    except KeyboardInterrupt:
        print(
            "fsx-backup: interrupted. Run the same command again: a create that was under way "
            "finds its backup again (stable ClientRequestToken), and nothing is made twice.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
