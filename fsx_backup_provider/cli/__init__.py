"""`fsx-backup`: declare FSx backups from the command line and deploy them.

    fsx-backup up --file backups.yaml --region us-east-1
    fsx-backup preview --backup nightly=fs-0123456789abcdef0,Env=prod --json
    fsx-backup rotate --source fs-0123456789abcdef0 --keep 7 --every day
    fsx-backup destroy --stack dev

A console script on top of the Pulumi Automation API: an inline program
declares one FsxBackup per declared backup, and the command runs on the
chosen stack and backend (a local file backend by default). See docs/cli.md.

    spec.py, specfile.py   declared backups: parsing (safely) and checking
    program.py             the inline Pulumi program
    events.py              the engine's events: progress, changes, errors
    engine.py, state.py    the engine, backend, region and stack; what its state holds
    deploy.py              running up/preview/refresh/destroy/cancel
    render.py, text.py     what is printed, kept small
    parser.py              argparse: every command, its flags and their help
    commands.py            each command, its output and exit code
    rotate*.py             rotate: the run (rotate.py), its result, checks, engine
                           steps and --dry-run; rotation_plan.py plans it, no I/O
    inventory.py           list: what a stack holds
    ../aws/restores.py     restore-test: restore a backup, check it, delete it again

Exit codes: 0 success (for `preview`: no changes), 1 the engine or the
deployment failed, 2 usage or spec error (nothing was run), 3 `preview`
succeeded and there are changes, 130 interrupted.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """The console script `fsx-backup`; returns the exit code.

    Imported on call: `fsx_backup_provider.cli.spec` (used by the example
    stack) then loads without the whole command line, and
    `fsx_backup_provider.cli.rotate`, which the commands import and which
    imports modules of this package, does not import the commands back.
    """
    from fsx_backup_provider.cli.commands import main as run_main

    return run_main(argv)
