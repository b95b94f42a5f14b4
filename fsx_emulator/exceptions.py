"""Each FSx error the emulator answers, named once.

Errors the FSx model declares derive from moto's ServiceException: moto serialises them
from the model's error shape, so the JSON body carries `__type`, `Message` and the
shape's extra members (Parameter, ResourceARN, ...) exactly as botocore expects.
Errors outside the FSx model (the IAM denials) derive from moto's JsonRESTError instead.
"""

from __future__ import annotations

from moto.core.exceptions import JsonRESTError, ServiceException

# Echoed request values are cut to this many characters: the model caps an error's
# Message at 256, and a 512-character ARN must still fit in one.
SHOWN_VALUE_LENGTH = 80


def shown(value: object) -> str:
    """`value` quoted for an error message, cut short if it is long."""
    text = str(value)
    if len(text) <= SHOWN_VALUE_LENGTH:
        return repr(text)
    return f"{text[:SHOWN_VALUE_LENGTH]!r}... ({len(text)} characters)"


class BadRequest(ServiceException):
    code = "BadRequest"


class BackupNotFound(ServiceException):
    code = "BackupNotFound"

    def __init__(self, backup_id: str, region: str | None = None) -> None:
        where = "" if region is None else f" in {region}"
        super().__init__(f"Backup '{backup_id}' does not exist{where}.")


class BackupInProgress(ServiceException):
    code = "BackupInProgress"


class BackupBeingCopied(ServiceException):
    code = "BackupBeingCopied"

    def __init__(self, backup_id: str, copy_id: str) -> None:
        super().__init__(
            f"Backup '{backup_id}' is being copied to '{copy_id}': wait until the copy is "
            f"AVAILABLE or FAILED, then delete it."
        )
        self.backup_id = backup_id


class BackupRestoring(ServiceException):
    code = "BackupRestoring"

    def __init__(self, backup_id: str, file_system_id: str, restored: str) -> None:
        super().__init__(
            f"Backup '{backup_id}' is being restored to {restored}: wait until that is "
            f"no longer CREATING, then delete the backup."
        )
        self.file_system_id = file_system_id


class SourceBackupUnavailable(ServiceException):
    code = "SourceBackupUnavailable"

    def __init__(self, backup_id: str, lifecycle: str) -> None:
        super().__init__(
            f"Source backup '{backup_id}' is {lifecycle}: only an AVAILABLE backup can be "
            f"copied; wait until it is AVAILABLE, then retry."
        )
        self.backup_id = backup_id


class ServiceLimitExceeded(ServiceException):
    code = "ServiceLimitExceeded"

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


class InvalidRegion(ServiceException):
    code = "InvalidRegion"


class InvalidDestinationKmsKey(ServiceException):
    code = "InvalidDestinationKmsKey"


class FileSystemNotFound(ServiceException):
    code = "FileSystemNotFound"

    def __init__(self, file_system_id: str) -> None:
        super().__init__(f"File system '{file_system_id}' does not exist.")


class VolumeNotFound(ServiceException):
    code = "VolumeNotFound"

    def __init__(self, volume_id: str) -> None:
        super().__init__(f"Volume '{volume_id}' does not exist.")


class StorageVirtualMachineNotFound(ServiceException):
    code = "StorageVirtualMachineNotFound"

    def __init__(self, storage_virtual_machine_id: str) -> None:
        super().__init__(f"Storage virtual machine '{storage_virtual_machine_id}' does not exist.")


class IncompatibleParameterError(ServiceException):
    code = "IncompatibleParameterError"

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class InvalidNetworkSettings(ServiceException):
    code = "InvalidNetworkSettings"

    def __init__(self, message: str, invalid_subnet_id: str | None = None) -> None:
        super().__init__(message)
        if invalid_subnet_id is not None:
            self.invalid_subnet_id = invalid_subnet_id


class MissingFileSystemConfiguration(ServiceException):
    code = "MissingFileSystemConfiguration"


class MissingVolumeConfiguration(ServiceException):
    code = "MissingVolumeConfiguration"


class ResourceNotFound(ServiceException):
    code = "ResourceNotFound"

    def __init__(self, resource_arn: str) -> None:
        super().__init__(f"Resource {shown(resource_arn)} does not exist.")
        self.resource_arn = resource_arn


class UnsupportedOperation(ServiceException):
    code = "UnsupportedOperation"


class AccessDeniedException(JsonRESTError):
    """An IAM denial of an FSx call, in the JSON protocol FSx speaks.

    moto's own denial is an XML body with HTTP 403, from which boto3 reads the code
    "403"; AWS answers a JSON-protocol service's denial with this code and HTTP 400.
    """

    def __init__(self, message: str) -> None:
        super().__init__("AccessDeniedException", message)


class UnrecognizedClientException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("UnrecognizedClientException", message)


class InvalidSignatureException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidSignatureException", message)


class ThrottlingException(JsonRESTError):
    """An injected throttle, worded as AWS's JSON-protocol services word it."""

    def __init__(self) -> None:
        super().__init__("ThrottlingException", "Rate exceeded")


class InternalServerError(JsonRESTError):
    code = 500

    def __init__(self, message: str) -> None:
        super().__init__("InternalServerError", message)


class UnknownOperationException(JsonRESTError):
    def __init__(self, target: str) -> None:
        super().__init__("UnknownOperationException", f"Unknown operation '{target}'.")
