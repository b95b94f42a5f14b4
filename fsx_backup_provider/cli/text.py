"""Keeping what a user is shown small, whatever the input held.

A spec file can carry a megabyte-long value, and a message that echoes it
whole (ours, the provider's validation, a parser's) would bury the problem
and flood a terminal or a CI log. So every value echoed in a message goes
through `short`, every line through `clip`, and a whole error through
`cap_lines`.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from typing import Any

MAX_LINE_CHARS = 400
MAX_LINES = 40
MAX_TOTAL_CHARS = 8000

_repr = reprlib.Repr()
_repr.maxstring = 80
_repr.maxother = 80
_repr.maxlong = 40
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxdict = 6
_repr.maxlevel = 3


def short(value: Any) -> str:
    """`repr(value)` cut to a readable size (long strings keep their head and tail)."""
    return _repr.repr(value)


def clip(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """`text` cut in the middle to at most about `limit` characters.

    The middle goes because messages start with where (entry, field) and end
    with the rule; a long value sits between them.
    """
    if len(text) <= limit:
        return text
    keep = max(limit // 2 - 20, 1)
    return f"{text[:keep]}...[{len(text) - 2 * keep} characters cut]...{text[-keep:]}"


def cap_lines(lines: Sequence[str]) -> list[str]:
    """Each line clipped; at most MAX_LINES of them and MAX_TOTAL_CHARS in all.

    What is left out is counted in a last line, so a user knows there is more.
    """
    shown: list[str] = []
    total = 0
    for line in lines:
        clipped = clip(line)
        if len(shown) == MAX_LINES or total + len(clipped) > MAX_TOTAL_CHARS:
            break
        shown.append(clipped)
        total += len(clipped)
    if len(shown) < len(lines):
        shown.append(f"... and {len(lines) - len(shown)} more (fix these first)")
    return shown
