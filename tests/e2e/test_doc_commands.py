"""Every `fsx-backup` command of README.md and docs/*.md runs as written, page by
page in the order a reader meets them, through the real engine on the emulator.

What a reader would put in, the test puts in, and nothing else:
- the pages' stand-in IDs (`fs-0123456789abcdef0`, `fsvol-0123456789abcdef0`,
  `backup-0123456789abcdef0`, `$FS`) become a file system, an ONTAP volume and
  an AVAILABLE backup of the emulator in the command's Region (the page's
  first `--region` when the command gives none, as a user's AWS config would);
- `backups.yaml` is docs/cli.md's spec example, with those IDs;
- the backend (`s3://...`), `--profile` and `$E` become the test's file backend
  and the emulator's endpoint;
- a bare `...` stands for the options of the page's previous command of the
  same kind (a retention rule given replaces the earlier rules);
- a command's output redirection (`> plan.json`) is dropped.

Each command must exit 0 (`preview`: 0 or 3, its "changes pending"). A flag,
default or exit code that changes under a documented command fails here; the
parse-only checks of every example are tests/unit/test_doc_examples.py's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fsx_backup_provider.cli import main
from fsx_backup_provider.cli.commands import build_parser
from tests.doc_blocks import ROOT, blocks, raw_commands
from tests.e2e.cli_env import available_backup, isolate

DOC_FS = "fs-0123456789abcdef0"
DOC_VOLUME = "fsvol-0123456789abcdef0"
DOC_BACKUP = "backup-0123456789abcdef0"
# Options whose value the test supplies itself, whatever the page gives.
REPLACED = ("--backend", "--profile", "--endpoint-url")
RETENTION = (
    "--keep",
    "--keep-last",
    "--keep-daily",
    "--keep-weekly",
    "--keep-monthly",
    "--keep-yearly",
)
SECONDS = 0.5  # each backup, copy and restore of the emulator
REDIRECTION = re.compile(r"^\d?>>?|^<")


def page_commands() -> dict[str, list[tuple[str, list[str]]]]:
    """Page -> its `fsx-backup` commands as written, in order, with where each is."""
    pages: dict[str, list[tuple[str, list[str]]]] = {}
    for language in ("sh", "cron"):
        for where, script in blocks(language):
            for words in raw_commands(script):
                pages.setdefault(where.split(":")[0], []).append((where, words))
    for commands in pages.values():
        commands.sort(key=lambda item: int(item[0].split(":")[1]))
    return pages


PAGES = page_commands()


def _placeholder(word: str) -> bool:
    return "..." in word or word.startswith(("<", "$"))


def _options(words: list[str]) -> dict[str, str]:
    """The `--option value` pairs of a command (flags without a value left out)."""
    found = {}
    for at, word in enumerate(words[:-1]):
        following = words[at + 1]
        if word.startswith("--") and "=" not in word and not following.startswith("--"):
            found[word] = following
    return found


class Reader:
    """Turns a page's commands into runnable ones, as a reader of the page would."""

    def __init__(self, fsx: Any, flags: dict[str, str], workdir: Path) -> None:
        self.fsx, self.flags, self.workdir = fsx, flags, workdir
        self.ids: dict[str, dict[str, str]] = {}  # Region -> stand-in -> emulator ID
        self.previous: dict[str, list[str]] = {}  # subcommand -> its last words
        self.default_region: str | None = None
        subparsers = build_parser()._subparsers
        assert subparsers is not None
        [choices] = [a.choices for a in subparsers._group_actions if a.choices]
        self.accepted = {
            name: {flag for action in sub._actions for flag in action.option_strings}
            for name, sub in choices.items()
        }
        self.valued = {
            name: {
                flag
                for action in sub._actions
                if action.nargs != 0
                for flag in action.option_strings
            }
            for name, sub in choices.items()
        }

    def ids_in(self, region: str) -> dict[str, str]:
        if region not in self.ids:
            fs = self.fsx.create_file_system(region=region)
            volume = self.fsx.create_ontap_volume(region=region)
            backup = available_backup(self.fsx, region, FileSystemId=fs)  # as a page's is
            self.fsx.set_faults(backup_seconds=SECONDS)
            self.ids[region] = {DOC_FS: fs, "$FS": fs, DOC_VOLUME: volume, DOC_BACKUP: backup}
            spec = (ROOT / "docs" / "cli.md").read_text().split("```yaml\n", 1)[1]
            spec = spec.split("```", 1)[0].replace(DOC_FS, fs).replace(DOC_VOLUME, volume)
            (self.workdir / f"backups-{region}.yaml").write_text(spec)
        return self.ids[region]

    def runnable(self, words: list[str]) -> list[str]:
        cut = next((at for at, w in enumerate(words) if REDIRECTION.match(w)), len(words))
        command, rest = words[0], words[1:cut]
        kept: list[str] = []
        elided = skip = False
        for word in rest:
            if skip:
                skip = False
            elif word in REPLACED:
                skip = True  # and its value: the test's own
            elif word == "...":
                if kept and kept[-1] in self.valued[command]:
                    kept.pop()  # `--option ...`: the option left out
                else:
                    elided = True  # options left out: the previous command's
            elif _placeholder(word) and "$FS" not in word:
                if kept and kept[-1] in self.valued[command]:
                    kept.pop()
            else:
                kept.append(word)
        if elided and command in self.previous:
            given = _options(kept)
            has_rule = any(option in given for option in RETENTION)
            for option, value in _options(self.previous[command]).items():
                if option not in given and not (has_rule and option in RETENTION):
                    kept += [option, value]
        self.previous[command] = kept
        region = _options(kept).get("--region") or self.default_region
        if region is None:
            region = self.flags["--region"]
        if "--region" in _options(kept):
            self.default_region = self.default_region or region
        elif "--region" in self.accepted[command]:
            kept += ["--region", region]
        ids = self.ids_in(region)
        out = []
        for word in kept:
            for stand_in, real in ids.items():
                word = word.replace(stand_in, real)
            out.append(word.replace("backups.yaml", f"backups-{region}.yaml"))
        for option in ("--backend", "--endpoint-url"):
            if option in self.accepted[command]:
                out += [option, self.flags[option]]
        return [command, *out]


