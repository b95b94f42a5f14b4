"""Where the states of every version find FsxBackupCopyProvider, pickled by reference.

Do not move: the class lives in fsx_backup_provider.providers.copy
(fsx_backup_provider/providers/__init__.py says why).
"""

from fsx_backup_provider.providers.copy import FsxBackupCopyProvider

__all__ = ["FsxBackupCopyProvider"]
