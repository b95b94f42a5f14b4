"""A backup belongs to exactly one resource of one stack.

Each case here was a data loss, or a failure, with 0.1.0, whose tokens were
derived from names alone (issue 12): two stacks of one name in two backends,
a renamed stack and its new namesake, a retained backup and the resource
declared again, a resource renamed in the state and a new one in its old
place, a resource declared again beside a sibling, a backup inside a
component, twenty backups of one file system, token and replace options.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from fsx_backup_provider import FsxBackup, FsxBackupArgs
from fsx_backup_provider.core.holder import without_holder
from tests.conftest import PROJECT, resources_of_type
from tests.e2e.conftest import REGION, pulumi_cli, quiet
from tools.workspace import EMULATOR_CREDENTIALS, isolated_env, preview_first, program_dir

StackMaker = Callable[..., auto.Stack]


def live_ids(fsx: Any) -> set[str]:
    return {b["BackupId"] for b in fsx.client().describe_backups()["Backups"]}


def tags_by_id(fsx: Any) -> dict[str, dict[str, str]]:
    return {
        # As declared: less the provider's own fsx-backup:stack tag.
        b["BackupId"]: without_holder({t["Key"]: t["Value"] for t in b.get("Tags", [])})
        for b in fsx.client().describe_backups()["Backups"]
    }


def backups_program(spec: dict[str, dict[str, Any]]) -> auto.PulumiFn:
    """One FsxBackup per entry (read at each run, so tests edit `spec` between runs);
    exports name -> backup ID."""

    def program() -> None:
        for name, args in spec.items():
            options = args.get("opts")
            fields = {k: v for k, v in args.items() if k != "opts"}
            backup = FsxBackup(name, FsxBackupArgs(**fields), opts=options)
            pulumi.export(name, backup.backup_id)

    return program


def ids(result: auto.UpResult) -> dict[str, str]:
    return {name: str(value.value) for name, value in result.outputs.items()}


@pytest.fixture
def named_stacks(fsx: Any, tmp_path: Path) -> Iterator[Callable[..., auto.Stack]]:
    """Stacks with a chosen name, in a chosen backend (a directory of their own)."""
    made: list[auto.Stack] = []

    def make(name: str, backend: str, program: auto.PulumiFn) -> auto.Stack:
        env = {**isolated_env(tmp_path / backend), **EMULATOR_CREDENTIALS}
        # Its up() previews first, as a plain `pulumi up` does.
        stack = preview_first(
            auto.create_or_select_stack(
                name,
                project_name=PROJECT,
                program=program,
                opts=auto.LocalWorkspaceOptions(
                    work_dir=program_dir(env, name),
                    env_vars=env,
                    project_settings=auto.ProjectSettings(
                        name=PROJECT,
                        runtime="python",
                        backend=auto.ProjectBackend(env["PULUMI_BACKEND_URL"]),
                    ),
                ),
            )
        )
        stack.set_config("aws:region", auto.ConfigValue(REGION))
        stack.set_config("aws:endpoints", auto.ConfigValue(json.dumps([{"fsx": fsx.endpoint_url}])))
        made.append(stack)
        return stack

    yield make
    for stack in made:
        try:
            stack.destroy(on_output=quiet)
            stack.workspace.remove_stack(stack.name)
        except auto.CommandError:
            pass  # a stack a test renamed or removed itself


def test_two_backends_with_the_same_project_and_stack_names_never_share_a_backup(
    fsx: Any, named_stacks: Callable[..., auto.Stack]
) -> None:
    """Two operators, each with their own default backend, run the same program."""
    fs_id = fsx.create_file_system("LUSTRE")
    spec = {"nightly": {"file_system_id": fs_id, "tags": {"Name": "nightly"}}}
    first = named_stacks("nightly", "operator-a", backups_program(spec))
    second = named_stacks("nightly", "operator-b", backups_program(spec))

    mine = ids(first.up(on_output=quiet))["nightly"]
    theirs = ids(second.up(on_output=quiet))["nightly"]
    assert mine != theirs
    assert live_ids(fsx) == {mine, theirs}

    second.destroy(on_output=quiet)
    assert live_ids(fsx) == {mine}
    assert first.preview(on_output=quiet).change_summary == {auto.OpType.SAME: 4}
    first.refresh(on_output=quiet)
    assert [r["id"] for r in resources_of_type(first, ":FsxBackup")] == [mine]


def test_a_renamed_stack_keeps_its_backup_and_its_new_namesake_gets_its_own(
    fsx: Any, named_stacks: Callable[..., auto.Stack]
) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    spec = {"nightly": {"file_system_id": fs_id}}
    dev = named_stacks(f"dev{uuid.uuid4().hex[:6]}", "shared", backups_program(spec))
    kept = ids(dev.up(on_output=quiet))["nightly"]
    old_name = dev.name
    dev.rename(f"prod{uuid.uuid4().hex[:6]}")
    # The seed notices it lives in another stack and draws a new base for the
    # creates to come (docs/design.md); the backup is kept.
    renamed = dev.preview(on_output=quiet).change_summary
    assert renamed == {auto.OpType.UPDATE: 1, auto.OpType.SAME: 3}
    dev.up(on_output=quiet)
    assert dev.preview(on_output=quiet).change_summary == {auto.OpType.SAME: 4}

    namesake = named_stacks(old_name, "shared", backups_program(spec))
    fresh = ids(namesake.up(on_output=quiet))["nightly"]
    assert fresh != kept
    namesake.destroy(on_output=quiet)
    assert live_ids(fsx) == {kept}
    assert [r["id"] for r in resources_of_type(dev, ":FsxBackup")] == [kept]


def test_after_a_retained_destroy_up_makes_a_fresh_backup_and_never_touches_the_kept_one(
    fsx: Any, fsx_stack: StackMaker
) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    spec: dict[str, dict[str, Any]] = {
        "b": {"file_system_id": fs_id, "opts": pulumi.ResourceOptions(retain_on_delete=True)}
    }
    stack = fsx_stack(backups_program(spec))
    retained = ids(stack.up(on_output=quiet))["b"]
    stack.destroy(on_output=quiet)
    assert live_ids(fsx) == {retained}

    del spec["b"]["opts"]
    fresh = ids(stack.up(on_output=quiet))["b"]
    assert fresh != retained
    stack.destroy(on_output=quiet)
    assert live_ids(fsx) == {retained}


def test_a_retained_resource_declared_again_later_gets_a_fresh_backup(
    fsx: Any, fsx_stack: StackMaker
) -> None:
    """Removed from the program with retain_on_delete (the stack lives on), then back."""
    fs_id = fsx.create_file_system("LUSTRE")
    other_fs = fsx.create_file_system("LUSTRE")
    spec: dict[str, dict[str, Any]] = {
        "kept": {"file_system_id": other_fs},
        "b": {"file_system_id": fs_id, "opts": pulumi.ResourceOptions(retain_on_delete=True)},
    }
    stack = fsx_stack(backups_program(spec))
    first = ids(stack.up(on_output=quiet))
    removed = spec.pop("b")
    stack.up(on_output=quiet)
    assert first["b"] in live_ids(fsx)

    spec["b"] = {"file_system_id": removed["file_system_id"]}
    again = ids(stack.up(on_output=quiet))
    assert again["b"] != first["b"] and again["kept"] == first["kept"]
    stack.destroy(on_output=quiet)
    assert live_ids(fsx) == {first["b"]}


@pytest.mark.parametrize("order", ["renamed-first", "new-first"])
def test_a_state_rename_then_a_new_resource_in_the_old_place_each_hold_their_own(
    fsx: Any, fsx_stack: StackMaker, order: str
) -> None:
    """`pulumi state rename`, then in the same `up` a new resource takes the old name.

    The engine may check the new resource before or after the renamed one:
    both orders of declaration are tried.
    """
    fs_id = fsx.create_file_system("LUSTRE")
    spec: dict[str, dict[str, Any]] = {"x": {"file_system_id": fs_id, "tags": {"Name": "x"}}}
    stack = fsx_stack(backups_program(spec))
    original = ids(stack.up(on_output=quiet))["x"]
    [state] = resources_of_type(stack, ":FsxBackup")
    pulumi_cli(stack, "state", "rename", state["urn"], "y", "--yes")

    renamed = {"file_system_id": fs_id, "tags": {"Name": "x"}}
    newcomer = {"file_system_id": fs_id, "tags": {"Name": "x"}}
    spec.clear()
    if order == "renamed-first":
        spec.update(y=renamed, x=newcomer)
    else:
        spec.update(x=newcomer, y=renamed)
    after = ids(stack.up(on_output=quiet))
    assert after["y"] == original
    assert after["x"] != original
    assert live_ids(fsx) == {original, after["x"]}

    stack.destroy(on_output=quiet)
    assert live_ids(fsx) == set()


def test_a_state_rename_then_a_later_new_resource_in_the_old_place_gets_its_own(
    fsx: Any, fsx_stack: StackMaker
) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    spec: dict[str, dict[str, Any]] = {"x": {"file_system_id": fs_id}}
    stack = fsx_stack(backups_program(spec))
    original = ids(stack.up(on_output=quiet))["x"]
    [state] = resources_of_type(stack, ":FsxBackup")
    pulumi_cli(stack, "state", "rename", state["urn"], "y", "--yes")
    spec["y"] = spec.pop("x")
    assert ids(stack.up(on_output=quiet))["y"] == original

    spec["x"] = {"file_system_id": fs_id}
    after = ids(stack.up(on_output=quiet))
    assert after["x"] != original and after["y"] == original


def test_a_resource_declared_again_beside_a_sibling_gets_a_fresh_backup(
    fsx: Any, fsx_stack: StackMaker
) -> None:
    """0.1.0 failed: "cannot tell whether that backup is one of the live backups"."""
    fs_id = fsx.create_file_system("LUSTRE")
    spec: dict[str, dict[str, Any]] = {
        "a": {"file_system_id": fs_id, "tags": {"Name": "a"}},
        "b": {"file_system_id": fs_id, "tags": {"Name": "b"}},
    }
    stack = fsx_stack(backups_program(spec))
    first = ids(stack.up(on_output=quiet))
    del spec["b"]
    stack.up(on_output=quiet)
    assert live_ids(fsx) == {first["a"]}

    spec["b"] = {"file_system_id": fs_id, "tags": {"Name": "b", "Env": "other"}}
    again = ids(stack.up(on_output=quiet))
    assert again["a"] == first["a"] and again["b"] != first["b"]
    assert tags_by_id(fsx)[again["b"]] == {"Name": "b", "Env": "other"}


def test_destroy_edit_tags_and_up_beside_a_backup_of_another_stack(
    fsx: Any, fsx_stack: StackMaker
) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    foreign = fsx.client().create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    spec: dict[str, dict[str, Any]] = {"b": {"file_system_id": fs_id, "tags": {"Env": "dev"}}}
    stack = fsx_stack(backups_program(spec))
    first = ids(stack.up(on_output=quiet))["b"]
    stack.destroy(on_output=quiet)
    spec["b"]["tags"] = {"Env": "prod"}
    second = ids(stack.up(on_output=quiet))["b"]
    assert second != first
    assert live_ids(fsx) == {foreign, second}


class Storage(pulumi.ComponentResource):
    """A component holding a nightly backup, as users write them."""

    def __init__(
        self, name: str, fs_id: str, inner: bool = False, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("test:index:Storage", name, None, opts)
        mine = pulumi.ResourceOptions(parent=self)
        self.backup = FsxBackup("data-nightly", file_system_id=fs_id, opts=mine)
        if inner:
            self.inner = Storage(f"{name}-inner", fs_id, opts=mine)
        self.register_outputs({})


class Archive(pulumi.ComponentResource):
    """Another component type with a child of the same name."""

    def __init__(self, name: str, fs_id: str) -> None:
        super().__init__("test:index:Archive", name, None, None)
        self.backup = FsxBackup(
            "data-nightly", file_system_id=fs_id, opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({})


def test_backups_inside_components_nested_ones_too_each_get_their_own(
    fsx: Any, fsx_stack: StackMaker
) -> None:
    fs_id = fsx.create_file_system("LUSTRE")

    def program() -> None:
        storage = Storage("data", fs_id, inner=True)
        archive = Archive("archive", fs_id)
        pulumi.export("storage", storage.backup.backup_id)
        pulumi.export("inner", storage.inner.backup.backup_id)
        pulumi.export("archive", archive.backup.backup_id)

    stack = fsx_stack(program)
    lines: list[str] = []
    made = ids(stack.up(on_output=lines.append, color="never"))
    assert len(set(made.values())) == 3
    assert live_ids(fsx) == set(made.values())
    urns = {r["urn"] for r in resources_of_type(stack, ":FsxBackup")}
    assert any("test:index:Storage$test:index:Storage$" in urn for urn in urns), urns
    # Progress lines reach the children by their URN.
    assert any("data-nightly" in line and "AVAILABLE" in line for line in lines), lines
    assert stack.preview(on_output=quiet).change_summary == {auto.OpType.SAME: 9}


def test_twenty_backups_of_one_file_system_queue_in_the_provider(
    fsx: Any, fsx_stack: StackMaker
) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    fsx.set_faults(backup_seconds=0.5)
    spec = {f"b{n:02d}": {"file_system_id": fs_id} for n in range(20)}
    stack = fsx_stack(backups_program(spec))
    before = dict(fsx.calls())
    lines: list[str] = []
    made = ids(stack.up(on_output=lines.append, color="never", parallel=64))
    creates = fsx.calls().get("CreateBackup", 0) - before.get("CreateBackup", 0)
    print(f"20 backups of one file system: {creates} CreateBackup calls")
    assert len(set(made.values())) == 20
    assert creates <= 3 * 20
    assert creates == 20
    assert any("queued behind backup-" in line for line in lines)


def test_a_token_change_replaces_the_backup(fsx: Any, fsx_stack: StackMaker) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    spec: dict[str, dict[str, Any]] = {"b": {"file_system_id": fs_id}}
    stack = fsx_stack(backups_program(spec))
    first = ids(stack.up(on_output=quiet))["b"]
    spec["b"]["client_request_token"] = "my-token-1"
    result = stack.up(on_output=quiet)
    second = ids(result)["b"]
    assert result.summary.resource_changes == {"replace": 1, "update": 1, "same": 2}
    assert second != first and live_ids(fsx) == {second}
    [state] = resources_of_type(stack, ":FsxBackup")
    assert state["inputs"]["client_request_token"] == "my-token-1"
    assert state["outputs"]["client_request_token"] == "my-token-1"


def test_replace_on_changes_is_honoured(fsx: Any, fsx_stack: StackMaker) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    replace_tags = pulumi.ResourceOptions(replace_on_changes=["tags"])
    spec: dict[str, dict[str, Any]] = {
        "b": {"file_system_id": fs_id, "tags": {"Env": "dev"}, "opts": replace_tags}
    }
    stack = fsx_stack(backups_program(spec))
    first = ids(stack.up(on_output=quiet))["b"]
    spec["b"]["tags"] = {"Env": "prod"}
    second = ids(stack.up(on_output=quiet))["b"]
    assert second != first
    assert tags_by_id(fsx) == {second: {"Env": "prod"}}
