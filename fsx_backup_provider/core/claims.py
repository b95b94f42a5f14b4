"""The create under a stable token: each request through its resource's Gate,
the waits FSx asks for waited out, and the walk past deleted backups and
backups another resource holds (ownership.py, holder.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from fsx_backup_provider.aws.errors import FsxApiError
from fsx_backup_provider.aws.fsx import Backup, tag_map
from fsx_backup_provider.aws.poller import BackupPoller
from fsx_backup_provider.core.gates import Gate
from fsx_backup_provider.core.holder import HOLDER_TAG, foreign_holder, made_by, refusal
from fsx_backup_provider.core.lifecycle import (
    FsxBackupError,
    backoff,
    ensure_engine,
    remaining,
)
from fsx_backup_provider.core.ownership import NOT_LOADED
from fsx_backup_provider.core.process import ProcessState
from fsx_backup_provider.host.progress import report


@dataclass
class CreateRequest:
    """One resource's create, as the shared walk needs it.

    `send(token)` makes the one FSx call (CreateBackup or CopyBackup).
    `waits` maps the error codes that mean "not now, for a reason outside
    this process" to what the progress line says while they are waited out.
    `candidates()` lists the live backups a token of this resource could
    name, for the one case FSx does not say which backup a token names.
    """

    urn: Any
    what: str
    send: Callable[[str], Backup]
    tokens: Iterator[str]
    user_token: str | None
    waits: Mapping[str, str]
    candidates: Callable[[], list[Backup]]
    # What a queued create waits for, in the progress line.
    queue_reason: str = "one backup of a source at a time"
    # What to do about an error FSx answers the request with, by its code.
    remedies: Mapping[str, str] = field(default_factory=dict)
    # The create waits for its backup to settle and tells the Gate (above).
    waits_for_settle: bool = True
    # The resource's identity from the stack's seed, and whether the request
    # carries its fsx-backup:stack tag: then a backup FSx answers with whose tag
    # names another stack is not taken (holder.py). Without it, a tag on the
    # answer proves nothing (a copy's may be copied from its source).
    identity: Any = None
    marked: bool = False


class _TokenUsedWithOtherParameters(Exception):
    def __init__(self, token: str, error: FsxApiError) -> None:
        super().__init__(str(error))
        self.token = token
        self.error = error


def send_waiting(
    request: CreateRequest, token: str, deadline: float, cancelled: threading.Event
) -> Backup:
    """One request, with the waits FSx asks for waited out until the deadline (or a cancel)."""
    delays = backoff()
    while True:
        ensure_engine(f"the request to create {request.what}")
        try:
            return request.send(token)
        except FsxApiError as error:
            if error.code == "IncompatibleParameterError":
                raise _TokenUsedWithOtherParameters(token, error) from None
            if error.code not in request.waits:
                remedy = request.remedies.get(error.code, "")
                raise FsxBackupError(
                    f"could not create {request.what}: {error}" + (f" {remedy}" if remedy else "")
                ) from None
            delay = min(next(delays), remaining(deadline))
            if delay <= 0:
                raise FsxBackupError(
                    f"could not create {request.what}: {request.waits[error.code]} until "
                    f"create_timeout_seconds ran out (FSx: {error.code}); nothing was created "
                    f"with token {token!r}. Run `pulumi up` again to retry, or raise "
                    "create_timeout_seconds."
                ) from None
            report(request.urn, f"waiting {delay:.0f} s: {request.waits[error.code]}")
            if cancelled.wait(delay):
                raise FsxBackupError(
                    f"could not create {request.what}: the run was cancelled (Ctrl-C) while "
                    f"{request.waits[error.code]}; nothing was created with token {token!r}."
                ) from None


def claim(
    state: ProcessState,
    request: CreateRequest,
    gate: Gate,
    poller: BackupPoller,
    deadline: float,
) -> tuple[Backup, str]:
    """Walk the tokens to the first that is free or names the resource's own backup, and take it.

    A token the stack holds or held (ownership.py) is passed by without
    asking FSx. Each request goes through the resource's Gate; the backup it
    starts (or finds) keeps the slot busy until it settles. A found backup is
    the resource's own interrupted create exactly when neither it nor its
    token is held by the stack: ownership is known before the first create,
    so this decides at once, with no wait for other resources.
    """
    ownership = state.ownership

    def queued(ahead: str) -> None:
        report(request.urn, f"queued behind {ahead} ({request.queue_reason})")

    def timed_out(ahead: str) -> Exception:
        behind = f" behind {ahead}" if ahead else ""
        return FsxBackupError(
            f"{request.what} was still queued{behind} ({request.queue_reason}) when "
            "create_timeout_seconds ran out; nothing was created. Raise create_timeout_seconds "
            "to cover the queue, or run `pulumi up` again."
        )

    if not ownership.loaded:
        raise FsxBackupError(
            f"could not create {request.what}: {NOT_LOADED}. Run `pulumi up` with the seed "
            "included (add --target for its URN, or leave out --target/--exclude)."
        )
    for token in request.tokens:
        with gate.slot(poller, deadline, queued, timed_out) as slot:
            # Checked once the slot is held, not before: another resource of
            # this run may have taken the token while this one was queued (the
            # same user token in two resources).
            holder = ownership.retired(token)
            if holder is not None:
                _refuse_user_token(request, token, None, holder)
                continue
            try:
                backup = send_waiting(request, token, deadline, state.cancelled)
            except _TokenUsedWithOtherParameters as used:
                _pass_over_used_token(state, request, used)
                continue
            gate.started(slot, backup, request.waits_for_settle)
        if backup.get("Lifecycle") == "DELETED":
            if request.user_token:
                raise FsxBackupError(
                    f"client_request_token {token!r} already named backup {backup['BackupId']}, "
                    "which is now deleted, and FSx still remembers the token. Give this resource "
                    "a new client_request_token (or remove it to let the provider derive one)."
                )
            continue
        made_by = foreign_holder(tag_map(backup), request.identity, request.urn)
        if request.marked and made_by is not None:
            # Another stack's backup (the same user token in two stacks): FSx
            # answered with it, but no state of this stack can hold it.
            if request.user_token:
                raise FsxBackupError(
                    f"client_request_token {token!r} names backup {backup['BackupId']}, but "
                    + refusal(made_by, backup.get("ResourceARN"), request.urn)
                    + " Or give this resource a client_request_token of its own."
                )
            continue
        holder = ownership.take(backup["BackupId"], token, _name_of(request.urn))
        if holder is not None:
            _refuse_user_token(request, token, backup, holder)
            continue
        return backup, token
    raise AssertionError("unreachable: token generations are unbounded")


def _name_of(urn: Any) -> str:
    """The resource's name in its URN (`...::name`), as a holder is named in messages."""
    return str(urn).rsplit("::", 1)[-1] if urn else ""


