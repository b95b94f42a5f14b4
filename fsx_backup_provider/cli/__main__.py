"""`python -m fsx_backup_provider.cli`: the same as the `fsx-backup` console script."""

import sys

from fsx_backup_provider.cli import main

sys.exit(main())
