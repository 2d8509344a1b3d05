"""What lands in git when an approver decides in the approval portal: their approvals,
signed with the portal's key, or their change request, written into the pieces' front
matter (or their approvals' sidecar) in the portal's clone of the branch.

Each function runs inside :meth:`publish.review.workspace.Workspace.commit_and_push`, on
the branch as it is on the remote now: what the approver approves must be exactly what
they were shown, else nothing is written (:class:`ContentChanged`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from editorial.approvals import approval_states, content_hash, sign_portal_approval, write_approval
from editorial.change_requests import ChangeRequest, write_change_request
from editorial.pieces import Site


class ContentChanged(Exception):
    """What the approver was shown is no longer what the branch holds; nothing was written."""

    def __init__(self, pieces: list[str]):
        super().__init__("changed since it was shown: " + ", ".join(pieces))
        self.pieces = pieces


def write_approvals(
    site: Site,
    worktree: Path,
    shown: Mapping[str, str],
    key: Path,
    approver: str,
    now: datetime,
    comment: str | None,
) -> tuple[list[str], list[str]]:
    """Sign and write ``approver``'s approval of each piece in ``shown`` (id → the hash the
    page showed) that they have not approved yet; the files written (relative to
    ``worktree``) and the ids approved.

    Raises :class:`ContentChanged` when any piece changed since it was shown (before
    anything is written) and :class:`~editorial.approvals.ApprovalError` when the portal
    may not sign.
    """
    pieces = [site.get(piece_id) for piece_id in shown]
    changed = [
        piece_id for piece_id, piece in zip(shown, pieces, strict=True)
        if piece is None or piece.source is None or content_hash(piece) != shown[piece_id]
    ]
    if changed:
        raise ContentChanged(changed)
    states = approval_states(site, [p for p in pieces if p is not None])
    paths: list[str] = []
    approved: list[str] = []
    for piece in pieces:
        assert piece is not None and piece.source is not None  # noqa: S101 (checked)
        if states[piece.id].approved_by(approver):
            continue
        approval = sign_portal_approval(
            piece, site, key, approver, now, comment, expected_hash=shown[piece.id]
        )
        write_approval(piece, approval)
        approved.append(piece.id)
        # the piece's own file, or its approvals' sidecar (Pelican's own formats)
        target = piece.source.decisions_path or piece.source.path
        paths.append(str(target.relative_to(worktree)))
    return paths, approved


def write_change_request_in(
    site: Site,
    worktree: Path,
    piece_id: str,
    shown_hash: str,
    approver: str,
    comment: str,
    now: datetime,
) -> list[str]:
    """Write ``approver``'s change request about the version they saw (``shown_hash``);
    the file written, relative to ``worktree``.

    Raises :class:`ContentChanged` when the piece is gone and
    :class:`~editorial.change_requests.ChangeRequestError` when it cannot be written.
    """
    piece = site.get(piece_id)
    if piece is None or piece.source is None:
        raise ContentChanged([piece_id])
    request = ChangeRequest(
        piece=piece.id, hash=shown_hash, approver=approver,
        at=now.replace(microsecond=0), comment=comment, via="portal",
    )
    write_change_request(piece, request)
    target = piece.source.decisions_path or piece.source.path
    return [str(target.relative_to(worktree))]
