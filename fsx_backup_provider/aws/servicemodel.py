"""Limits and patterns of the FSx API, read from botocore's service model.

The model installed with boto3 is the one the API is described by; reading it
at run time (rather than copying numbers and regexes into our source) keeps
validation in step with whatever botocore the user has. It is read as the JSON
file it is, without botocore's session (see _model_file).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
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


_MODEL_LOCK = threading.Lock()
_SHAPES: dict[str, Any] | None = None


def _model_file() -> Path:
    """The FSx service-2 model file botocore's own loader would pick.

    botocore.loaders.Loader searches AWS_DATA_PATH, then ~/.aws/models, then
    the data bundled with botocore, takes the latest API version found in
    any of them, and loads the first copy of that version in search order,
    as `.json` or `.json.gz`. Those ~15 lines are redone here by hand on
    purpose: importing botocore.session and building its ServiceModel cost
    the provider ~110 ms of CPU at the start of every preview (and
    botocore.loaders alone ~60 ms, through botocore.compat and urllib3),
    out of a budget of ~160 ms for 200 backups (see bench/README.md).
    tests/unit/test_servicemodel.py holds this to botocore's Loader.
    """
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed; it is a dependency of boto3")
    extra = os.environ.get("AWS_DATA_PATH")
    roots = [
        *(
            os.path.expanduser(os.path.expandvars(p))
            for p in (extra.split(os.pathsep) if extra else [])
        ),
        os.path.expanduser("~/.aws/models"),
        os.path.join(spec.submodule_search_locations[0], "data"),
    ]

    # Every copy of each API version, in search order.
    copies: dict[str, list[Path]] = {}
    for root in roots:
        service = Path(root, "fsx")
        if not service.is_dir():
            continue
        for version in sorted(os.listdir(service)):
            for suffix in (".json", ".json.gz"):
                candidate = service / version / ("service-2" + suffix)
                if candidate.is_file():
                    copies.setdefault(version, []).append(candidate)
                    break
    if not copies:
        raise RuntimeError(f"no FSx service model (fsx/*/service-2.json) under {roots}")
    return copies[max(copies)][0]


def _shapes() -> dict[str, Any]:
    global _SHAPES
    with _MODEL_LOCK:
        # Loaded once per process, and only by the first check that needs a
        # rule: the 200 concurrent checks of a preview wait for that one load.
        if _SHAPES is None:
            path = _model_file()
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rb") as stream:
                _SHAPES = json.loads(stream.read().decode("utf-8"))["shapes"]
        return _SHAPES


@cache
def string_rule(shape_name: str) -> StringRule:
    metadata = _shapes()[shape_name]
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
    metadata = _shapes()[shape_name]
    return ListRule(
        shape=shape_name,
        min_items=int(metadata.get("min", 0)),
        max_items=int(metadata.get("max", 1 << 31)),
    )


def max_backup_ids_per_describe() -> int:
    """How many BackupIds one DescribeBackups call accepts (the batch size)."""
    return list_rule("BackupIds").max_items
