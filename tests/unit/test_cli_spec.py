"""`fsx-backup` spec parsing and validation: files, --backup and --tag flags; no engine.

Also the few pieces of the CLI that need neither the engine nor FSx: error
condensing and the progress lines (from fake engine events).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from fsx_backup_provider.cli import main
from fsx_backup_provider.cli.events import Console, EventWatcher, condense_error
from fsx_backup_provider.cli.render import EXIT_USAGE
from fsx_backup_provider.cli.spec import BackupSpec, SpecError, build_specs

FS = "fs-0123456789abcdef0"
FS2 = "fs-0fedcba9876543210"
VOL = "fsvol-0123456789abcdef0"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems_of(
    tmp_path: Path,
    yaml_text: str | None = None,
    backups: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
) -> list[str]:
    file = write(tmp_path, "backups.yaml", yaml_text) if yaml_text is not None else None
    with pytest.raises(SpecError) as failed:
        build_specs(file, list(backups), list(tags))
    return failed.value.problems


def test_yaml_file(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "backups.yaml",
        f"""
backups:
  - name: lustre-nightly
    fileSystemId: {FS}
    tags: {{Name: lustre-nightly}}
  - name: ontap-volume
    volumeId: {VOL}
""",
    )
    specs = build_specs(file, [], [])
    assert [(s.name, s.file_system_id, s.volume_id, dict(s.tags)) for s in specs] == [
        ("lustre-nightly", FS, None, {"Name": "lustre-nightly"}),
        ("ontap-volume", None, VOL, {}),
    ]
    assert specs[0].origin == f"{file}: backups[0]"


def test_json_file_same_shape(tmp_path: Path) -> None:
    document = {"backups": [{"name": "a", "fileSystemId": FS, "tags": {"Env": "prod"}}]}
    file = write(tmp_path, "backups.json", json.dumps(document))
    [spec] = build_specs(file, [], [])
    assert spec.to_json() == document["backups"][0]


def test_backup_flags_and_common_tags(tmp_path: Path) -> None:
    specs = build_specs(
        None,
        [f"nightly={FS},Name=nightly,Team=storage", f"vol={VOL}", f"eq={FS2},Expr=a=b"],
        ["Env=prod", "Team=platform"],
    )
    by_name = {s.name: s for s in specs}
    # --tag applies to all; an entry's own tag of the same key wins.
    assert by_name["nightly"].tags == {"Env": "prod", "Team": "storage", "Name": "nightly"}
    assert by_name["nightly"].file_system_id == FS
    assert by_name["vol"].volume_id == VOL and by_name["vol"].file_system_id is None
    assert by_name["vol"].tags == {"Env": "prod", "Team": "platform"}
    # A value may contain '=' (split on the first one only).
    assert by_name["eq"].tags["Expr"] == "a=b"
    assert by_name["nightly"].origin == "--backup #1"


def test_file_and_flags_combine(tmp_path: Path) -> None:
    file = write(tmp_path, "b.yml", f"backups:\n  - {{name: a, fileSystemId: {FS}}}\n")
    specs = build_specs(file, [f"b={VOL}"], [])
    assert [s.name for s in specs] == ["a", "b"]


def test_duplicate_names_name_both_entries(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path, f"backups:\n  - {{name: a, fileSystemId: {FS}}}\n", backups=(f"a={FS2}",)
    )
    assert len(problems) == 1
    assert "--backup #1" in problems[0] and "backups[0]" in problems[0]
    assert "'a' is already used" in problems[0]


def test_exactly_one_source(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        f"""
backups:
  - name: neither
  - name: both
    fileSystemId: {FS}
    volumeId: {VOL}
""",
    )
    assert len(problems) == 2
    assert "backups[0] ('neither')" in problems[0] and "it has neither" in problems[0]
    assert "backups[1] ('both')" in problems[1] and "it has both" in problems[1]


def test_field_errors_name_the_entry_and_field(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        """
backups:
  - name: short
    fileSystemId: fs-12
  - name: badtag
    volumeId: fsvol-0123456789abcdef0
    tags: {"aws:owner": me}
""",
    )
    assert problems == [
        f"{tmp_path / 'backups.yaml'}: backups[0] ('short'): fileSystemId: 'fs-12' must be "
        "11 to 21 characters long, got 5",
        f"{tmp_path / 'backups.yaml'}: backups[1] ('badtag'): tags: tag key 'aws:owner' uses the "
        "prefix 'aws:', which is reserved for AWS (in any letter case)",
    ]


def test_unknown_field_suggests_the_right_one(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, f"backups:\n  - {{name: a, filesystemId: {FS}}}\n")
    assert "unknown field 'filesystemId'" in problem and "did you mean 'fileSystemId'?" in problem


def test_missing_and_bad_names(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        f"""
backups:
  - fileSystemId: {FS}
  - name: "has space"
    fileSystemId: {FS}
  - name: 7
    fileSystemId: {FS}