def _first_regions(commands: list[tuple[str, list[str]]]) -> Iterator[str]:
    for _, words in commands:
        if "--region" in words:
            yield words[words.index("--region") + 1]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_pages_commands_run_as_written(
    page: str,
    fsx: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pulumi_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    flag_list = isolate(monkeypatch, tmp_path, fsx)
    flags = dict(zip(flag_list[::2], flag_list[1::2], strict=True))
    monkeypatch.chdir(tmp_path)
    fsx.set_faults(
        backup_seconds=SECONDS, copy_seconds=SECONDS, restore_seconds=SECONDS, delete_seconds=0.2
    )
    reader = Reader(fsx, flags, tmp_path)
    reader.default_region = next(_first_regions(PAGES[page]), None)
    ran = []
    for where, written in PAGES[page]:
        words = reader.runnable(written)
        capsys.readouterr()
        code = main(words)
        out, err = capsys.readouterr()
        allowed = (0, 3) if words[0] == "preview" else (0,)
        assert code in allowed, (
            f"{where}: `fsx-backup {' '.join(written)}` exited {code}\n"
            f"ran: {words}\n{out[-2000:]}\n{err[-3000:]}"
        )
        ran.append(words[0])
    assert ran, f"{page}: no command ran"


def test_the_pages_with_commands_are_the_ones_users_read() -> None:
    assert {"README.md", "docs/cli.md", "docs/rotation.md", "docs/resources.md"} <= set(PAGES)
    assert sum(len(commands) for commands in PAGES.values()) >= 30
