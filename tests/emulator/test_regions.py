"""A request signed for a Region FSx does not have is refused as AWS refuses it."""

from __future__ import annotations

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fsx_emulator import Emulator

NO_RETRIES = Config(retries={"total_max_attempts": 1})


def test_an_unknown_region_is_an_invalid_signature_not_a_server_error(
    fsx_emulator: Emulator,
) -> None:
    client = fsx_emulator.client(config=NO_RETRIES, region="us-est-1")
    with pytest.raises(ClientError) as raised:
        client.describe_backups()
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidSignatureException"
    assert "Credential should be scoped to a valid region, not 'us-est-1'" in error["Message"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"])
def test_every_partitions_regions_are_served(fsx_emulator: Emulator, region: str) -> None:
    client = fsx_emulator.client(config=NO_RETRIES, region=region)
    assert client.describe_backups()["Backups"] == []
