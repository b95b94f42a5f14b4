"""The shared poller: batching; errors that retrying cannot fix fail at once; no wait hangs."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from fsx_backup_provider.aws import fsx
from fsx_backup_provider.aws.errors import FsxApiError
from fsx_backup_provider.aws.fsx import FsxClient
from fsx_backup_provider.aws.poller import BackupPoller, WaitTimeout
from fsx_backup_provider.aws.session import Connection
from tests.boundary import CREDENTIAL_VARIABLES, SilentServer, closed_port, no_credentials_env


class FakeClient:
    def __init__(self, error: FsxApiError | None = None) -> None:
        self.calls: list[list[str]] = []
        self.error = error

    def describe_backups(self, backup_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        self.calls.append(list(backup_ids))
        if self.error is not None:
            raise self.error
        return {i: {"BackupId": i, "Lifecycle": "AVAILABLE"} for i in backup_ids}


def test_concurrent_lookups_share_one_call() -> None:
    client = FakeClient()
    poller = BackupPoller(client, interval=0.05, coalesce_seconds=0.2)  # type: ignore[arg-type]
    results: dict[str, Any] = {}

    def look(backup_id: str) -> None:
        results[backup_id] = poller.lookup(backup_id)

    threads = [threading.Thread(target=look, args=(f"backup-{i:08x}",)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 20 and all(r["Lifecycle"] == "AVAILABLE" for r in results.values())
    assert len(client.calls) < 20
    assert sum(len(c) for c in client.calls) == 20


def test_access_denied_fails_waiters_at_once() -> None:
    denied = FsxApiError("DescribeBackups", "AccessDeniedException", "not authorized", 400)
    poller = BackupPoller(FakeClient(denied), interval=0.05)  # type: ignore[arg-type]
    start = time.monotonic()
    with pytest.raises(FsxApiError, match="AccessDeniedException"):
        poller.wait_for("backup-00000001", lambda b: False, timeout=60)
    assert time.monotonic() - start < 5


def test_transient_errors_are_waited_through_until_the_deadline() -> None:
    throttled = FsxApiError("DescribeBackups", "ThrottlingException", "slow down", 400)
    assert throttled.transient
    assert FsxApiError("DescribeBackups", "InternalServerError", "oops", 500).transient
    assert not FsxApiError("DescribeBackups", "AccessDeniedException", "no", 400).transient
    client = FakeClient(throttled)
    poller = BackupPoller(client, interval=0.05)  # type: ignore[arg-type]
    with pytest.raises(FsxApiError, match="ThrottlingException"):
        poller.wait_for("backup-00000001", lambda b: False, timeout=0.5)
    assert len(client.calls) >= 2


# -- failures at the AWS boundary, and a thread that dies or hangs ---------------------


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in no_credentials_env(tmp_path).items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def keys(no_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE01")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-secret")


def timed(call: Any) -> tuple[BaseException, float]:
    start = time.monotonic()
    with pytest.raises(BaseException) as raised:
        call()
    return raised.value, time.monotonic() - start


@pytest.mark.usefixtures("no_credentials")
def test_no_credentials_fails_every_waiter_of_the_round_at_once() -> None:
    client = FsxClient(Connection(region="us-east-1", endpoint_url="http://127.0.0.1:1"))
    poller = BackupPoller(client, interval=0.05)
    errors: list[BaseException] = []

    def wait(backup_id: str) -> None:
        with pytest.raises(FsxApiError) as raised:
            poller.wait_for(backup_id, lambda b: False, timeout=600)
        errors.append(raised.value)

    threads = [threading.Thread(target=wait, args=(f"backup-{i:08x}",)) for i in range(3)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert time.monotonic() - start < 10
    assert [e.code for e in errors if isinstance(e, FsxApiError)] == ["NoCredentials"] * 3
    # The thread survived: the same poller still answers (and fails) the next caller.
    error, elapsed = timed(lambda: poller.lookup("backup-00000009"))
    assert isinstance(error, FsxApiError) and error.code == "NoCredentials" and elapsed < 5


@pytest.mark.usefixtures("keys")
def test_connection_refused_is_ridden_out_only_for_the_outage_patience() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    client = FsxClient(Connection(region="us-east-1", endpoint_url=url))
    poller = BackupPoller(client, interval=0.05, outage_patience_seconds=1.0)
    error, elapsed = timed(lambda: poller.wait_for("backup-00000001", lambda b: False, 600))
    assert isinstance(error, FsxApiError) and error.code == "EndpointUnreachable"
    assert url in str(error)
    assert 1.0 <= elapsed < 10, elapsed


@pytest.mark.usefixtures("keys")
def test_an_outage_longer_than_the_deadline_ends_at_the_deadline_with_its_error() -> None:
    client = FsxClient(Connection(region="us-east-1", endpoint_url="http://127.0.0.1:1"))
    poller = BackupPoller(client, interval=0.05, outage_patience_seconds=600)
    error, elapsed = timed(lambda: poller.wait_for("backup-00000001", lambda b: False, 1.0))
    assert isinstance(error, FsxApiError) and error.code == "EndpointUnreachable"
    assert 1.0 <= elapsed < 10, elapsed


@pytest.mark.usefixtures("keys")
def test_a_read_timeout_fails_the_lookup_after_the_outage_patience(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fsx, "READ_TIMEOUT_SECONDS", 0.2)
    with SilentServer() as server:
        client = FsxClient(Connection(region="us-east-1", endpoint_url=server.url))
        poller = BackupPoller(client, interval=0.05, outage_patience_seconds=1.0)
        error, elapsed = timed(lambda: poller.lookup("backup-00000001"))
    assert isinstance(error, FsxApiError) and error.code == "Timeout"
    assert server.url in str(error)
    assert elapsed < 10, elapsed


class ScriptedClient:
    """Answers CREATING a few times, then raises what the test says."""

    def __init__(self, then: BaseException, after: int = 2) -> None:
        self.then = then
        self.after = after
        self.calls = 0

    def describe_backups(self, backup_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        self.calls += 1
        if self.calls > self.after:
            raise self.then
        return {i: {"BackupId": i, "Lifecycle": "CREATING"} for i in backup_ids}


def test_credentials_expiring_during_a_long_backup_fail_the_wait_at_once() -> None:
    expired = FsxApiError("DescribeBackups", "CredentialsExpired", "expired", 400)
    poller = BackupPoller(ScriptedClient(expired), interval=0.05)  # type: ignore[arg-type]
    seen: list[str] = []
    error, elapsed = timed(
        lambda: poller.wait_for(
            "backup-00000001", lambda b: False, 1800, progress=lambda b: seen.append(b["Lifecycle"])
        )
    )
    assert error is expired and elapsed < 5
    assert seen and set(seen) == {"CREATING"}


def test_an_unexpected_exception_fails_the_round_and_the_thread_goes_on() -> None:
    client = ScriptedClient(KeyError("Backups"), after=0)
    poller = BackupPoller(client, interval=0.05)  # type: ignore[arg-type]
    error, elapsed = timed(lambda: poller.lookup("backup-00000001"))
    assert isinstance(error, FsxApiError) and error.code == "Unexpected"
    assert "KeyError" in str(error) and elapsed < 5
    client.after = 10**6
    assert poller.lookup("backup-00000001") == {
        "BackupId": "backup-00000001",
        "Lifecycle": "CREATING",
    }


def test_a_raising_progress_report_is_logged_and_the_wait_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    poller = BackupPoller(FakeClient(), interval=0.05)  # type: ignore[arg-type]

    def broken(_backup: dict[str, Any]) -> None:
        raise ConnectionError("engine gone")

    with caplog.at_level("WARNING"):
        done = poller.wait_for("backup-00000001", lambda b: True, 60, progress=broken)
    assert done == {"BackupId": "backup-00000001", "Lifecycle": "AVAILABLE"}
    assert "progress report for backup-00000001 failed (ConnectionError: engine gone)" in (
        caplog.text
    )


def test_a_slow_progress_report_delays_no_other_waiter() -> None:
    poller = BackupPoller(FakeClient(), interval=0.05)  # type: ignore[arg-type]
    release = threading.Event()
    slow = threading.Thread(
        target=poller.wait_for,
        args=("backup-00000001", lambda b: True, 60),
        kwargs={"progress": lambda _b: release.wait(30)},
    )
    slow.start()
    try:
        start = time.monotonic()
        assert poller.lookup("backup-00000002") is not None
        assert time.monotonic() - start < 5
    finally:
        release.set()
        slow.join()


def test_a_raising_condition_fails_only_its_own_waiter() -> None:
    poller = BackupPoller(FakeClient(), interval=0.05, coalesce_seconds=0.3)  # type: ignore[arg-type]
    results: dict[str, Any] = {}

    def broken(_backup: Any) -> bool:
        raise ValueError("bad condition")

    def wait(backup_id: str, condition: Any) -> None:
        try:
            results[backup_id] = poller.wait_for(backup_id, condition, 60)
        except Exception as error:
            results[backup_id] = error

    threads = [
        threading.Thread(target=wait, args=("backup-00000001", broken)),
        threading.Thread(target=wait, args=("backup-00000002", lambda b: True)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert isinstance(results["backup-00000001"], ValueError)
    assert results["backup-00000002"]["Lifecycle"] == "AVAILABLE"


class ThreadKiller(BaseException):
    """Not an Exception: nothing in a round catches it, so it ends the poller's thread."""


