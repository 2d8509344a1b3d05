"""Moderation: comments and replies brought back from the networks, triaged under the
guideline, worked in the inbox, answered, and forgotten on request.

Callers use this package's names (``from publish import moderation`` then
``moderation.approve(...)``); each lives in the module of its concept.
"""

from publish.moderation.decisions import approve, assign, escalate, reject, resolve, silence
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
from publish.moderation.privacy import forget, purge
from publish.moderation.replies import (
    ReplyOutcome,
    approve_reply,
    check_reply,
    reply,
    send_replies,
)

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
