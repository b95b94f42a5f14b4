"""The IAM actions an FSx request needs besides its own, which moto does not judge.

moto authorizes a request against the one action its operation is named for. FSx asks
for more where a request does more than its name says, and documents it:

- tag on create: creating a resource with tags also needs `fsx:TagResource` ("Grant
  permission to tag resources during creation" in the FSx user guides). Which
  operations create with tags is read from the model: those whose request has `Tags`.
- tagging a final backup: a delete with `FinalBackupTags` needs `fsx:TagResource` (the
  model's documentation of DeleteVolumeOntapConfiguration says so; the file system
  deletes tag their final backups the same way).
- a Lustre final backup: DeleteFileSystem with LustreConfiguration.SkipFinalBackup false
  needs `fsx:CreateBackup` (the model's documentation of that member).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from fsx_emulator import servicemodel

TAG_RESOURCE = "TagResource"

# The delete operations' configuration members that can tag a final backup.
_FINAL_BACKUP_CONFIGURATIONS = {
    "DeleteFileSystem": ("WindowsConfiguration", "LustreConfiguration", "OpenZFSConfiguration"),
    "DeleteVolume": ("OntapConfiguration",),
}


@functools.cache
def _creates_with_tags() -> frozenset[str]:
    return frozenset(
        name
        for name in servicemodel.OPERATION_NAMES
        if name != TAG_RESOURCE
        and (shape := servicemodel.FSX_MODEL.operation_model(name).input_shape) is not None
        and "Tags" in shape.members
    )


def implied_actions(operation: str, params: Mapping[str, Any]) -> list[str]:
    """The IAM actions (without the `fsx:` prefix) a request of `operation` with
    `params` needs besides `operation` itself, in the order they are judged."""
    actions: list[str] = []
    if operation in _creates_with_tags() and params.get("Tags"):
        actions.append(TAG_RESOURCE)
    for member in _FINAL_BACKUP_CONFIGURATIONS.get(operation, ()):
        configuration = params.get(member)
        if not isinstance(configuration, Mapping):
            continue
        if member == "LustreConfiguration" and configuration.get("SkipFinalBackup") is False:
            actions.append("CreateBackup")
        if configuration.get("FinalBackupTags") and TAG_RESOURCE not in actions:
            actions.append(TAG_RESOURCE)
    return actions
