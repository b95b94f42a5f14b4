"""The provider end to end on the oldest and the newest Pulumi SDK it admits.

For each, a virtualenv in the cache outside the checkout
(`${XDG_CACHE_HOME:-~/.cache}/fsx-backup-provider/sdk-<pulumi>-<oldest|newest>`)
gets a wheel of this checkout (not an editable install) and:

- oldest: every runtime dependency pinned at the lower bound pyproject.toml
  admits (`pulumi==3.216.0`, `boto3==1.35.0`, ...), so a lower bound that no longer
  works fails here;
- newest: the newest pulumi below 4 the package index serves now, with
  whatever the resolver picks for the rest.

A virtualenv whose pins still match is reused, with only the wheel
reinstalled: a warm cache costs seconds. Then, in a Pulumi project whose
`runtime.options.virtualenv` and PULUMI_PYTHON_CMD both name that virtualenv
(so the program and the dynamic provider process run from it), through the
real engine and the FSx emulator: `pulumi up` of 8 FsxBackups of 8 file
systems, more than 4 of them CREATING at once; `pulumi preview
--expect-no-changes`; `pulumi refresh --expect-no-changes`; `pulumi destroy`;
and no backup left in the emulator. Then the rest of what users do: the
`import_` option adopting a backup made outside Pulumi without a
CreateBackup, `FsxBackup.get` reading one, and the `fsx-backup` CLI's up and
destroy.

    python -m tools.sdk_smoke [oldest|newest ...]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from uv import find_uv_bin

from fsx_emulator import Emulator, EmulatorProcess
from tools.workspace import EMULATOR_CREDENTIALS, ROOT, isolated_env, most_in_flight

KINDS = ("oldest", "newest")
BACKUPS = 8
BACKUP_SECONDS = 4
PROJECT = "fsx-sdk-smoke"
REGION = "us-east-1"
REPORTED = ("pulumi", "boto3", "botocore", "grpcio", "regex", "pyyaml", "dill", "protobuf")
# Bumped when the way a virtualenv is built changes, so cached ones are rebuilt.
LAYOUT = 2
STEPS = ("up", "preview", "refresh", "destroy")

PROGRAM = """\
from importlib.metadata import version

import pulumi

import fsx_backup_provider
from fsx_backup_provider import FsxBackup

config = pulumi.Config()
backups = [
    FsxBackup(f"b{i}", file_system_id=fs_id, tags={"Name": f"smoke-{i}"})
    for i, fs_id in enumerate(config.get_object("fileSystemIds") or [])
]
pulumi.export("backup_ids", [backup.backup_id for backup in backups])

if adopt := config.get("adoptBackupId"):
    adopted = FsxBackup(
        "adopted",
        file_system_id=config.require("adoptFileSystemId"),
        opts=pulumi.ResourceOptions(import_=adopt),
    )
    pulumi.export("adopted_id", adopted.backup_id)
if got := config.get("getBackupId"):
    pulumi.export("got_file_system_id", FsxBackup.get("got", got).file_system_id)
