"""Tell the engine which inputs a diff found changed: `preview --diff` and diffReasons.

The Python dynamic provider host builds its DiffResponse from DiffResult's
`changes`, `replaces` and `delete_before_replace` only (pulumi/dynamic/__main__.py):
the engine is never told which properties changed. It then shows, in
`pulumi preview --diff`, every input whose value differs between the old and
new inputs, the provider's own bookkeeping inputs included (`identity`,
`resource_urn`, `token_epoch` move for reasons that change nothing in FSx, and
are unknown at preview while the stack's seed is updated), and gives no
diffReasons in `preview --json`.

So the provider's diff notes, for the thread it runs on, the inputs it found
changed and which of them replace (`note`); this module wraps the host's Diff
handler, as host/cancel.py wraps Cancel, to add them to the response as
`diffs` and as a detailed diff. The engine then shows and reports exactly
those (and applies `replace_on_changes` to them itself). Other dynamic
providers of the process note nothing, and their responses pass unchanged.

It leans on grpc's handler table (host/server.wrap_method). If that differs,
nothing is wrapped: plans are as right as before, and `--diff` lists every
changed input again; a warning says so once.

Why not DiffResult's `stables` as well: the engine records a provider's
stable keys on the update step but never reads them (pkg/resource/deploy/step.go,
UpdateStep), so they would not keep an output known at preview.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from fsx_backup_provider.host.server import Handler, in_dynamic_provider_process, warn, wrap_method

DIFF_METHOD = "/pulumirpc.ResourceProvider/Diff"
WARNING = (
    "fsx-backup-provider could not reach the Pulumi dynamic provider host's Diff handler: "
    "plans are unchanged, but `pulumi preview --diff` lists every changed input of an "
    "FsxBackup (its internal ones too) instead of what changed, and `preview --json` gives "
    "no diffReasons for it."
)

_noted = threading.local()
_lock = threading.Lock()
_installed: bool | None = None


def note(
    changed: Sequence[str],
    replaces: Sequence[str],
    unless_input_changed: Mapping[str, str] | None = None,
) -> None:
    """What the diff running on this thread found: the changed properties, those
    that replace, and keys to name otherwise when the input itself is unchanged
    (the change came from elsewhere: `tags` whose values are the same while the
    default tags moved is a change of `tags_all`)."""
    _noted.value = (list(dict.fromkeys(changed)), set(replaces), dict(unless_input_changed or {}))


def install() -> bool:
    """Wrap the host's Diff handler, once per process; whether it is in place."""
    global _installed
    with _lock:
        if _installed is None and in_dynamic_provider_process():
            try:
                _installed = wrap_method(DIFF_METHOD, _with_detail) > 0
            except Exception:  # grpc's internals differ: plans as before
                _installed = False
            if not _installed:
                warn(WARNING)
        return bool(_installed)


def _with_detail(answer: Handler) -> Handler:
    def diff_with_detail(request: Any, context: Any) -> Any:
        _noted.value = None
        response = answer(request, context)
        noted = getattr(_noted, "value", None)
        _noted.value = None
        if noted is not None:
            detail(response, request, *noted)
        return response

    return diff_with_detail


def detail(
    response: Any,
    request: Any,
    changed: Sequence[str],
    replaces: set[str],
    unless_input_changed: Mapping[str, str],
) -> None:
    """Add `changed` to a DiffResponse as its diffs and its detailed diff.

    An input only in the new inputs is added, one only in the old inputs
    deleted, any other updated; a key that replaces says so. Every entry is an
    input diff: a key that is no input (`tags_all`, a FAILED `lifecycle`) is then
    named by the plan with no values, rather than shown as an output deleted.
    """
    from pulumi.runtime.proto import provider_pb2

    kinds = provider_pb2.PropertyDiff
    old_fields = request.old_inputs.fields if request.HasField("old_inputs") else {}
    new_fields = request.news.fields
    old_inputs, new_inputs = set(old_fields), set(new_fields)
    for noted in changed:
        key = noted
        if noted in unless_input_changed and old_fields.get(noted) == new_fields.get(noted):
            key = unless_input_changed[noted]
        if key in new_inputs and key not in old_inputs:
            kind = kinds.ADD_REPLACE if key in replaces else kinds.ADD
        elif key in old_inputs and key not in new_inputs:
            kind = kinds.DELETE_REPLACE if key in replaces else kinds.DELETE
        else:
            kind = kinds.UPDATE_REPLACE if key in replaces else kinds.UPDATE
        response.diffs.append(key)
        response.detailedDiff[key].CopyFrom(kinds(kind=kind, inputDiff=True))
    if changed:
        response.hasDetailedDiff = True