# The thread's death is the point here; pytest would otherwise warn about it.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_thread_fails_its_waiters_and_the_next_registration_restarts_it() -> None:
    client = ScriptedClient(ThreadKiller(), after=0)
    poller = BackupPoller(client, interval=0.05)  # type: ignore[arg-type]
    error, elapsed = timed(lambda: poller.wait_for("backup-00000001", lambda b: False, 600))
    assert isinstance(error, FsxApiError) and error.code == "Unexpected"
    assert "poller died" in str(error) and elapsed < 5
    client.after = 10**6
    assert poller.lookup("backup-00000002") is not None


def test_a_waiter_ends_at_its_deadline_even_if_the_thread_hangs_in_a_call() -> None:
    release = threading.Event()

    class HangingClient:
        def describe_backups(self, backup_ids: Sequence[str]) -> dict[str, Any]:
            release.wait(60)
            return {}

    poller = BackupPoller(HangingClient(), interval=0.05, grace_seconds=0.5)  # type: ignore[arg-type]
    try:
        error, elapsed = timed(lambda: poller.wait_for("backup-00000001", lambda b: False, 1.0))
        assert isinstance(error, WaitTimeout) and error.backup_id == "backup-00000001"
        assert 1.5 <= elapsed < 5, elapsed
    finally:
        release.set()


