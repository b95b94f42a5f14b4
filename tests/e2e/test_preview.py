"""Previews of real programs: inputs wired from other resources' outputs.

Run as users run them: `pulumi preview` and a plain `pulumi up` (which
previews first) in a project directory, through the real engine. The backup's
file system is another resource of the stack (a stand-in for
`aws.fsx.LustreFileSystem`, tests/e2e/standins.py), so its ID is unknown at
the first preview; the copy's source is the backup's own `backup_id` and
`region` outputs. No `--skip-preview` anywhere here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from fsx_backup_provider.core.holder import without_holder
from tests.e2e.conftest import REGION
from tools.workspace import EMULATOR_CREDENTIALS

ROOT = Path(__file__).resolve().parents[2]
COPY_REGION = "us-west-2"

PROGRAM = textwrap.dedent(
    """
    import json

    import pulumi

    from fsx_backup_provider import FsxBackup, FsxBackupCopy
    from tests.e2e.standins import LustreStandIn

    config = pulumi.Config()
    endpoint = json.loads(pulumi.Config("aws").require("endpoints"))[0]["fsx"]
    lustre = LustreStandIn(config.get("fileSystem") or "lustre", endpoint, "us-east-1")
    nightly = FsxBackup(
        "nightly",
        file_system_id=lustre.id,
        tags={"Name": "nightly", "Team": config.get("team") or "a"},
    )
    dr = FsxBackupCopy(
        "dr",
        nightly.backup_id,
        source_region=nightly.region,
        region="us-west-2",
        tags={"Role": "dr"},
    )
    # Printed only once every value is known: at preview, that shows which are.
    pulumi.Output.all(
        nightly.backup_id, nightly.arn, nightly.region, nightly.client_request_token, dr.backup_id
    ).apply(lambda known: pulumi.log.info("known: " + json.dumps(known)))
    pulumi.export("backup_id", nightly.backup_id)
    pulumi.export("arn", nightly.arn)
    pulumi.export("copy_id", dr.backup_id)
    """
)


class Project:
    """A Pulumi project directory whose program is `source`, run with `pulumi`."""

    def __init__(self, path: Path, source: str, env: dict[str, str]) -> None:
        path.mkdir(parents=True)
        (path / "__main__.py").write_text(source)
        (path / "Pulumi.yaml").write_text(
            f"name: preview-e2e\nruntime:\n  name: python\n  options:\n"
            f"    virtualenv: {ROOT / '.venv'}\n"
        )
        self.path = path
        self.env = {**os.environ, **env, **EMULATOR_CREDENTIALS}

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["pulumi", *args, "--non-interactive"],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if ok:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    def preview_json(self) -> dict[str, Any]:
        done = self.run("preview", "--json")
        return dict(json.loads(done.stdout))

    def state(self) -> list[dict[str, Any]]:
        exported = json.loads(self.run("stack", "export").stdout)
        return list(exported["deployment"].get("resources", []))


def steps_by_name(preview: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The preview's steps by resource name; `preview --json` lists no step of a
    resource that stays the same, so a missing one is `same`."""
    steps = {step["urn"].rsplit("::", 1)[1]: step for step in preview["steps"]}
    for name in ("fsx-backup-seed", "fsx-backup-ledger", "lustre", "nightly", "dr"):
        steps.setdefault(name, {"op": "same"})
    return steps


def known_line(output: str) -> list[Any] | None:
    found = re.search(r"known: (\[.*\])", output)
    return json.loads(found.group(1)) if found else None


def backups(fsx: Any, region: str) -> dict[str, str]:
    listed = fsx.client(region=region).describe_backups()["Backups"]
    return {b["BackupId"]: b["Lifecycle"] for b in listed if b["Lifecycle"] != "DELETED"}


def mutations(calls: dict[str, int]) -> dict[str, int]:
    return {
        name: count
        for name, count in calls.items()
        if not name.startswith(("Describe", "List", "_"))
    }


