"""IAM enforcement (--enforce-iam): denials come back in FSx's JSON protocol."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fsx_emulator import EmulatorProcess

# The IAM calls that set the user up, made before enforcement starts.
SETUP_CALLS = 4


def test_denied_fsx_calls_are_json_access_denied() -> None:
    with EmulatorProcess(enforce_iam=SETUP_CALLS) as emulator:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        iam = session.client("iam", endpoint_url=emulator.endpoint_url)
        iam.create_user(UserName="reader")
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "fsx:DescribeBackups", "Resource": "*"}],
        }
        policy_arn = iam.create_policy(PolicyName="read", PolicyDocument=json.dumps(policy))[
            "Policy"
        ]["Arn"]
        iam.attach_user_policy(UserName="reader", PolicyArn=policy_arn)
        key = iam.create_access_key(UserName="reader")["AccessKey"]

        reader = boto3.session.Session(
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            region_name="us-east-1",
        ).client(
            "fsx",
            endpoint_url=emulator.endpoint_url,
            config=Config(retries={"total_max_attempts": 1}),
        )
        assert reader.describe_backups()["Backups"] == []
        with pytest.raises(ClientError) as denied:
            reader.create_backup(FileSystemId="fs-0123456789abcdef0")
        error = denied.value.response
        assert error["Error"]["Code"] == "AccessDeniedException"
        assert "fsx:CreateBackup" in error["Error"]["Message"]
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400

        with pytest.raises(ClientError) as unknown:
            emulator.client().describe_backups()
        assert unknown.value.response["Error"]["Code"] == "UnrecognizedClientException"
        assert emulator.calls()["DescribeBackups"] == 2
