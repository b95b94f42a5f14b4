"""pulumi-aws resources feed FsxBackup, under Pulumi's mocks.

The aws provider plugin binary cannot be installed offline, so this runs the
example program with `pulumi.runtime.set_mocks` instead of the engine: the
mocks stand in for pulumi-aws (returning IDs shaped as AWS returns them) and
record what FsxBackup receives, which the real provider's check() must then
accept. `make test` runs this in its own virtualenv with pulumi-aws
installed, kept apart from the engine tests (the language host would report
pulumi-aws as a required plugin there).
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest

from fsx_backup_provider.providers.backup import FsxBackupProvider
from fsx_backup_provider.providers.ledger import FsxBackupLedgerProvider
from fsx_backup_provider.providers.seed import FsxBackupSeedProvider

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pulumi_aws_interop" / "__main__.py"
IDS = {
    "aws:fsx/lustreFileSystem:LustreFileSystem": "fs-0aaaaaaaaaaaaaaa1",
    "aws:fsx/ontapFileSystem:OntapFileSystem": "fs-0bbbbbbbbbbbbbbb2",
    "aws:fsx/ontapStorageVirtualMachine:OntapStorageVirtualMachine": "svm-0ccccccccccccccc3",
    "aws:fsx/ontapVolume:OntapVolume": "fsvol-0dddddddddddddddd",
}
BACKUP_TYPE = "pulumi-python:dynamic/fsx:FsxBackup"
SEED_TYPE = "pulumi-python:dynamic/fsx:FsxBackupSeed"
LEDGER_TYPE = "pulumi-python:dynamic/fsx:FsxBackupLedger"


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registered: dict[str, tuple[str, dict[str, Any]]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.registered[args.name] = (args.typ, dict(args.inputs))
        if args.typ == SEED_TYPE:
            # The stack's seed makes no AWS call: its own provider stands in.
            made = FsxBackupSeedProvider().create(dict(args.inputs))
            return str(made.id), dict(made.outs or {})
        if args.typ == LEDGER_TYPE:
            # The ledger of the stack's tokens makes no AWS call either.
            made = FsxBackupLedgerProvider().create(dict(args.inputs))
            return str(made.id), dict(made.outs or {})
        if args.typ == BACKUP_TYPE:
            return "backup-0eeeeeeeeeeeeeee5", {
                **args.inputs,
                "arn": f"arn:aws:fsx:us-east-1:123456789012:backup/{args.name}",
            }
        return IDS[args.typ], dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        return {}, []


@pytest.fixture
def mocks() -> Mocks:
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="interop", stack="test", preview=False)
    pulumi.runtime.set_all_config({"interop:subnetId": "subnet-0123456789abcdef0"})
    return mocks


@pulumi.runtime.test
def test_pulumi_aws_ids_feed_fsx_backup(mocks: Mocks) -> Any:
    program = runpy.run_path(str(EXAMPLE))

    def check(_: Any) -> None:
        fs_type, fs_inputs = mocks.registered["analytics-backup"]
        vol_type, vol_inputs = mocks.registered["finance-backup"]
        assert fs_type == vol_type == BACKUP_TYPE
        assert fs_inputs["file_system_id"] == IDS["aws:fsx/lustreFileSystem:LustreFileSystem"]
        assert vol_inputs["volume_id"] == IDS["aws:fsx/ontapVolume:OntapVolume"]
        assert "file_system_id" not in vol_inputs
        # What FsxBackup sends is what the provider's check() accepts.
        for inputs in (fs_inputs, vol_inputs):
            result = FsxBackupProvider().check({}, dict(inputs))
            assert [(f.property, f.reason) for f in result.failures] == []

    return pulumi.Output.all(program["lustre_backup"].arn, program["volume_backup"].arn).apply(
        check
    )
