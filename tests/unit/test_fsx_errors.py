"""Every failure at the AWS boundary becomes an FsxApiError a user can act on, quickly.

Real botocore clients throughout: no credentials at all, a refused loopback
port, a loopback server that never answers, and FSx error answers given by
botocore's Stubber or by a before-send hook (so that the retry policy runs).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import botocore.endpoint
import botocore.session
import pytest
from botocore import exceptions as bce
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from fsx_backup_provider.aws import errors, fsx, session
from fsx_backup_provider.aws.errors import FsxApiError
from fsx_backup_provider.aws.fsx import FsxClient
from fsx_backup_provider.aws.session import Connection, default_region
from tests.boundary import CREDENTIAL_VARIABLES, SilentServer, closed_port, no_credentials_env

BACKUP = "backup-0123456789abcdef0"


@pytest.fixture(autouse=True)
def clean_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials, Region, profile or endpoint from the machine running the tests."""
    for name in (*CREDENTIAL_VARIABLES, "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_FSX", raising=False)
    for name, value in no_credentials_env(tmp_path).items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE01")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-secret")


def raised_by(client: FsxClient) -> FsxApiError:
    with pytest.raises(FsxApiError) as raised:
        client.describe_backups([BACKUP])
    return raised.value


def assert_one_paragraph(error: FsxApiError) -> None:
    """Raised `from None`: the host's traceback text shows no chain of botocore errors."""
    assert error.__cause__ is None and error.__suppress_context__
    assert "\n" not in str(error)


def count_attempts(client: FsxClient) -> list[float]:
    """Times at which the client sends a request (every attempt, retries included)."""
    sent: list[float] = []
    client._client.meta.events.register(
        "before-send.fsx", lambda **_kwargs: sent.append(time.monotonic())
    )
    return sent


def test_no_credentials_names_credentials_profile_files_and_region(tmp_path: Path) -> None:
    client = FsxClient(Connection(region="eu-west-1", endpoint_url=f"http://127.0.0.1:{1}"))
    start = time.monotonic()
    error = raised_by(client)
    assert time.monotonic() - start < 5
    assert error.code == "NoCredentials" and not error.transient
    message = str(error)
    assert "no AWS credentials found for Region eu-west-1" in message
    assert "AWS_ACCESS_KEY_ID" in message and "profile 'default'" in message
    assert str(tmp_path / "empty-aws-file") in message
    assert "instance metadata is disabled by AWS_EC2_METADATA_DISABLED" in message
    assert_one_paragraph(error)


def test_no_credentials_names_the_profile_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text("[profile nightly]\nregion = ap-south-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "nightly")
    error = raised_by(FsxClient(Connection(endpoint_url="http://127.0.0.1:1")))
    assert error.code == "NoCredentials"
    assert "profile 'nightly' (from AWS_PROFILE)" in str(error)
    assert "Region ap-south-1 (from profile 'nightly')" in str(error)


@pytest.mark.usefixtures("keys")
def test_connection_refused_fails_in_three_quick_attempts_naming_the_url() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    client = FsxClient(Connection(region="us-east-1", endpoint_url=url))
    sent = count_attempts(client)
    start = time.monotonic()
    error = raised_by(client)
    assert time.monotonic() - start < 5
    assert len(sent) == errors.CONNECTION_ATTEMPTS == 3
    assert error.code == "EndpointUnreachable" and error.transient and error.outage
    assert f"could not connect to the FSx endpoint {url}, for Region us-east-1 (from" in str(error)
    assert (
        "in 3 attempts: Failed to establish a new connection: [Errno 111] Connection refused"
        in (str(error))
    )
    assert_one_paragraph(error)


@pytest.mark.usefixtures("keys")
def test_an_endpoint_that_never_answers_times_out_per_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fsx, "READ_TIMEOUT_SECONDS", 0.3)
    with SilentServer() as server:
        client = FsxClient(Connection(region="us-east-1", endpoint_url=server.url))
        start = time.monotonic()
        error = raised_by(client)
        elapsed = time.monotonic() - start
        assert server.connections == errors.CONNECTION_ATTEMPTS
    assert 0.9 <= elapsed < 5, elapsed
    assert error.code == "Timeout" and error.transient and error.outage
    assert f"the FSx endpoint {server.url}, for Region us-east-1 (from" in str(error)
    assert "did not answer within 0.3 s, 3 attempts in a row" in str(error)
    assert_one_paragraph(error)


def test_the_shipped_timeouts_bound_a_silent_endpoint_to_about_30_seconds() -> None:
    assert errors.CONNECT_TIMEOUT_SECONDS == 5.0
    assert errors.CONNECTION_ATTEMPTS * errors.READ_TIMEOUT_SECONDS == 30.0
    assert errors.MAX_BACKOFF_SECONDS == 20.0


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize(
    ("aws_code", "code"),
    [
        ("ExpiredTokenException", "CredentialsExpired"),
        ("ExpiredToken", "CredentialsExpired"),
        ("UnrecognizedClientException", "InvalidCredentials"),
        ("AccessDeniedException", "AccessDeniedException"),
        ("BadRequest", "BadRequest"),
    ],
)
def test_error_answers_keep_their_code_or_name_the_credentials(aws_code: str, code: str) -> None:
    client = FsxClient(Connection(region="us-east-1", profile=None))
    with Stubber(client._client) as stub:
        stub.add_client_error("delete_backup", aws_code, "the message", 400)
        with pytest.raises(FsxApiError) as raised:
            client.delete_backup(BACKUP)
    error = raised.value
    assert (error.code, error.operation, error.transient) == (code, "DeleteBackup", False)
    assert "the message" in str(error)
    if code != aws_code:
        assert aws_code in str(error) and "profile 'default'" in str(error)
        assert "Region us-east-1" in str(error)
    assert_one_paragraph(error)


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize(
    ("raised", "code"),
    [
        (bce.UnauthorizedSSOTokenError(), "CredentialsExpired"),
        (bce.TokenRetrievalError(provider="sso", error_msg="token expired"), "CredentialsExpired"),
        (
            bce.CredentialRetrievalError(provider="process", error_msg="exit 1"),
            "CredentialsUnavailable",
        ),
        (
            bce.PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
            "CredentialsUnavailable",
        ),
        (bce.ConnectionClosedError(endpoint_url="http://x"), "ConnectionFailed"),
        (KeyError("Backups"), "Unexpected"),
    ],
)
def test_failures_while_signing_or_sending_are_mapped(raised: Exception, code: str) -> None:
    client = FsxClient(Connection(region="us-east-1", endpoint_url="http://127.0.0.1:1"))

    def fail(**_kwargs: Any) -> None:
        raise raised

    client._client.meta.events.register("before-sign.fsx", fail)
    error = raised_by(client)
    assert error.code == code
    assert_one_paragraph(error)


