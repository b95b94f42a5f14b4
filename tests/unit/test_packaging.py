"""`pip install .` gives users what the README promises: typed packages, both
console scripts, the emulator's pytest plugin, one version number, no
benchmark code, every runtime import declared, no build output left in the
checkout, and a `__provider` that existing states can always unpickle."""

from __future__ import annotations

import ast
import base64
import configparser
import json
import os
import pickletools
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

import dill  # type: ignore[import-untyped]
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import fsx_backup_provider
from fsx_backup_provider.program.backup import OUTPUT_KEYS

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
    assert "fsx_backup_provider/providers/backup.py" in names
    assert "fsx_emulator/pytest_plugin.py" in names
    assert not any(name.startswith(("tests/", "tools/", "engine/", "bench/")) for name in names)
    # Benchmark code stays beside the benchmark (bench/noop.py).
    assert not any("noop" in name.lower() for name in names), sorted(names)


def test_wheel_declares_scripts_and_no_global_plugin(wheel: zipfile.ZipFile) -> None:
    [entry_points] = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    parser = configparser.ConfigParser()
    parser.read_string(wheel.read(entry_points).decode())
    assert parser["console_scripts"]["fsx-emulator"] == "fsx_emulator.cli:main"
    assert parser["console_scripts"]["fsx-backup"] == "fsx_backup_provider.cli:main"
    # The emulator's fixtures are opt-in (`pytest_plugins`), never loaded into
    # every pytest run of a repo that installs the package.
    assert "pytest11" not in parser


def test_one_version_number(wheel: zipfile.ZipFile) -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert fsx_backup_provider.__version__ == declared
    assert any(f"fsx_backup_provider-{declared}.dist-info/" in n for n in wheel.namelist())


PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _declared(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(text).name) for text in requirements}


def _runtime_imports(package: Path) -> Iterator[tuple[Path, str]]:
    """Top-level modules a package imports when it runs: not under TYPE_CHECKING."""

    def walk(nodes: list[ast.stmt], path: Path) -> Iterator[tuple[Path, str]]:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                yield from walk(node.orelse, path)
                continue
            for child in ast.walk(node):
                if isinstance(child, ast.Import):
                    yield from ((path, alias.name.split(".")[0]) for alias in child.names)
                elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                    yield path, child.module.split(".")[0]

    for path in sorted(package.rglob("*.py")):
        yield from walk(ast.parse(path.read_text()).body, path)


@pytest.mark.parametrize(
    ("package", "extras"),
    [
        ("fsx_backup_provider", []),
        # The emulator's imports are the emulator extra's to declare.
        ("fsx_emulator", ["emulator"]),
    ],
)
def test_every_runtime_import_is_a_declared_dependency(package: str, extras: list[str]) -> None:
    declared = _declared(PYPROJECT["dependencies"])
    for extra in extras:
        declared |= _declared(PYPROJECT["optional-dependencies"][extra])
    providers = packages_distributions()
    undeclared = []
    for path, module in _runtime_imports(ROOT / package):
        if module in sys.stdlib_module_names or module == package:
            continue
        if path.name == "pytest_plugin.py" and module == "pytest":
            continue  # loaded only by pytest itself, when a conftest opts in
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        if not dists & declared:
            undeclared.append(f"{path.relative_to(ROOT)}: {module} (from {sorted(dists)})")
    assert undeclared == [], "imported but not declared in pyproject.toml"


def test_every_runtime_dependency_is_a_range_with_a_tested_lower_bound() -> None:
    """tools/sdk_smoke.py installs each lower bound: a bare name or an exact pin
    would go untested, or block users' upgrades."""
    for text in PYPROJECT["dependencies"]:
        operators = {spec.operator for spec in Requirement(text).specifier}
        assert ">=" in operators and "==" not in operators, text


def _checkout_files() -> set[Path]:
    skipped = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache",
               ".hypothesis", ".pulumi-state"}  # fmt: skip
    found = set()
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in skipped and not d.startswith(".venv")]
        here = Path(dirpath).relative_to(ROOT)
        found |= {here / name for name in (*dirnames, *filenames)}
    return found


def test_pip_install_of_the_checkout_writes_nothing_into_it(tmp_path: Path) -> None:
    """What a user runs, build isolation and all, into a directory of its own."""
    before = _checkout_files()
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
         str(tmp_path / "site"), str(ROOT)],
        check=True,
    )  # fmt: skip
    assert (tmp_path / "site" / "fsx_backup_provider" / "provider.py").is_file()
    assert sorted(map(str, _checkout_files() - before)) == []


def _globals_named(pickled: bytes) -> list[tuple[str, str]]:
    """The (module, name) pairs a pickle imports when it is loaded."""
    named: list[tuple[str, str]] = []
    strings: list[str] = []
    for op, arg, _pos in pickletools.genops(pickled):
        if isinstance(arg, str):
            strings.append(arg)
        if op.name == "STACK_GLOBAL":
            named.append((strings[-2], strings[-1]))
        elif op.name == "GLOBAL":
            module, _, name = str(arg).partition(" ")
            named.append((module, name))
    return named


