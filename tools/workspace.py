"""Isolated Pulumi workspaces for the tests and the benchmark.

Each gets its own PULUMI_HOME and a local file backend under a directory the
caller owns, a passphrase, and no plugin downloads, so nothing prompts and
nothing touches the user's own Pulumi state.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from pulumi import automation as auto

ROOT = Path(__file__).resolve().parent.parent

EMULATOR_CREDENTIALS = {
    # The emulator takes any credentials; dummy ones keep boto3 from looking
    # further (instance metadata) and can never reach a real account.
    "AWS_ACCESS_KEY_ID": "AKIAEMULATOREXAMPLE1",
    "AWS_SECRET_ACCESS_KEY": "emulator-secret-key-example",
    "AWS_EC2_METADATA_DISABLED": "true",
}


class EngineMissing(RuntimeError):
    pass


def isolated_env(root: Path) -> dict[str, str]:
    """Engine environment rooted at `root` (created if needed)."""
    if shutil.which("pulumi") is None or shutil.which("pulumi-resource-pulumi-python") is None:
        raise EngineMissing(
            "the Pulumi engine is not on PATH: run through `make` "
            '(or `eval "$(make -s env)"` first)'
        )
    (root / "backend").mkdir(parents=True, exist_ok=True)
    (root / "home").mkdir(parents=True, exist_ok=True)
    return {
        "PULUMI_HOME": str(root / "home"),
        "PULUMI_BACKEND_URL": f"file://{root / 'backend'}",
        "PULUMI_CONFIG_PASSPHRASE": "isolated-passphrase",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_PYTHON_CMD": os.environ.get(
            "PULUMI_PYTHON_CMD", shutil.which("python") or "python3"
        ),
        # The benchmark's no-op resources live in the checkout (bench/noop.py),
        # not in the installed package; their providers are pickled by
        # reference, so the provider process must import them from here.
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
        ),
    }


def example_project(project: Path) -> Path:
    """The repo's example stack (`__main__.py`) in a new directory `project`, run
    from this checkout's virtualenv: the program a user runs with `pulumi`."""
    project.mkdir(parents=True)
    shutil.copy(ROOT / "__main__.py", project / "__main__.py")
    (project / "Pulumi.yaml").write_text(
        "name: fsx-backup-demo\nruntime:\n  name: python\n  options:\n"
        f"    virtualenv: {ROOT / '.venv'}\n"
    )
    return project


def pulumi_cli(
    project: Path, env: dict[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`pulumi ARGS --non-interactive` in `project`, its output captured."""
    return subprocess.run(
        ["pulumi", *args, "--non-interactive"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def program_dir(env: dict[str, str], name: str) -> str:
    """A workspace directory for an inline program, beside the env's home and backend.

    Without one, the Automation API makes a `automation-*` directory under
    the system's temp directory for every inline stack and never removes it.
    """
    path = Path(env["PULUMI_HOME"]).parent / "programs" / name
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def inline_stack(
    env: dict[str, str],
    program: auto.PulumiFn,
    project: str,
    extra_env: dict[str, str] | None = None,
    config: dict[str, Any] | None = None,
) -> auto.Stack:
    """A new stack with a unique name for an inline program."""
    name = f"t{uuid.uuid4().hex[:10]}"
    stack = auto.create_stack(
        name,
        project_name=project,
        program=program,
        opts=auto.LocalWorkspaceOptions(
            work_dir=program_dir(env, name),
            env_vars={**env, **(extra_env or {})},
            project_settings=auto.ProjectSettings(
                name=project,
                runtime="python",
                backend=auto.ProjectBackend(env["PULUMI_BACKEND_URL"]),
            ),
        ),
    )
    for key, value in (config or {}).items():
        stack.set_config(key, auto.ConfigValue(value=str(value)))
    return stack


def most_in_flight(creation_times: Iterable[datetime], backup_seconds: float) -> int:
    """The most backups CREATING at one moment, from when each was requested.

    The emulator makes a backup AVAILABLE `backup_seconds` after its
    CreationTime, and a create holds its provider worker until then: with the
    dynamic host's 4 workers this can never exceed 4.
    """
    starts = sorted(t.timestamp() for t in creation_times)
    return max((sum(s <= t < s + backup_seconds for s in starts) for t in starts), default=0)


def preview_first(stack: auto.Stack) -> auto.Stack:
    """`stack.up()` previews first and fails if the preview does, as `pulumi up` does.

    The Automation API's up never previews (it runs `up --skip-preview`), and a
    whole class of failure (inputs unknown at preview) hid behind that.
    """
    plain_up = stack.up

    def up(*args: Any, **kwargs: Any) -> auto.UpResult:
        stack.preview(color="never")
        return plain_up(*args, **kwargs)

    stack.up = up  # type: ignore[method-assign]
    return stack
