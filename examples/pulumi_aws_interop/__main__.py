"""FsxBackup fed by pulumi-aws: back up a Lustre file system and an ONTAP volume
that the same program creates with `aws.fsx`.

Run it like any Pulumi program with pulumi-aws installed (`pip install
fsx-backup-provider[aws]`) and real AWS credentials; set `subnetId` in the
stack config.
"""

import pulumi
import pulumi_aws as aws

from fsx_backup_provider import FsxBackup

config = pulumi.Config()
subnet_id = config.require("subnetId")

lustre = aws.fsx.LustreFileSystem(
    "analytics",
    storage_capacity=1200,
    subnet_ids=subnet_id,  # one subnet: pulumi-aws 7 takes a string here
    deployment_type="PERSISTENT_2",
    per_unit_storage_throughput=125,
)

ontap = aws.fsx.OntapFileSystem(
    "shared",
    storage_capacity=1024,
    subnet_ids=[subnet_id],
    preferred_subnet_id=subnet_id,
    deployment_type="SINGLE_AZ_1",
    throughput_capacity=128,
)
svm = aws.fsx.OntapStorageVirtualMachine("svm", file_system_id=ontap.id, name="svm1")
volume = aws.fsx.OntapVolume(
    "finance",
    name="finance",
    junction_path="/finance",
    size_in_megabytes=10240,
    storage_efficiency_enabled=True,
    storage_virtual_machine_id=svm.id,
)

# The `id` outputs of pulumi-aws resources are plain Inputs to FsxBackup.
lustre_backup = FsxBackup("analytics-backup", file_system_id=lustre.id, tags={"Name": "analytics"})
volume_backup = FsxBackup("finance-backup", volume_id=volume.id, tags={"Name": "finance"})

pulumi.export("lustre_backup_arn", lustre_backup.arn)
pulumi.export("volume_backup_arn", volume_backup.arn)
