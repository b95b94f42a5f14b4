"""The stable ClientRequestToken that makes a backup's create idempotent.

The dynamic provider's create() is not given the resource's URN, so the
program computes a *scope* for each FsxBackup from what identifies it in the
stack (project, stack, parent URN, resource name); create() turns the scope,
the source and the region into a token. A retried, interrupted or timed-out
create therefore asks FSx for the same token again and gets back the backup
the first attempt made, never a second one.

FSx remembers a token after its backup is deleted (how long is not
documented), and answers a CreateBackup with it by describing the DELETED
backup. So a token carries a *generation*: create() walks generation 0, 1, 2,
... past tokens whose backups are deleted and uses the first one that is free
or names a live backup. Destroy-then-create thus gets a fresh backup, and a
re-run after a crash lands on the same generation, the one whose backup is
live.

A replacement must not find the backup it replaces under its token, even when
nothing hashed into the token changed (replace_on_changes, replaceWith, a
provider change). So a token also hashes an *epoch*: 0 for a new resource, kept
while the resource exists, and one more for the create of its replacement (see
FsxBackupProvider.check). A re-run of an interrupted create or replacement
computes the same epoch again and so finds the backup the first attempt made.
"""

from __future__ import annotations

import hashlib

from fsx_backup_provider.constants import TOKEN_PREFIX

_DIGEST_CHARS = 32


def token_scope(project: str, stack: str, parent_urn: str | None, resource_name: str) -> str:
    """What names one FsxBackup in one stack, across runs of the program.

    The parent URN is part of it because two components may each hold a child
    of the same name: their URNs differ, and so must their tokens.
    """
    return "\x1f".join((project, stack, parent_urn or "", resource_name))


def derived_token(scope: str, source_id: str, region: str, epoch: int, generation: int) -> str:
    """The token for one epoch and generation: `fsxb-<32 hex>-g<generation>`.

    The source and region are hashed in because changing either replaces the
    backup; the epoch because any other replacement does too. Always within
    FSx's 63 characters of `[A-Za-z0-9_.-]`.
    """
    if generation < 0 or epoch < 0:
        raise ValueError(f"epoch and generation must be >= 0, got {epoch} and {generation}")
    identity = "\x1f".join((scope, source_id, region, str(epoch)))
    digest = hashlib.sha256(identity.encode()).hexdigest()
    return f"{TOKEN_PREFIX}-{digest[:_DIGEST_CHARS]}-g{generation}"
