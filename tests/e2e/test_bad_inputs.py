"""Bad inputs are refused by `pulumi preview` itself, before any FSx call.

Each case is one malformed input. The engine stops a program at the first
resource whose check fails, so cases cannot each have their own resource in
one shared preview; instead they are packed into a few FsxBackups (one per
preview), each carrying at most one bad value per input, and every failure
message is attributed to its case by resource name, property and the wording
of the rule. A case passes when its resource's preview fails with an engine
diagnostic for the right property stating the rule, and the emulator counted
no FSx call during that preview.

Limits and patterns in the expected messages are read from botocore's FSx
model, as the provider reads them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import botocore.session
import pytest
from pulumi import automation as auto

from fsx_backup_provider import FsxBackup, FsxBackupArgs
from fsx_backup_provider.core.constants import FSX_BACKUP_TYPE as RESOURCE_TYPE
from tests.e2e.conftest import REGION, quiet

pytestmark = pytest.mark.e2e

StackMaker = Callable[..., auto.Stack]

FS = "fs-0123456789abcdef0"
VOL = "fsvol-0123456789abcdef0"
# A volume ID's length, but a file system's prefix.
FS_PREFIXED_VOLUME = "fs-0123456789abcdef0123"


@cache
def _metadata(shape: str) -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model("fsx")
    return dict(model.shape_for(shape).metadata)


def length_rule(shape: str, value: str) -> str:
    """validation.py's wording of a length failure for `value` under `shape`."""
    low, high = _metadata(shape)["min"], _metadata(shape)["max"]
    if low == high:
        return f"must be exactly {low} characters long, got {len(value)}"
    return f"must be {low} to {high} characters long, got {len(value)}"


def pattern_rule(shape: str) -> str:
    return f"must match the pattern {_metadata(shape)['pattern']}"


def tag_limit() -> int:
    return int(_metadata("Tags")["max"])


def reason_for(prop: str, value: str, shape: str, rule: Callable[..., str]) -> tuple[str, str]:
    """(property, phrase) for a string input `value` that breaks `rule` of `shape`."""
    text = rule(shape, value) if rule is length_rule else rule(shape)
    return prop, f"{value!r} {text}"


@dataclass(frozen=True)
class Case:
    """One bad input: where it rides, what it sets, and the failure it must cause."""

    id: str
    resource: str
    inputs: dict[str, Any]
    prop: str
    phrase: str


LONG_KEY = "k" * 129
LONG_VALUE = "v" * 257
TOO_MANY_TAGS = {f"key{i}": "v" for i in range(tag_limit() + 1)}

