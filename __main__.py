"""Example stack: FSx backups declared from stack configuration.

    config:
      fsx-backup-demo:backups:
        - name: lustre-nightly
          fileSystemId: fs-0123456789abcdef0
          tags: {Name: lustre-nightly}
        - name: ontap-volume
          volumeId: fsvol-0123456789abcdef0

Each entry becomes one FsxBackup; the stack exports its ID, ARN and lifecycle.
"""

from typing import Any

import pulumi

from fsx_backup_provider import FsxBackup

config = pulumi.Config()
declared: list[dict[str, Any]] = config.get_object("backups") or []
names = [str(entry.get("name", "")) for entry in declared]
duplicates = sorted({name for name in names if names.count(name) > 1})
if duplicates:
    raise ValueError(f"backups: each entry needs a unique name; repeated: {duplicates}")

outputs = {}
for entry in declared:
    if not entry.get("name"):
        raise ValueError(f"backups: every entry needs a name, got {entry!r}")
    backup = FsxBackup(
        entry["name"],
        file_system_id=entry.get("fileSystemId"),
        volume_id=entry.get("volumeId"),
        tags=entry.get("tags"),
    )
    outputs[entry["name"]] = {
        "backup_id": backup.backup_id,
        "arn": backup.arn,
        "lifecycle": backup.lifecycle,
    }

pulumi.export("backups", outputs)
