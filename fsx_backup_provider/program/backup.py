"""FsxBackup: the typed Pulumi resource users declare."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi.dynamic import Resource

from fsx_backup_provider.core.constants import FSX_BACKUP_NAME, FSX_BACKUP_TYPE, RESOURCE_MODULE
from fsx_backup_provider.program import preview
from fsx_backup_provider.program.registration import merged, register
from fsx_backup_provider.providers.backup import FsxBackupProvider

# Outputs that hold an input's value under another name: secret if it may be.
# The token and Region as declared are kept under `given`; the ARN names the Region.
DERIVED_OUTPUTS = {"client_request_token": ("given",), "region": ("given", "arn")}
# Every output a user can read must be a key of the registered properties;
# inputs that are also outputs are listed once, in __init__.
OUTPUT_KEYS = (
    "backup_id",
    "arn",
    "file_system_id",
    "volume_id",
    "tags",
    "tags_all",
    "lifecycle",
    "type",
    "resource_type",
    "owner_id",
    "kms_key_id",
    "creation_time",
    "client_request_token",
    "region",
)


@dataclass
class FsxBackupArgs:
    """The inputs of an FsxBackup; names follow pulumi-aws's `aws.fsx.Backup`.

    Exactly one of `file_system_id` (Windows, Lustre, OpenZFS) or `volume_id`
    (an ONTAP volume) is set. Changing either, or `region`, replaces the backup;
    `tags` change in place.

    Inputs:
        file_system_id: the file system to back up; exactly one of this or
            `volume_id`; changing it replaces the backup
        volume_id: the ONTAP volume to back up; changing it replaces the backup
        tags: tags of the backup (default: none), changed in place
            (TagResource/UntagResource of exactly the changed keys); merged over
            `aws:defaultTags`. Declared with no tags (and no default tags), a
            backup keeps the tags FSx copies from a source with
            CopyTagsToBackups, and the provider does not fight them. A
            backup created with tags (fewer than 50) also carries the
            provider's `fsx-backup:stack` tag (which stack made it; never an
            output, never removed)
        client_request_token: the idempotency token (default: derived from the
            stack's seed); 1 to 63 characters of FSx's pattern, used exactly as
            given; changing it replaces the backup (a token names one backup)
        wait_for_available: wait for AVAILABLE on create (default: True)
        create_timeout_seconds: how long a create may take in all (default:
            1800): queued behind other backups of the same source, waiting out
            BackupInProgress, and waiting for AVAILABLE
        delete_timeout_seconds: how long a delete waits for the backup to be
            gone (default: 1800)
        region: the backup's Region (default: `aws:region`, then the AWS
            environment); changing it replaces the backup
    """

    file_system_id: pulumi.Input[str] | None = None
    volume_id: pulumi.Input[str] | None = None
    tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    client_request_token: pulumi.Input[str] | None = None
    # None means the provider's default: wait, 1800 s each.
    wait_for_available: pulumi.Input[bool] | None = None
    create_timeout_seconds: pulumi.Input[float] | None = None
    delete_timeout_seconds: pulumi.Input[float] | None = None
    region: pulumi.Input[str] | None = None


class FsxBackup(Resource, module=RESOURCE_MODULE, name=FSX_BACKUP_NAME):
    """An Amazon FSx backup of a file system or an ONTAP volume.

    Created with a stable ClientRequestToken derived from the stack, the
    resource's place in it and its source, so an interrupted or retried
    create never leaves a second backup; then waited on until AVAILABLE.

    Outputs:
        backup_id: the backup's ID, `backup-...` (also the resource's ID)
        arn: the backup's ARN
        file_system_id: the file system backed up (None for a volume backup)
        volume_id: the ONTAP volume backed up (None for a file system backup)
        tags: the live tags, less the `aws:defaultTags` ones
        tags_all: the live tags
        lifecycle: FSx's lifecycle of the backup (AVAILABLE, CREATING, ...)
        type: USER_INITIATED, AUTOMATIC or AWS_BACKUP
        resource_type: FILE_SYSTEM or VOLUME
        owner_id: the AWS account that owns the backup
        kms_key_id: the KMS key that encrypts the backup
        creation_time: when FSx made the backup, ISO 8601
        client_request_token: the ClientRequestToken the backup was made with
        region: the Region the backup is in
    """

    backup_id: pulumi.Output[str]
    arn: pulumi.Output[str]
    file_system_id: pulumi.Output[str | None]
    volume_id: pulumi.Output[str | None]
    tags: pulumi.Output[dict[str, str]]
    tags_all: pulumi.Output[dict[str, str]]
    lifecycle: pulumi.Output[str]
    type: pulumi.Output[str]
    resource_type: pulumi.Output[str]
    owner_id: pulumi.Output[str]
    kms_key_id: pulumi.Output[str | None]
    creation_time: pulumi.Output[str]
    client_request_token: pulumi.Output[str]
    region: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        args: FsxBackupArgs | None = None,
        *,
        file_system_id: pulumi.Input[str] | None = None,
        volume_id: pulumi.Input[str] | None = None,
        tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        client_request_token: pulumi.Input[str] | None = None,
        wait_for_available: pulumi.Input[bool] | None = None,
        create_timeout_seconds: pulumi.Input[float] | None = None,
        delete_timeout_seconds: pulumi.Input[float] | None = None,
        region: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        inputs = merged(
            args or FsxBackupArgs(),
            file_system_id=file_system_id,
            volume_id=volume_id,
            tags=tags,
            client_request_token=client_request_token,
            wait_for_available=wait_for_available,
            create_timeout_seconds=create_timeout_seconds,
            delete_timeout_seconds=delete_timeout_seconds,
            region=region,
        )
        register(
            self,
            FsxBackupProvider(),
            FSX_BACKUP_TYPE,
            resource_name,
            opts,
            inputs,
            OUTPUT_KEYS,
            DERIVED_OUTPUTS,
        )

    @staticmethod
    def get(
        resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
    ) -> FsxBackup:
        """Look up an existing backup by its ID (backup-...); no CreateBackup is made."""
        return FsxBackup(
            resource_name, opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        )


# At preview, the outputs an in-place update keeps stay known (preview.py).
preview.install(FsxBackup, OUTPUT_KEYS)
