"""Declared backups: from a spec file, `--backup`/`--tag` flags or stack config, checked.

One parser for every way of declaring backups, so the CLI and the example
stack (`__main__.py`) accept the same fields and say the same things about
them. The provider's own input rules (`validation.validate_inputs`) are
applied too, by their rule codes, so a bad spec fails before any engine runs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsx_backup_provider.cli.specfile import SpecFileError, load_document
from fsx_backup_provider.cli.text import short

# A Pulumi resource name that is also safe in a file name and a table.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
SPEC_FIELDS = ("name", "fileSystemId", "volumeId", "tags")
TOP_LEVEL_KEY = "backups"
# The provider's input names as the spec spells them.
_FIELD_OF_INPUT = {"file_system_id": "fileSystemId", "volume_id": "volumeId", "tags": "tags"}


class SpecError(Exception):
    """The backups as declared cannot be deployed; every problem is listed."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class BackupSpec:
    """One declared backup: its resource name, exactly one source, its tags."""

    name: str
    file_system_id: str | None = None
    volume_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    # Where it was declared, for messages: "backups.yaml: backups[1]", "--backup #2".
    origin: str = ""

    @property
    def source(self) -> str:
        return self.file_system_id or self.volume_id or ""

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": self.name}
        if self.file_system_id is not None:
            entry["fileSystemId"] = self.file_system_id
        if self.volume_id is not None:
            entry["volumeId"] = self.volume_id
        if self.tags:
            entry["tags"] = dict(self.tags)
        return entry


def where(origin: str, name: Any) -> str:
    return f"{origin} ({short(name)})" if isinstance(name, str) and name else origin


def _string_map(value: Any, at: str, what: str, problems: list[str]) -> dict[str, str]:
    """A mapping of strings to strings, or problems saying which key or value is not."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"{at}: {what} must be a mapping of keys to values, got {short(value)}")
        return {}
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            problems.append(f"{at}: {what}: key {short(key)} must be a string")
        elif not isinstance(item, str):
            problems.append(
                f"{at}: {what}: the value of {short(key)} must be a string, got {short(item)} "
                "(quote it in YAML)"
            )
        else:
            result[key] = item
    return result


def parse_entry(entry: Any, origin: str) -> tuple[BackupSpec | None, list[str]]:
    """One declared backup: {name, fileSystemId | volumeId, tags}."""
    if not isinstance(entry, Mapping):
        return None, [
            f"{origin}: each entry must be a mapping with name and fileSystemId or volumeId, "
            f"got {short(entry)}"
        ]
    name = entry.get("name")
    at = where(origin, name)
    problems: list[str] = []
    for key in entry:
        if key not in SPEC_FIELDS:
            close = difflib.get_close_matches(str(key)[:100], SPEC_FIELDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"{at}: unknown field {short(key)}{hint}; the fields are {', '.join(SPEC_FIELDS)}"
            )
    if name is None:
        problems.append(f"{at}: name is missing")
    elif not isinstance(name, str):
        problems.append(f"{at}: name must be a string, got {short(name)}")
    fs_id, vol_id = entry.get("fileSystemId"), entry.get("volumeId")
    for key, value in (("fileSystemId", fs_id), ("volumeId", vol_id)):
        if value is not None and not isinstance(value, str):
            problems.append(f"{at}: {key} must be a string, got {short(value)}")
    tags = _string_map(entry.get("tags"), at, "tags", problems)
    if problems:
        return None, problems
    return BackupSpec(str(name), fs_id, vol_id, tags, origin), []


def parse_entries(entries: Any, label: str) -> tuple[list[BackupSpec], list[str]]:
    """A list of entries; each is named `label[index]` in messages."""
    if entries is None:
        return [], []
    if not isinstance(entries, list):
        return [], [f"{label} must be a list, got {short(entries)}"]
    specs: list[BackupSpec] = []
    problems: list[str] = []
    for index, entry in enumerate(entries):
        spec, entry_problems = parse_entry(entry, f"{label}[{index}]")
        problems += entry_problems
        if spec is not None:
            specs.append(spec)
    return specs, problems


def parse_spec_document(document: Any, origin: str) -> tuple[list[BackupSpec], list[str]]:
    """`{"backups": [{"name": ..., "fileSystemId"|"volumeId": ..., "tags": {...}}]}`."""
    if not isinstance(document, Mapping) or TOP_LEVEL_KEY not in document:
        return [], [
            f'{origin}: expected a mapping with a "{TOP_LEVEL_KEY}" list, e.g. '
            '{"backups": [{"name": "nightly", "fileSystemId": "fs-0123456789abcdef0"}]}'
        ]
    problems = [
        f'{origin}: unknown top-level key {short(key)}; the only key is "{TOP_LEVEL_KEY}"'
        for key in document
        if key != TOP_LEVEL_KEY
    ]
    specs, entry_problems = parse_entries(document[TOP_LEVEL_KEY], f"{origin}: {TOP_LEVEL_KEY}")
    return specs, problems + entry_problems


def load_spec_file(path: Path) -> tuple[list[BackupSpec], list[str]]:
    try:
        document = load_document(path)
    except SpecFileError as error:
        return [], [str(error)]
    return parse_spec_document(document, str(path))


def _key_value(text: str, at: str, problems: list[str]) -> tuple[str, str] | None:
    key, sep, value = text.partition("=")
    if not sep or not key:
        problems.append(f"{at}: expected Key=Value, got {short(text)}")
        return None
    return key, value


def parse_backup_flag(text: str, origin: str) -> tuple[BackupSpec | None, list[str]]:
    """`NAME=fs-...|fsvol-...[,Key=Value...]`: one backup from the command line."""
    at = f"{origin} {short(text)}"
    head, *tag_parts = text.split(",")
    name, sep, source = head.partition("=")
    if not sep or not name or not source:
        return None, [f"{at}: expected NAME=fs-...|fsvol-...[,Key=Value...]"]
    problems: list[str] = []
    fs_id, vol_id = source_ids(source, at, problems)
    tags: dict[str, str] = {}
    for part in tag_parts:
        pair = _key_value(part, f"{at}: tag", problems)
        if pair is None:
            continue
        if pair[0] in tags:
            problems.append(f"{at}: tag {short(pair[0])} is given twice")
        tags[pair[0]] = pair[1]
    if problems:
        return None, problems
    return BackupSpec(name, fs_id, vol_id, tags, origin), []


def source_ids(source: str, at: str, problems: list[str]) -> tuple[str | None, str | None]:
    """(file_system_id, volume_id) for a source given as one ID: its prefix says which."""
    if source.startswith("fsvol-"):
        return None, source
    if source.startswith("fs-"):
        return source, None
    problems.append(
        f"{at}: source {short(source)} is neither a file system ID (fs-...) "
        "nor an ONTAP volume ID (fsvol-...)"
    )
    return None, None


def parse_tag_flags(values: Iterable[str], flag: str = "--tag") -> tuple[dict[str, str], list[str]]:
    """`--tag K=V` flags: tags for every backup, checked against the provider's tag rules."""
    from fsx_backup_provider.providers.validation import tag_failures

    problems: list[str] = []
    tags: dict[str, str] = {}
    for text in values:
        pair = _key_value(text, flag, problems)
        if pair is None:
            continue
        if pair[0] in tags:
            problems.append(f"{flag}: {short(pair[0])} is given twice")
        tags[pair[0]] = pair[1]
    problems += [f"{flag}: {failure.reason}" for failure in tag_failures(flag, tags or None)]
    return tags, problems


