"""Amazon FSx backups as a Pulumi dynamic resource.

from fsx_backup_provider import FsxBackup
FsxBackup("nightly", file_system_id="fs-0123456789abcdef0", tags={"Name": "nightly"})
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fsx_backup_provider.aws.restore_plan import RestoreTestResult
    from fsx_backup_provider.aws.restores import restore_test
    from fsx_backup_provider.core.lifecycle import FsxBackupError
    from fsx_backup_provider.program.backup import FsxBackup, FsxBackupArgs
    from fsx_backup_provider.program.copy import FsxBackupCopy, FsxBackupCopyArgs

__all__ = [
    "FsxBackup",
    "FsxBackupArgs",
    "FsxBackupCopy",
    "FsxBackupCopyArgs",
    "FsxBackupError",
    "RestoreTestResult",
    "__version__",
    "restore_test",
]

# Imported on first use (PEP 562): the provider process unpickles
# fsx_backup_provider.provider.FsxBackupProvider, which imports this package
# first, and needs none of the resource classes a program declares.
_LAZY = {
    "FsxBackup": "fsx_backup_provider.program.backup",
    "FsxBackupArgs": "fsx_backup_provider.program.backup",
    "FsxBackupCopy": "fsx_backup_provider.program.copy",
    "FsxBackupCopyArgs": "fsx_backup_provider.program.copy",
    "FsxBackupError": "fsx_backup_provider.core.lifecycle",
    "RestoreTestResult": "fsx_backup_provider.aws.restore_plan",
    "restore_test": "fsx_backup_provider.aws.restores",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name == "__version__":
        from fsx_backup_provider.version import version

        return version()
    raise AttributeError(f"module 'fsx_backup_provider' has no attribute {name!r}")
