"""What an approval is: the signed record, its constants, and reading it from front matter."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from editorial.front_matter_edit import yaml_entry
from editorial.pieces import Piece
from editorial.times import iso

if TYPE_CHECKING:
    pass


logger = logging.getLogger(__name__)

NAMESPACE = "dialogpress-approval"
PAYLOAD_VERSION = "dialogpress-approval v1"

_FIELD_ORDER = ("piece", "hash", "approver", "at", "comment", "via", "signature")
#: front-matter keys that say what people decided about a piece, not what it says
REVIEW_KEYS = ("approvals", "change_requests")
#: ``via`` of an approval the portal signed for an approver
PORTAL = "portal"
#: the principal of the portal's key in the allowed-signers file (never an e-mail address)
PORTAL_PRINCIPAL = "dialogpress-portal"

State = Literal["approved", "grandfathered", "missing", "stale", "invalid"]
#: states that let a piece go public: approved, or live and unchanged since before the
#: site's approvals started (``approvals_start`` in trust.yml)
PUBLIC_STATES = ("approved", "grandfathered")
Verdict = Literal["valid", "stale", "invalid"]


class ApprovalError(Exception):
    """An approval that cannot be made or written; the message says what to do."""


# --- approvals ---------------------------------------------------------------------------


@dataclass
class Approval:
    """One approver's signed word that one version of one piece may go public."""

    piece: str
    hash: str
    approver: str
    at: datetime
    signature: str = ""
    comment: str | None = None
    via: str | None = None

    def payload(self) -> bytes:
        """The exact text that is signed: every field but the signature, in a fixed order.

        Values are JSON strings so that a comment with a line break cannot forge a field.
        """
        lines = [
            PAYLOAD_VERSION,
            f"piece: {json.dumps(self.piece, ensure_ascii=False)}",
            f"hash: {json.dumps(self.hash)}",
            f"approver: {json.dumps(self.approver, ensure_ascii=False)}",
            f"at: {json.dumps(iso(self.at))}",
        ]
        if self.comment is not None:
            lines.append(f"comment: {json.dumps(self.comment, ensure_ascii=False)}")
        if self.via is not None:
            lines.append(f"via: {json.dumps(self.via, ensure_ascii=False)}")
        return ("\n".join(lines) + "\n").encode("utf-8")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "piece": self.piece,
            "hash": self.hash,
            "approver": self.approver,
            "at": iso(self.at),
            "comment": self.comment,
            "via": self.via,
            "signature": self.signature.strip() + "\n" if self.signature else None,
        }
        return {k: v for k, v in data.items() if v is not None}

    def to_yaml(self, indent: str = "  ") -> str:
        """The entry as YAML lines of an ``approvals:`` list, ``indent`` before the dash."""
        return yaml_entry(self.to_dict(), _FIELD_ORDER, indent, blocks=("signature",))

    @property
    def via_portal(self) -> bool:
        return self.via == PORTAL


def parse_approval(entry: object, index: int) -> tuple[Approval, str | None]:
    """An approval from its front-matter entry, and what is malformed about it (or None)."""
    data = entry if isinstance(entry, dict) else {}
    text = {k: v for k, v in data.items() if isinstance(v, str)}
    when = datetime.fromtimestamp(0, UTC)
    problem: str | None = None
    raw_at = data.get("at")
    if isinstance(raw_at, datetime):
        when = raw_at
    elif isinstance(raw_at, str):
        try:
            when = datetime.fromisoformat(raw_at.strip())
        except ValueError:
            problem = f"'at' is not a time: {raw_at!r}"
    if problem is None and raw_at is not None and when.tzinfo is None:
        problem = "'at' has no time zone offset"
    missing = [k for k in ("piece", "hash", "approver", "at", "signature") if not data.get(k)]
    if not isinstance(entry, dict):
        problem = f"approvals[{index}] must be a mapping with piece, hash, approver, at, signature"
    elif missing:
        problem = f"approvals[{index}] lacks {', '.join(missing)}"
    approval = Approval(
        piece=text.get("piece", ""),
        hash=text.get("hash", ""),
        approver=text.get("approver", ""),
        at=when,
        signature=text.get("signature", ""),
        comment=text.get("comment"),
        via=text.get("via"),
    )
    return approval, problem


def piece_approvals(piece: Piece) -> list[tuple[Approval, str | None]]:
    value = piece.metadata.get("approvals")
    if value is None:
        return []
    if not isinstance(value, list):
        return [(parse_approval(None, 0)[0], "'approvals' must be a list of approvals")]
    return [parse_approval(entry, index) for index, entry in enumerate(value)]


