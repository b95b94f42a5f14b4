"""The per-stack seed and the scope keys it numbers (providers/seed.py, program/seed.py)."""

from __future__ import annotations

from fsx_backup_provider.core.scope import scope_key
from fsx_backup_provider.program.seed import child_urn
from fsx_backup_provider.providers.seed import FsxBackupSeedProvider, next_identities

TYPE = "pulumi-python:dynamic/fsx:FsxBackup"


def test_child_urn_of_a_component_child_is_qualified_by_the_parent_type() -> None:
    parent = "urn:pulumi:dev::proj::my:index:Storage::data"
    assert child_urn(TYPE, "nightly", parent) == (
        f"urn:pulumi:dev::proj::my:index:Storage${TYPE}::nightly"
    )


def test_child_urn_of_a_nested_component_child_carries_the_whole_chain() -> None:
    parent = "urn:pulumi:dev::proj::my:A$my:B::inner"
    assert child_urn(TYPE, "x", parent) == f"urn:pulumi:dev::proj::my:A$my:B${TYPE}::x"


def test_children_of_the_stack_carry_no_parent_type() -> None:
    stack = "urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev"
    assert child_urn(TYPE, "x", stack) == f"urn:pulumi:dev::proj::{TYPE}::x"


def test_scope_key_drops_stack_and_project() -> None:
    urn = f"urn:pulumi:dev::proj::my:index:Storage${TYPE}::a::b"
    assert scope_key(urn) == f"my:index:Storage${TYPE}::a::b"
    assert scope_key(urn.replace("dev::proj", "prod::other")) == scope_key(urn)


def test_seed_create_draws_a_random_base_and_numbers_every_key() -> None:
    provider = FsxBackupSeedProvider()
    first = provider.create({"declared": ["b", "a", "a"]})
    second = provider.create({"declared": ["a", "b"]})
    base = first.outs["base"]
    assert base != second.outs["base"] and len(base) == 32
    assert first.outs["identities"] == {"a": f"{base}.1", "b": f"{base}.1"}
    assert first.outs["declared"] == ["a", "b"]


def test_kept_keys_keep_their_identity_and_new_or_returning_keys_get_a_new_one() -> None:
    state = {
        "declared": ["a", "b"],
        "base": "x",
        "revision": 1,
        "identities": {"a": "x.1", "b": "x.1"},
    }
    dropped = next_identities(state, ["a"])
    assert dropped["identities"] == {"a": "x.1"} and dropped["revision"] == 1
    back = next_identities(dropped, ["a", "b", "c"])
    assert back["identities"] == {"a": "x.1", "b": "x.2", "c": "x.2"}
    assert back["base"] == "x"
    # The same declaration again (a re-run after a crash) changes nothing.
    assert next_identities(back, ["c", "b", "a"]) == back


def test_the_revision_survives_the_engine_turning_numbers_into_floats() -> None:
    state = {"declared": ["a"], "base": "x", "revision": 3.0, "identities": {"a": "x.2"}}
    assert next_identities(state, ["a", "z"])["identities"] == {"a": "x.2", "z": "x.4"}


def test_seed_diff_is_a_change_only_when_the_declared_set_changes() -> None:
    provider = FsxBackupSeedProvider()
    olds = {
        "declared": ["a", "b"],
        "base": "x",
        "revision": 1,
        "identities": {"a": "x.1", "b": "x.1"},
    }
    assert not provider.diff("seed", olds, {"declared": ["b", "a"]}).changes
    changed = provider.diff("seed", olds, {"declared": ["a"]})
    assert changed.changes and not changed.replaces


def test_seed_check_refuses_a_declared_list_of_other_things() -> None:
    result = FsxBackupSeedProvider().check({}, {"declared": [1, 2]})
    assert [f.property for f in result.failures] == ["declared"]
