"""Change requests: an approver's "not like this", kept in the piece beside its approvals.

The portal's approvers cannot comment on a pull request, so their request for changes is
written where the editors look: the piece's own front matter (``change_requests:``), which
shows in the branch's diff and in ``dialogpress review``. Like an approval it names the
version it was made on (the content hash), so the report can tell a request the editor
has not answered yet from one about an earlier version. Change requests are not part of
the content: adding one changes no hash and makes nobody an author.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from editorial.foreign import SIDECAR_SUFFIX, decisions_file
from editorial.front_matter_edit import EditError, append_entry, yaml_entry
from editorial.pieces import Piece
from editorial.times import iso

KEY = "change_requests"
_FIELD_ORDER = ("piece", "hash", "approver", "at", "comment", "via")


class ChangeRequestError(Exception):
    """A change request that cannot be written; the message says why."""


@dataclass(frozen=True)
class ChangeRequest:
    """What an approver asked to change in one version of one piece."""

    piece: str
    hash: str
    approver: str
    at: datetime
    comment: str
    via: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "piece": self.piece,
            "hash": self.hash,
            "approver": self.approver,
            "at": iso(self.at),
            "comment": self.comment,
            "via": self.via,
        }
        return {k: v for k, v in data.items() if v is not None}

    def to_yaml(self, indent: str = "  ") -> str:
        return yaml_entry(self.to_dict(), _FIELD_ORDER, indent)


def _time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def piece_change_requests(piece: Piece) -> list[ChangeRequest]:
    """The piece's change requests, oldest first; entries without a comment are skipped
    (they ask nothing an editor could act on)."""
    value = piece.metadata.get(KEY)
    if not isinstance(value, list):
        return []
    found = []
    for entry in value:
        if not isinstance(entry, dict) or not str(entry.get("comment") or "").strip():
            continue
        found.append(
            ChangeRequest(
                piece=str(entry.get("piece") or piece.id),
                hash=str(entry.get("hash") or ""),
                approver=str(entry.get("approver") or "unknown"),
                at=_time(entry.get("at")) or datetime.fromtimestamp(0, UTC),
                comment=str(entry["comment"]).strip(),
                via=str(entry["via"]) if entry.get("via") else None,
            )
        )
    return sorted(found, key=lambda r: r.at)


def write_change_request(piece: Piece, request: ChangeRequest) -> None:
    """Append ``request`` to the piece's ``change_requests:`` list, changing nothing else."""
    if piece.source is None:
        raise ChangeRequestError(f"{piece.path} cannot be read; fix its errors first")
    if not request.comment.strip():
        raise ChangeRequestError("a change request needs a comment saying what to change")
    try:
        target = decisions_file(piece.source)
        shown = piece.path + (SIDECAR_SUFFIX if target != piece.source.path else "")
        append_entry(target, shown, KEY, request.to_yaml, request.to_dict())
    except EditError as exc:
        raise ChangeRequestError(str(exc)) from None
