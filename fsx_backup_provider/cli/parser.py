"""The command line's grammar: every command, its flags and their help (argparse)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

from fsx_backup_provider.aws.restore_plan import DEFAULT_TIMEOUT_SECONDS
from fsx_backup_provider.cli.engine import (
    DEFAULT_PARALLEL,
    DEFAULT_PROJECT,
    DEFAULT_STACK,
    UsageError,
    default_backend,
)
from fsx_backup_provider.cli.rotate import (
    ADJECTIVE,
    EVERY,
)
from fsx_backup_provider.cli.rotation_plan import RULES

DEPLOY_COMMANDS = ("up", "preview", "refresh", "destroy")
COMMANDS = (*DEPLOY_COMMANDS, "rotate", "list", "ls", "cancel", "restore-test")
_EPILOG = (
    "exit codes: 0 success (preview: no changes), 1 engine or deployment failure (also: the "
    "stack is locked), 2 usage or spec error, 3 preview found changes, 130 interrupted. "
    "See docs/cli.md and docs/rotation.md."
)


class _ArgumentError(UsageError):
    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.usage = usage


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so `--json` can report usage errors too."""

    def error(self, message: str) -> NoReturn:
        raise _ArgumentError(message, self.format_usage())


def _parents() -> dict[str, _Parser]:
    stack = _Parser(add_help=False)
    stack.add_argument(
        "--stack",
        default=None,
        help=f"stack name (default: {DEFAULT_STACK}; for rotate: <prefix>-<source>)",
    )
    stack.add_argument(
        "--project", default=DEFAULT_PROJECT, help="project name (default: %(default)s)"
    )
    stack.add_argument(
        "--backend", default=None, help=f"state backend URL (default: {default_backend()}, created)"
    )
    stack.add_argument("--json", action="store_true", help="print the result as JSON")
    stack.add_argument(
        "-v", "--verbose", action="store_true", help="also stream the engine's output to stderr"
    )
    stack.add_argument(
        "-y", "--yes", action="store_true", help="accepted and ignored: never interactive"
    )
    aws = _Parser(add_help=False)
    aws.add_argument("--region", default=None, help="AWS region (default: the AWS chain)")
    aws.add_argument(
        "--endpoint-url", default=None, help="FSx endpoint URL (sets aws:endpoints fsx)"
    )
    aws.add_argument("--profile", default=None, help="AWS profile (sets aws:profile)")
    aws.add_argument(
        "--parallel",
        type=int,
        default=DEFAULT_PARALLEL,
        help="resource operations at once (default: %(default)s)",
    )
    spec = _Parser(add_help=False)
    spec.add_argument(
        "--file",
        type=Path,
        default=None,
        help='spec file (.yaml/.yml or .json): {"backups": [...]}',
    )
    spec.add_argument(
        "--backup",
        action="append",
        default=[],
        metavar="NAME=SOURCE[,Key=Value...]",
        help="declare a backup of fs-... or fsvol-... (repeatable)",
    )
    spec.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a tag for every backup (repeatable; an entry's own tag wins)",
    )
    return {"stack": stack, "aws": aws, "spec": spec}


