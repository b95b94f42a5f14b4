"""`make doctor`: one line per tool, `name: version (path)`.

Exits non-zero if any tool is missing or older than the project needs.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _go_mod_version(go_mod: Path, module: str) -> str:
    for line in go_mod.read_text().splitlines():
        words = line.split()
        if words[:1] == ["require"]:
            words = words[1:]
        if len(words) >= 2 and words[0] == module:
            return words[1]
    raise LookupError(f"{module} is not required in {go_mod}")


def _declared_minimum(dist: str) -> str:
    """The lowest version pyproject.toml admits for `dist` (runtime or emulator)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for text in (*project["dependencies"], *project["optional-dependencies"]["emulator"]):
        requirement = Requirement(text)
        if requirement.name.lower() == dist:
            for spec in requirement.specifier:
                if spec.operator in (">=", "=="):
                    return spec.version
    raise LookupError(f"{dist} has no lower bound in pyproject.toml")


def _parse(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def _binary_go_dep_version(path: str, module: str) -> str | None:
    # The language host has no --version flag; Go embeds its module list as
    # plain text, so the sdk version it was built from can be read off the file.
    match = re.search(
        rb"(?:dep|mod)\t" + re.escape(module.encode()) + rb"\t(v[0-9.]+)", Path(path).read_bytes()
    )
    return match.group(1).decode() if match else None


def main() -> int:
    pulumi_min = _go_mod_version(ROOT / "engine/cli/go.mod", "github.com/pulumi/pulumi/pkg/v3")
    langhost_min = _go_mod_version(
        ROOT / "engine/language-python/go.mod", "github.com/pulumi/pulumi/sdk/v3"
    )
    rows: list[tuple[str, str | None, str | None, str]] = []

    pulumi = shutil.which("pulumi")
    version = None
    if pulumi:
        version = subprocess.run([pulumi, "version"], capture_output=True, text=True).stdout.strip()
    rows.append(("pulumi", version, pulumi, pulumi_min))

    langhost = shutil.which("pulumi-language-python")
    rows.append(
        (
            "pulumi-language-python",
            _binary_go_dep_version(langhost, "github.com/pulumi/pulumi/sdk/v3")
            if langhost
            else None,
            langhost,
            langhost_min,
        )
    )
    rows.append(("python", sys.version.split()[0], sys.executable, "3.11"))
    for dist in ("pulumi", "boto3", "moto"):
        minimum = _declared_minimum(dist)
        try:
            found: str | None = importlib.metadata.version(dist)
            location = str(importlib.metadata.distribution(dist).locate_file(dist))
        except importlib.metadata.PackageNotFoundError:
            found, location = None, None
        rows.append((f"{dist} (python)" if dist == "pulumi" else dist, found, location, minimum))

    failed = False
    for name, found, path, minimum in rows:
        if found is None or path is None:
            print(f"{name}: MISSING (need >= {minimum})")
            failed = True
        elif _parse(found) < _parse(minimum):
            print(f"{name}: {found} ({path}) TOO OLD, need >= {minimum}")
            failed = True
        else:
            print(f"{name}: {found} ({path})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
