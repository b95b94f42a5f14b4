"""validate_inputs agrees with botocore's FSx model, for generated inputs.

The oracle here is the service model itself: a string input is valid exactly
when its length is within the shape's min/max and it fully matches the shape's
pattern (compiled with `regex`, which reads the model's `\\p{L}` classes). The
generators aim at both sides of each rule: strings built from the pattern,
near misses of them, text from the pattern's alphabet and arbitrary text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.session
import regex
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pulumi.runtime.rpc import UNKNOWN

from fsx_backup_provider.core.holder import HOLDER_TAG
from fsx_backup_provider.providers.validation import Failure, validate_inputs

SETTINGS = settings(max_examples=200, deadline=None)

FS = "fs-0123456789abcdef0"
VOL = "fsvol-0123456789abcdef0"


@dataclass(frozen=True)
class ModelString:
    """A string shape of the FSx model: length bounds and pattern."""

    shape: str
    min_length: int
    max_length: int
    pattern_text: str | None
    pattern: regex.Pattern[str] | None

    def accepts(self, value: str) -> bool:
        if not self.min_length <= len(value) <= self.max_length:
            return False
        return self.pattern is None or self.pattern.fullmatch(value) is not None

    def length_ok(self, value: str) -> bool:
        return self.min_length <= len(value) <= self.max_length


@cache
def _model() -> Any:
    return botocore.session.get_session().get_service_model("fsx")


@cache
def model_string(shape: str) -> ModelString:
    metadata = _model().shape_for(shape).metadata
    text = metadata.get("pattern")
    return ModelString(
        shape=shape,
        min_length=int(metadata.get("min", 0)),
        max_length=int(metadata.get("max", 1 << 31)),
        pattern_text=text,
        pattern=regex.compile(text) if text else None,
    )


def tag_limits() -> tuple[int, int]:
    metadata = _model().shape_for("Tags").metadata
    return int(metadata.get("min", 0)), int(metadata["max"])


FILE_SYSTEM_ID = model_string("FileSystemId")
VOLUME_ID = model_string("VolumeId")
TOKEN = model_string("ClientRequestToken")
REGION = model_string("Region")
TAG_KEY = model_string("TagKey")
TAG_VALUE = model_string("TagValue")
TAGS_MIN, TAGS_MAX = tag_limits()


def reserved(key: str) -> bool:
    """The AWS-wide rule: keys starting with aws: in any letter case are AWS's."""
    return key[:4].lower() == "aws:"


# -- generators ---------------------------------------------------------------


