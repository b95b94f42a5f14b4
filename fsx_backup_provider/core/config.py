"""Provider configuration, read the way pulumi-aws users already write it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


def _parse_json(value: Any) -> Any:
    # Structured stack config (aws:defaultTags, aws:endpoints) reaches a
    # provider as a JSON string; already-decoded values are taken as they are.
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"could not parse {value!r} as JSON: {exc}") from exc
    return value


@dataclass(frozen=True)
class ProviderSettings:
    """`aws:region`, `aws:profile`, `aws:defaultTags` and the FSx endpoint.

    Unset values are left to the AWS environment: the Region to AWS_REGION,
    then AWS_DEFAULT_REGION, then the profile (fsx.py, the order pulumi-aws
    users expect); the profile to AWS_PROFILE; the endpoint to
    AWS_ENDPOINT_URL_FSX and AWS_ENDPOINT_URL.
    """

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    default_tags: Mapping[str, str] = field(default_factory=dict)
    # fsx:skipRegionValidation: Regions newer than the installed botocore (regions.py).
    skip_region_validation: bool = False

    @classmethod
    def from_config(cls, get: Callable[[str], Any]) -> ProviderSettings:
        default_tags: dict[str, str] = {}
        raw_tags = get("aws:defaultTags")
        if raw_tags:
            parsed = _parse_json(raw_tags)
            tags = parsed.get("tags") if isinstance(parsed, dict) else None
            if not isinstance(tags, dict):
                raise ValueError('aws:defaultTags must look like {"tags": {"Key": "Value"}}')
            default_tags = {str(k): str(v) for k, v in tags.items()}
        endpoint_url = None
        raw_endpoints = get("aws:endpoints")
        if raw_endpoints:
            parsed = _parse_json(raw_endpoints)
            if not isinstance(parsed, list):
                raise ValueError('aws:endpoints must look like [{"fsx": "https://..."}]')
            for entry in parsed:
                if isinstance(entry, dict) and entry.get("fsx"):
                    endpoint_url = str(entry["fsx"])
        skip = str(get("fsx:skipRegionValidation") or "false").strip().lower()
        if skip not in ("true", "false"):
            raise ValueError("fsx:skipRegionValidation must be true or false")
        return cls(
            skip_region_validation=skip == "true",
            region=get("aws:region") or None,
            profile=get("aws:profile") or None,
            endpoint_url=endpoint_url,
            default_tags=default_tags,
        )