# Resources "bad-1".."bad-4" set both sources (each malformed), so each of them
# also breaks the one-source rule; "bad-5" sets neither, "bad-6" both (valid).
CASES: list[Case] = [
    # file_system_id
    Case(
        "file_system_id-too-short",
        "bad-1",
        {"file_system_id": "fs-12"},
        *reason_for("file_system_id", "fs-12", "FileSystemId", length_rule),
    ),
    Case(
        "file_system_id-uppercase-hex",
        "bad-2",
        {"file_system_id": "fs-0123456789ABCDEF0"},
        *reason_for("file_system_id", "fs-0123456789ABCDEF0", "FileSystemId", pattern_rule),
    ),
    Case(
        "file_system_id-wrong-prefix",
        "bad-3",
        {"file_system_id": "vol-0123456789abcdef0"},
        *reason_for("file_system_id", "vol-0123456789abcdef0", "FileSystemId", pattern_rule),
    ),
    Case(
        "file_system_id-not-a-string",
        "bad-4",
        {"file_system_id": 12345},
        "file_system_id",
        "must be a string, got",
    ),
    # volume_id
    Case(
        "volume_id-too-short",
        "bad-1",
        {"volume_id": "fsvol-0123"},
        *reason_for("volume_id", "fsvol-0123", "VolumeId", length_rule),
    ),
    Case(
        "volume_id-too-long",
        "bad-4",
        {"volume_id": VOL + "0"},
        *reason_for("volume_id", VOL + "0", "VolumeId", length_rule),
    ),
    Case(
        "volume_id-bad-characters",
        "bad-2",
        {"volume_id": "fsvol-0123456789abcdefg"},
        *reason_for("volume_id", "fsvol-0123456789abcdefg", "VolumeId", pattern_rule),
    ),
    Case(
        "volume_id-fs-prefix",
        "bad-3",
        {"volume_id": FS_PREFIXED_VOLUME},
        *reason_for("volume_id", FS_PREFIXED_VOLUME, "VolumeId", pattern_rule),
    ),
    # one source
    Case(
        "neither-source",
        "bad-5",
        {},
        "file_system_id",
        "exactly one of file_system_id or volume_id must be set; neither is",
    ),
    Case(
        "both-sources",
        "bad-6",
        {"file_system_id": FS, "volume_id": VOL},
        "volume_id",
        "exactly one of file_system_id or volume_id must be set; both are",
    ),
    # tags
    Case(
        "tags-too-many",
        "bad-1",
        {"tags": TOO_MANY_TAGS},
        "tags",
        f"has {tag_limit() + 1} tags; an FSx backup holds at most {tag_limit()}",
    ),
    Case(
        "tag-key-too-long",
        "bad-2",
        {"tags": {LONG_KEY: "x"}},
        "tags",
        f"tag key {LONG_KEY!r} {length_rule('TagKey', LONG_KEY)}",
    ),
    Case(
        "tag-key-empty",
        "bad-2",
        {"tags": {"": "x"}},
        "tags",
        f"tag key '' {length_rule('TagKey', '')}",
    ),
    Case(
        "tag-value-too-long",
        "bad-2",
        {"tags": {"long": LONG_VALUE}},
        "tags",
        f"value of tag 'long' {length_rule('TagValue', LONG_VALUE)}",
    ),
    Case(
        "tag-key-bad-characters",
        "bad-2",
        {"tags": {"bad#key": "x"}},
        "tags",
        f"tag key 'bad#key' {pattern_rule('TagKey')}",
    ),
    Case(
        "tag-value-bad-characters",
        "bad-2",
        {"tags": {"star": "bad*value"}},
        "tags",
        f"value of tag 'star' {pattern_rule('TagValue')}",
    ),
    Case(
        "tag-key-aws-prefix",
        "bad-2",
        {"tags": {"aws:owner": "x"}},
        "tags",
        "tag key 'aws:owner' uses the prefix 'aws:', which is reserved for AWS",
    ),
    Case(
        "tag-key-AWS-prefix",
        "bad-2",
        {"tags": {"AWS:Owner": "x"}},
        "tags",
        "tag key 'AWS:Owner' uses the prefix 'aws:', which is reserved for AWS",
    ),
    Case(
        "tags-not-a-map",
        "bad-3",
        {"tags": ["Name", "x"]},
        "tags",
        "must be a map of tag keys to values, got list",
    ),
    Case(
        "tag-value-not-a-string",
        "bad-4",
        {"tags": {"count": 5}},
        "tags",
        "tag 'count' must have a string value",
    ),
    # client_request_token
    Case(
        "token-too-long",
        "bad-1",
        {"client_request_token": "t" * 64},
        *reason_for("client_request_token", "t" * 64, "ClientRequestToken", length_rule),
    ),
    Case(
        "token-with-space",
        "bad-2",
        {"client_request_token": "my token"},
        *reason_for("client_request_token", "my token", "ClientRequestToken", pattern_rule),
    ),
    Case(
        "token-empty",
        "bad-3",
        {"client_request_token": ""},
        *reason_for("client_request_token", "", "ClientRequestToken", length_rule),
    ),
    Case(
        "token-bad-character",
        "bad-4",
        {"client_request_token": "token!"},
        *reason_for("client_request_token", "token!", "ClientRequestToken", pattern_rule),
    ),
    # timeouts and flags
    Case(
        "create-timeout-zero",
        "bad-1",
        {"create_timeout_seconds": 0},
        "create_timeout_seconds",
        "must be a positive, finite number of seconds, got 0",
    ),
    Case(
        "create-timeout-negative",
        "bad-2",
        {"create_timeout_seconds": -30},
        "create_timeout_seconds",
        "must be a positive, finite number of seconds, got -30",
    ),
    Case(
        "create-timeout-string",
        "bad-3",
        {"create_timeout_seconds": "60"},
        "create_timeout_seconds",
        "must be a number of seconds, got str",
    ),
    Case(
        "delete-timeout-negative",
        "bad-1",
        {"delete_timeout_seconds": -5},
        "delete_timeout_seconds",
        "must be a positive, finite number of seconds, got -5",
    ),
    Case(
        "delete-timeout-string",
        "bad-2",
        {"delete_timeout_seconds": "600"},
        "delete_timeout_seconds",
        "must be a number of seconds, got str",
    ),
    Case(
        "wait-for-available-string",
        "bad-1",
        {"wait_for_available": "yes"},
        "wait_for_available",
        "must be true or false, got str",
    ),
    # region
    Case(
        "region-bad-characters",
        "bad-1",
        {"region": "US_EAST_1"},
        *reason_for("region", "US_EAST_1", "Region", pattern_rule),
    ),
    Case(
        "region-too-long",
        "bad-2",
        {"region": "us-east-1-far-too-long"},
        *reason_for("region", "us-east-1-far-too-long", "Region", length_rule),
    ),
    Case(
        "region-unknown",
        "bad-3",
        {"region": "us-est-1"},
        "region",
        "'us-est-1' is not an FSx Region that botocore",
    ),
]

