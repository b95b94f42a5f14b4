"""For Pulumi Automation API scripts: the environment their workspace needs.

    from pulumi import automation as auto
    from fsx_backup_provider.automation import workspace_env

    stack = auto.create_or_select_stack(
        stack_name="dev", project_name="infra", program=program,
        opts=auto.LocalWorkspaceOptions(env_vars=workspace_env()),
    )

The engine starts FsxBackup's provider as `pulumi-resource-pulumi-python`, a
shell shim that runs `$PULUMI_PYTHON_CMD -m pulumi.dynamic`, or `python3` from
PATH when that is unset (and no `virtualenv` runtime option is passed on).
A script run from a virtualenv that is not on PATH then gets a provider
without pulumi or this package, and the engine reports only `No module named
'pulumi'` and `could not read plugin [...pulumi-resource-pulumi-python]`.
`workspace_env()` names the interpreter running the script, so the provider
runs where the program does. It returns a dict for the workspace alone: the
script's own environment is not changed.
"""

from __future__ import annotations

import os
import sys

__all__ = ["workspace_env"]


def workspace_env(python: str | None = None) -> dict[str, str]:
    """`env_vars` for `auto.LocalWorkspaceOptions`: PULUMI_PYTHON_CMD set to `python`,
    else to the one already set in the environment, else to this interpreter."""
    return {"PULUMI_PYTHON_CMD": python or os.environ.get("PULUMI_PYTHON_CMD") or sys.executable}
