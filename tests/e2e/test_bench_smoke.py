"""The benchmark harness runs end to end at a tiny size, so it cannot rot.

It checks the harness produces every figure; the figures themselves are
judged only by a full `make bench`, never here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from bench.noop import Noop, ShapedNoop
from fsx_backup_provider import FsxBackup
from tests.conftest import resources_of_type
from tests.e2e.conftest import quiet
from tools import bench


def test_bench_smoke(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    assert bench.main(["--smoke", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    for key in bench.TARGETS:
        assert isinstance(results[key], int | float), key
    assert results["preview_fsx_calls"] == 0
    assert results["unknown_preview_fsx_calls"] == 0
    assert results["unknown_preview"]["preview_changes"] == {"create": 2 * results["N_preview"] + 3}
    assert results["up"]["up_calls"]["CreateBackup"] == results["N_up"]
    assert results["up"]["up_and_destroy_calls"]["DeleteBackup"] == results["N_up"]
    assert 0 < results["provider_pickle_bytes"] < 200
    assert results["versions"]["pulumi_engine"]
    assert set(results["diagnostics"]) == {
        "unknown_preview_ratio_vs_shaped_noop",
        "preview_ratio_vs_floor",
        "shaped_noop_ratio_vs_floor",
        "copies_to_one_region_seconds_vs_5_copy_times",
        "cli_preview_ms_per_backup",
    }
    # The CLI preview ran as users run it: every backup planned, no FSx call, each
    # process it started measured (the CLI, the engine, the provider).
    cli = results["cli_preview"]
    assert cli["n"] == 20 and cli["fsx_calls"] == 0
    assert cli["cli_peak_mb"] > 0 and results["cli_preview_peak_mb"] == cli["cli_peak_mb"]
    assert any(name.startswith("pulumi (") for name in cli["peak_mb_by_process"])
    assert "provider (pulumi.dynamic)" in cli["cpu_seconds_by_process"]
    assert results["copies"]["up_calls"]["CopyBackup"] == results["copies"]["n"]
    # Issue 27: destroy against its floor, the large case, the state's size, the
    # provider's and the program's memory, and the naive peer beside FsxBackup.
    for case in results["up_scaling"]:
        assert case["destroy_ratio_vs_floor"] > 0 and case["floor_destroy_seconds"] > 0
        assert case["state_bytes_per_backup"] > 1000
        assert case["provider_peak_mb"] > 0 and case["program_peak_mb"] > 0
    assert results["up_scaling"][-1]["n"] == results["N_large"] == results["large"]["n"]
    assert results["state_bytes_per_backup"] == results["up"]["state_bytes_per_backup"]
    [naive] = results["naive_peer"]
    assert naive["up_calls"]["CreateBackup"] == naive["n"]
    assert naive["up_calls"]["DescribeBackups"] >= naive["n"]
    assert naive["fsx_up_seconds"] > 0 and naive["times_slower_than_fsx_backup"] > 0


def test_shaped_noop_is_stored_like_an_fsx_backup(
    fsx_stack: Callable[..., auto.Stack], fsx: Any
) -> None:
    """The bench's diagnostic only means something while the two have one shape."""
    fs_id = fsx.create_file_system("LUSTRE")

    def program() -> None:
        FsxBackup("real", file_system_id=fs_id, tags={"Name": "real"})
        seed = Noop("shaped-seed", value="0" * 32)
        ShapedNoop("shaped", file_system_id=fs_id, tags={"Name": "shaped"}, identity=seed.value)

    stack = fsx_stack(program)
    stack.up(on_output=quiet)
    [real] = resources_of_type(stack, ":FsxBackup")
    [shaped] = resources_of_type(stack, ":ShapedNoop")
    assert set(shaped["inputs"]) == set(real["inputs"])
    assert set(shaped["outputs"]) == set(real["outputs"])
    assert set(shaped["propertyDependencies"]) == set(real["propertyDependencies"])
    # Each depends on one other resource of the stack (the seed, or its stand-in).
    assert len(shaped["dependencies"]) == len(real["dependencies"]) == 1
    # The SDK reads a resource class's annotations at every registration.
    assert ShapedNoop.__annotations__ == FsxBackup.__annotations__
    stack.destroy(on_output=quiet)
