"""The dynamic ResourceProvider behind FsxBackup.

The engine calls these methods in one provider process per program run
(`python -m pulumi.dynamic`), on a pool of threads. What every resource of
this provider does alike (ownership, queueing, the token walk, waiting,
deleting) is in lifecycle.py; this module holds what is FsxBackup's own:
CreateBackup's request, the diff rules and the outputs.

Its class path, `fsx_backup_provider.provider.FsxBackupProvider`, is pickled
into every state that holds an FsxBackup: it must keep resolving.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

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

from fsx_backup_provider.config import ProviderSettings
from fsx_backup_provider.constants import DEFAULT_TAGS_CONFIG, TOKEN_PREFIX
from fsx_backup_provider.fsx import Backup, Connection, FsxApiError, FsxClient, client_for, tag_map
from fsx_backup_provider.host.parallelism import widen_provider_pool
from fsx_backup_provider.identity import scope_key
from fsx_backup_provider.lifecycle import (
    DEFAULT_CREATE_TIMEOUT,
    DEFAULT_DELETE_TIMEOUT,
    CreateRequest,
    FsxBackupError,
    ProcessState,
    claim,
    confirm,
    delete_and_wait,
    process_state,
    progress_reporter,
    settled,
    timeout_of,
    wait_available,
    whole_number,
)
from fsx_backup_provider.poller import BackupPoller
from fsx_backup_provider.tokens import derived_token
from fsx_backup_provider.validation import is_unknown, redact, shown, validate_inputs

__all__ = ["FsxBackupError", "FsxBackupProvider"]

INPUT_KEYS = (
    "file_system_id",
    "volume_id",
    "tags",
    "client_request_token",
    "wait_for_available",
    "create_timeout_seconds",
    "delete_timeout_seconds",
    "region",
    "import_backup_id",
    "resource_urn",
    "identity",
    "token_epoch",
    "replace_on_changes",
    "secret_inputs",
)
# Inputs whose names are also outputs with another meaning (the output holds
# the resolved Region and the token used): what was given is kept apart, so
# that refresh gives back the inputs as declared (see read()).
GIVEN_KEY = "given"
GIVEN_INPUTS = ("region", "client_request_token")
# Inputs a change of which replaces the backup, by the provider's own rules.
SOURCE_KEYS = ("file_system_id", "volume_id")
# Inputs the engine may pass that are no longer FsxBackup's: 0.1.0's token scope.
LEGACY_INPUT_KEYS = ("token_scope",)
_DERIVED_TOKEN = re.compile(rf"{TOKEN_PREFIX}-[0-9a-f]{{32}}-g\d+")


def _known(value: Any) -> bool:
    return value is not None and not is_unknown(value)


def _declared_tags(tags: Any) -> dict[str, str]:
    return dict(tags) if isinstance(tags, Mapping) else {}


def _secrets(props: Mapping[str, Any]) -> frozenset[str]:
    names = props.get("secret_inputs")
    return frozenset(names) if isinstance(names, list) else frozenset()


def _source_of(props: Mapping[str, Any]) -> str:
    key = "volume_id" if props.get("volume_id") else "file_system_id"
    noun = "volume" if key == "volume_id" else "file system"
    return f"{noun} {shown(props.get(key), key in _secrets(props))}"


def _key_of(props: Mapping[str, Any]) -> str | None:
    urn = props.get("resource_urn")
    return scope_key(urn) if isinstance(urn, str) and not is_unknown(urn) else None


def given_inputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The region and client_request_token inputs a resource was created with.

    States made by 0.1.0 did not keep them apart: a token that is not of the
    derived form was given by the user; the region input is taken as unset.
    """
    given = outputs.get(GIVEN_KEY)
    if isinstance(given, Mapping):
        return {k: v for k, v in given.items() if k in GIVEN_INPUTS and v is not None}
    token = outputs.get("client_request_token")
    if isinstance(token, str) and not _DERIVED_TOKEN.fullmatch(token):
        return {"client_request_token": token}
    return {}


