"""FSx's AWS JSON 1.1 wire protocol: parse requests, serialise descriptions.

`EmulatorFSxResponse` is a moto `BaseResponse`, as moto's own `FSxResponse` is: moto's
dispatch, signature and IAM checks and its model-driven error serialisation, with every
operation handed to the emulator's backend of the request's account and Region. Rules
live in the models package; this module only moves JSON.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from moto import settings as moto_settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.common_types import TYPE_RESPONSE
from moto.core.exceptions import (
    AccessDeniedError,
    AuthFailureError,
    InvalidClientTokenIdError,
    SignatureDoesNotMatchError,
)
from moto.core.responses import ActionResult, BaseResponse
from moto.iam.access_control import IAMRequest

from fsx_emulator.authorization import implied_actions
from fsx_emulator.exceptions import (
    AccessDeniedException,
    BadRequest,
    InvalidSignatureException,
    UnrecognizedClientException,
    UnsupportedOperation,
)
from fsx_emulator.models import (
    CONFIGURATION_MEMBER,
    STATE_LOCK,
    EmulatorFSxBackend,
    clock,
    fsx_backends,
)


def _dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


def _with_token(document: dict[str, Any], next_token: str | None) -> str:
    if next_token is not None:
        document["NextToken"] = next_token
    return _dumps(document)


class EmulatorFSxResponse(BaseResponse):
    """One FSx request; moto instantiates it per request and calls the action method."""

    def __init__(self) -> None:
        super().__init__(service_name="fsx")

    @property
    def fsx_backend(self) -> EmulatorFSxBackend:
        return fsx_backends[self.current_account][self.region]

    def call_action(self) -> TYPE_RESPONSE:
        with STATE_LOCK:
            # Deletions that have finished take their resources away before the request
            # sees the Region (models/state.py, settle).
            self.fsx_backend.settle(clock.now())
            try:
                return super().call_action()
            except NotImplementedError:
                # An FSx operation the emulator does not model: answer in FSx's own
                # vocabulary rather than letting the server fail with an HTML 500.
                unsupported = UnsupportedOperation(
                    f"The FSx emulator does not implement {self._get_action()}."
                )
                return self.serialized(ActionResult(unsupported))

    def _authenticate_and_authorize_normal_action(self, resource: str = "*") -> None:
        # Read before moto's check, which counts the requests it lets through unchecked.
        enforcing = (
            ActionAuthenticatorMixin.request_count >= moto_settings.INITIAL_NO_AUTH_ACTION_COUNT
        )
        # moto reports IAM failures as XML; FSx clients parse JSON, so re-raise each as
        # the JSON-protocol error AWS sends for it.
        try:
            super()._authenticate_and_authorize_normal_action(resource)
            if enforcing:
                self._authorize_implied_actions(resource)
        except AccessDeniedError as denial:
            raise AccessDeniedException(denial.message) from denial
        except (InvalidClientTokenIdError, AuthFailureError) as failure:
            raise UnrecognizedClientException(failure.message) from failure
        except SignatureDoesNotMatchError as mismatch:
            raise InvalidSignatureException(mismatch.message) from mismatch

    def _authorize_implied_actions(self, resource: str) -> None:
        """Judge the actions the request needs besides its own (authorization.py) as moto
        judges that one: against the signing identity's policies."""
        try:
            params = json.loads(self.body or "{}")
        except json.JSONDecodeError:
            # The operation itself answers BadRequest for such a body.
            return
        if not isinstance(params, dict):
            return
        query = urlparse(self.uri).query
        for action in implied_actions(self._get_action(), params):
            IAMRequest(
                account_id=self.current_account,
                method=self.method,
                path=self.raw_path + (f"?{query}" if query else ""),
                data=self.data,
                body=self.raw_body,
                headers=self.headers,
                action=action,
            ).check_action_permitted(resource)

    def _params(self) -> dict[str, Any]:
        try:
            params = json.loads(self.body or "{}")
        except json.JSONDecodeError as error:
            raise BadRequest(f"The request body is not valid JSON: {error}.") from error
        if not isinstance(params, dict):
            raise BadRequest("The request body must be a JSON object.")
        return params

    # ---- file systems -----------------------------------------------------------------

    def create_file_system(self) -> str:
        params = self._params()
        backend = self.fsx_backend
        file_system = backend.create_file_system(
            file_system_type=params.get("FileSystemType"),
            storage_capacity=params.get("StorageCapacity"),
            storage_type=params.get("StorageType"),
            subnet_ids=params.get("SubnetIds"),
            tags=params.get("Tags"),
            kms_key_id=params.get("KmsKeyId"),
            configurations={member: params.get(member) for member in CONFIGURATION_MEMBER.values()},
        )
        return _dumps({"FileSystem": backend.describe_file_system(file_system, clock.now())})

    def describe_file_systems(self) -> str:
        params = self._params()
        backend = self.fsx_backend
        file_systems, next_token = backend.describe_file_systems(
            file_system_ids=params.get("FileSystemIds"),
            max_results=params.get("MaxResults"),
            next_token=params.get("NextToken"),
        )
        now = clock.now()
        return _with_token(
            {"FileSystems": [backend.describe_file_system(fs, now) for fs in file_systems]},
            next_token,
        )

    def delete_file_system(self) -> str:
        return _dumps(self.fsx_backend.delete_file_system(self._params()))

    # ---- storage virtual machines and volumes -----------------------------------------

    def create_storage_virtual_machine(self) -> str:
        params = self._params()
        backend = self.fsx_backend
        svm = backend.create_storage_virtual_machine(
            file_system_id=params.get("FileSystemId"),
            name=params.get("Name"),
            tags=params.get("Tags"),
            root_volume_security_style=params.get("RootVolumeSecurityStyle"),
        )
        return _dumps({"StorageVirtualMachine": svm.describe(backend.tags_of(svm.resource_arn))})

    def describe_storage_virtual_machines(self) -> str:
        params = self._params()
        backend = self.fsx_backend
        svms, next_token = backend.describe_storage_virtual_machines(
            storage_virtual_machine_ids=params.get("StorageVirtualMachineIds"),
            filters=params.get("Filters"),
            max_results=params.get("MaxResults"),
            next_token=params.get("NextToken"),
        )
        return _with_token(
            {
                "StorageVirtualMachines": [
                    svm.describe(backend.tags_of(svm.resource_arn)) for svm in svms
                ]
            },
            next_token,
        )

    def create_volume(self) -> str:
        params = self._params()
        backend = self.fsx_backend
        volume = backend.create_volume(
            volume_type=params.get("VolumeType"),
            name=params.get("Name"),
            ontap_configuration=params.get("OntapConfiguration"),
            tags=params.get("Tags"),
        )
        return _dumps({"Volume": backend.describe_volume(volume, clock.now())})

    def delete_volume(self) -> str:
        return _dumps(self.fsx_backend.delete_volume(self._params()))

    def describe_volumes(self) -> str:
        params = self._params()
        backend = self.fsx_backend
        volumes, next_token = backend.describe_volumes(
            volume_ids=params.get("VolumeIds"),
            filters=params.get("Filters"),
            max_results=params.get("MaxResults"),
            next_token=params.get("NextToken"),
        )
        now = clock.now()
        return _with_token(
            {"Volumes": [backend.describe_volume(volume, now) for volume in volumes]}, next_token
        )

    # ---- backups ----------------------------------------------------------------------

    def create_backup(self) -> str:
        params = self._params()
        backend = self.fsx_backend
        backup = backend.create_backup(
            file_system_id=params.get("FileSystemId"),
            client_request_token=params.get("ClientRequestToken"),
            volume_id=params.get("VolumeId"),
            tags=params.get("Tags"),
        )
        return _dumps({"Backup": backend.describe_backup(backup, clock.now())})

    def describe_backups(self) -> str:
        params = self._params()
        backend = self.fsx_backend
        backups, next_token = backend.describe_backups(
            backup_ids=params.get("BackupIds"),
            filters=params.get("Filters"),
            max_results=params.get("MaxResults"),
            next_token=params.get("NextToken"),
        )
        now = clock.now()
        return _with_token(
            {"Backups": [backend.describe_backup(backup, now) for backup in backups]}, next_token
        )

    def copy_backup(self) -> str:
        params = self._params()
        backend = self.fsx_backend
        copy = backend.copy_backup(
            source_backup_id=params.get("SourceBackupId"),
            source_region=params.get("SourceRegion"),
            kms_key_id=params.get("KmsKeyId"),
            copy_tags=params.get("CopyTags"),
            tags=params.get("Tags"),
            client_request_token=params.get("ClientRequestToken"),
        )
        return _dumps({"Backup": backend.describe_backup(copy, clock.now())})

    def delete_backup(self) -> str:
        params = self._params()
        return _dumps(
            self.fsx_backend.delete_backup(
                backup_id=params.get("BackupId"),
                client_request_token=params.get("ClientRequestToken"),
            )
        )

    # ---- restores ---------------------------------------------------------------------

    def create_file_system_from_backup(self) -> str:
        backend = self.fsx_backend
        file_system = backend.create_file_system_from_backup(self._params())
        return _dumps({"FileSystem": backend.describe_file_system(file_system, clock.now())})

    def create_volume_from_backup(self) -> str:
        backend = self.fsx_backend
        volume = backend.create_volume_from_backup(self._params())
        return _dumps({"Volume": backend.describe_volume(volume, clock.now())})

    # ---- tags -------------------------------------------------------------------------

    def tag_resource(self) -> str:
        params = self._params()
        self.fsx_backend.tag_resource(params.get("ResourceARN"), params.get("Tags"))
        return "{}"

    def untag_resource(self) -> str:
        params = self._params()
        self.fsx_backend.untag_resource(params.get("ResourceARN"), params.get("TagKeys"))
        return "{}"

    def list_tags_for_resource(self) -> str:
        tags = self.fsx_backend.list_tags_for_resource(self._params().get("ResourceARN"))
        return _dumps({"Tags": tags})
