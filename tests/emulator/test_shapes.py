"""Backup descriptions have the full shape, and every response fits the model (semantics 5).

Each response any test in this directory receives through the shared client is checked
against the FSx model by conftest.py; these tests check what the model cannot say.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import botocore.session
from botocore.model import OperationModel

from fsx_emulator.client import Emulator

BACKUP_ARN = re.compile(r"arn:aws:fsx:us-east-1:123456789012:backup/backup-[0-9a-f]{17}")
FSX_MODEL = botocore.session.get_session().get_service_model("fsx")

Violations = Callable[[OperationModel, int, Any], list[str]]


def test_file_system_backup_description(fsx: Emulator) -> None:
    client = fsx.client()
    file_system_id = fsx.create_file_system(tags={"Name": "fs"}, copy_tags_to_backups=True)
    backup: dict[str, Any] = dict(client.create_backup(FileSystemId=file_system_id)["Backup"])
    assert BACKUP_ARN.fullmatch(backup["ResourceARN"])
    assert backup["ResourceARN"].endswith(backup["BackupId"])
    assert backup["Lifecycle"] == "AVAILABLE"
    assert backup["Type"] == "USER_INITIATED"
    assert backup["OwnerId"] == "123456789012"
    assert backup["KmsKeyId"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert backup["ProgressPercent"] == 100
    assert backup["ResourceType"] == "FILE_SYSTEM"
    assert isinstance(backup["CreationTime"], datetime)
    assert backup["Tags"] == [{"Key": "Name", "Value": "fs"}]
    assert backup["FileSystem"] == client.describe_file_systems()["FileSystems"][0]
    assert "Volume" not in backup
    assert client.describe_backups()["Backups"] == [backup]


def test_volume_backup_description(fsx: Emulator) -> None:
    client = fsx.client()
    volume_id = fsx.create_ontap_volume(name="data")
    backup = client.create_backup(VolumeId=volume_id)["Backup"]
    assert BACKUP_ARN.fullmatch(backup["ResourceARN"])
    assert backup["ResourceType"] == "VOLUME"
    assert backup["Volume"] == client.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
    assert backup["FileSystem"]["FileSystemId"] == backup["Volume"]["FileSystemId"]
    assert backup["FileSystem"]["FileSystemType"] == "ONTAP"


def test_the_model_check_notices_departures(model_violations: Violations) -> None:
    create_backup = FSX_MODEL.operation_model("CreateBackup")
    assert model_violations(create_backup, 200, {"Backup": {"BackupId": "backup-0123456789"}})
    assert model_violations(create_backup, 200, {"Backup": {"Unknown": 1}})
    assert model_violations(create_backup, 400, {"__type": "BackupNotFound", "Message": "x"})
    assert not model_violations(create_backup, 400, {"__type": "VolumeNotFound", "Message": "x"})
