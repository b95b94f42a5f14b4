"""A handle on a running emulator: boto3 clients, control endpoints and seeding helpers.

This module talks to the emulator only over HTTP, so it imports neither moto nor the
server and works against an emulator in another process or on another port.
"""

from __future__ import annotations

import json
import urllib.request
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_fsx import FSxClient

# The emulator accepts any credentials; fixed dummy ones keep boto3 from looking for
# real ones in the environment, and map to moto's default account 123456789012.
DUMMY_ACCESS_KEY_ID = "testing"
DUMMY_SECRET_ACCESS_KEY = "testing"

DEFAULT_SUBNET_ID = "subnet-0123456789abcdef0"

# What the Pulumi engine's S3 backend needs in its environment to use the emulator: some
# credentials (or it asks instance metadata), and no demand for response checksums, which
# moto's S3 does not send (the engine's AWS SDK would warn on every read).
S3_BACKEND_ENV = {
    "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
}

# The smallest valid request for each file system type, so tests name only what they test.
_STORAGE_CAPACITY = {"LUSTRE": 1200, "WINDOWS": 32, "ONTAP": 1024, "OPENZFS": 64}
_DEFAULT_DEPLOYMENT_TYPE = {
    "LUSTRE": "PERSISTENT_1",
    "WINDOWS": "SINGLE_AZ_1",
    "ONTAP": "SINGLE_AZ_1",
    "OPENZFS": "SINGLE_AZ_1",
}


