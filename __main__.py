"""Example stack: FSx backups declared from stack configuration.

    config:
      fsx-backup-demo:backups:
        - name: lustre-nightly
          fileSystemId: fs-0123456789abcdef0
          tags: {Name: lustre-nightly}
        - name: ontap-volume
          volumeId: fsvol-0123456789abcdef0

Each entry becomes one FsxBackup; the stack exports `backups`: name -> its ID,
ARN, lifecycle and tags. With `fsx-backup-demo:copyToRegion: us-west-2`, each
backup also has an FsxBackupCopy in that Region (`<name>-copy`, its ID
exported as `copy_id`): copies for disaster recovery. The entries are read
and checked by the same code as `fsx-backup`'s spec files
(fsx_backup_provider/cli/spec.py): same fields, same errors.
"""

import pulumi

from fsx_backup_provider.cli.program import declare_and_export
from fsx_backup_provider.cli.spec import SpecError, specs_from_config
from fsx_backup_provider.cli.text import cap_lines

config = pulumi.Config()
try:
    specs = specs_from_config(config.get_object("backups"), config.full_key("backups"))
except SpecError as error:
    # RunError ends the program with the message alone, not a traceback of this file.
    raise pulumi.RunError("\n".join(cap_lines(error.problems))) from None
declare_and_export(specs, copy_to_region=config.get("copyToRegion"))