class FsxBackupProvider(ResourceProvider):
    """check/diff/create/read/update/delete for one FSx backup."""

    # The provider captures no secret (credentials come from boto3's chain in
    # the provider process), so its pickled form need not be encrypted.
    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        # The SDK configures each unpickled provider once, before its first
        # operation: the moment to lift the host's 4-worker limit.
        widen_provider_pool()
        process_state().settings = ProviderSettings.from_config(req.config.get)

    # -- connection -------------------------------------------------------

    @staticmethod
    def _connection(props: Mapping[str, Any]) -> Connection:
        settings = process_state().settings
        region = props.get("region") if _known(props.get("region")) else None
        return Connection(
            region=region or settings.region,
            profile=settings.profile,
            endpoint_url=settings.endpoint_url,
        )

    def _client(self, props: Mapping[str, Any]) -> FsxClient:
        return client_for(self._connection(props))

    @staticmethod
    def _desired_tags_all(props: Mapping[str, Any]) -> dict[str, str]:
        return {**process_state().settings.default_tags, **_declared_tags(props.get("tags"))}

    # -- check / diff -----------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        state = process_state()
        key = _key_of(news)
        state.ownership.saw(key)
        secrets = _secrets(news)
        failures = validate_inputs(
            news, state.settings.default_tags, secrets, DEFAULT_TAGS_CONFIG in secrets
        )
        inputs = {k: v for k, v in news.items() if k not in LEGACY_INPUT_KEYS}
        old_epoch = (whole_number(olds.get("token_epoch")) or 0) if olds else None
        inputs["token_epoch"] = state.ownership.epoch(key, _key_of(olds) or key, old_epoch)
        return CheckResult(inputs, [CheckFailure(f.property, f.reason) for f in failures])

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # The old outputs name the backup and token this resource holds: no
        # create of this run may take them (lifecycle.Ownership).
        process_state().ownership.saw(
            _key_of(news) or _key_of(olds), token=olds.get("client_request_token"), backup_id=id_
        )
        replaces = [
            key
            for key in SOURCE_KEYS
            if is_unknown(news.get(key)) or olds.get(key) != news.get(key)
        ]
        new_region = news.get("region")
        if is_unknown(new_region):
            replaces.append("region")
        else:
            effective = new_region or process_state().settings.region
            if effective and olds.get("region") and effective != olds.get("region"):
                replaces.append("region")
        new_token = news.get("client_request_token")
        if is_unknown(new_token) or new_token != given_inputs(olds).get("client_request_token"):
            # A token names one backup: another token is another backup.
            replaces.append("client_request_token")
        if olds.get("lifecycle") == "FAILED":
            # A refresh found the backup FAILED (say it was created without
            # waiting): it can never become usable, so up replaces it.
            replaces.append("lifecycle")
        changed_keys = self._changed_inputs(olds, news)
        replaces += _replace_on_changes(news.get("replace_on_changes"), changed_keys, replaces)
        changed = bool(replaces) or "tags" in changed_keys
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=False)

    def _changed_inputs(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        """Inputs whose change FSx would see, for replace_on_changes and the tag update."""
        changed = [k for k in SOURCE_KEYS if olds.get(k) != news.get(k)]
        if is_unknown(news.get("tags")) or self._tags_to_change(olds, news) != ({}, []):
            changed.append("tags")
        for key in ("wait_for_available", "create_timeout_seconds", "delete_timeout_seconds"):
            if key in olds and olds.get(key) != news.get(key):
                changed.append(key)
        return changed

    def _tags_to_change(
        self, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> tuple[dict[str, str], list[str]]:
        """Tags to set and keys to remove to bring the backup to the declared tags.

        A backup declared with no tags takes whatever FSx copied onto it from a
        source with CopyTagsToBackups; those are not fought over.
        """
        desired = self._desired_tags_all(news)
        current = _declared_tags(olds.get("tags_all"))
        if not desired and olds.get("implicit_tags"):
            return {}, []
        to_set = {k: v for k, v in desired.items() if current.get(k) != v}
        to_remove = sorted(k for k in current if k not in desired)
        return to_set, to_remove

    # -- create -----------------------------------------------------------

    def create(self, props: dict[str, Any]) -> CreateResult:
        try:
            return self._create(props)
        except FsxBackupError as error:
            # FSx's own messages quote what they were sent: keep secrets out.
            raise FsxBackupError(redact(str(error), self._secret_values(props))) from None

    def _secret_values(self, props: Mapping[str, Any]) -> list[str]:
        """The values of secret inputs (and secret default tags) as they may appear in text."""
        names = _secrets(props)
        values = [
            str(props[k])
            for k in (*SOURCE_KEYS, "client_request_token")
            if k in names and props.get(k)
        ]
        tags = {
            **(process_state().settings.default_tags if DEFAULT_TAGS_CONFIG in names else {}),
            **(_declared_tags(props.get("tags")) if "tags" in names else {}),
        }
        return values + [str(v) for pair in tags.items() for v in pair]

    def _create(self, props: dict[str, Any]) -> CreateResult:
        state = process_state()
        client = self._client(props)
        poller = state.poller(self._connection(props))
        tags = self._desired_tags_all(props)
        deadline = time.monotonic() + timeout_of(
            props, "create_timeout_seconds", DEFAULT_CREATE_TIMEOUT
        )
        progress = progress_reporter(props.get("resource_urn"))
        adopt = props.get("import_backup_id")
        token: str | None
        if adopt:
            backup, token = self._adopt(state, poller, str(adopt), props, deadline), None
            if props.get("wait_for_available") is not False and not settled(backup):
                backup = wait_available(poller, backup, None, deadline, progress)
        else:
            backup, token = self._create_backup(state, client, poller, props, tags, deadline)
        if backup["Lifecycle"] == "FAILED" and token is not None:
            self._remove_failed(client, poller, backup, token, props)
        outputs = self._outputs(backup, props, client.region, self._given(props))
        outputs["client_request_token"] = token
        outputs["implicit_tags"] = not tags
        return CreateResult(backup["BackupId"], outputs)

    def _adopt(
        self,
        state: ProcessState,
        poller: BackupPoller,
        backup_id: str,
        props: Mapping[str, Any],
        deadline: float,
    ) -> Backup:
        """An imported backup: it must exist, be of the declared source, and be no one else's."""
        try:
            backup = poller.lookup(backup_id)
        except FsxApiError as error:
            raise FsxBackupError(f"cannot import backup {backup_id}: {error}") from None
        if backup is None or backup.get("Lifecycle") == "DELETED":
            raise FsxBackupError(f"cannot import backup {backup_id}: FSx has no such backup")
        if backup.get("ResourceType") == "VOLUME" or backup.get("Volume"):
            actual = ("volume_id", (backup.get("Volume") or {}).get("VolumeId"))
        else:
            actual = ("file_system_id", (backup.get("FileSystem") or {}).get("FileSystemId"))
        key = "volume_id" if props.get("volume_id") else "file_system_id"
        declared = (key, props.get(key))
        if actual != declared:
            secret = key in _secrets(props)
            raise FsxBackupError(
                f"cannot import backup {backup_id}: it is a backup of {actual[0]} "
                f"{shown(actual[1], secret)}, but this FsxBackup declares {declared[0]} "
                f"{shown(declared[1], secret)}. Declare the backup's own source, or import a "
                "backup of the declared one."
            )
        state.ownership.settle(deadline)
        holder = state.ownership.holder(backup_id=backup_id)
        if holder is not None:
            raise FsxBackupError(
                f"cannot import backup {backup_id}: resource {holder} of this stack already "
                "holds it. Two resources holding one backup would delete it from under each other."
            )
        state.ownership.take(backup_id)
        return backup

    def _tokens(self, props: Mapping[str, Any], region: str) -> Iterator[str]:
        user_token = props.get("client_request_token")
        if user_token:
            # A token the user chose is used exactly as given, like FSx's own.
            yield str(user_token)
            return
        identity = str(props.get("identity") or "")
        key = _key_of(props) or ""
        source = str(props.get("file_system_id") or props.get("volume_id"))
        epoch = str(whole_number(props.get("token_epoch")) or 0)
        generation = 0
        while True:
            yield derived_token(identity, key, source, region, epoch, generation=generation)
            generation += 1

    def _create_backup(
        self,
        state: ProcessState,
        client: FsxClient,
        poller: BackupPoller,
        props: Mapping[str, Any],
        tags: Mapping[str, str],
        deadline: float,
    ) -> tuple[Backup, str]:
        """CreateBackup under the first token that is free or names this resource's own backup.

        Backups of one source go one at a time through the source's Gate: FSx
        refuses a second while one is in progress, so the rest wait here,
        through the poller, instead of asking FSx every second.
        """
        source_id = str(props.get("file_system_id") or props.get("volume_id"))
        request = CreateRequest(
            urn=props.get("resource_urn"),
            key=_key_of(props) or "",
            what=f"a backup of {_source_of(props)}",
            send=lambda token: client.create_backup(
                client_request_token=token,
                file_system_id=props.get("file_system_id"),
                volume_id=props.get("volume_id"),
                tags=tags,
            ),
            tokens=self._tokens(props, client.region),
            user_token=props.get("client_request_token"),
            waits={"BackupInProgress": "another backup of this source is in progress"},
            candidates=lambda: client.user_backups_of(
                props.get("file_system_id"), props.get("volume_id")
            ),
            queue_reason=f"backups of {_source_of(props)} are made one at a time",
            remedies={
                "FileSystemNotFound": f"Check file_system_id, and that the Region "
                f"({client.region}) and the credentials' account are the file system's.",
                "VolumeNotFound": f"Check volume_id, and that the Region ({client.region}) and "
                "the credentials' account are the volume's.",
                "UnsupportedOperation": "Back up an ONTAP volume with volume_id, not its file "
                "system.",
                "AccessDeniedException": "The credentials need fsx:CreateBackup, and "
                "fsx:TagResource for a backup with tags (see docs/iam.md).",
            },
        )
        gate = state.gate(("source", self._connection(props), source_id), 1)
        progress = progress_reporter(props.get("resource_urn"))
        while True:
            backup, token = claim(state, request, gate, poller, deadline)
            if props.get("wait_for_available") is not False and not settled(backup):
                backup = wait_available(poller, backup, token, deadline, progress)
            if confirm(state, request, backup, token, deadline):
                return backup, token

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
        )
        raise FsxBackupError(
            f"backup {backup_id} (token {token!r}) FAILED: {message}. The failed backup was "
            "deleted; `pulumi up` again creates a new one."
        )

    # -- read / update ----------------------------------------------------

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client = self._client(props)
        try:
            backup = process_state().poller(self._connection(props)).lookup(id_)
        except FsxApiError as error:
            raise FsxBackupError(f"could not read backup {id_}: {error}") from None
        if backup is None or backup.get("Lifecycle") == "DELETED":
            return ReadResult(None, {})
        given = given_inputs(props)
        outputs = self._outputs(backup, props, client.region, given)
        outputs["client_request_token"] = props.get("client_request_token")
        # On refresh the state says whether the tags were left to FSx; on an
        # import nothing was created by us, so it follows what is declared.
        if "implicit_tags" in props:
            outputs["implicit_tags"] = bool(props["implicit_tags"])
        else:
            outputs["implicit_tags"] = not self._desired_tags_all(props)
        # The inputs as declared, but for what FSx says now: its source and
        # (unless they were left to FSx) its tags. A refresh that found drift
        # then shows only that drift.
        inputs = {k: props.get(k) for k in INPUT_KEYS if k in props and k not in GIVEN_INPUTS}
        inputs.update(given)
        inputs["file_system_id"] = outputs["file_system_id"]
        inputs["volume_id"] = outputs["volume_id"]
        if not outputs["implicit_tags"]:
            inputs["tags"] = outputs["tags"] or None
        return ReadResult(id_, outputs, {k: v for k, v in inputs.items() if v is not None})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        client = self._client(news)
        to_set, to_remove = self._tags_to_change(olds, news)
        arn = olds.get("arn")
        if not arn:
            raise FsxBackupError(f"backup {id_} has no ARN in the state; run `pulumi refresh`")
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
        outputs = self._outputs(backup, news, client.region, self._given(news))
        outputs["client_request_token"] = olds.get("client_request_token")
        outputs["implicit_tags"] = bool(olds.get("implicit_tags")) and not self._desired_tags_all(
            news
        )
        return UpdateResult(outputs)

    # -- delete -----------------------------------------------------------

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        state = process_state()
        if state.ownership.taken(id_):
            # A create of this run took this backup (a resource renamed in the
            # state whose old name is declared again finds it under its
            # token): the state keeps it under the new resource, so deleting
            # "the old one" would delete the one kept.
            return
        client = self._client(props)
        delete_and_wait(
            lambda: client.delete_backup(id_),
            state.poller(self._connection(props)),
            id_,
            timeout_of(props, "delete_timeout_seconds", DEFAULT_DELETE_TIMEOUT),
            props.get("resource_urn"),
        )

    # -- outputs ----------------------------------------------------------

    @staticmethod
    def _given(inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {k: inputs[k] for k in GIVEN_INPUTS if inputs.get(k) is not None}

    def _outputs(
        self, backup: Backup, props: Mapping[str, Any], region: str, given: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The outputs of `backup`; `props` are the inputs (or, on refresh, the old outputs)."""
        tags_all = tag_map(backup)
        defaults = process_state().settings.default_tags
        tags = {k: v for k, v in tags_all.items() if defaults.get(k) != v}
        created = backup.get("CreationTime")
        is_volume = backup.get("ResourceType") == "VOLUME" or bool(backup.get("Volume"))
        file_system = backup.get("FileSystem") or {}
        volume = backup.get("Volume") or {}
        outputs = {key: props.get(key) for key in INPUT_KEYS if key in props}
        outputs[GIVEN_KEY] = dict(given)
        outputs.update(
            backup_id=backup["BackupId"],
            arn=backup.get("ResourceARN"),
            file_system_id=None if is_volume else file_system.get("FileSystemId"),
            volume_id=volume.get("VolumeId") if is_volume else None,
            tags=tags,
            tags_all=tags_all,
            lifecycle=backup.get("Lifecycle"),
            type=backup.get("Type"),
            resource_type=backup.get("ResourceType"),
            owner_id=backup.get("OwnerId") or file_system.get("OwnerId"),
            kms_key_id=backup.get("KmsKeyId"),
            creation_time=created.isoformat() if isinstance(created, datetime) else created,
            region=region,
        )
        if outputs["file_system_id"] is None and not is_volume:
            outputs["file_system_id"] = props.get("file_system_id")
        if outputs["volume_id"] is None and is_volume:
            outputs["volume_id"] = props.get("volume_id")
        return outputs


def _replace_on_changes(patterns: Any, changed: list[str], already: list[str]) -> list[str]:
    """The changed inputs the resource's replace_on_changes option names.

    The engine applies that option only to a provider's detailed diff, which
    Python dynamic providers cannot return, so the provider applies it itself
    (the resource passes the option's list as an input).
    """
    if not isinstance(patterns, list):
        return []
    wanted = {str(p) for p in patterns}
    return [key for key in changed if key not in already and ("*" in wanted or key in wanted)]
