"""A stack made by 0.1.0 keeps working: nothing replaced, nothing made again.

tests/fixtures/state-0.1.0.json is `pulumi stack export` of the example stack
(Pulumi.yaml, __main__.py) as 0.1.0 (commit 49c2aa6) left it: a backup of a
Lustre file system and one of an ONTAP volume, with the stack config that made
them. The emulator here has other IDs, so the test makes the same sources and
backups again (under the same tokens and tags), puts the new IDs into the
exported state, imports it into a fresh stack of the same name, and runs the
current code on it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from fsx_backup_provider.core.constants import FSX_BACKUP_SEED_TYPE, FSX_BACKUP_TYPE
from tests.conftest import resources_of_type
from tests.e2e.conftest import quiet
from tools.workspace import EMULATOR_CREDENTIALS, example_project, isolated_env

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "state-0.1.0.json"


def _wait_available(fsx: Any, backup_ids: list[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = fsx.client().describe_backups(BackupIds=backup_ids)["Backups"]
        if all(b["Lifecycle"] == "AVAILABLE" for b in found):
            return
        time.sleep(0.2)
    raise AssertionError(f"{backup_ids} did not become AVAILABLE")


def _recreate(fsx: Any, fixture: dict[str, Any]) -> dict[str, str]:
    """The fixture's sources and backups in this emulator; old ID -> new ID."""
    renamed = {
        fixture["sources"]["file_system_id"]: fsx.create_file_system(
            "LUSTRE", deployment_type="PERSISTENT_2"
        ),
        fixture["sources"]["volume_id"]: fsx.create_ontap_volume(name="legacy_volume"),
    }
    for resource in fixture["deployment"]["resources"]:
        if resource["type"] != FSX_BACKUP_TYPE:
            continue
        outputs = resource["outputs"]
        source = (
            {"VolumeId": renamed[outputs["volume_id"]]}
            if outputs.get("volume_id")
            else {"FileSystemId": renamed[outputs["file_system_id"]]}
        )
        made = fsx.client().create_backup(
            ClientRequestToken=outputs["client_request_token"],
            Tags=[{"Key": k, "Value": v} for k, v in sorted(outputs["tags_all"].items())],
            **source,
        )["Backup"]
        renamed[resource["id"]] = made["BackupId"]
    _wait_available(fsx, [v for k, v in renamed.items() if k.startswith("backup-")])
    return renamed


def _steps(events: list[auto.EngineEvent]) -> dict[str, str]:
    """Resource name -> the step the engine planned for it (pre events)."""
    found: dict[str, str] = {}
    for event in events:
        if event.resource_pre_event is not None:
            metadata = event.resource_pre_event.metadata
            found[metadata.urn.split("::")[-1]] = str(metadata.op.value)
    return found


def test_a_stack_made_by_0_1_0_is_neither_replaced_nor_made_again(fsx: Any, tmp_path: Path) -> None:
    fixture = json.loads(FIXTURE.read_text())
    renamed = _recreate(fsx, fixture)
    old_endpoint = json.loads(fixture["config"]["aws:endpoints"])[0]["fsx"]
    renamed[old_endpoint] = fsx.endpoint_url

    def here(text: str) -> str:
        for old, new in renamed.items():
            text = text.replace(old, new)
        return text

    deployment = json.loads(here(json.dumps(fixture["deployment"])))

    # The example stack itself, run from this checkout's virtualenv.
    project = example_project(tmp_path / "project")
    env = {**isolated_env(tmp_path / "pulumi"), **EMULATOR_CREDENTIALS}
    stack = auto.create_stack(
        "legacy", work_dir=str(project), opts=auto.LocalWorkspaceOptions(env_vars=env)
    )
    try:
        for key, value in fixture["config"].items():
            stack.set_config(key, auto.ConfigValue(here(value)))
        stack.import_stack(auto.Deployment(version=fixture["version"], deployment=deployment))
        backups = {r["urn"].split("::")[-1]: r["id"] for r in resources_of_type(stack, "FsxBackup")}
        assert set(backups) == {"lustre-nightly", "ontap-volume"}

        events: list[auto.EngineEvent] = []
        stack.preview(on_output=quiet, on_event=events.append)
        planned = _steps(events)
        assert planned["lustre-nightly"] == planned["ontap-volume"] == "same", planned
        # The one change: the stack gets its seed and ledger (docs/design.md).
        assert planned["fsx-backup-seed"] == planned["fsx-backup-ledger"] == "create", planned

        calls = dict(fsx.calls())
        events.clear()
        stack.up(on_output=quiet, on_event=events.append)
        done = _steps(events)
        assert done["lustre-nightly"] == done["ontap-volume"] == "same", done
        after = fsx.calls()
        for operation in ("CreateBackup", "DeleteBackup", "TagResource", "UntagResource"):
            assert after.get(operation, 0) == calls.get(operation, 0), operation
        assert len(resources_of_type(stack, FSX_BACKUP_SEED_TYPE)) == 1
        assert {r["id"] for r in resources_of_type(stack, "FsxBackup")} == set(backups.values())

        refreshed = stack.refresh(on_output=quiet)
        assert refreshed.summary.resource_changes is not None
        assert set(refreshed.summary.resource_changes) == {"same"}
        assert stack.preview(on_output=quiet).change_summary == {auto.OpType.SAME: 5}

        stack.destroy(on_output=quiet)
        live = fsx.client().describe_backups()["Backups"]
        assert [b["BackupId"] for b in live if b["Lifecycle"] != "DELETED"] == []
    finally:
        stack.workspace.remove_stack("legacy", force=True)
