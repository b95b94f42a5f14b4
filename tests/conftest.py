"""Shared fixtures: the real Pulumi engine, driven through the Automation API.

Each test session gets its own PULUMI_HOME and a local file backend in a
temporary directory, so nothing is shared with the user's Pulumi and nothing
prompts. A missing engine is a failure, never a skip: run the suite through
`make test`, which builds or finds the engine and puts it on PATH.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pulumi import automation as auto

from tools import leftovers
from tools.workspace import EngineMissing, inline_stack, isolated_env

if TYPE_CHECKING:
    from fsx_emulator import Emulator

# The emulator's fixtures are opt-in; this repository opts in here, its root conftest.
pytest_plugins = ["fsx_emulator.pytest_plugin"]

PROJECT = "fsx-e2e"
_RUN_MARK = pytest.StashKey[str]()
# Under pytest-xdist (`make test` runs the suite on several workers), each
# worker checks the processes it started itself, under a mark of its own (a
# shared mark would make one worker's check, or the chaos test's, see and
# kill another's running processes), and leaves what it found in this
# directory, which the controller reads at its end: a worker's exit status
# does not reach the controller's.
_WORKER_REPORTS = "FSX_BACKUP_WORKER_REPORTS"


def _worker() -> str | None:
    return os.environ.get("PYTEST_XDIST_WORKER")


def pytest_sessionstart(session: pytest.Session) -> None:
    # Before any fixture starts a process, so that every one carries the mark.
    if _worker():
        os.environ.pop(leftovers.MARK_VARIABLE, None)
    elif _WORKER_REPORTS not in os.environ:
        os.environ[_WORKER_REPORTS] = tempfile.mkdtemp(prefix="fsx-backup-workers-")
    session.config.stash[_RUN_MARK] = leftovers.mark_this_process()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if a provider process or an emulator it started outlived it."""
    found = leftovers.leftovers(session.config.stash[_RUN_MARK])
    leftovers.kill(found)
    report = leftovers.report(found) if found else ""
    reports_dir = os.environ.get(_WORKER_REPORTS)
    reports = Path(reports_dir) if reports_dir else None
    worker = _worker()
    if worker:
        if report and reports is not None:
            (reports / f"{worker}.txt").write_text(report)
        return
    if reports is not None and reports.is_dir():
        for path in sorted(reports.glob("*.txt")):
            report += f"\n{path.stem}: {path.read_text()}"
            path.unlink()
        reports.rmdir()
    if not report:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_sep("=", "processes left running", red=True)
        reporter.write_line(report.strip(), red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def fsx(fsx_emulator: Emulator) -> Emulator:
    """The plugin's `fsx_emulator` (a reset emulator, per test) under this repo's short name."""
    return fsx_emulator


@pytest.fixture(scope="session")
def pulumi_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for the engine: isolated home, local backend, no plugin downloads."""
    try:
        return isolated_env(tmp_path_factory.mktemp("pulumi"))
    except EngineMissing as missing:
        pytest.fail(str(missing))


StackFactory = Callable[..., auto.Stack]


@pytest.fixture
def new_stack(pulumi_env: dict[str, str]) -> Iterator[StackFactory]:
    """Make stacks for inline programs; each is removed at teardown.

    Removed with `stack rm --force`, not destroyed: the emulator is reset before
    every test, so a destroy through the engine (2-5 s a stack) would only
    repeat what the tests about destroy check themselves (test_fsx_backup,
    test_copy, test_ownership, ...).
    """
    made: list[auto.Stack] = []

    def make(
        program: auto.PulumiFn, env: dict[str, str] | None = None, **config: Any
    ) -> auto.Stack:
        stack = inline_stack(pulumi_env, program, PROJECT, extra_env=env, config=config)
        made.append(stack)
        return stack

    yield make
    for stack in made:
        stack.workspace.remove_stack(stack.name, force=True)


def resources_of_type(stack: auto.Stack, type_suffix: str) -> list[dict[str, Any]]:
    """The resources in the exported state whose type ends with `type_suffix`."""
    deployment = stack.export_stack().deployment or {}
    return [
        r for r in deployment.get("resources", []) if str(r.get("type", "")).endswith(type_suffix)
    ]


def workdir_of(stack: auto.Stack) -> Path:
    return Path(stack.workspace.work_dir)
