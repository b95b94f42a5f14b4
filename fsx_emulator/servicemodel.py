"""The FSx service model as the emulator's source of limits, patterns and enums.

Every length, count, pattern and enum the emulator enforces is read here from botocore's
FSx model at run time, so the emulator tracks the SDK instead of a copy of it.
"""

from __future__ import annotations

import functools
import re
import sys
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.model import ListShape, ServiceModel, Shape, StructureShape

from fsx_emulator.exceptions import BadRequest, shown

FSX_MODEL: ServiceModel = botocore.session.get_session().get_service_model("fsx")
TARGET_PREFIX: str = FSX_MODEL.metadata["targetPrefix"]
OPERATION_NAMES: frozenset[str] = frozenset(FSX_MODEL.operation_names)

# Not expressed in the TagKey pattern of the model, but enforced by FSx (and every AWS
# tagging API): the `aws:` prefix is reserved for tags AWS itself sets.
RESERVED_TAG_PREFIX = "aws:"

_UNICODE_PROPERTY = re.compile(r"\\p\{([A-Z][a-z]?)\}")
_compile_lock = threading.Lock()


@functools.cache
def _category_codes() -> tuple[str, dict[str, str]]:
    """One character per code point naming its Unicode general category.

    Scanning the category string with `re` is what keeps expanding `\\p{..}` to a
    fraction of a second; a Python loop over 1.1M code points takes several times longer.
    """
    categories = [unicodedata.category(chr(cp)) for cp in range(sys.maxunicode + 1)]
    code_of = {name: chr(0x41 + index) for index, name in enumerate(sorted(set(categories)))}
    return "".join(map(code_of.__getitem__, categories)), code_of


def _expand_unicode_properties(pattern: str) -> str:
    """Rewrite `\\p{X}` classes, which Python's `re` lacks, as explicit code point ranges.

    The model's tag patterns are Java regular expressions using `\\p{L}`, `\\p{Z}` and
    `\\p{N}`; each becomes the ranges of code points whose general category starts with X.
    """
    names = set(_UNICODE_PROPERTY.findall(pattern))
    if not names:
        return pattern
    codes, code_of = _category_codes()
    expansions: dict[str, str] = {}
    for name in names:
        wanted = "".join(code for category, code in code_of.items() if category.startswith(name))
        expansions[name] = "".join(
            f"\\U{match.start():08x}-\\U{match.end() - 1:08x}"
            for match in re.finditer(f"[{re.escape(wanted)}]+", codes)
        )
    return _UNICODE_PROPERTY.sub(lambda match: expansions[match.group(1)], pattern)


@dataclass(frozen=True)
class StringRule:
    """Length, pattern and enum limits of one string shape of the model."""

    shape_name: str
    min_length: int | None
    max_length: int | None
    pattern: re.Pattern[str] | None
    pattern_text: str | None
    enum: tuple[str, ...]

    def check(self, value: object, field: str) -> str:
        """Return `value` if the model allows it for `field`, else raise BadRequest."""
        if not isinstance(value, str):
            raise BadRequest(f"{field} must be a string, got {type(value).__name__}.")
        if self.min_length is not None and len(value) < self.min_length:
            raise BadRequest(
                f"{field} {shown(value)} is too short: it must be at least {self.min_length} "
                f"characters long."
            )
        if self.max_length is not None and len(value) > self.max_length:
            raise BadRequest(
                f"{field} {shown(value)} is too long: it must be at most {self.max_length} "
                f"characters long."
            )
        # AWS evaluates model patterns against the whole value (Java's String.matches),
        # which also gives patterns lacking `^` such as ClientRequestToken's their meaning.
        if self.pattern is not None and self.pattern.fullmatch(value) is None:
            raise BadRequest(
                f"{field} {shown(value)} is not valid: it must match {self.pattern_text}."
            )
        if self.enum and value not in self.enum:
            raise BadRequest(
                f"{field} {shown(value)} is not valid: it must be one of {list(self.enum)}."
            )
        return value


@functools.cache
def _rule(shape_name: str) -> StringRule:
    shape = FSX_MODEL.shape_for(shape_name)
    pattern_text = shape.metadata.get("pattern")
    pattern = None if pattern_text is None else re.compile(_expand_unicode_properties(pattern_text))
    return StringRule(
        shape_name=shape_name,
        min_length=shape.metadata.get("min"),
        max_length=shape.metadata.get("max"),
        pattern=pattern,
        pattern_text=pattern_text,
        enum=tuple(shape.metadata.get("enum", ())),
    )


def string_rule(shape_name: str) -> StringRule:
    """The rule of a string shape, compiled once per process."""
    # functools.cache is not single-flight: without the lock, concurrent first requests
    # would each spend the fraction of a second that expanding `\p{..}` costs.
    with _compile_lock:
        return _rule(shape_name)


def check_string(value: object, shape_name: str, field: str) -> str:
    return string_rule(shape_name).check(value, field)


def check_optional_string(value: object, shape_name: str, field: str) -> str | None:
    return None if value is None else check_string(value, shape_name, field)


