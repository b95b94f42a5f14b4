"""The dynamic ResourceProvider behind FsxBackup.

The engine calls these methods in one provider process per program run
(`python -m pulumi.dynamic`), on a pool of threads. The provider instance is
pickled into every resource's state, so it holds no state of its own: what
must be shared (clients, pollers, the replacement bookkeeping) lives at module
level in the provider process.
"""

from __future__ import annotations

import itertools
import threading
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
from fsx_backup_provider.fsx import (
    FINAL_LIFECYCLES,
    Backup,
    Connection,
    FsxApiError,
    FsxClient,
    client_for,
    tag_map,
)
from fsx_backup_provider.host.parallelism import widen_provider_pool
from fsx_backup_provider.host.progress import report
from fsx_backup_provider.host.watchdog import start_watchdog
from fsx_backup_provider.poller import BackupPoller, Progress, WaitTimeout
from fsx_backup_provider.tokens import derived_token
from fsx_backup_provider.validation import is_unknown, validate_inputs

DEFAULT_CREATE_TIMEOUT = 1800.0
DEFAULT_DELETE_TIMEOUT = 1800.0
POLL_INTERVAL_SECONDS = 1.0

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
    "token_scope",
    "token_epoch",
)


class FsxBackupError(Exception):
    """A failure the user must see: names the backup or token and what to do."""


class _TokenUsedWithOtherTags(Exception):
    def __init__(self, error: FsxApiError) -> None:
        super().__init__(str(error))
        self.error = error


