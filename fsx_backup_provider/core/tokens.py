"""The stable ClientRequestToken that makes a create idempotent.

A token is derived from the resource's *identity* (its stack's seed and its
serial there, see providers/seed.py), its scope key (its URN without stack and
project), and what a change of replaces the backup (the source and the
Region), so a retried, interrupted or timed-out create asks FSx for the same
token again and gets back the backup the first attempt made.

FSx remembers a token after its backup is deleted and answers a CreateBackup
with it by describing the DELETED backup. And a token can name a live backup
that another resource of the stack holds (the one a replacement replaces, or
one whose resource was renamed in the state). So create walks generations
0, 1, 2, ... of the token past every backup that is deleted or held by
another resource, and uses the first that is free or names a backup no one
holds (its own, from an interrupted attempt). The walk is deterministic, so
a re-run after a crash stops at the same generation.

Tokens made by 0.1.0 (`fsxb-<hex>-g<n>`, hashed from project, stack, parent
URN, name, source, Region and an epoch) stay with the backups they made; only
new creates use this derivation.
"""

from __future__ import annotations

import hashlib

from fsx_backup_provider.core.constants import TOKEN_PREFIX

_DIGEST_CHARS = 32


def derived_token(identity: str, key: str, *binding: str, generation: int) -> str:
    """`fsxb-<32 hex>-g<generation>`: within FSx's 63 characters of `[A-Za-z0-9_.-]`.

    `binding` is what a change of replaces the backup: for FsxBackup the
    source and the Region; for a copy, the source backup, its Region and the
    destination Region.
    """
    if generation < 0:
        raise ValueError(f"generation must be >= 0, got {generation}")
    digest = hashlib.sha256("\x1f".join((identity, key, *binding)).encode()).hexdigest()
    return f"{TOKEN_PREFIX}-{digest[:_DIGEST_CHARS]}-g{generation}"
