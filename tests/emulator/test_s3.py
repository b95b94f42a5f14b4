"""S3 on the emulator's endpoint (moto's), and the Pulumi engine keeping state there."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pulumi
import pytest
from pulumi import automation as auto

from fsx_emulator.client import S3_BACKEND_ENV, Emulator
from tools.workspace import EngineMissing, isolated_env, preview_first, pulumi_cli


def unique_bucket() -> str:
    # S3 is moto's own state: reset() leaves it, so each test takes a bucket of its own.
    return f"state-{uuid.uuid4().hex[:12]}"


def test_s3_path_style_buckets_and_objects(fsx: Emulator) -> None:
    s3 = fsx.s3_client()
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=".pulumi/stacks/p/dev.json", Body=b'{"version": 3}')
    s3.put_object(Bucket=bucket, Key=".pulumi/meta.yaml", Body=b"version: 1\n")
    got = s3.get_object(Bucket=bucket, Key=".pulumi/stacks/p/dev.json")["Body"].read()
    assert got == b'{"version": 3}'
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=".pulumi/")["Contents"]
    assert sorted(item["Key"] for item in listed) == [
        ".pulumi/meta.yaml",
        ".pulumi/stacks/p/dev.json",
    ]
    s3.delete_object(Bucket=bucket, Key=".pulumi/meta.yaml")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1
    # S3 requests are neither FSx calls nor in the way of FSx.
    assert fsx.calls() == {"_total": 0}
    assert fsx.client().describe_backups()["Backups"] == []


def test_s3_backend_url_creates_the_bucket_once(fsx: Emulator) -> None:
    bucket = unique_bucket()
    url = fsx.s3_backend_url(bucket)
    assert url == (
        f"s3://{bucket}?endpoint={fsx.endpoint_url}&use_path_style=true&region={fsx.region}"
    )
    assert fsx.s3_backend_url(bucket) == url
    names = [b["Name"] for b in fsx.s3_client().list_buckets()["Buckets"]]
    assert names.count(bucket) == 1


@pytest.mark.e2e
def test_pulumi_engine_keeps_its_state_in_the_emulators_s3(fsx: Emulator, tmp_path: Path) -> None:
    try:
        engine_env = isolated_env(tmp_path / "pulumi")
    except EngineMissing as missing:
        pytest.fail(str(missing))
    bucket = unique_bucket()
    url = fsx.s3_backend_url(bucket)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PULUMI_"))},
        **{k: v for k, v in engine_env.items() if k != "PULUMI_BACKEND_URL"},
        **S3_BACKEND_ENV,
    }
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: s3-state\nruntime: python\n")

    def cli(*args: str) -> str:
        done = pulumi_cli(project, env, *args, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        # No AWS SDK warnings either (e.g. about response checksums moto does not send).
        assert "WARN" not in done.stderr, done.stderr
        return done.stdout

    cli("login", url)
    cli("stack", "init", "x")
    stacks = json.loads(cli("stack", "ls", "--json"))
    assert [stack["name"] for stack in stacks] == ["x"]
    s3 = fsx.s3_client()
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert ".pulumi/stacks/s3-state/x.json" in keys

    # A deployment through the Automation API writes its checkpoint there too. Its
    # commands inherit this process's environment, so the URL is given as the backend
    # there too, over any PULUMI_BACKEND_URL of the caller.
    stack = preview_first(auto.create_stack(
        "y",
        project_name="s3-state",
        program=lambda: pulumi.export("answer", 42),
        opts=auto.LocalWorkspaceOptions(
            work_dir=str(project),
            env_vars={**env, "PULUMI_BACKEND_URL": url},
            project_settings=auto.ProjectSettings(
                name="s3-state", runtime="python", backend=auto.ProjectBackend(url)
            ),
        ),
    ))
    assert stack.up(on_output=lambda _line: None).outputs["answer"].value == 42
    checkpoint = json.loads(
        s3.get_object(Bucket=bucket, Key=".pulumi/stacks/s3-state/y.json")["Body"].read()
    )
    resources = checkpoint["checkpoint"]["latest"]["resources"]
    assert [r["outputs"] for r in resources if r["type"] == "pulumi:pulumi:Stack"] == [
        {"answer": 42}
    ]
