"""Making an approval: signing the current version (by the approver or the portal) and
appending it to the piece's ``approvals:`` list, refusing what would not count."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from editorial.approvals.authorship import _Authorship
from editorial.approvals.hashing import content_hash
from editorial.approvals.keys import Approver, _key_id, _optional_trust, public_key, trust_root
from editorial.approvals.record import PORTAL, Approval, ApprovalError
from editorial.approvals.signing import sign
from editorial.foreign import SIDECAR_SUFFIX, decisions_file
from editorial.front_matter_edit import EditError, append_entry
from editorial.pieces import Piece, Site

if TYPE_CHECKING:
    pass


logger = logging.getLogger(__name__)

# --- writing -----------------------------------------------------------------------------


def sign_approval(
    piece: Piece,
    site: Site,
    key_path: Path,
    approver_email: str,
    now: datetime,
    comment: str | None = None,
) -> Approval:
    """Sign the piece's current content as ``approver_email`` with their key.

    Refuses what would not count: a key that is not the approver's, a piece that does
    not exist as read, and the approver's own piece.
    """
    trust = trust_root(site.settings)
    approver = trust.find_approver(approver_email)
    if approver is None:
        raise ApprovalError(f"{approver_email} is not an approver in {trust.describe()}")
    if _key_id(public_key(key_path)) != approver.key_id:
        raise ApprovalError(
            f"the key {key_path} is not the key {trust.describe()} lists for {approver.email}"
        )
    return _sign_current(piece, site, approver, key_path, now, comment, None)


def sign_portal_approval(
    piece: Piece,
    site: Site,
    key_path: Path,
    approver_email: str,
    now: datetime,
    comment: str | None = None,
    expected_hash: str | None = None,
) -> Approval:
    """Sign the piece's current content for ``approver_email`` with the portal's key.

    The portal has verified who the approver is (their single-use link); it may sign
    only for the approvers ``PORTAL_SIGNER`` lists, and with ``expected_hash`` only the
    version the approver was shown.
    """
    trust = trust_root(site.settings)
    signer = trust.portal
    if signer is None:
        raise ApprovalError(
            f"{trust.describe()} has no portal: the portal may not sign for anyone"
        )
    approver = trust.find_approver(approver_email)
    if approver is None:
        raise ApprovalError(f"{approver_email} is not an approver in {trust.describe()}")
    if not signer.may_sign_for(approver.email):
        raise ApprovalError(
            f"the portal may not sign for {approver.email}: portal.approvers in "
            f"{trust.describe()} does not list them"
        )
    if _key_id(public_key(key_path)) != signer.key_id:
        raise ApprovalError(f"the key {key_path} is not the portal key {trust.describe()} lists")
    if expected_hash is not None and piece.source is not None:
        current = content_hash(piece)
        if current != expected_hash:
            raise ApprovalError(
                f"{piece.path} changed since it was shown ({expected_hash[:19]}… is now "
                f"{current[:19]}…); look at the new version first"
            )
    return _sign_current(piece, site, approver, key_path, now, comment, PORTAL)


def _sign_current(
    piece: Piece,
    site: Site,
    approver: Approver,
    key_path: Path,
    now: datetime,
    comment: str | None,
    via: str | None,
) -> Approval:
    if piece.source is None:
        raise ApprovalError(f"{piece.path} cannot be read; fix its errors first")
    who = "you are" if via is None else f"{approver.email} is"
    authorship = _Authorship(site, _optional_trust(site)[0])
    authorship.prepare([piece])
    if authorship.problem:
        raise ApprovalError(authorship.problem)
    authors = authorship.authors(piece)
    if piece.id in authorship.unauthenticated:
        raise ApprovalError(f"{piece.path}: {authorship.unauthenticated[piece.id]}")
    for author in authors:
        if author.is_approver(approver):
            raise ApprovalError(
                f"{piece.path}: {who} an author of this piece ({author.source}); "
                "another approver has to approve it"
            )
    if now.tzinfo is None:
        raise ApprovalError("the approval time must carry a time zone")
    approval = Approval(
        piece=piece.id,
        hash=content_hash(piece),
        approver=approver.email,
        at=now.replace(microsecond=0),
        comment=comment,
        via=via,
    )
    return sign(approval, key_path)


def write_approval(piece: Piece, approval: Approval) -> None:
    """Append ``approval`` to the piece's ``approvals:`` list, changing nothing else."""
    if piece.source is None:
        raise ApprovalError(f"{piece.path} cannot be read; fix its errors first")
    try:
        target = decisions_file(piece.source)
        shown = piece.path + (SIDECAR_SUFFIX if target != piece.source.path else "")
        append_entry(target, shown, "approvals", approval.to_yaml, approval.to_dict())
    except EditError as exc:
        raise ApprovalError(str(exc)) from None
    logger.info("approval of %s by %s written", piece.id, approval.approver)

