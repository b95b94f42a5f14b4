"""What names a resource inside its stack, whatever the stack and project are called."""

from __future__ import annotations


def scope_key(urn: str) -> str:
    """What names a resource inside its stack: its URN without stack and project.

    `urn:pulumi:<stack>::<project>::<qualified type>::<name>` gives
    `<qualified type>::<name>`: unique in a stack (the engine refuses two
    resources with one URN) and unchanged when the stack or project is renamed.
    """
    parts = urn.split("::", 2)
    return parts[2] if len(parts) == 3 else urn
