"""What every resource of this provider does the same way, in the provider process.

- Ownership (ownership.py): which backups and tokens the stack holds or held;
  a create never takes one of those.
- Gates: at most one backup of a source (FSx answers BackupInProgress to a
  second), at most five copies to a Region, started from this process at a
  time; the rest queue here instead of asking FSx every second.
- The create under a stable token (walk past deleted and held backups), the
  wait for AVAILABLE with progress, and delete-and-wait.

The provider instance is pickled into every resource's state, so it holds no
state of its own: what must be shared lives in the module-level ProcessState,
one per provider process (one per engine run).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fsx_backup_provider.aws.fsx import (
    FINAL_LIFECYCLES,
    Backup,
    Connection,
    FsxApiError,
    client_for,
    tag_map,
)
from fsx_backup_provider.aws.poller import BackupPoller, Progress, WaitTimeout
from fsx_backup_provider.core.config import ProviderSettings
from fsx_backup_provider.core.holder import HOLDER_TAG, foreign_holder, made_by, refusal
from fsx_backup_provider.core.ownership import NOT_LOADED, Ownership
from fsx_backup_provider.host.progress import report
from fsx_backup_provider.host.watchdog import engine_gone
from fsx_backup_provider.version import stamp

DEFAULT_CREATE_TIMEOUT = 1800.0
DEFAULT_DELETE_TIMEOUT = 1800.0
# The shortest time between two DescribeBackups rounds; most rounds are
# further apart (the poller goes by each backup's progress).
POLL_INTERVAL_SECONDS = 0.5
# Backoff while FSx says "not now" for a reason outside this process
# (another backup of the source, the copy limit, a source being copied).
BACKOFF_START_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 30.0


class FsxBackupError(Exception):
    """A failure the user must see: names the backup or token and what to do."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        stamp(self)


# The dynamic provider host shows the engine `traceback.format_exc()`, whose
# last line names the exception's class by module: the package's name reads best.
FsxBackupError.__module__ = "fsx_backup_provider"


def settled(backup: Backup | None) -> bool:
    """FSx no longer knows the backup, or it will not change by itself any more."""
    return backup is None or backup.get("Lifecycle") in FINAL_LIFECYCLES


def gone(backup: Backup | None) -> bool:
    return backup is None or backup.get("Lifecycle") == "DELETED"


def remaining(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.0)


def backoff(start: float = BACKOFF_START_SECONDS) -> Iterator[float]:
    delay = start
    while True:
        yield delay
        delay = min(delay * 2, BACKOFF_MAX_SECONDS)


# -- gates ----------------------------------------------------------------------


@dataclass(eq=False)
class _Slot:
    backup_id: str | None = None
    done: bool = False
    # The create that took the slot is itself waiting for its backup to
    # settle, and will say when (Gate.settled): nobody else need poll it.
    watched: bool = False


