"""How to start the emulator, kept apart from the server so that reading flags needs no moto."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmulatorConfig:
    """How to start the emulator; the CLI flags, one field each."""

    host: str = "127.0.0.1"
    port: int = 0
    region: str = "us-east-1"
    backup_seconds: float = 3.0
    # None: copies take as long as backups.
    copy_seconds: float | None = None
    # None: restores take as long as backups.
    restore_seconds: float | None = None
    # None: deletes take as long as restores.
    delete_seconds: float | None = None
    seed: int | None = None
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    token_ttl_seconds: float | None = None
    enforce_iam: int | None = None
    log_requests: bool = False
    # Subnets a restore may name in every account and Region.
    subnet_ids: tuple[str, ...] = ()
    # Stop when stdin reaches its end: the parent that holds its other end died.
    exit_with_stdin: bool = False
