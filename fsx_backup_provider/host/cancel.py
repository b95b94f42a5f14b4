"""Ctrl-C ends a run promptly: the engine's Cancel reaches the provider's waits.

On the first Ctrl-C the engine asks every provider to cancel (the Cancel
RPC) and then waits for the operations in flight. The Python dynamic
provider host answers Cancel and does nothing else (pulumi/dynamic/__main__.py),
so a create waiting for a backup that takes an hour kept the run going for
that hour. No public API reaches that RPC, and the server bound the host's
handler when it started, so this finds the host's grpc server (as the worker
pool widening does) and wraps the Cancel method's handler, once, to call the
provider's own cancellation first. It leans on grpc's handler table; if that
differs, nothing is wrapped and Ctrl-C waits as before: slower, never wrong.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from fsx_backup_provider.host.server import Handler, in_dynamic_provider_process, warn, wrap_method

CANCEL_METHOD = "/pulumirpc.ResourceProvider/Cancel"
WARNING = (
    "fsx-backup-provider could not reach the Pulumi dynamic provider host's Cancel handler: "
    "Ctrl-C (or a cancelled run) will wait for backups being created to finish, or for "
    "create_timeout_seconds, instead of ending at once. Nothing else changes."
)

_lock = threading.Lock()
_installed: bool | None = None


def on_engine_cancel(cancel: Callable[[], None]) -> bool:
    """Call `cancel` when the engine cancels this provider; whether the hook is in place."""
    global _installed
    with _lock:
        if _installed is None and in_dynamic_provider_process():
            try:
                _installed = (
                    wrap_method(CANCEL_METHOD, lambda answer: _cancel_first(answer, cancel)) > 0
                )
            except Exception:  # grpc's internals differ: Ctrl-C waits as before
                _installed = False
            if not _installed:
                warn(WARNING)
        return bool(_installed)


def _cancel_first(answer: Handler, cancel: Callable[[], None]) -> Handler:
    def cancel_then_answer(request: Any, context: Any) -> Any:
        # The engine's answer must not depend on ours.
        with contextlib.suppress(Exception):
            cancel()
        return answer(request, context)

    return cancel_then_answer