# Where the program found the SDK and the package: the smoke checks both.
pulumi.export("pulumi_sdk", version("pulumi"))
pulumi.export("package_file", fsx_backup_provider.__file__)
"""


class SmokeFailed(RuntimeError):
    pass


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fsx-backup-provider"


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in project["dependencies"]]


def lower_bounds() -> list[str]:
    """`name==lower bound` for every runtime dependency; each must declare one."""
    pins = []
    for requirement in runtime_requirements():
        lows = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        if len(lows) != 1:
            raise SmokeFailed(f"pyproject.toml: {requirement} needs exactly one '>=' lower bound")
        pins.append(f"{requirement.name}=={lows[0]}")
    return pins


def newest_pulumi() -> str:
    """The newest pulumi release below the next major, as the package index serves it now."""
    [pulumi_requirement] = [r for r in runtime_requirements() if r.name == "pulumi"]
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "pulumi"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    versions = [
        Version(v.strip())
        for line in listing.stdout.splitlines()
        if line.startswith("Available versions:")
        for v in line.partition(":")[2].split(",")
    ]
    admitted = [v for v in versions if not v.is_prerelease and v in pulumi_requirement.specifier]
    if not admitted:
        raise SmokeFailed(
            f"could not list pulumi releases from the package index: {listing.stderr.strip()}"
        )
    return str(max(admitted))


@dataclass
class SdkVenv:
    kind: str
    path: Path
    versions: dict[str, str]
    built_seconds: float
    reused: bool

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def describe(self) -> str:
        deps = ", ".join(f"{name} {self.versions.get(name, '?')}" for name in REPORTED[1:])
        how = "reused" if self.reused else "built"
        return (
            f"{self.kind} SDK: pulumi {self.versions.get('pulumi')} ({deps}; "
            f"virtualenv {how} in {self.built_seconds:.0f}s: {self.path})"
        )


def _run(
    argv: Sequence[str | Path], cwd: Path | None = None, env: dict[str, str] | None = None
) -> str:
    done = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=900, cwd=cwd, env=env
    )
    if done.returncode != 0:
        raise SmokeFailed(
            f"`{' '.join(str(a) for a in argv)}` exited {done.returncode}:\n"
            f"{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def build_wheel(out: Path) -> Path:
    """A wheel of this checkout, built outside it."""
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
          "-w", out, ROOT])  # fmt: skip
    [wheel] = out.glob("fsx_backup_provider-*.whl")
    return wheel


def sdk_venv(kind: str, wheel: Path) -> SdkVenv:
    """The virtualenv for `kind`, reused when its pins still match, with `wheel` installed."""
    start = time.monotonic()
    pins = lower_bounds() if kind == "oldest" else [f"pulumi=={newest_pulumi()}"]
    pulumi_version = next(p for p in pins if p.startswith("pulumi==")).partition("==")[2]
    path = cache_root() / f"sdk-{pulumi_version}-{kind}"
    stamp = path / "fsx-sdk-smoke.json"
    wanted = {"layout": LAYOUT, "python": sys.version.split()[0], "pins": pins}
    uv = find_uv_bin()
    reused = stamp.is_file() and json.loads(stamp.read_text()) == wanted
    if reused:
        _run([uv, "pip", "install", "-q", "--python", path / "bin/python", "--no-deps",
              "--reinstall", wheel])  # fmt: skip
    else:
        shutil.rmtree(path, ignore_errors=True)
        # --seed: the language host lists the virtualenv's packages with pip
        # (newer pulumi releases no longer depend on pip themselves).
        _run([uv, "venv", "-q", "--seed", "--python", sys.executable, path])
        # The wheel with its declared ranges and the pins together: a lower
        # bound the ranges do not admit fails to resolve here.
        _run([uv, "pip", "install", "-q", "--python", path / "bin/python", wheel, *pins])
        stamp.write_text(json.dumps(wanted))
    frozen = _run([uv, "pip", "freeze", "--python", path / "bin/python"])
    versions: dict[str, str] = {}
    for line in frozen.splitlines():
        name, sep, found = line.partition("==")
        if sep:
            versions[canonicalize_name(name)] = found
    return SdkVenv(kind, path, versions, time.monotonic() - start, reused)


@dataclass
class SmokeResult:
    venv: SdkVenv
    most_in_flight: int
    seconds: dict[str, float]

    def describe(self) -> str:
        steps = ", ".join(f"{step} {s:.0f}s" for step, s in self.seconds.items())
        return (
            f"{self.venv.describe()}\n  up of {BACKUPS} backups with {self.most_in_flight} "
            f"CREATING at once, preview and refresh without changes, destroy leaving "
            f"nothing; import_ adopting without CreateBackup, FsxBackup.get, the fsx-backup "
            f"CLI up and destroy: ok ({steps})"
        )


class Smoke:
    """One Pulumi project run from `venv`, and the emulator its backups live in."""

    def __init__(self, venv: SdkVenv, work: Path, emulator: Emulator) -> None:
        self.venv = venv
        self.work = work
        self.emulator = emulator
        self.project = work / "project"
        self.project.mkdir()
        (self.project / "__main__.py").write_text(PROGRAM)
        runtime = {"name": "python", "options": {"virtualenv": str(venv.path)}}
        (self.project / "Pulumi.yaml").write_text(
            yaml.safe_dump({"name": PROJECT, "runtime": runtime})
        )
        env = {**os.environ, **isolated_env(work / "pulumi"), **EMULATOR_CREDENTIALS}
        # Only the virtualenv under test may provide the package: not the
        # checkout (the benchmark's PYTHONPATH), not the caller's virtualenv.
        env.pop("PYTHONPATH", None)
        env.pop("VIRTUAL_ENV", None)
        env["PULUMI_PYTHON_CMD"] = str(venv.python)
        self.env = env
        self.seconds: dict[str, float] = {}

    def pulumi(self, *args: str) -> str:
        start = time.monotonic()
        out = _run(["pulumi", *args, "--color", "never"], cwd=self.project, env=self.env)
        if args[0] in STEPS:
            self.seconds[args[0]] = self.seconds.get(args[0], 0.0) + time.monotonic() - start
        return out

    def configure(self, **program_config: object) -> None:
        stack_file = self.project / "Pulumi.smoke.yaml"
        settings = yaml.safe_load(stack_file.read_text()) if stack_file.exists() else None
        settings = settings or {}
        settings["config"] = {
            "aws:region": REGION,
            "aws:endpoints": json.dumps([{"fsx": self.emulator.endpoint_url}]),
            **{f"{PROJECT}:{key}": value for key, value in program_config.items()},
        }
        stack_file.write_text(yaml.safe_dump(settings))

    def backups(self) -> list[Any]:
        return list(self.emulator.client().describe_backups()["Backups"])

    def creates(self) -> int:
        return int(self.emulator.calls().get("CreateBackup", 0))

    def fleet(self, fs_ids: list[str]) -> int:
        """up of one backup per file system, preview, refresh, destroy: the most in flight."""
        self.configure(fileSystemIds=fs_ids)
        try:
            self.pulumi("up", "--yes", "--parallel", "16")
            backups = self.backups()
            if len(backups) != len(fs_ids) or any(b["Lifecycle"] != "AVAILABLE" for b in backups):
                raise SmokeFailed(f"after up: {[(b['BackupId'], b['Lifecycle']) for b in backups]}")
            outputs = json.loads(self.pulumi("stack", "output", "--json"))
            ran_from = (outputs["pulumi_sdk"], outputs["package_file"])
            if ran_from[0] != self.venv.versions["pulumi"] or not ran_from[1].startswith(
                str(self.venv.path)
            ):
                raise SmokeFailed(f"the program did not run from {self.venv.path}: {ran_from}")
            in_flight = most_in_flight([b["CreationTime"] for b in backups], BACKUP_SECONDS)
            if in_flight <= 4:
                raise SmokeFailed(
                    f"at most {in_flight} backups were CREATING at once: the provider's "
                    "worker pool was not widened on this SDK"
                )
            self.pulumi("preview", "--expect-no-changes")
            self.pulumi("refresh", "--yes", "--expect-no-changes")
        finally:
            self.pulumi("destroy", "--yes", "--parallel", "16")
        if self.backups():
            raise SmokeFailed(f"destroy left backups in the emulator: {self.backups()}")
        return in_flight

    def adopt_and_get(self, adopt_fs: str, get_fs: str) -> None:
        """import_ adopts a backup made outside Pulumi; FsxBackup.get reads one it never owns."""
        client = self.emulator.client()
        adopt_id = client.create_backup(FileSystemId=adopt_fs)["Backup"]["BackupId"]
        get_id = client.create_backup(FileSystemId=get_fs)["Backup"]["BackupId"]
        self.configure(adoptBackupId=adopt_id, adoptFileSystemId=adopt_fs, getBackupId=get_id)
        creates = self.creates()
        self.pulumi("up", "--yes")
        outputs = json.loads(self.pulumi("stack", "output", "--json"))
        seen = (outputs.get("adopted_id"), outputs.get("got_file_system_id"), self.creates())
        if seen != (adopt_id, get_fs, creates):
            raise SmokeFailed(f"import_/get: {seen}, expected {(adopt_id, get_fs, creates)}")
        self.pulumi("destroy", "--yes")
        left = [b["BackupId"] for b in self.backups()]
        if left != [get_id]:
            raise SmokeFailed(f"destroy of an adopted backup and a got one left {left}")
        client.delete_backup(BackupId=get_id)

    def cli(self, fs_id: str) -> None:
        """The console script of the virtualenv, on a stack and backend of its own."""
        backend = f"file://{self.work / 'cli-state'}"
        common = ["--stack", "cli", "--region", REGION, "--endpoint-url",
                  self.emulator.endpoint_url, "--backend", backend]  # fmt: skip
        script = self.venv.path / "bin" / "fsx-backup"
        _run([script, "up", "--backup", f"cli={fs_id},Name=cli", *common], self.work, self.env)
        if [b["FileSystem"]["FileSystemId"] for b in self.backups()] != [fs_id]:
            raise SmokeFailed(f"fsx-backup up made {self.backups()}")
        _run([script, "destroy", *common], self.work, self.env)
        if self.backups():
            raise SmokeFailed(f"fsx-backup destroy left {self.backups()}")


def smoke(venv: SdkVenv, work: Path) -> SmokeResult:
    """Everything above, run from `venv`, on a fresh emulator."""
    with EmulatorProcess(backup_seconds=BACKUP_SECONDS) as emulator:
        fs_ids = [emulator.create_file_system("LUSTRE") for _ in range(BACKUPS)]
        run = Smoke(venv, work, emulator)
        run.pulumi("stack", "init", "smoke")
        in_flight = run.fleet(fs_ids)
        run.adopt_and_get(fs_ids[0], fs_ids[1])
        run.cli(fs_ids[2])
        run.pulumi("stack", "rm", "--yes")
    return SmokeResult(venv, in_flight, run.seconds)


def run(kind: str) -> SmokeResult:
    with tempfile.TemporaryDirectory(prefix=f"fsx-sdk-{kind}-") as tmp:
        work = Path(tmp)
        wheel = build_wheel(work / "wheel")
        return smoke(sdk_venv(kind, wheel), work)


def main(argv: list[str] | None = None) -> int:
    kinds = (argv if argv is not None else sys.argv[1:]) or list(KINDS)
    for kind in kinds:
        if kind not in KINDS:
            print(f"sdk_smoke: unknown SDK kind {kind!r}: use one of {', '.join(KINDS)}")
            return 2
        print(run(kind).describe(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
