"""`fsx-emulator` / `python -m fsx_emulator`: run the FSx emulator until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import sys
import threading
import warnings
from collections.abc import Sequence

from fsx_emulator.config import EmulatorConfig
from fsx_emulator.extra import missing_extra_message
from fsx_emulator.process import READY_PREFIX

# The model's SubnetId pattern; cli.py reads no service model, so that a wrong flag is
# told at once, before moto and botocore are imported.
SUBNET_ID = re.compile(r"subnet-[0-9a-f]{8,}")


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def parse_args(argv: Sequence[str] | None = None) -> EmulatorConfig:
    defaults = EmulatorConfig()
    parser = argparse.ArgumentParser(
        prog="fsx-emulator",
        description="A local Amazon FSx endpoint (AWS JSON 1.1 protocol) for backup tests.",
    )
    parser.add_argument(
        "--host",
        default=defaults.host,
        help="address to bind (default: %(default)s, loopback only)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=defaults.port,
        help="port to bind; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--region",
        default=defaults.region,
        help="region assumed for requests that name none (default: %(default)s)",
    )
    parser.add_argument(
        "--backup-seconds",
        type=_non_negative,
        default=defaults.backup_seconds,
        help="how long a backup stays CREATING (default: %(default)s)",
    )
    parser.add_argument(
        "--copy-seconds",
        type=_non_negative,
        default=None,
        help="how long a backup copy stays PENDING and COPYING (default: --backup-seconds)",
    )
    parser.add_argument(
        "--restore-seconds",
        type=_non_negative,
        default=None,
        help="how long a file system or volume restored from a backup stays CREATING "
        "(default: --backup-seconds)",
    )
    parser.add_argument(
        "--delete-seconds",
        type=_non_negative,
        default=None,
        help="how long a deleted file system or volume stays DELETING (default: "
        "--restore-seconds)",
    )
    parser.add_argument(
        "--subnet-id",
        action="append",
        default=[],
        metavar="SUBNET",
        dest="subnet_ids",
        help="a subnet restores may name in every Region, besides those of the file "
        "systems created there (repeatable)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the fault generator (default: a random seed)",
    )
    parser.add_argument(
        "--throttle-rate",
        type=_rate,
        default=defaults.throttle_rate,
        help="share of FSx calls answered ThrottlingException (default: 0)",
    )
    parser.add_argument(
        "--error-rate",
        type=_rate,
        default=defaults.error_rate,
        help="share of FSx calls answered InternalServerError (default: 0)",
    )
    parser.add_argument(
        "--token-ttl-seconds",
        type=_positive,
        default=None,
        help="forget ClientRequestTokens this long after what they made (default: never)",
    )
    parser.add_argument(
        "--enforce-iam",
        type=_count,
        default=None,
        metavar="N",
        help="enforce IAM policies after the first N calls (moto's "
        "INITIAL_NO_AUTH_ACTION_COUNT; default: never)",
    )
    parser.add_argument(
        "--log-requests", action="store_true", help="log one line per request to stderr"
    )
    parser.add_argument(
        "--exit-with-stdin",
        action="store_true",
        help="stop when stdin is closed, e.g. when the process holding its other end dies "
        "(EmulatorProcess passes it: an emulator never outlives the test that started it)",
    )
    args = parser.parse_args(argv)
    if args.throttle_rate + args.error_rate > 1.0:
        parser.error("--throttle-rate plus --error-rate must be at most 1")
    for subnet_id in args.subnet_ids:
        if SUBNET_ID.fullmatch(subnet_id) is None:
            parser.error(f"--subnet-id {subnet_id!r} is not a subnet ID (subnet-0123456789abcdef0)")
    return EmulatorConfig(
        host=args.host,
        port=args.port,
        region=args.region,
        backup_seconds=args.backup_seconds,
        copy_seconds=args.copy_seconds,
        restore_seconds=args.restore_seconds,
        delete_seconds=args.delete_seconds,
        seed=args.seed,
        throttle_rate=args.throttle_rate,
        error_rate=args.error_rate,
        token_ttl_seconds=args.token_ttl_seconds,
        enforce_iam=args.enforce_iam,
        log_requests=args.log_requests,
        subnet_ids=tuple(args.subnet_ids),
        exit_with_stdin=args.exit_with_stdin,
    )


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    # Imported here so that a missing `emulator` extra is told in one line, not a traceback
    # (nor moto's own multi-line warning about the same thing).
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from fsx_emulator.server import build_server
    except ModuleNotFoundError as missing:
        print(f"fsx-emulator: {missing_extra_message(str(missing.name))}", file=sys.stderr)
        return 1
    server = build_server(config)
    stop = threading.Event()

    def request_stop(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    if config.exit_with_stdin:
        # The parent's end of the pipe is closed by the kernel however the parent
        # ends, SIGKILL included: exact, with no polling of the parent's PID.
        def watch_stdin() -> None:
            with contextlib.suppress(OSError, ValueError):
                while sys.stdin.buffer.read(4096):
                    pass
            stop.set()

        threading.Thread(target=watch_stdin, name="fsx-emulator-stdin", daemon=True).start()
    # serve_forever runs beside the main thread because shutdown() must be called from
    # another thread than the one serving, and signal handlers always run in the main one.
    # A short poll interval makes shutdown prompt; an idle poll costs next to nothing.
    serving = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="fsx-emulator", daemon=True
    )
    serving.start()
    host, port = str(server.server_address[0]), server.server_address[1]
    shown_host = f"[{host}]" if ":" in host else host
    print(f"{READY_PREFIX}http://{shown_host}:{port}", flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()
    serving.join()
    return 0
