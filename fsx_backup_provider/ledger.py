"""Where the states of every version find FsxBackupLedgerProvider, pickled by reference.

Do not move: the class lives in fsx_backup_provider.providers.ledger
(fsx_backup_provider/providers/__init__.py says why).
"""

from fsx_backup_provider.providers.ledger import FsxBackupLedgerProvider

__all__ = ["FsxBackupLedgerProvider"]
