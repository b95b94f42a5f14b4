"""The package's directories say where code runs and what it may touch (docs/design.md, "Layout").

Every import statement of the package, lazy ones inside functions included,
is read from the source; a module that reaches past its directory's rule
fails here rather than in a provider process that loads what it never needed.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "fsx_backup_provider"
OWN = "fsx_backup_provider"
THIRD_PARTY = ("pulumi", "grpc", "boto3", "botocore")

# What each directory may import: its own, the package root's modules
# (version, the pickled-path re-exports), the other directories named, and
# the third-party packages named. The CLI may use everything.
ALLOWED: dict[str, set[str]] = {
    "aws": {"boto3", "botocore"},
    "core": {"aws", "host"},
    "host": {"pulumi", "grpc"},
    "providers": {"core", "aws", "host", "pulumi", "botocore"},
    "program": {"providers", "core", "host", "pulumi"},
}


def _imports(path: Path) -> set[str]:
    """The directories of this package and the third-party packages `path` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == OWN:
                names = [f"{OWN}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] in THIRD_PARTY:
                found.add(parts[0])
            elif parts[0] == OWN and len(parts) > 1 and (PACKAGE / parts[1]).is_dir():
                found.add(parts[1])
    return found


@pytest.mark.parametrize("directory", sorted(ALLOWED))
def test_each_directory_imports_only_what_its_rule_allows(directory: str) -> None:
    modules = sorted((PACKAGE / directory).glob("*.py"))
    assert modules, directory
    reached = {
        module.name: sorted(_imports(module) - ALLOWED[directory] - {directory})
        for module in modules
    }
    assert {name: found for name, found in reached.items() if found} == {}


def test_the_rule_sees_a_lazy_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from fsx_backup_provider.program.seed import track\n")
    assert _imports(module) == {"program"}


def test_core_and_aws_load_without_the_pulumi_sdk_or_grpc() -> None:
    """core/ and aws/ are unit-testable alone: importing every module of both
    leaves the SDK and grpc unloaded."""
    names = [
        f"{OWN}.{directory}.{module.stem}"
        for directory in ("core", "aws")
        for module in sorted((PACKAGE / directory).glob("*.py"))
        if module.stem != "__init__"
    ]
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in ('pulumi', 'grpc') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_python_apis_documented_before_the_layout_still_import() -> None:
    """`fsx_backup_provider.rotation.rotate` and `.inventory.list_backups` were
    documented Python APIs: scripts that import them keep working."""
    from fsx_backup_provider import inventory, rotation
    from fsx_backup_provider.cli import inventory as moved_inventory
    from fsx_backup_provider.cli import rotate as moved_rotation

    assert rotation.rotate is moved_rotation.rotate
    assert rotation.RotationFailed is moved_rotation.RotationFailed
    assert inventory.list_backups is moved_inventory.list_backups
