"""What one provider process shares across resources and threads.

The provider instance is pickled into every resource's state, so it holds no
state of its own: what must be shared lives in the module-level ProcessState,
one per provider process (one per engine run).
"""

from __future__ import annotations

import threading
from typing import Any

from fsx_backup_provider.aws.errors import FsxApiError
from fsx_backup_provider.aws.fsx import client_for
from fsx_backup_provider.aws.poller import BackupPoller
from fsx_backup_provider.aws.session import Connection
from fsx_backup_provider.core.config import ProviderSettings
from fsx_backup_provider.core.gates import Gate
from fsx_backup_provider.core.lifecycle import (
    POLL_INTERVAL_SECONDS,
)
from fsx_backup_provider.core.ownership import Ownership


class ProcessState:
    """What the provider process shares across resources and threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.settings = ProviderSettings()
        self.pollers: dict[Connection, BackupPoller] = {}
        self.ownership = Ownership()
        self.gates: dict[tuple[Any, ...], Gate] = {}
        # The tags of the stack's backups this process has seen, by backup ID:
        # a copy with copy_tags checks its tag count against its source's.
        self.known_tags: dict[str, dict[str, str]] = {}
        # Set when the engine cancels the run: sleeps between retries end.
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        """The engine cancels the run: every wait of this process ends now.

        A backup being made is left in FSx, as after a timeout: the next
        `pulumi up` finds it again by its token and resumes waiting on it.
        """
        self.cancelled.set()
        with self.lock:
            pollers = list(self.pollers.values())
        for poller in pollers:
            # An FsxApiError: the providers already say what a failed wait
            # means for the backup waited on (kept, and found again).
            poller.abort(
                FsxApiError(
                    "DescribeBackups",
                    "Cancelled",
                    "the run was cancelled (Ctrl-C) while this was waited on",
                    0,
                )
            )

    def poller(self, connection: Connection) -> BackupPoller:
        with self.lock:
            found = self.pollers.get(connection)
            if found is None:
                found = BackupPoller(client_for(connection), interval=POLL_INTERVAL_SECONDS)
                self.pollers[connection] = found
            return found

    def gate(self, key: tuple[Any, ...], capacity: int) -> Gate:
        with self.lock:
            found = self.gates.get(key)
            if found is None:
                found = self.gates[key] = Gate(capacity)
            return found


_process = ProcessState()


def process_state() -> ProcessState:
    return _process
