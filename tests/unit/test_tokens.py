"""The derived ClientRequestToken: stable, distinct where it must be, within FSx's rules."""

from __future__ import annotations

import re

import pytest

from fsx_backup_provider.tokens import derived_token, token_scope
from fsx_backup_provider.validation import validate_inputs

SCOPE = token_scope("proj", "dev", None, "nightly")
FS = "fs-0123456789abcdef0"


def test_same_identity_same_token() -> None:
    assert derived_token(SCOPE, FS, "us-east-1", 0, 0) == derived_token(
        token_scope("proj", "dev", None, "nightly"), FS, "us-east-1", 0, 0
    )


@pytest.mark.parametrize(
    "other",
    [
        derived_token(token_scope("proj2", "dev", None, "nightly"), FS, "us-east-1", 0, 0),
        derived_token(token_scope("proj", "prod", None, "nightly"), FS, "us-east-1", 0, 0),
        derived_token(token_scope("proj", "dev", "urn:parent", "nightly"), FS, "us-east-1", 0, 0),
        derived_token(token_scope("proj", "dev", None, "weekly"), FS, "us-east-1", 0, 0),
        derived_token(SCOPE, "fs-0123456789abcdef1", "us-east-1", 0, 0),
        derived_token(SCOPE, FS, "eu-west-1", 0, 0),
        derived_token(SCOPE, FS, "us-east-1", 0, 1),
        derived_token(SCOPE, FS, "us-east-1", 1, 0),
    ],
)
def test_any_difference_changes_the_token(other: str) -> None:
    assert other != derived_token(SCOPE, FS, "us-east-1", 0, 0)


@pytest.mark.parametrize("generation", [0, 1, 99, 10**18])
def test_token_fits_fsx_rules(generation: int) -> None:
    token = derived_token(SCOPE, FS, "us-east-1", generation, generation)
    assert len(token) <= 63
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", token)
    assert validate_inputs({"file_system_id": FS, "client_request_token": token}) == []


def test_negative_generation_is_refused() -> None:
    with pytest.raises(ValueError, match="generation"):
        derived_token(SCOPE, FS, "us-east-1", 0, -1)
    with pytest.raises(ValueError, match="epoch"):
        derived_token(SCOPE, FS, "us-east-1", -1, 0)
