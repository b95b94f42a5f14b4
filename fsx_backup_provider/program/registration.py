"""What FsxBackup and FsxBackupCopy add to their inputs before registering.

The provider is not told a resource's URN, options or which inputs are
secret, but needs all three: the URN for the token and the progress lines,
`replace_on_changes` (which the engine only applies to a detailed diff, and
Python dynamic providers cannot return one), and which values an error may
quote. So the program side sends them as inputs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi.dynamic import Resource, ResourceProvider
from pulumi.runtime.config import is_config_secret

from fsx_backup_provider.core.constants import DEFAULT_TAGS_CONFIG
from fsx_backup_provider.host.outputs import release_own_outputs
from fsx_backup_provider.program import preview, seed
from fsx_backup_provider.program.seed import resource_urn, stack_identity


def may_hold_outputs(value: Any) -> bool:
    if isinstance(value, pulumi.Output):
        return True
    return isinstance(value, Mapping) and any(isinstance(v, pulumi.Output) for v in value.values())


def merged(args: Any, **keywords: Any) -> dict[str, Any]:
    """A resource's inputs: each keyword argument if given, else the Args class's field."""
    return {
        name: value if value is not None else getattr(args, name)
        for name, value in keywords.items()
    }


async def _constant(value: Any) -> Any:
    return value


def secret_input_names(inputs: Mapping[str, Any]) -> pulumi.Output[list[str]] | None:
    """The names of the inputs whose values turn out secret, as an input that depends on nothing.

    Whether an Output is secret is only known once it resolves; the
    registration waits for its inputs anyway. None when no input is an Output
    and the default tags are not secret (the usual case adds nothing).
    """
    outputs = {k: v for k, v in inputs.items() if may_hold_outputs(v)}
    secret_defaults = is_config_secret(DEFAULT_TAGS_CONFIG)
    if not outputs and not secret_defaults:
        return None

    async def names() -> list[str]:
        found = [DEFAULT_TAGS_CONFIG] if secret_defaults else []
        for key, value in outputs.items():
            if await pulumi.Output.from_input(value).is_secret():
                found.append(key)
        return sorted(found)

    return pulumi.Output(set(), names(), _constant(True), _constant(False))


def secret_outputs(
    inputs: Mapping[str, Any], derived_outputs: Mapping[str, Sequence[str]]
) -> list[str]:
    """The outputs to store as secrets because an input they repeat may be secret.

    The engine marks an output secret when the input of the same name was
    (`tags`, `region`, ...), but not an output that holds the value under
    another name: `tags_all` (the tags and the default tags), `given` (the
    token and Region as declared), a copy's tags copied from its source. The
    provider cannot mark them itself (dynamic providers do not accept
    secrets), so the program asks for them at registration. Whether an
    Output is secret is only known later, so any Output counts.
    """
    found: list[str] = []
    if may_hold_outputs(inputs.get("tags")) or is_config_secret(DEFAULT_TAGS_CONFIG):
        found.append("tags_all")
    for name, outputs in derived_outputs.items():
        if may_hold_outputs(inputs.get(name)):
            found += [output for output in outputs if output not in found]
    return found


def prepare(
    resource_type: str,
    resource_name: str,
    opts: pulumi.ResourceOptions | None,
    inputs: dict[str, Any],
    output_keys: tuple[str, ...],
    derived_outputs: Mapping[str, Sequence[str]] | None = None,
) -> tuple[dict[str, Any], pulumi.ResourceOptions]:
    """The properties to register and the options to register them with.

    `derived_outputs` maps an input to the outputs that hold its value under
    another name (see `secret_outputs`).
    """
    opts = copy.copy(opts) if opts else pulumi.ResourceOptions()
    props: dict[str, Any] = dict.fromkeys(output_keys)
    if opts.id is not None:
        # `.get`: the engine only reads the backup; no inputs are sent.
        return props, opts
    if opts.import_ is not None:
        # The engine's import reads the resource with neither inputs nor
        # state (ImportStep in pkg/resource/deploy/step.go), and the Python
        # dynamic provider host needs `__provider` from one of them to find
        # the provider at all. So an import becomes a create that adopts the
        # given backup: create() describes it, checks it, and makes no
        # CreateBackup call.
        inputs["import_backup_id"] = opts.import_
        opts.import_ = None
    secret_names = secret_input_names(inputs)
    urn = resource_urn(resource_type, resource_name, opts.parent)
    inputs["resource_urn"] = urn
    inputs["identity"] = stack_identity(urn, resource_name, opts.parent)
    if opts.replace_on_changes:
        inputs["replace_on_changes"] = list(opts.replace_on_changes)
    if secret_names is not None:
        inputs["secret_inputs"] = secret_names
    secret = secret_outputs(inputs, derived_outputs or {})
    if secret:
        opts.additional_secret_outputs = [*(opts.additional_secret_outputs or []), *secret]
    # Unset inputs are left out rather than sent as nulls: every property
    # costs serialisation on each preview, and the provider applies defaults.
    props.update({key: value for key, value in inputs.items() if value is not None})
    return props, opts


def register(
    resource: Resource,
    provider: ResourceProvider,
    type_token: str,
    resource_name: str,
    opts: pulumi.ResourceOptions | None,
    inputs: dict[str, Any],
    output_keys: tuple[str, ...],
    derived_outputs: Mapping[str, Sequence[str]],
) -> None:
    """What the constructor of an FsxBackup or FsxBackupCopy does with its inputs:
    prepare them, register the resource, release its own outputs from the SDK's
    tracking (host/outputs.py), declare what its preview outputs need
    (preview.py), and, unless it is read by ID, put it in the stack's seed."""
    props, opts = prepare(type_token, resource_name, opts, inputs, output_keys, derived_outputs)
    Resource.__init__(resource, provider, resource_name, props, opts)
    release_own_outputs(resource, props)
    preview.declare(resource, type_token, inputs, opts)
    if opts.id is None:
        seed.track(resource)
