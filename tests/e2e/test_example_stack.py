"""The example stack (`__main__.py`) reads its config with `fsx-backup`'s spec parser.

Run as the engine runs it (a copy of the program in a project directory, the
project's virtualenv): a good entry deploys, a bad one fails the preview with
the same message `fsx-backup` gives for a spec file, and no FSx call is made.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from tests.e2e.conftest import REGION
from tools.workspace import EMULATOR_CREDENTIALS, example_project, preview_first

ROOT = Path(__file__).resolve().parents[2]


def example_stack(tmp_path: Path, pulumi_env: dict[str, str], fsx: Any) -> auto.Stack:
    project = example_project(tmp_path / "example")
    # Its up() previews first, as a plain `pulumi up` does.
    stack = preview_first(
        auto.create_stack(
            "example",
            work_dir=str(project),
            opts=auto.LocalWorkspaceOptions(env_vars={**pulumi_env, **EMULATOR_CREDENTIALS}),
        )
    )
    stack.set_config("aws:region", auto.ConfigValue(REGION))
    stack.set_config("aws:endpoints", auto.ConfigValue(json.dumps([{"fsx": fsx.endpoint_url}])))
    return stack


def test_example_stack_shares_the_spec_parser(
    tmp_path: Path, pulumi_env: dict[str, str], fsx: Any
) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    fsx.set_faults(backup_seconds=0)
    stack = example_stack(tmp_path, pulumi_env, fsx)
    try:
        bad = [{"name": "a", "filesystemId": fs_id}, {"name": "a", "volumeId": "fsvol-1"}]
        stack.set_config("backups", auto.ConfigValue(json.dumps(bad)))
        before = fsx.calls()
        with pytest.raises(auto.CommandError) as failed:
            stack.preview(color="never")
        message = str(failed.value)
        assert (
            "fsx-backup-demo:backups[0] ('a'): unknown field 'filesystemId' "
            "(did you mean 'fileSystemId'?)" in message
        )
        assert "fsx-backup-demo:backups[1] ('a'): volumeId: 'fsvol-1' must be exactly 23" in message
        assert "Traceback" not in message
        assert fsx.calls() == before

        good = [{"name": "nightly", "fileSystemId": fs_id, "tags": {"Name": "nightly"}}]
        stack.set_config("backups", auto.ConfigValue(json.dumps(good)))
        up = stack.up(color="never")
        exported = up.outputs["backups"].value
        assert set(exported) == {"nightly"}
        assert exported["nightly"]["lifecycle"] == "AVAILABLE"
        assert exported["nightly"]["tags"] == {"Name": "nightly"}
        [live] = fsx.client().describe_backups()["Backups"]
        assert live["BackupId"] == exported["nightly"]["backup_id"]
    finally:
        stack.destroy(color="never")
        stack.workspace.remove_stack("example")