class Emulator:
    """A running FSx emulator at `endpoint_url`; `region` is where requests go by default.

    The emulator serves every Region at the one endpoint: each request is served in the
    Region it is signed for, so `client(region=...)` reaches another Region.
    """

    def __init__(self, endpoint_url: str, region: str = "us-east-1") -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.region = region
        self._session = boto3.session.Session(
            aws_access_key_id=DUMMY_ACCESS_KEY_ID,
            aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
            region_name=region,
        )
        self._shared_clients: dict[str, FSxClient] = {}
        # Region -> the storage virtual machine create_ontap_volume puts volumes on.
        self._ontap_svm_ids: dict[str, str] = {}
        # Control calls bypass any HTTP(S)_PROXY in the environment: the emulator is local.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __repr__(self) -> str:
        return f"Emulator({self.endpoint_url!r}, region={self.region!r})"

    # ---- boto3 ------------------------------------------------------------------------

    def client(self, config: Config | None = None, region: str | None = None) -> FSxClient:
        """A boto3 FSx client for the emulator, signing for `region` (default: `self.region`).

        Without `config`, one shared client per Region; with one, a new client.
        """
        region_name = region or self.region
        if config is not None:
            return self._session.client(
                "fsx", endpoint_url=self.endpoint_url, config=config, region_name=region_name
            )
        shared = self._shared_clients.get(region_name)
        if shared is None:
            shared = self._session.client(
                "fsx", endpoint_url=self.endpoint_url, region_name=region_name
            )
            self._shared_clients[region_name] = shared
        return shared

    def _seeding_client(self, region: str | None) -> FSxClient:
        """The client the seeding helpers call FSx with.

        `region` is passed on only when given, so that a subclass overriding
        `client(config)` alone (tests/e2e/test_iam.py signs with an IAM user's keys) still
        seeds its default Region.
        """
        return self.client() if region is None else self.client(region=region)

    # ---- S3 at the same endpoint -------------------------------------------------------

    def s3_client(self, region: str | None = None) -> Any:
        """A boto3 S3 client for the emulator's S3 (moto's), path-style, dummy credentials.

        Typed Any: the project's boto3 stubs cover FSx and IAM, not S3.
        """
        return self._session.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=region or self.region,
            config=Config(s3={"addressing_style": "path"}),
        )

    def s3_backend_url(self, bucket: str, create_bucket: bool = True) -> str:
        """A Pulumi `s3://` backend URL that keeps state in `bucket` of the emulator.

        The bucket is created first (if it does not exist yet) unless `create_bucket` is
        false. Run the engine with `S3_BACKEND_ENV` in its environment. Path-style
        addressing is required: the endpoint is an address, not a domain with buckets
        under it.
        """
        if create_bucket:
            s3 = self.s3_client()
            request: dict[str, Any] = {"Bucket": bucket}
            if self.region != "us-east-1":
                request["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            try:
                s3.create_bucket(**request)
            except ClientError as error:
                if error.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
                    raise
        return (
            f"s3://{bucket}?endpoint={self.endpoint_url}&use_path_style=true&region={self.region}"
        )

    # ---- control endpoints ------------------------------------------------------------

    def _control(self, method: str, name: str, payload: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.endpoint_url}/_emulator/{name}",
            method=method,
            data=None if payload is None else json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        with self._opener.open(request, timeout=30) as response:
            return json.loads(response.read())

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._control("GET", "health")
        return result

    def calls(self) -> dict[str, int]:
        """FSx calls per operation since the last reset, plus their sum under `_total`."""
        result: dict[str, int] = self._control("GET", "calls")
        return result

    def reset(self) -> None:
        """Forget all FSx state and counts; restore the faults the emulator started with,
        and the real clock."""
        self._control("POST", "reset", {})
        self._ontap_svm_ids.clear()

    def faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self._control("GET", "faults")
        return result

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Change fault settings; returns them all (docs/emulator.md, "Control endpoints").

        throttle_rate, error_rate, seed, backup_seconds, copy_seconds, restore_seconds,
        delete_seconds, fail_next_backups ({file system or volume ID: FailureDetails.Message}),
        fail_next_copies ({source backup ID: FailureDetails.Message}) and
        fail_next_restores ({backup ID: failure message of the next restore from it}).
        """
        result: dict[str, Any] = self._control("POST", "faults", settings)
        return result

    def register_subnets(self, *subnet_ids: str, region: str | None = None) -> list[str]:
        """Make subnets known in `region` (default: `self.region`), so that restores there
        may name them; returns every subnet known there. A Region also knows the subnets
        of the file systems created in it."""
        result: dict[str, Any] = self._control(
            "POST", "subnets", {"subnet_ids": list(subnet_ids), "region": region or self.region}
        )
        known: list[str] = result["subnet_ids"]
        return known

    def clock(self) -> dict[str, Any]:
        """The emulator's clock: `frozen`, `now` (monotonic seconds), `time` (epoch
        seconds, what CreationTime is read from) and `held` (resource IDs)."""
        result: dict[str, Any] = self._control("GET", "clock")
        return result

    def set_clock(self, **changes: Any) -> dict[str, Any]:
        """Change the clock (docs/emulator.md, "Control endpoints"); returns `clock()`.

        freeze (true: stand still; false: run again from where it stands), advance
        (seconds, moving every lifecycle not held), hold and release (lists of backup,
        file system or volume IDs whose own lifecycles stop or carry on).
        """
        result: dict[str, Any] = self._control("POST", "clock", changes)
        return result

    def freeze_clock(self) -> dict[str, Any]:
        """Stop the emulator's clock: no lifecycle moves until `advance_clock()`."""
        return self.set_clock(freeze=True)

    def unfreeze_clock(self) -> dict[str, Any]:
        """Let the clock run again, from the time it stands at."""
        return self.set_clock(freeze=False)

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the emulator's time forward by `seconds`, frozen or not."""
        return self.set_clock(advance=seconds)

    def hold(self, *resource_ids: str) -> dict[str, Any]:
        """Keep each backup, copy, file system or volume in its lifecycle until released."""
        return self.set_clock(hold=list(resource_ids))

    def release(self, *resource_ids: str) -> dict[str, Any]:
        """Let held resources carry on from where they stood."""
        return self.set_clock(release=list(resource_ids))

    # ---- seeding ----------------------------------------------------------------------

    def create_file_system(
        self,
        type: str = "LUSTRE",
        deployment_type: str | None = None,
        import_path: str | None = None,
        tags: dict[str, str] | None = None,
        copy_tags_to_backups: bool | None = None,
        region: str | None = None,
        **kw: Any,
    ) -> str:
        """Create a file system of `type` in `region` (default: `self.region`), return its ID.

        `deployment_type` defaults to PERSISTENT_1 for LUSTRE (a type FSx can back up)
        and SINGLE_AZ_1 otherwise; `import_path` links a Lustre file system to a data
        repository; `kw` adds or overrides CreateFileSystem parameters.
        """
        configuration: dict[str, Any] = {
            "DeploymentType": deployment_type or _DEFAULT_DEPLOYMENT_TYPE[type],
        }
        if copy_tags_to_backups is not None:
            configuration["CopyTagsToBackups"] = copy_tags_to_backups
        if type == "LUSTRE":
            if import_path is not None:
                configuration["ImportPath"] = import_path
            if configuration["DeploymentType"] in ("PERSISTENT_1", "PERSISTENT_2"):
                configuration["PerUnitStorageThroughput"] = 125
            member = "LustreConfiguration"
        elif type == "WINDOWS":
            configuration["ThroughputCapacity"] = 32
            member = "WindowsConfiguration"
        elif type == "ONTAP":
            configuration["ThroughputCapacity"] = 128
            member = "OntapConfiguration"
        else:
            configuration["ThroughputCapacity"] = 64
            member = "OpenZFSConfiguration"
        request: dict[str, Any] = {
            "FileSystemType": type,
            "StorageCapacity": _STORAGE_CAPACITY[type],
            "SubnetIds": [DEFAULT_SUBNET_ID],
            member: configuration,
        }
        if tags:
            request["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
        request.update(kw)
        created = self._seeding_client(region).create_file_system(**request)
        return created["FileSystem"]["FileSystemId"]

    def create_ontap_volume(
        self,
        name: str = "vol1",
        tags: dict[str, str] | None = None,
        copy_tags_to_backups: bool = False,
        region: str | None = None,
    ) -> str:
        """Create an ONTAP volume in `region` (default: `self.region`) and return its ID.

        The ONTAP file system and storage virtual machine it needs are created in that
        Region on first use and reused until `reset()`.
        """
        region_name = region or self.region
        fsx = self._seeding_client(region)
        svm_id = self._ontap_svm_ids.get(region_name)
        if svm_id is None:
            file_system_id = self.create_file_system(type="ONTAP", region=region_name)
            svm_id = fsx.create_storage_virtual_machine(FileSystemId=file_system_id, Name="svm1")[
                "StorageVirtualMachine"
            ]["StorageVirtualMachineId"]
            self._ontap_svm_ids[region_name] = svm_id
        request: dict[str, Any] = {
            "VolumeType": "ONTAP",
            "Name": name,
            "OntapConfiguration": {
                "StorageVirtualMachineId": svm_id,
                "JunctionPath": f"/{name}",
                "SizeInMegabytes": 1024,
                "StorageEfficiencyEnabled": True,
                "CopyTagsToBackups": copy_tags_to_backups,
            },
        }
        if tags:
            request["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
        return fsx.create_volume(**request)["Volume"]["VolumeId"]
