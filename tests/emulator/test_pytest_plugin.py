"""The opt-in pytest plugin, and what a missing `emulator` extra looks like."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fsx_emulator import EmulatorExtraMissing, EmulatorProcess
from fsx_emulator.extra import INSTALL_COMMAND

HEAVY = ("boto3", "botocore", "moto")


def run_pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in `directory` as a user's repository: its own rootdir, no repo conftest."""
    (directory / "pytest.ini").write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_importing_the_plugin_imports_neither_boto3_nor_moto() -> None:
    probe = textwrap.dedent(
        f"""
        import sys
        import fsx_emulator.pytest_plugin
        print(sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_fixtures_need_opting_in_and_then_work(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            f"""
            import sys

            HEAVY = {HEAVY!r}

            def test_loading_imports_nothing_heavy():
                assert [m for m in sys.modules if m.split(".")[0] in HEAVY] == []

            def test_backup(fsx_emulator):
                client = fsx_emulator.client()
                backup = client.create_backup(FileSystemId=fsx_emulator.create_file_system())
                assert backup["Backup"]["Lifecycle"] == "CREATING"
                assert fsx_emulator.faults()["backup_seconds"] == 7

            def test_each_test_starts_reset(fsx_emulator, fsx_emulator_session):
                assert fsx_emulator is fsx_emulator_session
                assert fsx_emulator.client().describe_backups()["Backups"] == []
            """
        )
    )
    without = run_pytest(tmp_path)
    assert without.returncode == 1, without.stdout
    assert "fixture 'fsx_emulator' not found" in without.stdout

    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            import pytest

            pytest_plugins = ["fsx_emulator.pytest_plugin"]

            @pytest.fixture(scope="session")
            def fsx_emulator_options():
                return {"backup_seconds": 7}
            """
        )
    )
    opted_in = run_pytest(tmp_path)
    assert opted_in.returncode == 0, opted_in.stdout + opted_in.stderr
    assert "3 passed" in opted_in.stdout


def test_the_same_plugin_by_command_line_flag(tmp_path: Path) -> None:
    (tmp_path / "test_flag.py").write_text(
        "def test_options(fsx_emulator_options):\n    assert fsx_emulator_options == {}\n"
    )
    result = run_pytest(tmp_path, "-p", "fsx_emulator.pytest_plugin")
    assert result.returncode == 0, result.stdout + result.stderr


def test_fixtures_without_the_extra_fail_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            import sys

            sys.modules["moto"] = None  # as if the emulator extra were not installed

            pytest_plugins = ["fsx_emulator.pytest_plugin"]
            """
        )
    )
    (tmp_path / "test_user.py").write_text("def test_backup(fsx_emulator):\n    pass\n")
    result = run_pytest(tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    # The error's whole report, between its header and the summary, is the one line.
    header = next(i for i, line in enumerate(lines) if "ERROR at setup of test_backup" in line)
    assert lines[header + 1] == (
        "The FSx emulator needs moto's server, which the 'emulator' extra installs "
        f"(moto is not importable): {INSTALL_COMMAND}"
    )
    assert "short test summary info" in lines[header + 2]
    for noise in ("Traceback", "ModuleNotFoundError", "During handling", "pytest_plugin.py"):
        assert noise not in result.stdout + result.stderr


@pytest.mark.parametrize("module", ["moto", "flask"])
def test_cli_without_the_extra_says_what_to_install_in_one_line(module: str) -> None:
    probe = (
        f"import sys; sys.modules[{module!r}] = None; "
        "from fsx_emulator.cli import main; sys.exit(main(['--port', '0']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"fsx-emulator: The FSx emulator needs moto's server, which the 'emulator' extra "
        f"installs ({module} is not importable): {INSTALL_COMMAND}"
    ]


def test_emulator_process_without_the_extra_starts_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "moto", None)
    process = EmulatorProcess()
    with pytest.raises(EmulatorExtraMissing, match=r"\(moto is not importable\): pip install"):
        process.start()
    assert process.stop() is None
