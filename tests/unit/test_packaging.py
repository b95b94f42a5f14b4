"""`pip install .` gives users what the README promises: typed packages, both
console scripts, the emulator's pytest plugin, and one version number."""

from __future__ import annotations

import configparser
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import fsx_backup_provider

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    [built] = out.glob("fsx_backup_provider-*.whl")
    return zipfile.ZipFile(built)


def test_wheel_is_typed_and_complete(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert "fsx_backup_provider/py.typed" in names
    assert "fsx_emulator/py.typed" in names
    assert "fsx_backup_provider/provider.py" in names
    assert "fsx_emulator/pytest_plugin.py" in names
    assert not any(name.startswith(("tests/", "tools/", "engine/")) for name in names)


def test_wheel_declares_scripts_and_plugin(wheel: zipfile.ZipFile) -> None:
    [entry_points] = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    parser = configparser.ConfigParser()
    parser.read_string(wheel.read(entry_points).decode())
    assert parser["console_scripts"]["fsx-emulator"] == "fsx_emulator.cli:main"
    assert parser["console_scripts"]["fsx-backup"] == "fsx_backup_provider.cli:main"
    assert parser["pytest11"]["fsx_emulator"] == "fsx_emulator.pytest_plugin"


def test_one_version_number(wheel: zipfile.ZipFile) -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert fsx_backup_provider.__version__ == declared
    assert any(f"fsx_backup_provider-{declared}.dist-info/" in n for n in wheel.namelist())
