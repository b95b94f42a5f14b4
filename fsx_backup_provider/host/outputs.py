"""Stop the SDK's end-of-program wait from polling a resource's own outputs.

Every Output the Python SDK creates is added to a set (`SETTINGS.outputs`,
pulumi/output.py `_track`) that `wait_for_rpcs` (pulumi/runtime/stack.py)
drains when the program returns. It drains it with
`asyncio.wait(FIRST_COMPLETED)` in a loop, while registrations are still in
flight (their RPCs are only counted once they start running), so each round
adds and removes a done-callback on every pending output: for 200 backups of
16 registered properties, about 3,600 outputs over dozens of rounds: about
0.4 ms per backup, two fifths of what an FsxBackup preview cost beyond a
one-property resource (`make bench`, 1.198 to 1.121 of the floor).

FsxBackup's registrations all wait for the stack's seed, so at the end of a
200-backup program all 200 are still pending: without this, a preview cost
8% more than a no-op of the same registered shape (`make bench`).

A resource's own outputs need none of that but one: all are resolved, or
failed, by the same step of its registration. So the urn stays tracked, and
the SDK still waits for the registration and raises its error; the others
are released. The SDK makes the same argument when an `apply` takes over a
source output (`Output._untrack`, "a derived output has taken over
responsibility for it"), and that is the call used here; outputs derived
from these by users are still tracked as usual.

This leans on `Output._untrack`, which SDKs before output tracking do not
have (pulumi 3.216, the oldest admitted, tracks nothing and has no drain to
speed up). Where it is missing, nothing is released: slower at most, never
wrong (tests/unit/test_outputs.py runs that path too).
"""

from __future__ import annotations

from collections.abc import Iterable

import pulumi

# The SDK method relied on, by name (tests take it away to run the other path).
UNTRACK = "_untrack"


def release_own_outputs(resource: pulumi.Resource, keys: Iterable[str]) -> None:
    """Untrack the outputs the SDK created for a dynamic `resource`'s id, its
    `__provider` (which pulumi.dynamic.Resource registers itself) and `keys`.

    The urn stays tracked: it is resolved, or failed, by the same registration
    step as every other output, so the SDK still waits for this resource's
    registration and still raises its error, exactly as before.
    """
    untrack = getattr(pulumi.Output, UNTRACK, None)
    if untrack is None:
        return
    for key in ("id", "__provider", *keys):
        output = resource.__dict__.get(key)
        if isinstance(output, pulumi.Output):
            untrack(output)
