"""Reading a spec file safely: YAML or JSON, no repeated keys, no YAML aliases.

Both parsers keep the last of two equal keys by default, so a file that says
`backups:` twice would silently lose the first list, and `up` would then
delete those backups. Here a repeated key at any level is an error naming the
key and where it is. YAML anchors and aliases (`&x`, `*x`) are refused
outright: a spec has no use for them, and a kilobyte of nested aliases
expands into gigabytes (the "billion laughs").

And whatever the path names, reading ends: only a regular file is read (a
FIFO would block, /dev/zero never ends), at most MAX_SPEC_BYTES of it, and a
document nested deeper than MAX_DEPTH is refused before either parser
recurses into it (both recurse once per level, and run out of stack).
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from fsx_backup_provider.cli.text import short

# 16 MiB: a spec of 100,000 backups with a few tags each is about 10 MiB.
MAX_SPEC_BYTES = 16 * 1024 * 1024
# A spec is four levels deep (document, backups, an entry, its tags).
MAX_DEPTH = 20
_DEPTH_RULE = f"a spec file may be nested at most {MAX_DEPTH} levels deep (a spec needs 4)"


class SpecFileError(Exception):
    """The file cannot be read as a spec document; the message says where and why."""


class _Refused(yaml.YAMLError):
    def __init__(self, mark: yaml.Mark | None, message: str) -> None:
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        super().__init__(where + message)


class StrictSafeLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader, refusing anchors, aliases and repeated mapping keys."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        # Checked before the composer looks an alias up, so nothing is ever expanded.
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(
                event.start_mark,
                "YAML anchors and aliases (&name, *name) are not accepted in a spec file; "
                "write each value out",
            )
        # The composer recurses once per level of nesting; stop it long before Python's stack.
        if self._depth >= MAX_DEPTH:
            raise _Refused(event.start_mark, _DEPTH_RULE)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _value in node.value:
            if not isinstance(key_node, ScalarNode):
                continue  # SafeConstructor refuses unhashable keys itself
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in first_line:
                raise _Refused(
                    key_node.start_mark,
                    f"key {short(key)} is given twice in one mapping (first on line "
                    f"{first_line[key]}); each key may appear only once",
                )
            first_line[key] = line
        return super().construct_mapping(node, deep)


def _refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _value in pairs:
        if key in seen:
            # The json module gives no position; the object's keys say which one it is.
            raise SpecFileError(
                f"key {short(key)} is given twice in one JSON object (its keys: "
                f"{short([k for k, _ in pairs])}); each key may appear only once"
            )
        seen.add(key)
    return dict(pairs)


# A JSON string, so that brackets inside strings are not counted as nesting.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKETS = re.compile(r"[\[\]{}]")


def _json_too_deep(text: str) -> bool:
    """True if brackets nest deeper than MAX_DEPTH; counted before json.loads recurses.

    By hand because the json module offers no depth limit (only Python's
    recursion limit, hit at about a thousand levels, which raises
    RecursionError from deep inside it); a pass over the brackets outside
    strings, which stops at the first level too many.
    """
    depth = 0
    for match in _JSON_BRACKETS.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > MAX_DEPTH:
            return True
    return False


def read_text(path: Path) -> str:
    """The file's text: a regular file of at most MAX_SPEC_BYTES, in UTF-8.

    Opened without blocking and checked on the open descriptor (not by name
    first, which a rename could change in between), because open() of a FIFO
    blocks until a writer comes, and a device such as /dev/zero never ends.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as error:
        # A socket cannot be opened at all; say what it is rather than ENXIO.
        _refuse_if_not_regular(path, _mode_of(path))
        raise SpecFileError(f"{path}: {_cannot_read(error)}") from None
    try:
        info = os.fstat(fd)
        _refuse_if_not_regular(path, info.st_mode)
        too_big = (
            f"{path}: the spec file is larger than {MAX_SPEC_BYTES // (1024 * 1024)} MiB, "
            "the most a spec may be"
        )
        if info.st_size > MAX_SPEC_BYTES:
            raise SpecFileError(too_big)
        with os.fdopen(fd, "rb") as file:
            fd = -1  # the file object closes it now
            # One byte more than allowed tells a file that grew since fstat.
            data = file.read(MAX_SPEC_BYTES + 1)
    except OSError as error:
        raise SpecFileError(f"{path}: {_cannot_read(error)}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > MAX_SPEC_BYTES:
        raise SpecFileError(too_big)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SpecFileError(f"{path}: the spec file is not UTF-8 text: {error.reason}") from None


def _cannot_read(error: OSError) -> str:
    return f"cannot read the spec file: {error.strerror or error}"


def _mode_of(path: Path) -> int | None:
    try:
        return os.stat(path).st_mode
    except OSError:
        return None


def _refuse_if_not_regular(path: Path, mode: int | None) -> None:
    if mode is not None and not stat.S_ISREG(mode):
        raise SpecFileError(
            f"{path}: the spec file must be a regular file, and this is {_kind(mode)}"
        )


def _kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def load_document(path: Path) -> Any:
    """The parsed document: JSON if the name ends in .json, else YAML (which reads JSON too)."""
    text = read_text(path)
    if path.suffix.lower() == ".json":
        if _json_too_deep(text):
            raise SpecFileError(f"{path}: {_DEPTH_RULE}")
        try:
            return json.loads(text, object_pairs_hook=_refuse_repeated_keys)
        except SpecFileError as error:
            raise SpecFileError(f"{path}: {error}") from None
        except json.JSONDecodeError as error:
            raise SpecFileError(f"{path}: not valid JSON: {error}") from None
        except ValueError as error:  # an integer of more digits than Python converts
            raise SpecFileError(f"{path}: not valid JSON: {short(str(error))}") from None
    try:
        return yaml.load(text, Loader=StrictSafeLoader)
    except _Refused as error:
        raise SpecFileError(f"{path}, {error}") from None
    except yaml.YAMLError as error:
        raise SpecFileError(f"{path}: not valid YAML: {error}") from None
    except (ValueError, OverflowError) as error:  # a value PyYAML cannot convert
        raise SpecFileError(f"{path}: not valid YAML: {short(str(error))}") from None
