"""check(): failures reach the engine by property, never quoting a secret; inputs pass through."""

from __future__ import annotations

from fsx_backup_provider.providers.backup import FsxBackupProvider

FS = "fs-0123456789abcdef0"


def test_failures_name_properties() -> None:
    result = FsxBackupProvider().check({}, {"file_system_id": "fs-1", "tags": {"aws:x": "1"}})
    assert {f.property for f in result.failures} == {"file_system_id", "tags"}


def test_check_makes_no_aws_call_and_keeps_inputs() -> None:
    news = {"file_system_id": FS, "tags": {"Name": "x"}, "wait_for_available": False}
    result = FsxBackupProvider().check({}, dict(news))
    assert result.failures == []
    assert result.inputs == {**news, "token_epoch": 0}


def test_an_existing_resource_keeps_its_epoch_and_its_replacement_moves_on() -> None:
    """A replacement's create must never derive the token of the backup it replaces."""
    provider = FsxBackupProvider()
    urn = "urn:pulumi:dev::proj::pulumi-python:dynamic/fsx:FsxBackup::epoch-test"
    olds = {"file_system_id": FS, "resource_urn": urn, "token_epoch": 4}
    news = {"file_system_id": FS, "resource_urn": urn}
    assert provider.check(olds, dict(news)).inputs["token_epoch"] == 4
    # The engine's second check of a resource it will replace has no olds.
    assert provider.check({}, dict(news)).inputs["token_epoch"] == 5
    other = {"file_system_id": FS, "resource_urn": urn.replace("epoch-test", "never-seen")}
    assert provider.check({}, other).inputs["token_epoch"] == 0


def test_a_resource_renamed_in_the_state_leaves_its_old_name_taken() -> None:
    """`pulumi state rename x y`, then a new x: the new x must not derive y's token."""
    provider = FsxBackupProvider()
    old = "urn:pulumi:dev::proj::pulumi-python:dynamic/fsx:FsxBackup::renamed-x"
    new = old.replace("renamed-x", "renamed-y")
    provider.check(
        {"file_system_id": FS, "resource_urn": old, "token_epoch": 0},
        {"file_system_id": FS, "resource_urn": new},
    )
    assert (
        provider.check({}, {"file_system_id": FS, "resource_urn": old}).inputs["token_epoch"] == 1
    )


def test_0_1_0_token_scope_is_dropped_and_its_epoch_kept() -> None:
    olds = {"file_system_id": FS, "token_scope": "p\x1fs\x1f\x1fb", "token_epoch": 0}
    news = {
        "file_system_id": FS,
        "token_scope": "p\x1fs\x1f\x1fb",
        "resource_urn": "urn:pulumi:s::p::t::b",
    }
    inputs = FsxBackupProvider().check(olds, news).inputs
    assert "token_scope" not in inputs and inputs["token_epoch"] == 0
    assert inputs["resource_urn"] == news["resource_urn"]


def test_secret_inputs_are_named_but_never_quoted() -> None:
    news = {
        "file_system_id": "fs-secret-value-xyz",
        "tags": {"aws:hidden-key": "hidden-value"},
        "secret_inputs": ["file_system_id", "tags"],
    }
    failures = FsxBackupProvider().check({}, news).failures
    assert {f.property for f in failures} == {"file_system_id", "tags"}
    text = " ".join(f.reason for f in failures)
    assert "secret-value" not in text and "hidden" not in text
    assert "(a secret value)" in text


def test_secret_default_tags_are_never_quoted() -> None:
    from fsx_backup_provider.core.config import ProviderSettings
    from fsx_backup_provider.core.process import process_state

    state = process_state()
    saved = state.settings
    state.settings = ProviderSettings(default_tags={"aws:cost": "centre-42"})
    try:
        news = {"file_system_id": FS, "secret_inputs": ["aws:defaultTags"]}
        [failure] = FsxBackupProvider().check({}, news).failures
        assert failure.property == "tags" and "cost" not in failure.reason
        assert "aws:defaultTags" in failure.reason
    finally:
        state.settings = saved


def test_long_values_are_shortened_in_messages() -> None:
    [failure] = FsxBackupProvider().check({}, {"file_system_id": "fs-" + "f" * 5000}).failures
    assert len(failure.reason) < 400
