"""What FsxBackup's and FsxBackupCopy's providers do alike, as one base class.

Each resource's provider says only what is its own: which inputs it has and
which of them replace the backup, its validation, its FSx request, its import
check and its outputs. Configuration, ownership and epochs, the diff skeleton,
tags in place, the create flow (token walk, gate, wait, FAILED),
refresh, delete and keeping secrets out of messages are here, once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from fsx_backup_provider.aws.errors import FsxApiError
from fsx_backup_provider.aws.fsx import Backup, FsxClient, client_for, tag_map
from fsx_backup_provider.aws.poller import BackupPoller
from fsx_backup_provider.aws.servicemodel import list_rule
from fsx_backup_provider.aws.session import Connection, stop_retrying_when
from fsx_backup_provider.core.claims import CreateRequest, claim
from fsx_backup_provider.core.config import ProviderSettings
from fsx_backup_provider.core.constants import DEFAULT_TAGS_CONFIG
from fsx_backup_provider.core.gates import Gate
from fsx_backup_provider.core.holder import (
    HOLDER_TAG,
    foreign_holder,
    holder_value,
    refusal,
    without_holder,
)
from fsx_backup_provider.core.lifecycle import (
    DEFAULT_CREATE_TIMEOUT,
    DEFAULT_DELETE_TIMEOUT,
    FsxBackupError,
    delete_and_wait,
    ensure_engine,
    gone,
    progress_reporter,
    settled,
    timeout_of,
    wait_available,
    whole_number,
)
from fsx_backup_provider.core.process import ProcessState, process_state
from fsx_backup_provider.core.tokens import derived_token
from fsx_backup_provider.host import diffs, urns
from fsx_backup_provider.host.cancel import on_engine_cancel
from fsx_backup_provider.host.parallelism import widen_provider_pool
from fsx_backup_provider.host.watchdog import engine_gone, start_watchdog
from fsx_backup_provider.providers.inputs import (
    COMMON_INPUT_KEYS,
    GIVEN_KEY,
    KNOBS,
    creation_time,
    declared_tags,
    given_inputs,
    key_of,
    known,
    replace_on_changes,
    secret_names,
)
from fsx_backup_provider.providers.regions import region_failures
from fsx_backup_provider.providers.validation import Failure, is_unknown, redact


def _before_waiting() -> None:
    """Before an operation that waits on FSx (once per process; both fail soft).

    Lift the host's 4-worker limit, and let the engine's Ctrl-C end the waits;
    check and diff, all a preview does, never wait, and pay for neither.
    """
    widen_provider_pool()
    on_engine_cancel(process_state().cancel)


def configure_process(req: ConfigureRequest) -> None:
    """What every provider of this package does when the host configures it.

    The SDK configures each unpickled provider once, before its first
    operation (the seed's before any backup's): the moment to watch for the
    engine's death (the process must not outlive it, nor retry a call after
    it) and to read the stack's AWS settings, which the seed's check needs too.
    """
    start_watchdog()
    stop_retrying_when(engine_gone)
    process_state().settings = ProviderSettings.from_config(req.config.get)


class BackupResourceProvider(ResourceProvider):
    """check/diff/create/read/update/delete for one FSx backup; subclasses fill the gaps."""

    # The provider captures no secret (credentials come from boto3's chain in
    # the provider process), so its pickled form need not be encrypted.
    serialize_as_secret_always = False

    # The resource's own inputs, and those of them whose outputs of the same
    # name mean something else (kept apart as given).
    OWN_INPUT_KEYS: ClassVar[tuple[str, ...]] = ()
    DECLARED_APART: ClassVar[tuple[str, ...]] = ("region", "client_request_token")
    # Inputs the engine may pass from an older version of the resource.
    LEGACY_INPUT_KEYS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def input_keys(cls) -> tuple[str, ...]:
        return (*cls.OWN_INPUT_KEYS, *COMMON_INPUT_KEYS)

    def configure(self, req: ConfigureRequest) -> None:
        configure_process(req)

    # -- what a subclass says ---------------------------------------------

    def validate(
        self, news: Mapping[str, Any], default_tags: Mapping[str, str], secrets: frozenset[str]
    ) -> list[Failure]:
        raise NotImplementedError

    def own_replaces(
        self, olds: Mapping[str, Any], news: Mapping[str, Any], given: Mapping[str, Any]
    ) -> list[str]:
        """The resource's own inputs whose change replaces the backup (unknown ones included)."""
        raise NotImplementedError

    def refreshed_inputs(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        """Inputs a refresh takes from what FSx says now rather than from the state."""
        return {}

    def request(
        self,
        state: ProcessState,
        client: FsxClient,
        props: Mapping[str, Any],
        tags: Mapping[str, str],
    ) -> tuple[CreateRequest, Gate]:
        """The resource's FSx request under a token, and the Gate it goes through."""
        raise NotImplementedError

    def token_binding(self, props: Mapping[str, Any], region: str) -> tuple[str, ...]:
        """What a change of replaces the backup, hashed into the token besides the identity."""
        raise NotImplementedError

    def check_adopted(self, backup: Backup, props: Mapping[str, Any]) -> None:
        """Raise FsxBackupError if an imported backup is not what the resource declares."""
        raise NotImplementedError

    def own_outputs(self, backup: Backup, props: Mapping[str, Any]) -> dict[str, Any]:
        """The resource's own outputs from the backup's description."""
        raise NotImplementedError

    def secret_values(self, props: Mapping[str, Any]) -> list[str]:
        """Values of secret inputs as they may appear in text (FSx quotes what it is sent)."""
        names = secret_names(props)
        values = [
            str(props[k])
            for k in (*self.OWN_INPUT_KEYS, "client_request_token")
            if k in names and props.get(k) and not isinstance(props.get(k), Mapping)
        ]
        tags = {
            **(process_state().settings.default_tags if DEFAULT_TAGS_CONFIG in names else {}),
            **(declared_tags(props.get("tags")) if "tags" in names else {}),
        }
        return values + [str(v) for pair in tags.items() for v in pair]

    # -- connection -------------------------------------------------------

    @staticmethod
    def connection(props: Mapping[str, Any]) -> Connection:
        settings = process_state().settings
        region = props.get("region") if known(props.get("region")) else None
        return Connection(
            region=region or settings.region,
            profile=settings.profile,
            endpoint_url=settings.endpoint_url,
        )

    def client(self, props: Mapping[str, Any]) -> FsxClient:
        """The FSx client for the resource's Region; a setup failure (no Region, an
        unknown profile, a bad endpoint) is the resource's error, said once."""
        try:
            return client_for(self.connection(props))
        except FsxApiError as error:
            raise FsxBackupError(str(error)) from None

    def poller(self, props: Mapping[str, Any]) -> BackupPoller:
        try:
            return process_state().poller(self.connection(props))
        except FsxApiError as error:
            raise FsxBackupError(str(error)) from None

    @staticmethod
    def desired_tags_all(props: Mapping[str, Any]) -> dict[str, str]:
        return {**process_state().settings.default_tags, **declared_tags(props.get("tags"))}

    def tags_on_create(
        self, props: Mapping[str, Any], tags: Mapping[str, str]
    ) -> dict[str, str] | None:
        """The tags FSx gives the new backup, or None if this process cannot know them."""
        return dict(tags)

    def sent_tags(self, props: Mapping[str, Any], tags: Mapping[str, str]) -> dict[str, str]:
        """The tags a create sends: the declared ones and, when the backup gets tags
        anyway and there is room under FSx's limit, the stack's fsx-backup:stack
        tag (holder.py). A CreateBackup with no tags is left so: FSx then copies
        the file system's tags onto it."""
        value = holder_value(props.get("identity"), props.get("resource_urn"))
        on_create = self.tags_on_create(props, tags)
        if value is None or on_create is None:
            return dict(tags)
        count = len(without_holder(on_create))
        if count == 0 or count >= list_rule("Tags").max_items:
            return dict(tags)
        return {**tags, HOLDER_TAG: value}

    # -- check / diff -----------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        # The engine diffs a resource right after checking it: from its first
        # check on, the process tells the engine what each diff found (fails soft).
        diffs.install()
        urns.install()
        state = process_state()
        key = key_of(news)
        secrets = secret_names(news)
        failures = self.validate(news, state.settings.default_tags, secrets)
        if not state.settings.skip_region_validation:
            failed = frozenset(f.property for f in failures)
            failures += region_failures(news, state.settings.region, secrets, failed)
        engine_urn = urns.engine_urn()
        declared_urn = news.get("resource_urn")
        if engine_urn and isinstance(declared_urn, str) and declared_urn != engine_urn:
            # Keyed under the wrong URN, this resource would derive another's
            # token, or a new one: refuse rather than guess (host/urns.py).
            failures.append(
                Failure(
                    "resource_urn",
                    f"the program computed this resource's URN as {declared_urn!r}, but the "
                    f"engine registers it as {engine_urn!r}; its backup's token is derived from "
                    "it, so nothing is created or changed. Please report this with your pulumi "
                    "version: the provider's URN rule differs from the engine's.",
                    "urn",
                )
            )
        inputs = {k: v for k, v in news.items() if k not in self.LEGACY_INPUT_KEYS}
        old_epoch = (whole_number(olds.get("token_epoch")) or 0) if olds else None
        inputs["token_epoch"] = state.ownership.epoch(key, key_of(olds) or key, old_epoch)
        return CheckResult(inputs, [CheckFailure(f.property, f.reason) for f in failures])

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        ownership = process_state().ownership
        # The old outputs name the backup and token this resource holds: no
        # create of this run may take them (ownership.py).
        ownership.saw(
            key_of(news) or key_of(olds), token=olds.get("client_request_token"), backup_id=id_
        )
        if ownership.loaded:
            # At `up` (a preview loads nothing and asks FSx nothing).
            self._ensure_exists(id_, olds)
        self.remember(olds)
        given = given_inputs(olds)
        replaces = self.own_replaces(olds, news, given)
        new_region = news.get("region")
        if is_unknown(new_region):
            replaces.append("region")
        else:
            effective = new_region or process_state().settings.region
            if effective and olds.get("region") and effective != olds.get("region"):
                replaces.append("region")
        new_token = news.get("client_request_token")
        if is_unknown(new_token) or new_token != given.get("client_request_token"):
            # A token names one backup: another token is another backup.
            replaces.append("client_request_token")
        if olds.get("lifecycle") == "FAILED":
            # A refresh found the backup FAILED (say it was created without
            # waiting): it can never become usable, so up replaces it.
            replaces.append("lifecycle")
        # Inputs that change nothing in FSx by themselves, for replace_on_changes.
        changed = [k for k in KNOBS if k in olds and olds.get(k) != news.get(k)]
        tags_changed = is_unknown(news.get("tags")) or self.tags_to_change(olds, news) != ({}, [])
        if tags_changed:
            changed.append("tags")
        replaces += replace_on_changes(news.get("replace_on_changes"), changed, replaces)
        changes = bool(replaces) or tags_changed
        # What the plan shows and names (diffReasons): only what the user
        # changed, never the provider's own inputs (host/diffs.py).
        if changes:
            # A change of aws:defaultTags alone changes tags_all, not the tags input.
            diffs.note([*replaces, *changed], replaces, unless_input_changed={"tags": "tags_all"})
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=False)

    def _ensure_exists(self, id_: str, olds: Mapping[str, Any]) -> None:
        """Refuse to go on from a state that names a backup FSx no longer has.

        A destroy cut short (the engine killed), or a delete outside Pulumi,
        leaves the state holding backups that are gone; an `up` that went on
        would report them as there. One lookup per backup, batched with the
        others' by the poller. `pulumi up --refresh` drops them first, and
        makes them again.
        """
        try:
            backup = self.poller(olds).lookup(id_)
        except FsxApiError as error:
            raise FsxBackupError(
                f"could not check that backup {id_} still exists: {error}"
            ) from None
        if gone(backup):
            raise FsxBackupError(
                f"backup {id_} of this resource is gone from FSx: it was deleted outside "
                "Pulumi, or by a destroy that was interrupted. Nothing was changed. Run "
                "`pulumi refresh` (or `pulumi up --refresh`; with the fsx-backup CLI, "
                "`up --refresh`) to drop it from the state; the next `up` makes a new one."
            )

    def tags_to_change(
        self, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> tuple[dict[str, str], list[str]]:
        """Tags to set and keys to remove to bring the backup to the declared tags.

        Tags FSx put there itself are not fought over: all of them on a backup
        declared with no tags (copied from a source with CopyTagsToBackups),
        and the keys listed in the `copied_tags` output (a copy's source tags).
        """
        desired = self.desired_tags_all(news)
        current = declared_tags(olds.get("tags_all"))
        if not desired and olds.get("implicit_tags"):
            return {}, []
        copied = set(olds.get("copied_tags") or [])
        to_set = {k: v for k, v in desired.items() if current.get(k) != v}
        to_remove = sorted(k for k in current if k not in desired and k not in copied)
        after = {k for k in {**current, **to_set} if k not in to_remove}
        if to_set and len(after) >= list_rule("Tags").max_items:
            # The provider's fsx-backup:stack tag yields its slot to the user's
            # (holder.py); untagging a key a backup does not have is no error.
            to_remove.append(HOLDER_TAG)
        return to_set, to_remove

    def remember(self, outputs: Mapping[str, Any]) -> None:
        """Note what the process may need to know about a backup of the stack (its tags)."""
        backup_id = outputs.get("backup_id")
        if isinstance(backup_id, str) and isinstance(outputs.get("tags_all"), Mapping):
            process_state().known_tags[backup_id] = dict(outputs["tags_all"])

    # -- create -----------------------------------------------------------

    def create(self, props: dict[str, Any]) -> CreateResult:
        try:
            result = self._create(props)
        except FsxBackupError as error:
            # FSx's own messages quote what they were sent: keep secrets out.
            raise FsxBackupError(redact(str(error), self.secret_values(props))) from None
        self.remember(result.outs or {})
        return result

    def _create(self, props: dict[str, Any]) -> CreateResult:
        _before_waiting()
        state = process_state()
        client = self.client(props)
        poller = self.poller(props)
        tags = self.desired_tags_all(props)
        deadline = time.monotonic() + timeout_of(
            props, "create_timeout_seconds", DEFAULT_CREATE_TIMEOUT
        )
        progress = progress_reporter(props.get("resource_urn"))
        adopt = props.get("import_backup_id")
        token: str | None
        if adopt:
            backup, token = self._adopt(state, poller, str(adopt), props), None
            if props.get("wait_for_available") is not False and not settled(backup):
                backup = wait_available(poller, backup, None, deadline, progress)
        else:
            sent = self.sent_tags(props, tags)
            request, gate = self.request(state, client, props, sent)
            request.identity = props.get("identity")
            request.marked = HOLDER_TAG in sent
            waits = props.get("wait_for_available") is not False
            request.waits_for_settle = waits
            backup, token = claim(state, request, gate, poller, deadline)
            try:
                if waits and not settled(backup):
                    backup = wait_available(poller, backup, token, deadline, progress)
            finally:
                # Creates queued behind this one go as soon as it settles;
                # if this wait failed, they follow the backup themselves.
                (gate.settled if settled(backup) else gate.unwatched)(backup["BackupId"])
        if backup["Lifecycle"] == "FAILED" and token is not None:
            self._remove_failed(client, poller, backup, token, props)
        outputs = self.outputs(backup, props, client.region, self._given(props))
        outputs["client_request_token"] = token
        outputs["implicit_tags"] = not tags
        return CreateResult(backup["BackupId"], outputs)

    def tokens(self, props: Mapping[str, Any], region: str) -> Iterator[str]:
        user_token = props.get("client_request_token")
        if user_token:
            # A token the user chose is used exactly as given, like FSx's own.
            yield str(user_token)
            return
        identity = str(props.get("identity") or "")
        key = key_of(props) or ""
        binding = self.token_binding(props, region)
        epoch = str(whole_number(props.get("token_epoch")) or 0)
        generation = 0
        while True:
            yield derived_token(identity, key, *binding, epoch, generation=generation)
            generation += 1

    def _adopt(
        self,
        state: ProcessState,
        poller: BackupPoller,
        backup_id: str,
        props: Mapping[str, Any],
    ) -> Backup:
        """An imported backup: it must exist, be what is declared, and be no one else's."""
        try:
            backup = poller.lookup(backup_id)
        except FsxApiError as error:
            raise FsxBackupError(f"cannot import backup {backup_id}: {error}") from None
        if backup is None or backup.get("Lifecycle") == "DELETED":
            raise FsxBackupError(f"cannot import backup {backup_id}: FSx has no such backup")
        self.check_adopted(backup, props)
        made_by = foreign_holder(tag_map(backup), props.get("identity"), props.get("resource_urn"))
        if made_by is not None:
            raise FsxBackupError(
                f"cannot import backup {backup_id}: "
                + refusal(made_by, backup.get("ResourceARN"), props.get("resource_urn"))
            )
        urn = props.get("resource_urn")
        name = urn.rsplit("::", 1)[-1] if isinstance(urn, str) else ""
        holder = state.ownership.take(backup_id, key=name)
        if holder is not None:
            raise FsxBackupError(
                f"cannot import backup {backup_id}: resource {holder} of this stack already "
                "holds it. Two resources holding one backup would delete it from under each other."
            )
        return backup

    def _remove_failed(
        self,
        client: FsxClient,
        poller: BackupPoller,
        backup: Backup,
        token: str,
        props: Mapping[str, Any],
    ) -> None:
        backup_id = backup["BackupId"]
        message = (backup.get("FailureDetails") or {}).get("Message") or "no reason given"
        delete_and_wait(
            lambda: client.delete_backup(backup_id),
            poller,
            backup_id,
            DEFAULT_DELETE_TIMEOUT,
            props.get("resource_urn"),
            process_state().cancelled,
        )
        raise FsxBackupError(
            f"backup {backup_id} (token {token!r}) FAILED: {message}. The failed backup was "
            "deleted; the next `up` (`pulumi up`, `fsx-backup up` or `rotate`) makes a new one."
        )

    # -- read / update ----------------------------------------------------

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        _before_waiting()
        client = self.client(props)
        try:
            backup = self.poller(props).lookup(id_)
        except FsxApiError as error:
            raise FsxBackupError(f"could not read backup {id_}: {error}") from None
        if backup is None or backup.get("Lifecycle") == "DELETED":
            return ReadResult(None, {})
        given = given_inputs(props)
        outputs = self.outputs(backup, props, client.region, given)
        outputs["client_request_token"] = props.get("client_request_token")
        # On refresh the state says whether the tags were left to FSx; on an
        # import nothing was created by us, so it follows what is declared.
        if "implicit_tags" in props:
            outputs["implicit_tags"] = bool(props["implicit_tags"])
        else:
            outputs["implicit_tags"] = not self.desired_tags_all(props)
        self.remember(outputs)
        # The inputs as declared, but for what FSx says now: what it was made
        # from and (unless they were left to FSx) its tags. A refresh that
        # found drift then shows only that drift.
        inputs = {
            k: props.get(k)
            for k in self.input_keys()
            if k in props and k not in self.DECLARED_APART
        }
        inputs.update(given)
        inputs.update(self.refreshed_inputs(outputs))
        if not outputs["implicit_tags"]:
            copied = set(outputs.get("copied_tags") or [])
            tags = {k: v for k, v in (outputs["tags"] or {}).items() if k not in copied}
            inputs["tags"] = tags or None
        else:
            # Declared with no tags: those FSx put there (a copy's source's,
            # possibly its secrets, which a read cannot mark) are no input.
            inputs["tags"] = None
        return ReadResult(id_, outputs, {k: v for k, v in inputs.items() if v is not None})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        _before_waiting()
        client = self.client(news)
        to_set, to_remove = self.tags_to_change(olds, news)
        arn = olds.get("arn")
        if not arn:
            raise FsxBackupError(f"backup {id_} has no ARN in the state; run `pulumi refresh`")
        if to_set or to_remove:
            ensure_engine(f"the retagging of backup {id_}")
        try:
            if to_remove:
                client.untag_resource(arn, to_remove)
            if to_set:
                client.tag_resource(arn, to_set)
            backup = client.describe_backups([id_]).get(id_)
        except FsxApiError as error:
            raise FsxBackupError(
                f"could not update the tags of backup {id_}: {error}. Tags already changed "
                "stay changed; the next `pulumi up` finishes the job."
            ) from None
        if backup is None:
            raise FsxBackupError(
                f"backup {id_} no longer exists in FSx; run `pulumi refresh` to drop it "
                "from the state, then `pulumi up` to create it again"
            )
        outputs = self.outputs(backup, news, client.region, self._given(news))
        outputs["client_request_token"] = olds.get("client_request_token")
        outputs["implicit_tags"] = bool(olds.get("implicit_tags")) and not self.desired_tags_all(
            news
        )
        if "copied_tags" in olds:
            outputs["copied_tags"] = olds["copied_tags"]
        self.remember(outputs)
        return UpdateResult(outputs)

    # -- delete -----------------------------------------------------------

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _before_waiting()
        state = process_state()
        if state.ownership.taken(id_):
            # A create of this run took this backup (`--replace`, or a resource
            # renamed in the state whose old name is declared again): the
            # state keeps it under the new resource, so deleting "the old
            # one" would delete the one kept.
            return
        client = self.client(props)
        delete_and_wait(
            lambda: client.delete_backup(id_),
            self.poller(props),
            id_,
            timeout_of(props, "delete_timeout_seconds", DEFAULT_DELETE_TIMEOUT),
            props.get("resource_urn"),
            process_state().cancelled,
        )

    # -- outputs ----------------------------------------------------------

    def _given(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {k: inputs[k] for k in self.DECLARED_APART if inputs.get(k) is not None}

    def outputs(
        self, backup: Backup, props: Mapping[str, Any], region: str, given: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The outputs of `backup`; `props` are the inputs (or, on refresh, the old outputs)."""
        tags_all = without_holder(tag_map(backup))
        defaults = process_state().settings.default_tags
        outputs = {key: props.get(key) for key in self.input_keys() if key in props}
        outputs[GIVEN_KEY] = dict(given)
        outputs.update(
            backup_id=backup["BackupId"],
            arn=backup.get("ResourceARN"),
            tags={k: v for k, v in tags_all.items() if defaults.get(k) != v},
            tags_all=tags_all,
            lifecycle=backup.get("Lifecycle"),
            type=backup.get("Type"),
            resource_type=backup.get("ResourceType"),
            owner_id=backup.get("OwnerId") or (backup.get("FileSystem") or {}).get("OwnerId"),
            kms_key_id=backup.get("KmsKeyId"),
            creation_time=creation_time(backup),
            region=region,
        )
        outputs.update(self.own_outputs(backup, props))
        return outputs