class Gate:
    """At most `capacity` backups of one kind in progress from this process.

    A slot is taken before the request and stays busy until the backup it
    started settles, even if its create returned earlier (wait_for_available
    false). A thread that finds every slot busy waits for one to free: the
    creates that wait for their own backups say when they settle, and a
    backup nobody waits for any more is followed through the poller (one
    batched DescribeBackups for all). Either way nobody asks FSx to start a
    backup that it would refuse.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._cond = threading.Condition()
        self._slots: list[_Slot] = []

    @contextmanager
    def slot(
        self,
        poller: BackupPoller,
        deadline: float,
        on_queued: Callable[[str], None],
        timed_out: Callable[[str], Exception],
    ) -> Iterator[_Slot]:
        taken = self._enter(poller, deadline, on_queued, timed_out)
        try:
            yield taken
        finally:
            with self._cond:
                if taken.backup_id is None:
                    taken.done = True
                self._cond.notify_all()

    def _enter(
        self,
        poller: BackupPoller,
        deadline: float,
        on_queued: Callable[[str], None],
        timed_out: Callable[[str], Exception],
    ) -> _Slot:
        announced = False
        while True:
            with self._cond:
                self._slots = [s for s in self._slots if not s.done]
                if len(self._slots) < self.capacity:
                    taken = _Slot()
                    self._slots.append(taken)
                    return taken
                started = [s for s in self._slots if s.backup_id is not None]
                unwatched = [s for s in started if not s.watched]
                if not unwatched:
                    # Every slot is asking FSx, or its create is waiting for
                    # its backup and will say when it settles.
                    if time.monotonic() >= deadline:
                        raise timed_out(str(started[0].backup_id) if started else "")
                    if started and not announced:
                        announced = True
                        on_queued(str(started[0].backup_id))
                    self._cond.wait(timeout=min(remaining(deadline), 1.0))
                    continue
                target = unwatched[0]
                assert target.backup_id is not None
                ahead = target.backup_id
            announced = True
            on_queued(ahead)
            try:
                poller.wait_for(ahead, settled, timeout=remaining(deadline))
            except WaitTimeout as timeout:
                raise timed_out(ahead) from timeout
            with self._cond:
                target.done = True
                self._cond.notify_all()

    def started(self, taken: _Slot, backup: Backup, watched: bool) -> None:
        """The slot's request started (or found) `backup`; it is busy until that settles.

        `watched`: the create goes on to wait for the backup, and will call
        `settled` (or `unwatched`, if it stops waiting first).
        """
        with self._cond:
            if settled(backup):
                taken.done = True
            else:
                taken.backup_id = backup["BackupId"]
                taken.watched = watched
            self._cond.notify_all()

    def settled(self, backup_id: str) -> None:
        """The backup of a slot settled: the slot is free."""
        self._mark(backup_id, done=True)

    def unwatched(self, backup_id: str) -> None:
        """Its create no longer waits for this backup (it failed, or returned): poll it."""
        self._mark(backup_id, done=False)

    def _mark(self, backup_id: str, done: bool) -> None:
        with self._cond:
            for slot in self._slots:
                if slot.backup_id == backup_id:
                    slot.watched = False
                    slot.done = slot.done or done
            self._cond.notify_all()


# -- the process ----------------------------------------------------------------


class ProcessState:
    """What the provider process shares across resources and threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.settings = ProviderSettings()
        self.pollers: dict[Connection, BackupPoller] = {}
        self.ownership = Ownership()
        self.gates: dict[tuple[Any, ...], Gate] = {}
        # The tags of the stack's backups this process has seen, by backup ID:
        # a copy with copy_tags checks its tag count against its source's.
        self.known_tags: dict[str, dict[str, str]] = {}
        # Set when the engine cancels the run: sleeps between retries end.
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        """The engine cancels the run: every wait of this process ends now.

        A backup being made is left in FSx, as after a timeout: the next
        `pulumi up` finds it again by its token and resumes waiting on it.
        """
        self.cancelled.set()
        with self.lock:
            pollers = list(self.pollers.values())
        for poller in pollers:
            # An FsxApiError: the providers already say what a failed wait
            # means for the backup waited on (kept, and found again).
            poller.abort(
                FsxApiError(
                    "DescribeBackups",
                    "Cancelled",
                    "the run was cancelled (Ctrl-C) while this was waited on",
                    0,
                )
            )

    def poller(self, connection: Connection) -> BackupPoller:
        with self.lock:
            found = self.pollers.get(connection)
            if found is None:
                found = BackupPoller(client_for(connection), interval=POLL_INTERVAL_SECONDS)
                self.pollers[connection] = found
            return found

    def gate(self, key: tuple[Any, ...], capacity: int) -> Gate:
        with self.lock:
            found = self.gates.get(key)
            if found is None:
                found = self.gates[key] = Gate(capacity)
            return found


_process = ProcessState()


def process_state() -> ProcessState:
    return _process


# -- progress -------------------------------------------------------------------


def progress_reporter(urn: Any) -> Progress:
    """Report each change of lifecycle or ProgressPercent of the resource at `urn`, once."""
    last: tuple[Any, Any] | None = None

    def progress(backup: Backup) -> None:
        nonlocal last
        seen = (backup.get("Lifecycle"), backup.get("ProgressPercent"))
        if seen == last:
            return
        last = seen
        percent = f" {seen[1]}%" if seen[1] is not None else ""
        report(urn, f"{backup['BackupId']}: {seen[0]}{percent}")

    return progress


# -- create under a stable token ----------------------------------------------------


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


def ensure_engine(what: str) -> None:
    """Raise instead of changing FSx once the engine that asked for the change is gone.

    A provider outlives a killed engine for a moment (host/watchdog.py ends
    it); nothing it sends then is recorded anywhere, so it sends nothing.
    """
    if engine_gone():
        raise FsxBackupError(
            f"{what} was not sent to FSx: the Pulumi engine that asked for it is gone "
            "(killed or crashed). Nothing was changed; run the command again."
        )


