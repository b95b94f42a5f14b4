"""Fixtures for the emulator's own tests.

The plugin's emulator fixtures are imported here, which defines them again for this
directory: with `fsx_emulator_options` overridden below, the emulator tests get an
emulator process of their own, started with those options, while the rest of the suite
keeps the plugin's (started with its defaults).

Every response any test receives through the shared client is checked against the FSx
model (the raw JSON, before botocore's parser drops what it does not know).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from fsx_emulator.client import Emulator
from fsx_emulator.pytest_plugin import fsx_emulator, fsx_emulator_session

__all__ = ["fsx_emulator", "fsx_emulator_session"]

FSX_MODEL = botocore.session.get_session().get_service_model("fsx")
# Errors any AWS JSON service may answer besides those an operation's model lists.
COMMON_ERRORS = {"ThrottlingException", "InternalServerError"}


@pytest.fixture(scope="session")
def fsx_emulator_options() -> dict[str, Any]:
    # Backups complete at once unless a test asks for time (set_faults(backup_seconds=..)).
    return {"backup_seconds": 0}


def shape_violations(value: Any, shape: Shape, path: str) -> list[str]:
    """Where `value` (decoded AWS JSON 1.1) departs from `shape`."""
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {value!r}"]
        problems = [
            f"{path}.{name}: not in {shape.name}" for name in value if name not in shape.members
        ]
        problems += [
            f"{path}.{name}: required" for name in shape.required_members if name not in value
        ]
        for name, item in value.items():
            if name in shape.members:
                problems += shape_violations(item, shape.members[name], f"{path}.{name}")
        return problems
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {value!r}"]
        return [
            p
            for i, item in enumerate(value)
            for p in shape_violations(item, shape.member, f"{path}[{i}]")
        ]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            return [f"{path}: expected a map, got {value!r}"]
        return [
            p
            for key, item in value.items()
            for p in shape_violations(item, shape.value, f"{path}[{key}]")
        ]
    return _scalar_violations(value, shape, path)


def _scalar_violations(value: Any, shape: Shape, path: str) -> list[str]:
    kind = shape.type_name
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {value!r}"]
        problems = []
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            problems.append(f"{path}: {value!r} not in {shape.name} enum")
        if not shape.metadata.get("min", 0) <= len(value) <= shape.metadata.get("max", len(value)):
            problems.append(f"{path}: length {len(value)} outside {shape.name} limits")
        pattern = shape.metadata.get("pattern")
        # Python's re has no \p{..}; those (tag) patterns are exercised by test_create_backup.
        if pattern and "\\p{" not in pattern and re.fullmatch(pattern, value) is None:
            problems.append(f"{path}: {value!r} does not match {shape.name} pattern {pattern}")
        return problems
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{path}: expected an integer, got {value!r}"]
        if not shape.metadata.get("min", value) <= value <= shape.metadata.get("max", value):
            return [f"{path}: {value} outside {shape.name} limits"]
        return []
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {value!r}"]
    if kind == "timestamp":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected epoch seconds, got {value!r}"]
    return []


def response_violations(operation: OperationModel, status: int, body: Any) -> list[str]:
    """Where a raw FSx response departs from what the model says `operation` answers."""
    if status == 200:
        assert operation.output_shape is not None
        return shape_violations(body, operation.output_shape, operation.name)
    code = body.get("__type", "") if isinstance(body, dict) else ""
    known = {error.name for error in operation.error_shapes} | COMMON_ERRORS
    if code not in known:
        return [f"{operation.name}: error {code!r} ({status}) is not in {sorted(known)}"]
    if code in COMMON_ERRORS:
        return []
    fields = {name: value for name, value in body.items() if name != "__type"}
    return shape_violations(fields, FSX_MODEL.shape_for(code), f"{operation.name}!{code}")


def watch_responses(client: Any, sink: list[str]) -> None:
    """Check every response `client` receives, appending departures to `sink`."""

    def check(operation_model: OperationModel, response_dict: dict[str, Any], **_: Any) -> None:
        body = json.loads(response_dict["body"] or b"{}")
        sink.extend(response_violations(operation_model, response_dict["status_code"], body))

    client.meta.events.register("before-parse.fsx", check)


# The Region backup copies go to or come from, besides the emulator's default one.
OTHER_REGION = "eu-west-1"


@pytest.fixture(scope="session")
def _violations(fsx_emulator_session: Emulator) -> list[str]:
    found: list[str] = []
    watch_responses(fsx_emulator_session.client(), found)
    watch_responses(fsx_emulator_session.client(region=OTHER_REGION), found)
    return found


@pytest.fixture
def other_region() -> str:
    """A second Region of the emulator; its shared client's responses are checked too."""
    return OTHER_REGION


@pytest.fixture(autouse=True)
def _responses_match_the_model(_violations: list[str]) -> Iterator[None]:
    _violations.clear()
    yield
    assert _violations == [], "responses departing from the FSx model"


@pytest.fixture
def client_error() -> Callable[..., ClientError]:
    """`client_error(call, *args, **kwargs)`: the ClientError the call raises."""

    def run(call: Callable[..., Any], *args: Any, **kwargs: Any) -> ClientError:
        with pytest.raises(ClientError) as raised:
            call(*args, **kwargs)
        return raised.value

    return run


@pytest.fixture
def model_violations() -> Callable[[OperationModel, int, Any], list[str]]:
    """The check every response goes through, for tests of the check itself."""
    return response_violations
