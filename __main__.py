"""Example stack. Until the FsxBackup resource lands it holds one no-op dynamic
resource from the installed package, which proves the engine toolchain."""

import pulumi

from fsx_backup_provider.noop import Noop

greeting = Noop("greeting", value=pulumi.Config().get("greeting") or "hello")
pulumi.export("greeting", greeting.value)
