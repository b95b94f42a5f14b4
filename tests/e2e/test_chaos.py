"""Crash trials and injected faults at CI size (`make chaos` runs the full counts).

Each crash trial kills a real `pulumi up` with SIGKILL while creates are in
flight, runs the recovery README.md documents, and counts duplicates and
orphans; a destroy trial kills `pulumi destroy` midway and a rotate trial
kills an `fsx-backup rotate` run midway, each then recovered as documented,
with a backup made by hand beside them that must survive; the fault run
deploys and destroys 32 backups with 30% of FSx calls throttled and 10%
failing. Any duplicate, orphan or failed step fails the test.
"""

from __future__ import annotations

from tools import chaos


def test_crash_destroy_and_rotate_trials_and_a_fault_run() -> None:
    plan = chaos.Plan(
        trials=2, destroy_trials=1, rotate_trials=1, fault_runs=1, seed=11, cpu_hog=0
    )
    tallies = chaos.run_all(plan)
    assert {kind: t.runs for kind, t in tallies.items()} == {
        "crash": 2,
        "destroy": 1,
        "rotate": 1,
        "fault": 1,
    }
    for kind, tally in tallies.items():
        assert (tally.duplicates, tally.orphans, tally.failures) == (0, 0, 0), (kind, tally.notes)