# What every existing state records for an FsxBackup, written out here rather
# than taken from the code, so that moving or renaming one fails the build
# instead of a user's next `pulumi destroy`. Adding names is fine.
# States made by 0.1.0 also hold `token_scope`, which check() drops (a
# migration: tests/e2e/test_upgrade.py runs the current code on such a state).
STATE_TYPE = "pulumi-python:dynamic/fsx:FsxBackup"
STATE_PROVIDER = ("fsx_backup_provider.provider", "FsxBackupProvider")
STATE_INPUTS = {
    "file_system_id", "tags", "client_request_token", "wait_for_available",
    "create_timeout_seconds", "delete_timeout_seconds", "region", "resource_urn", "identity",
}  # fmt: skip
SEED_TYPE = "pulumi-python:dynamic/fsx:FsxBackupSeed"
SEED_PROVIDER = ("fsx_backup_provider.identity", "FsxBackupSeedProvider")
LEDGER_TYPE = "pulumi-python:dynamic/fsx:FsxBackupLedger"
LEDGER_PROVIDER = ("fsx_backup_provider.ledger", "FsxBackupLedgerProvider")
COPY_TYPE = "pulumi-python:dynamic/fsx:FsxBackupCopy"
COPY_PROVIDER = ("fsx_backup_provider.backup_copy", "FsxBackupCopyProvider")
COPY_INPUTS = {
    "source_backup_id", "source_region", "region", "kms_key_id", "copy_tags", "tags",
    "resource_urn", "identity",
}  # fmt: skip
STATE_OUTPUTS = {
    "backup_id", "arn", "file_system_id", "volume_id", "tags", "tags_all", "lifecycle",
    "type", "resource_type", "owner_id", "kms_key_id", "creation_time",
    "client_request_token", "region",
}  # fmt: skip


def test_what_existing_states_record_never_moves() -> None:
    """Every state holds `__provider`, pickled by reference to one exact class,
    under one type token, beside the stored properties (docs/own-repo.md)."""
    script = textwrap.dedent(
        """
        import asyncio
        import json
        import pulumi
        from fsx_backup_provider import FsxBackup, FsxBackupCopy

        registered = {}

        class Mocks(pulumi.runtime.Mocks):
            def new_resource(self, args):
                registered.setdefault(args.typ, args.inputs)
                return "backup-0123456789abcdef0", dict(args.inputs)

            def call(self, args):
                return {}

        pulumi.runtime.set_mocks(Mocks(), preview=False)

        @pulumi.runtime.test
        def program():
            backup = FsxBackup(
                "pinned", file_system_id="fs-0123456789abcdef0", tags={"Name": "pinned"},
                client_request_token="pinned-token", wait_for_available=True,
                create_timeout_seconds=60, delete_timeout_seconds=60, region="us-east-1",
            )
            copy = FsxBackupCopy(
                "pinned-copy", "backup-0123456789abcdef0", source_region="us-east-1",
                region="us-west-2", kms_key_id="key", copy_tags=True, tags={"Name": "dr"},
            )
            # Every registration, in whichever order they happen (the ledger's
            # comes once the backups' tokens are known).
            async def all_registered():
                await asyncio.gather(backup.urn.future(), copy.urn.future())
                for _ in range(500):
                    if len(registered) >= 4:
                        break
                    await asyncio.sleep(0.01)
                print(json.dumps(registered))

            return pulumi.Output.from_input(asyncio.ensure_future(all_registered()))

        program()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    registered = json.loads(done.stdout)
    assert STATE_TYPE in registered, sorted(registered)
    inputs = registered[STATE_TYPE]
    assert set(inputs) >= STATE_INPUTS, sorted(STATE_INPUTS - set(inputs))
    # What the provider stores as outputs is OUTPUT_KEYS: tests/e2e/test_bench_smoke.py
    # compares a real FsxBackup's stored outputs with a resource built from them.
    assert set(OUTPUT_KEYS) >= STATE_OUTPUTS, sorted(STATE_OUTPUTS - set(OUTPUT_KEYS))

    assert set(registered[COPY_TYPE]) >= COPY_INPUTS, sorted(
        COPY_INPUTS - set(registered[COPY_TYPE])
    )
    for resource_type, provider in (
        (STATE_TYPE, STATE_PROVIDER),
        (SEED_TYPE, SEED_PROVIDER),
        (LEDGER_TYPE, LEDGER_PROVIDER),
        (COPY_TYPE, COPY_PROVIDER),
    ):
        pickled = base64.b64decode(registered[resource_type]["__provider"])
        assert _globals_named(pickled) == [provider]
        unpickled = dill.loads(pickled)
        assert (type(unpickled).__module__, type(unpickled).__qualname__) == provider


def test_the_cli_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    import fsx_backup_provider
    from fsx_backup_provider.cli.parser import build_parser

    with pytest.raises(SystemExit) as done:
        build_parser().parse_args(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"fsx-backup {fsx_backup_provider.__version__}"
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert fsx_backup_provider.__version__ == pyproject["project"]["version"]


def test_the_errors_the_engine_shows_name_the_version() -> None:
    """The dynamic host shows the engine the traceback; its last line names the release."""
    import traceback

    import fsx_backup_provider
    from fsx_backup_provider.aws.errors import FsxApiError
    from fsx_backup_provider.core.lifecycle import FsxBackupError

    for error in (FsxBackupError("boom"), FsxApiError("CreateBackup", "Oops", "boom")):
        shown = "".join(traceback.format_exception(error)).splitlines()
        assert shown[-1] == f"(fsx-backup-provider {fsx_backup_provider.__version__})"
        assert "boom" in shown[-2] and str(error).endswith("boom")