def check_list(values: object, shape_name: str, field: str) -> list[Any]:
    """Return `values` if it is a list whose length the model allows, else raise BadRequest."""
    if not isinstance(values, list):
        raise BadRequest(f"{field} must be a list.")
    shape = FSX_MODEL.shape_for(shape_name)
    minimum = shape.metadata.get("min")
    maximum = shape.metadata.get("max")
    if minimum is not None and len(values) < minimum:
        raise BadRequest(f"{field} must contain at least {minimum} item(s), got {len(values)}.")
    if maximum is not None and len(values) > maximum:
        raise BadRequest(f"{field} must contain at most {maximum} item(s), got {len(values)}.")
    return values


def check_ids(values: object, list_shape_name: str, field: str) -> list[str]:
    """A list of IDs, each checked against the list's member shape."""
    items = check_list(values, list_shape_name, field)
    shape = FSX_MODEL.shape_for(list_shape_name)
    assert isinstance(shape, ListShape)
    return [check_string(item, shape.member.name, field) for item in items]


def check_integer(value: object, shape_name: str, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest(f"{field} must be an integer.")
    shape = FSX_MODEL.shape_for(shape_name)
    minimum = shape.metadata.get("min")
    maximum = shape.metadata.get("max")
    if minimum is not None and value < minimum:
        raise BadRequest(f"{field} must be at least {minimum}, got {value}.")
    if maximum is not None and value > maximum:
        raise BadRequest(f"{field} must be at most {maximum}, got {value}.")
    return value


def check_tag_key(key: object, field: str) -> str:
    checked = check_string(key, "TagKey", field)
    if checked.lower().startswith(RESERVED_TAG_PREFIX):
        raise BadRequest(
            f"{field} {shown(checked)} is not valid: keys beginning with '{RESERVED_TAG_PREFIX}' "
            f"(in any letter case) are reserved for AWS."
        )
    return checked


def check_tags(tags: object, field: str = "Tags") -> dict[str, str]:
    """Validate a Tags list and return it as a key -> value dict in request order."""
    items = check_list(tags, "Tags", field)
    result: dict[str, str] = {}
    for index, tag in enumerate(items):
        where = f"{field}[{index}]"
        if not isinstance(tag, Mapping):
            raise BadRequest(f"{where} must be an object with Key and Value.")
        key = check_tag_key(tag.get("Key"), f"{where}.Key")
        value = check_string(tag.get("Value"), "TagValue", f"{where}.Value")
        if key in result:
            raise BadRequest(
                f"{field} has the key {shown(key)} more than once: tag keys must be unique."
            )
        result[key] = value
    return result


def check_tag_keys(keys: object, field: str = "TagKeys") -> list[str]:
    items = check_list(keys, "TagKeys", field)
    return [check_tag_key(key, f"{field}[{index}]") for index, key in enumerate(items)]


def check_filters(filters: object, list_shape_name: str) -> dict[str, set[str]]:
    """Validate a Filters list of shape `list_shape_name`; return name -> allowed values."""
    items = check_list(filters, list_shape_name, "Filters")
    list_shape = FSX_MODEL.shape_for(list_shape_name)
    assert isinstance(list_shape, ListShape) and isinstance(list_shape.member, StructureShape)
    name_shape = list_shape.member.members["Name"].name
    values_shape = list_shape.member.members["Values"]
    assert isinstance(values_shape, ListShape)
    result: dict[str, set[str]] = {}
    for index, item in enumerate(items):
        where = f"Filters[{index}]"
        if not isinstance(item, Mapping):
            raise BadRequest(f"{where} must be an object with Name and Values.")
        name = check_string(item.get("Name"), name_shape, f"{where}.Name")
        values = check_list(item.get("Values", []), values_shape.name, f"{where}.Values")
        checked = {
            check_string(value, values_shape.member.name, f"{where}.Values[{position}]")
            for position, value in enumerate(values)
        }
        # Repeating a filter name narrows the result, as separate filters are ANDed.
        result[name] = result[name] & checked if name in result else checked
    return result


def member_shape(structure_name: str, member: str) -> Shape:
    structure = FSX_MODEL.shape_for(structure_name)
    assert isinstance(structure, StructureShape)
    return structure.members[member]


def project(value: Any, shape: Shape) -> Any:
    """Keep the parts of a request value that the output `shape` describes.

    FSx echoes most of a create request's configuration in its descriptions, but the
    request and description shapes differ (secrets, write-only settings). Projecting on
    the description shape keeps what the model says a description holds and nothing else.
    Returns None for a value that has no place in `shape`.
    """
    if shape.metadata.get("sensitive"):
        return None
    if isinstance(shape, StructureShape):
        if not isinstance(value, Mapping):
            return None
        projected = {
            name: project(item, shape.members[name])
            for name, item in value.items()
            if name in shape.members
        }
        return {name: item for name, item in projected.items() if item is not None}
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return None
        return [
            item for item in (project(entry, shape.member) for entry in value) if item is not None
        ]
    if shape.type_name == "string":
        return value if isinstance(value, str) else None
    if shape.type_name == "boolean":
        return value if isinstance(value, bool) else None
    if shape.type_name in ("integer", "long"):
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    return value


def warm_up(shape_names: Iterable[str] = ("TagKey", "TagValue")) -> None:
    """Compile the slow rules before the server reports itself ready."""
    for name in shape_names:
        string_rule(name)
