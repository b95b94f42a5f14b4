"""CreateBackup: sources, refusals, input validation and tags (semantics 2)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsx_emulator.client import Emulator

if TYPE_CHECKING:
    from mypy_boto3_fsx.type_defs import TagTypeDef

ClientErrorOf = Callable[..., ClientError]


def error_of(client_error: ClientErrorOf, fsx: Emulator, **request: Any) -> tuple[str, str]:
    error = client_error(fsx.client().create_backup, **request)
    return error.response["Error"]["Code"], error.response["Error"]["Message"]


def test_unknown_sources(fsx: Emulator, client_error: ClientErrorOf) -> None:
    assert (
        error_of(client_error, fsx, FileSystemId="fs-0123456789abcdef0")[0] == "FileSystemNotFound"
    )
    assert error_of(client_error, fsx, VolumeId="fsvol-0123456789abcdef0")[0] == "VolumeNotFound"


def test_exactly_one_source(fsx: Emulator, client_error: ClientErrorOf) -> None:
    file_system_id = fsx.create_file_system()
    volume_id = fsx.create_ontap_volume()
    assert error_of(client_error, fsx)[0] == "BadRequest"
    code, message = error_of(client_error, fsx, FileSystemId=file_system_id, VolumeId=volume_id)
    assert code == "BadRequest"
    assert "FileSystemId" in message and "VolumeId" in message


@pytest.mark.parametrize(
    ("deployment_type", "import_path"),
    [
        ("SCRATCH_1", None),
        ("SCRATCH_2", None),
        ("SCRATCH_2", "s3://bucket/prefix"),
        ("PERSISTENT_1", "s3://bucket/prefix"),
        ("PERSISTENT_2", "s3://bucket/prefix"),
    ],
)
def test_lustre_scratch_or_linked_is_refused_with_bad_request(
    fsx: Emulator, client_error: ClientErrorOf, deployment_type: str, import_path: str | None
) -> None:
    file_system_id = fsx.create_file_system(
        deployment_type=deployment_type, import_path=import_path
    )
    code, message = error_of(client_error, fsx, FileSystemId=file_system_id)
    assert code == "BadRequest"
    assert file_system_id in message
    assert fsx.client().describe_backups()["Backups"] == []


@pytest.mark.parametrize(
    ("fs_type", "deployment_type"),
    [
        ("LUSTRE", "PERSISTENT_1"),
        ("LUSTRE", "PERSISTENT_2"),
        ("WINDOWS", "MULTI_AZ_1"),
        ("OPENZFS", "SINGLE_AZ_1"),
    ],
)
def test_backable_file_systems(fsx: Emulator, fs_type: str, deployment_type: str) -> None:
    file_system_id = fsx.create_file_system(type=fs_type, deployment_type=deployment_type)
    backup = fsx.client().create_backup(FileSystemId=file_system_id)["Backup"]
    assert backup["FileSystem"]["FileSystemId"] == file_system_id
    assert backup["ResourceType"] == "FILE_SYSTEM"
    assert "Volume" not in backup


def test_ontap_file_system_backup_is_unsupported(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    file_system_id = fsx.create_file_system(type="ONTAP")
    assert error_of(client_error, fsx, FileSystemId=file_system_id) == (
        "UnsupportedOperation",
        "ONTAP file system backup is unsupported.",
    )


def test_ontap_volume_backup(fsx: Emulator) -> None:
    volume_id = fsx.create_ontap_volume()
    backup = fsx.client().create_backup(VolumeId=volume_id)["Backup"]
    assert backup["ResourceType"] == "VOLUME"
    assert backup["Volume"]["VolumeId"] == volume_id
    assert backup["FileSystem"]["FileSystemType"] == "ONTAP"


TOO_LONG_KEY = "k" * 129
TOO_LONG_VALUE = "v" * 257


@pytest.mark.parametrize(
    ("request_fields", "named_field"),
    [
        ({"FileSystemId": "fs-NOTHEXADECIMAL"}, "FileSystemId"),
        ({"FileSystemId": "fs-0123456789abcdef0123"}, "FileSystemId"),
        ({"VolumeId": "fsvol-0123456789ABCDEF0"}, "VolumeId"),
        ({"ClientRequestToken": "has space"}, "ClientRequestToken"),
        ({"ClientRequestToken": "t" * 64}, "ClientRequestToken"),
        ({"Tags": [{"Key": TOO_LONG_KEY, "Value": "v"}]}, "Tags[0].Key"),
        ({"Tags": [{"Key": "k", "Value": TOO_LONG_VALUE}]}, "Tags[0].Value"),
        ({"Tags": [{"Key": "bad#key", "Value": "v"}]}, "Tags[0].Key"),
        ({"Tags": [{"Key": "k", "Value": "bad*value"}]}, "Tags[0].Value"),
        ({"Tags": [{"Key": "aws:name", "Value": "v"}]}, "Tags[0].Key"),
        ({"Tags": [{"Key": "AwS:Name", "Value": "v"}]}, "Tags[0].Key"),
        ({"Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}, "Tags"),
        ({"Tags": [{"Key": f"k{i}", "Value": ""} for i in range(51)]}, "Tags"),
    ],
)
def test_invalid_input_is_a_bad_request_naming_the_field(
    fsx: Emulator, client_error: ClientErrorOf, request_fields: dict[str, Any], named_field: str
) -> None:
    request = {"FileSystemId": fsx.create_file_system(), **request_fields}
    if "VolumeId" in request_fields:
        del request["FileSystemId"]
    code, message = error_of(client_error, fsx, **request)
    assert code == "BadRequest"
    assert message.startswith(named_field)


@pytest.mark.parametrize(
    ("tags", "named_field"),
    [([], "Tags"), ([{"Key": "", "Value": "v"}], "Tags[0].Key")],
)
def test_limits_botocore_also_checks(
    fsx: Emulator, client_error: ClientErrorOf, tags: list[dict[str, str]], named_field: str
) -> None:
    unchecked = fsx.client(Config(parameter_validation=False))
    error = client_error(unchecked.create_backup, FileSystemId=fsx.create_file_system(), Tags=tags)
    assert error.response["Error"]["Code"] == "BadRequest"
    assert error.response["Error"]["Message"].startswith(named_field)


def test_valid_edge_cases_are_accepted(fsx: Emulator) -> None:
    tags: list[TagTypeDef] = [{"Key": "k" * 128, "Value": "v" * 256}, {"Key": "empty", "Value": ""}]
    tags += [{"Key": f"Ünïcode {i}:/=+-@_.", "Value": "日本 ٣"} for i in range(48)]
    backup = fsx.client().create_backup(
        FileSystemId=fsx.create_file_system(), ClientRequestToken="t" * 63, Tags=tags
    )["Backup"]
    assert backup["Tags"] == tags


def allowed_in_tags(character: str) -> bool:
    # The model's tag pattern, [\p{L}\p{Z}\p{N}_.:/=+\-@], restated with unicodedata.
    return unicodedata.category(character)[0] in "LZN" or character in "_.:/=+-@"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.text(min_size=1, max_size=130))
def test_tag_key_rule_matches_the_model(fsx: Emulator, key: str) -> None:
    fsx.reset()
    client = fsx.client()
    file_system_id = fsx.create_file_system()
    valid = (
        len(key) <= 128
        and all(allowed_in_tags(character) for character in key)
        and not key.lower().startswith("aws:")
    )
    try:
        backup = client.create_backup(
            FileSystemId=file_system_id, Tags=[{"Key": key, "Value": "v"}]
        )
    except ClientError as error:
        assert not valid, f"valid key {key!r} refused: {error}"
        assert error.response["Error"]["Code"] == "BadRequest"
    else:
        assert valid, f"invalid key {key!r} accepted"
        assert backup["Backup"]["Tags"] == [{"Key": key, "Value": "v"}]


@pytest.mark.parametrize("source", ["LUSTRE", "WINDOWS", "OPENZFS", "ONTAP volume"])
def test_copy_tags_to_backups(fsx: Emulator, source: str) -> None:
    source_tags = {"Name": "source", "team": "storage"}

    def make(copy: bool) -> dict[str, Any]:
        if source == "ONTAP volume":
            return {
                "VolumeId": fsx.create_ontap_volume(tags=source_tags, copy_tags_to_backups=copy)
            }
        return {
            "FileSystemId": fsx.create_file_system(
                type=source, tags=source_tags, copy_tags_to_backups=copy
            )
        }

    client = fsx.client()
    copying, not_copying = make(True), make(False)
    copied = client.create_backup(**copying)["Backup"]
    assert {t["Key"]: t["Value"] for t in copied["Tags"]} == source_tags
    explicit: list[TagTypeDef] = [{"Key": "Name", "Value": "backup"}]
    assert client.create_backup(**copying, Tags=explicit)["Backup"]["Tags"] == explicit
    assert client.create_backup(**not_copying)["Backup"]["Tags"] == []
    assert client.create_backup(**not_copying, Tags=explicit)["Backup"]["Tags"] == explicit