class TimedClient:
    """One backup that is AVAILABLE `seconds` after the client is made; its
    progress rises evenly, as FSx's ProgressPercent does (or not at all)."""

    def __init__(self, seconds: float, reports_progress: bool, pending: float = 0.0) -> None:
        self.start = time.monotonic()
        self.seconds = seconds
        self.reports_progress = reports_progress
        # Like a copy: PENDING with no progress for a while before the work starts.
        self.pending = pending
        self.calls = 0

    def describe_backups(self, backup_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        self.calls += 1
        elapsed = time.monotonic() - self.start
        done = elapsed >= self.seconds
        backup: dict[str, Any] = {"Lifecycle": "AVAILABLE" if done else "CREATING"}
        if self.reports_progress:
            working = max(elapsed - self.pending, 0.0) / (self.seconds - self.pending)
            backup["ProgressPercent"] = 100 if done else int(100 * working)
        return {i: {"BackupId": i, **backup} for i in backup_ids}


def available(backup: Any) -> bool:
    return bool(backup) and backup["Lifecycle"] == "AVAILABLE"


def test_progress_tells_when_to_ask_again() -> None:
    """A 2 s backup with progress: seen AVAILABLE within a round's interval of being
    so, with a handful of calls (a fixed 0.1 s round would make 20)."""
    client = TimedClient(2.0, reports_progress=True)
    poller = BackupPoller(client, interval=0.1)  # type: ignore[arg-type]
    poller.wait_for("backup-00000001", available, timeout=30)
    late = time.monotonic() - client.start - client.seconds
    assert late < 0.3, late
    assert client.calls <= 8, client.calls


def test_without_progress_rounds_thin_out_with_the_time_waited() -> None:
    client = TimedClient(3.0, reports_progress=False)
    poller = BackupPoller(client, interval=0.05)  # type: ignore[arg-type]
    poller.wait_for("backup-00000001", available, timeout=30)
    late = time.monotonic() - client.start - client.seconds
    # At most a fifth of the time waited past the moment it was AVAILABLE,
    # in far fewer rounds than a fixed 0.05 s interval (60).
    assert late < 0.2 * client.seconds + 0.3, late
    assert client.calls <= 25, client.calls


def test_no_waiter_goes_longer_than_the_longest_interval() -> None:
    client = TimedClient(2.0, reports_progress=False)
    poller = BackupPoller(client, interval=0.05, max_interval=0.2)  # type: ignore[arg-type]
    poller.wait_for("backup-00000001", available, timeout=30)
    assert time.monotonic() - client.start - client.seconds < 0.45


def test_progress_that_starts_late_is_not_taken_for_a_slow_backup() -> None:
    """A copy is PENDING (no progress) before it is COPYING: the rate comes from two
    reports, not from the time waited, so the wait ends soon after AVAILABLE."""
    client = TimedClient(3.0, reports_progress=True, pending=1.5)
    poller = BackupPoller(client, interval=0.1)  # type: ignore[arg-type]
    poller.wait_for("backup-00000001", available, timeout=30)
    late = time.monotonic() - client.start - client.seconds
    assert late < 0.3, late


def test_a_wait_fails_at_its_deadline_not_at_the_next_estimate() -> None:
    """Progress says about 9 s to go; the caller gave 1 s: it hears so at about 1 s,
    not when the estimate or the grace runs out."""

    class Steady:
        start = time.monotonic()

        def describe_backups(self, backup_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
            percent = 10 + int(10 * (time.monotonic() - self.start))
            return {i: {"BackupId": i, "Lifecycle": "CREATING", "ProgressPercent": percent}
                    for i in backup_ids}  # fmt: skip

    poller = BackupPoller(Steady(), interval=0.1, grace_seconds=5.0)  # type: ignore[arg-type]
    started = time.monotonic()
    with pytest.raises(WaitTimeout):
        poller.wait_for("backup-00000001", available, timeout=1.0)
    assert time.monotonic() - started < 1.6
