"""diff(): what replaces, what updates in place, and what is no change at all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from fsx_backup_provider.core.config import ProviderSettings
from fsx_backup_provider.core.process import process_state
from fsx_backup_provider.providers.backup import FsxBackupProvider

FS = "fs-0123456789abcdef0"
FS2 = "fs-0123456789abcdef1"


@pytest.fixture(autouse=True)
def settings() -> Iterator[None]:
    state = process_state()
    saved = state.settings
    state.settings = ProviderSettings(region="us-east-1")
    yield
    state.settings = saved


def olds(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "file_system_id": FS,
        "volume_id": None,
        "tags": {"Name": "a"},
        "tags_all": {"Name": "a"},
        "region": "us-east-1",
        "client_request_token": "fsxb-0123456789abcdef0123456789abcdef-g0",
        "given": {},
        "wait_for_available": True,
        "create_timeout_seconds": 1800,
        "delete_timeout_seconds": 1800,
        "implicit_tags": False,
        "__provider": "old",
    }
    return {**base, **overrides}


def news(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "file_system_id": FS,
        "tags": {"Name": "a"},
        "wait_for_available": True,
        "create_timeout_seconds": 1800,
        "delete_timeout_seconds": 1800,
        "__provider": "old",
    }
    return {**base, **overrides}


def diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[bool | None, list[str]]:
    result = FsxBackupProvider().diff("backup-0123456789abcdef0", old, new)
    return result.changes, list(result.replaces or [])


def test_nothing_changed() -> None:
    assert diff(olds(), news()) == (False, [])


@pytest.mark.parametrize(
    "change",
    [
        {"wait_for_available": False},
        {"create_timeout_seconds": 60},
        {"delete_timeout_seconds": 60},
        {"__provider": "new-pickle"},
    ],
)
def test_knobs_alone_are_no_diff(change: dict[str, Any]) -> None:
    assert diff(olds(), news(**change)) == (False, [])


def test_tag_change_is_in_place() -> None:
    assert diff(olds(), news(tags={"Name": "b"})) == (True, [])
    assert diff(olds(), news(tags={"Name": "a", "Env": "dev"})) == (True, [])
    assert diff(olds(), news(tags=None)) == (True, [])


def test_out_of_band_retag_is_seen_after_refresh() -> None:
    assert diff(olds(tags_all={"Name": "changed"}), news()) == (True, [])


def test_source_change_replaces() -> None:
    assert diff(olds(), news(file_system_id=FS2)) == (True, ["file_system_id"])
    vol = "fsvol-0123456789abcdef0"
    changes, replaces = diff(olds(), news(file_system_id=None, volume_id=vol))
    assert changes and set(replaces) == {"file_system_id", "volume_id"}


def test_unknown_source_at_preview_replaces() -> None:
    assert diff(olds(), news(file_system_id=UNKNOWN)) == (True, ["file_system_id"])


def test_region_change_replaces() -> None:
    assert diff(olds(), news(region="eu-west-1")) == (True, ["region"])
    assert diff(olds(), news(region="us-east-1")) == (False, [])


def test_config_region_change_replaces() -> None:
    process_state().settings = ProviderSettings(region="eu-west-1")
    assert diff(olds(), news()) == (True, ["region"])


def test_default_tags_change_in_place() -> None:
    process_state().settings = ProviderSettings(
        region="us-east-1", default_tags={"Team": "storage"}
    )
    assert diff(olds(), news()) == (True, [])
    assert diff(olds(tags_all={"Name": "a", "Team": "storage"}), news()) == (False, [])


def test_implicit_tags_copied_by_fsx_are_not_fought() -> None:
    copied = olds(tags={}, tags_all={"FromSource": "x"}, implicit_tags=True)
    assert diff(copied, news(tags=None)) == (False, [])
    assert diff(copied, news(tags={"Name": "now-declared"})) == (True, [])


def test_a_token_change_replaces() -> None:
    """A token names one backup: another token is another backup."""
    assert diff(olds(), news(client_request_token="mine-1")) == (True, ["client_request_token"])
    given = olds(client_request_token="mine-1", given={"client_request_token": "mine-1"})
    assert diff(given, news(client_request_token="mine-1")) == (False, [])
    assert diff(given, news()) == (True, ["client_request_token"])
    assert diff(given, news(client_request_token=UNKNOWN)) == (True, ["client_request_token"])


def test_a_state_made_by_0_1_0_tells_given_tokens_from_derived_ones() -> None:
    legacy = olds(given=None, token_scope="p\x1fs\x1f\x1fb", token_epoch=0)
    del legacy["given"]
    assert diff(legacy, news()) == (False, [])
    mine = {**legacy, "client_request_token": "my-own-token"}
    assert diff(mine, news(client_request_token="my-own-token")) == (False, [])
    assert diff(mine, news()) == (True, ["client_request_token"])


def test_identity_and_urn_inputs_are_no_diff() -> None:
    """They only matter to a create: a renamed stack or a new serial changes nothing."""
    old = olds(resource_urn="urn:pulumi:dev::p::t::b", identity="a.1")
    assert diff(old, news(resource_urn="urn:pulumi:prod::p::t::b", identity="b.2")) == (False, [])


@pytest.mark.parametrize(
    ("option", "change", "replaces"),
    [
        (["tags"], {"tags": {"Name": "b"}}, ["tags"]),
        (["*"], {"tags": {"Name": "b"}}, ["tags"]),
        (["*"], {"create_timeout_seconds": 60}, ["create_timeout_seconds"]),
        (["wait_for_available"], {"wait_for_available": False}, ["wait_for_available"]),
        (["tags"], {"create_timeout_seconds": 60}, []),
    ],
)
def test_replace_on_changes_is_applied_by_the_provider(
    option: list[str], change: dict[str, Any], replaces: list[str]
) -> None:
    result = diff(olds(), news(replace_on_changes=option, **change))
    assert result[1] == replaces
    assert result[0] is bool(replaces or "tags" in change)
