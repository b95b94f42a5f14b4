"""Where the states of every version find FsxBackupSeedProvider, pickled by reference.

Do not move: the class lives in fsx_backup_provider.providers.seed
(fsx_backup_provider/providers/__init__.py says why).
"""

from fsx_backup_provider.providers.seed import FsxBackupSeedProvider

__all__ = ["FsxBackupSeedProvider"]