def _refuse_user_token(
    request: CreateRequest, token: str, backup: Backup | None, holder: str
) -> None:
    if request.user_token:
        named = f"names backup {backup['BackupId']}, which" if backup else "is one that"
        raise FsxBackupError(
            f"client_request_token {token!r} {named} {_holder_text(holder)} holds or held; "
            "give this resource a token of its own."
        )


def _holder_text(holder: str) -> str:
    return holder if holder == "the stack" else f"resource {holder} of this stack"


def _pass_over_used_token(
    state: ProcessState, request: CreateRequest, used: _TokenUsedWithOtherParameters
) -> None:
    """Decide whether a token FSx says was used with other parameters can be passed over.

    FSx does not say which backup that is. A token the stack holds or held is
    not this create's (claim passes those by before asking). Otherwise its
    backup is this resource's own interrupted create, made with other tags. If
    no live backup that could bear the token is left once the backups the
    stack holds, and those another stack's tag names, are set aside, it is
    gone and the next generation is right.
    Otherwise passing over would leave that backup unmanaged: say so rather
    than guess.
    """
    ownership = state.ownership
    if request.user_token:
        raise FsxBackupError(
            f"FSx refuses client_request_token {used.token!r}: it was used before with other "
            f"parameters ({used.error.message}). Either another stack sets the same "
            f"client_request_token (each stack sends its own {HOLDER_TAG} tag, so the two "
            f"requests differ{_other_stacks(request)}), or a create of this resource was "
            "interrupted and its tags changed before this run (or this stack was renamed or "
            "cloned since, which changes its tag). Give this resource a client_request_token "
            "of its own; for an interrupted create, restore the tags it had and run `pulumi up` "
            "again."
        )
    try:
        live = request.candidates()
    except FsxApiError as lookup:
        raise FsxBackupError(
            f"could not list the backups {request.what} could be: {lookup}"
        ) from None
    # Backups another stack's tag names cannot bear this stack's token either.
    unheld = sorted(
        b["BackupId"]
        for b in live
        if b["BackupId"] not in ownership.held_backups()
        and foreign_holder(tag_map(b), request.identity, request.urn) is None
    )
    if not unheld:
        return
    raise FsxBackupError(
        f"FSx already has a backup made with ClientRequestToken {used.token!r} but with other "
        f"parameters than those declared now ({used.error.message}), and it cannot tell whether "
        "that backup is one of the live backups no resource of this stack holds "
        f"({', '.join(unheld)}). This happens when a create was interrupted and its tags were "
        "changed before re-running: restore the tags of the interrupted run and run `pulumi up` "
        "again (then change them); or, if that backup should be left alone, set "
        "client_request_token to a new value."
    )


def _other_stacks(request: CreateRequest) -> str:
    """`; backups of this source other stacks made: ...`, or nothing (best effort)."""
    try:
        live = request.candidates()
    except FsxApiError:
        return ""
    found = []
    for backup in live:
        value = foreign_holder(tag_map(backup), request.identity, request.urn)
        if value is not None:
            found.append(f"{backup['BackupId']} ({made_by(value)})")
    if not found:
        return ""
    return f"; backups of this source other stacks made: {', '.join(sorted(found))}"
