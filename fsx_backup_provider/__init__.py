"""Amazon FSx backups as a Pulumi dynamic resource.

from fsx_backup_provider import FsxBackup
FsxBackup("nightly", file_system_id="fs-0123456789abcdef0", tags={"Name": "nightly"})
"""

from fsx_backup_provider.resource import FsxBackup, FsxBackupArgs

__all__ = ["FsxBackup", "FsxBackupArgs"]