def test_a_program_wired_from_outputs_previews_and_ups_like_a_user_runs_it(
    tmp_path: Path, pulumi_env: dict[str, str], fsx: Any
) -> None:
    fsx.set_faults(backup_seconds=0.5)
    project = Project(tmp_path / "project", PROGRAM, pulumi_env)
    project.run("stack", "init", "dev")
    project.run("config", "set", "aws:region", REGION)
    project.run("config", "set", "aws:endpoints", json.dumps([{"fsx": fsx.endpoint_url}]))

    # A fresh stack: the file system, backup and copy are all unknown at preview.
    before = fsx.calls()
    fresh = steps_by_name(project.preview_json())
    assert {name: step["op"] for name, step in fresh.items() if name != "preview-e2e-dev"} == {
        "fsx-backup-seed": "create",
        "fsx-backup-ledger": "create",
        "lustre": "create",
        "nightly": "create",
        "dr": "create",
    }
    assert fsx.calls() == before, "a preview must make no FSx call"

    # A plain `pulumi up`: it previews first, then does it.
    up = project.run("up", "--yes")
    known = known_line(up.stdout)
    assert known is not None, up.stdout
    backup_id, arn, region, token, copy_id = known
    assert backups(fsx, REGION) == {backup_id: "AVAILABLE"}
    assert backups(fsx, COPY_REGION) == {copy_id: "AVAILABLE"}
    project.run("preview", "--expect-no-changes")

    # A tag change: the backup is updated in place, its copy is unchanged, and
    # every output the update keeps is known at preview.
    project.run("config", "set", "team", "b")
    before = fsx.calls()
    preview = project.run("preview")
    assert known_line(preview.stdout) == [backup_id, arn, region, token, copy_id], preview.stdout
    preview = project.run("preview", "--diff")
    assert re.search(r"~ tags: \{", preview.stdout), preview.stdout
    assert '~ Team: "a" => "b"' in preview.stdout
    for internal in ("identity", "resource_urn", "token_epoch", "secret_inputs"):
        assert internal not in preview.stdout, preview.stdout
    planned = project.preview_json()
    assert planned["changeSummary"] == {"update": 1, "same": 5}
    steps = steps_by_name(planned)
    assert steps["nightly"]["op"] == "update"
    assert steps["nightly"]["diffReasons"] == ["tags"]
    assert steps["dr"]["op"] == "same"
    assert steps["lustre"]["op"] == "same"
    assert fsx.calls() == before, "a preview must make no FSx call"
    up = project.run("up", "--yes")
    assert known_line(up.stdout) == [backup_id, arn, region, token, copy_id]
    tags = fsx.client().list_tags_for_resource(ResourceARN=arn)["Tags"]
    assert without_holder({t["Key"]: t["Value"] for t in tags}) == {"Name": "nightly", "Team": "b"}
    assert backups(fsx, COPY_REGION) == {copy_id: "AVAILABLE"}

    # Default tags move tags_all, not the tags input, on both resources.
    project.run("config", "set", "--path", "aws:defaultTags.tags.Env", "prod")
    steps = steps_by_name(project.preview_json())
    assert (steps["nightly"]["op"], steps["nightly"]["diffReasons"]) == ("update", ["tags_all"])
    assert (steps["dr"]["op"], steps["dr"]["diffReasons"]) == ("update", ["tags_all"])
    project.run("up", "--yes")
    project.run("config", "rm", "aws:defaultTags")
    project.run("up", "--yes")

    # A new source: the backup and its copy are replaced; the old ones go.
    project.run("config", "set", "fileSystem", "lustre-2")
    before = fsx.calls()
    steps = steps_by_name(project.preview_json())
    assert mutations(fsx.calls()) == mutations(before)
    assert steps["nightly"]["op"] == "replace"
    assert steps["nightly"]["replaceReasons"] == ["file_system_id"]
    assert steps["dr"]["op"] == "replace"
    assert "source_backup_id" in steps["dr"]["replaceReasons"]
    up = project.run("up", "--yes")
    new_known = known_line(up.stdout)
    assert new_known is not None
    new_backup, new_copy = new_known[0], new_known[4]
    assert new_backup != backup_id and new_copy != copy_id
    assert backups(fsx, REGION) == {new_backup: "AVAILABLE"}
    assert backups(fsx, COPY_REGION) == {new_copy: "AVAILABLE"}

    # A backup deleted outside Pulumi and dropped by a refresh: the copy's
    # source is unknown again, and a plain up plans and makes both anew.
    fsx.client().delete_backup(BackupId=new_backup)
    project.run("refresh", "--yes")
    up = project.run("up", "--yes")
    remade = known_line(up.stdout)
    assert remade is not None and remade[0] != new_backup
    assert backups(fsx, REGION) == {remade[0]: "AVAILABLE"}
    assert backups(fsx, COPY_REGION) == {remade[4]: "AVAILABLE"}

    project.run("destroy", "--yes")
    assert backups(fsx, REGION) == {} and backups(fsx, COPY_REGION) == {}
    left = fsx.client().describe_file_systems()["FileSystems"]
    assert [f["FileSystemId"] for f in left if f["Lifecycle"] != "DELETING"] == []
    assert project.state() == []


def test_the_automation_api_preview_and_fsx_backup_preview_of_unknowns(
    tmp_path: Path, pulumi_env: dict[str, str], fsx: Any
) -> None:
    """`stack.preview()` of an inline program whose backup's source is another
    resource's output, and its copy's the backup's: planned, no FSx call."""
    from tests.e2e.standins import LustreStandIn

    def program() -> None:
        import pulumi

        from fsx_backup_provider import FsxBackup, FsxBackupCopy

        lustre = LustreStandIn("lustre", fsx.endpoint_url, REGION)
        nightly = FsxBackup("nightly", file_system_id=lustre.id, tags={"Name": "n"})
        FsxBackupCopy("dr", nightly.backup_id, region=COPY_REGION, copy_tags=True)
        pulumi.export("id", nightly.backup_id)

    workspace_env = {**pulumi_env, **EMULATOR_CREDENTIALS, "PYTHONPATH": str(ROOT)}
    stack = auto.create_stack(
        "automation",
        project_name="preview-automation",
        program=program,
        opts=auto.LocalWorkspaceOptions(
            work_dir=str(tmp_path),
            env_vars=workspace_env,
            project_settings=auto.ProjectSettings(name="preview-automation", runtime="python"),
        ),
    )
    stack.set_config("aws:region", auto.ConfigValue(REGION))
    stack.set_config("aws:endpoints", auto.ConfigValue(json.dumps([{"fsx": fsx.endpoint_url}])))
    before = fsx.calls()
    result = stack.preview(color="never")
    assert result.change_summary == {"create": 6}
    assert fsx.calls() == before
    stack.workspace.remove_stack("automation")
