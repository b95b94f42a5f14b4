"""check(): failures reach the engine by property; the token epoch moves on."""

from __future__ import annotations

from fsx_backup_provider.provider import FsxBackupProvider

FS = "fs-0123456789abcdef0"


def test_failures_name_properties() -> None:
    result = FsxBackupProvider().check({}, {"file_system_id": "fs-1", "tags": {"aws:x": "1"}})
    assert {f.property for f in result.failures} == {"file_system_id", "tags"}


def test_new_resource_starts_at_epoch_zero() -> None:
    result = FsxBackupProvider().check({}, {"file_system_id": FS})
    assert result.failures == []
    assert result.inputs["token_epoch"] == 0


def test_existing_resource_keeps_its_epoch_and_its_replacement_moves_on() -> None:
    """A replacement's create must never hash the epoch that made the old backup."""
    provider = FsxBackupProvider()
    scope = "proj\x1fdev\x1f\x1fepoch-test"
    olds = {"file_system_id": FS, "token_scope": scope, "token_epoch": 4}
    news = {"file_system_id": FS, "token_scope": scope}
    assert provider.check(olds, dict(news)).inputs["token_epoch"] == 4
    # The engine's second check of a resource it will replace has no olds.
    assert provider.check({}, dict(news)).inputs["token_epoch"] == 5
    other = {"file_system_id": FS, "token_scope": "proj\x1fdev\x1f\x1fnever-seen"}
    assert provider.check({}, other).inputs["token_epoch"] == 0


def test_check_makes_no_aws_call_and_keeps_inputs() -> None:
    news = {"file_system_id": FS, "tags": {"Name": "x"}, "wait_for_available": False}
    result = FsxBackupProvider().check({}, dict(news))
    assert {k: result.inputs[k] for k in news} == news
