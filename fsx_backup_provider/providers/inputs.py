"""The inputs every backup-like resource has, and what the providers read from them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from fsx_backup_provider.aws.fsx import Backup
from fsx_backup_provider.core.constants import TOKEN_PREFIX
from fsx_backup_provider.core.scope import scope_key
from fsx_backup_provider.providers.validation import is_unknown

# Inputs every resource of this provider has, besides its own.
COMMON_INPUT_KEYS = (
    "tags",
    "client_request_token",
    "wait_for_available",
    "create_timeout_seconds",
    "delete_timeout_seconds",
    "region",
    "import_backup_id",
    "resource_urn",
    "identity",
    "token_epoch",
    "replace_on_changes",
    "secret_inputs",
)
# Inputs whose names are also outputs with another meaning (the output holds
# the resolved Region, the token used, ...) are kept apart as given, under this
# output, so that diff compares what was declared and refresh gives the inputs
# back as declared (see read()).
GIVEN_KEY = "given"
# Inputs that only steer the provider; a change alone is no change in FSx.
KNOBS = ("wait_for_available", "create_timeout_seconds", "delete_timeout_seconds")
_DERIVED_TOKEN = re.compile(rf"{TOKEN_PREFIX}-[0-9a-f]{{32}}-g\d+")


def known(value: Any) -> bool:
    return value is not None and not is_unknown(value)


def declared_tags(tags: Any) -> dict[str, str]:
    return dict(tags) if isinstance(tags, Mapping) else {}


def secret_names(props: Mapping[str, Any]) -> frozenset[str]:
    names = props.get("secret_inputs")
    return frozenset(names) if isinstance(names, list) else frozenset()


def key_of(props: Mapping[str, Any]) -> str | None:
    urn = props.get("resource_urn")
    return scope_key(urn) if isinstance(urn, str) and not is_unknown(urn) else None


def given_inputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs kept apart (GIVEN_KEY) that a resource was created with.

    States made by 0.1.0 did not keep them apart: a token that is not of the
    derived form was given by the user; the region input is taken as unset.
    """
    given = outputs.get(GIVEN_KEY)
    if isinstance(given, Mapping):
        return {k: v for k, v in given.items() if v is not None}
    token = outputs.get("client_request_token")
    if isinstance(token, str) and not _DERIVED_TOKEN.fullmatch(token):
        return {"client_request_token": token}
    return {}


def replace_on_changes(patterns: Any, changed: Sequence[str], already: Sequence[str]) -> list[str]:
    """The changed inputs the resource's replace_on_changes option names.

    The engine applies that option only to a provider's detailed diff, which
    Python dynamic providers cannot return, so the provider applies it itself
    (the resource passes the option's list as an input).
    """
    if not isinstance(patterns, list):
        return []
    wanted = {str(p) for p in patterns}
    return [key for key in changed if key not in already and ("*" in wanted or key in wanted)]


def is_volume_backup(backup: Backup) -> bool:
    """A backup of an ONTAP volume (rather than of a file system), or a copy of one."""
    return backup.get("ResourceType") == "VOLUME" or bool(backup.get("Volume"))


def creation_time(backup: Backup) -> Any:
    created = backup.get("CreationTime")
    return created.isoformat() if isinstance(created, datetime) else created