BOTH_SOURCES = "exactly one of file_system_id or volume_id must be set; both are"


def _resources(cases: list[Case]) -> dict[str, dict[str, Any]]:
    """Each resource's inputs: its cases' inputs merged; tag maps are merged key by key."""
    merged: dict[str, dict[str, Any]] = {}
    for case in cases:
        inputs = merged.setdefault(case.resource, {})
        for key, value in case.inputs.items():
            if key == "tags" and isinstance(value, dict) and isinstance(inputs.get(key), dict):
                assert not value.keys() & inputs[key].keys(), f"{case.id}: tag keys collide"
                inputs[key] = {**inputs[key], **value}
            else:
                assert key not in inputs, f"{case.id}: {case.resource} already sets {key}"
                inputs[key] = value
    return merged


RESOURCES = _resources(CASES)


def test_every_kind_of_bad_input_has_a_case() -> None:
    assert len(CASES) >= 25
    assert len({case.id for case in CASES}) == len(CASES)
    props = {case.prop for case in CASES}
    assert props == {
        "file_system_id",
        "volume_id",
        "tags",
        "client_request_token",
        "create_timeout_seconds",
        "delete_timeout_seconds",
        "wait_for_available",
        "region",
    }


# -- running the previews ---------------------------------------------------

# A diagnostics block per resource: a header, then its errors. The engine words
# a check failure as "<type> resource '<name>': property <prop> value <v> has a
# problem: <reason>" (diag.GetResourcePropertyInvalidValueError).
_HEADER = re.compile(r"^\s*(?P<type>\S+) \((?P<name>[^)]+)\):$")
_ERROR = re.compile(
    r"^\s*error: (?P<type>\S+) resource '(?P<name>[^']+)': "
    r"property (?P<prop>\S+) value .* has a problem: (?P<reason>.*)$"
)


def diagnostics_by_resource(text: str) -> dict[str, list[tuple[str, str]]]:
    """(property, reason) of each check failure in the engine's Diagnostics, by resource name."""
    found: dict[str, list[tuple[str, str]]] = {}
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "Diagnostics:")
    current: str | None = None
    for line in lines[start + 1 :]:
        if line.strip() == "Resources:":
            break
        header = _HEADER.match(line)
        if header:
            current = header["name"] if header["type"] == RESOURCE_TYPE else None
            continue
        error = _ERROR.match(line)
        if error and current is not None:
            # The header and the message name the same resource.
            assert error["name"] == current and error["type"] == RESOURCE_TYPE, line
            found.setdefault(current, []).append((error["prop"], error["reason"]))
    return found


def fsx_call_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}


