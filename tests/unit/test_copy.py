"""FsxBackupCopy's own rules: validation, what replaces a copy, copied tags left alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from fsx_backup_provider.core.config import ProviderSettings
from fsx_backup_provider.core.process import process_state
from fsx_backup_provider.providers.copy import FsxBackupCopyProvider

SOURCE = "backup-0123456789abcdef0"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture(autouse=True)
def settings() -> Iterator[None]:
    state = process_state()
    saved = state.settings, dict(state.known_tags)
    state.settings = ProviderSettings(region="eu-west-1")
    yield
    state.settings, known = saved
    state.known_tags.clear()
    state.known_tags.update(known)


def check(**news: Any) -> dict[str, str]:
    failures = FsxBackupCopyProvider().check({}, news).failures
    return {f.property: f.reason for f in failures}


def test_valid_inputs_pass() -> None:
    assert check(source_backup_id=SOURCE, source_region="us-east-1", kms_key_id=KEY) == {}
    assert check(source_backup_id=UNKNOWN, source_region=UNKNOWN) == {}


@pytest.mark.parametrize(
    ("news", "field", "rule"),
    [
        ({"source_backup_id": None}, "source_backup_id", "is required"),
        ({"source_backup_id": "bkp-1"}, "source_backup_id", "must be 12 to 128"),
        ({"source_backup_id": "backup-XYZ123456"}, "source_backup_id", "pattern"),
        ({"source_region": "US East"}, "source_region", "pattern"),
        ({"region": "a-very-long-region-name-1"}, "region", "1 to 20"),
        ({"kms_key_id": ""}, "kms_key_id", "1 to 2048"),
        ({"copy_tags": "yes"}, "copy_tags", "true or false"),
        ({"tags": {"aws:x": "1"}}, "tags", "reserved"),
        ({"client_request_token": "a" * 64}, "client_request_token", "1 to 63"),
        ({"create_timeout_seconds": 0}, "create_timeout_seconds", "positive"),
    ],
)
def test_each_bad_input_names_its_field_and_rule(
    news: dict[str, Any], field: str, rule: str
) -> None:
    found = check(**{"source_backup_id": SOURCE, **news})
    assert field in found, found
    assert rule in found[field]


def test_copied_source_tags_count_when_the_source_is_known() -> None:
    process_state().known_tags[SOURCE] = {f"s{n}": "v" for n in range(45)}
    tags = {f"t{n}": "v" for n in range(10)}
    assert (
        "with copy_tags the copy would have 55 tags"
        in check(source_backup_id=SOURCE, copy_tags=True, tags=tags)["tags"]
    )
    assert check(source_backup_id=SOURCE, copy_tags=False, tags=tags) == {}
    # An unknown source: FSx itself refuses too many at create.
    assert check(source_backup_id="backup-0123456789abcdef1", copy_tags=True, tags=tags) == {}


def olds(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "source_backup_id": SOURCE,
        "source_region": "us-east-1",
        "region": "eu-west-1",
        "kms_key_id": "arn:aws:kms:eu-west-1:123456789012:key/default",
        "copy_tags": False,
        "copied_tags": [],
        "tags": {"Name": "dr"},
        "tags_all": {"Name": "dr"},
        "client_request_token": "fsxb-0123456789abcdef0123456789abcdef-g0",
        "given": {"source_region": "us-east-1"},
        "implicit_tags": False,
    }
    return {**base, **overrides}


def diff(old: dict[str, Any], **news: Any) -> tuple[bool | None, list[str]]:
    new = {"source_backup_id": SOURCE, "source_region": "us-east-1", "tags": {"Name": "dr"}}
    new.update(news)
    result = FsxBackupCopyProvider().diff("backup-0123456789abcdef9", old, new)
    return result.changes, sorted(result.replaces or [])


def test_nothing_changed_and_resolved_outputs_are_no_change() -> None:
    assert diff(olds()) == (False, [])


@pytest.mark.parametrize(
    ("change", "replaced"),
    [
        ({"source_backup_id": "backup-0123456789abcdef1"}, "source_backup_id"),
        ({"source_region": "us-west-2"}, "source_region"),
        ({"source_region": UNKNOWN}, "source_region"),
        ({"kms_key_id": KEY}, "kms_key_id"),
        ({"copy_tags": True}, "copy_tags"),
        ({"region": "eu-central-1"}, "region"),
        ({"client_request_token": "mine"}, "client_request_token"),
    ],
)
def test_what_replaces_a_copy(change: dict[str, Any], replaced: str) -> None:
    assert diff(olds(), **change) == (True, [replaced])


def test_an_in_region_copy_written_either_way_is_the_same_copy() -> None:
    in_region = olds(source_region="eu-west-1", given={})
    assert diff(in_region, source_region=None) == (False, [])
    assert diff(in_region, source_region="eu-west-1") == (False, [])


def test_tags_change_in_place_and_copied_source_tags_are_not_fought() -> None:
    copied = olds(
        copy_tags=True,
        copied_tags=["Owner"],
        tags_all={"Name": "dr", "Owner": "team-a"},
        tags={"Name": "dr", "Owner": "team-a"},
    )
    assert diff(copied, copy_tags=True) == (False, [])
    provider = FsxBackupCopyProvider()
    news = {"source_backup_id": SOURCE, "copy_tags": True, "tags": {"Name": "dr2"}}
    assert provider.tags_to_change(copied, news) == ({"Name": "dr2"}, [])
    # A declared key wins over the copied one, and is then the resource's.
    news["tags"] = {"Name": "dr", "Owner": "team-b"}
    assert provider.tags_to_change(copied, news) == ({"Owner": "team-b"}, [])
