"""The examples in README.md and docs/ are checked against the code, so they cannot drift.

- Every ```python block parses, and every name it imports from this project
  exists (a renamed function or class fails here).
- Every `fsx-backup ...` command in a ```sh or ```cron block parses with the
  CLI's own argparse parser: an option that does not exist, a bad choice or a
  missing value fails here. Placeholders (`...`, `<...>`) and required options
  left out for brevity are allowed.
- Every ```json block is JSON (placeholders `...` aside), and every ```yaml
  block is YAML.

What runs end to end is tested elsewhere (README's programs run as written in
tests/e2e/test_readme_examples.py, the CLI's flows in tests/e2e/test_cli.py and
test_rotation.py); a block that cannot be
checked at all is marked `<!-- not checked: reason -->` on the line before it.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import re
import shlex
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.S | re.M)


def blocks(language: str) -> Iterator[tuple[str, str]]:
    for page in PAGES:
        text = page.read_text()
        for match in FENCE.finditer(text):
            if match.group(2) != language:
                continue
            before = text[: match.start()].rstrip().splitlines()[-1:] or [""]
            if before[0].startswith("<!-- not checked:"):
                continue
            line = text[: match.start()].count("\n") + 1
            yield f"{page.relative_to(ROOT)}:{line}", textwrap.dedent(match.group(3))


def _ids(items: list[tuple[str, str]]) -> list[str]:
    return [where for where, _ in items]


PYTHON = list(blocks("python"))


@pytest.mark.parametrize(("where", "code"), PYTHON, ids=_ids(PYTHON))
def test_python_examples_parse_and_import_what_exists(where: str, code: str) -> None:
    tree = ast.parse(code, filename=where)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
            ("fsx_backup_provider", "fsx_emulator")
        ):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name) or importlib.util.find_spec(
                    f"{node.module}.{alias.name}"
                ), f"{where}: {node.module} has no {alias.name}"


def _lenient_parser() -> argparse.ArgumentParser:
    """The CLI's parser with every option optional: examples leave some out."""
    from fsx_backup_provider.cli.commands import build_parser

    parser = build_parser()
    stack = [parser]
    while stack:
        current = stack.pop()
        for action in current._actions:
            action.required = False
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())
    return parser


def raw_commands(script: str) -> Iterator[list[str]]:
    """The words after `fsx-backup` (or `python -m fsx_backup_provider.cli`) of each
    command line, as written (continuations joined, comments and pipes cut); the
    command may come after a wrapper, as in a crontab line."""
    joined = re.sub(r"\\\n\s*", " ", script)
    for line in joined.splitlines():
        line = line.split(" #", 1)[0].strip()
        for part in re.split(r"&&|\|\||;|\|", line):
            words = shlex.split(part.strip(), comments=True) if part.strip() else []
            for at, word in enumerate(words):
                if word == "fsx-backup" or word.endswith("/fsx-backup"):
                    yield words[at + 1 :]
                    break
                if words[at : at + 3] == ["python", "-m", "fsx_backup_provider.cli"]:
                    yield words[at + 3 :]
                    break


def _commands(script: str) -> Iterator[list[str]]:
    """Each `fsx-backup` command line, placeholders taken out."""
    for words in raw_commands(script):
        yield list(_with_placeholders(words))


def _with_placeholders(words: list[str]) -> Iterator[str]:
    """`...`/`<x>` stand for a value after an option, else for options left out; a
    `$VAR` for options a page set up before; a redirection ends the command."""
    previous = ""
    for word in words:
        if word.startswith((">", "2>", "<<")) or word in (">", "2>&1"):
            return
        placeholder = "..." in word or word.startswith(("<", "$"))
        if placeholder and previous.startswith("--") and "=" not in previous:
            yield "X"
        elif not placeholder:
            yield word
        previous = word


SHELL = [*blocks("sh"), *blocks("cron")]
COMMANDS = [(where, words) for where, script in SHELL for words in _commands(script)]


def test_the_docs_show_the_commands() -> None:
    assert len(COMMANDS) >= 20, COMMANDS
    assert {words[0] for _, words in COMMANDS if words} >= {"up", "rotate", "restore-test"}


@pytest.mark.parametrize(("where", "words"), COMMANDS, ids=_ids(COMMANDS))
def test_fsx_backup_commands_in_the_docs_parse(where: str, words: list[str]) -> None:
    parser = _lenient_parser()
    if words in ([], ["--help"], ["--version"]):
        return
    try:
        parser.parse_args(words)
    except (SystemExit, argparse.ArgumentError, Exception) as error:
        pytest.fail(f"{where}: `fsx-backup {shlex.join(words)}` does not parse ({error})")


JSON = list(blocks("json"))


@pytest.mark.parametrize(("where", "text"), JSON, ids=_ids(JSON))
def test_json_examples_are_json(where: str, text: str) -> None:
    if "..." in text:
        text = re.sub(r'"?\.\.\."?', '"..."', text)
        text = re.sub(r",\s*(\"\.\.\.\")\s*([}\]])", r", \1\2", text)
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        if "..." not in text:
            pytest.fail(f"{where}: {error}")


YAML = list(blocks("yaml"))


@pytest.mark.parametrize(("where", "text"), YAML, ids=_ids(YAML))
def test_yaml_examples_are_yaml(where: str, text: str) -> None:
    yaml.safe_load(text)


def _printed_keys(command: str) -> list[str]:
    """The members `--json` prints for a command, from the objects that print them."""
    from fsx_backup_provider.cli.render import Report
    from fsx_backup_provider.inventory import Listing
    from fsx_backup_provider.restores import RestoreTestResult
    from fsx_backup_provider.rotation import RotationResult

    if command == "rotate":
        return list(RotationResult("s", "p", "b", None).to_json())
    if command == "restore-test":
        return list(RestoreTestResult("backup-1").to_json())
    if command == "list":
        return list(Listing("s", "p", "b").to_json())
    return list(Report(command).to_json())


DOCUMENTED_OUTPUTS = [
    (where, document)
    for where, text in JSON
    if "..." not in text
    and isinstance(document := json.loads(text), dict)
    and "command" in document
]


@pytest.mark.parametrize(("where", "document"), DOCUMENTED_OUTPUTS, ids=_ids(DOCUMENTED_OUTPUTS))
def test_documented_json_output_has_the_members_the_cli_prints(
    where: str, document: dict[str, object]
) -> None:
    """A member added to (or dropped from) a command's --json fails here until its
    documented example shows it, in the order the CLI prints."""
    assert list(document) == _printed_keys(str(document["command"] or "up")), where


def test_every_commands_json_output_is_documented() -> None:
    assert {str(d["command"]) for _, d in DOCUMENTED_OUTPUTS} >= {
        "up", "preview", "rotate", "restore-test", "list"
    }
