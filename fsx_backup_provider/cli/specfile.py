"""Reading a spec file safely: YAML or JSON, no repeated keys, no YAML aliases.

Both parsers keep the last of two equal keys by default, so a file that says
`backups:` twice would silently lose the first list, and `up` would then
delete those backups. Here a repeated key at any level is an error naming the
key and where it is. YAML anchors and aliases (`&x`, `*x`) are refused
outright: a spec has no use for them, and a kilobyte of nested aliases
expands into gigabytes (the "billion laughs").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from fsx_backup_provider.cli.text import short


class SpecFileError(Exception):
    """The file cannot be read as a spec document; the message says where and why."""


class _Refused(yaml.YAMLError):
    def __init__(self, mark: yaml.Mark | None, message: str) -> None:
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        super().__init__(where + message)


class StrictSafeLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader, refusing anchors, aliases and repeated mapping keys."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        # Checked before the composer looks an alias up, so nothing is ever expanded.
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(
                event.start_mark,
                "YAML anchors and aliases (&name, *name) are not accepted in a spec file; "
                "write each value out",
            )
        return super().compose_node(parent, index)

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


def load_document(path: Path) -> Any:
    """The parsed document: JSON if the name ends in .json, else YAML (which reads JSON too)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        message = f"cannot read the spec file: {error.strerror or error}"
        raise SpecFileError(f"{path}: {message}") from None
    except UnicodeDecodeError as error:
        raise SpecFileError(f"{path}: the spec file is not UTF-8 text: {error.reason}") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text, object_pairs_hook=_refuse_repeated_keys)
        except SpecFileError as error:
            raise SpecFileError(f"{path}: {error}") from None
        except json.JSONDecodeError as error:
            raise SpecFileError(f"{path}: not valid JSON: {error}") from None
    try:
        return yaml.load(text, Loader=StrictSafeLoader)
    except _Refused as error:
        raise SpecFileError(f"{path}, {error}") from None
    except yaml.YAMLError as error:
        raise SpecFileError(f"{path}: not valid YAML: {error}") from None
