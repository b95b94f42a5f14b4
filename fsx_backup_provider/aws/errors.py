"""Every failure of an FSx call as an `FsxApiError` a user can act on.

An error answer from FSx keeps its AWS code (BackupNotFound, ...); a failure
that never reached FSx gets a code of its own (NoCredentials,
CredentialsExpired, EndpointUnreachable, Timeout, NoRegion, ...) and a
message that says where the provider looked (profile, Region, endpoint URL)
and what to set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from fsx_backup_provider.version import stamp

if TYPE_CHECKING:
    pass


# How often and how long one call is tried (session.py), which messages quote.
# Attempts per call for throttling and 5xx answers: ten ride through the 40%
# failure rate of `make chaos`.
MAX_ATTEMPTS = 10
# Attempts per call when the endpoint refuses, cannot be reached or does not
# answer in time: a third failure in a row within one call means an outage,
# which the waits above this layer ride out for a while (poller.py); retrying
# it for minutes inside one call would only hide it.
CONNECTION_ATTEMPTS = 3
# The longest single backoff between two attempts: botocore's standard cap.
MAX_BACKOFF_SECONDS = 20.0
# Every FSx call the provider makes is a control-plane call that answers in
# well under a second; these bound a call to an endpoint that never answers
# to CONNECTION_ATTEMPTS * READ_TIMEOUT_SECONDS (30 s).
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 10.0

# Error codes AWS uses for throttling, which the retry policy retries too.
THROTTLING_CODES = frozenset(
    {"ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException"}
)
# The endpoint did not answer: worth asking again, but only for a while.
OUTAGE_CODES = frozenset({"EndpointUnreachable", "Timeout", "ConnectionFailed"})
# AWS error codes meaning the credentials were valid once and no longer are.
_EXPIRED_CODES = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
)
# AWS error codes meaning AWS does not accept the credentials at all.
_REJECTED_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "IncompleteSignature",
        "MissingAuthenticationToken",
    }
)


class FsxApiError(Exception):
    """An FSx API call failed; `code` is the AWS error code or the cause (e.g. NoCredentials)."""

    def __init__(self, operation: str, code: str, message: str, status: int = 400) -> None:
        self.operation = operation
        self.code = code
        self.message = message
        # The HTTP status of FSx's answer; 0 when the call got no answer at all.
        self.status = status
        super().__init__(f"FSx {operation} failed with {code}: {message}")
        stamp(self)

    @property
    def transient(self) -> bool:
        """Worth asking again later within a wait's deadline.

        Throttling and server-side failures, and an endpoint that could not
        be reached or did not answer (for a while only: see `outage`).
        Anything else (access denied, no or expired credentials, bad request,
        unknown backup) gives the same answer however often it is asked.
        """
        return self.status >= 500 or self.code in THROTTLING_CODES or self.outage

    @property
    def outage(self) -> bool:
        """The call got no answer: waits ride this out only briefly, not to their deadline."""
        return self.code in OUTAGE_CODES


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


def _aws_file(env_name: str, default: str) -> str:
    return str(Path(_env(env_name) or default).expanduser())


def _profile_of(profile: str | None) -> tuple[str, str]:
    """The profile boto3 reads, and where that choice came from."""
    if profile:
        return profile, "from aws:profile"
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        value = _env(name)
        if value:
            return value, f"from {name}"
    return "default", "neither aws:profile nor AWS_PROFILE is set"


def _files(joint: str = " and ") -> str:
    return (
        _aws_file("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
        + joint
        + _aws_file("AWS_CONFIG_FILE", "~/.aws/config")
    )


def _unknown_profile(profile: str | None) -> FsxApiError:
    name, source = _profile_of(profile)
    return FsxApiError(
        "client setup",
        "ProfileNotFound",
        f"AWS profile '{name}' ({source}) is in neither {_files(' nor ')}. Correct "
        "aws:profile or AWS_PROFILE, or add the profile to those files.",
        0,
    )


class ErrorMapping:
    """What a client knows of where it calls, for the messages of its errors."""

    region: str
    region_source: str
    profile: str
    profile_source: str
    endpoint_url: str
    # How long one attempt waits for an answer.
    read_timeout: float = READ_TIMEOUT_SECONDS

    def _where(self) -> str:
        return f"Region {self.region} (from {self.region_source})"

    def _profile(self) -> str:
        return f"profile '{self.profile}' ({self.profile_source})"

    def _credential_sources(self) -> str:
        metadata = (
            "container credentials (instance metadata is disabled by AWS_EC2_METADATA_DISABLED)"
            if (_env("AWS_EC2_METADATA_DISABLED") or "").lower() == "true"
            else "container credentials and instance metadata"
        )
        return (
            "the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); "
            f"{self._profile()} in {_files()}; {metadata}"
        )

    def _error(self, operation: str, exc: Exception) -> FsxApiError:
        """`exc`, raised by boto3 for `operation`, as an FsxApiError a user can act on."""
        from botocore import exceptions as bce

        if isinstance(exc, FsxApiError):
            return exc
        profile = self._profile()
        refresh = (
            "Refresh them in the environment `pulumi` runs in (for SSO: `aws sso login "
            f"--profile {self.profile}`; for temporary keys: new AWS_ACCESS_KEY_ID, "
            "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN) and run the command again."
        )
        if isinstance(exc, bce.ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            message = str(error.get("Message", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400))
            if code in _EXPIRED_CODES:
                return FsxApiError(
                    operation,
                    "CredentialsExpired",
                    f"the AWS credentials of {profile} have expired, for {self._where()}: "
                    f"{code}: {message}. {refresh}",
                    status,
                )
            if code in _REJECTED_CODES:
                return FsxApiError(
                    operation,
                    "InvalidCredentials",
                    f"AWS rejected the credentials of {profile}, for {self._where()}: "
                    f"{code}: {message}. Check the access key, secret key and session token "
                    "that the environment `pulumi` runs in, or the profile, gives.",
                    status,
                )
            return FsxApiError(operation, code, message, status)
        if isinstance(exc, bce.NoCredentialsError):
            return FsxApiError(
                operation,
                "NoCredentials",
                f"no AWS credentials found for {self._where()}. Looked at "
                f"{self._credential_sources()}. Set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or a profile with credentials (AWS_PROFILE, or "
                "`pulumi config set aws:profile NAME`), in the environment `pulumi` runs in.",
                0,
            )
        # LoginError (`aws login` sessions) exists only in newer botocore.
        login_errors = tuple(
            getattr(bce, name)
            for name in ("SSOError", "TokenRetrievalError", "NoAuthTokenError", "LoginError")
            if hasattr(bce, name)
        )
        if isinstance(exc, login_errors):
            return FsxApiError(
                operation,
                "CredentialsExpired",
                f"the AWS login of {profile} has expired or is missing, for "
                f"{self._where()}: {exc}. {refresh}",
                0,
            )
        if isinstance(
            exc,
            bce.CredentialRetrievalError
            | bce.PartialCredentialsError
            | bce.MetadataRetrievalError
            | bce.RefreshWithMFAUnsupportedError,
        ):
            return FsxApiError(
                operation,
                "CredentialsUnavailable",
                f"could not obtain AWS credentials of {profile}, for {self._where()}: "
                f"{exc}. Fix that credential source, or set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY in the environment `pulumi` runs in.",
                0,
            )
        endpoint = self.endpoint_url
        check = (
            "Check the network and any proxy (HTTPS_PROXY), and the endpoint if one is set "
            "(aws:endpoints, AWS_ENDPOINT_URL_FSX, AWS_ENDPOINT_URL) and the Region."
        )
        if isinstance(exc, bce.SSLError):
            return FsxApiError(
                operation,
                "TlsError",
                f"TLS with the FSx endpoint {endpoint}, for {self._where()}, failed: {exc}. "
                "Check the endpoint URL, and AWS_CA_BUNDLE if the endpoint uses a private CA.",
                0,
            )
        if isinstance(exc, bce.ConnectionError):
            # Refused, unresolvable host, connect timeout, proxy: nothing reached FSx.
            return FsxApiError(
                operation,
                "EndpointUnreachable",
                f"could not connect to the FSx endpoint {endpoint}, for {self._where()}, in "
                f"{CONNECTION_ATTEMPTS} attempts: {_reason(exc)}. {check}",
                0,
            )
        if isinstance(exc, bce.ReadTimeoutError):
            return FsxApiError(
                operation,
                "Timeout",
                f"the FSx endpoint {endpoint}, for {self._where()}, did not answer within "
                f"{self.read_timeout:g} s, {CONNECTION_ATTEMPTS} attempts in a row. {check}",
                0,
            )
        if isinstance(exc, bce.HTTPClientError):
            return FsxApiError(
                operation,
                "ConnectionFailed",
                f"the connection to the FSx endpoint {endpoint}, for {self._where()}, failed "
                f"{CONNECTION_ATTEMPTS} times in a row: {exc}. {check}",
                0,
            )
        if isinstance(exc, bce.NoRegionError):
            return FsxApiError(operation, "NoRegion", f"{exc}; {self._where()}", 0)
        if isinstance(exc, bce.BotoCoreError):
            # e.g. ParamValidationError, whose text spans lines: keep one paragraph.
            return FsxApiError(operation, type(exc).__name__, " ".join(str(exc).split()), 0)
        return unexpected_error(operation, exc)


def _reason(exc: Exception) -> str:
    """Why a connection failed, in the socket's words ("[Errno 111] Connection refused").

    botocore's own text only repeats the URL; the urllib3 error it wraps says why.
    """
    from botocore import exceptions as bce

    if isinstance(exc, bce.ConnectTimeoutError):
        return f"no connection within {CONNECT_TIMEOUT_SECONDS:g} s"
    inner = getattr(exc, "kwargs", {}).get("error")
    if inner is None:
        return str(exc)
    text = str(inner)
    # "AWSHTTPConnection(host=..., port=...): Failed to establish a new connection: why"
    return text.split("): ", 1)[-1]


def unexpected_error(operation: str, exc: BaseException) -> FsxApiError:
    """A failure no rule above names (a bug, most likely): reported as it is, never retried."""
    return FsxApiError(
        operation,
        "Unexpected",
        f"{type(exc).__name__}: {exc}. This is a bug in fsx-backup-provider or in a library it "
        "uses; please report it with this message.",
        0,
    )
