"""Names the provider, the CLI and the tests share, each stated once."""

from __future__ import annotations

# Dynamic resources are typed `pulumi-python:dynamic/<module>:<name>`.
DYNAMIC_TYPE_PREFIX = "pulumi-python:dynamic"
RESOURCE_MODULE = "fsx"
FSX_BACKUP_NAME = "FsxBackup"
FSX_BACKUP_TYPE = f"{DYNAMIC_TYPE_PREFIX}/{RESOURCE_MODULE}:{FSX_BACKUP_NAME}"
FSX_BACKUP_COPY_NAME = "FsxBackupCopy"
FSX_BACKUP_COPY_TYPE = f"{DYNAMIC_TYPE_PREFIX}/{RESOURCE_MODULE}:{FSX_BACKUP_COPY_NAME}"
FSX_BACKUP_SEED_NAME = "FsxBackupSeed"
FSX_BACKUP_SEED_TYPE = f"{DYNAMIC_TYPE_PREFIX}/{RESOURCE_MODULE}:{FSX_BACKUP_SEED_NAME}"
FSX_BACKUP_LEDGER_NAME = "FsxBackupLedger"
FSX_BACKUP_LEDGER_TYPE = f"{DYNAMIC_TYPE_PREFIX}/{RESOURCE_MODULE}:{FSX_BACKUP_LEDGER_NAME}"
# The root resource every program has; its children's URNs carry no parent type.
STACK_TYPE = "pulumi:pulumi:Stack"
# A component `fsx-backup rotate` registers first in its stack: the mark that a
# rotation made the stack (rotate deletes backups only in a stack it made).
ROTATION_MARKER_TYPE = "fsx-backup:cli:Rotation"

# Derived ClientRequestTokens look like `fsxb-<32 hex>-g<generation>`.
TOKEN_PREFIX = "fsxb"

# An AWS-wide tagging rule (any letter case), not a pattern in the FSx model.
RESERVED_TAG_PREFIX = "aws:"

# The stack config key pulumi-aws users set default tags with.
DEFAULT_TAGS_CONFIG = "aws:defaultTags"
