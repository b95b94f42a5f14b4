"""FsxBackupCopy: a copy of an FSx backup in another Region (or the same), as a resource.

Disaster recovery for FSx means backups in a second Region. FSx's CopyBackup
makes them (same account, cross- or in-Region, optional KMS key, CopyTags); no
infrastructure-as-code peer manages such copies. This one is created with
the same stable ClientRequestToken as FsxBackup (a retried or interrupted
create never leaves a second copy), waits for AVAILABLE, and is refreshed,
retagged and deleted like a backup.

The provider's class path, `fsx_backup_provider.backup_copy.FsxBackupCopyProvider`,
is pickled into every state that holds a copy: it must keep resolving.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import Resource

from fsx_backup_provider import preview
from fsx_backup_provider.base import (
    BackupResourceProvider,
    is_volume_backup,
    known,
    merged,
    secret_names,
)
from fsx_backup_provider.constants import (
    DEFAULT_TAGS_CONFIG,
    FSX_BACKUP_COPY_NAME,
    FSX_BACKUP_COPY_TYPE,
    RESOURCE_MODULE,
)
from fsx_backup_provider.fsx import Backup, FsxClient, tag_map
from fsx_backup_provider.holder import without_holder
from fsx_backup_provider.lifecycle import (
    CreateRequest,
    FsxBackupError,
    Gate,
    ProcessState,
    process_state,
)
from fsx_backup_provider.registration import register
from fsx_backup_provider.validation import Failure, is_unknown, shown, validate_copy_inputs

# FSx allows at most five copy requests in progress to one destination Region
# per account (CopyBackup's documentation in the service model).
COPIES_IN_PROGRESS_PER_REGION = 5

OUTPUT_KEYS = (
    "backup_id",
    "arn",
    "source_backup_id",
    "source_region",
    "region",
    "kms_key_id",
    "tags",
    "tags_all",
    "lifecycle",
    "type",
    "resource_type",
    "file_system_id",
    "volume_id",
    "owner_id",
    "creation_time",
    "client_request_token",
)


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


def _effective_region(props: Mapping[str, Any]) -> str | None:
    region = props.get("region")
    return str(region) if known(region) else process_state().settings.region


class FsxBackupCopyProvider(BackupResourceProvider):
    """check/diff/create/read/update/delete for one copy of an FSx backup."""

    OWN_INPUT_KEYS = ("source_backup_id", "source_region", "kms_key_id", "copy_tags")
    # The outputs source_region and kms_key_id hold what FSx resolved (the
    # Region, the default key); the inputs as declared are kept apart.
    DECLARED_APART = ("region", "client_request_token", "source_region", "kms_key_id")

    def validate(
        self, news: Mapping[str, Any], default_tags: Mapping[str, str], secrets: frozenset[str]
    ) -> list[Failure]:
        source = news.get("source_backup_id")
        source_tags = process_state().known_tags.get(source) if isinstance(source, str) else None
        return validate_copy_inputs(
            news, default_tags, secrets, DEFAULT_TAGS_CONFIG in secrets, source_tags
        )

    def own_replaces(
        self, olds: Mapping[str, Any], news: Mapping[str, Any], given: Mapping[str, Any]
    ) -> list[str]:
        replaces: list[str] = []
        if is_unknown(news.get("source_backup_id")) or olds.get("source_backup_id") != news.get(
            "source_backup_id"
        ):
            replaces.append("source_backup_id")
        # No source_region means the copy's own Region: compare where the
        # source is, not how it was written.
        new_source_region = news.get("source_region")
        old_source_region = given.get("source_region") or olds.get("source_region")
        if is_unknown(new_source_region) or (
            (new_source_region or _effective_region(news)) != old_source_region
        ):
            replaces.append("source_region")
        new_key = news.get("kms_key_id")
        if is_unknown(new_key) or new_key != given.get("kms_key_id"):
            replaces.append("kms_key_id")
        new_copy_tags = news.get("copy_tags")
        if is_unknown(new_copy_tags) or bool(new_copy_tags) != bool(olds.get("copy_tags")):
            replaces.append("copy_tags")
        return replaces

    @staticmethod
    def _source_region(props: Mapping[str, Any], region: str) -> str:
        return str(props.get("source_region") or region)

    def token_binding(self, props: Mapping[str, Any], region: str) -> tuple[str, ...]:
        return self._source_region(props, region), str(props.get("source_backup_id")), region

    def tags_on_create(
        self, props: Mapping[str, Any], tags: Mapping[str, str]
    ) -> dict[str, str] | None:
        # With copy_tags FSx adds the source's tags, known here only for a
        # source of this stack. The copy's own fsx-backup:stack tag then wins
        # over the source's (another stack's, for a source that stack made);
        # an unknown source may leave no room, so none is sent.
        if not props.get("copy_tags"):
            return dict(tags)
        source = props.get("source_backup_id")
        known = process_state().known_tags.get(source) if isinstance(source, str) else None
        return None if known is None else {**known, **tags}

    def request(
        self,
        state: ProcessState,
        client: FsxClient,
        props: Mapping[str, Any],
        tags: Mapping[str, str],
    ) -> tuple[CreateRequest, Gate]:
        """CopyBackup; at most five copies to a Region at a time go through its Gate."""
        region = client.region
        source_region = self._source_region(props, region)
        source_id = str(props.get("source_backup_id"))
        secrets = secret_names(props)
        source = (
            f"backup {shown(source_id, 'source_backup_id' in secrets)} of "
            f"{shown(source_region, 'source_region' in secrets)}"
        )
        request = CreateRequest(
            urn=props.get("resource_urn"),
            what=f"a copy of {source} in {region}",
            send=lambda token: client.copy_backup(
                client_request_token=token,
                source_backup_id=source_id,
                source_region=props.get("source_region") or None,
                kms_key_id=props.get("kms_key_id") or None,
                copy_tags=bool(props.get("copy_tags")),
                tags=tags,
            ),
            tokens=self.tokens(props, region),
            user_token=props.get("client_request_token"),
            waits={
                "SourceBackupUnavailable": "the source backup is not AVAILABLE yet",
                "ServiceLimitExceeded": "five copies to this Region are already in progress "
                "(FSx's limit per account)",
            },
            candidates=lambda: client.copies_of(source_id),
            queue_reason=f"at most {COPIES_IN_PROGRESS_PER_REGION} copies to {region} at a time",
            remedies={
                "BackupNotFound": f"Check source_backup_id and source_region ({source_region}).",
                "InvalidRegion": "Check source_region and region: both must be Regions of one "
                "partition where FSx is available.",
                "InvalidSourceKmsKey": "The credentials must be allowed to use the source "
                "backup's KMS key (kms:Decrypt, kms:DescribeKey).",
                "InvalidDestinationKmsKey": f"Check kms_key_id: a KMS key in {region} that the "
                "credentials may use (kms:CreateGrant, kms:DescribeKey).",
                "UnsupportedOperation": "FSx cannot copy this backup (see FSx's message).",
                "IncompatibleRegionForMultiAZ": "FSx cannot copy a backup of this Multi-AZ file "
                "system to that Region.",
                "AccessDeniedException": "The credentials need fsx:CopyBackup in the copy's "
                "Region, and fsx:TagResource for a copy with tags (see docs/iam.md).",
            },
        )
        connection = self.connection(props)
        gate = state.gate(("copies-to", connection), COPIES_IN_PROGRESS_PER_REGION)
        return request, gate

    def check_adopted(self, backup: Backup, props: Mapping[str, Any]) -> None:
        region = _effective_region(props) or ""
        declared = (props.get("source_backup_id"), self._source_region(props, region))
        actual = (backup.get("SourceBackupId"), backup.get("SourceBackupRegion") or region)
        if actual != declared:
            secret = "source_backup_id" in secret_names(props)
            raise FsxBackupError(
                f"cannot import backup {backup['BackupId']}: it is a copy of backup "
                f"{shown(actual[0], secret)} in {actual[1]}, but this FsxBackupCopy declares "
                f"{shown(declared[0], secret)} in {declared[1]}. Declare the copy's own source, "
                "or import a copy of the declared one."
            )

    def own_outputs(self, backup: Backup, props: Mapping[str, Any]) -> dict[str, Any]:
        is_volume = is_volume_backup(backup)
        copied = props.get("copied_tags")
        if not isinstance(copied, list):
            # At create: what FSx copied from the source is what is not declared.
            declared = self.desired_tags_all(props)
            copied = sorted(k for k in without_holder(tag_map(backup)) if k not in declared)
        return {
            "source_backup_id": backup.get("SourceBackupId") or props.get("source_backup_id"),
            "source_region": backup.get("SourceBackupRegion") or props.get("source_region"),
            "file_system_id": None
            if is_volume
            else (backup.get("FileSystem") or {}).get("FileSystemId"),
            "volume_id": (backup.get("Volume") or {}).get("VolumeId") if is_volume else None,
            "copy_tags": bool(props.get("copy_tags")),
            "copied_tags": copied if props.get("copy_tags") else [],
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
