"""check(): every rule names its property; limits come from botocore's model."""

from __future__ import annotations

import botocore.session
import pytest
from pulumi.runtime.rpc import UNKNOWN

from fsx_backup_provider.providers.validation import validate_inputs

FS = "fs-0123456789abcdef0"
VOL = "fsvol-0123456789abcdef0"


def props_of(failures: list) -> list[str]:  # type: ignore[type-arg]
    return [f.property for f in failures]


def test_valid_inputs_pass() -> None:
    assert validate_inputs({"file_system_id": FS, "tags": {"Name": "nightly"}}) == []
    assert validate_inputs({"volume_id": VOL, "client_request_token": "my-token_1.0"}) == []


@pytest.mark.parametrize(
    ("inputs", "prop", "words"),
    [
        ({}, "file_system_id", "neither"),
        ({"file_system_id": FS, "volume_id": VOL}, "volume_id", "both"),
        ({"file_system_id": "fs-123"}, "file_system_id", "11 to 21"),
        ({"file_system_id": "fs-0123456789ABCDEF0"}, "file_system_id", "pattern"),
        ({"file_system_id": "vol-0123456789abcdef"}, "file_system_id", "pattern"),
        ({"volume_id": "fsvol-0123"}, "volume_id", "exactly 23"),
        ({"volume_id": "fsvol-0123456789abcdefg"}, "volume_id", "pattern"),
        ({"file_system_id": 12345}, "file_system_id", "string"),
        ({"file_system_id": FS, "tags": {"aws:owner": "x"}}, "tags", "reserved"),
        ({"file_system_id": FS, "tags": {"AWS:owner": "x"}}, "tags", "reserved"),
        ({"file_system_id": FS, "tags": {"k" * 129: "x"}}, "tags", "1 to 128"),
        ({"file_system_id": FS, "tags": {"": "x"}}, "tags", "1 to 128"),
        ({"file_system_id": FS, "tags": {"k": "v" * 257}}, "tags", "0 to 256"),
        ({"file_system_id": FS, "tags": {"bad#key": "x"}}, "tags", "pattern"),
        ({"file_system_id": FS, "tags": {"k": "bad*value"}}, "tags", "pattern"),
        ({"file_system_id": FS, "tags": {f"k{i}": "v" for i in range(51)}}, "tags", "at most 50"),
        ({"file_system_id": FS, "tags": {"fsx-backup:stack": "x"}}, "tags", "provider's own"),
        ({"file_system_id": FS, "tags": ["Name", "x"]}, "tags", "map"),
        ({"file_system_id": FS, "tags": {"k": 5}}, "tags", "string value"),
        ({"file_system_id": FS, "client_request_token": "x" * 64}, "client_request_token", "63"),
        ({"file_system_id": FS, "client_request_token": ""}, "client_request_token", "1 to 63"),
        ({"file_system_id": FS, "client_request_token": "a b"}, "client_request_token", "pattern"),
        ({"file_system_id": FS, "create_timeout_seconds": 0}, "create_timeout_seconds", "positive"),
        (
            {"file_system_id": FS, "delete_timeout_seconds": -5},
            "delete_timeout_seconds",
            "positive",
        ),
        (
            {"file_system_id": FS, "create_timeout_seconds": "60"},
            "create_timeout_seconds",
            "number",
        ),
        (
            {"file_system_id": FS, "create_timeout_seconds": True},
            "create_timeout_seconds",
            "number",
        ),
        (
            {"file_system_id": FS, "wait_for_available": "yes"},
            "wait_for_available",
            "true or false",
        ),
        ({"file_system_id": FS, "region": "US_EAST_1"}, "region", "pattern"),
    ],
)
def test_each_rule_names_property_and_rule(inputs: dict, prop: str, words: str) -> None:  # type: ignore[type-arg]
    failures = validate_inputs(inputs)
    assert prop in props_of(failures), failures
    reasons = " ".join(f.reason for f in failures if f.property == prop)
    assert words in reasons, reasons


def test_default_tags_count_toward_the_limit() -> None:
    defaults = {f"d{i}": "v" for i in range(30)}
    tags = {f"t{i}": "v" for i in range(21)}
    [failure] = validate_inputs({"file_system_id": FS, "tags": tags}, defaults)
    assert failure.property == "tags"
    assert "51 tags (including aws:defaultTags)" in failure.reason


def test_unknown_values_pass_at_preview() -> None:
    assert validate_inputs({"file_system_id": UNKNOWN, "tags": UNKNOWN}) == []
    assert validate_inputs({"volume_id": UNKNOWN, "tags": {"Name": UNKNOWN}}) == []


def test_limits_are_the_service_models() -> None:
    model = botocore.session.get_session().get_service_model("fsx")
    max_key = model.shape_for("TagKey").metadata["max"]
    assert validate_inputs({"file_system_id": FS, "tags": {"k" * max_key: "v"}}) == []
    assert validate_inputs({"file_system_id": FS, "tags": {"k" * (max_key + 1): "v"}}) != []


def test_default_tags_are_checked_without_declared_tags() -> None:
    """aws:defaultTags go out with every create, so they meet the same rules."""
    defaults = {f"d{i}": "v" for i in range(51)}
    [count] = validate_inputs({"file_system_id": FS}, defaults)
    assert count.property == "tags" and "51 tags (including aws:defaultTags)" in count.reason
    bad = validate_inputs({"file_system_id": FS}, {"aws:x": "y", "ok": "bad*"})
    assert [f.property for f in bad] == ["tags", "tags"]
    assert all("(from aws:defaultTags)" in f.reason for f in bad)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_timeouts_must_be_finite(value: float) -> None:
    [failure] = validate_inputs({"file_system_id": FS, "create_timeout_seconds": value})
    assert failure.property == "create_timeout_seconds" and "finite" in failure.reason