""",
    )
    assert len(problems) == 3
    text = "\n".join(problems)
    assert "backups[0]: name is missing" in text
    assert "backups[1] ('has space'): name 'has space' must be 1 to 100 letters" in text
    assert "backups[2]: name must be a string, got 7" in text


def test_tag_values_must_be_strings(tmp_path: Path) -> None:
    [problem] = problems_of(
        tmp_path, f"backups:\n  - {{name: a, fileSystemId: {FS}, tags: {{Version: 1.0}}}}\n"
    )
    assert "the value of 'Version' must be a string, got 1.0 (quote it in YAML)" in problem


def test_document_shape(tmp_path: Path) -> None:
    assert 'expected a mapping with a "backups" list' in problems_of(tmp_path, "- name: a\n")[0]
    assert "backups must be a list" in problems_of(tmp_path, "backups: {name: a}\n")[0]
    assert "unknown top-level key 'backup'" in problems_of(tmp_path, "backups: []\nbackup: 1\n")[0]
    assert "each entry must be a mapping" in problems_of(tmp_path, "backups: [a]\n")[0]
    assert "not valid YAML" in problems_of(tmp_path, "backups: [\n")[0]
    assert build_specs(write(tmp_path, "empty.yaml", "backups:\n"), [], []) == []


def test_bad_json_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as bad:
        build_specs(write(tmp_path, "b.json", "{backups: []}"), [], [])
    assert "not valid JSON" in bad.value.problems[0]
    with pytest.raises(SpecError) as missing:
        build_specs(tmp_path / "nope.yaml", [], [])
    assert "cannot read the spec file" in missing.value.problems[0]


def test_backup_flag_errors(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        backups=("nosource", "x=vol-123", f"y={FS},NoEquals", f"z={FS},K=1,K=2"),
    )
    assert problems == [
        "--backup #1 'nosource': expected NAME=fs-...|fsvol-...[,Key=Value...]",
        "--backup #2 'x=vol-123': source 'vol-123' is neither a file system ID (fs-...) "
        "nor an ONTAP volume ID (fsvol-...)",
        f"--backup #3 'y={FS},NoEquals': tag: expected Key=Value, got 'NoEquals'",
        f"--backup #4 'z={FS},K=1,K=2': tag 'K' is given twice",
    ]


def test_tag_flag_errors(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, backups=(f"a={FS}",), tags=("novalue", "AWS:x=1"))
    assert problems[0] == "--tag: expected Key=Value, got 'novalue'"
    assert "--tag: tag key 'AWS:x' uses the prefix 'aws:'" in problems[1]


def test_too_many_tags_counts_the_common_ones(tmp_path: Path) -> None:
    own = ",".join(f"K{i}=v" for i in range(45))
    common = tuple(f"C{i}=v" for i in range(6))
    [problem] = problems_of(tmp_path, backups=(f"a={FS},{own}",), tags=common)
    assert problem == (
        "--backup #1 ('a'): tags (with the --tag ones): has 51 tags; an FSx backup holds at most 50"
    )


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, backups=(f"a={FS}", f"a={FS}", "b=nope"), tags=("x",))
    assert len(problems) == 3


def test_spec_error_exits_2_before_the_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, "b.yaml", "backups:\n  - name: a\n")
    # The backend must not even be created: nothing is touched.
    backend = tmp_path / "state"
    assert main(["up", "--file", str(file), "--backend", f"file://{backend}"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "backups[0] ('a'): needs exactly one source" in err
    assert not backend.exists()


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["up"]) == EXIT_USAGE
    assert "no backups declared" in capsys.readouterr().err
    assert main(["sideways", "--backup", f"a={FS}"]) == EXIT_USAGE
    assert "invalid choice" in capsys.readouterr().err
    assert main(["up", "--backup", f"a={FS}", "--parallel", "0"]) == EXIT_USAGE
    assert main(["up", "--backup", f"a={FS}", "--backend", "/tmp/x"]) == EXIT_USAGE
    assert "is not a URL" in capsys.readouterr().err
    assert main(["up", "--backup", f"a={FS}", "--stack", "a b"]) == EXIT_USAGE
    assert main(["up", "--backup", f"a={FS}", "--endpoint-url", "localhost:1"]) == EXIT_USAGE
    assert main(["--help"]) == 0


def test_missing_engine_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code = main(["preview", "--backup", f"a={FS}", "--backend", f"file://{tmp_path / 's'}"])
    assert code == EXIT_USAGE
    assert "`pulumi`) is not on PATH" in capsys.readouterr().err


def test_condense_error_keeps_the_last_exception() -> None:
    message = """Traceback (most recent call last):
  File "x.py", line 1, in f
    raise ValueError("inner")
ValueError: inner

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "y.py", line 2, in g
    raise FsxBackupError("outer")
