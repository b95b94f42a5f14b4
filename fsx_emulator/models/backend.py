"""The emulator's FSx backend: one per account and Region, through moto's `BackendDict`."""

from __future__ import annotations

from moto.core.base_backend import BackendDict

from fsx_emulator.models.copies import CopiesMixin
from fsx_emulator.models.deletes import DeletesMixin
from fsx_emulator.models.file_systems import FileSystemsMixin
from fsx_emulator.models.restores import RestoresMixin
from fsx_emulator.models.settings import STATE_LOCK
from fsx_emulator.models.state import BackendState
from fsx_emulator.models.volumes import VolumesMixin


class EmulatorFSxBackend(FileSystemsMixin, VolumesMixin, CopiesMixin, RestoresMixin, DeletesMixin):
    """The FSx state of one account in one Region, and the rules that change it."""

    def account_backend(self, region: str) -> BackendState | None:
        account = fsx_backends[self.account_id]
        return account[region] if region in account.regions else None


fsx_backends = BackendDict(EmulatorFSxBackend, "fsx")


def resource_exists(resource_id: str) -> bool:
    """Whether a backup, file system or volume of this ID exists in any account and Region."""
    return any(
        resource_id in store
        for account in fsx_backends.values()
        for backend in account.values()
        for store in (backend.backups_by_id, backend.file_systems_by_id, backend.volumes_by_id)
    )


def reset_state() -> None:
    """Forget every file system, volume, backup and token in every account and region."""
    with STATE_LOCK:
        for _account_id, _region_name, backend in fsx_backends.iter_backends():
            backend.reset()
