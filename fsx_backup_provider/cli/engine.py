"""Where a command runs: the engine on PATH, the backend, the region, the stack and its state."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fsx_backup_provider.aws.servicemodel import string_rule
from fsx_backup_provider.aws.session import default_region
from fsx_backup_provider.cli.text import short

if TYPE_CHECKING:
    from pulumi import automation as auto

DEFAULT_STACK = "dev"
DEFAULT_PROJECT = "fsx-backup"
DEFAULT_BACKEND_DIR = "~/.fsx-backup/state"
# The passphrase of a local backend's secrets when PULUMI_CONFIG_PASSPHRASE
# (or _FILE) is not set. The CLI stores no secret, so it guards nothing; it
# only keeps the engine from prompting. Documented in docs/cli.md.
DEFAULT_PASSPHRASE = "fsx-backup-local"
DEFAULT_PARALLEL = 64
# A project or stack name: what the engine accepts, minus what a
# self-managed backend would read as a path (see name_problems).
NAME_CHARS = re.compile(r"[A-Za-z0-9_.-]{1,100}")
# Backends whose stack names are not paths, and where a stack may be
# qualified as org/stack or org/project/stack.
CLOUD_BACKEND = re.compile(r"https?://", re.IGNORECASE)


class UsageError(Exception):
    """A command line or environment problem found before the engine runs."""


def default_backend() -> str:
    return "file://" + str(Path(DEFAULT_BACKEND_DIR).expanduser())


@dataclass(frozen=True)
class Target:
    """A stack, where its state lives, and the AWS settings its program runs with."""

    stack: str = DEFAULT_STACK
    project: str = DEFAULT_PROJECT
    backend: str = field(default_factory=default_backend)
    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None

    def problems(self) -> list[str]:
        """What is wrong with the names and URLs, before anything is touched."""
        found = name_problems(self.project, self.stack, self.backend)
        if self.region is not None:
            problem = region_problem(self.region)
            if problem:
                found.append(f"--region {short(self.region)}: {problem}")
        if self.endpoint_url is not None:
            problem = endpoint_problem(self.endpoint_url)
            if problem:
                found.append(f"--endpoint-url {short(self.endpoint_url)}: {problem}")
        return found


def endpoint_problem(url: str) -> str | None:
    """Why `url` cannot be an FSx endpoint, or None: checked before it reaches the provider,
    where botocore would fail on it at the first create, after a preview that passed."""
    if not re.match(r"https?://", url, re.IGNORECASE):
        return "must be an http(s) URL"
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 raises ValueError for a port out of range
    except ValueError as error:
        return f"is not a URL: {error}"
    if not parts.hostname or any(c.isspace() for c in url):
        return "must be an http(s) URL with a host, e.g. http://127.0.0.1:5000"
    return None


def name_problems(project: str, stack: str, backend: str) -> list[str]:
    """What is wrong with `--project` and `--stack` for this backend; [] if nothing.

    A self-managed backend (file://, s3://, azblob://, gs://) keeps a stack's
    state at `.pulumi/stacks/<project>/<stack>.json` (and its history, backups
    and lock under the same two names), joined as paths: `.` and `..` are
    directories there, so `--project . --stack fsx-backup` and `--project
    fsx-backup --stack .` both name `.pulumi/stacks/fsx-backup.json`, and
    `..` reaches out of `stacks/`. A name is therefore one path component
    that is neither; a stack may be qualified (org/stack, org/project/stack)
    only on Pulumi Cloud, whose names are not paths. So two different
    (project, stack) pairs never share a state file.
    """
    found: list[str] = []
    rule = "1 to 100 letters, digits, '_', '.' or '-', and not '.' or '..'"
    why = (
        "(a self-managed backend stores a stack at .pulumi/stacks/<project>/<stack>.json, "
        "and '.' or '..' would name another stack's file or a file outside that directory)"
    )
    if not _is_name(project):
        found.append(f"--project {short(project)}: use {rule} {why}")
    parts = stack.split("/")
    if len(parts) == 1:
        if not _is_name(stack):
            found.append(f"--stack {short(stack)}: use {rule} {why}")
    elif not CLOUD_BACKEND.match(backend):
        found.append(
            f"--stack {short(stack)}: a stack name may hold no '/' on this backend ({rule}); "
            "org/stack and org/project/stack are for Pulumi Cloud backends (https://...)"
        )
    elif len(parts) > 3 or not all(_is_name(part) for part in parts):
        found.append(
            f"--stack {short(stack)}: use a name, org/stack or org/project/stack, each part {rule}"
        )
    elif len(parts) == 3 and parts[1] != project:
        found.append(
            f"--stack {short(stack)} names project {short(parts[1])}, but --project is "
            f"{short(project)}: give the same project in both, or an unqualified stack name"
        )
    return found


def _is_name(text: str) -> bool:
    return bool(NAME_CHARS.fullmatch(text)) and text not in (".", "..")


def prepare_backend(url: str, *, create: bool = True) -> str:
    """The backend URL to use; a local one (file://) has `~` expanded and, if
    `create`, is created (only once the command is sure to run)."""
    if "://" not in url:
        raise UsageError(
            f"--backend {short(url)} is not a URL: give file:///path/to/dir for a local "
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
    if not create:
        return f"file://{path}"
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
    problem = region_problem(resolved)
    if problem:
        where = "--region" if region else "the AWS chain's region"
        raise UsageError(f"{where} {short(resolved)}: {problem}")
    return resolved


def region_problem(region: str) -> str | None:
    """The FSx model's rule for a Region name, as the provider applies it to a region
    input: a bad --region would otherwise pass preview and fail at the first create."""
    return string_rule("Region").problem(region)


def engine_env(backend: str, *, preview: bool = False) -> dict[str, str]:
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
    if preview:
        # A preview writes no state, yet the engine serialises and checks the
        # whole deployment after every step, only to discard it (the
        # self-managed backend's DiscardPersister, pkg/backend/diy/backend.go):
        # quadratic, two thirds of the engine's CPU in a preview of 1,000
        # backups. Skipping those checkpoints loses nothing a preview keeps.
        # Never for up, refresh or destroy: their checkpoints are what lets a
        # killed run be recovered (pending creates, the stack's seed).
        env["PULUMI_SKIP_CHECKPOINTS"] = "true"
    return env


def stack_config(target: Target) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if target.region:
        config["aws:region"] = target.region
    if target.endpoint_url:
        config["aws:endpoints"] = json.dumps([{"fsx": target.endpoint_url}])
    if target.profile:
        config["aws:profile"] = target.profile
    return config


@contextmanager
def open_stack(
    target: Target, program: auto.PulumiFn, *, create: bool, preview: bool = False
) -> Iterator[auto.Stack]:
    """The stack in a throwaway project directory; created first if `create`.

    `preview`: the stack is opened only to preview it (see engine_env).
    Raises the Automation API's StackNotFoundError if it does not exist and
    `create` is false.
    """
    from pulumi import automation as auto

    with tempfile.TemporaryDirectory(prefix="fsx-backup-") as work_dir:
        options = auto.LocalWorkspaceOptions(
            work_dir=work_dir,
            project_settings=auto.ProjectSettings(
                name=target.project,
                runtime="python",
                backend=auto.ProjectBackend(target.backend),
            ),
            stack_settings={target.stack: auto.StackSettings(config=stack_config(target))},
            env_vars=engine_env(target.backend, preview=preview),
        )
        if create:
            try:
                stack = auto.create_or_select_stack(
                    target.stack, target.project, program, opts=options
                )
            except auto.StackAlreadyExistsError:
                # Another run created it between this one's select and create.
                stack = auto.select_stack(target.stack, target.project, program, opts=options)
        else:
            stack = auto.select_stack(target.stack, target.project, program, opts=options)
        yield stack


def lock_hint(target: Target) -> str:
    """What to do when the engine says the stack is locked."""
    return (
        f"Another run of stack {target.stack!r} holds its lock; wait for it to end. If no run "
        "is in progress (one was killed), clear the lock with "
        f"`fsx-backup cancel --stack {target.stack} --project {target.project} "
        f"--backend {target.backend}` and run again (docs/cli.md: a killed run)."
    )


def command_error_text(error: Exception) -> str:
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


def checked_target(
    stack: str,
    project: str,
    backend: str | None,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
) -> Target:
    """The stack to work on, with its names checked before the backend is touched (a
    file:// one is not created here), the Region resolved and the engine found."""
    target = Target(
        stack=stack,
        project=project,
        backend=backend or default_backend(),
        region=region,
        endpoint_url=endpoint_url,
        profile=profile,
    )
    if target.problems():
        raise UsageError("; ".join(target.problems()))
    target = replace(target, backend=prepare_backend(target.backend, create=False))
    target = replace(target, region=resolve_region(region, profile))
    find_engine()
    return target
