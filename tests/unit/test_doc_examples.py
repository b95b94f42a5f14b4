"""The examples in README.md and docs/ are checked against the code, so they cannot drift.

- Every ```python block parses, and every name it imports from this project
  exists (a renamed function or class fails here).
- Every `fsx-backup ...` command in a ```sh or ```cron block parses with the
  CLI's own argparse parser: an option that does not exist, a bad choice or a
  missing value fails here. Placeholders (`...`, `<...>`) and required options
  left out for brevity are allowed.
- Every ```json block is JSON (placeholders `...` aside), and every ```yaml
  block is YAML.

What runs end to end is tested elsewhere (tests/doc_blocks.py says which test
runs which block: the `fsx-backup` commands, the Pulumi programs, the scripts);
an example no test runs says why (`<!-- not run: reason -->` on the line before
it), and is still checked here.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import re
import shlex
from collections.abc import Iterator

import pytest
import yaml

from tests.doc_blocks import blocks, raw_commands


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
    from fsx_backup_provider.cli.parser import build_parser

    parser = build_parser()
    stack = [parser]
    while stack:
        current = stack.pop()
        for action in current._actions:
            action.required = False
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())
    return parser


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
    from fsx_backup_provider.aws.restore_plan import RestoreTestResult
    from fsx_backup_provider.cli.inventory import Listing
    from fsx_backup_provider.cli.render import Report
    from fsx_backup_provider.cli.rotate import RotationResult

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


def test_every_example_runs_in_a_test_or_says_why_not() -> None:
    """A shell or Python example no test runs must say why on the line before it
    (`<!-- not run: reason -->`, a reason of some words), and an example a test runs
    must not carry the marker (it would hide a block that stopped running)."""
    from tests.doc_blocks import all_blocks, runner

    unrun, needless = [], []
    for block in all_blocks():
        if block.language not in ("sh", "cron", "python"):
            continue
        runs = runner(block)
        if runs is None and (block.not_run is None or len(block.not_run.split()) < 4):
            unrun.append(block.where)
        if runs is not None and block.not_run is not None:
            needless.append(f"{block.where} (run by {runs})")
    assert unrun == [], f"run these in a test, or mark them `<!-- not run: why -->`: {unrun}"
    assert needless == [], f"these examples run, their `not run` marker is wrong: {needless}"


def test_the_tests_a_not_run_marker_names_exist() -> None:
    """A reason such as "tests/e2e/test_chaos.py runs the same steps" names a file
    (and a test in it) that exists: a renamed test cannot leave the reason stale."""
    from tests.doc_blocks import ROOT, all_blocks

    named = 0
    reference = re.compile(r"((?:tests|tools)/[\w/]+\.py)(?:::(\w+))?")
    for block in all_blocks():
        for path, test in reference.findall(block.not_run or ""):
            assert (ROOT / path).is_file(), f"{block.where}: {path} does not exist"
            if test:
                assert f"def {test}(" in (ROOT / path).read_text(), f"{block.where}: {test}"
            named += 1
    assert named >= 10
