"""FsxBackupCopy: a copy of an FSx backup in another Region (or the same), as a resource.

Disaster recovery for FSx means backups in a second Region. FSx's CopyBackup
makes them (same account, cross- or in-Region, optional KMS key, CopyTags); no
infrastructure-as-code peer manages such copies. This one is created with
the same stable ClientRequestToken as FsxBackup (a retried or interrupted
create never leaves a second copy), waits for AVAILABLE, and is refreshed,
retagged and deleted like a backup.

The provider's class path, `fsx_backup_provider.backup_copy.FsxBackupCopyProvider` (the end
of this module), is pickled into every state that holds a copy: it must keep resolving.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fsx_backup_provider.aws.fsx import Backup, FsxClient, tag_map
from fsx_backup_provider.core.claims import CreateRequest
from fsx_backup_provider.core.constants import (
    DEFAULT_TAGS_CONFIG,
)
from fsx_backup_provider.core.gates import Gate
from fsx_backup_provider.core.holder import without_holder
from fsx_backup_provider.core.lifecycle import FsxBackupError
from fsx_backup_provider.core.process import ProcessState, process_state
from fsx_backup_provider.providers.base import BackupResourceProvider
from fsx_backup_provider.providers.inputs import is_volume_backup, known, secret_names
from fsx_backup_provider.providers.validation import (
    Failure,
    is_unknown,
    shown,
    validate_copy_inputs,
)

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


# Every state that holds one records this class pickled by reference under
# the path it had before providers/ existed; that module re-exports it, and
# the class keeps reporting it, so states old and new record one path.
FsxBackupCopyProvider.__module__ = "fsx_backup_provider.backup_copy"
