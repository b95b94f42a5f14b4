"""The stack's ledger: every ClientRequestToken a backup or copy of the stack has held.

A resource can leave a stack's state while the stack's program still
declares it: `pulumi state move` to another stack, `pulumi state delete`,
retain_on_delete. The backup it held is then another's, or no one's, and a
create declared in its place must not find it again under the same token.
The resource's own state entry went with it, so the stack keeps a record of
its own: one small resource, `fsx-backup-ledger`, registered after every
FsxBackup and FsxBackupCopy of the program (it takes their tokens as its
input), whose state is the union of every token it was ever given. The
program reads it from the stack's checkpoint at the start of each `up`
(stack_state.py), and the provider's token walk passes its tokens by
(ownership.py). It makes no AWS call.

Its provider's class path, `fsx_backup_provider.ledger.FsxBackupLedgerProvider` (the end of
this module), is pickled into every state that holds a ledger: it must keep resolving.
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from fsx_backup_provider.providers.validation import is_unknown


def _tokens(value: Any) -> list[str]:
    """The known tokens of a `tokens` property (a failed or unknown one is left out)."""
    if not isinstance(value, list):
        return []
    return sorted({t for t in value if isinstance(t, str) and t and not is_unknown(t)})


class FsxBackupLedgerProvider(ResourceProvider):
    """Keeps the union of every token list it is given; nothing in AWS."""

    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        tokens = news.get("tokens")
        # Unknown at preview for backups not made yet: kept as given, so the
        # plan shows the ledger will change.
        if isinstance(tokens, list) and not any(is_unknown(t) for t in tokens):
            tokens = _tokens(tokens)
        return CheckResult({**news, "tokens": tokens}, [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("fsx-backup-ledger", {"tokens": _tokens(props.get("tokens"))})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        tokens = news.get("tokens")
        # Only a token the ledger does not have yet changes it (an imported
        # backup, made with a token of its own, holds none: None).
        new = is_unknown(tokens) or (
            isinstance(tokens, list)
            and (
                any(is_unknown(t) for t in tokens)
                or not set(_tokens(tokens)) <= set(olds.get("tokens") or [])
            )
        )
        return DiffResult(changes=bool(new), replaces=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(
            {"tokens": _tokens([*(olds.get("tokens") or []), *_tokens(news.get("tokens"))])}
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


# Every state that holds one records this class pickled by reference under
# the path it had before providers/ existed; that module re-exports it, and
# the class keeps reporting it, so states old and new record one path.
FsxBackupLedgerProvider.__module__ = "fsx_backup_provider.ledger"
