"""The URN the engine checks a resource under, for the provider to compare with its own.

A backup's identity and token are keyed by its URN, which the program side
computes before registering (identity.resource_urn, following the engine's
rule in pkg/resource/urn.go) because the provider is not told it. If that
rule and the engine's ever differed, a resource would be keyed under a URN
it does not have: a new token, and a second backup. The engine does send the
URN with every Check request; the host does not pass it on
(pulumi/dynamic/__main__.py). So this wraps the host's Check handler, as
host/cancel.py wraps Cancel, to note the URN for the thread the check runs
on, and the provider's check refuses a resource whose computed URN differs.

If the handler table differs, nothing is noted and nothing is compared; a
warning says so once.
"""

from __future__ import annotations

import threading
from typing import Any

from fsx_backup_provider.host.server import Handler, in_dynamic_provider_process, warn, wrap_method

CHECK_METHOD = "/pulumirpc.ResourceProvider/Check"
WARNING = (
    "fsx-backup-provider could not reach the Pulumi dynamic provider host's Check handler: "
    "it cannot compare the URN each FsxBackup computes for its token with the URN the engine "
    "uses. Operations go on as before."
)

_noted = threading.local()
_lock = threading.Lock()
_installed: bool | None = None


def install() -> bool:
    """Wrap the host's Check handler, once per process; whether it is in place."""
    global _installed
    with _lock:
        if _installed is None and in_dynamic_provider_process():
            try:
                _installed = wrap_method(CHECK_METHOD, _noting_urn) > 0
            except Exception:  # grpc's internals differ: nothing is compared
                _installed = False
            if not _installed:
                warn(WARNING)
        return bool(_installed)


def engine_urn() -> str | None:
    """The URN of the Check request this thread is serving, if the hook noted one."""
    urn = getattr(_noted, "urn", None)
    return urn if isinstance(urn, str) and urn else None


def _noting_urn(answer: Handler) -> Handler:
    def check_noting_urn(request: Any, context: Any) -> Any:
        _noted.urn = getattr(request, "urn", None)
        try:
            return answer(request, context)
        finally:
            _noted.urn = None

    return check_noting_urn
