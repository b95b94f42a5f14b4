"""What keeps a large `fsx-backup preview` linear, without an engine (the bench measures it)."""

from __future__ import annotations

import inspect

from fsx_backup_provider.cli.engine import engine_env
from fsx_backup_provider.cli.program import make_program


def test_only_a_preview_runs_the_engine_without_checkpoints() -> None:
    """A preview's checkpoints are thrown away; up, refresh and destroy keep theirs
    (a killed run is recovered from them)."""
    assert engine_env("file:///state", preview=True)["PULUMI_SKIP_CHECKPOINTS"] == "true"
    assert "PULUMI_SKIP_CHECKPOINTS" not in engine_env("file:///state")
    assert "PULUMI_SKIP_CHECKPOINTS" not in engine_env("s3://bucket/prefix")


def test_the_program_waits_for_its_own_registrations() -> None:
    """The Automation API awaits a coroutine program; the CLI's is one, so the SDK's
    end-of-program loop finds nothing left to poll."""
    assert inspect.iscoroutinefunction(make_program([]))
