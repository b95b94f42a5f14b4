"""TagResource, UntagResource, ListTagsForResource (semantics 8)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError

from fsx_emulator.client import Emulator

ClientErrorOf = Callable[..., ClientError]


def arns(fsx: Emulator) -> dict[str, str]:
    client = fsx.client()
    file_system_id = fsx.create_file_system()
    volume_id = fsx.create_ontap_volume()
    backup = client.create_backup(FileSystemId=file_system_id)["Backup"]
    return {
        "backup": backup["ResourceARN"],
        "file system": backup["FileSystem"]["ResourceARN"],
        "volume": client.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]["ResourceARN"],
    }


@pytest.mark.parametrize("kind", ["backup", "file system", "volume"])
def test_tag_untag_list(fsx: Emulator, kind: str) -> None:
    client = fsx.client()
    arn = arns(fsx)[kind]
    client.tag_resource(
        ResourceARN=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    )
    client.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "3"}])
    assert client.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "a", "Value": "3"},
        {"Key": "b", "Value": "2"},
    ]
    client.untag_resource(ResourceARN=arn, TagKeys=["a", "not-there"])
    assert client.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "b", "Value": "2"}]


def test_tags_show_in_descriptions(fsx: Emulator) -> None:
    client = fsx.client()
    backup_arn = arns(fsx)["backup"]
    client.tag_resource(ResourceARN=backup_arn, Tags=[{"Key": "Name", "Value": "renamed"}])
    assert client.describe_backups()["Backups"][0]["Tags"] == [{"Key": "Name", "Value": "renamed"}]


def test_unknown_or_deleted_resource(fsx: Emulator, client_error: ClientErrorOf) -> None:
    client = fsx.client()
    backup_arn = arns(fsx)["backup"]
    client.delete_backup(BackupId=backup_arn.rsplit("/", 1)[1])
    unknown = "arn:aws:fsx:us-east-1:123456789012:backup/backup-0123456789abcdef0"
    for arn in (backup_arn, unknown):
        for call, kwargs in (
            (client.tag_resource, {"Tags": [{"Key": "k", "Value": "v"}]}),
            (client.untag_resource, {"TagKeys": ["k"]}),
            (client.list_tags_for_resource, {}),
        ):
            error = client_error(call, ResourceARN=arn, **kwargs)
            assert error.response["Error"]["Code"] == "ResourceNotFound"
            assert dict(error.response)["ResourceARN"] == arn


@pytest.mark.parametrize(
    ("tags", "keys"),
    [
        ([{"Key": "aws:cloudformation:stack", "Value": "x"}], None),
        ([{"Key": "k" * 129, "Value": "x"}], None),
        ([{"Key": "k", "Value": "v" * 257}], None),
        ([{"Key": "semi;colon", "Value": "x"}], None),
        (None, ["AWS:reserved"]),
        (None, ["k" * 129]),
    ],
)
def test_tag_rules(
    fsx: Emulator,
    client_error: ClientErrorOf,
    tags: list[dict[str, str]] | None,
    keys: list[str] | None,
) -> None:
    client = fsx.client()
    arn = arns(fsx)["backup"]
    if tags is not None:
        error = client_error(client.tag_resource, ResourceARN=arn, Tags=tags)
    else:
        error = client_error(client.untag_resource, ResourceARN=arn, TagKeys=keys)
    assert error.response["Error"]["Code"] == "BadRequest"


def test_at_most_fifty_tags_per_resource(fsx: Emulator, client_error: ClientErrorOf) -> None:
    client = fsx.client()
    arn = arns(fsx)["file system"]
    client.tag_resource(ResourceARN=arn, Tags=[{"Key": f"k{i}", "Value": ""} for i in range(50)])
    error = client_error(
        client.tag_resource, ResourceARN=arn, Tags=[{"Key": "one-more", "Value": ""}]
    )
    assert error.response["Error"]["Code"] == "BadRequest"
    assert len(client.list_tags_for_resource(ResourceARN=arn)["Tags"]) == 50


def test_malformed_arn(fsx: Emulator, client_error: ClientErrorOf) -> None:
    error = client_error(fsx.client().list_tags_for_resource, ResourceARN="arn:aws:s3:::bucket")
    assert error.response["Error"]["Code"] == "BadRequest"
    assert "ResourceARN" in error.response["Error"]["Message"]
