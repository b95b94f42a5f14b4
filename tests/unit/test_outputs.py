"""FsxBackup's own outputs leave the SDK's end-of-program wait; nothing else changes.

Each case runs a mocked Pulumi program (pulumi.runtime.set_mocks) in a
process of its own: the mocks replace the SDK's global monitor, which the
engine tests in this same pytest process also use.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pulumi

from fsx_backup_provider.program.backup import OUTPUT_KEYS

PROLOGUE = textwrap.dedent(
    """
    import json
    import pulumi
    from pulumi.runtime.settings import SETTINGS
    from fsx_backup_provider import FsxBackup
    from fsx_backup_provider.program.backup import OUTPUT_KEYS

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            if args.name == "broken":
                raise RuntimeError("the engine refused broken")
            state = {**args.inputs, "arn": "arn:aws:fsx:us-east-1:123456789012:backup/b-1",
                     "lifecycle": "AVAILABLE"}
            return "backup-0123456789abcdef0", state

        def call(self, args):
            return {}

    pulumi.runtime.set_mocks(Mocks(), preview=False)

    def tracked(output):
        return output._data in SETTINGS.outputs
    """
)


def run_program(body: str) -> subprocess.CompletedProcess[str]:
    script = PROLOGUE + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )


def test_the_sdk_internals_relied_on_are_there() -> None:
    """In the SDK this repo develops with; if they go, outputs stay tracked (slower only)."""
    assert callable(getattr(pulumi.Output, "_untrack", None))
    assert isinstance(pulumi.runtime.settings.SETTINGS.outputs, set)


def test_without_the_sdk_internal_a_program_runs_as_before() -> None:
    """SDKs without Output._untrack (the oldest admitted) release nothing, and fail nothing."""
    done = run_program(
        """
        from fsx_backup_provider.host import outputs
        outputs.UNTRACK = "_not_in_this_sdk"

        @pulumi.runtime.test
        def program():
            backup = FsxBackup("nightly", file_system_id="fs-0123456789abcdef0")
            print(json.dumps({"arn_tracked": tracked(backup.arn)}))
            return pulumi.Output.all(backup.id, backup.arn).apply(
                lambda values: print(json.dumps({"values": values})))

        program()
        """
    )
    assert done.returncode == 0, done.stderr
    first, last = (json.loads(line) for line in done.stdout.splitlines())
    assert first == {"arn_tracked": True}  # nothing released
    assert last["values"][0] == "backup-0123456789abcdef0"


def test_only_the_urn_of_an_fsx_backup_is_waited_for_and_derived_outputs_still_are() -> None:
    done = run_program(
        """
        @pulumi.runtime.test
        def program():
            backup = FsxBackup("nightly", file_system_id="fs-0123456789abcdef0",
                               tags={"Name": "nightly"})
            own = {key: tracked(getattr(backup, key))
                   for key in ("urn", "id", "__provider", *OUTPUT_KEYS)}
            derived = backup.arn.apply(lambda arn: arn.upper())
            print(json.dumps({"own": own, "derived": tracked(derived)}))
            return pulumi.Output.all(backup.id, backup.arn, backup.lifecycle, derived).apply(
                lambda values: print(json.dumps({"values": values})))

        program()
        """
    )
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    own = first["own"]
    assert own.pop("urn") is True
    assert set(own) == {"id", "__provider", *OUTPUT_KEYS}
    assert not any(own.values()), own
    assert first["derived"] is True
    # Untracked outputs still resolve, and so does what users derive from them.
    assert second["values"] == [
        "backup-0123456789abcdef0",
        "arn:aws:fsx:us-east-1:123456789012:backup/b-1",
        "AVAILABLE",
        "ARN:AWS:FSX:US-EAST-1:123456789012:BACKUP/B-1",
    ]


def test_a_failed_registration_still_fails_the_program() -> None:
    """Nothing of the backup is awaited by the program itself: the SDK must still raise."""
    done = run_program(
        """
        @pulumi.runtime.test
        def program():
            FsxBackup("broken", file_system_id="fs-0123456789abcdef0")

        try:
            program()
        except Exception as failure:
            print("failed:", failure)
        else:
            print("succeeded")
        """
    )
    assert done.returncode == 0, done.stderr
    assert "failed:" in done.stdout and "the engine refused broken" in done.stdout, done.stdout
