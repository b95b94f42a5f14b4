"""Run the emulator as a child process: `with EmulatorProcess(...) as emulator: ...`."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import IO

from fsx_emulator.client import Emulator
from fsx_emulator.extra import missing_extra_message, missing_extra_module

# The line the CLI prints once it serves; defined here, not in cli.py, so that starting
# a child process does not import moto into the parent.
READY_PREFIX = "fsx-emulator listening on "


class EmulatorStartError(RuntimeError):
    """The emulator process exited or stayed silent instead of reporting it was ready."""


class EmulatorExtraMissing(EmulatorStartError):
    """The `emulator` extra is not installed, so no emulator process was started."""


class EmulatorProcess:
    """Start `python -m fsx_emulator` on a free loopback port; stop it on exit.

    Keyword arguments mirror the CLI flags; None leaves a flag at its default.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us-east-1",
        backup_seconds: float | None = None,
        copy_seconds: float | None = None,
        restore_seconds: float | None = None,
        delete_seconds: float | None = None,
        seed: int | None = None,
        throttle_rate: float | None = None,
        error_rate: float | None = None,
        token_ttl_seconds: float | None = None,
        enforce_iam: int | None = None,
        subnet_ids: Sequence[str] = (),
        startup_timeout: float = 30.0,
    ) -> None:
        self.region = region
        self.startup_timeout = startup_timeout
        self.args = [
            sys.executable,
            "-m",
            "fsx_emulator",
            "--host",
            host,
            "--port",
            str(port),
            "--region",
            region,
            "--exit-with-stdin",
        ]
        flags = {
            "--backup-seconds": backup_seconds,
            "--copy-seconds": copy_seconds,
            "--restore-seconds": restore_seconds,
            "--delete-seconds": delete_seconds,
            "--seed": seed,
            "--throttle-rate": throttle_rate,
            "--error-rate": error_rate,
            "--token-ttl-seconds": token_ttl_seconds,
            "--enforce-iam": enforce_iam,
        }
        for flag, value in flags.items():
            if value is not None:
                self.args += [flag, str(value)]
        for subnet_id in subnet_ids:
            self.args += ["--subnet-id", subnet_id]
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> Emulator:
        # The child runs this same interpreter, so what it could not import is known here,
        # before a child fails with a traceback on its own stderr.
        missing = missing_extra_module()
        if missing is not None:
            raise EmulatorExtraMissing(missing_extra_message(missing))
        # stdin is a pipe this process holds open and never writes: when this
        # process ends in any way (a killed test run), the emulator sees its end
        # and stops (--exit-with-stdin).
        process = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True
        )
        self._process = process
        assert process.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        # The reader keeps draining stdout after the ready line, so a chatty child can
        # never block on a full pipe.
        threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
        seen: list[str] = []
        while True:
            try:
                line = lines.get(timeout=self.startup_timeout)
            except queue.Empty:
                self.stop()
                raise EmulatorStartError(
                    f"{' '.join(self.args)} did not report ready within "
                    f"{self.startup_timeout} s; stdout so far: {seen}"
                ) from None
            if line is None:
                code = process.wait()
                raise EmulatorStartError(
                    f"{' '.join(self.args)} exited with code {code} before it was ready; "
                    f"stdout: {seen} (its stderr went to this process's stderr)"
                )
            if line.startswith(READY_PREFIX):
                return Emulator(line[len(READY_PREFIX) :].strip(), self.region)
            seen.append(line.rstrip())

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the process (SIGTERM, then SIGKILL after `timeout`); return its exit code."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.stdin is not None:
            process.stdin.close()
        if process.poll() is None:
            process.terminate()
            try:
                return process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
        return process.wait()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)