@st.composite
def near_miss(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """A string from `base` with one small edit: a change of case, a character
    dropped, inserted or replaced, the prefix swapped, or cut or stretched."""
    value = draw(base)
    edit = draw(st.sampled_from(["upper", "drop", "insert", "replace", "prefix", "cut", "grow"]))
    at = draw(st.integers(0, len(value)))
    if edit == "upper":
        return value.upper()
    if edit == "drop":
        return value[:at] + value[at + 1 :]
    if edit == "insert":
        return value[:at] + draw(st.characters()) + value[at:]
    if edit == "replace":
        return value[:at] + draw(st.characters()) + value[at + 1 :]
    if edit == "prefix":
        prefix = draw(st.sampled_from(["", "fs-", "fsvol-", "vol-", "svm-", "FS-", "fs", " "]))
        return prefix + value.split("-", 1)[-1]
    if edit == "cut":
        return value[:at]
    return value + draw(st.text(alphabet="0123456789abcdef", min_size=1, max_size=8))


@st.composite
def fitted(draw: st.DrawFn, base: st.SearchStrategy[str], shape: ModelString) -> str:
    """A string from `base` cut or padded (with "0", which every ID, token and
    region pattern allows) to a length at or just beyond the shape's bounds."""
    value = draw(base)
    low, high = shape.min_length, min(shape.max_length, 200)
    length = draw(st.one_of(st.integers(low, high), st.sampled_from([low - 1, high + 1])))
    length = max(length, 0)
    return value[:length] + "0" * (length - len(value))


def strings_for(shape: ModelString, alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Both sides of a shape's rule: pattern-built (also fitted to the length
    bounds), near misses of those, its alphabet and any text."""
    assert shape.pattern_text is not None
    built = st.from_regex(shape.pattern_text, fullmatch=True)
    fit = fitted(built, shape)
    return st.one_of(
        built,
        fit,
        near_miss(built),
        near_miss(fit),
        st.text(alphabet=alphabet, max_size=shape.max_length + 3),
        st.text(max_size=shape.max_length + 3),
    )


ID_ALPHABET = st.sampled_from("fsvol-0123456789abcdefABCDEFgx_ ")
TOKEN_ALPHABET = st.sampled_from("abcxyzABCXYZ0189_.-[]^`\\ !#:/" + "\u00e9\u0130\u2028")
REGION_ALPHABET = st.sampled_from("abcdeuswst-0123456789_ AZ")

# The tag pattern's class, for generating: letters, separators, numbers and
# _.:/=+-@ (the oracle is the model's own pattern, not this alphabet).
TAG_CHARACTERS = st.one_of(
    st.characters(categories=("L", "Z", "N")),
    st.sampled_from("_.:/=+-@"),
    st.sampled_from("#*!?$%&,;<>\\\"'\t\n~^"),
)


def tag_text(shape: ModelString) -> st.SearchStrategy[str]:
    valid_chars = st.one_of(st.characters(categories=("L", "Z", "N")), st.sampled_from("_.:/=+-@"))
    return st.one_of(
        st.text(alphabet=valid_chars, max_size=shape.max_length + 3),
        st.text(alphabet=TAG_CHARACTERS, max_size=shape.max_length + 3),
        # Around the length limit, where off-by-one errors live.
        st.integers(shape.max_length - 1, shape.max_length + 1).map(lambda n: "k" * n),
        st.text(max_size=20),
    )


@st.composite
def any_case_aws_prefix(draw: st.DrawFn) -> str:
    return "".join(draw(st.sampled_from([c.lower(), c.upper()])) for c in "aws") + ":"


# -- assertions -----------------------------------------------------------------


def assert_string_rule(
    prop: str, shape: ModelString, value: str, failures: list[Failure], subject: str
) -> None:
    """`failures` (for inputs valid apart from `value`) is what the model says of `value`.

    `subject` is how the message starts: the value's repr, or "tag key '...'".
    """
    if shape.accepts(value):
        assert failures == [], (value, failures)
        return
    assert [f.property for f in failures] == [prop], (value, failures)
    [reason] = [f.reason for f in failures]
    assert reason.startswith(f"{subject} "), reason
    if shape.length_ok(value):
        assert reason.endswith(f"must match the pattern {shape.pattern_text}"), reason
    elif shape.min_length == shape.max_length:
        expected = f"must be exactly {shape.min_length} characters long, got {len(value)}"
        assert reason.endswith(expected), reason
    else:
        expected = (
            f"must be {shape.min_length} to {shape.max_length} characters long, got {len(value)}"
        )
        assert reason.endswith(expected), reason


# -- IDs, token, region -----------------------------------------------------------


@SETTINGS
@given(value=strings_for(FILE_SYSTEM_ID, ID_ALPHABET))
@example(value=FS)
@example(value="fs-" + "0" * 8)
@example(value="fs-" + "0" * 18)
@example(value="fs-" + "0" * 19)
@example(value="fs-0123456789ABCDEF0")
@example(value=FS + "\n")
def test_file_system_id_follows_the_model(value: str) -> None:
    failures = validate_inputs({"file_system_id": value})
    assert_string_rule("file_system_id", FILE_SYSTEM_ID, value, failures, repr(value))


@SETTINGS
@given(value=strings_for(VOLUME_ID, ID_ALPHABET))
@example(value=VOL)
@example(value="fsvol-0123456789abcdefg")
@example(value="fs-0123456789abcdef01234")
@example(value=VOL + "\n")
def test_volume_id_follows_the_model(value: str) -> None:
    failures = validate_inputs({"volume_id": value})
    assert_string_rule("volume_id", VOLUME_ID, value, failures, repr(value))


@SETTINGS
@given(value=strings_for(TOKEN, TOKEN_ALPHABET))
@example(value="t" * 63)
@example(value="t" * 64)
@example(value="")
@example(value="my token")
@example(value="token\n")
def test_client_request_token_follows_the_model(value: str) -> None:
    failures = validate_inputs({"file_system_id": FS, "client_request_token": value})
    assert_string_rule("client_request_token", TOKEN, value, failures, repr(value))


@SETTINGS
@given(value=strings_for(REGION, REGION_ALPHABET))
@example(value="us-east-1")
@example(value="US_EAST_1")
@example(value="")
def test_region_follows_the_model(value: str) -> None:
    failures = validate_inputs({"file_system_id": FS, "region": value})
    assert_string_rule("region", REGION, value, failures, repr(value))


@SETTINGS
@given(
    prop=st.sampled_from(["file_system_id", "volume_id", "client_request_token", "region"]),
    value=st.one_of(
        st.integers(),
        st.floats(),
        st.booleans(),
        st.lists(st.text(max_size=3), max_size=2),
        st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
    ),
)
def test_string_inputs_that_are_not_strings_fail_on_their_property(prop: str, value: Any) -> None:
    # Exactly one source is set (the value itself, or a valid volume_id), so
    # the one-source rule stays quiet.
    inputs = {prop: value} if prop.endswith("_id") else {"volume_id": VOL, prop: value}
    failures = validate_inputs(inputs)
    assert [f.property for f in failures] == [prop], failures
    assert failures[0].reason == f"must be a string, got {type(value).__name__}"


# -- the one-source rule ---------------------------------------------------------------


@SETTINGS
@given(
    fs=st.sampled_from([None, FS, UNKNOWN]),
    vol=st.sampled_from([None, VOL, UNKNOWN]),
)
def test_exactly_one_source(fs: str | None, vol: str | None) -> None:
    inputs = {key: value for key, value in (("file_system_id", fs), ("volume_id", vol)) if value}
    failures = validate_inputs(inputs)
    known = [value for value in (fs, vol) if value is not None and value != UNKNOWN]
    unknown = UNKNOWN in (fs, vol)
    if fs is None and vol is None:
        assert [(f.property, "neither" in f.reason) for f in failures] == [("file_system_id", True)]
    elif len(known) == 2 and not unknown:
        assert [(f.property, "both" in f.reason) for f in failures] == [("volume_id", True)]
    else:
        assert failures == []


# -- tags ------------------------------------------------------------------------------


@SETTINGS
@given(key=tag_text(TAG_KEY))
@example(key="")
@example(key="k" * 128)
@example(key="k" * 129)
@example(key="Größe / Zeit: 1+1=2 @home_x.y-z")
@example(key="aws")
@example(key="awsx:y")
@example(key=" aws:y")
@example(key="bad#key")
@example(key="key\n")
@example(key=HOLDER_TAG)
def test_tag_key_follows_the_model_and_the_reserved_prefix(key: str) -> None:
    failures = validate_inputs({"file_system_id": FS, "tags": {key: "v"}})
    if TAG_KEY.accepts(key) and reserved(key):
        assert [f.property for f in failures] == ["tags"], failures
        assert "reserved for AWS" in failures[0].reason and repr(key) in failures[0].reason
    elif key == HOLDER_TAG:
        # The provider's own tag (core/holder.py): refused, whatever the model says.
        assert [f.property for f in failures] == ["tags"], failures
        assert "is the provider's own" in failures[0].reason
    else:
        assert_string_rule("tags", TAG_KEY, key, failures, f"tag key {key!r}")


@SETTINGS
@given(prefix=any_case_aws_prefix(), rest=tag_text(TAG_KEY))
@example(prefix="aws:", rest="")
@example(prefix="AWS:", rest="Owner")
@example(prefix="aWs:", rest="x")
def test_aws_prefix_is_reserved_in_any_case(prefix: str, rest: str) -> None:
    key = prefix + rest
    failures = validate_inputs({"file_system_id": FS, "tags": {key: "v"}})
    assert failures, key
    assert all(f.property == "tags" for f in failures), failures
    if TAG_KEY.accepts(key):
        [failure] = failures
        assert failure.reason == (
            f"tag key {key!r} uses the prefix 'aws:', "
            "which is reserved for AWS (in any letter case)"
        )


@SETTINGS
@given(value=tag_text(TAG_VALUE))
@example(value="")
@example(value="v" * 256)
@example(value="v" * 257)
@example(value="aws:is-fine-in-a-value")
@example(value="bad*value")
def test_tag_value_follows_the_model(value: str) -> None:
    failures = validate_inputs({"file_system_id": FS, "tags": {"key": value}})
    assert_string_rule("tags", TAG_VALUE, value, failures, "value of tag 'key'")


@SETTINGS
@given(
    declared=st.sets(st.integers(0, TAGS_MAX + 10), max_size=TAGS_MAX + 5),
    defaults=st.sets(st.integers(0, TAGS_MAX + 10), max_size=TAGS_MAX + 5),
)
@example(declared=set(range(TAGS_MAX)), defaults=set())
@example(declared=set(range(TAGS_MAX + 1)), defaults=set())
@example(declared=set(), defaults=set())
@example(declared={0}, defaults=set(range(TAGS_MAX)))
def test_tag_count_follows_the_model_including_default_tags(
    declared: set[int], defaults: set[int]
) -> None:
    tags = {f"key{i}": "declared" for i in declared}
    default_tags = {f"key{i}": "default" for i in defaults}
    failures = validate_inputs({"file_system_id": FS, "tags": tags}, default_tags)
    total = len(declared | defaults)
    if total > TAGS_MAX:
        [failure] = failures
        assert failure.property == "tags"
        assert f"has {total} tags" in failure.reason
        assert failure.reason.endswith(f"an FSx backup holds at most {TAGS_MAX}")
        assert ("including aws:defaultTags" in failure.reason) == bool(default_tags)
    else:
        # Below the model's minimum (an empty map) is fine too: the provider
        # sends no Tags at all rather than an empty list (fsx.py create_backup).
        assert failures == [], failures


@SETTINGS
@given(
    tags=st.one_of(
        st.lists(st.text(max_size=3), max_size=3),
        st.text(max_size=5).filter(lambda s: s != UNKNOWN),
        st.integers(),
        st.booleans(),
    )
)
def test_tags_that_are_not_a_map_fail(tags: Any) -> None:
    failures = validate_inputs({"file_system_id": FS, "tags": tags})
    assert [f.property for f in failures] == ["tags"]
    assert failures[0].reason == f"must be a map of tag keys to values, got {type(tags).__name__}"


# -- timeouts and flags ------------------------------------------------------------------


@SETTINGS
@given(
    prop=st.sampled_from(["create_timeout_seconds", "delete_timeout_seconds"]),
    value=st.one_of(
        st.integers(-(10**6), 10**6),
        st.floats(),
        st.booleans(),
        st.text(max_size=5).filter(lambda s: s != UNKNOWN),
        st.lists(st.integers(), max_size=2),
    ),
)
def test_timeouts_are_positive_numbers(prop: str, value: Any) -> None:
    failures = validate_inputs({"file_system_id": FS, prop: value})
    if isinstance(value, bool) or not isinstance(value, int | float):
        assert [(f.property, f.reason) for f in failures] == [
            (prop, f"must be a number of seconds, got {type(value).__name__}")
        ]
    elif not math.isfinite(value) or value <= 0:
        assert [(f.property, f.reason) for f in failures] == [
            (prop, f"must be a positive, finite number of seconds, got {value}")
        ]
    else:
        assert failures == []


@SETTINGS
@given(
    value=st.one_of(
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=5).filter(lambda s: s != UNKNOWN),
    )
)
def test_wait_for_available_is_a_boolean(value: Any) -> None:
    failures = validate_inputs({"file_system_id": FS, "wait_for_available": value})
    if isinstance(value, bool):
        assert failures == []
    else:
        assert [(f.property, f.reason) for f in failures] == [
            ("wait_for_available", f"must be true or false, got {type(value).__name__}")
        ]


# -- unknowns ------------------------------------------------------------------------------

BAD_INPUTS: Mapping[str, Any] = {
    "file_system_id": FS,
    "tags": {"Name": "nightly", "aws:owner": "bad"},
    "client_request_token": "bad token",
    "wait_for_available": "bad",
    "create_timeout_seconds": -1,
    "delete_timeout_seconds": "bad",
    "region": "BAD",
}


@SETTINGS
@given(unknown=st.sets(st.sampled_from(sorted(BAD_INPUTS))))
def test_unknown_values_are_let_through_until_known(unknown: set[str]) -> None:
    """Every input above but file_system_id is bad; an unknown one is not judged yet."""
    inputs = {key: UNKNOWN if key in unknown else value for key, value in BAD_INPUTS.items()}
    failed = {f.property for f in validate_inputs(inputs)}
    assert failed == set(BAD_INPUTS) - unknown - {"file_system_id"}