def throttled(**_kwargs: Any) -> AWSResponse:
    body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()

    class Raw:
        def stream(self, **_kwargs: Any) -> Any:
            yield body

    return AWSResponse("http://fsx", 400, {"content-type": "application/x-amz-json-1.1"}, Raw())


@pytest.mark.usefixtures("keys")
def test_throttling_is_retried_ten_times_with_each_backoff_capped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", sleeps.append)
    client = FsxClient(Connection(region="us-east-1"))
    sent = count_attempts(client)
    client._client.meta.events.register("before-send.fsx", throttled)
    error = raised_by(client)
    assert error.code == "ThrottlingException" and error.transient and not error.outage
    assert len(sent) == errors.MAX_ATTEMPTS == 10
    assert len(sleeps) == 9 and all(0 <= s <= errors.MAX_BACKOFF_SECONDS for s in sleeps)


DESCRIBE = (
    botocore.session.get_session().get_service_model("fsx").operation_model("DescribeBackups")
)


def retry_kwargs(attempt: int, code: str | None = None, exc: Exception | None = None) -> Any:
    http = SimpleNamespace(status_code=400, headers={})
    response = None if code is None else (http, {"Error": {"Code": code}})
    return {
        "attempts": attempt,
        "response": response,
        "caught_exception": exc,
        "operation": DESCRIBE,
        "request_dict": {"context": {}},
    }


def test_the_retry_policy_has_no_shared_quota_to_run_dry() -> None:
    """botocore's standard mode would stop retrying after ~100 throttled retries per client."""
    policy = session._RetryPolicy()
    delays = [policy.needs_retry(**retry_kwargs(1, "ThrottlingException")) for _ in range(1000)]
    assert all(d is not None and 0 <= d <= 1 for d in delays)
    assert policy.needs_retry(**retry_kwargs(9, "ThrottlingException")) is not None
    assert policy.needs_retry(**retry_kwargs(10, "ThrottlingException")) is None
    assert policy.needs_retry(**retry_kwargs(1, "AccessDeniedException")) is None
    refused = bce.EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    assert policy.needs_retry(**retry_kwargs(2, exc=refused)) is not None
    assert policy.needs_retry(**retry_kwargs(3, exc=refused)) is None


@pytest.mark.usefixtures("keys")
def test_region_chain_input_then_aws_region_then_aws_default_region_then_profile(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = ca-central-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))

    def region() -> tuple[str, str]:
        client = FsxClient(Connection())
        return client.region, client.region_source

    assert region() == ("ca-central-1", "profile 'default'")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    assert region() == ("eu-north-1", "AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-south-2")
    assert region() == ("eu-south-2", "AWS_REGION")
    given = FsxClient(Connection(region="us-west-2"))
    assert (given.region, given.region_source) == ("us-west-2", "the region input or aws:region")
    assert given.endpoint_url == "https://fsx.us-west-2.amazonaws.com"
    assert default_region(None, None) == "eu-south-2"


def test_no_region_names_everything_looked_at(tmp_path: Path) -> None:
    with pytest.raises(FsxApiError) as raised:
        FsxClient(Connection())
    error = raised.value
    assert error.code == "NoRegion"
    for looked_at in ("region input", "aws:region", "AWS_REGION", "AWS_DEFAULT_REGION"):
        assert looked_at in str(error)
    assert f"profile 'default' (neither aws:profile nor AWS_PROFILE is set) in {tmp_path}" in str(
        error
    )
    assert default_region(None, None) is None


def test_an_unknown_profile_and_a_malformed_endpoint_are_named() -> None:
    with pytest.raises(FsxApiError) as raised:
        FsxClient(Connection(region="us-east-1", profile="nightly"))
    assert raised.value.code == "ProfileNotFound"
    assert "AWS profile 'nightly' (from aws:profile)" in str(raised.value)
    with pytest.raises(ValueError, match="nightly"):
        default_region(None, "nightly")
    with pytest.raises(FsxApiError) as raised:
        FsxClient(Connection(region="us-east-1", endpoint_url="not a url"))
    assert raised.value.code == "InvalidEndpoint" and "aws:endpoints" in str(raised.value)


@pytest.mark.usefixtures("keys")
def test_botocores_multi_line_messages_become_one_paragraph() -> None:
    client = FsxClient(Connection(region="us-east-1", endpoint_url="http://127.0.0.1:1"))
    with pytest.raises(FsxApiError) as raised:
        client.describe_backups(["backup-1"])
    assert raised.value.code == "ParamValidationError"
    assert "Invalid length for parameter BackupIds[0]" in str(raised.value)
    assert_one_paragraph(raised.value)
