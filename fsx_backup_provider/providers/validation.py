"""Input rules for an FSx backup, checked at preview without any AWS call.

Each rule names the property it is about and says what the rule is, so the
engine can show the user exactly which input to fix. Values that are still
unknown at preview (outputs of resources not created yet) are let through;
they are checked again when they are known.

The dynamic provider host hands unknown values over in two forms: check and
diff deserialize the engine's properties keeping unknowns, which gives
`pulumi.output.Unknown` objects on the SDKs this project admits, while the
wire form (and the unit tests of older code) is the marker string
`pulumi.runtime.rpc.UNKNOWN`. Both mean the same, anywhere in a value.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from fsx_backup_provider.aws.servicemodel import list_rule, string_rule
from fsx_backup_provider.core.constants import RESERVED_TAG_PREFIX
from fsx_backup_provider.core.holder import HOLDER_TAG

# What kind of rule a Failure broke, for callers that decide by rule (the CLI
# says "exactly one source" in its own words) rather than by message text.
ONE_SOURCE = "one_source"
REQUIRED = "required"
TYPE = "type"
SHAPE = "shape"
TAG_KEY = "tag_key"
TAG_VALUE = "tag_value"
TAG_RESERVED_PREFIX = "tag_reserved_prefix"
TAG_COUNT = "tag_count"
POSITIVE_NUMBER = "positive_number"


@dataclass(frozen=True)
class Failure:
    """One broken rule: the input property and the reason, as the engine shows them."""

    property: str
    reason: str
    rule: str


def is_unknown(value: Any) -> bool:
    """The value itself is not known yet (at preview): either form the host passes."""
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)


def contains_unknown(value: Any) -> bool:
    """The value, or anything inside it (a map's keys and values, a list's items), is unknown."""
    if is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(k) or contains_unknown(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_unknown(v) for v in value)
    return False


_SHOWN = reprlib.Repr()
_SHOWN.maxstring = 300
_SHOWN.maxother = 300


def shown(value: Any, secret: bool = False) -> str:
    """A value as messages quote it: shortened, and never a secret's."""
    return "(a secret value)" if secret else _SHOWN.repr(value)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value in it replaced, longest first (FSx's own
    messages quote IDs and tags as they were sent)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "(a secret value)")
    return text


def _string_failures(prop: str, value: Any, shape: str, secret: bool = False) -> list[Failure]:
    if value is None or is_unknown(value):
        return []
    if not isinstance(value, str):
        return [Failure(prop, f"must be a string, got {type(value).__name__}", TYPE)]
    problem = string_rule(shape).problem(value)
    return [Failure(prop, f"{shown(value, secret)} {problem}", SHAPE)] if problem else []


def tag_failures(
    prop: str,
    tags: Any,
    default_tags: Mapping[str, str] | None = None,
    secret: bool = False,
    secret_defaults: bool = False,
) -> list[Failure]:
    """Rules for a tag map: FSx's key and value shapes, reserved prefix, count.

    A secret map (or secret default tags) is described without its keys and values.
    """
    if is_unknown(tags):
        return []
    if tags is not None and not isinstance(tags, Mapping):
        return [
            Failure(prop, f"must be a map of tag keys to values, got {type(tags).__name__}", TYPE)
        ]
    tags = tags or {}
    failures: list[Failure] = []
    # Default tags are sent with every create, so they are held to the same
    # rules, even on a resource that declares no tags of its own.
    for key, value in (default_tags or {}).items():
        failures += _one_tag_failures(prop, key, value, " (from aws:defaultTags)", secret_defaults)
    for key, value in tags.items():
        failures += _one_tag_failures(prop, key, value, "", secret)
    limit = list_rule("Tags").max_items
    merged = {**(default_tags or {}), **tags}
    if len(merged) > limit:
        origin = " (including aws:defaultTags)" if default_tags else ""
        failures.append(
            Failure(
                prop,
                f"has {len(merged)} tags{origin}; an FSx backup holds at most {limit}",
                TAG_COUNT,
            )
        )
    return failures


def _one_tag_failures(prop: str, key: Any, value: Any, origin: str, secret: bool) -> list[Failure]:
    failures: list[Failure] = []
    if is_unknown(key):
        return failures
    name = shown(key, secret)
    if not isinstance(key, str):
        return [Failure(prop, f"tag key {name}{origin} must be a string", TAG_KEY)]
    key_problem = string_rule("TagKey").problem(key)
    if key_problem:
        failures.append(Failure(prop, f"tag key {name}{origin} {key_problem}", TAG_KEY))
    elif key == HOLDER_TAG:
        failures.append(
            Failure(
                prop,
                f"tag key {name}{origin} is the provider's own: it records which stack made "
                "the backup, and is never declared",
                TAG_RESERVED_PREFIX,
            )
        )
    elif key.lower().startswith(RESERVED_TAG_PREFIX):
        failures.append(
            Failure(
                prop,
                f"tag key {name}{origin} uses the prefix {RESERVED_TAG_PREFIX!r}, "
                "which is reserved for AWS (in any letter case)",
                TAG_RESERVED_PREFIX,
            )
        )
    if is_unknown(value):
        return failures
    if not isinstance(value, str):
        failures.append(Failure(prop, f"tag {name}{origin} must have a string value", TAG_VALUE))
        return failures
    value_problem = string_rule("TagValue").problem(value)
    if value_problem:
        failures.append(Failure(prop, f"value of tag {name}{origin} {value_problem}", TAG_VALUE))
    return failures


