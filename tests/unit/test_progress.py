"""The URN progress messages are attached to is the one the engine gives the resource."""

from __future__ import annotations

from fsx_backup_provider.host.progress import urn_of
from fsx_backup_provider.tokens import token_scope


def test_urn_of_a_top_level_backup() -> None:
    assert (
        urn_of(token_scope("proj", "dev", None, "nightly"))
        == "urn:pulumi:dev::proj::pulumi-python:dynamic/fsx:FsxBackup::nightly"
    )


def test_urn_of_a_backup_inside_a_component() -> None:
    parent = "urn:pulumi:dev::proj::my:index:Storage::data"
    assert (
        urn_of(token_scope("proj", "dev", parent, "nightly"))
        == "urn:pulumi:dev::proj::my:index:Storage$pulumi-python:dynamic/fsx:FsxBackup::nightly"
    )


def test_a_scope_of_another_shape_has_no_urn() -> None:
    assert urn_of("not-a-scope") is None