fsx_backup_provider.core.lifecycle.FsxBackupError: backup backup-1 FAILED: fire.
Second line.
"""
    assert condense_error(message) == "FsxBackupError: backup backup-1 FAILED: fire.\nSecond line."
    assert condense_error("  plain message\n") == "plain message"


def test_spec_dataclass_source() -> None:
    assert BackupSpec("a", volume_id=VOL).source == VOL
    assert BackupSpec("a", file_system_id=FS).source == FS


def diagnostic(urn: str, message: str, ephemeral: bool = True) -> Any:
    """An engine event carrying only a diagnostic, as EventWatcher reads it."""
    return SimpleNamespace(
        diagnostic_event=SimpleNamespace(
            urn=urn, message=message, ephemeral=ephemeral, severity="info"
        ),
        summary_event=None,
        resource_pre_event=None,
        res_outputs_event=None,
        res_op_failed_event=None,
    )


def test_progress_lines_come_from_the_providers_engine_messages() -> None:
    """Progress (no engine): the provider's ephemeral messages, once per change."""
    stream = io.StringIO()
    watcher = EventWatcher(Console(stream).line)
    urn = "urn:pulumi:dev::fsx-backup::pulumi-python:dynamic/fsx:FsxBackup::nightly"
    for message in (
        "backup-0a1b: CREATING 40%\n",
        "backup-0a1b: CREATING 40%\n",  # unchanged: nothing new
        "backup-0a1b: AVAILABLE 100%\n",
    ):
        watcher(diagnostic(urn, message))
    watcher(diagnostic(urn, "not a progress message", ephemeral=False))
    watcher(diagnostic("urn:pulumi:dev::p::other:index:Thing::x", "elsewhere"))
    assert stream.getvalue().splitlines() == [
        "nightly: backup-0a1b: CREATING 40%",
        "nightly: backup-0a1b: AVAILABLE 100%",
    ]


def step(kind: str, op: str, name: str, old: str | None, new: bool) -> Any:
    """An engine event carrying one step of an FsxBackup, as EventWatcher reads it."""
    from pulumi.automation import OpType

    metadata = SimpleNamespace(
        op=OpType(op),
        urn=f"urn:pulumi:dev::fsx-backup::pulumi-python:dynamic/fsx:FsxBackup::{name}",
        type="pulumi-python:dynamic/fsx:FsxBackup",
        old=SimpleNamespace(id=old) if old else None,
        new=SimpleNamespace(outputs={}) if new else None,
    )
    event = SimpleNamespace(
        diagnostic_event=None,
        summary_event=None,
        resource_pre_event=None,
        res_outputs_event=None,
        res_op_failed_event=None,
    )
    setattr(event, "resource_pre_event" if kind == "pre" else "res_outputs_event",
            SimpleNamespace(metadata=metadata, planning=False))
    return event


def test_a_backup_a_refresh_finds_gone_is_not_reported_as_deleted_by_the_run() -> None:
    """The new user's finding: `fsx-backup refresh` (and rotate's refresh) said
    `delete done` of a backup deleted outside and listed it in `deleted`. The
    engine's events, as `refresh` and `up --refresh` send them (seen on 3.274):
    a refresh step that ends as a delete, or as a refresh with no new state."""
    lines: list[str] = []
    watcher = EventWatcher(lines.append)
    for event in (
        step("pre", "refresh", "a", "backup-a", True),
        step("pre", "refresh", "b", "backup-b", True),
        step("done", "delete", "a", "backup-a", False),  # `refresh`: gone
        step("done", "same", "b", "backup-b", True),
        step("pre", "refresh", "c", "backup-c", True),
        step("done", "refresh", "c", "backup-c", False),  # `up --refresh`: gone
        step("pre", "refresh", "d", "backup-d", True),
        step("done", "refresh", "d", "backup-d", True),  # still there
        step("pre", "delete", "d", "backup-d", False),  # then really deleted
        step("done", "delete", "d", "backup-d", False),
    ):
        watcher(event)
    assert watcher.deleted_ids == {"d": "backup-d"}
    assert watcher.changes == {"a": "delete", "d": "delete"}
    assert lines == [
        "a: gone from FSx (backup-a), deleted outside this run: dropped from the state",
        "c: gone from FSx (backup-c), deleted outside this run: dropped from the state",
        "d: delete started",
        "d: delete done (backup-d)",
    ]


def test_a_refused_command_does_not_say_the_stack_is_empty() -> None:
    """New user: `up` refused on a rotation's stack printed "no backups in stack ..."
    of a stack that held two: a refusal comes before the stack is read."""
    from fsx_backup_provider.cli.render import EXIT_OK, Report, render_table

    refused = render_table(Report("up", stack="daily-fs-1", exit_code=EXIT_USAGE))
    assert "no backups" not in refused
    empty = render_table(Report("up", stack="dev", result="succeeded", exit_code=EXIT_OK))
    assert "no backups in stack dev" in empty
