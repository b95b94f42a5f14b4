"""The command line: running each command with its output and exit code (its grammar: parser.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TextIO

from fsx_backup_provider.aws.restore_plan import RestoreTestResult
from fsx_backup_provider.aws.restores import run_restore_test
from fsx_backup_provider.cli.deploy import cancel, run
from fsx_backup_provider.cli.engine import (
    DEFAULT_STACK,
    Target,
    UsageError,
    default_backend,
    find_engine,
    prepare_backend,
    resolve_region,
)
from fsx_backup_provider.cli.events import Console
from fsx_backup_provider.cli.inventory import Listing, list_backups
from fsx_backup_provider.cli.parser import (
    COMMANDS,
    DEPLOY_COMMANDS,
    _ArgumentError,
    build_parser,
)
from fsx_backup_provider.cli.render import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    INTERRUPTED_MESSAGE,
    Report,
    render_listing,
    render_restore_test,
    render_rotation,
    render_table,
    write_json,
)
from fsx_backup_provider.cli.rotate import (
    ADJECTIVE,
    RotationFailed,
    RotationResult,
    rotate,
)
from fsx_backup_provider.cli.rotate_checks import default_stack, retention_of
from fsx_backup_provider.cli.rotation_plan import RULES
from fsx_backup_provider.cli.spec import SpecError, build_specs, parse_tag_flags
from fsx_backup_provider.cli.text import cap_lines, clip


def _refuse(
    document: dict[str, Any], wants_json: bool, message: str, problems: Sequence[str]
) -> int:
    """A usage or spec error: on stderr, and as the command's JSON shape on stdout."""
    message = clip(message)
    print(f"fsx-backup: error: {message}", file=sys.stderr)
    if list(problems) != [message]:
        for problem in cap_lines(problems):
            print(f"  {problem}", file=sys.stderr)
    if wants_json:
        write_json(
            {
                **document,
                "result": "failed",
                "exit_code": EXIT_USAGE,
                "error": message,
                "problems": cap_lines(problems),
            },
            sys.stdout,
        )
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """The `fsx-backup` console script; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    wants_json = "--json" in arguments
    command = arguments[0] if arguments and arguments[0] in COMMANDS else None
    try:
        args = build_parser().parse_args(arguments)
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else EXIT_OK
    except _ArgumentError as error:
        print(error.usage, end="", file=sys.stderr)
        message = clip(str(error))
        document = (
            {**RestoreTestResult("").to_json(), "backup_id": None}
            if command == "restore-test"
            else Report(command).to_json()
        )
        return _refuse(document, wants_json, message, [message])
    if args.command == "restore-test":
        return _restore_test(args, sys.stdout)
    try:
        if args.command == "rotate":
            return _rotate(args, sys.stdout)
        if args.command in ("list", "ls"):
            return _list(args, sys.stdout)
        return _stack_command(args, sys.stdout)
    except KeyboardInterrupt:
        # Ctrl-C outside an engine command (those end as `cancelled` reports).
        print(f"fsx-backup: {INTERRUPTED_MESSAGE}", file=sys.stderr)
        if wants_json:
            document = (
                _rotation_stub(args).to_json()
                if args.command == "rotate"
                else Report(args.command, args.stack or DEFAULT_STACK, args.project).to_json()
            )
            document.update(
                result="cancelled", exit_code=EXIT_INTERRUPTED, error=INTERRUPTED_MESSAGE
            )
            write_json(document, sys.stdout)
        return EXIT_INTERRUPTED


def _stack_command(args: argparse.Namespace, out: TextIO) -> int:
    target = Target(
        stack=args.stack or DEFAULT_STACK,
        project=args.project,
        backend=args.backend or default_backend(),
        region=getattr(args, "region", None),
        endpoint_url=getattr(args, "endpoint_url", None),
        profile=getattr(args, "profile", None),
    )
    report = Report(args.command, target.stack, target.project, target.backend)
    problems = target.problems()
    if getattr(args, "parallel", 1) < 1:
        problems.append(f"--parallel must be at least 1, got {args.parallel}")
    if problems:
        return _refuse(report.to_json(), args.json, problems[0], problems)
    specs = []
    if args.command in DEPLOY_COMMANDS:
        try:
            specs = build_specs(args.file, args.backup, args.tag)
        except SpecError as error:
            message = "the backups as declared cannot be used:"
            return _refuse(report.to_json(), args.json, message, error.problems)
        if args.command in ("up", "preview") and not specs:
            message = (
                "no backups declared: give --file or --backup (to delete every backup of the "
                "stack, run `fsx-backup destroy`)"
            )
            return _refuse(report.to_json(), args.json, message, [message])
    try:
        target = replace(target, backend=prepare_backend(target.backend, create=False))
        find_engine()
        if args.command in DEPLOY_COMMANDS:
            target = replace(target, region=resolve_region(args.region, args.profile))
        # Last: a file:// backend's directory is created only for a command that runs.
        target = replace(target, backend=prepare_backend(target.backend))
    except UsageError as error:
        return _refuse(report.to_json(), args.json, str(error), [str(error)])
    console = Console()
    if args.command == "cancel":
        report = cancel(target, console)
    else:
        report = run(
            args.command,
            target,
            specs,
            console,
            parallel=args.parallel,
            verbose=args.verbose,
            refresh=bool(getattr(args, "refresh", False)),
        )
    if report.error:
        console.line(f"fsx-backup: {args.command} {report.result}:")
        for line in cap_lines(report.error.splitlines()):
            console.line(line)
    if args.json:
        write_json(report.to_json(), out)
    elif args.command == "cancel" and report.exit_code == EXIT_OK:
        out.write(f"cancel succeeded on stack {target.stack}: no lock is held on it now\n")
    else:
        out.write(render_table(report) + "\n")
    return report.exit_code


def _rotation_stub(args: argparse.Namespace) -> RotationResult:
    """The result of a rotate that did not get to run."""
    stack = args.stack or default_stack(args.source, args.every, args.name)
    stub = RotationResult(stack, args.project, args.backend or default_backend(), None)
    stub.dry_run = bool(args.dry_run)
    return stub


def _rotate(args: argparse.Namespace, out: TextIO) -> int:
    failed = _rotation_stub(args)
    console = Console()
    try:
        tags, problems = parse_tag_flags(args.tag)
        if problems:
            raise SpecError(problems)
        result = rotate(
            args.source,
            args.keep,
            keep_last=args.keep_last,
            keep_hourly=args.keep_hourly,
            keep_daily=args.keep_daily,
            keep_weekly=args.keep_weekly,
            keep_monthly=args.keep_monthly,
            keep_yearly=args.keep_yearly,
            dry_run=args.dry_run,
            every=args.every,
            at=args.at,
            name=args.name,
            tags=tags,
            stack=failed.stack,
            project=args.project,
            backend=args.backend,
            region=args.region,
            endpoint_url=args.endpoint_url,
            profile=args.profile,
            parallel=args.parallel,
            progress=console.line,
            engine_output=console.line if args.verbose else None,
            copy_to_region=args.copy_to_region,
            copy_kms_key_id=args.copy_kms_key_id,
            restore_test=args.restore_test,
            restore_test_timeout=args.restore_test_timeout,
            adopt_stack=args.adopt_stack,
        )
        if result.error:
            console.line(f"fsx-backup: rotate {result.result}: {clip(result.error)}")
    except SpecError as error:
        return _refuse(failed.to_json(), args.json, "rotate cannot run:", error.problems)
    except UsageError as error:
        return _refuse(failed.to_json(), args.json, str(error), [str(error)])
    except RotationFailed as failure:
        console.line(f"fsx-backup: rotate {failure.result.result}:")
        for line in cap_lines(str(failure).splitlines()):
            console.line(line)
        result = failure.result
    if args.json:
        write_json(result.to_json(), out)
    else:
        out.write(render_rotation(result) + "\n")
    return result.exit_code


def _restore_test(args: argparse.Namespace, out: TextIO) -> int:
    console = Console()
    result = RestoreTestResult(args.backup_id)
    try:
        run_restore_test(
            result,
            subnet_ids=tuple(args.subnet_id),
            security_group_ids=tuple(args.security_group_id),
            svm_id=args.svm_id,
            region=args.region,
            endpoint_url=args.endpoint_url,
            profile=args.profile,
            timeout=args.timeout,
            keep_restored=args.keep_restored,
            progress=console.line,
        )
    except KeyboardInterrupt:
        result.result, result.exit_code = "cancelled", EXIT_INTERRUPTED
        result.error = (
            "interrupted (Ctrl-C). Run the same command again: it first deletes what this "
            "run restored (found by its tag)."
        )
    if result.error:
        prefix = "refused" if result.exit_code == EXIT_USAGE else result.result
        console.line(f"fsx-backup: restore-test {prefix}: {clip(result.error)}")
    if args.json:
        write_json(result.to_json(), out)
    else:
        out.write(render_restore_test(result) + "\n")
    return result.exit_code


def _list(args: argparse.Namespace, out: TextIO) -> int:
    stack = args.stack or (
        default_stack(args.source, args.every or "day", args.name) if args.source else None
    )
    listing = Listing(stack or DEFAULT_STACK, args.project, args.backend or default_backend())
    counts = [getattr(args, f"keep_{rule}") for rule in RULES]
    try:
        if stack is None:
            raise SpecError(["give --stack, or the rotation's --source (with --every/--name)"])
        retention = None
        if args.keep is not None or any(count is not None for count in counts):
            retention = retention_of(args.keep, **dict(zip(RULES, counts, strict=True)))
        listing = list_backups(
            stack,
            project=args.project,
            backend=args.backend,
            region=args.region,
            endpoint_url=args.endpoint_url,
            profile=args.profile,
            retention=retention,
            prefix=args.name or (ADJECTIVE.get(args.every) if args.every else None),
            every=args.every,
        )
    except SpecError as error:
        return _refuse(listing.to_json(), args.json, "list cannot run:", error.problems)
    except UsageError as error:
        return _refuse(listing.to_json(), args.json, str(error), [str(error)])
    if listing.error:
        print(f"fsx-backup: list {listing.result}: {listing.error}", file=sys.stderr)
    if args.json:
        write_json(listing.to_json(), out)
    else:
        out.write(render_listing(listing) + "\n")
    return listing.exit_code
