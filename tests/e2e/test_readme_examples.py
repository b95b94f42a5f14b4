"""The programs of README.md and docs/*.md run as users run them: each Python block
that is a Pulumi program, unchanged but for the IDs (a file system and an ONTAP
volume of the emulator in their place), as a
Pulumi project's __main__.py: `pulumi preview`, a plain `pulumi up` (which
previews first), a preview that must show no change, `pulumi destroy`. A documented
program that stops working fails here (tests/unit/test_doc_examples.py checks
every other example against the code).
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.doc_blocks import blocks, is_program
from tests.e2e.test_preview import Project

ROOT = Path(__file__).resolve().parents[2]
README_FS = "fs-0123456789abcdef0"
README_VOLUME = "fsvol-0123456789abcdef0"


def programs() -> list[tuple[str, str]]:
    """The Pulumi programs of README.md and docs/*.md: each ```python block that
    imports pulumi and declares an FsxBackup, once per distinct text."""
    found: dict[str, str] = {}
    for where, code in blocks("python"):
        if is_program(code):
            found.setdefault(code, where)
    return [(where, code) for code, where in found.items()]


PROGRAMS = programs()


def live_backups(fsx: Any, region: str) -> dict[str, str]:
    pages = fsx.client(region=region).get_paginator("describe_backups").paginate()
    return {
        b["BackupId"]: b["Lifecycle"]
        for page in pages
        for b in page["Backups"]
        if b["Type"] == "USER_INITIATED"
    }


@pytest.mark.parametrize(("where", "source"), PROGRAMS, ids=[w for w, _ in PROGRAMS])
def test_a_documented_program_previews_ups_and_destroys(
    tmp_path: Path,
    pulumi_env: dict[str, str],
    fsx: Any,
    where: str,
    source: str,
) -> None:
    region = "us-east-1"
    copy_region = next(iter(re.findall(r'\bregion="([a-z0-9-]+)"', source)), None)
    fsx.set_faults(backup_seconds=0.2, copy_seconds=0.2)
    assert README_FS in source, where
    source = source.replace(README_FS, fsx.create_file_system(region=region))
    if README_VOLUME in source:
        source = source.replace(README_VOLUME, fsx.create_ontap_volume(region=region))
    project = Project(tmp_path / "project", source, pulumi_env)
    stack = f"readme-{uuid.uuid4().hex[:8]}"  # the session's backend is shared
    project.run("stack", "init", stack)
    project.run("config", "set", "aws:region", region)
    endpoints = json.dumps([{"fsx": fsx.endpoint_url}])
    project.run("config", "set", "aws:endpoints", endpoints)

    before = fsx.calls()
    project.run("preview")
    assert fsx.calls() == before, "a preview makes no FSx call"
    project.run("up", "--yes")
    made = live_backups(fsx, region)
    assert made and set(made.values()) == {"AVAILABLE"}, made
    if copy_region is not None:
        copies = live_backups(fsx, copy_region)
        assert len(copies) == 1 and set(copies.values()) == {"AVAILABLE"}, copies
    project.run("preview", "--expect-no-changes")
    project.run("destroy", "--yes")
    project.run("stack", "rm", "--yes", stack)
    assert live_backups(fsx, region) == {}
    if copy_region is not None:
        assert live_backups(fsx, copy_region) == {}
