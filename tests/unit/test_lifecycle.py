"""The shared create machinery: ownership, gates, the token walk (core/claims.py, gates.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from fsx_backup_provider.aws.errors import FsxApiError
from fsx_backup_provider.aws.poller import WaitTimeout
from fsx_backup_provider.core.claims import CreateRequest, claim
from fsx_backup_provider.core.gates import Gate
from fsx_backup_provider.core.lifecycle import FsxBackupError
from fsx_backup_provider.core.process import ProcessState


class FakePoller:
    """Backups settle when the test says so."""

    def __init__(self) -> None:
        self.lifecycles: dict[str, str] = {}
        self.cond = threading.Condition()
        self.waited: list[str] = []

    def set(self, backup_id: str, lifecycle: str) -> None:
        with self.cond:
            self.lifecycles[backup_id] = lifecycle
            self.cond.notify_all()

    def wait_for(
        self, backup_id: str, condition: Callable[[Any], bool], timeout: float, progress: Any = None
    ) -> dict[str, Any]:
        self.waited.append(backup_id)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                backup = {"BackupId": backup_id, "Lifecycle": self.lifecycles.get(backup_id)}
                if condition(backup):
                    return backup
                if time.monotonic() >= deadline:
                    raise WaitTimeout(backup_id, backup)
                self.cond.wait(timeout=0.05)


def request(send: Callable[[str], dict[str, Any]], **overrides: Any) -> CreateRequest:
    fields: dict[str, Any] = {
        "urn": None,
        "what": "a backup of file system 'fs-1'",
        "send": send,
        "tokens": iter(f"t{g}" for g in range(100)),
        "user_token": None,
        "waits": {"BackupInProgress": "another backup of this source is in progress"},
        "candidates": lambda: [],
    }
    fields.update(overrides)
    return CreateRequest(**fields)


def state() -> ProcessState:
    """A process whose seed was checked: the stack holds nothing yet."""
    made = ProcessState()
    made.ownership.load([], [])
    return made


def far() -> float:
    return time.monotonic() + 30


# -- gates ------------------------------------------------------------------------


def _timed_out(ahead: str) -> Exception:
    return FsxBackupError(f"timed out behind {ahead}")


def test_a_gate_of_one_queues_the_next_create_until_the_first_backup_settles() -> None:
    gate, poller = Gate(1), FakePoller()
    queued: list[str] = []
    with gate.slot(poller, far(), queued.append, _timed_out) as slot:  # type: ignore[arg-type]
        # Its create returned without waiting (wait_for_available false).
        gate.started(slot, {"BackupId": "backup-1", "Lifecycle": "CREATING"}, watched=False)
    threading.Timer(0.3, lambda: poller.set("backup-1", "AVAILABLE")).start()
    started = time.monotonic()
    with gate.slot(poller, far(), queued.append, _timed_out):  # type: ignore[arg-type]
        waited = time.monotonic() - started
    assert waited >= 0.25
    assert queued == ["backup-1"]


def test_a_gate_lets_capacity_through_at_once() -> None:
    gate, poller = Gate(5), FakePoller()
    for n in range(5):
        with gate.slot(poller, far(), lambda _a: None, _timed_out) as slot:  # type: ignore[arg-type]
            gate.started(slot, {"BackupId": f"backup-{n}", "Lifecycle": "COPYING"}, watched=False)
    assert poller.waited == []
    soon = time.monotonic() + 0.2
    with (
        pytest.raises(FsxBackupError, match="timed out behind backup-0"),
        gate.slot(poller, soon, lambda _a: None, _timed_out),  # type: ignore[arg-type]
    ):
        pass


def test_a_create_that_waits_for_its_backup_frees_the_slot_when_it_settles() -> None:
    """The queued create learns at once, from the create ahead, not from a poll."""
    gate, poller = Gate(1), FakePoller()
    queued: list[str] = []
    with gate.slot(poller, far(), queued.append, _timed_out) as slot:  # type: ignore[arg-type]
        gate.started(slot, {"BackupId": "backup-1", "Lifecycle": "CREATING"}, watched=True)
    threading.Timer(0.3, lambda: gate.settled("backup-1")).start()
    started = time.monotonic()
    with gate.slot(poller, far(), queued.append, _timed_out):  # type: ignore[arg-type]
        waited = time.monotonic() - started
    assert 0.25 <= waited < 2
    assert queued == ["backup-1"] and poller.waited == []


def test_a_create_that_stops_waiting_leaves_its_backup_to_the_poller() -> None:
    gate, poller = Gate(1), FakePoller()
    with gate.slot(poller, far(), lambda _a: None, _timed_out) as slot:  # type: ignore[arg-type]
        gate.started(slot, {"BackupId": "backup-1", "Lifecycle": "CREATING"}, watched=True)
    gate.unwatched("backup-1")
    threading.Timer(0.3, lambda: poller.set("backup-1", "AVAILABLE")).start()
    with gate.slot(poller, far(), lambda _a: None, _timed_out):  # type: ignore[arg-type]
        pass
    assert poller.waited == ["backup-1"]


def test_a_failed_request_frees_its_slot() -> None:
    gate, poller = Gate(1), FakePoller()
    with (
        pytest.raises(RuntimeError),
        gate.slot(poller, far(), lambda _a: None, _timed_out),  # type: ignore[arg-type]
    ):
        raise RuntimeError("FSx said no")
    with gate.slot(poller, time.monotonic() + 0.2, lambda _a: None, _timed_out):  # type: ignore[arg-type]
        pass
    assert poller.waited == []


# -- the token walk ---------------------------------------------------------------


def test_the_walk_passes_over_deleted_backups() -> None:
    answers = {"t0": "DELETED", "t1": "DELETED", "t2": "CREATING"}
    sent: list[str] = []

    def send(token: str) -> dict[str, Any]:
        sent.append(token)
        return {"BackupId": f"backup-{token}", "Lifecycle": answers[token]}

    backup, token = claim(state(), request(send), Gate(1), FakePoller(), far())  # type: ignore[arg-type]
    assert (backup["BackupId"], token, sent) == ("backup-t2", "t2", ["t0", "t1", "t2"])


def test_the_walk_passes_over_a_backup_another_resource_holds() -> None:
    made = state()
    made.ownership.saw("old-self", backup_id="backup-t0")

    def send(token: str) -> dict[str, Any]:
        return {"BackupId": f"backup-{token}", "Lifecycle": "AVAILABLE"}

    _backup, token = claim(made, request(send), Gate(1), FakePoller(), far())  # type: ignore[arg-type]
    assert token == "t1"
    assert made.ownership.taken("backup-t1")


class RecordedWaits(threading.Event):
    """A cancel event that is never set and records how long each wait was."""

    def __init__(self) -> None:
        super().__init__()
        self.waited: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waited.append(float(timeout or 0))
        return False


def test_waits_are_waited_out_with_backoff() -> None:
    made = state()
    made.cancelled = waits = RecordedWaits()
    calls = iter([FsxApiError("CreateBackup", "BackupInProgress", "busy")] * 3)

    def send(token: str) -> dict[str, Any]:
        error = next(calls, None)
        if error is not None:
            raise error
        return {"BackupId": "backup-1", "Lifecycle": "CREATING"}

    backup, _ = claim(made, request(send), Gate(1), FakePoller(), far())  # type: ignore[arg-type]
    assert backup["BackupId"] == "backup-1"
    assert waits.waited == [2.0, 4.0, 8.0]


def test_a_cancel_ends_a_wait_at_once() -> None:
    made = state()
    made.cancelled.set()

    def send(token: str) -> dict[str, Any]:
        raise FsxApiError("CreateBackup", "BackupInProgress", "busy")

    started = time.monotonic()
    with pytest.raises(FsxBackupError, match=r"cancelled \(Ctrl-C\)"):
        claim(made, request(send), Gate(1), FakePoller(), far())  # type: ignore[arg-type]
    assert time.monotonic() - started < 1


def test_a_wait_that_outlasts_the_deadline_fails_naming_the_token() -> None:
    def send(token: str) -> dict[str, Any]:
        raise FsxApiError("CreateBackup", "BackupInProgress", "busy")

    with pytest.raises(FsxBackupError, match=r"create_timeout_seconds ran out.*'t0'"):
        claim(state(), request(send), Gate(1), FakePoller(), time.monotonic() + 0.1)  # type: ignore[arg-type]


def test_other_errors_fail_at_once() -> None:
    def send(token: str) -> dict[str, Any]:
        raise FsxApiError("CreateBackup", "FileSystemNotFound", "no such file system")

    with pytest.raises(FsxBackupError, match="FileSystemNotFound"):
        claim(state(), request(send), Gate(1), FakePoller(), far())  # type: ignore[arg-type]


def _incompatible(token: str) -> dict[str, Any]:
    if token == "t0":
        raise FsxApiError("CreateBackup", "IncompatibleParameterError", "other tags")
    return {"BackupId": f"backup-{token}", "Lifecycle": "CREATING"}


def test_a_token_used_with_other_tags_is_passed_over_when_no_unheld_backup_is_left() -> None:
    made = state()
    made.ownership.saw("sibling", token="x", backup_id="backup-sibling")
    sibling = {"BackupId": "backup-sibling", "Lifecycle": "AVAILABLE"}
    found = request(_incompatible, candidates=lambda: [sibling])
    _, token = claim(made, found, Gate(1), FakePoller(), far())  # type: ignore[arg-type]
    assert token == "t1"


def test_a_token_another_resource_holds_is_passed_over_even_with_other_tags() -> None:
    made = state()
    made.ownership.saw("old-self", token="t0", backup_id="backup-old")
    unheld = {"BackupId": "backup-foreign", "Lifecycle": "AVAILABLE"}
    _, token = claim(
        made, request(_incompatible, candidates=lambda: [unheld]), Gate(1), FakePoller(), far()
    )  # type: ignore[arg-type]
    assert token == "t1"


def test_a_token_that_may_name_an_unheld_live_backup_fails_naming_both() -> None:
    unheld = {"BackupId": "backup-maybe-mine", "Lifecycle": "AVAILABLE"}
    with pytest.raises(FsxBackupError, match=r"'t0'.*backup-maybe-mine"):
        claim(
            state(),
            request(_incompatible, candidates=lambda: [unheld]),
            Gate(1),
            FakePoller(),
            far(),
        )  # type: ignore[arg-type]


def test_a_user_token_is_used_once_and_never_walked() -> None:
    def send(token: str) -> dict[str, Any]:
        return {"BackupId": "backup-gone", "Lifecycle": "DELETED"}

    mine = request(send, tokens=iter(["mine"]), user_token="mine")
    with pytest.raises(FsxBackupError, match="client_request_token 'mine' already named"):
        claim(state(), mine, Gate(1), FakePoller(), far())  # type: ignore[arg-type]


def test_a_cancelled_run_fails_every_wait_of_every_poller_at_once() -> None:
    from fsx_backup_provider.aws.poller import BackupPoller
    from fsx_backup_provider.aws.session import Connection

    class SlowClient:
        def describe_backups(self, backup_ids: list[str]) -> dict[str, Any]:
            return {i: {"BackupId": i, "Lifecycle": "CREATING"} for i in backup_ids}

    made = state()
    poller = BackupPoller(SlowClient(), interval=0.05)  # type: ignore[arg-type]
    made.pollers[Connection(region="us-east-1")] = poller
    threading.Timer(0.3, made.cancel).start()
    started = time.monotonic()
    with pytest.raises(FsxApiError, match="cancelled"):
        poller.wait_for("backup-1", lambda b: False, timeout=60)
    assert time.monotonic() - started < 5
    assert made.cancelled.is_set()


@pytest.mark.parametrize(
    ("code", "what"),
    [("BackupRestoring", "a restore of it"), ("BackupBeingCopied", "a copy of it")],
)
def test_a_delete_waits_out_a_restore_or_a_copy_of_the_backup(
    monkeypatch: pytest.MonkeyPatch, code: str, what: str
) -> None:
    """A restore test of a backup a rotation drops made its DeleteBackup fail at once
    (red team); FSx says BackupRestoring until the restore is made."""
    from fsx_backup_provider.core import lifecycle

    monkeypatch.setattr(lifecycle, "backoff", lambda: iter([0.01] * 10))
    said: list[str] = []
    monkeypatch.setattr(lifecycle, "report", lambda _urn, line: said.append(line))
    answers = iter([FsxApiError("DeleteBackup", code, "busy")] * 2)

    def delete() -> str:
        answer = next(answers, None)
        if answer is not None:
            raise answer
        return "DELETED"

    lifecycle.delete_and_wait(delete, None, "backup-0123456789abcdef0", timeout=5)  # type: ignore[arg-type]
    assert len(said) == 2 and all(what in line for line in said)
    # Past delete_timeout_seconds it fails, naming what FSx said.
    answers = iter([FsxApiError("DeleteBackup", code, "busy")] * 100)
    with pytest.raises(lifecycle.FsxBackupError, match=code):
        lifecycle.delete_and_wait(delete, None, "backup-0123456789abcdef0", timeout=0.05)  # type: ignore[arg-type]
