"""`make guards`: take each ownership guard out in turn and show which fast test fails.

Every guard that keeps a resource from taking or deleting a backup another
holds must be pinned by a fast test that fails when the guard is removed.
This is a small mutation run, by hand rather than with a mutation tool,
because what matters is a fixed list of named guards (a tool mutates every
operator and reports a score, not "this guard is pinned by that test").
Each mutation replaces one exact piece of source; if a piece is not found
the run fails, so a guard that moves is noticed. The mutations are made in
copies of the checkout's code and tests (one per worker, a few at a time),
never in the checkout itself: an interrupted run leaves nothing mutated, and
other work can go on beside it.

    python -m tools.guards          exit 1 if a guard survives its removal
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = [
    "tests/unit/test_ownership.py",
    "tests/unit/test_lifecycle.py",
    "tests/unit/test_identity.py",
    "tests/unit/test_unknowns.py",
    "tests/unit/test_restore_test.py",
    "tests/unit/test_rotation_plan.py",
]


@dataclass(frozen=True)
class Guard:
    name: str
    path: str
    source: str
    mutant: str


GUARDS = [
    Guard(
        "delete skips a backup a create of this run took",
        "fsx_backup_provider/providers/base.py",
        "        if state.ownership.taken(id_):",
        "        if False:",
    ),
    Guard(
        "the walk passes tokens the stack holds or held (checkpoint, ledger)",
        "fsx_backup_provider/core/claims.py",
        "            holder = ownership.retired(token)\n",
        "            holder = None\n",
    ),
    Guard(
        "a found backup another resource holds is never taken",
        "fsx_backup_provider/core/ownership.py",
        "                return holder\n            self._taken.add(backup_id)",
        "                pass\n            self._taken.add(backup_id)",
    ),
    Guard(
        "a backup a create or import of this run took counts as held (one holder per run)",
        "fsx_backup_provider/core/ownership.py",
        '            self._held_backups[backup_id] = key or "another resource of this run"\n',
        "            pass\n",
    ),
    Guard(
        "no create without the stack's ownership loaded (--target/--exclude of the seed)",
        "fsx_backup_provider/core/claims.py",
        "    if not ownership.loaded:",
        "    if False:",
    ),
    Guard(
        "the ledger's tokens are retired",
        "fsx_backup_provider/core/ownership.py",
        "            self._retired.update(t for t in retired if t)",
        "            pass",
    ),
    Guard(
        "the tokens the checkpoint's resources hold are retired",
        "fsx_backup_provider/core/ownership.py",
        "                    self._held_tokens.setdefault(backup.token, backup.key)",
        "                    pass",
    ),
    Guard(
        "a seed whose stack's ledger is gone draws a new base",
        "fsx_backup_provider/providers/seed.py",
        "    if _moved(olds, stack) or ledger_lost:",
        "    if _moved(olds, stack):",
    ),
    Guard(
        "a seed copied into another stack draws a new base",
        "fsx_backup_provider/providers/seed.py",
        "    if _moved(olds, stack) or ledger_lost:",
        "    if ledger_lost:",
    ),
    Guard(
        "nothing is sent to FSx once the engine is gone",
        "fsx_backup_provider/core/lifecycle.py",
        "    if engine_gone():",
        "    if False:",
    ),
    Guard(
        "an unreadable state stops the run",
        "fsx_backup_provider/providers/seed.py",
        '    if not holders.get("read"):\n        if not seed_exists:',
        '    if not holders.get("read"):\n        if True:',
    ),
    Guard(
        "a backup the state holds but FSx lost stops the up",
        "fsx_backup_provider/providers/base.py",
        "        if gone(backup):",
        "        if False:",
    ),
    Guard(
        "an import of a backup the stack holds is refused",
        "fsx_backup_provider/providers/base.py",
        "        holder = state.ownership.take(backup_id, key=name)\n"
        "        if holder is not None:",
        "        holder = state.ownership.take(backup_id, key=name)\n        if False:",
    ),
    Guard(
        "a found backup another stack's fsx-backup:stack tag names is never taken",
        "fsx_backup_provider/core/claims.py",
        "        if request.marked and made_by is not None:",
        "        if False:",
    ),
    Guard(
        "a create that sends the stack's tag checks the tag FSx answers with",
        "fsx_backup_provider/providers/base.py",
        "            request.marked = HOLDER_TAG in sent",
        "            request.marked = False",
    ),
    Guard(
        "an import of a backup another stack's fsx-backup:stack tag names is refused",
        "fsx_backup_provider/providers/base.py",
        "        if made_by is not None:",
        "        if False:",
    ),
    Guard(
        "a copy's mark is not its source backup's (CopyTags copies the source's tag)",
        "fsx_backup_provider/core/holder.py",
        '    seed = f"fsx-backup-holder\\x1f{base}\\x1f{_kind(urn)}"',
        '    seed = f"fsx-backup-holder\\x1f{base}"',
    ),
    Guard(
        "a create that sends tags sends the stack's fsx-backup:stack tag",
        "fsx_backup_provider/providers/base.py",
        "        return {**tags, HOLDER_TAG: value}",
        "        return dict(tags)",
    ),
    Guard(
        "a URN that differs from the engine's is refused",
        "fsx_backup_provider/providers/base.py",
        "        if engine_urn and isinstance(declared_urn, str) and declared_urn != engine_urn:",
        "        if False:",
    ),
    Guard(
        "unknown inputs at preview are recognised in the host's form",
        "fsx_backup_provider/providers/validation.py",
        "    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)",
        "    return isinstance(value, str) and value == UNKNOWN",
    ),
    Guard(
        "a restore test deletes only what is tagged as its own restore test",
        "fsx_backup_provider/aws/restore_run.py",
        "        if not is_own_restore(description, backup_id):",
        "        if False:",
    ),
    Guard(
        "a restore test's leftovers are only its own restore tests of that backup",
        "fsx_backup_provider/aws/restore_run.py",
        "            if is_own_restore(fs, backup_id)",
        "            if True",
    ),
    Guard(
        "the tag is read with the backup's ID as its value",
        "fsx_backup_provider/aws/restore_plan.py",
        "    return tag_map(description).get(RESTORE_TEST_TAG) == backup_id",
        "    return RESTORE_TEST_TAG in tag_map(description)",
    ),
    Guard(
        "a restore another live run is making is not deleted as a leftover",
        "fsx_backup_provider/aws/restore_run.py",
        "            busy = run_in_progress(self.describe(kind, resource_id), own=self.run_tag)\n",
        "            busy = None\n",
    ),
    Guard(
        "a token answered with another live run's restore is refused",
        "fsx_backup_provider/aws/restore_run.py",
        "            busy = run_in_progress(description, own=self.run_tag)\n",
        "            busy = None\n",
    ),
    Guard(
        "rotate refuses a stack it did not make",
        "fsx_backup_provider/cli/rotation_plan.py",
        "    if held and not marked and not adopt:",
        "    if False:",
    ),
    Guard(
        "a rotation's mark in the state is recognised",
        "fsx_backup_provider/cli/state.py",
        "        if kind == ROTATION_MARKER_TYPE and not resource.get(\"delete\"):",
        "        if False:",
    ),
]


def failing_tests(output: str) -> list[str]:
    return sorted(
        line.split("::", 1)[1].split(" ", 1)[0]
        for line in output.splitlines()
        if line.startswith("FAILED ")
    )


# What the fast tests import: copied for each worker. `python -m pytest` run
# in a copy imports the copy's package (the working directory comes first on
# sys.path, before the checkout's editable install).
COPIED = ("fsx_backup_provider", "fsx_emulator", "tests", "tools", "bench", "pyproject.toml")
WORKERS = 3


def _copy(into: Path) -> Path:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, into / name)
    return into


def _run(guard: Guard, copy: Path) -> list[str] | None:
    """The fast tests that fail with `guard` taken out of `copy`; None if it survives."""
    path = copy / guard.path
    original = path.read_text()
    try:
        path.write_text(original.replace(guard.source, guard.mutant))
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS],
            cwd=copy,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        path.write_text(original)
    failed = failing_tests(done.stdout)
    return None if done.returncode == 0 or not failed else failed


def main() -> int:
    started = time.monotonic()
    for guard in GUARDS:
        if (ROOT / guard.path).read_text().count(guard.source) != 1:
            print(f"guard not found exactly once in {guard.path}: {guard.name}")
            return 1
    with tempfile.TemporaryDirectory(prefix="fsx-backup-guards-") as scratch:
        copies = [_copy(Path(scratch) / f"w{i}") for i in range(WORKERS)]
        free = list(copies)
        lock = threading.Lock()

        def run(guard: Guard) -> list[str] | None:
            with lock:
                copy = free.pop()
            try:
                return _run(guard, copy)
            finally:
                with lock:
                    free.append(copy)

        with ThreadPoolExecutor(WORKERS) as pool:
            results = list(pool.map(run, GUARDS))
    survived = 0
    for guard, failed in zip(GUARDS, results, strict=True):
        if failed is None:
            survived += 1
            print(f"SURVIVED  {guard.name}")
        else:
            print(f"pinned    {guard.name}: {', '.join(failed)}")
    print(
        f"\n{len(GUARDS) - survived} of {len(GUARDS)} guards pinned by a fast test "
        f"({time.monotonic() - started:.0f} s)"
    )
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
