"""Where the states of every version find FsxBackupProvider, pickled by reference.

Do not move: the class lives in fsx_backup_provider.providers.backup
(fsx_backup_provider/providers/__init__.py says why).
"""

from fsx_backup_provider.providers.backup import FsxBackupProvider

__all__ = ["FsxBackupProvider"]