class _ProcessState:
    """What the provider process shares across resources and threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.settings = ProviderSettings()
        self.pollers: dict[Connection, BackupPoller] = {}
        # Epochs of resources that exist in the state, by token scope, as
        # check() saw them in their old inputs this run (see check()).
        self.existing_epochs: dict[str, int] = {}
        # Backups that create() returned this run, so delete() never removes
        # the backup a replacement has just taken over (see delete()).
        self.created_this_run: set[str] = set()

    def poller(self, connection: Connection) -> BackupPoller:
        with self.lock:
            found = self.pollers.get(connection)
            if found is None:
                found = BackupPoller(client_for(connection), interval=POLL_INTERVAL_SECONDS)
                self.pollers[connection] = found
            return found


_state = _ProcessState()


def _known(value: Any) -> bool:
    return value is not None and not is_unknown(value)


def _declared_tags(tags: Any) -> dict[str, str]:
    return dict(tags) if isinstance(tags, Mapping) else {}


def _source_of(props: Mapping[str, Any]) -> str:
    return str(props.get("file_system_id") or props.get("volume_id"))


def _settled(backup: Backup | None) -> bool:
    """FSx no longer knows the backup, or it will not change by itself any more."""
    return backup is None or backup.get("Lifecycle") in FINAL_LIFECYCLES


def _gone(backup: Backup | None) -> bool:
    return backup is None or backup.get("Lifecycle") == "DELETED"


def _progress_reporter(scope: Any) -> Progress:
    """Report each change of lifecycle or ProgressPercent, once."""
    last: tuple[Any, Any] | None = None

    def progress(backup: Backup) -> None:
        nonlocal last
        seen = (backup.get("Lifecycle"), backup.get("ProgressPercent"))
        if seen == last:
            return
        last = seen
        percent = f" {seen[1]}%" if seen[1] is not None else ""
        report(scope, f"{backup['BackupId']}: {seen[0]}{percent}")

    return progress


def _whole_number(value: Any) -> int | None:
    # Pulumi carries every number as a float; 3.0 in the state is the int 3.
    if isinstance(value, int | float) and not isinstance(value, bool) and value == int(value):
        return int(value)
    return None


def _timeout(props: Mapping[str, Any], key: str, default: float) -> float:
    value = props.get(key)
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


class FsxBackupProvider(ResourceProvider):
    """check/diff/create/read/update/delete for one FSx backup."""

    # The provider captures no secret (credentials come from boto3's chain in
    # the provider process), so its pickled form need not be encrypted.
    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        # The SDK configures each unpickled provider once, before its first
        # operation: the moment to lift the host's 4-worker limit.
        start_watchdog()
        widen_provider_pool()
        _state.settings = ProviderSettings.from_config(req.config.get)

    # -- connection -------------------------------------------------------

    def _connection(self, props: Mapping[str, Any]) -> Connection:
        settings = _state.settings
        region = props.get("region") if _known(props.get("region")) else None
        return Connection(
            region=region or settings.region,
            profile=settings.profile,
            endpoint_url=settings.endpoint_url,
        )

    def _client(self, props: Mapping[str, Any]) -> FsxClient:
        return client_for(self._connection(props))

    def _desired_tags_all(self, props: Mapping[str, Any]) -> dict[str, str]:
        return {**_state.settings.default_tags, **_declared_tags(props.get("tags"))}

    # -- check / diff -----------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = validate_inputs(news, _state.settings.default_tags)
        inputs = dict(news)
        inputs["token_epoch"] = self._epoch(olds, news)
        return CheckResult(inputs, [CheckFailure(f.property, f.reason) for f in failures])

    def _epoch(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> int:
        """The token epoch (see tokens.py) for these inputs.

        An existing resource keeps its epoch. When the engine decides to
        replace it, it checks the inputs again *without* olds (to recompute
        defaults, pkg/resource/deploy/step_generator.go), right after the check
        with olds in this same process: that second check moves to the next
        epoch, so the replacement's token cannot name the backup it replaces.
        """
        scope = news.get("token_scope")
        old_epoch = _whole_number(olds.get("token_epoch")) if olds else None
        with _state.lock:
            if old_epoch is not None:
                if isinstance(scope, str):
                    _state.existing_epochs[scope] = old_epoch
                return old_epoch
            if isinstance(scope, str) and scope in _state.existing_epochs:
                return _state.existing_epochs[scope] + 1
        return 0

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [
            key
            for key in ("file_system_id", "volume_id")
            if is_unknown(news.get(key)) or olds.get(key) != news.get(key)
        ]
        new_region = news.get("region")
        if is_unknown(new_region):
            replaces.append("region")
        else:
            effective = new_region or _state.settings.region
            if effective and olds.get("region") and effective != olds.get("region"):
                replaces.append("region")
        if olds.get("lifecycle") == "FAILED":
            # A refresh found the backup FAILED (say it was created without
            # waiting): it can never become usable, so up replaces it.
            replaces.append("lifecycle")
        tags_changed = is_unknown(news.get("tags")) or self._tags_to_change(olds, news) != ({}, [])
        changed = bool(replaces) or tags_changed
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=False)

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
        client = self._client(props)
        poller = _state.poller(self._connection(props))
        tags = self._desired_tags_all(props)
        deadline = time.monotonic() + _timeout(
            props, "create_timeout_seconds", DEFAULT_CREATE_TIMEOUT
        )
        adopt = props.get("import_backup_id")
        if adopt:
            backup, token = self._adopt(client, poller, str(adopt), props), None
        else:
            backup, created_token = self._create_backup(client, poller, props, tags, deadline)
            token = created_token
        backup_id = backup["BackupId"]
        with _state.lock:
            _state.created_this_run.add(backup_id)
        if props.get("wait_for_available") is not False and backup["Lifecycle"] != "AVAILABLE":
            backup = self._wait_available(
                poller, backup, token, deadline, _progress_reporter(props.get("token_scope"))
            )
        if backup["Lifecycle"] == "FAILED" and token is not None:
            self._remove_failed(client, poller, backup, token)
        outputs = self._outputs(backup, props, client.region)
        outputs["client_request_token"] = token
        outputs["implicit_tags"] = not tags
        return CreateResult(backup_id, outputs)

    def _adopt(
        self, client: FsxClient, poller: BackupPoller, backup_id: str, props: Mapping[str, Any]
    ) -> Backup:
        """An imported backup: it must exist and be a backup of the declared source."""
        try:
            backup = poller.lookup(backup_id)
        except FsxApiError as error:
            raise FsxBackupError(f"cannot import backup {backup_id}: {error}") from error
        if backup is None or backup.get("Lifecycle") == "DELETED":
            raise FsxBackupError(f"cannot import backup {backup_id}: FSx has no such backup")
        if backup.get("ResourceType") == "VOLUME" or backup.get("Volume"):
            actual = ("volume_id", (backup.get("Volume") or {}).get("VolumeId"))
        else:
            actual = ("file_system_id", (backup.get("FileSystem") or {}).get("FileSystemId"))
        declared = (
            ("volume_id", props.get("volume_id"))
            if props.get("volume_id")
            else (
                "file_system_id",
                props.get("file_system_id"),
            )
        )
        if actual != declared:
            raise FsxBackupError(
                f"cannot import backup {backup_id}: it is a backup of {actual[0]} {actual[1]}, "
                f"but this FsxBackup declares {declared[0]} {declared[1]}. Declare the "
                "backup's own source, or import a backup of the declared one."
            )
        return backup

    def _tokens(self, props: Mapping[str, Any], region: str) -> Iterator[str]:
        user_token = props.get("client_request_token")
        if user_token:
            # A token the user chose is used exactly as given, like FSx's own.
            yield str(user_token)
            return
        scope = str(props.get("token_scope") or "")
        epoch = _whole_number(props.get("token_epoch")) or 0
        for generation in itertools.count():
            yield derived_token(scope, _source_of(props), region, epoch, generation)

    def _create_backup(
        self,
        client: FsxClient,
        poller: BackupPoller,
        props: Mapping[str, Any],
        tags: Mapping[str, str],
        deadline: float,
    ) -> tuple[Backup, str]:
        """CreateBackup with the first token that is free or names a live backup."""
        for token in self._tokens(props, client.region):
            try:
                backup = self._create_waiting_out_in_progress(
                    client, poller, props, token, tags, deadline
                )
            except _TokenUsedWithOtherTags as used:
                self._check_token_is_spent(client, props, token, used.error)
                continue
            if backup.get("Lifecycle") != "DELETED":
                return backup, token
            if props.get("client_request_token"):
                raise FsxBackupError(
                    f"client_request_token {token!r} already named backup "
                    f"{backup['BackupId']}, which is now deleted, and FSx still remembers "
                    "the token. Give this FsxBackup a new client_request_token (or remove "
                    "it to let the provider derive one)."
                )
        raise AssertionError("unreachable: token generations are unbounded")

    def _check_token_is_spent(
        self, client: FsxClient, props: Mapping[str, Any], token: str, error: FsxApiError
    ) -> None:
        """Decide whether a token FSx says was used with other tags can be passed over.

        FSx does not say whether that backup still exists. A backup created,
        retagged and destroyed leaves its token behind with the old tags, and
        the next generation is then right. But an interrupted create whose
        tags were edited before the re-run left a live backup under the
        token, and passing over it would leave that backup unmanaged. With
        no live user-initiated backup of the source, the token's backup is
        gone; otherwise the provider cannot tell, and says so.
        """
        source = _source_of(props)
        if not props.get("client_request_token"):
            try:
                live = client.user_backups_of(props.get("file_system_id"), props.get("volume_id"))
            except FsxApiError as lookup:
                raise FsxBackupError(
                    f"could not list the backups of {source}: {lookup}"
                ) from lookup
            if not live:
                return
            candidates = ", ".join(sorted(b["BackupId"] for b in live))
        else:
            candidates = "unknown"
        raise FsxBackupError(
            f"FSx already has a backup made with ClientRequestToken {token!r} but with other "
            f"tags than those declared now ({error.message}), and it cannot tell whether that "
            f"backup is one of the live backups of {source} ({candidates}). This happens when a "
            "create was interrupted and the tags were changed before re-running. Restore the "
            "tags of the interrupted run and run `pulumi up` again (then change them); or, if "
            "that backup should be left alone, set client_request_token to a new value."
        )

    def _create_waiting_out_in_progress(
        self,
        client: FsxClient,
        poller: BackupPoller,
        props: Mapping[str, Any],
        token: str,
        tags: Mapping[str, str],
        deadline: float,
    ) -> Backup:
        """CreateBackup; BackupInProgress (another backup of the source under way) is waited out."""
        while True:
            try:
                return client.create_backup(
                    client_request_token=token,
                    file_system_id=props.get("file_system_id"),
                    volume_id=props.get("volume_id"),
                    tags=tags,
                )
            except FsxApiError as error:
                if error.code == "IncompatibleParameterError":
                    raise _TokenUsedWithOtherTags(error) from error
                if error.code != "BackupInProgress":
                    raise FsxBackupError(
                        f"could not create a backup of {_source_of(props)}: {error}"
                    ) from error
                if time.monotonic() >= deadline:
                    raise FsxBackupError(
                        f"another backup of {_source_of(props)} stayed in progress until "
                        f"create_timeout_seconds ran out; no backup was created with token "
                        f"{token!r}. Run `pulumi up` again to retry."
                    ) from error
                time.sleep(POLL_INTERVAL_SECONDS)

    def _wait_available(
        self,
        poller: BackupPoller,
        backup: Backup,
        token: str | None,
        deadline: float,
        progress: Progress | None = None,
    ) -> Backup:
        backup_id = backup["BackupId"]
        try:
            final = poller.wait_for(
                backup_id,
                _settled,
                timeout=max(deadline - time.monotonic(), 0.0),
                progress=progress,
            )
        except FsxApiError as error:
            raise FsxBackupError(
                f"could not follow backup {backup_id} (token {token!r}) while it is created: "
                f"{error}. The backup is left in FSx; once this is fixed, re-running "
                "`pulumi up` resumes waiting on this same backup."
            ) from error
        except WaitTimeout as timeout:
            lifecycle = (timeout.last or backup).get("Lifecycle")
            progress = (timeout.last or backup).get("ProgressPercent")
            raise FsxBackupError(
                f"backup {backup_id} (token {token!r}) is still {lifecycle}"
                + (f" at {progress}%" if progress is not None else "")
                + " after create_timeout_seconds. It is left in FSx and is not lost: "
                "re-running `pulumi up` resumes waiting on this same backup (the token "
                "finds it again); raise create_timeout_seconds if backups of this source "
                "take longer."
            ) from timeout
        if final is None or final.get("Lifecycle") == "DELETED":
            raise FsxBackupError(
                f"backup {backup_id} (token {token!r}) was deleted outside Pulumi while it "
                "was being created. Run `pulumi up` again to create a new one."
            )
        return final

    def _remove_failed(
        self, client: FsxClient, poller: BackupPoller, backup: Backup, token: str
    ) -> None:
        backup_id = backup["BackupId"]
        message = (backup.get("FailureDetails") or {}).get("Message") or "no reason given"
        self._delete_and_wait(client, poller, backup_id, DEFAULT_DELETE_TIMEOUT)
        raise FsxBackupError(
            f"backup {backup_id} (token {token!r}) FAILED: {message}. The failed backup was "
            "deleted; `pulumi up` again creates a new one."
        )

    # -- read / update ----------------------------------------------------

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client = self._client(props)
        try:
            backup = _state.poller(self._connection(props)).lookup(id_)
        except FsxApiError as error:
            raise FsxBackupError(f"could not read backup {id_}: {error}") from error
        if backup is None or backup.get("Lifecycle") == "DELETED":
            return ReadResult(None, {})
        outputs = self._outputs(backup, props, client.region)
        outputs["client_request_token"] = props.get("client_request_token")
        # On refresh the state says whether the tags were left to FSx; on an
        # import nothing was created by us, so it follows what is declared.
        if "implicit_tags" in props:
            outputs["implicit_tags"] = bool(props["implicit_tags"])
        else:
            outputs["implicit_tags"] = not self._desired_tags_all(props)
        inputs = {key: props.get(key) for key in INPUT_KEYS if key in props}
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
            ) from error
        if backup is None:
            raise FsxBackupError(
                f"backup {id_} no longer exists in FSx; run `pulumi refresh` to drop it "
                "from the state, then `pulumi up` to create it again"
            )
        outputs = self._outputs(backup, news, client.region)
        outputs["client_request_token"] = olds.get("client_request_token")
        outputs["implicit_tags"] = bool(olds.get("implicit_tags")) and not self._desired_tags_all(
            news
        )
        return UpdateResult(outputs)

    # -- delete -----------------------------------------------------------

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with _state.lock:
            taken_over = id_ in _state.created_this_run
        if taken_over:
            # `pulumi up --replace` checks the replacement with no trace of the
            # old resource, so with unchanged inputs its token finds the old
            # backup again and the replacement holds that same backup. Deleting
            # "the old one" now would delete the one the state keeps.
            return
        self._delete_and_wait(
            self._client(props),
            _state.poller(self._connection(props)),
            id_,
            _timeout(props, "delete_timeout_seconds", DEFAULT_DELETE_TIMEOUT),
        )

    def _delete_and_wait(
        self, client: FsxClient, poller: BackupPoller, backup_id: str, timeout: float
    ) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                lifecycle = client.delete_backup(backup_id)
                break
            except FsxApiError as error:
                if error.code == "BackupNotFound":
                    return
                if error.code != "BackupInProgress":
                    raise FsxBackupError(f"could not delete backup {backup_id}: {error}") from error
            # Still being created (or copied): wait until it settles, then delete.
            try:
                poller.wait_for(
                    backup_id,
                    _settled,
                    timeout=max(deadline - time.monotonic(), 0.0),
                )
            except WaitTimeout as timeout_error:
                raise FsxBackupError(
                    f"backup {backup_id} stayed in progress until delete_timeout_seconds ran "
                    "out and could not be deleted; run `pulumi destroy` (or up) again."
                ) from timeout_error
            except FsxApiError as error:
                raise FsxBackupError(
                    f"could not wait for backup {backup_id} before deleting it: {error}"
                ) from error
        if lifecycle == "DELETED":
            # DELETED is final: FSx may list the backup a while longer, but it
            # never comes back, so there is nothing left to wait for.
            return
        try:
            poller.wait_for(
                backup_id,
                _gone,
                timeout=max(deadline - time.monotonic(), 0.0),
            )
        except WaitTimeout as timeout_error:
            raise FsxBackupError(
                f"backup {backup_id} was asked to delete but is still there after "
                "delete_timeout_seconds; run `pulumi destroy` again to keep waiting."
            ) from timeout_error
        except FsxApiError as error:
            raise FsxBackupError(
                f"backup {backup_id} was asked to delete, but could not be followed: {error}"
            ) from error

    # -- outputs ----------------------------------------------------------

    def _outputs(self, backup: Backup, props: Mapping[str, Any], region: str) -> dict[str, Any]:
        tags_all = tag_map(backup)
        defaults = _state.settings.default_tags
        tags = {k: v for k, v in tags_all.items() if defaults.get(k) != v}
        created = backup.get("CreationTime")
        is_volume = backup.get("ResourceType") == "VOLUME" or bool(backup.get("Volume"))
        file_system = backup.get("FileSystem") or {}
        volume = backup.get("Volume") or {}
        outputs = {key: props.get(key) for key in INPUT_KEYS if key in props}
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