def wait_available(
    poller: BackupPoller,
    backup: Backup,
    token: str | None,
    deadline: float,
    progress: Progress | None,
) -> Backup:
    """Wait until the backup leaves its in-progress lifecycles; FsxBackupError if not in time."""
    backup_id = backup["BackupId"]
    try:
        final = poller.wait_for(backup_id, settled, timeout=remaining(deadline), progress=progress)
    except FsxApiError as error:
        raise FsxBackupError(
            f"could not follow backup {backup_id} (token {token!r}) while it is created: "
            f"{error}. The backup is left in FSx; once this is fixed, re-running "
            "`pulumi up` resumes waiting on this same backup."
        ) from None
    except WaitTimeout as timeout:
        last = timeout.last or backup
        lifecycle, percent = last.get("Lifecycle"), last.get("ProgressPercent")
        raise FsxBackupError(
            f"backup {backup_id} (token {token!r}) is still {lifecycle}"
            + (f" at {percent}%" if percent is not None else "")
            + " after create_timeout_seconds. It is left in FSx and is not lost: "
            "re-running `pulumi up` resumes waiting on this same backup (the token "
            "finds it again); raise create_timeout_seconds if these backups take longer."
        ) from None
    if final is None or final.get("Lifecycle") == "DELETED":
        raise FsxBackupError(
            f"backup {backup_id} (token {token!r}) was deleted outside Pulumi while it "
            "was being created. Run `pulumi up` again to create a new one."
        )
    return final


# -- delete ---------------------------------------------------------------------


def delete_and_wait(
    delete: Callable[[], str],
    poller: BackupPoller,
    backup_id: str,
    timeout: float,
    urn: Any = None,
) -> None:
    """DeleteBackup, waiting out what FSx says must finish first, then wait until it is gone.

    BackupNotFound counts as done. BackupInProgress (the backup is still
    being created) is waited out through the poller; BackupBeingCopied (a
    copy of it is being made, perhaps in another Region) and BackupRestoring
    (a file system or volume is being restored from it: a restore test, say)
    with a backoff, as FSx does not follow either through the backup.
    """
    deadline = time.monotonic() + timeout
    delays = backoff()
    while True:
        ensure_engine(f"the request to delete backup {backup_id}")
        try:
            lifecycle = delete()
            break
        except FsxApiError as error:
            if error.code == "BackupNotFound":
                return
            if error.code not in ("BackupInProgress", "BackupBeingCopied", "BackupRestoring"):
                raise FsxBackupError(f"could not delete backup {backup_id}: {error}") from None
            if remaining(deadline) <= 0:
                raise FsxBackupError(
                    f"backup {backup_id} could not be deleted before delete_timeout_seconds ran "
                    f"out (FSx: {error.code}); run `pulumi destroy` (or up) again."
                ) from None
            if error.code in ("BackupBeingCopied", "BackupRestoring"):
                what = "a copy of it" if error.code == "BackupBeingCopied" else "a restore of it"
                delay = min(next(delays), remaining(deadline))
                report(urn, f"{backup_id}: waiting {delay:.0f} s for {what} to finish")
                if _process.cancelled.wait(delay):
                    raise FsxBackupError(
                        f"backup {backup_id} was not deleted: the run was cancelled (Ctrl-C) "
                        f"while {what} was being made; run `pulumi destroy` again."
                    ) from None
                continue
        try:
            poller.wait_for(backup_id, settled, timeout=remaining(deadline))
        except WaitTimeout:
            raise FsxBackupError(
                f"backup {backup_id} stayed in progress until delete_timeout_seconds ran "
                "out and could not be deleted; run `pulumi destroy` (or up) again."
            ) from None
        except FsxApiError as error:
            raise FsxBackupError(
                f"could not wait for backup {backup_id} before deleting it: {error}"
            ) from None
    if lifecycle == "DELETED":
        # DELETED is final: FSx may list the backup a while longer, but it
        # never comes back, so there is nothing left to wait for.
        return
    try:
        poller.wait_for(backup_id, gone, timeout=remaining(deadline))
    except WaitTimeout:
        raise FsxBackupError(
            f"backup {backup_id} was asked to delete but is still there after "
            "delete_timeout_seconds; run `pulumi destroy` again to keep waiting."
        ) from None
    except FsxApiError as error:
        raise FsxBackupError(
            f"backup {backup_id} was asked to delete, but could not be followed: {error}"
        ) from None


def whole_number(value: Any) -> int | None:
    # Pulumi carries every number as a float; 3.0 in the state is the int 3.
    if isinstance(value, int | float) and not isinstance(value, bool) and value == int(value):
        return int(value)
    return None


def timeout_of(props: Mapping[str, Any], key: str, default: float) -> float:
    value = props.get(key)
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )
