"""Names the provider, the CLI and the tests share, each stated once."""

from __future__ import annotations

# Dynamic resources are typed `pulumi-python:dynamic/<module>:<name>`.
DYNAMIC_TYPE_PREFIX = "pulumi-python:dynamic"
RESOURCE_MODULE = "fsx"
FSX_BACKUP_NAME = "FsxBackup"
FSX_BACKUP_TYPE = f"{DYNAMIC_TYPE_PREFIX}/{RESOURCE_MODULE}:{FSX_BACKUP_NAME}"

# Derived ClientRequestTokens look like `fsxb-<32 hex>-g<generation>`.
TOKEN_PREFIX = "fsxb"

# An AWS-wide tagging rule (any letter case), not a pattern in the FSx model.
RESERVED_TAG_PREFIX = "aws:"
