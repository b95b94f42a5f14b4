"""Which Regions FSx has, as the installed botocore knows them: a typo is refused at preview.

Terraform's AWS provider checks a Region against its known list and offers
`skip_region_validation` for Regions newer than the provider; this is the
same, with botocore's endpoint data (every partition: aws, aws-cn,
aws-us-gov, ...) as the list and config `fsx:skipRegionValidation` as the
opt-out. Without the check, `us-est-1` passes preview and fails at the first
create, after a DNS lookup of an endpoint that does not exist.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from typing import Any

from fsx_backup_provider.providers.validation import Failure, is_unknown

SKIP_CONFIG = "fsx:skipRegionValidation"
REGION = "region"


@functools.cache
def known_regions() -> frozenset[str]:
    """FSx's Regions in every partition botocore knows; empty if botocore cannot say
    (then nothing is refused: the check fails soft, the first call still would not)."""
    try:
        import botocore.session

        session = botocore.session.get_session()
        return frozenset(
            region
            for partition in session.get_available_partitions()
            for region in session.get_available_regions("fsx", partition_name=partition)
        )
    except Exception:
        return frozenset()


def region_problem(region: str) -> str | None:
    """Why `region` is not an FSx Region, or None (also None when the list is unknown)."""
    known = known_regions()
    if not known or region in known:
        return None
    import botocore

    near = difflib.get_close_matches(region, sorted(known), n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""
    return (
        f"{region!r} is not an FSx Region that botocore {botocore.__version__} knows{hint}. "
        f"For a Region newer than the installed botocore, upgrade botocore or set "
        f"`pulumi config set {SKIP_CONFIG} true`."
    )


def region_failures(
    inputs: Mapping[str, Any],
    configured: str | None,
    secret: frozenset[str],
    failed: frozenset[str] = frozenset(),
) -> list[Failure]:
    """The Regions a resource would call (its `region` and `source_region` inputs,
    else `aws:region`) that FSx does not have; a secret or unknown value is not
    named, and an input that already broke a rule (`failed`: its shape) is left
    to that one message."""
    failures: list[Failure] = []
    for prop in ("region", "source_region"):
        value = inputs.get(prop)
        if prop in failed or prop in secret:
            continue
        if isinstance(value, str) and not is_unknown(value):
            problem = region_problem(value)
            if problem:
                failures.append(Failure(prop, problem, REGION))
    if inputs.get("region") is None and configured:
        problem = region_problem(configured)
        if problem:
            failures.append(Failure("region", f"aws:region: {problem}", REGION))
    return failures
