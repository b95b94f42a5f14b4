"""Which stack made a backup: the `fsx-backup:stack` tag, evidence outside any state.

The rule of ownership.py reads a stack's own state and ledger. Two things no
state of this stack can show: that another stack set the same
client_request_token (FSx answers both stacks' CreateBackup with one backup),
and that a backup given to `import_` is held by another stack. So a create
that sends tags anyway also sends this one: the value is the stack's
project and name, for people, and a mark hashed from the stack seed's base,
for the check. A found or imported backup whose mark is another's is never
taken; one with no mark (made by hand, by another tool, before 0.7.0, or
with no room for it) is judged by the state alone, as before.

The mark follows the seed's base, which changes when the seed sees its state
in another stack (a clone, a rename) or its ledger gone: a backup made
before then carries the old mark, and a create or import that finds it is
refused with what to do, never left to guess.

The tag goes only where the new backup gets tags anyway (declared tags or
aws:defaultTags; for a copy with copy_tags, its source's, when the source
is this stack's and its tags are known): a CreateBackup that sends any tag
stops FSx copying the file system's tags (CopyTagsToBackups), so a backup
declared with no tags gets none. It is one of FSx's 50 tags, sent only when
there is room: a backup with 50 gets none, and a tag change that brings one
to 50 removes it (base.tags_to_change). It is never in `tags`/`tags_all`. A
create that did not send it takes no evidence from the tag on FSx's answer
(a copy's may be its source's).

The mark is bound to the resource's type: a copy FSx makes with CopyTags
(by any tool) carries its source's tag, whose mark is then a backup's, not
a copy's, so it never passes as a copy this stack made.

This module imports nothing of Pulumi's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

HOLDER_TAG = "fsx-backup:stack"
_MARK_CHARS = 16


def _kind(urn: Any) -> str:
    """The resource's type from its URN (`...::<parent types$>type::name`)."""
    if not isinstance(urn, str) or urn.count("::") < 3:
        return ""
    return urn.rsplit("::", 2)[1].rsplit("$", 1)[-1]


def mark_of(identity: Any, urn: Any) -> str | None:
    """The mark of the stack whose seed gave `identity` (`<base>.<serial>`), for a
    resource of the type in `urn`: a copy FSx made with CopyTags carries its
    source's tag, which is then a backup's mark, never a copy's."""
    if not isinstance(identity, str) or "." not in identity:
        return None
    base = identity.split(".", 1)[0]
    if not base:
        return None
    seed = f"fsx-backup-holder\x1f{base}\x1f{_kind(urn)}"
    return hashlib.sha256(seed.encode()).hexdigest()[:_MARK_CHARS]


def _named(urn: Any) -> str:
    """`<project>/<stack>` from a URN."""
    stack, project = "", ""
    if isinstance(urn, str) and urn.startswith("urn:pulumi:"):
        parts = urn[len("urn:pulumi:") :].split("::")
        if len(parts) >= 2:
            stack, project = parts[0], parts[1]
    return f"{project or '-'}/{stack or '-'}"


def holder_value(identity: Any, urn: Any) -> str | None:
    """The tag's value: `<project>/<stack>/<mark>` (the project and stack from the URN)."""
    mark = mark_of(identity, urn)
    if mark is None:
        return None
    return f"{_named(urn)}/{mark}"


def foreign_holder(tags: Mapping[str, str], identity: Any, urn: Any) -> str | None:
    """The tag's value when it is not the mark of this stack's resources of this type.

    None for a backup with no such tag, or with this mark. A resource with no
    identity (none is missing from a resource the seed gave one) cannot
    tell, and takes the tag as another's: nothing is taken on a guess.
    """
    value = tags.get(HOLDER_TAG)
    if value is None:
        return None
    mine = mark_of(identity, urn)
    if mine is not None and value.rsplit("/", 1)[-1] == mine:
        return None
    return value


def without_holder(tags: Mapping[str, str]) -> dict[str, str]:
    """The tags as the user sees and declares them."""
    return {k: v for k, v in tags.items() if k != HOLDER_TAG}


def made_by(value: str) -> str:
    """`stack 'dev' of project 'app'`, from the tag's value."""
    project, _, rest = value.partition("/")
    stack = rest.rsplit("/", 1)[0] if "/" in rest else ""
    return f"stack {stack!r} of project {project!r}" if stack else "another stack"


def refusal(value: str, arn: Any, urn: Any = None) -> str:
    """Why a backup another stack's tag names is not taken, and what to do."""
    untag = (
        f"aws fsx untag-resource --resource-arn {arn} --tag-keys {HOLDER_TAG}"
        if isinstance(arn, str) and arn
        else f"remove its tag {HOLDER_TAG}"
    )
    if value.rsplit("/", 1)[0] == _named(urn):
        return (
            f"its tag {HOLDER_TAG} ({value!r}) names this stack, but not as the maker of "
            "this resource: it was made before this stack drew a new seed (the stack was "
            "renamed or cloned, its ledger was lost, or its seed was destroyed with its last "
            "resources), or it is a copy FSx gave its source's tag (CopyTags, outside this "
            "stack's FsxBackupCopy resources), or a stack of the same name on another backend "
            f"made it. If no other stack holds it, run `{untag}`, then run again."
        )
    return (
        f"it was made by {made_by(value)} (its tag {HOLDER_TAG} is {value!r}; this stack's "
        "mark differs), and two stacks holding one backup would delete it from under each "
        "other. To move it to this stack, use `pulumi state move` from that stack. Only if "
        "no stack holds it any more (that stack was destroyed with retain_on_delete, or "
        f"this stack was renamed or cloned since it made the backup): `{untag}`, then run "
        "again."
    )
