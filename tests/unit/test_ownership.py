"""Every guard that keeps a resource from taking or deleting a backup another holds.

Fast: no engine, no emulator process. The providers run with a fake FSx
client that records every call, and ownership is loaded as the seed's check
loads it from the stack's checkpoint. Each test names the guard it pins;
`make guards` removes each guard in turn and shows which of these fail.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from fsx_backup_provider.aws.errors import FsxApiError
from fsx_backup_provider.core.config import ProviderSettings
from fsx_backup_provider.core.holder import HOLDER_TAG, holder_value, mark_of
from fsx_backup_provider.core.lifecycle import FsxBackupError
from fsx_backup_provider.core.ownership import HeldBackup, Ownership
from fsx_backup_provider.core.process import ProcessState, process_state
from fsx_backup_provider.core.tokens import derived_token
from fsx_backup_provider.host import watchdog
from fsx_backup_provider.providers.backup import FsxBackupProvider
from fsx_backup_provider.providers.base import BackupResourceProvider
from fsx_backup_provider.providers.copy import FsxBackupCopyProvider
from fsx_backup_provider.providers.seed import FsxBackupSeedProvider, next_identities

FS = "fs-0123456789abcdef0"
REGION = "us-east-1"
TYPE = "pulumi-python:dynamic/fsx:FsxBackup"
URN_X = f"urn:pulumi:dev::proj::{TYPE}::x"
URN_Y = f"urn:pulumi:dev::proj::{TYPE}::y"
KEY_X = f"{TYPE}::x"
KEY_Y = f"{TYPE}::y"
IDENTITY = "0123456789abcdef0123456789abcdef.1"


def token(generation: int, epoch: int = 0) -> str:
    return derived_token(IDENTITY, KEY_X, FS, REGION, str(epoch), generation=generation)


class FakeFsx:
    """FSx as far as a create and a delete see it: tokens name backups, every call recorded."""

    region = REGION

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.by_token: dict[str, dict[str, Any]] = {}
        self.backups: dict[str, dict[str, Any]] = {}
        self.sent_tags: dict[str, Mapping[str, str] | None] = {}

    def existing(
        self,
        backup_id: str,
        under: str,
        lifecycle: str = "AVAILABLE",
        tags: Mapping[str, str] | None = None,
    ) -> None:
        backup = {
            "BackupId": backup_id,
            "Lifecycle": lifecycle,
            "FileSystem": {"FileSystemId": FS},
            "ResourceARN": f"arn:aws:fsx:{REGION}:123456789012:backup/{backup_id}",
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        }
        self.by_token[under] = self.backups[backup_id] = backup

    def create_backup(
        self, *, client_request_token: str, tags: Mapping[str, str] | None = None, **_: Any
    ) -> dict[str, Any]:
        # FSx answers a known token with its backup as it is, whatever tags are sent
        # (the emulator, like FSx's documented rule, refuses other tags instead:
        # the check after the answer must hold either way).
        self.calls.append(("CreateBackup", client_request_token))
        self.sent_tags[client_request_token] = tags
        if client_request_token not in self.by_token:
            new_id = f"backup-{len(self.backups):017x}"
            self.existing(new_id, client_request_token, "CREATING", tags)
        return dict(self.by_token[client_request_token])

    def describe_backups(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        self.calls.append(("DescribeBackups", ",".join(ids)))
        return {i: self.backups[i] for i in ids if i in self.backups}

    def delete_backup(self, backup_id: str) -> str:
        self.calls.append(("DeleteBackup", backup_id))
        self.backups.pop(backup_id, None)
        return "DELETED"

    def user_backups_of(self, *_: Any) -> list[dict[str, Any]]:
        return list(self.backups.values())

    def mutations(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] != "DescribeBackups"]


class FakePoller:
    def __init__(self, fsx: FakeFsx) -> None:
        self.fsx = fsx

    def lookup(self, backup_id: str, timeout: float = 300.0) -> dict[str, Any] | None:
        return self.fsx.backups.get(backup_id)

    def wait_for(self, backup_id: str, condition: Any, **_: Any) -> dict[str, Any] | None:
        return self.fsx.backups.get(backup_id)


@pytest.fixture
def fsx(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFsx]:
    """A fresh process state whose seed check loaded an empty stack, and a fake FSx."""
    fake = FakeFsx()
    fresh = ProcessState()
    fresh.settings = ProviderSettings(region=REGION)
    fresh.ownership.load([], [])
    monkeypatch.setattr("fsx_backup_provider.core.process._process", fresh)
    monkeypatch.setattr(BackupResourceProvider, "client", lambda self, props: fake)
    monkeypatch.setattr(BackupResourceProvider, "poller", lambda self, props: FakePoller(fake))
    monkeypatch.setattr("fsx_backup_provider.core.process.client_for", lambda connection: fake)
    monkeypatch.setattr("fsx_backup_provider.providers.base._before_waiting", lambda: None)
    yield fake


def props(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "file_system_id": FS,
        "resource_urn": URN_X,
        "identity": IDENTITY,
        "token_epoch": 0,
        "wait_for_available": False,
    }
    return {**base, **overrides}


def create(**overrides: Any) -> tuple[str, str]:
    result = FsxBackupProvider().create(props(**overrides))
    assert result.outs is not None
    return str(result.id), str(result.outs["client_request_token"])


def load(*held: HeldBackup, retired: tuple[str, ...] = ()) -> None:
    ownership = Ownership()
    ownership.load(held, retired)
    process_state().ownership = ownership


# -- the create ---------------------------------------------------------------------


def test_an_interrupted_create_is_found_again_under_its_token(fsx: FakeFsx) -> None:
    """The one case a found backup is taken: nothing in the stack holds or held it."""
    fsx.existing("backup-interrupted", token(0))
    assert create() == ("backup-interrupted", token(0))
    assert fsx.mutations() == [("CreateBackup", token(0))]


def test_a_backup_a_renamed_resource_holds_is_never_taken(fsx: FakeFsx) -> None:
    """`state rename x y`, then a new x: y holds x's old token and backup, whatever
    the order the engine registers them in (guard: Ownership.retired for held tokens)."""
    fsx.existing("backup-of-y", token(0))
    load(HeldBackup(KEY_Y, "backup-of-y", token(0), REGION))
    backup_id, used = create()
    assert backup_id != "backup-of-y" and used == token(1)
    # The held token is passed by without asking FSx.
    assert fsx.mutations() == [("CreateBackup", token(1))]


def test_a_token_only_the_ledger_remembers_is_never_used(fsx: FakeFsx) -> None:
    """`state move` or `state delete` of x while the program still declares it: the
    ledger remembers x's token (guard: Ownership.retired for the ledger's tokens)."""
    fsx.existing("backup-moved-away", token(0))
    load(retired=(token(0),))
    backup_id, used = create()
    assert backup_id != "backup-moved-away" and used == token(1)
    assert ("CreateBackup", token(0)) not in fsx.calls


def test_a_backup_held_under_another_token_is_passed_over(fsx: FakeFsx) -> None:
    """A found backup another resource holds (guard: the holder check after the request)."""
    fsx.existing("backup-held", token(0))
    load(HeldBackup(KEY_Y, "backup-held", "some-other-token", REGION))
    backup_id, used = create()
    assert backup_id != "backup-held" and used == token(1)


def test_a_replacements_old_self_is_never_taken(fsx: FakeFsx) -> None:
    """`pulumi up --replace x`: the same inputs derive x's own token; the old x holds
    it, so the replacement makes a new backup (guard: retired, for the same key too)."""
    fsx.existing("backup-old-x", token(0))
    load(HeldBackup(KEY_X, "backup-old-x", token(0), REGION))
    backup_id, _ = create()
    assert backup_id != "backup-old-x"


def test_the_walk_passes_deleted_backups(fsx: FakeFsx) -> None:
    fsx.existing("backup-deleted", token(0), "DELETED")
    assert create()[1] == token(1)


def test_a_users_token_that_the_stack_holds_is_refused(fsx: FakeFsx) -> None:
    load(HeldBackup(KEY_Y, "backup-of-y", "mine", REGION))
    with pytest.raises(FsxBackupError, match=r"client_request_token 'mine'.*y of this stack"):
        create(client_request_token="mine")
    assert fsx.mutations() == []


def test_two_resources_of_one_run_with_one_user_token_do_not_share_its_backup(
    fsx: FakeFsx,
) -> None:
    """x and y declare the same client_request_token: x takes the backup, y is refused
    (else dropping y later deletes x's backup)."""
    load()
    backup_id, _ = create(client_request_token="nightly-1")
    with pytest.raises(FsxBackupError, match=r"client_request_token 'nightly-1'.*x of this stack"):
        create(client_request_token="nightly-1", resource_urn=URN_Y)
    assert [c for c in fsx.mutations() if c[0] == "CreateBackup"] == [("CreateBackup", "nightly-1")]
    assert process_state().ownership.holder(backup_id) == "x"


def test_a_backup_another_resource_took_while_this_one_queued_is_refused(
    fsx: FakeFsx,
) -> None:
    """The token check before the queue is not enough: FSx answers y with the backup
    x's create of the same token made; y must not take it."""
    load()
    fsx.existing("backup-taken", "shared")
    process_state().ownership.take("backup-taken", None, "x")
    with pytest.raises(FsxBackupError, match=r"names backup backup-taken.*x of this stack"):
        create(client_request_token="shared", resource_urn=URN_Y)


def test_nothing_is_created_when_the_seed_was_left_out(fsx: FakeFsx) -> None:
    """--target of a backup without the seed: ownership was never loaded."""
    process_state().ownership = Ownership()
    with pytest.raises(FsxBackupError, match="--target or --exclude"):
        create()
    assert fsx.mutations() == []


def test_nothing_is_sent_once_the_engine_is_gone(
    fsx: FakeFsx, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("fsx_backup_provider.core.lifecycle.engine_gone", lambda: True)
    with pytest.raises(FsxBackupError, match="engine that asked for it is gone"):
        create()
    with pytest.raises(FsxBackupError, match="engine that asked for it is gone"):
        FsxBackupProvider().delete("backup-x", props())
    assert fsx.mutations() == []


# -- import ------------------------------------------------------------------------------


def test_an_import_of_a_backup_the_stack_holds_is_refused(fsx: FakeFsx) -> None:
    fsx.existing("backup-of-y", "t")
    load(HeldBackup(KEY_Y, "backup-of-y", "t", REGION))
    with pytest.raises(FsxBackupError, match="already holds it"):
        create(import_backup_id="backup-of-y")


def test_two_imports_of_one_backup_in_one_run_are_refused(fsx: FakeFsx) -> None:
    fsx.existing("backup-outside", "t")
    load()
    create(import_backup_id="backup-outside")
    with pytest.raises(FsxBackupError, match="resource x of this stack already holds it"):
        create(import_backup_id="backup-outside", resource_urn=URN_Y)


@pytest.mark.parametrize(
    ("backup", "declared"),
    [
        ({"FileSystem": {"FileSystemId": "fs-0123456789abcdef1"}}, {"file_system_id": FS}),
        (
            {"ResourceType": "VOLUME", "Volume": {"VolumeId": "fsvol-0123456789abcdef0"}},
            {"file_system_id": FS},
        ),
    ],
)
def test_an_import_of_another_sources_backup_is_refused(
    backup: dict[str, Any], declared: dict[str, Any]
) -> None:
    with pytest.raises(FsxBackupError, match="cannot import backup"):
        FsxBackupProvider().check_adopted({"BackupId": "backup-1", **backup}, declared)


@pytest.mark.parametrize(
    "backup",
    [
        {"SourceBackupId": "backup-other", "SourceBackupRegion": "us-east-1"},
        {"SourceBackupId": "backup-source", "SourceBackupRegion": "eu-west-1"},
    ],
)
def test_an_import_of_another_sources_copy_is_refused(backup: dict[str, Any]) -> None:
    declared = {"source_backup_id": "backup-source", "source_region": "us-east-1"}
    with pytest.raises(FsxBackupError, match="cannot import backup"):
        FsxBackupCopyProvider().check_adopted({"BackupId": "backup-1", **backup}, declared)


# -- another stack's backup: the fsx-backup:stack tag ------------------------------------

OTHER_STACK = f"proj/prod/{mark_of('fedcba9876543210fedcba9876543210.1', URN_X)}"


def test_a_create_with_tags_sends_the_stacks_tag_and_hides_it(fsx: FakeFsx) -> None:
    result = FsxBackupProvider().create(props(tags={"team": "a"}))
    assert result.outs is not None
    sent = fsx.sent_tags[str(result.outs["client_request_token"])]
    assert sent == {"team": "a", HOLDER_TAG: holder_value(IDENTITY, URN_X)}
    assert str(holder_value(IDENTITY, URN_X)).startswith("proj/dev/")
    # Never an output, so never diffed against the declared tags nor untagged.
    assert result.outs["tags_all"] == {"team": "a"} and result.outs["tags"] == {"team": "a"}


def test_a_backup_at_fsxs_tag_limit_gets_no_tag_of_the_providers(fsx: FakeFsx) -> None:
    """50 declared tags (FSx's limit): the provider's would be a 51st."""
    fifty = {f"k{i}": "v" for i in range(50)}
    _, used = create(tags=fifty)
    assert fsx.sent_tags[used] == fifty


def test_a_copy_fsx_made_with_copy_tags_is_not_this_stacks_copy(fsx: FakeFsx) -> None:
    """A copy made with CopyTags outside this provider (another tool, an older
    version) carries its source's tag, this stack's backup's: as a copy it is not
    this stack's, and its import is refused."""
    copy_urn = "urn:pulumi:dev::proj::pulumi-python:dynamic/fsx:FsxBackupCopy::c"
    backups_mark = {HOLDER_TAG: str(holder_value(IDENTITY, URN_X))}
    fsx.existing("backup-copy", "t", tags=backups_mark)
    fsx.backups["backup-copy"].update(SourceBackupId="backup-src", SourceBackupRegion=REGION)
    declared = {**props(resource_urn=copy_urn), "source_backup_id": "backup-src"}
    declared["import_backup_id"] = "backup-copy"
    with pytest.raises(FsxBackupError, match=r"backup-copy: its tag .* names this stack, but"):
        FsxBackupCopyProvider().create(declared)
    # The copy's own mark passes.
    own = {HOLDER_TAG: str(holder_value(IDENTITY, copy_urn))}
    fsx.existing("backup-own-copy", "t2", tags=own)
    fsx.backups["backup-own-copy"].update(SourceBackupId="backup-src", SourceBackupRegion=REGION)
    result = FsxBackupCopyProvider().create({**declared, "import_backup_id": "backup-own-copy"})
    assert result.id == "backup-own-copy"


def test_a_create_without_tags_sends_none(fsx: FakeFsx) -> None:
    """FSx copies the file system's tags (CopyTagsToBackups) only onto a backup
    created without tags: the provider's tag must not stop that."""
    _, used = create()
    assert fsx.sent_tags[used] in (None, {})


def test_a_copy_with_copy_tags_sends_its_own_stacks_tag_when_there_is_room(
    fsx: FakeFsx,
) -> None:
    """With copy_tags FSx copies the source's tag (another stack's, for a source
    that stack made): the copy sends its own, which wins, when the source's tags
    are known and leave room; an unknown source may leave none, so none is sent."""
    copy = {**props(), "source_backup_id": "backup-src", "copy_tags": True}
    provider = FsxBackupCopyProvider()
    assert provider.sent_tags(copy, {}) == {}
    process_state().known_tags["backup-src"] = {"team": "a"}
    assert provider.sent_tags(copy, {}) == {HOLDER_TAG: holder_value(IDENTITY, URN_X)}
    process_state().known_tags["backup-src"] = {f"k{i}": "v" for i in range(49)}
    assert provider.sent_tags(copy, {"extra": "1"}) == {"extra": "1"}
    assert provider.sent_tags({**copy, "copy_tags": False}, {}) == {}


def test_a_copy_that_sent_no_tag_takes_what_it_made_whatever_it_copied(fsx: FakeFsx) -> None:
    """A copy sent without the provider's tag (its source's tags unknown) gets the
    source's tag from FSx: that proves nothing, and the copy is the create's own,
    never passed over (that made a new copy per token, red team 2)."""
    copied = {HOLDER_TAG: str(holder_value(IDENTITY, URN_Y))}
    made: list[str] = []

    def copy_backup(*, client_request_token: str, **_: Any) -> dict[str, Any]:
        made.append(client_request_token)
        fsx.existing(f"backup-copy-{len(made)}", client_request_token, "CREATING", copied)
        return dict(fsx.by_token[client_request_token])

    fsx.copy_backup = copy_backup  # type: ignore[attr-defined]
    fsx.copies_of = lambda source: []  # type: ignore[attr-defined]
    copy_urn = "urn:pulumi:dev::proj::pulumi-python:dynamic/fsx:FsxBackupCopy::c"
    declared = {**props(resource_urn=copy_urn), "source_backup_id": "backup-src"}
    result = FsxBackupCopyProvider().create({**declared, "copy_tags": True})
    assert result.id == "backup-copy-1" and len(made) == 1


def test_a_tag_change_to_fsxs_limit_frees_the_providers_slot(fsx: FakeFsx) -> None:
    """49 declared tags and the provider's; a 50th declared one needs its slot."""
    forty_nine = {f"k{i}": "v" for i in range(49)}
    olds = {"tags_all": forty_nine}
    provider = FsxBackupProvider()
    to_set, to_remove = provider.tags_to_change(olds, {"tags": {**forty_nine, "k49": "v"}})
    assert to_set == {"k49": "v"} and to_remove == [HOLDER_TAG]
    to_set, to_remove = provider.tags_to_change(olds, {"tags": {**forty_nine, "k0": "w"}})
    assert to_set == {"k0": "w"} and to_remove == []


def test_a_users_token_naming_another_stacks_backup_is_refused(fsx: FakeFsx) -> None:
    """The same client_request_token in two stacks: FSx answers the second stack's
    create with the first's backup, which no state of this stack shows is held
    (guard: the tag check after the answer)."""
    fsx.existing("backup-of-prod", "nightly", tags={"team": "a", HOLDER_TAG: OTHER_STACK})
    with pytest.raises(FsxBackupError, match=r"made by stack 'prod' of project 'proj'") as err:
        create(client_request_token="nightly", tags={"team": "a"})
    assert f"--tag-keys {HOLDER_TAG}" in str(err.value)
    assert process_state().ownership.holder("backup-of-prod") is None


def test_a_users_token_fsx_refuses_for_other_tags_names_the_other_stacks(
    fsx: FakeFsx, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FSx's documented rule: the same token with other tags (another stack's
    fsx-backup:stack) is IncompatibleParameterError; the error says so, names the
    backups of the source other stacks made, and nothing is taken."""
    fsx.existing("backup-of-prod", "nightly", tags={HOLDER_TAG: OTHER_STACK})

    def refuse(**_: Any) -> dict[str, Any]:
        raise FsxApiError("CreateBackup", "IncompatibleParameterError", "token used before")

    monkeypatch.setattr(fsx, "create_backup", refuse)
    with pytest.raises(FsxBackupError) as err:
        create(client_request_token="nightly", tags={"team": "a"})
    message = str(err.value)
    assert "another stack sets the same client_request_token" in message
    assert "backup-of-prod (stack 'prod' of project 'proj')" in message
    assert process_state().ownership.holder("backup-of-prod") is None


def test_a_derived_token_naming_another_stacks_backup_is_passed_over(fsx: FakeFsx) -> None:
    fsx.existing("backup-of-prod", token(0), tags={HOLDER_TAG: OTHER_STACK})
    backup_id, used = create(tags={"team": "a"})
    assert backup_id != "backup-of-prod" and used == token(1)


def test_this_stacks_own_tagged_backup_is_found_again(fsx: FakeFsx) -> None:
    """An interrupted create with tags: its backup carries this stack's tag."""
    own = str(holder_value(IDENTITY, URN_X))
    fsx.existing("backup-interrupted", token(0), tags={"team": "a", HOLDER_TAG: own})
    assert create(tags={"team": "a"}) == ("backup-interrupted", token(0))


def test_an_import_of_another_stacks_backup_is_refused(fsx: FakeFsx) -> None:
    """`import_` of a backup another stack made and holds (guard: the tag check)."""
    fsx.existing("backup-of-prod", "t", tags={HOLDER_TAG: OTHER_STACK})
    with pytest.raises(
        FsxBackupError, match=r"cannot import backup backup-of-prod: it was made by"
    ):
        create(import_backup_id="backup-of-prod")
    assert process_state().ownership.holder("backup-of-prod") is None


def test_an_import_of_this_stacks_or_an_untagged_backup_is_taken(fsx: FakeFsx) -> None:
    fsx.existing("backup-mine", "t1", tags={HOLDER_TAG: str(holder_value(IDENTITY, URN_Y))})
    fsx.existing("backup-by-hand", "t2")
    assert create(import_backup_id="backup-mine")[0] == "backup-mine"
    assert create(import_backup_id="backup-by-hand", resource_urn=URN_Y)[0] == "backup-by-hand"


# -- delete ------------------------------------------------------------------------------


def test_delete_leaves_a_backup_a_create_of_this_run_took(fsx: FakeFsx) -> None:
    """The old resource of a `--replace`, or a renamed one's old name, deleted after
    a create of this run took its backup (guard: `taken` in base.delete)."""
    fsx.existing("backup-taken", token(0))
    assert create()[0] == "backup-taken"
    FsxBackupProvider().delete("backup-taken", props())
    assert ("DeleteBackup", "backup-taken") not in fsx.calls


def test_delete_deletes_its_own_backup(fsx: FakeFsx) -> None:
    """The baseline the guard above differs from."""
    fsx.existing("backup-mine", "t")
    FsxBackupProvider().delete("backup-mine", props())
    assert ("DeleteBackup", "backup-mine") in fsx.calls


# -- the seed: what the run starts from -----------------------------------------------------


def holders(read: bool = True, **extra: Any) -> dict[str, Any]:
    return {"read": read, "held": [], "retired": [], **extra}


def test_a_state_that_cannot_be_read_stops_the_run_before_any_change(fsx: FakeFsx) -> None:
    process_state().ownership = Ownership()
    olds = {"declared": ["a"], "base": "x", "identities": {"a": "x.1"}}
    result = FsxBackupSeedProvider().check(
        olds, {"declared": ["a"], "holders": holders(False, error="no backend")}
    )
    assert [f.property for f in result.failures] == ["holders"]
    assert "no backend" in result.failures[0].reason
    assert not process_state().ownership.loaded


def test_a_new_stack_has_nothing_to_hold(fsx: FakeFsx) -> None:
    process_state().ownership = Ownership()
    result = FsxBackupSeedProvider().check(
        {}, {"declared": ["a"], "holders": holders(False, error="failed to load checkpoint")}
    )
    assert result.failures == [] and process_state().ownership.loaded


def test_the_seed_loads_the_checkpoint_and_keeps_none_of_it(fsx: FakeFsx) -> None:
    process_state().ownership = Ownership()
    fsx.existing("backup-of-y", "ty")
    news = {
        "declared": ["a"],
        "holders": holders(held=[["ty", "backup-of-y", KEY_Y, REGION]], retired=["old"]),
    }
    result = FsxBackupSeedProvider().check({"declared": ["a"]}, news)
    assert result.failures == [] and "holders" not in result.inputs
    ownership = process_state().ownership
    assert ownership.retired("ty") == KEY_Y and ownership.retired("old") == "the stack"
    assert ownership.holder("backup-of-y") == KEY_Y


def test_a_backup_the_state_holds_but_fsx_lost_stops_the_up(fsx: FakeFsx) -> None:
    """After a destroy killed half way: the state names a backup that is gone
    (guard: BackupResourceProvider._ensure_exists in diff)."""
    olds = {**props(), "backup_id": "backup-gone", "client_request_token": token(0)}
    with pytest.raises(FsxBackupError, match=r"backup-gone .*is gone from FSx.*pulumi refresh"):
        FsxBackupProvider().diff("backup-gone", olds, props())
    fsx.existing("backup-here", token(1))
    olds["backup_id"] = "backup-here"
    assert FsxBackupProvider().diff("backup-here", olds, props()).changes is False


def test_a_preview_asks_fsx_nothing(fsx: FakeFsx) -> None:
    """No checkpoint loaded (a preview): the diff makes no call."""
    process_state().ownership = Ownership()
    FsxBackupProvider().diff("backup-gone", {**props(), "backup_id": "backup-gone"}, props())
    assert fsx.calls == []


def test_a_seed_copied_into_another_stack_draws_a_new_base() -> None:
    """A stack cloned by export and import: the clone's new resources must never derive
    the original's tokens (guard: identity._moved in next_identities)."""
    made = {"declared": ["a"], "base": "x", "revision": 2, "identities": {"a": "x.1"}}
    made["stack"] = "organization/proj/dev"
    same = next_identities(made, ["a", "b"], "organization/proj/dev")
    assert same["base"] == "x" and same["identities"] == {"a": "x.1", "b": "x.3"}
    cloned = next_identities(made, ["a", "b"], "organization/proj/clone")
    assert cloned["base"] != "x"
    assert not set(cloned["identities"].values()) & {"x.1", "x.3"}
    assert cloned["stack"] == "organization/proj/clone"
    diff = FsxBackupSeedProvider().diff("seed", made, {"declared": ["a"], "stack": "o/p/clone"})
    assert diff.changes


def test_a_seed_whose_ledger_is_gone_draws_a_new_base(monkeypatch: pytest.MonkeyPatch) -> None:
    """`state move x fsx-backup-ledger` (or `state delete`/`destroy --target` of the
    ledger), then x declared again: the stack no longer knows x's token was held, so
    the seed must renew every identity (red team A4, A4b, A4c)."""
    stack = "organization/proj/dev"
    made = {"declared": ["x"], "base": "b0", "revision": 1, "identities": {"x": "b0.1"}}
    made["stack"] = stack
    seed = FsxBackupSeedProvider()
    # The seed's check loads what it is handed into this process's Ownership.
    monkeypatch.setattr(process_state(), "ownership", Ownership())
    monkeypatch.setattr("fsx_backup_provider.providers.seed._warm_up", lambda: None)

    def checked(old_inputs: dict[str, Any], ledger: bool | None) -> dict[str, Any]:
        news: dict[str, Any] = {"declared": ["x"], "stack": stack}
        if ledger is not None:  # an up: the program read the checkpoint
            news["holders"] = {"read": True, "held": [], "retired": [], "ledger": ledger}
        return seed.check(old_inputs, news).inputs

    # An up that finds the ledger records it in the seed's inputs, with no update
    # (the engine keeps a same step's new inputs); a preview keeps what was seen.
    first = checked({"declared": ["x"], "stack": stack}, True)
    assert first["ledger_seen"] is True and first["ledger_lost"] is False
    assert not seed.diff("seed", made, first).changes
    assert checked(first, None)["ledger_seen"] is True
    # The ledger is gone: the seed updates, with a new base and no identity from before.
    gone = checked(first, False)
    assert gone["ledger_lost"] is True and gone["ledger_seen"] is False
    assert seed.diff("seed", made, gone).changes
    lost = next_identities(made, ["x"], stack, ledger_lost=True)
    assert lost["base"] != "b0" and lost["identities"]["x"] != "b0.1"
    # Back to normal once the new ledger is there.
    assert checked(gone, True)["ledger_lost"] is False
    # A first up killed before its ledger was made: nothing was seen, nothing is
    # lost, the identities stay, and the killed create is found by its token.
    never = checked({"declared": ["x"], "stack": stack}, False)
    assert never["ledger_lost"] is False
    assert next_identities(made, ["x"], stack)["identities"] == {"x": "b0.1"}


def test_a_mismatched_urn_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's URN and the program's differ: never mint a token under the wrong key."""
    monkeypatch.setattr("fsx_backup_provider.host.urns.engine_urn", lambda: URN_X + "-other")
    failures = FsxBackupProvider().check({}, props()).failures
    assert [f.property for f in failures] == ["resource_urn"]


def test_engine_gone_is_false_outside_a_provider_process() -> None:
    assert watchdog.engine_gone() is False
