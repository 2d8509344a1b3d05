"""Where a piece stands: one vocabulary for `status`, `calendar`, the desk and the docs.

Each command used to name the same state in its own words ("queued", "pending",
"scheduled", "approved"); a planner reading two of them could not tell they agreed.
The words are defined here once, with what each means, and every command derives a
piece's state with the same two functions: what the repository says
(:func:`editorial_state`) and, once the scheduler touched it, what the ledger says
(:func:`ledger_state`), which wins — a post that went out stays out whatever the file
says now. Times shown to people are in the site's zone with the offset
(:func:`local_time`); JSON carries ISO 8601 with its offset.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from editorial.approvals import ApprovalState
from editorial.pieces import Piece
from publish.store.models import LedgerEntry, Status

ERROR = "error"
DRAFT = "draft"
AWAITING_APPROVAL = "awaiting approval"
APPROVED = "approved"
PENDING = "pending"
PUBLISHED = "published"
POSTED = "posted"
LATE = "late"
FAILED = "failed"
SKIPPED = "skipped"
RETRACTED = "retracted"

#: every state, in the order a piece passes through them, with what it means
STATES: dict[str, str] = {
    ERROR: "the file has an error; nothing goes out until it is fixed",
    DRAFT: "status: draft; never goes out",
    AWAITING_APPROVAL: "ready, but no valid client approval for its current text",
    APPROVED: "approved; goes out when its time comes",
    PENDING: "due and approved, not out yet (the next run sends it)",
    PUBLISHED: "a post that is on the public site",
    POSTED: "on the network (with its URL)",
    LATE: "due longer ago than MAX_LATENESS; held until someone releases or skips it",
    FAILED: "the network refused it; see the reason",
    SKIPPED: "someone decided it never goes out",
    RETRACTED: "deleted from the networks and taken off the site",
}


def editorial_state(piece: Piece, approval: ApprovalState | None) -> tuple[str, str | None]:
    """What the repository alone says: error, draft, awaiting approval or approved,
    and why (the first error, or why the approval does not count)."""
    error = next((str(f) for f in piece.findings if f.severity == "error"), None)
    if error or not piece.ok:
        return ERROR, error or f"{piece.path}: cannot be read"
    if piece.is_draft:
        return DRAFT, None
    if approval is None or not approval.approved:
        why = "; ".join(approval.reasons) if approval and approval.reasons else None
        return AWAITING_APPROVAL, why
    return APPROVED, None


def ledger_state(parts: list[LedgerEntry | None]) -> tuple[str, str | None] | None:
    """What the ledger says about a (piece, channel), or None when it never got there.

    A thread counts as posted only when every part is; otherwise the first part that is
    not posted tells where it stands (an open intent is still ``pending``).
    """
    known = [p for p in parts if p is not None]
    if not known:
        return None
    error = next((p.error for p in known if p.error), None)
    if len(known) == len(parts) and all(p.status == Status.POSTED for p in known):
        return POSTED, None
    if all(p.status == Status.RETRACTED for p in known):
        return RETRACTED, None
    stuck = next((p for p in known if p.status != Status.POSTED), None)
    if stuck is None or stuck.status == Status.INTENT:
        return PENDING, error
    return str(stuck.status), error


def snippet_state(
    editorial: str, parts: list[LedgerEntry | None], due: bool
) -> tuple[str, str | None]:
    """A (snippet, channel): the ledger's word once it has one, else the repository's,
    with an approved snippet whose time has come ``pending``."""
    happened = ledger_state(parts)
    if happened is not None:
        return happened
    return (PENDING if editorial == APPROVED and due else editorial), None


def local_time(when: datetime | None, tz: tzinfo) -> str:
    """``2026-11-24 10:00 +01:00``: the site's zone with its offset, for people."""
    if when is None:
        return "—"
    local = when.astimezone(tz)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"
