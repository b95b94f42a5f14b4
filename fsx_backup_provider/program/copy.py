"""FsxBackupCopy as a program declares it: its Args, the resource class, its registration.

Its provider (check, create, read, update, delete) is providers/copy.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import Resource

from fsx_backup_provider.core.constants import (
    FSX_BACKUP_COPY_NAME,
    FSX_BACKUP_COPY_TYPE,
    RESOURCE_MODULE,
)
from fsx_backup_provider.program import preview
from fsx_backup_provider.program.registration import merged, register
from fsx_backup_provider.providers.copy import OUTPUT_KEYS, FsxBackupCopyProvider


def _derived(inputs: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Outputs that hold an input's value under another name (registration.secret_outputs).

    A copy describes its source: its file system or volume, and with
    copy_tags the source's tags, which may be secrets of the source's own.
    """
    from_source: tuple[str, ...] = ("file_system_id", "volume_id")
    if inputs.get("copy_tags") not in (None, False):
        from_source += ("tags", "tags_all")
    return {
        "client_request_token": ("given",),
        "region": ("given", "arn"),
        "source_region": ("given",),
        "kms_key_id": ("given",),
        "source_backup_id": from_source,
    }


@dataclass
class FsxBackupCopyArgs:
    """The inputs of an FsxBackupCopy.

    `source_backup_id` is the backup to copy, in `source_region` (None: the
    copy's own Region, an in-Region copy). The copy is made in `region` (None:
    `aws:region`, then the AWS environment). Changing any of source_backup_id,
    source_region, region, kms_key_id or copy_tags replaces the copy; `tags`
    change in place.

    Inputs:
        source_backup_id: the backup to copy, `backup-...` (required); the
            second positional argument, or `FsxBackupCopyArgs(source_backup_id=...)`
        source_region: where the source backup is (default: the copy's Region,
            an in-Region copy)
        region: where the copy is made (default: `aws:region`, then the AWS
            environment)
        kms_key_id: the KMS key that encrypts the copy (default: the
            destination Region's FSx key)
        copy_tags: copy the source's tags onto the copy (default: False);
            `tags` are added and win on a key conflict; the copied tags are not
            fought over later unless declared
        tags: as FsxBackup's, changed in place
        client_request_token: as FsxBackup's; changing it replaces the copy
        wait_for_available: as FsxBackup's (default: True)
        create_timeout_seconds: as FsxBackup's (default: 1800); also bounds the
            wait for a copy slot (five copies to a Region at a time)
        delete_timeout_seconds: as FsxBackup's (default: 1800)
    """

    source_backup_id: pulumi.Input[str] | None = None
    source_region: pulumi.Input[str] | None = None
    region: pulumi.Input[str] | None = None
    kms_key_id: pulumi.Input[str] | None = None
    copy_tags: pulumi.Input[bool] | None = None
    tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    client_request_token: pulumi.Input[str] | None = None
    # None means the provider's default: wait, 1800 s each.
    wait_for_available: pulumi.Input[bool] | None = None
    create_timeout_seconds: pulumi.Input[float] | None = None
    delete_timeout_seconds: pulumi.Input[float] | None = None


class FsxBackupCopy(Resource, module=RESOURCE_MODULE, name=FSX_BACKUP_COPY_NAME):
    """A copy of an Amazon FSx backup, in another Region or the same one.

    Created with a stable ClientRequestToken, like FsxBackup, so an
    interrupted or retried create never leaves a second copy; then waited on
    until AVAILABLE. At most five copies to one Region are in progress at a
    time (FSx's limit); the rest queue in the provider.

    Outputs:
        backup_id: the copy's backup ID, `backup-...` (also the resource's ID)
        arn: the copy's ARN
        source_backup_id: the backup it is a copy of
        source_region: the Region of that backup
        region: the Region the copy is in
        kms_key_id: the KMS key that encrypts the copy
        tags: the live tags, less the `aws:defaultTags` ones
        tags_all: the live tags
        lifecycle: FSx's lifecycle of the copy (AVAILABLE, COPYING, ...)
        type: USER_INITIATED (a copy is always one)
        resource_type: FILE_SYSTEM or VOLUME, as its source's
        file_system_id: the file system of its source (a secret when the source
            is another resource's output)
        volume_id: the ONTAP volume of its source (likewise)
        owner_id: the AWS account that owns the copy
        creation_time: when FSx made the copy, ISO 8601
        client_request_token: the ClientRequestToken the copy was made with
    """

    backup_id: pulumi.Output[str]
    arn: pulumi.Output[str]
    source_backup_id: pulumi.Output[str]
    source_region: pulumi.Output[str]
    region: pulumi.Output[str]
    kms_key_id: pulumi.Output[str]
    tags: pulumi.Output[dict[str, str]]
    tags_all: pulumi.Output[dict[str, str]]
    lifecycle: pulumi.Output[str]
    type: pulumi.Output[str]
    resource_type: pulumi.Output[str]
    file_system_id: pulumi.Output[str | None]
    volume_id: pulumi.Output[str | None]
    owner_id: pulumi.Output[str]
    creation_time: pulumi.Output[str]
    client_request_token: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        source_backup_id: pulumi.Input[str] | FsxBackupCopyArgs | None = None,
        source_region: pulumi.Input[str] | None = None,
        region: pulumi.Input[str] | None = None,
        kms_key_id: pulumi.Input[str] | None = None,
        copy_tags: pulumi.Input[bool] | None = None,
        tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        client_request_token: pulumi.Input[str] | None = None,
        wait_for_available: pulumi.Input[bool] | None = None,
        create_timeout_seconds: pulumi.Input[float] | None = None,
        delete_timeout_seconds: pulumi.Input[float] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if isinstance(source_backup_id, FsxBackupCopyArgs):
            base, source_backup_id = source_backup_id, None
        else:
            base = FsxBackupCopyArgs()
        inputs = merged(
            base,
            source_backup_id=source_backup_id,
            source_region=source_region,
            region=region,
            kms_key_id=kms_key_id,
            copy_tags=copy_tags,
            tags=tags,
            client_request_token=client_request_token,
            wait_for_available=wait_for_available,
            create_timeout_seconds=create_timeout_seconds,
            delete_timeout_seconds=delete_timeout_seconds,
        )
        register(
            self,
            FsxBackupCopyProvider(),
            FSX_BACKUP_COPY_TYPE,
            resource_name,
            opts,
            inputs,
            OUTPUT_KEYS,
            _derived(inputs),
        )

    @staticmethod
    def get(
        resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
    ) -> FsxBackupCopy:
        """Look up an existing copy by its ID (backup-...) in the Region of `aws:region`."""
        return FsxBackupCopy(
            resource_name, opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        )


# At preview, the outputs an in-place update keeps stay known (preview.py).
preview.install(FsxBackupCopy, OUTPUT_KEYS)