def _version() -> str:
    import fsx_backup_provider

    return str(fsx_backup_provider.__version__)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fsx-backup",
        description=(
            "Declare Amazon FSx backups and deploy them with the Pulumi engine. "
            "Non-interactive: nothing asks for confirmation."
        ),
        epilog=_EPILOG,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="print the version"
    )
    parents = _parents()
    deploy_parents = [parents["stack"], parents["aws"], parents["spec"]]
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = commands.add_parser("up", parents=deploy_parents, help="create or update the backups")
    up.add_argument(
        "--refresh",
        action="store_true",
        help="refresh the state from FSx first, as `pulumi up --refresh`",
    )
    commands.add_parser("preview", parents=deploy_parents, help="show what up would change")
    commands.add_parser("refresh", parents=deploy_parents, help="read the live backups")
    commands.add_parser("destroy", parents=deploy_parents, help="delete every backup of the stack")
    rotate = commands.add_parser(
        "rotate",
        parents=[parents["stack"], parents["aws"]],
        help="a backup every period, kept by retention rules (docs/rotation.md)",
        epilog=_EPILOG,
    )
    rotate.add_argument("--source", required=True, help="the file system (fs-...) or ONTAP volume")
    rotate.add_argument(
        "--keep", type=int, default=None, metavar="N", help="the same as --keep-last N"
    )
    for rule, what in (
        ("last", "the newest N backups"),
        ("hourly", "the newest backup of each of the N most recent hours that hold one"),
        ("daily", "the newest backup of each of the N most recent UTC days that hold one"),
        ("weekly", "the newest backup of each of the N most recent ISO weeks that hold one"),
        ("monthly", "the newest backup of each of the N most recent months that hold one"),
        ("yearly", "the newest backup of each of the N most recent years that hold one"),
    ):
        rotate.add_argument(
            f"--keep-{rule}", type=int, default=None, metavar="N", help=f"keep {what}"
        )
    rotate.add_argument(
        "--dry-run",
        action="store_true",
        help="only read the state and FSx, and say what a run would create and delete",
    )
    rotate.add_argument(
        "--every",
        choices=EVERY,
        default="day",
        help="the period, in UTC; weeks start on Monday (default: %(default)s)",
    )
    rotate.add_argument("--at", default=None, help="ISO 8601 time, UTC (default: now)")
    rotate.add_argument(
        "--name", default=None, help=f"name prefix (default: {', '.join(ADJECTIVE.values())})"
    )
    rotate.add_argument(
        "--tag", action="append", default=[], metavar="KEY=VALUE", help="a tag on new backups"
    )
    rotate.add_argument(
        "--copy-to-region",
        default=None,
        metavar="REGION",
        help="keep a copy of each kept backup in this Region, rotated with it",
    )
    rotate.add_argument(
        "--copy-kms-key-id",
        default=None,
        metavar="KEY",
        help="the KMS key of new copies (default: the Region's FSx key)",
    )
    rotate.add_argument(
        "--restore-test",
        action="store_true",
        help="then restore-test the period's backup (restore, check, delete again); a failed "
        "restore test fails the run (exit 1) and deletes nothing the rotation keeps",
    )
    rotate.add_argument(
        "--adopt-stack",
        action="store_true",
        help="take a stack fsx-backup 0.3 or earlier rotated (it bears no rotation's mark) as "
        "this rotation's own; a stack without the mark is refused otherwise",
    )
    rotate.add_argument(
        "--restore-test-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"with --restore-test: as restore-test's --timeout (default: "
        f"{DEFAULT_TIMEOUT_SECONDS:g})",
    )
    listing = commands.add_parser(
        "list",
        aliases=["ls"],
        parents=[parents["stack"], parents["aws"]],
        help="one line per backup of a stack: ID, lifecycle, size, age, rules, copy",
        epilog=_EPILOG,
    )
    listing.add_argument(
        "--source",
        default=None,
        help="with --every/--name: the rotation's stack, <prefix>-<source> (instead of --stack)",
    )
    listing.add_argument(
        "--every", choices=EVERY, default=None, help="the rotation's period (default: recorded)"
    )
    listing.add_argument(
        "--name", default=None, help="the rotation's name prefix (default: recorded)"
    )
    listing.add_argument("--keep", type=int, default=None, metavar="N", help="as --keep-last N")
    for rule in RULES:
        listing.add_argument(
            f"--keep-{rule}",
            type=int,
            default=None,
            metavar="N",
            help=f"show which backups the {rule} rule keeps (default: the rules rotate recorded)",
        )
    commands.add_parser(
        "cancel",
        parents=[parents["stack"]],
        help="clear the stack's lock left by a killed run; only when no run is in progress",
    )
    _add_restore_test(commands)
    return parser


def _add_restore_test(commands: Any) -> None:
    restore = commands.add_parser(
        "restore-test",
        help="restore a backup, wait until it is ready, delete it again (docs/cli.md)",
        epilog=(
            "exit codes: 0 the restore test succeeded, 1 it failed (the restore ended FAILED "
            "or did not finish in --timeout, FSx refused a call), 2 refused: usage error, or "
            "a backup that is missing, not AVAILABLE or of a type FSx cannot restore (nothing "
            "was created), 130 interrupted. See docs/cli.md."
        ),
    )
    restore.add_argument("--backup-id", required=True, help="the backup to restore (backup-...)")
    restore.add_argument(
        "--subnet-id",
        action="append",
        default=[],
        metavar="SUBNET",
        help="a subnet for a restored file system (repeatable; default: the backed-up file "
        "system's subnets)",
    )
    restore.add_argument(
        "--security-group-id",
        action="append",
        default=[],
        metavar="SG",
        help="a security group for a restored file system (repeatable; default: none, so FSx "
        "uses the VPC's default security group)",
    )
    restore.add_argument(
        "--svm-id",
        default=None,
        metavar="SVM",
        help="the storage virtual machine for a restored ONTAP volume (default: the backed-up "
        "volume's)",
    )
    restore.add_argument("--region", default=None, help="AWS region (default: the AWS chain)")
    restore.add_argument("--endpoint-url", default=None, help="FSx endpoint URL")
    restore.add_argument("--profile", default=None, help="AWS profile")
    restore.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="the longest wait for the restore, and again for the delete (default: %(default)g)",
    )
    restore.add_argument(
        "--keep-restored",
        action="store_true",
        help="keep the restored file system or volume when the restore succeeded",
    )
    restore.add_argument("--json", action="store_true", help="print the result as JSON")
