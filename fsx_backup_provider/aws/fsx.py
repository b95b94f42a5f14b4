"""The only module that talks to AWS: boto3 clients, error mapping, retries, finders.

Every exception a boto3 call can raise leaves this module as `FsxApiError`:
an error answer from FSx keeps its AWS code (BackupNotFound, ...); a failure
that never reached FSx gets a code of its own (NoCredentials,
CredentialsExpired, EndpointUnreachable, Timeout, NoRegion, ...) and a
message that says where the provider looked (profile, Region, endpoint URL)
and what to set. Retries happen here, once, through botocore's needs-retry
event (see `_RetryPolicy`), never in loops around individual calls.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fsx_backup_provider.aws.servicemodel import max_backup_ids_per_describe
from fsx_backup_provider.version import stamp

if TYPE_CHECKING:
    from botocore.retries.standard import RetryContext
    from mypy_boto3_fsx import FSxClient
    from mypy_boto3_fsx.type_defs import TagTypeDef

Backup = dict[str, Any]

# Lifecycles after which a backup no longer changes by itself.
FINAL_LIFECYCLES = frozenset({"AVAILABLE", "FAILED", "DELETED"})

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


@dataclass(frozen=True)
class Connection:
    """Where and as whom to call FSx. None means: as the AWS chain decides.

    `region` is the resource's `region` input or `aws:region`; unset, the
    Region comes from AWS_REGION, then AWS_DEFAULT_REGION, then the profile.
    `endpoint_url` is only for an explicit override (aws:endpoints); boto3
    itself honours AWS_ENDPOINT_URL_FSX and AWS_ENDPOINT_URL.
    """

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None


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


def _resolve_region(region: str | None, profile: str | None) -> tuple[str | None, str]:
    """The Region and where it came from, in the order pulumi-aws users expect.

    boto3 alone reads only AWS_DEFAULT_REGION and the profile; pulumi-aws and
    the other AWS SDKs read AWS_REGION first, so that is looked at here.
    """
    if region:
        return region, "the region input or aws:region"
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        value = _env(name)
        if value:
            return value, name
    import boto3.session
    import botocore.exceptions

    try:
        # Both variables are unset here, so this is the profile's own region.
        from_profile = boto3.session.Session(profile_name=profile).region_name
    except botocore.exceptions.ProfileNotFound:
        raise _unknown_profile(profile) from None
    name, _source = _profile_of(profile)
    return from_profile, f"profile '{name}'"


def default_region(region: str | None, profile: str | None) -> str | None:
    """The Region the chain settles on; ValueError names an unknown profile."""
    try:
        return _resolve_region(region, profile)[0]
    except FsxApiError as error:
        raise ValueError(error.message) from None


_clients: dict[Connection, FsxClient] = {}
_clients_lock = threading.Lock()


def client_for(connection: Connection) -> FsxClient:
    """One client per connection per process; boto3 clients are thread-safe."""
    with _clients_lock:
        found = _clients.get(connection)
        if found is None:
            found = FsxClient(connection)
            _clients[connection] = found
        return found


# Set by the provider process: once true, no call is retried (its engine is gone,
# and a retry would change FSx with nobody to record it; host/watchdog.py).
_stop_retrying: Callable[[], bool] = lambda: False  # noqa: E731


def stop_retrying_when(predicate: Callable[[], bool]) -> None:
    """No retry of any call, from the moment `predicate()` is true."""
    global _stop_retrying
    _stop_retrying = predicate


class _RetryPolicy:
    """botocore's "standard" retry rules and backoff, without its shared retry quota.

    Standard mode's rules (which answers are throttling or transient, which
    exceptions are connection failures) and its backoff (jittered, exponential,
    each wait capped at MAX_BACKOFF_SECONDS) are the ones wanted. But standard
    mode also keeps one retry quota per client (500 units; 5 per throttled
    retry, 14 per 5xx or connection retry; a call that succeeds after retries
    refunds only its last retry's cost), and the provider process shares one
    client among all its resources. When `make chaos`'s fault rates (30%
    throttled, 10% 5xx) last longer than its short runs, across 32 threads on
    one client, that quota runs dry and botocore then stops retrying
    altogether: about a fifth of the calls failed on their first error, where
    this policy lost none. "legacy" mode has no quota, but its backoff
    (rand * 2**attempt s) has no cap, so throttled runs crawl (10 attempts can
    wait over 8 minutes in one call), and it retries a refused connection or
    a silent endpoint as often as a throttled call.

    So botocore's own handler is held to one attempt, and this one, on
    botocore's public needs-retry event, applies standard mode's rules and
    backoff with a count per call instead of a shared budget, and fewer
    attempts for connection failures and timeouts. Retrying is safe for every
    call the provider makes: CreateBackup carries its idempotency token.
    """

    def __init__(self) -> None:
        from botocore.retries import standard

        self._adapter = standard.RetryEventAdapter()
        self._conditions = standard.StandardRetryConditions(max_attempts=MAX_ATTEMPTS)
        try:
            # Newer botocore backs off throttling (from 1 s) apart from other errors.
            self._backoff = standard.ExponentialBackoff(
                max_backoff=int(MAX_BACKOFF_SECONDS),
                service_name="fsx",
                throttling_detector=standard.ThrottlingErrorDetector(self._adapter),
            )
        except TypeError:
            # Older botocore (the admitted range starts at 1.35.0) has one
            # backoff for all errors, rand * 2**attempt s, capped alike.
            self._backoff = standard.ExponentialBackoff(max_backoff=int(MAX_BACKOFF_SECONDS))

    def needs_retry(self, **kwargs: Any) -> float | None:
        """The delay before the next attempt, or None for no retry (botocore's contract)."""
        context: RetryContext = self._adapter.create_retry_context(**kwargs)
        if not self._conditions.is_retryable(context) or _stop_retrying():
            return None
        if context.caught_exception is not None and context.attempt_number >= CONNECTION_ATTEMPTS:
            return None
        return self._backoff.delay_amount(context)


class FsxClient:
    """The FSx calls the provider makes, with every failure mapped to FsxApiError."""

    def __init__(self, connection: Connection) -> None:
        # Imported here: boto3 and botocore's client machinery cost ~150 ms to
        # import, and a preview (check and diff only) never needs a client.
        import boto3.session
        import botocore.config
        import botocore.exceptions

        region, self.region_source = _resolve_region(connection.region, connection.profile)
        self.profile, self.profile_source = _profile_of(connection.profile)
        # Until the client is built, errors name what is known so far.
        self.region: str = region or "(none)"
        self.endpoint_url: str = connection.endpoint_url or "(not resolved)"
        if region is None:
            raise FsxApiError(
                "client setup",
                "NoRegion",
                "no AWS Region: looked at the resource's region input, aws:region, AWS_REGION, "
                f"AWS_DEFAULT_REGION and profile '{self.profile}' ({self.profile_source}) in "
                f"{_files()}. Set one, e.g. `pulumi config set aws:region us-east-1`.",
                0,
            )
        try:
            session = boto3.session.Session(profile_name=connection.profile, region_name=region)
            self._client: FSxClient = session.client(
                "fsx",
                endpoint_url=connection.endpoint_url,
                config=botocore.config.Config(
                    # Only the first attempt: _RetryPolicy decides on retries.
                    retries={"mode": "standard", "total_max_attempts": 1},
                    connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    read_timeout=READ_TIMEOUT_SECONDS,
                    user_agent_extra="fsx-backup-provider",
                    max_pool_connections=64,
                ),
            )
        except botocore.exceptions.ProfileNotFound:
            raise _unknown_profile(connection.profile) from None
        except ValueError as exc:
            # botocore's own words for a malformed URL ("Invalid endpoint: ...").
            raise FsxApiError(
                "client setup",
                "InvalidEndpoint",
                f"{exc}. The FSx endpoint (aws:endpoints, AWS_ENDPOINT_URL_FSX or "
                "AWS_ENDPOINT_URL) must be a URL such as https://fsx.us-east-1.amazonaws.com.",
                0,
            ) from None
        except Exception as exc:
            raise self._error("client setup", exc) from None
        # The stubs type event handlers as returning None; needs-retry handlers return a delay.
        self._client.meta.events.register(
            "needs-retry.fsx",
            _RetryPolicy().needs_retry,  # type: ignore[arg-type]
        )
        self.region = self._client.meta.region_name
        self.endpoint_url = self._client.meta.endpoint_url

    # -- error mapping ------------------------------------------------------

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
                f"{READ_TIMEOUT_SECONDS:g} s, {CONNECTION_ATTEMPTS} attempts in a row. {check}",
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

    # -- calls --------------------------------------------------------------

    def create_backup(
        self,
        *,
        client_request_token: str,
        file_system_id: str | None,
        volume_id: str | None,
        tags: Mapping[str, str],
    ) -> Backup:
        kwargs: dict[str, Any] = {"ClientRequestToken": client_request_token}
        if file_system_id is not None:
            kwargs["FileSystemId"] = file_system_id
        if volume_id is not None:
            kwargs["VolumeId"] = volume_id
        # No Tags at all (rather than an empty list, which FSx rejects) lets a
        # source with CopyTagsToBackups give the backup its own tags.
        if tags:
            kwargs["Tags"] = to_tag_list(tags)
        try:
            return dict(self._client.create_backup(**kwargs)["Backup"])
        except Exception as exc:
            # `from None`: the message says it all, and the dynamic provider
            # host sends the whole traceback text to the engine's output.
            raise self._error("CreateBackup", exc) from None

    def describe_backups(self, backup_ids: Sequence[str]) -> dict[str, Backup]:
        """The live descriptions of `backup_ids`; IDs FSx does not know are left out.

        DescribeBackups fails the whole call with BackupNotFound if any one ID
        is unknown, so such a batch is split in halves until the unknown IDs
        are isolated: a few extra calls, only when something was deleted.
        """
        found: dict[str, Backup] = {}
        limit = max_backup_ids_per_describe()
        unique = list(dict.fromkeys(backup_ids))
        for start in range(0, len(unique), limit):
            self._describe_batch(unique[start : start + limit], found)
        return found

    def _describe_batch(self, batch: list[str], found: dict[str, Backup]) -> None:
        if not batch:
            return
        try:
            response = self._client.describe_backups(BackupIds=batch)
        except Exception as exc:
            error = self._error("DescribeBackups", exc)
            if error.code != "BackupNotFound":
                raise error from None
            if len(batch) == 1:
                return
            middle = len(batch) // 2
            self._describe_batch(batch[:middle], found)
            self._describe_batch(batch[middle:], found)
            return
        for backup in response["Backups"]:
            found[backup["BackupId"]] = dict(backup)

    def user_backups_of(self, file_system_id: str | None, volume_id: str | None) -> list[Backup]:
        """The USER_INITIATED backups FSx lists for one source (DELETED ones excluded)."""
        name, value = ("volume-id", volume_id) if volume_id else ("file-system-id", file_system_id)
        filters: Any = [
            {"Name": name, "Values": [value]},
            {"Name": "backup-type", "Values": ["USER_INITIATED"]},
        ]
        found: list[Backup] = []
        try:
            for page in self._client.get_paginator("describe_backups").paginate(Filters=filters):
                found += [dict(b) for b in page["Backups"] if b.get("Lifecycle") != "DELETED"]
        except Exception as exc:
            raise self._error("DescribeBackups", exc) from None
        return found

    def copy_backup(
        self,
        *,
        client_request_token: str,
        source_backup_id: str,
        source_region: str | None,
        kms_key_id: str | None,
        copy_tags: bool,
        tags: Mapping[str, str],
    ) -> Backup:
        """CopyBackup into this client's Region; `source_region` None copies in-Region."""
        kwargs: dict[str, Any] = {
            "ClientRequestToken": client_request_token,
            "SourceBackupId": source_backup_id,
            "CopyTags": copy_tags,
        }
        if source_region is not None:
            kwargs["SourceRegion"] = source_region
        if kms_key_id is not None:
            kwargs["KmsKeyId"] = kms_key_id
        if tags:
            kwargs["Tags"] = to_tag_list(tags)
        try:
            return dict(self._client.copy_backup(**kwargs)["Backup"])
        except Exception as exc:
            raise self._error("CopyBackup", exc) from None

    def copies_of(self, source_backup_id: str) -> list[Backup]:
        """The live backups in this client's Region that are copies of `source_backup_id`."""
        found: list[Backup] = []
        try:
            for page in self._client.get_paginator("describe_backups").paginate():
                found += [
                    dict(b)
                    for b in page["Backups"]
                    if b.get("SourceBackupId") == source_backup_id
                    and b.get("Lifecycle") != "DELETED"
                ]
        except Exception as exc:
            raise self._error("DescribeBackups", exc) from None
        return found

    def delete_backup(self, backup_id: str) -> str:
        """Delete; returns the lifecycle FSx answers with (DELETED)."""
        try:
            return str(self._client.delete_backup(BackupId=backup_id).get("Lifecycle", "DELETED"))
        except Exception as exc:
            raise self._error("DeleteBackup", exc) from None

    def tag_resource(self, arn: str, tags: Mapping[str, str]) -> None:
        try:
            self._client.tag_resource(ResourceARN=arn, Tags=to_tag_list(tags))
        except Exception as exc:
            raise self._error("TagResource", exc) from None

    def untag_resource(self, arn: str, keys: Sequence[str]) -> None:
        try:
            self._client.untag_resource(ResourceARN=arn, TagKeys=list(keys))
        except Exception as exc:
            raise self._error("UntagResource", exc) from None

    # -- restore tests (restores.py) -------------------------------------

    def _call(self, operation: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:
            raise self._error(operation, exc) from None

    def create_file_system_from_backup(self, request: Mapping[str, Any]) -> dict[str, Any]:
        answer = self._call(
            "CreateFileSystemFromBackup",
            lambda: self._client.create_file_system_from_backup(**request),
        )
        return dict(answer["FileSystem"])

    def create_volume_from_backup(self, request: Mapping[str, Any]) -> dict[str, Any]:
        answer = self._call(
            "CreateVolumeFromBackup", lambda: self._client.create_volume_from_backup(**request)
        )
        return dict(answer["Volume"])

    def describe_file_system(self, file_system_id: str) -> dict[str, Any] | None:
        """The file system's description, or None once FSx no longer knows it."""
        try:
            found = self._client.describe_file_systems(FileSystemIds=[file_system_id])
        except Exception as exc:
            error = self._error("DescribeFileSystems", exc)
            if error.code == "FileSystemNotFound":
                return None
            raise error from None
        systems = found["FileSystems"]
        return dict(systems[0]) if systems else None

    def describe_volume(self, volume_id: str) -> dict[str, Any] | None:
        """The volume's description, or None once FSx no longer knows it."""
        try:
            found = self._client.describe_volumes(VolumeIds=[volume_id])
        except Exception as exc:
            error = self._error("DescribeVolumes", exc)
            if error.code == "VolumeNotFound":
                return None
            raise error from None
        volumes = found["Volumes"]
        return dict(volumes[0]) if volumes else None

    def all_file_systems(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        try:
            for page in self._client.get_paginator("describe_file_systems").paginate():
                found += [dict(fs) for fs in page["FileSystems"]]
        except Exception as exc:
            raise self._error("DescribeFileSystems", exc) from None
        return found

    def all_volumes(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        try:
            for page in self._client.get_paginator("describe_volumes").paginate():
                found += [dict(volume) for volume in page["Volumes"]]
        except Exception as exc:
            raise self._error("DescribeVolumes", exc) from None
        return found

    def delete_file_system(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return dict(
            self._call("DeleteFileSystem", lambda: self._client.delete_file_system(**request))
        )

    def delete_volume(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._call("DeleteVolume", lambda: self._client.delete_volume(**request)))


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


def to_tag_list(tags: Mapping[str, str]) -> list[TagTypeDef]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def tag_map(backup: Backup) -> dict[str, str]:
    return {tag["Key"]: tag.get("Value", "") for tag in backup.get("Tags") or []}
