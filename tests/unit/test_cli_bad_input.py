"""Input that hangs, exhausts or crashes a reader: every one is refused, exit 2, promptly.

Each case runs the real `fsx-backup` main() with `--json`, in a thread with a
deadline: a reader that blocks (a FIFO) or never ends (/dev/zero) fails the
test instead of hanging it.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fsx_backup_provider.cli import main
from fsx_backup_provider.cli.render import EXIT_USAGE
from fsx_backup_provider.cli.specfile import MAX_DEPTH, MAX_SPEC_BYTES, load_document

FS = "fs-0123456789abcdef0"
DEADLINE_SECONDS = 20.0


def refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str
) -> tuple[dict[str, Any], str, float]:
    """main(args --json) must return EXIT_USAGE within the deadline: (JSON, stderr, seconds)."""
    capsys.readouterr()
    outcome: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(main([*args, "--json", "--backend", f"file://{tmp_path / 'state'}"]))
        except BaseException as error:
            errors.append(error)

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(DEADLINE_SECONDS)
    elapsed = time.monotonic() - started
    assert not worker.is_alive(), f"fsx-backup {args} still runs after {DEADLINE_SECONDS} s"
    assert not errors, errors
    out, err = capsys.readouterr()
    assert outcome == [EXIT_USAGE], (outcome, err)
    report = json.loads(out)
    assert report["exit_code"] == EXIT_USAGE and report["result"] == "failed"
    assert "Traceback" not in err
    assert not (tmp_path / "state").exists()
    return report, err, elapsed


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "spec.yaml"
    os.mkfifo(path)
    yield path


def test_a_fifo_is_refused_without_blocking(
    fifo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, err, elapsed = refused(capsys, tmp_path, "up", "--file", str(fifo))
    [problem] = report["problems"]
    assert (
        problem == f"{fifo}: the spec file must be a regular file, and this is a FIFO (named pipe)"
    )
    assert problem in err and elapsed < 5


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/dev/zero", "a character device"), ("/dev/null", "a character device")],
)
def test_devices_are_refused_without_reading(
    path: str, kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, _err, elapsed = refused(capsys, tmp_path, "preview", "--file", path)
    assert report["problems"] == [
        f"{path}: the spec file must be a regular file, and this is {kind}"
    ]
    assert elapsed < 5


def test_a_directory_and_a_socket_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, _err, _elapsed = refused(capsys, tmp_path, "up", "--file", str(tmp_path))
    assert report["problems"] == [
        f"{tmp_path}: the spec file must be a regular file, and this is a directory"
    ]
    with socket.socket(socket.AF_UNIX) as server:
        path = tmp_path / "spec.sock"
        server.bind(str(path))
        report, _err, _elapsed = refused(capsys, tmp_path, "up", "--file", str(path))
    assert report["problems"] == [
        f"{path}: the spec file must be a regular file, and this is a socket"
    ]


def test_a_symlink_to_a_fifo_is_refused(
    fifo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(fifo)
    report, _err, _elapsed = refused(capsys, tmp_path, "up", "--file", str(link))
    assert "is a FIFO (named pipe)" in report["problems"][0]


def test_a_file_over_the_size_cap_is_refused_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as file:  # sparse: nothing is written, and nothing need be read
        file.truncate(64 * 1024 * 1024 * 1024)
    report, _err, elapsed = refused(capsys, tmp_path, "up", "--file", str(big))
    assert report["problems"] == [
        f"{big}: the spec file is larger than 16 MiB, the most a spec may be"
    ]
    assert elapsed < 5
    just_over = tmp_path / "just-over.json"
    just_over.write_bytes(b" " * (MAX_SPEC_BYTES + 1))
    report, _err, _elapsed = refused(capsys, tmp_path, "up", "--file", str(just_over))
    assert "larger than 16 MiB" in report["problems"][0]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000),
        ("deep-objects.json", '{"a":' * 100_000 + "1" + "}" * 100_000),
        ("deep-flow.yaml", "[" * 5_000 + "]" * 5_000),
        (
            "deep-block.yaml",
            "".join(f"{' ' * i}k{i}:\n" for i in range(5_000)) + " " * 5_000 + "v\n",
        ),
        (
            "deep-in-a-spec.json",
            '{"backups": [{"name": "a", "tags": ' + "[" * 30 + "]" * 30 + "}]}",
        ),
    ],
)
def test_deep_nesting_is_refused_before_the_parser_recurses(
    name: str, text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / name
    spec.write_text(text)
    report, err, _elapsed = refused(capsys, tmp_path, "up", "--file", str(spec))
    [problem] = report["problems"]
    assert f"a spec file may be nested at most {MAX_DEPTH} levels deep" in problem
    assert problem.startswith(str(spec))
    assert "RecursionError" not in err


def test_nesting_inside_strings_is_not_nesting(tmp_path: Path) -> None:
    spec = tmp_path / "brackets.json"
    tags = {"k": "[" * 1000 + '\\"{' * 100}
    spec.write_text(json.dumps({"backups": [{"name": "a", "fileSystemId": FS, "tags": tags}]}))
    assert load_document(spec)["backups"][0]["tags"] == tags
    at_cap = tmp_path / "at-cap.json"
    at_cap.write_text("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert load_document(at_cap) is not None


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("digits.json", '{"backups": ' + "1" * 100_000 + "}", "not valid JSON"),
        ("digits.yaml", "backups: " + "1" * 100_000 + "\n", "not valid YAML"),
        ("date.yaml", "backups: 2024-13-45\n", "not valid YAML"),
        ("bom.json", '\ufeff{"backups": []}', "not valid JSON"),
        ("latin1.yaml", "backups: caf\xe9\n", "not UTF-8 text"),
    ],
)
def test_values_a_parser_cannot_convert_are_refused(
    name: str, text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / name
    spec.write_bytes(text.encode("latin-1" if name == "latin1.yaml" else "utf-8"))
    report, _err, _elapsed = refused(capsys, tmp_path, "up", "--file", str(spec))
    [problem] = report["problems"]
    assert problem.startswith(str(spec)) and message in problem
    assert len(problem) < 1000


@pytest.mark.parametrize(
    "at",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "0001-01-01",
        "1969-12-31T23:59:59Z",
    ],
)
def test_rotate_at_out_of_range_is_refused(
    at: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, err, _elapsed = refused(
        capsys, tmp_path, "rotate", "--source", FS, "--keep", "1", "--at", at, "--every", "week"
    )
    assert report["command"] == "rotate" and report["period"] is None
    assert report["problems"] == [
        f"--at '{at}': a rotation runs for a time from 1970-01-01T00:00:00Z to now"
    ]
    assert "OverflowError" not in err


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--region", "a b", "--region 'a b': must match the pattern ^[a-z0-9-]{1,20}$"),
        ("--region", "US-EAST-1", "--region 'US-EAST-1': must match the pattern"),
        ("--endpoint-url", "http://[::1", "--endpoint-url 'http://[::1': is not a URL"),
        ("--endpoint-url", "http://x:99999", "Port out of range 0-65535"),
        ("--endpoint-url", "http://", "must be an http(s) URL with a host"),
    ],
)
def test_a_region_or_endpoint_that_would_fail_at_create_is_refused_first(
    flag: str, value: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Neither reaches the provider before the first CreateBackup: the preview would pass."""
    report, _err, _elapsed = refused(capsys, tmp_path, "up", "--backup", f"a={FS}", flag, value)
    [problem] = report["problems"]
    assert message in problem
