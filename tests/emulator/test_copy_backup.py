"""CopyBackup: in-Region and cross-Region copies in one emulator process (docs/emulator.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fsx_emulator.client import Emulator

ClientErrorOf = Callable[..., ClientError]
HOME = "us-east-1"


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def tags_of(backup: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in backup.get("Tags", [])}


def source_backup(fsx: Emulator, region: str = HOME, **create: Any) -> dict[str, Any]:
    """An AVAILABLE backup of a new Lustre file system in `region`."""
    file_system_id = fsx.create_file_system(region=region)
    backup: dict[str, Any] = fsx.client(region=region).create_backup(
        FileSystemId=file_system_id, **create
    )["Backup"]
    assert backup["Lifecycle"] == "AVAILABLE"
    return backup


def describe(fsx: Emulator, backup_id: str, region: str = HOME) -> dict[str, Any]:
    found: dict[str, Any] = fsx.client(region=region).describe_backups(BackupIds=[backup_id])[
        "Backups"
    ][0]
    return found


def code_of(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


# ---- where the copy lives and what it says ----------------------------------------------


def test_in_region_copy_describes_its_source(fsx: Emulator) -> None:
    source = source_backup(fsx)
    created_after = time.time()
    copy = fsx.client().copy_backup(SourceBackupId=source["BackupId"])["Backup"]

    assert copy["BackupId"] != source["BackupId"]
    assert (copy["SourceBackupId"], copy["SourceBackupRegion"]) == (source["BackupId"], HOME)
    assert copy["Lifecycle"] == "AVAILABLE"
    for same in ("FileSystem", "ResourceType", "OwnerId", "Type", "KmsKeyId"):
        assert copy[same] == source[same], same
    assert copy["ResourceARN"] == (
        f"arn:aws:fsx:{HOME}:{source['OwnerId']}:backup/{copy['BackupId']}"
    )
    assert copy["CreationTime"].timestamp() >= created_after - 1
    assert "Volume" not in copy
    assert describe(fsx, copy["BackupId"]) == copy
    listed = {backup["BackupId"] for backup in fsx.client().describe_backups()["Backups"]}
    assert listed == {source["BackupId"], copy["BackupId"]}


def test_cross_region_copy_lives_in_the_destination_region(
    fsx: Emulator, other_region: str, client_error: ClientErrorOf
) -> None:
    source = source_backup(fsx)
    destination = fsx.client(region=other_region)
    copy = destination.copy_backup(SourceBackupId=source["BackupId"], SourceRegion=HOME)["Backup"]

    assert (copy["SourceBackupId"], copy["SourceBackupRegion"]) == (source["BackupId"], HOME)
    assert copy["ResourceARN"].startswith(f"arn:aws:fsx:{other_region}:")
    assert copy["FileSystem"] == source["FileSystem"]
    # Without KmsKeyId the copy is encrypted with the destination Region's default key.
    assert copy["KmsKeyId"] != source["KmsKeyId"]
    assert copy["KmsKeyId"].startswith(f"arn:aws:kms:{other_region}:")
    other_file_system = fsx.create_file_system(region=other_region)
    [other_fs] = destination.describe_file_systems(FileSystemIds=[other_file_system])["FileSystems"]
    assert copy["KmsKeyId"] == other_fs["KmsKeyId"]

    assert [b["BackupId"] for b in destination.describe_backups()["Backups"]] == [copy["BackupId"]]
    assert [b["BackupId"] for b in fsx.client().describe_backups()["Backups"]] == [
        source["BackupId"]
    ]
    not_here = client_error(fsx.client().describe_backups, BackupIds=[copy["BackupId"]])
    assert code_of(not_here) == "BackupNotFound"


def test_copy_of_a_volume_backup_carries_the_volume(fsx: Emulator, other_region: str) -> None:
    volume_id = fsx.create_ontap_volume()
    source = fsx.client().create_backup(VolumeId=volume_id)["Backup"]
    copy = fsx.client(region=other_region).copy_backup(
        SourceBackupId=source["BackupId"], SourceRegion=HOME
    )["Backup"]
    assert copy["ResourceType"] == "VOLUME"
    assert copy["Volume"] == source["Volume"]
    assert copy["Volume"]["VolumeId"] == volume_id
    assert copy["FileSystem"] == source["FileSystem"]


def test_kms_key_is_carried_and_must_be_of_the_destination_region(
    fsx: Emulator, other_region: str, client_error: ClientErrorOf
) -> None:
    source = source_backup(fsx)
    destination = fsx.client(region=other_region)
    key = f"arn:aws:kms:{other_region}:123456789012:key/0b1c2d3e-aaaa-bbbb-cccc-000000000001"
    copy = destination.copy_backup(
        SourceBackupId=source["BackupId"], SourceRegion=HOME, KmsKeyId=key
    )["Backup"]
    assert copy["KmsKeyId"] == key
    assert describe(fsx, copy["BackupId"], other_region)["KmsKeyId"] == key

    source_region_key = f"arn:aws:kms:{HOME}:123456789012:key/0b1c2d3e-aaaa-bbbb-cccc-000000000002"
    error = client_error(
        destination.copy_backup,
        SourceBackupId=source["BackupId"],
        SourceRegion=HOME,
        KmsKeyId=source_region_key,
    )
    assert code_of(error) == "InvalidDestinationKmsKey"
    assert other_region in error.response["Error"]["Message"]


# ---- Regions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_region", "code"),
    [
        ("xx-nowhere-1", "InvalidRegion"),  # no such Region
        ("cn-north-1", "InvalidRegion"),  # a Region of another partition
        ("Not_A_Region", "BadRequest"),  # outside the model's Region pattern
    ],
)
def test_source_region_must_be_a_region_of_the_same_partition(
    fsx: Emulator, client_error: ClientErrorOf, source_region: str, code: str
) -> None:
    source = source_backup(fsx)
    error = client_error(
        fsx.client().copy_backup, SourceBackupId=source["BackupId"], SourceRegion=source_region
    )
    assert code_of(error) == code
    assert "SourceRegion" in error.response["Error"]["Message"]
    assert len(fsx.client().describe_backups()["Backups"]) == 1


def test_source_must_exist_in_the_source_region(
    fsx: Emulator, other_region: str, client_error: ClientErrorOf
) -> None:
    source = source_backup(fsx)
    destination = fsx.client(region=other_region)
    unknown = client_error(
        destination.copy_backup, SourceBackupId="backup-0123456789abcdef0", SourceRegion=HOME
    )
    assert code_of(unknown) == "BackupNotFound"
    # The source is in HOME; asking for it in other_region (an in-Region copy there) misses.
    elsewhere = client_error(destination.copy_backup, SourceBackupId=source["BackupId"])
    assert code_of(elsewhere) == "BackupNotFound"
    assert other_region in elsewhere.response["Error"]["Message"]
    fsx.client().delete_backup(BackupId=source["BackupId"])
    deleted = client_error(
        destination.copy_backup, SourceBackupId=source["BackupId"], SourceRegion=HOME
    )
    assert code_of(deleted) == "BackupNotFound"


def test_source_must_be_available(fsx: Emulator, client_error: ClientErrorOf) -> None:
    fsx.set_faults(backup_seconds=30)
    client = fsx.client()
    creating = client.create_backup(FileSystemId=fsx.create_file_system())["Backup"]
    error = client_error(client.copy_backup, SourceBackupId=creating["BackupId"])
    assert code_of(error) == "SourceBackupUnavailable"
    assert dict(error.response)["BackupId"] == creating["BackupId"]
    assert "CREATING" in error.response["Error"]["Message"]

    fsx.set_faults(backup_seconds=0)
    file_system_id = fsx.create_file_system()
    fsx.set_faults(fail_next_backups={file_system_id: "broken"})
    failed = client.create_backup(FileSystemId=file_system_id)["Backup"]
    assert failed["Lifecycle"] == "FAILED"
    error = client_error(client.copy_backup, SourceBackupId=failed["BackupId"])
    assert code_of(error) == "SourceBackupUnavailable"
    assert [b["BackupId"] for b in client.describe_backups()["Backups"]] == [
        creating["BackupId"],
        failed["BackupId"],
    ]


# ---- tags ------------------------------------------------------------------------------


def test_copy_tags_merges_source_tags_with_tags_winning(fsx: Emulator, other_region: str) -> None:
    source = source_backup(fsx, Tags=tag_list({"Name": "nightly", "team": "storage"}))
    copy = fsx.client(region=other_region).copy_backup(
        SourceBackupId=source["BackupId"],
        SourceRegion=HOME,
        CopyTags=True,
        Tags=tag_list({"Name": "dr-copy", "purpose": "dr"}),
    )["Backup"]
    expected = {"Name": "dr-copy", "team": "storage", "purpose": "dr"}
    assert tags_of(copy) == expected
    listed = fsx.client(region=other_region).list_tags_for_resource(
        ResourceARN=copy["ResourceARN"]
    )["Tags"]
    assert tags_of({"Tags": listed}) == expected
    # The source keeps its own tags.
    assert tags_of(describe(fsx, source["BackupId"])) == {"Name": "nightly", "team": "storage"}


def test_copy_tags_alone_copies_the_source_tags(fsx: Emulator) -> None:
    source = source_backup(fsx, Tags=tag_list({"Name": "nightly"}))
    copy = fsx.client().copy_backup(SourceBackupId=source["BackupId"], CopyTags=True)["Backup"]
    assert tags_of(copy) == {"Name": "nightly"}


@pytest.mark.parametrize("copy_tags", [False, None])
def test_without_copy_tags_only_the_given_tags(fsx: Emulator, copy_tags: bool | None) -> None:
    source = source_backup(fsx, Tags=tag_list({"Name": "nightly"}))
    request: dict[str, Any] = {"SourceBackupId": source["BackupId"]}
    if copy_tags is not None:
        request["CopyTags"] = copy_tags
    assert tags_of(fsx.client().copy_backup(**request)["Backup"]) == {}
    request["Tags"] = tag_list({"purpose": "clone"})
    assert tags_of(fsx.client().copy_backup(**request)["Backup"]) == {"purpose": "clone"}


def test_more_than_50_merged_tags_is_bad_request(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    source = source_backup(fsx, Tags=tag_list({f"source-{i}": "s" for i in range(30)}))
    client = fsx.client()
    # 30 + 21, one key shared: 50 tags, allowed.
    shared = {"source-0": "mine", **{f"new-{i}": "n" for i in range(20)}}
    allowed = client.copy_backup(
        SourceBackupId=source["BackupId"], CopyTags=True, Tags=tag_list(shared)
    )["Backup"]
    assert len(tags_of(allowed)) == 50
    too_many = {f"new-{i}": "n" for i in range(21)}
    error = client_error(
        client.copy_backup,
        SourceBackupId=source["BackupId"],
        CopyTags=True,
        Tags=tag_list(too_many),
    )
    assert code_of(error) == "BadRequest"
    assert "51" in error.response["Error"]["Message"]
    # Without CopyTags the same Tags fit.
    fine = client.copy_backup(SourceBackupId=source["BackupId"], Tags=tag_list(too_many))["Backup"]
    assert len(tags_of(fine)) == 21


# ---- idempotency -----------------------------------------------------------------------


def test_same_token_same_parameters_returns_the_same_copy_as_it_is_now(
    fsx: Emulator, other_region: str
) -> None:
    source = source_backup(fsx)
    fsx.set_faults(copy_seconds=5)
    fsx.freeze_clock()
    destination = fsx.client(region=other_region)
    tags = [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    first = destination.copy_backup(
        SourceBackupId=source["BackupId"], SourceRegion=HOME, ClientRequestToken="copy-1", Tags=tags
    )["Backup"]
    assert first["Lifecycle"] == "PENDING"
    fsx.advance_clock(5)
    again = destination.copy_backup(
        SourceBackupId=source["BackupId"],
        SourceRegion=HOME,
        ClientRequestToken="copy-1",
        Tags=list(reversed(tags)),
    )["Backup"]
    assert again["BackupId"] == first["BackupId"]
    assert again["Lifecycle"] == "AVAILABLE"
    assert len(destination.describe_backups()["Backups"]) == 1


def test_omitted_source_region_and_kms_key_equal_their_defaults(fsx: Emulator) -> None:
    source = source_backup(fsx)
    client = fsx.client()
    first = client.copy_backup(SourceBackupId=source["BackupId"], ClientRequestToken="t")["Backup"]
    again = client.copy_backup(
        SourceBackupId=source["BackupId"],
        SourceRegion=HOME,
        KmsKeyId=first["KmsKeyId"],
        CopyTags=False,
        ClientRequestToken="t",
    )["Backup"]
    assert again["BackupId"] == first["BackupId"]


@pytest.mark.parametrize("change", ["source", "tags", "copy tags", "kms key", "source region"])
def test_same_token_different_parameters(
    fsx: Emulator, other_region: str, client_error: ClientErrorOf, change: str
) -> None:
    source, other_source = source_backup(fsx), source_backup(fsx)
    destination = fsx.client(region=other_region)
    first: dict[str, Any] = {
        "SourceBackupId": source["BackupId"],
        "SourceRegion": HOME,
        "ClientRequestToken": "t" * 63,
        "Tags": [{"Key": "Name", "Value": "a"}],
    }
    destination.copy_backup(**first)
    second = dict(first)
    if change == "source":
        second["SourceBackupId"] = other_source["BackupId"]
    elif change == "tags":
        second["Tags"] = [{"Key": "Name", "Value": "b"}]
    elif change == "copy tags":
        second["CopyTags"] = True
    elif change == "kms key":
        second["KmsKeyId"] = f"arn:aws:kms:{other_region}:123456789012:key/other"
    else:
        in_other_region = source_backup(fsx, region=other_region)
        second.update(SourceBackupId=in_other_region["BackupId"], SourceRegion=other_region)
    error = client_error(destination.copy_backup, **second)
    assert code_of(error) == "IncompatibleParameterError"
    assert dict(error.response)["Parameter"] == "ClientRequestToken"
    copies = [b for b in destination.describe_backups()["Backups"] if "SourceBackupId" in b]
    assert len(copies) == 1


def test_token_outlives_its_deleted_copy(fsx: Emulator) -> None:
    source = source_backup(fsx)
    client = fsx.client()
    copy_id = client.copy_backup(SourceBackupId=source["BackupId"], ClientRequestToken="keep")[
        "Backup"
    ]["BackupId"]
    client.delete_backup(BackupId=copy_id)
    again = client.copy_backup(SourceBackupId=source["BackupId"], ClientRequestToken="keep")[
        "Backup"
    ]
    assert (again["BackupId"], again["Lifecycle"]) == (copy_id, "DELETED")
    assert [b["BackupId"] for b in client.describe_backups()["Backups"]] == [source["BackupId"]]


def test_tokens_are_per_destination_region(fsx: Emulator, other_region: str) -> None:
    source = source_backup(fsx)
    request = {"SourceBackupId": source["BackupId"], "SourceRegion": HOME}
    here = fsx.client().copy_backup(ClientRequestToken="shared", **request)["Backup"]
    there = fsx.client(region=other_region).copy_backup(ClientRequestToken="shared", **request)[
        "Backup"
    ]
    assert here["BackupId"] != there["BackupId"]
    assert here["ResourceARN"].split(":")[3] == HOME
    assert there["ResourceARN"].split(":")[3] == other_region


def test_create_backup_and_copy_backup_share_a_regions_tokens(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    source = source_backup(fsx, ClientRequestToken="one-token")
    error = client_error(
        fsx.client().copy_backup, SourceBackupId=source["BackupId"], ClientRequestToken="one-token"
    )
    assert code_of(error) == "IncompatibleParameterError"
    assert "CreateBackup" in error.response["Error"]["Message"]


# ---- lifecycle -------------------------------------------------------------------------


def test_copy_is_pending_then_copying_with_rising_progress_then_available(
    fsx: Emulator, other_region: str
) -> None:
    source = source_backup(fsx)
    fsx.set_faults(copy_seconds=10)
    fsx.freeze_clock()
    copy = fsx.client(region=other_region).copy_backup(
        SourceBackupId=source["BackupId"], SourceRegion=HOME
    )["Backup"]
    assert (copy["Lifecycle"], copy["ProgressPercent"]) == ("PENDING", 0)

    def after(seconds: float) -> tuple[str, int]:
        fsx.advance_clock(seconds)
        seen = describe(fsx, copy["BackupId"], other_region)
        return seen["Lifecycle"], seen["ProgressPercent"]

    # PENDING for COPY_PENDING_SHARE (a fifth) of the copy time, then COPYING over the
    # remaining 8 seconds with progress rising, never 100 until AVAILABLE.
    assert after(1.99) == ("PENDING", 0)
    assert after(0.01) == ("COPYING", 0)
    assert after(2) == ("COPYING", 25)
    assert after(4) == ("COPYING", 75)
    assert after(1.99) == ("COPYING", 99)
    assert after(0.01) == ("AVAILABLE", 100)


def test_copy_seconds_follows_backup_seconds_unless_set(fsx: Emulator) -> None:
    assert fsx.faults()["copy_seconds"] == 0
    assert fsx.set_faults(backup_seconds=4)["copy_seconds"] == 4
    assert fsx.set_faults(copy_seconds=1.5)["copy_seconds"] == 1.5
    assert fsx.set_faults(backup_seconds=5)["copy_seconds"] == 1.5
    fsx.reset()
    assert fsx.faults()["copy_seconds"] == 0


def test_injected_copy_failure_ends_failed(fsx: Emulator, other_region: str) -> None:
    source = source_backup(fsx)
    fsx.set_faults(copy_seconds=3, fail_next_copies={source["BackupId"]: "copy broke"})
    fsx.freeze_clock()
    assert fsx.faults()["fail_next_copies"] == {source["BackupId"]: "copy broke"}
    destination = fsx.client(region=other_region)
    copy = destination.copy_backup(SourceBackupId=source["BackupId"], SourceRegion=HOME)["Backup"]
    assert copy["Lifecycle"] == "PENDING"
    assert "FailureDetails" not in copy
    fsx.advance_clock(3)
    failed = describe(fsx, copy["BackupId"], other_region)
    assert (failed["Lifecycle"], failed["ProgressPercent"]) == ("FAILED", 0)
    assert failed["FailureDetails"] == {"Message": "copy broke"}
    # Only the next copy fails; a failed copy no longer holds its source.
    assert fsx.faults()["fail_next_copies"] == {}
    fsx.set_faults(copy_seconds=0)
    retried = destination.copy_backup(SourceBackupId=source["BackupId"], SourceRegion=HOME)
    assert retried["Backup"]["Lifecycle"] == "AVAILABLE"
    fsx.client().delete_backup(BackupId=source["BackupId"])


# ---- five copies in progress per destination Region ------------------------------------


def test_at_most_five_copies_in_progress_to_one_region(
    fsx: Emulator, other_region: str, client_error: ClientErrorOf
) -> None:
    sources = [source_backup(fsx)["BackupId"] for _ in range(3)]
    destination = fsx.client(region=other_region)
    fsx.freeze_clock()
    fsx.set_faults(copy_seconds=1.0)
    first = destination.copy_backup(
        SourceBackupId=sources[0], SourceRegion=HOME, ClientRequestToken="first"
    )["Backup"]
    fsx.set_faults(copy_seconds=60)
    for index in range(4):
        destination.copy_backup(SourceBackupId=sources[index % 3], SourceRegion=HOME)

    error = client_error(destination.copy_backup, SourceBackupId=sources[1], SourceRegion=HOME)
    assert code_of(error) == "ServiceLimitExceeded"
    assert dict(error.response)["Limit"] == "TOTAL_IN_PROGRESS_COPY_BACKUPS"
    assert other_region in error.response["Error"]["Message"]
    # A retry of a copy already made is not a new request.
    again = destination.copy_backup(
        SourceBackupId=sources[0], SourceRegion=HOME, ClientRequestToken="first"
    )["Backup"]
    assert again["BackupId"] == first["BackupId"]
    # The limit is per destination Region: copies into HOME are still accepted.
    assert fsx.client().copy_backup(SourceBackupId=sources[2])["Backup"]["Lifecycle"] == "PENDING"

    fsx.advance_clock(1)
    assert describe(fsx, first["BackupId"], other_region)["Lifecycle"] == "AVAILABLE"
    sixth = destination.copy_backup(SourceBackupId=sources[1], SourceRegion=HOME)["Backup"]
    assert sixth["Lifecycle"] == "PENDING"
    error = client_error(destination.copy_backup, SourceBackupId=sources[2], SourceRegion=HOME)
    assert code_of(error) == "ServiceLimitExceeded"


# ---- deleting while copying ------------------------------------------------------------


def test_source_being_copied_cannot_be_deleted(
    fsx: Emulator, other_region: str, client_error: ClientErrorOf
) -> None:
    source = source_backup(fsx)
    fsx.set_faults(copy_seconds=6)
    fsx.freeze_clock()
    destination = fsx.client(region=other_region)
    copy = destination.copy_backup(SourceBackupId=source["BackupId"], SourceRegion=HOME)["Backup"]

    error = client_error(fsx.client().delete_backup, BackupId=source["BackupId"])
    assert code_of(error) == "BackupBeingCopied"
    assert dict(error.response)["BackupId"] == source["BackupId"]
    assert copy["BackupId"] in error.response["Error"]["Message"]
    in_progress = client_error(destination.delete_backup, BackupId=copy["BackupId"])
    assert code_of(in_progress) == "BackupInProgress"

    fsx.advance_clock(6)
    assert fsx.client().delete_backup(BackupId=source["BackupId"])["Lifecycle"] == "DELETED"
    # The copy outlives its source.
    assert describe(fsx, copy["BackupId"], other_region)["SourceBackupId"] == source["BackupId"]
    assert destination.delete_backup(BackupId=copy["BackupId"])["Lifecycle"] == "DELETED"


# ---- DescribeBackups and counters ------------------------------------------------------


def test_filters_match_copies_as_backups(fsx: Emulator, other_region: str) -> None:
    file_system_id = fsx.create_file_system(type="OPENZFS")
    volume_id = fsx.create_ontap_volume()
    client = fsx.client()
    fs_backup = client.create_backup(FileSystemId=file_system_id)["Backup"]
    volume_backup = client.create_backup(VolumeId=volume_id)["Backup"]
    destination = fsx.client(region=other_region)
    fs_copy, volume_copy = (
        destination.copy_backup(SourceBackupId=backup["BackupId"], SourceRegion=HOME)["Backup"][
            "BackupId"
        ]
        for backup in (fs_backup, volume_backup)
    )

    def matching(name: str, value: str) -> set[str]:
        found = destination.describe_backups(Filters=[{"Name": name, "Values": [value]}])
        return {backup["BackupId"] for backup in found["Backups"]}

    assert matching("file-system-id", file_system_id) == {fs_copy}
    assert matching("volume-id", volume_id) == {volume_copy}
    assert matching("file-system-type", "OPENZFS") == {fs_copy}
    assert matching("file-system-type", "ONTAP") == {volume_copy}
    assert matching("backup-type", "USER_INITIATED") == {fs_copy, volume_copy}
    assert matching("backup-type", "AUTOMATIC") == set()


def test_calls_count_copy_backup(
    fsx: Emulator, other_region: str, client_error: ClientErrorOf
) -> None:
    source = source_backup(fsx)
    before = fsx.calls()
    fsx.client(region=other_region).copy_backup(
        SourceBackupId=source["BackupId"], SourceRegion=HOME
    )
    client_error(fsx.client().copy_backup, SourceBackupId="backup-0123456789abcdef0")
    after = fsx.calls()
    assert after.get("CopyBackup", 0) - before.get("CopyBackup", 0) == 2
    assert after["_total"] - before["_total"] == 2
