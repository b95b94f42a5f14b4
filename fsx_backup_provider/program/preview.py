"""What `pulumi preview` shows of a backup or copy that is updated in place.

At preview the engine asks a provider that declares provider-side previews
for the outputs an update will have; any other provider's update gets its
new inputs as its outputs (pkg/resource/plugin/provider_plugin.go, Update), so
every output that is not also an input is unknown to the program. The Python
dynamic provider host cannot declare provider-side previews: it answers the
engine's Configure before any provider's code is loaded (pulumi/dynamic/__main__.py),
and its Diff never passes `stables` on (which the engine records on the update
step but does not read). So a tag change of a backup made its ID, ARN, Region
and token unknown at preview, and everything wired to them, a copy's
`source_backup_id` say, planned a replacement "because the source might change".

The program side does what the provider cannot. A change of anything but
tags replaces a backup (the provider's diff), so an in-place update changes
only `tags`, `tags_all` and what FSx says of the backup's lifecycle; every
other output stays what the stack's state records for that same backup. At
preview, the resource's ID is known exactly when the resource is kept
(unchanged or updated in place; a replacement's ID is unknown), and it is the
backup's ID. So an output that the engine leaves unknown, of a resource whose
ID is known, resolves at preview to the state's value for that backup:
`backup_id` is the ID itself; the others are read, once per preview and only
if one is needed, with the engine's builtin `pulumi:pulumi:readStackResourceOutputs`
(the invoke behind stack references) on the program's own stack. Whether such
an output is secret follows the resource's declaration as the update would
(a secret input of the same name, additional_secret_outputs).

If the state cannot be read, the output stays unknown, as for any other
dynamic provider, and one warning says so. Nothing here runs outside a preview.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar, overload

import pulumi

from fsx_backup_provider.program.stack_state import Held, checkpoint

T = TypeVar("T")

# Outputs an in-place update (tags only) may change; every other output of an
# FsxBackup or FsxBackupCopy is what the state records for the same backup.
CHANGED_IN_PLACE = frozenset({"tags", "tags_all", "lifecycle"})
WARNING = (
    "fsx-backup-provider could not read this stack's state to show, at preview, the "
    "outputs of FsxBackups updated in place ({reason}): they show as unknown in this "
    "preview (and resources wired to them may plan changes they will not make). "
    "`pulumi up` itself is not affected."
)
# Where a resource keeps what the descriptors need: its type token, the names
# of its secret outputs, and its declared inputs.
_DECLARATION = "_fsx_preview_declaration"
_BUILT = "_fsx_preview_outputs"


_warned: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


async def _recorded(type_token: str, backup_id: str) -> Held | None:
    """What the stack's last checkpoint records of this backup (stack_state.py)."""
    read = await checkpoint()
    if read.error is not None:
        loop = asyncio.get_event_loop()
        if loop not in _warned:
            _warned.add(loop)
            pulumi.log.warn(WARNING.format(reason=read.error))
        return None
    return read.find(type_token, backup_id)


def declare(
    resource: pulumi.Resource,
    type_token: str,
    inputs: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
) -> None:
    """Record what the stable outputs of `resource` need (called once it is registered)."""
    resource.__dict__[_DECLARATION] = (
        type_token,
        frozenset(opts.additional_secret_outputs or ()),
        dict(inputs),
    )


class StableOutput(Generic[T]):
    """An output an in-place update never changes: at preview, the state's value
    for the same backup when the engine leaves it unknown (see module docstring).

    A data descriptor, so it is found before the instance's own attribute,
    where the SDK resolves the output as registered; outside a preview, and
    until it is needed, that Output is returned as it is. Set on the class
    after its body (`install`), so the SDK's type metadata, which reads the
    class's annotations, still sees `pulumi.Output[T]`.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> StableOutput[T]: ...

    @overload
    def __get__(self, instance: pulumi.Resource, owner: type | None = None) -> pulumi.Output[T]: ...

    def __get__(
        self, instance: pulumi.Resource | None, owner: type | None = None
    ) -> StableOutput[T] | pulumi.Output[T]:
        if instance is None:
            return self
        raw: pulumi.Output[T] = instance.__dict__[self.name]
        declaration = instance.__dict__.get(_DECLARATION)
        if declaration is None or not pulumi.runtime.is_dry_run():
            return raw
        built: dict[str, pulumi.Output[Any]] = instance.__dict__.setdefault(_BUILT, {})
        if self.name not in built:
            built[self.name] = _known_at_preview(instance, self.name, raw, declaration)
        return built[self.name]

    def __set__(self, instance: pulumi.Resource, value: pulumi.Output[T]) -> None:
        instance.__dict__[self.name] = value
        instance.__dict__.get(_BUILT, {}).pop(self.name, None)


def _known_at_preview(
    resource: pulumi.Resource,
    key: str,
    raw: pulumi.Output[Any],
    declaration: tuple[str, frozenset[str], dict[str, Any]],
) -> pulumi.Output[Any]:
    type_token, secret_outputs, inputs = declaration

    async def resolve() -> tuple[Any, bool, bool]:
        secret = await raw.is_secret() or key in secret_outputs
        if key in inputs and inputs[key] is not None:
            secret = secret or await pulumi.Output.from_input(inputs[key]).is_secret()
        if await raw.is_known():
            return await raw.future(), True, secret
        resource_id = resource.id  # type: ignore[attr-defined]
        if not await resource_id.is_known():
            return None, False, secret
        backup_id = await resource_id.future()
        if key == "backup_id":
            return backup_id, True, secret
        recorded = await _recorded(type_token, str(backup_id))
        if recorded is None:
            return None, False, secret
        # Every output is stored with every backup; one the read leaves out is
        # null (the engine sends no nulls), and a value FSx left empty (a file
        # system backup's volume_id) stays empty.
        return recorded.outputs.get(key), True, secret or key in recorded.secret_keys

    resolved = asyncio.ensure_future(resolve())

    def part(index: int) -> asyncio.Future[Any]:
        async def value() -> Any:
            return (await resolved)[index]

        # A task, not a bare coroutine: an Output nobody reads (a program that
        # failed first) would leave the coroutine un-awaited, and Python warns.
        return asyncio.ensure_future(value())

    output: pulumi.Output[Any] = pulumi.Output(raw.resources(), part(0), part(1), part(2))
    return output


def install(resource_class: type, output_keys: Iterable[str]) -> None:
    """Make the outputs of `resource_class` that an in-place update never changes StableOutputs."""
    for key in output_keys:
        if key not in CHANGED_IN_PLACE:
            setattr(resource_class, key, StableOutput[Any](key))
