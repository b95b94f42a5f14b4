"""The fenced examples of README.md, CONTRIBUTING.md and docs/*.md, and which test runs each.

Every ```sh, ```cron and ```python block is one of:
- shell holding `fsx-backup` commands: run as written by tests/e2e/test_doc_commands.py;
- a Pulumi program (imports pulumi, declares an FsxBackup): previewed, deployed and
  destroyed by tests/e2e/test_readme_examples.py;
- a Python script (imports fsx_backup_provider or fsx_emulator, no `...` left out):
  run by tests/e2e/test_doc_scripts.py, as are the emulator's pytest examples;
- marked `<!-- not run: reason -->` on the line before it (a reason such as "installs
  into your virtualenv" or "needs real AWS"); it is still checked against the code by
  tests/unit/test_doc_examples.py.
tests/unit/test_doc_examples.py fails on a block that is none of these.
"""

from __future__ import annotations

import re
import shlex
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.S | re.M)
NOT_RUN = "<!-- not run:"


@dataclass(frozen=True)
class Block:
    where: str  # page:line
    language: str
    code: str
    not_run: str | None  # the reason given in a `<!-- not run: ... -->` marker


def all_blocks() -> Iterator[Block]:
    for page in PAGES:
        text = page.read_text()
        for match in FENCE.finditer(text):
            before = (text[: match.start()].rstrip().splitlines()[-1:] or [""])[0].strip()
            reason = None
            if before.startswith(NOT_RUN):
                reason = before.removeprefix(NOT_RUN).removesuffix("-->").strip()
            line = text[: match.start()].count("\n") + 1
            yield Block(
                f"{page.relative_to(ROOT)}:{line}",
                match.group(2),
                textwrap.dedent(match.group(3)),
                reason,
            )


def blocks(language: str) -> Iterator[tuple[str, str]]:
    """(page:line, code) of each block in `language`."""
    for block in all_blocks():
        if block.language == language:
            yield block.where, block.code


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


def _code_without_comments(code: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in code.splitlines())


def is_program(code: str) -> bool:
    return "import pulumi\n" in code and "FsxBackup(" in code and "..." not in code


def is_pytest_example(code: str) -> bool:
    return "fsx_emulator" in code and ("def test_" in code or "pytest_plugins" in code)


def is_script(code: str) -> bool:
    return (
        not is_program(code)
        and not is_pytest_example(code)
        and "..." not in _code_without_comments(code)
        and re.search(r"^from (fsx_backup_provider|fsx_emulator)\b", code, re.M) is not None
    )


def runner(block: Block) -> str | None:
    """The test that runs the block as written, or None."""
    if block.language in ("sh", "cron") and any(raw_commands(block.code)):
        return "tests/e2e/test_doc_commands.py"
    if block.language == "python" and is_program(block.code):
        return "tests/e2e/test_readme_examples.py"
    if block.language == "python" and (is_script(block.code) or is_pytest_example(block.code)):
        return "tests/e2e/test_doc_scripts.py"
    return None
