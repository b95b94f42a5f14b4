"""Reading the JSON bodies of control requests: each value checked, or ControlError.

A control request is checked whole before it changes anything, so these only read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from moto.core.exceptions import ServiceException
from werkzeug.wrappers import Request

from fsx_emulator import servicemodel

ACCOUNT_ID = re.compile(r"[0-9]{12}")


class ControlError(Exception):
    """A control request the emulator cannot honour; answered with HTTP 400."""


def number(payload: Mapping[str, Any], key: str) -> float | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(f"{key} must be a number, got {value!r}.")
    return float(value)


def duration(payload: Mapping[str, Any], key: str) -> float | None:
    value = number(payload, key)
    if value is not None and value < 0:
        raise ControlError(f"{key} must be 0 or more, got {value}.")
    return value


def failures(key: str, value: object, what: str, shape_of: Callable[[str], str]) -> dict[str, str]:
    """A fail_next_* setting: IDs (each checked against its model shape) -> messages."""
    if not isinstance(value, Mapping):
        raise ControlError(f"{key} must map {what} to messages.")
    checked: dict[str, str] = {}
    for source_id, message in value.items():
        try:
            servicemodel.check_string(source_id, shape_of(str(source_id)), f"{key} key")
        except ServiceException as error:
            raise ControlError(error.message) from error
        if not isinstance(message, str) or not message:
            raise ControlError(f"{key}[{source_id!r}] must be a non-empty message.")
        checked[source_id] = message
    return checked


def resource_ids(payload: Mapping[str, Any], key: str) -> list[str]:
    value = payload.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ControlError(f"{key} must be a list of backup, file system or volume IDs.")
    return value


def json_body(request: Request) -> Any:
    # Read whatever the Content-Type: `curl -d` and urllib's default send none, and a body
    # ignored for that would make every request look empty.
    return request.get_json(force=True, silent=True)


def source_shape(source_id: str) -> str:
    return "VolumeId" if source_id.startswith("fsvol-") else "FileSystemId"
