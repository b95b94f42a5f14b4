"""Unknown inputs at preview, in the form the dynamic provider host hands them over.

The host deserializes the engine's properties for check and diff keeping
unknowns (pulumi/dynamic/__main__.py: `rpc.deserialize_properties(request.news, True)`),
which gives `pulumi.output.Unknown` objects, anywhere in a value, not the
marker string. These tests build the inputs exactly that way, from the wire
form the engine sends, so they fail if the provider recognises only one form.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc

from fsx_backup_provider.core.config import ProviderSettings
from fsx_backup_provider.core.process import process_state
from fsx_backup_provider.providers.backup import FsxBackupProvider
from fsx_backup_provider.providers.base import BackupResourceProvider
from fsx_backup_provider.providers.copy import FsxBackupCopyProvider
from fsx_backup_provider.providers.validation import contains_unknown, is_unknown

FS = "fs-0123456789abcdef0"
SOURCE = "backup-0123456789abcdef0"
URN = "urn:pulumi:dev::proj::pulumi-python:dynamic/fsx:FsxBackup::nightly"


@pytest.fixture(autouse=True)
def settings() -> Iterator[None]:
    state = process_state()
    saved = state.settings
    state.settings = ProviderSettings(region="us-east-1")
    yield
    state.settings = saved


def as_host_passes(props: dict[str, Any]) -> dict[str, Any]:
    """`props` (rpc.UNKNOWN where unknown) over the wire and back, as the host reads them."""
    serialized = asyncio.run(rpc.serialize_properties(props, {}))
    wire = struct_pb2.Struct()
    wire.CopyFrom(serialized)
    return dict(rpc.deserialize_properties(wire, True))


def test_the_host_hands_unknowns_over_as_objects_nested_too() -> None:
    props = as_host_passes({"a": rpc.UNKNOWN, "tags": {"Name": rpc.UNKNOWN}, "l": [rpc.UNKNOWN]})
    assert isinstance(props["a"], Unknown) and isinstance(props["tags"]["Name"], Unknown)
    assert is_unknown(props["a"]) and is_unknown(rpc.UNKNOWN)
    assert contains_unknown(props["tags"]) and contains_unknown(props["l"])
    assert not contains_unknown({"Name": "x"})


@pytest.mark.parametrize(
    "news",
    [
        {"file_system_id": rpc.UNKNOWN},
        {"volume_id": rpc.UNKNOWN},
        {"file_system_id": FS, "tags": rpc.UNKNOWN},
        {"file_system_id": FS, "tags": {"Name": rpc.UNKNOWN, "Team": "a"}},
        {"file_system_id": FS, "region": rpc.UNKNOWN, "client_request_token": rpc.UNKNOWN},
        {
            "file_system_id": FS,
            "wait_for_available": rpc.UNKNOWN,
            "create_timeout_seconds": rpc.UNKNOWN,
            "delete_timeout_seconds": rpc.UNKNOWN,
        },
    ],
)
def test_a_backup_with_unknown_inputs_passes_check(news: dict[str, Any]) -> None:
    result = FsxBackupProvider().check({}, as_host_passes({**news, "resource_urn": URN}))
    assert result.failures == []


@pytest.mark.parametrize(
    "news",
    [
        {"source_backup_id": rpc.UNKNOWN},
        {"source_backup_id": rpc.UNKNOWN, "source_region": rpc.UNKNOWN},
        {"source_backup_id": SOURCE, "kms_key_id": rpc.UNKNOWN, "copy_tags": rpc.UNKNOWN},
        {"source_backup_id": SOURCE, "copy_tags": True, "tags": {"Role": rpc.UNKNOWN}},
        {"source_backup_id": SOURCE, "region": rpc.UNKNOWN},
    ],
)
def test_a_copy_with_unknown_inputs_passes_check(news: dict[str, Any]) -> None:
    assert FsxBackupCopyProvider().check({}, as_host_passes(news)).failures == []


def test_known_values_are_still_checked_beside_unknown_ones() -> None:
    news = as_host_passes({"file_system_id": rpc.UNKNOWN, "tags": {"aws:x": rpc.UNKNOWN}})
    failures = FsxBackupProvider().check({}, news).failures
    assert [f.property for f in failures] == ["tags"]


def test_check_hands_the_unknowns_back_for_the_engine() -> None:
    """What check returns goes back over the wire: unknowns must stay unknowns."""
    news = as_host_passes({"file_system_id": rpc.UNKNOWN, "tags": {"Name": rpc.UNKNOWN}})
    inputs = FsxBackupProvider().check({}, news).inputs
    wire = asyncio.run(rpc.serialize_properties(inputs, {}))
    assert wire["file_system_id"] == rpc.UNKNOWN
    assert wire["tags"]["Name"] == rpc.UNKNOWN


BACKUP_OLDS: dict[str, Any] = {
    "file_system_id": FS,
    "tags": {"Name": "a"},
    "tags_all": {"Name": "a"},
    "region": "us-east-1",
    "client_request_token": "fsxb-0123456789abcdef0123456789abcdef-g0",
    "given": {},
    "implicit_tags": False,
}
COPY_OLDS: dict[str, Any] = {
    "source_backup_id": SOURCE,
    "source_region": "us-east-1",
    "region": "us-east-1",
    "kms_key_id": "key",
    "copy_tags": False,
    "tags": {"Role": "dr"},
    "tags_all": {"Role": "dr"},
    "client_request_token": "fsxb-0123456789abcdef0123456789abcdef-g0",
    "given": {"kms_key_id": "key"},
    "copied_tags": [],
}


def diff_of(
    provider: BackupResourceProvider, olds: dict[str, Any], news: dict[str, Any]
) -> tuple[bool | None, list[str]]:
    result = provider.diff(SOURCE, dict(olds), as_host_passes(news))
    return result.changes, sorted(result.replaces or [])


@pytest.mark.parametrize(
    ("news", "replaces"),
    [
        ({"file_system_id": rpc.UNKNOWN, "tags": {"Name": "a"}}, ["file_system_id"]),
        ({"file_system_id": FS, "tags": {"Name": "a"}, "region": rpc.UNKNOWN}, ["region"]),
        (
            {"file_system_id": FS, "tags": {"Name": "a"}, "client_request_token": rpc.UNKNOWN},
            ["client_request_token"],
        ),
        ({"file_system_id": FS, "tags": {"Name": rpc.UNKNOWN}}, []),
        ({"file_system_id": FS, "tags": rpc.UNKNOWN}, []),
    ],
)
def test_backup_diff_of_unknowns(news: dict[str, Any], replaces: list[str]) -> None:
    """An unknown source, Region or token may replace; an unknown tag updates in place."""
    assert diff_of(FsxBackupProvider(), BACKUP_OLDS, news) == (True, replaces)


@pytest.mark.parametrize(
    ("news", "replaces"),
    [
        ({"source_backup_id": rpc.UNKNOWN}, ["source_backup_id"]),
        ({"source_region": rpc.UNKNOWN}, ["source_region"]),
        ({"kms_key_id": rpc.UNKNOWN}, ["kms_key_id"]),
        ({"copy_tags": rpc.UNKNOWN}, ["copy_tags"]),
        ({"tags": {"Role": rpc.UNKNOWN}}, []),
    ],
)
def test_copy_diff_of_unknowns(news: dict[str, Any], replaces: list[str]) -> None:
    declared = {
        "source_backup_id": SOURCE,
        "kms_key_id": "key",
        "tags": {"Role": "dr"},
        **news,
    }
    assert diff_of(FsxBackupCopyProvider(), COPY_OLDS, declared) == (True, replaces)


def test_unchanged_known_inputs_are_no_change() -> None:
    """The baseline the unknown cases above differ from."""
    assert (
        diff_of(FsxBackupProvider(), BACKUP_OLDS, {"file_system_id": FS, "tags": {"Name": "a"}})[0]
        is False
    )
    copy = {"source_backup_id": SOURCE, "kms_key_id": "key", "tags": {"Role": "dr"}}
    assert diff_of(FsxBackupCopyProvider(), COPY_OLDS, copy)[0] is False
