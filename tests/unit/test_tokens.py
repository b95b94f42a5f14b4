"""Derived tokens: stable, distinct for anything that must not share a backup, FSx-valid."""

from __future__ import annotations

import pytest

from fsx_backup_provider.aws.servicemodel import string_rule
from fsx_backup_provider.core.tokens import derived_token

IDENTITY = "0123456789abcdef0123456789abcdef.1"
KEY = "pulumi-python:dynamic/fsx:FsxBackup::nightly"
FS = "fs-0123456789abcdef0"


def token(
    *,
    identity: str = IDENTITY,
    key: str = KEY,
    source: str = FS,
    region: str = "us-east-1",
    generation: int = 0,
) -> str:
    return derived_token(identity, key, source, region, generation=generation)


def test_same_inputs_same_token() -> None:
    assert token() == token()


def test_anything_that_tells_backups_apart_changes_the_token() -> None:
    variants = {
        token(identity="fedcba9876543210fedcba9876543210.1"),  # another stack's seed
        token(identity=IDENTITY[:-1] + "2"),  # declared again after being dropped
        token(key="my:index:Storage$pulumi-python:dynamic/fsx:FsxBackup::nightly"),
        token(key="pulumi-python:dynamic/fsx:FsxBackup::weekly"),
        token(source="fs-0123456789abcdef1"),
        token(region="eu-west-1"),
        token(generation=1),
    }
    assert len(variants) == 7
    assert token() not in variants


def test_parts_cannot_slide_into_each_other() -> None:
    assert derived_token("a", "bc", "d", generation=0) != derived_token(
        "ab", "c", "d", generation=0
    )


@pytest.mark.parametrize("generation", [0, 1, 10**6])
def test_tokens_satisfy_fsx_rules(generation: int) -> None:
    made = token(generation=generation)
    assert made.startswith("fsxb-") and made.endswith(f"-g{generation}")
    assert string_rule("ClientRequestToken").problem(made) is None


def test_negative_generation_is_refused() -> None:
    with pytest.raises(ValueError, match="generation"):
        token(generation=-1)