def validate_specs(specs: Sequence[BackupSpec], common_tags: Mapping[str, str]) -> list[str]:
    """Every rule the declared backups break, each naming the entry and field.

    `common_tags` (the `--tag` flags, checked on their own by parse_tag_flags)
    count towards each backup's tag limit.
    """
    from fsx_backup_provider.providers.validation import (
        ONE_SOURCE,
        TAG_COUNT,
        tag_failures,
        validate_inputs,
    )

    problems: list[str] = []
    first_origin: dict[str, str] = {}
    for spec in specs:
        at = where(spec.origin, spec.name)
        if not NAME_PATTERN.fullmatch(spec.name):
            problems.append(
                f"{at}: name {short(spec.name)} must be 1 to 100 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        if spec.name in first_origin:
            problems.append(
                f"{at}: name {short(spec.name)} is already used by {first_origin[spec.name]}; "
                "names must be unique"
            )
        else:
            first_origin[spec.name] = spec.origin
        inputs = {
            "file_system_id": spec.file_system_id,
            "volume_id": spec.volume_id,
            "tags": dict(spec.tags) or None,
        }
        for failure in validate_inputs(inputs):
            if failure.rule == ONE_SOURCE:
                problems.append(f"{at}: {_one_source_problem(spec)}")
            elif failure.rule != TAG_COUNT:  # counted below, with the --tag ones
                problems.append(f"{at}: {_FIELD_OF_INPUT[failure.property]}: {failure.reason}")
        merged = {**common_tags, **spec.tags}
        for failure in tag_failures("tags", merged):
            if failure.rule == TAG_COUNT:
                with_common = " (with the --tag ones)" if common_tags else ""
                problems.append(f"{at}: tags{with_common}: {failure.reason}")
    return problems


def _one_source_problem(spec: BackupSpec) -> str:
    if spec.file_system_id is None:
        return (
            "needs exactly one source, fileSystemId (a file system, fs-...) "
            "or volumeId (an ONTAP volume, fsvol-...); it has neither"
        )
    return (
        "needs exactly one source, fileSystemId or volumeId; it has both "
        "(an ONTAP volume backup takes only volumeId)"
    )


def build_specs(
    file: Path | None, backup_flags: Sequence[str], tag_flags: Sequence[str]
) -> list[BackupSpec]:
    """The backups declared by `--file` and `--backup`, with `--tag` merged in.

    An entry's own tag wins over a `--tag` of the same key. Raises SpecError
    listing every problem.
    """
    problems: list[str] = []
    specs: list[BackupSpec] = []
    if file is not None:
        from_file, file_problems = load_spec_file(file)
        specs += from_file
        problems += file_problems
    for index, text in enumerate(backup_flags, start=1):
        spec, flag_problems = parse_backup_flag(text, f"--backup #{index}")
        problems += flag_problems
        if spec is not None:
            specs.append(spec)
    common, tag_problems = parse_tag_flags(tag_flags)
    problems += tag_problems
    problems += validate_specs(specs, common)
    if problems:
        raise SpecError(problems)
    return [
        BackupSpec(s.name, s.file_system_id, s.volume_id, {**common, **s.tags}, s.origin)
        for s in specs
    ]


def specs_from_config(entries: Any, label: str) -> list[BackupSpec]:
    """Backups declared in stack config (a list of entries), as the example stack reads them."""
    specs, problems = parse_entries(entries, label)
    problems += validate_specs(specs, {})
    if problems:
        raise SpecError(problems)
    return specs
