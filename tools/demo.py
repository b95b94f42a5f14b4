"""`make demo`: `pulumi up` of the top-level stack on the local backend, twice.

The second `up` must change nothing; the demo exits non-zero if it does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pulumi import automation as auto

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    stack = auto.create_or_select_stack(stack_name="demo", work_dir=str(ROOT))
    print("== pulumi up")
    first = stack.up(on_output=print)
    print("outputs:", {k: v.value for k, v in first.outputs.items()})
    print("== pulumi up (again: nothing should change)")
    second = stack.up(on_output=print)
    changes = {k: v for k, v in (second.summary.resource_changes or {}).items() if k != "same"}
    if changes:
        print(f"FAIL: the second up changed {changes}", file=sys.stderr)
        return 1
    print("OK: the second up changed nothing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
