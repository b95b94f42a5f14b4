"""Where and as whom FSx is called, and how often a call is tried.

The Region and profile are resolved in the order pulumi-aws users expect;
retries happen once, through botocore's needs-retry event (`_RetryPolicy`),
never in loops around individual calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fsx_backup_provider.aws.errors import (
    CONNECTION_ATTEMPTS,
    MAX_ATTEMPTS,
    MAX_BACKOFF_SECONDS,
    FsxApiError,
    _env,
    _profile_of,
    _unknown_profile,
)

if TYPE_CHECKING:
    from botocore.retries.standard import RetryContext


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