@dataclass
class Outcome:
    """What one preview of one bad resource did."""

    error: auto.CommandError | None
    failures: list[tuple[str, str]] = field(default_factory=list)
    fsx_calls: dict[str, int] = field(default_factory=dict)


# The `fsx` fixture resets the emulator for each test, so each resource's preview
# runs (and counts calls) inside whichever of its cases runs first; the others
# read the outcome recorded then.
_outcomes: dict[str, Outcome] = {}


def preview_of(resource: str, fsx: Any, fsx_stack: StackMaker) -> Outcome:
    if resource not in _outcomes:
        inputs = RESOURCES[resource]

        def program() -> None:
            FsxBackup(resource, FsxBackupArgs(**inputs))

        stack = fsx_stack(program)
        before = dict(fsx.calls())
        outcome = Outcome(error=None)
        try:
            stack.preview(on_output=quiet)
        except auto.CommandError as failed:
            outcome.error = failed
            outcome.failures = diagnostics_by_resource(str(failed)).get(resource, [])
        outcome.fsx_calls = fsx_call_delta(before, dict(fsx.calls()))
        _outcomes[resource] = outcome
    return _outcomes[resource]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_preview_refuses_bad_input_without_calling_fsx(
    case: Case, fsx: Any, fsx_stack: StackMaker
) -> None:
    outcome = preview_of(case.resource, fsx, fsx_stack)
    assert outcome.error is not None, (
        f"preview of {case.resource} {RESOURCES[case.resource]} passed"
    )
    assert outcome.fsx_calls == {}, f"preview of {case.resource} called FSx"
    reasons = [reason for prop, reason in outcome.failures if prop == case.prop]
    assert any(case.phrase in reason for reason in reasons), (
        f"no {case.prop!r} failure saying {case.phrase!r} for {case.resource}; "
        f"its failures: {outcome.failures or outcome.error}"
    )


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_every_failure_of_a_resource_is_one_of_its_cases(
    resource: str, fsx: Any, fsx_stack: StackMaker
) -> None:
    """No rule fires that no case asked for (the one-source rule where both are set)."""
    outcome = preview_of(resource, fsx, fsx_stack)
    expected = [(case.prop, case.phrase) for case in CASES if case.resource == resource]
    inputs = RESOURCES[resource]
    if (
        "file_system_id" in inputs
        and "volume_id" in inputs
        and not any(phrase == BOTH_SOURCES for _, phrase in expected)
    ):
        expected.append(("volume_id", BOTH_SOURCES))
    unclaimed = [
        (prop, reason)
        for prop, reason in outcome.failures
        if not any(prop == p and phrase in reason for p, phrase in expected)
    ]
    assert outcome.failures and unclaimed == []
    # Each expected failure is reported once.
    assert len(outcome.failures) == len(expected), outcome.failures


def test_valid_inputs_at_their_limits_preview_clean_without_calling_fsx(
    fsx: Any, fsx_stack: StackMaker
) -> None:
    fs_id = fsx.create_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    vol_id = fsx.create_ontap_volume(name="vol1")
    limit = tag_limit()
    edge_tags = {
        "k" * 128: "v" * 256,
        "Größe / Zeit: 1+1=2 @home_x.y-z": "Wert mit Leerzeichen",
        "awsx:not-reserved": "aws:in-a-value",
        "aws": "no colon",
        "empty-value": "",
    }
    edge_tags.update({f"key{i}": "v" for i in range(limit - len(edge_tags))})
    assert len(edge_tags) == limit

    def program() -> None:
        FsxBackup(
            "good-fs",
            FsxBackupArgs(
                file_system_id=fs_id,
                tags=edge_tags,
                client_request_token="t" * 63,
                wait_for_available=False,
                create_timeout_seconds=0.5,
                delete_timeout_seconds=3600,
                region=REGION,
            ),
        )
        FsxBackup("good-vol", volume_id=vol_id, client_request_token="a_b.c-D")

    stack = fsx_stack(program)
    before = dict(fsx.calls())
    preview = stack.preview(on_output=quiet)
    # Two backups, the seed, the ledger and the stack.
    assert preview.change_summary == {auto.OpType.CREATE: 5}
    assert fsx_call_delta(before, dict(fsx.calls())) == {}
