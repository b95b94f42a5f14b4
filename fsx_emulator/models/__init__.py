"""FSx state and rules: file systems, storage virtual machines, ONTAP volumes and backups.

Shaped as moto shapes a service (`moto/fsx/models.py`): `EmulatorFSxBackend` is a moto
`BaseBackend`, one per account and Region through `BackendDict` (so a request is served
by the backend of the Region it is signed for, and `reset()` starts it afresh), tagging
through moto's `TaggingService`. It holds what a backup provider is tested against and
moto's own FSx backend lacks (see EMULATOR_NOTES.md): IDs in AWS's 17-hex format,
idempotency tokens, backup lifecycles, BackupInProgress, volumes and SVMs, FSx's rules on
which sources can be backed up, and backup copies across Regions.

moto's FSxBackend and its FileSystem and Backup entities are not reused: they mint 8-hex
IDs, tag themselves on construction, describe themselves by echoing request
configuration the model's description shapes do not hold, and their methods take and
return other things than these do, so a subclass would keep nothing of them but the name.

One concern a module: settings.py (the lock, knobs and IDs), timing.py (the clock every
lifecycle follows), requests.py (reading request values), resources.py and backup.py
(the entities), state.py (a backend's state and tags), file_systems.py, volumes.py,
backups.py and copies.py (the operations), and backend.py (the backend class assembled
from them). Import from this package, not from its modules: these names are its
interface.
"""

from fsx_emulator.models.backend import (
    EmulatorFSxBackend,
    fsx_backends,
    reset_state,
    resource_exists,
)
from fsx_emulator.models.backup import Backup, BackupRequest, CopyRequest
from fsx_emulator.models.resources import (
    CONFIGURATION_MEMBER,
    ONTAP_FILE_SYSTEM_BACKUP_MESSAGE,
    FileSystem,
    StorageVirtualMachine,
    Volume,
)
from fsx_emulator.models.settings import STATE_LOCK, EmulatorSettings, settings
from fsx_emulator.models.timing import EmulatorClock, Timeline, clock
from fsx_emulator.models.tokens import RestoreRequest, TokenRecord

__all__ = [
    "CONFIGURATION_MEMBER",
    "ONTAP_FILE_SYSTEM_BACKUP_MESSAGE",
    "STATE_LOCK",
    "Backup",
    "BackupRequest",
    "CopyRequest",
    "EmulatorClock",
    "EmulatorFSxBackend",
    "EmulatorSettings",
    "FileSystem",
    "RestoreRequest",
    "StorageVirtualMachine",
    "Timeline",
    "TokenRecord",
    "Volume",
    "clock",
    "fsx_backends",
    "reset_state",
    "resource_exists",
    "settings",
]