def _positive_number_failures(prop: str, value: Any) -> list[Failure]:
    if value is None or is_unknown(value):
        return []
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [Failure(prop, f"must be a number of seconds, got {type(value).__name__}", TYPE)]
    if not math.isfinite(value) or value <= 0:
        return [
            Failure(
                prop, f"must be a positive, finite number of seconds, got {value}", POSITIVE_NUMBER
            )
        ]
    return []


def validate_inputs(
    inputs: Mapping[str, Any],
    default_tags: Mapping[str, str] | None = None,
    secret: frozenset[str] = frozenset(),
    secret_defaults: bool = False,
) -> list[Failure]:
    """Every rule an FsxBackup's inputs break, in a stable order.

    `secret` names the inputs whose values are secret: their failures name
    the field and the rule, never the value.
    """
    failures: list[Failure] = []
    fs_id, vol_id = inputs.get("file_system_id"), inputs.get("volume_id")
    if not is_unknown(fs_id) and not is_unknown(vol_id):
        if fs_id is None and vol_id is None:
            failures.append(
                Failure(
                    "file_system_id",
                    "exactly one of file_system_id or volume_id must be set; neither is "
                    "(back up a file system with file_system_id, an ONTAP volume with volume_id)",
                    ONE_SOURCE,
                )
            )
        elif fs_id is not None and vol_id is not None:
            failures.append(
                Failure(
                    "volume_id",
                    "exactly one of file_system_id or volume_id must be set; both are "
                    "(an ONTAP volume backup takes only volume_id)",
                    ONE_SOURCE,
                )
            )
    for prop, shape in (("file_system_id", "FileSystemId"), ("volume_id", "VolumeId")):
        failures += _string_failures(prop, inputs.get(prop), shape, prop in secret)
    failures += tag_failures(
        "tags", inputs.get("tags"), default_tags, "tags" in secret, secret_defaults
    )
    return failures + _common_failures(inputs, secret)


def _common_failures(inputs: Mapping[str, Any], secret: frozenset[str]) -> list[Failure]:
    """Rules for the inputs every resource of this provider has, but tags."""
    failures: list[Failure] = []
    for prop, shape in (("client_request_token", "ClientRequestToken"), ("region", "Region")):
        failures += _string_failures(prop, inputs.get(prop), shape, prop in secret)
    wait = inputs.get("wait_for_available")
    if wait is not None and not is_unknown(wait) and not isinstance(wait, bool):
        failures.append(
            Failure("wait_for_available", f"must be true or false, got {type(wait).__name__}", TYPE)
        )
    for prop in ("create_timeout_seconds", "delete_timeout_seconds"):
        failures += _positive_number_failures(prop, inputs.get(prop))
    return failures


def validate_copy_inputs(
    inputs: Mapping[str, Any],
    default_tags: Mapping[str, str] | None = None,
    secret: frozenset[str] = frozenset(),
    secret_defaults: bool = False,
    source_tags: Mapping[str, str] | None = None,
) -> list[Failure]:
    """Every rule an FsxBackupCopy's inputs break, in a stable order.

    `source_tags` are the source backup's tags when this process knows them
    (the source is a backup of the same stack): with copy_tags, FSx copies
    them onto the copy, and the sum must stay within the limit. Unknown, FSx
    itself refuses too many at create.
    """
    failures: list[Failure] = []
    source = inputs.get("source_backup_id")
    if source is None:
        failures.append(
            Failure("source_backup_id", "is required: the ID of the backup to copy", REQUIRED)
        )
    failures += _string_failures(
        "source_backup_id", source, "SourceBackupId", "source_backup_id" in secret
    )
    failures += _string_failures(
        "source_region", inputs.get("source_region"), "Region", "source_region" in secret
    )
    failures += _string_failures(
        "kms_key_id", inputs.get("kms_key_id"), "KmsKeyId", "kms_key_id" in secret
    )
    copy_tags = inputs.get("copy_tags")
    if copy_tags is not None and not is_unknown(copy_tags) and not isinstance(copy_tags, bool):
        failures.append(
            Failure("copy_tags", f"must be true or false, got {type(copy_tags).__name__}", TYPE)
        )
    tags = inputs.get("tags")
    failures += tag_failures("tags", tags, default_tags, "tags" in secret, secret_defaults)
    if copy_tags is True and source_tags is not None and isinstance(tags, Mapping | None):
        merged = {**source_tags, **(default_tags or {}), **(tags or {})}
        limit = list_rule("Tags").max_items
        if len(merged) > limit and not is_unknown(tags):
            failures.append(
                Failure(
                    "tags",
                    f"with copy_tags the copy would have {len(merged)} tags (its source's "
                    f"{len(source_tags)} and these); an FSx backup holds at most {limit}",
                    TAG_COUNT,
                )
            )
    failures += _common_failures(inputs, secret)
    return failures
