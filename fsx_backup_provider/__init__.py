"""Amazon FSx backups as a Pulumi dynamic resource.

from fsx_backup_provider import FsxBackup
FsxBackup("nightly", file_system_id="fs-0123456789abcdef0", tags={"Name": "nightly"})
"""

from importlib.metadata import PackageNotFoundError, version

from fsx_backup_provider.backup_copy import FsxBackupCopy, FsxBackupCopyArgs
from fsx_backup_provider.lifecycle import FsxBackupError
from fsx_backup_provider.resource import FsxBackup, FsxBackupArgs

try:
    # The one version number lives in pyproject.toml.
    __version__ = version("fsx-backup-provider")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "FsxBackup",
    "FsxBackupArgs",
    "FsxBackupCopy",
    "FsxBackupCopyArgs",
    "FsxBackupError",
    "__version__",
]
