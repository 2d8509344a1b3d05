"""Moderation: comments and replies brought back from the networks, triaged under the
guideline, worked in the inbox, answered, and forgotten on request.

Callers use this package's names (``from publish import moderation`` then
``moderation.approve(...)``); each lives in the module of its concept.
"""

import importlib
from typing import TYPE_CHECKING, Any

# The inbox's names are bound here at once: the submodule is called ``inbox`` like the
# function, and importing it binds the package's ``inbox`` to the module; the import
# below binds it back to the function, whoever imports the submodule first.
from publish.moderation.inbox import (
    PAGE_SIZE,
    SILENT_REASONS,
    STATES,
    CommentView,
    InboxPage,
    ModerationError,
    NotAllowed,
    ReplyRefused,
    ReplyView,
    inbox,
    inbox_page,
    show,
    thread,
)

if TYPE_CHECKING:
    from publish.moderation.decisions import approve, assign, escalate, reject, resolve, silence
    from publish.moderation.privacy import forget, purge
    from publish.moderation.replies import (
        ReplyOutcome,
        approve_reply,
        check_reply,
        reply,
        send_replies,
    )

# The other names are imported from their modules when first used: a command that only
# lists the inbox does not load the networks, the delivery protocol and the mail (issue 24).
_MODULES = {
    "decisions": ("approve", "assign", "escalate", "reject", "resolve", "silence"),
    "privacy": ("forget", "purge"),
    "replies": ("ReplyOutcome", "approve_reply", "check_reply", "reply", "send_replies"),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


__all__ = [
    "PAGE_SIZE",
    "SILENT_REASONS",
    "STATES",
    "CommentView",
    "InboxPage",
    "ModerationError",
    "NotAllowed",
    "ReplyOutcome",
    "ReplyRefused",
    "ReplyView",
    "approve",
    "approve_reply",
    "assign",
    "check_reply",
    "escalate",
    "forget",
    "inbox",
    "inbox_page",
    "purge",
    "reject",
    "reply",
    "resolve",
    "send_replies",
    "show",
    "silence",
    "thread",
]
