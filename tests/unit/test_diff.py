"""diff(): what replaces, what updates in place, and what is no change at all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from fsx_backup_provider import provider as provider_module
from fsx_backup_provider.config import ProviderSettings
from fsx_backup_provider.provider import FsxBackupProvider

FS = "fs-0123456789abcdef0"
FS2 = "fs-0123456789abcdef1"


@pytest.fixture(autouse=True)
def settings() -> Iterator[None]:
    saved = provider_module._state.settings
    provider_module._state.settings = ProviderSettings(region="us-east-1")
    yield
    provider_module._state.settings = saved


def olds(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "file_system_id": FS,
        "volume_id": None,
        "tags": {"Name": "a"},
        "tags_all": {"Name": "a"},
        "region": "us-east-1",
        "client_request_token": "fsxb-x-g0",
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
        {"client_request_token": "other"},
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
    provider_module._state.settings = ProviderSettings(region="eu-west-1")
    assert diff(olds(), news()) == (True, ["region"])


def test_default_tags_change_in_place() -> None:
    provider_module._state.settings = ProviderSettings(
        region="us-east-1", default_tags={"Team": "storage"}
    )
    assert diff(olds(), news()) == (True, [])
    assert diff(olds(tags_all={"Name": "a", "Team": "storage"}), news()) == (False, [])


def test_implicit_tags_copied_by_fsx_are_not_fought() -> None:
    copied = olds(tags={}, tags_all={"FromSource": "x"}, implicit_tags=True)
    assert diff(copied, news(tags=None)) == (False, [])
    assert diff(copied, news(tags={"Name": "now-declared"})) == (True, [])
