import sys

from fsx_emulator.cli import main

sys.exit(main())
