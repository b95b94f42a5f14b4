"""The FSx state of one account in one Region, its tags, and the lookups every operation
shares.

`BackendState` is the moto `BaseBackend` the operation mixins (file_systems.py,
volumes.py, backups.py, copies.py) build on; backend.py assembles them into the one
backend class moto's `BackendDict` instantiates per account and Region. A backend this
size is one class in moto; here its operations are split by concern, and each mixin sees
the state declared once below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import uuid4

from botocore.utils import ArnParser, InvalidArnException
from moto.core.base_backend import BaseBackend
from moto.utilities.tagging_service import TaggingService

from fsx_emulator import servicemodel
from fsx_emulator.exceptions import (
    BadRequest,
    FileSystemNotFound,
    IncompatibleParameterError,
    ResourceNotFound,
    shown,
)
from fsx_emulator.models.backup import Backup
from fsx_emulator.models.requests import tag_list
from fsx_emulator.models.resources import FileSystem, StorageVirtualMachine, Volume
from fsx_emulator.models.settings import new_id, settings
from fsx_emulator.models.timing import seconds_between
from fsx_emulator.models.tokens import Made, TokenRecord, TokenRequest, named


class BackendState(BaseBackend):
    """The FSx state of one account in one Region, and its tags."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.tagger = TaggingService()
        self.file_systems_by_id: dict[str, FileSystem] = {}
        self.storage_virtual_machines_by_id: dict[str, StorageVirtualMachine] = {}
        self.volumes_by_id: dict[str, Volume] = {}
        self.backups_by_id: dict[str, Backup] = {}
        self.resource_arns: set[str] = set()
        self.tokens: dict[str, TokenRecord] = {}
        self.latest_backup_by_source: dict[str, Backup] = {}
        # Copies made in this Region, pruned of finished ones whenever they are counted.
        self.copies_in_progress: list[Backup] = []
        self.arn_prefix = f"arn:{self.partition}:fsx:{region_name}:{account_id}"
        self.default_kms_key_id = (
            f"arn:{self.partition}:kms:{region_name}:{account_id}:key/{uuid4()}"
        )
        # The subnets known in this Region, each with its VPC: those of the file systems
        # created here and those registered through the control endpoint. A restore
        # into any other subnet is InvalidNetworkSettings.
        self.subnet_vpcs: dict[str, str] = {}
        # File systems and volumes being deleted, until settle() takes them away.
        self.deleting: list[FileSystem | Volume] = []

    # ---- tags -------------------------------------------------------------------------

    def tags_of(self, resource_arn: str) -> dict[str, str]:
        return self.tagger.get_tag_dict_for_resource(resource_arn)

    def _set_tags(self, resource_arn: str, tags: Mapping[str, str]) -> None:
        if tags:
            self.tagger.tag_resource(resource_arn, tag_list(tags))

    def _existing_arn(self, resource_arn: object) -> str:
        arn = servicemodel.check_string(resource_arn, "ResourceARN", "ResourceARN")
        if arn not in self.resource_arns:
            raise ResourceNotFound(arn)
        return arn

    def tag_resource(self, arn: object, tags: object) -> None:
        resource_arn = self._existing_arn(arn)
        new_tags = servicemodel.check_tags(tags)
        merged = {**self.tags_of(resource_arn), **new_tags}
        limit = servicemodel.FSX_MODEL.shape_for("Tags").metadata["max"]
        if len(merged) > limit:
            raise BadRequest(
                f"Tags: resource {shown(resource_arn)} would have {len(merged)} tags; "
                f"at most {limit} are allowed."
            )
        self._set_tags(resource_arn, new_tags)

    def untag_resource(self, arn: object, tag_keys: object) -> None:
        resource_arn = self._existing_arn(arn)
        self.tagger.untag_resource_using_names(resource_arn, servicemodel.check_tag_keys(tag_keys))

    def list_tags_for_resource(self, resource_arn: object) -> list[dict[str, str]]:
        return tag_list(self.tags_of(self._existing_arn(resource_arn)))

    # ---- descriptions -----------------------------------------------------------------

    def describe_file_system(self, file_system: FileSystem, now: float) -> dict[str, Any]:
        return file_system.describe(self._tags_of_resource(file_system), now)

    def describe_volume(self, volume: Volume, now: float) -> dict[str, Any]:
        return volume.describe(self._tags_of_resource(volume), now)

    def _tags_of_resource(self, resource: FileSystem | Volume) -> dict[str, str]:
        # A token replays what it made even after it is gone, with the tags it had then.
        gone_with = resource.tags_at_deletion
        return self.tags_of(resource.resource_arn) if gone_with is None else gone_with

    # ---- deletions --------------------------------------------------------------------

    def settle(self, now: float) -> None:
        """Take away the file systems and volumes whose deletion has finished by `now`.

        Lifecycles are derived from the clock when read, so a deletion ends when a request
        first comes after it: every FSx request settles its Region before it is served.
        """
        if not self.deleting:
            return
        still_deleting: list[FileSystem | Volume] = []
        for resource in self.deleting:
            if not resource.gone(now):
                still_deleting.append(resource)
                continue
            if isinstance(resource, FileSystem):
                del self.file_systems_by_id[resource.file_system_id]
            else:
                del self.volumes_by_id[resource.volume_id]
            self.resource_arns.discard(resource.resource_arn)
            resource.tags_at_deletion = self.tags_of(resource.resource_arn)
            self.tagger.delete_all_tags_for_resource(resource.resource_arn)
        self.deleting = still_deleting

    # ---- idempotency tokens -----------------------------------------------------------

    def _remembered(self, token: str | None, request: TokenRequest, now: float) -> Made | None:
        """What an earlier request with `token` made, if it asked for the same.

        The operations that take tokens share them (tokens.py), so a token of one reused
        for another is a reuse with other parameters too.
        """
        if token is None:
            return None
        record = self.tokens.get(token)
        if record is None:
            return None
        ttl = settings.token_ttl_seconds
        if ttl is not None and seconds_between(record.registered, now) > ttl:
            del self.tokens[token]
            return None
        if record.request != request:
            raise IncompatibleParameterError(
                "ClientRequestToken",
                f"ClientRequestToken '{token}' was already used with other parameters, by "
                f"the {record.request.operation} that made {named(record.made)}: "
                f"use a new token for a different request.",
            )
        return record.made

    def _remember(self, token: str | None, request: TokenRequest, made: Made, now: float) -> None:
        if token is not None:
            self.tokens[token] = TokenRecord(request=request, made=made, registered=now)

    # ---- networks and keys ------------------------------------------------------------

    def register_subnets(self, subnet_ids: list[str]) -> str:
        """Make `subnet_ids` known in this Region; return their VPC (one VPC for all the
        unknown ones, the first known one's VPC if there is one)."""
        known = [self.subnet_vpcs[subnet] for subnet in subnet_ids if subnet in self.subnet_vpcs]
        vpc_id = known[0] if known else new_id("vpc")
        for subnet in subnet_ids:
            self.subnet_vpcs.setdefault(subnet, vpc_id)
        return vpc_id

    def subnet_known(self, subnet_id: str) -> bool:
        return subnet_id in self.subnet_vpcs or subnet_id in settings.subnet_ids

    def _key_of_another_region(self, kms_key_id: str) -> bool:
        """Whether a KmsKeyId names a key outside this Region: KMS keys are regional.

        A key ID or alias, which names no Region, is taken to be one of this Region's.
        """
        try:
            arn = ArnParser().parse_arn(kms_key_id)
        except InvalidArnException:
            return False
        return bool(arn["service"] != "kms" or arn["region"] != self.region_name)

    # ---- lookups ----------------------------------------------------------------------

    def _file_system(self, file_system_id: str) -> FileSystem:
        file_system = self.file_systems_by_id.get(file_system_id)
        if file_system is None:
            raise FileSystemNotFound(file_system_id)
        return file_system

    def account_backend(self, region: str) -> BackendState | None:
        """This account's backend in `region`, or None if FSx has no such Region.

        Only backend.py knows the `BackendDict` that holds the backends.
        """
        raise NotImplementedError
