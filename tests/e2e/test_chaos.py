"""Crash trials and injected faults at CI size (`make chaos` runs 20 and 10).

Each crash trial kills a real `pulumi up` with SIGKILL while creates are in
flight, runs the recovery README.md documents, and counts duplicates and
orphans; the fault run deploys and destroys 32 backups with 30% of FSx calls
throttled and 10% failing. Any duplicate, orphan or failed step fails the test.
"""

from __future__ import annotations

from tools import chaos


def test_three_crash_trials_and_one_fault_run() -> None:
    crashes, faults = chaos.run_all(trials=3, fault_runs=1, seed=11)
    assert (crashes.runs, faults.runs) == (3, 1)
    assert (crashes.duplicates, crashes.orphans, crashes.failures) == (0, 0, 0), crashes.notes
    assert (faults.duplicates, faults.orphans, faults.failures) == (0, 0, 0), faults.notes
