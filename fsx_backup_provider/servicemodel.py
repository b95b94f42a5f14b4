"""Limits and patterns of the FSx API, read from botocore's service model.

The model installed with boto3 is the one the API is described by; reading it
at run time (rather than copying numbers and regexes into our source) keeps
validation in step with whatever botocore the user has.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import regex

# The model's patterns are Java-style (`\p{L}`, `\p{Z}`, `\p{N}`), which the
# standard `re` module cannot parse; the `regex` package reads them as written.


@dataclass(frozen=True)
class StringRule:
    """One string shape: its name in the model, length bounds and pattern."""

    shape: str
    min_length: int
    max_length: int
    pattern: regex.Pattern[str] | None
    pattern_text: str

    def problem(self, value: str) -> str | None:
        """Why `value` breaks this rule, or None when it is fine."""
        if not self.min_length <= len(value) <= self.max_length:
            if self.min_length == self.max_length:
                return f"must be exactly {self.min_length} characters long, got {len(value)}"
            return (
                f"must be {self.min_length} to {self.max_length} characters long, got {len(value)}"
            )
        if self.pattern is not None and self.pattern.fullmatch(value) is None:
            return f"must match the pattern {self.pattern_text}"
        return None


@dataclass(frozen=True)
class ListRule:
    shape: str
    min_items: int
    max_items: int


@cache
def _model() -> Any:
    # Imported on first use: a Pulumi program that only declares resources
    # never validates, and botocore's session costs ~80 ms to import.
    import botocore.session

    return botocore.session.get_session().get_service_model("fsx")


@cache
def string_rule(shape_name: str) -> StringRule:
    metadata = _model().shape_for(shape_name).metadata
    text = metadata.get("pattern")
    return StringRule(
        shape=shape_name,
        min_length=int(metadata.get("min", 0)),
        max_length=int(metadata.get("max", 1 << 31)),
        pattern=regex.compile(text) if text else None,
        pattern_text=text or "",
    )


@cache
def list_rule(shape_name: str) -> ListRule:
    metadata = _model().shape_for(shape_name).metadata
    return ListRule(
        shape=shape_name,
        min_items=int(metadata.get("min", 0)),
        max_items=int(metadata.get("max", 1 << 31)),
    )


def max_backup_ids_per_describe() -> int:
    """How many BackupIds one DescribeBackups call accepts (the batch size)."""
    return list_rule("BackupIds").max_items
