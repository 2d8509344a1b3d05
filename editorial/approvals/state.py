"""Whether each piece may go public: every approval judged (valid, stale, invalid) and the
piece's state (approved, grandfathered, missing, stale, invalid), for all pieces at once with
one ``git log`` and one allowed-signers file.

An approval ``via: portal`` counts only for approvers the trust file's ``portal:`` lists;
nobody's approval counts for a piece they wrote.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from editorial.approvals.authorship import _Authorship
from editorial.approvals.hashing import content_folder, content_hash, referenced_media
from editorial.approvals.keys import Approver, _optional_trust
from editorial.approvals.record import (
    PORTAL_PRINCIPAL,
    PUBLIC_STATES,
    Approval,
    ApprovalError,
    State,
    Verdict,
    piece_approvals,
)
from editorial.approvals.signing import _Signatures
from editorial.findings import Finding
from editorial.pieces import Piece, Site
from editorial.settings import settings_root

if TYPE_CHECKING:
    from editorial.trust import TrustRoot

logger = logging.getLogger(__name__)


# --- states ------------------------------------------------------------------------------


@dataclass
class ApprovalCheck:
    """One approval entry and what it counts for: valid, stale, or invalid with a reason."""

    approval: Approval
    verdict: Verdict
    reason: str | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = self.approval.to_dict()
        data.pop("signature", None)
        data.update(verdict=self.verdict, reason=self.reason, name=self.name)
        return data


@dataclass
class ApprovalState:
    """Whether a piece may go public, and every approval with what it counts for."""

    piece: str
    state: State
    hash: str | None
    required: int
    approvals: list[ApprovalCheck] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    approvers: list[str] = field(default_factory=list)
    #: what the piece lacks as a whole ("1 of 2 required approvals"), beside per-entry reasons
    note: str | None = None

    @property
    def approved(self) -> bool:
        """Whether the piece may go public (approved, or live before approvals started)."""
        return self.state in PUBLIC_STATES

    def approved_by(self, email: str) -> bool:
        """Whether ``email`` has a valid approval of the current version."""
        return any(
            check.verdict == "valid" and check.approval.approver.casefold() == email.casefold()
            for check in self.approvals
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "piece": self.piece,
            "state": self.state,
            "hash": self.hash,
            "required": self.required,
            "approvers": self.approvers,
            "reasons": self.reasons,
            "note": self.note,
            "approvals": [check.to_dict() for check in self.approvals],
        }


def signer_problem(
    approval: Approval, approver: Approver | None, trust: TrustRoot, signatures: _Signatures
) -> str | None:
    """Why ``approval`` was not signed by an approver of ``trust`` (or by the portal for
    one it may sign for), or None when it was: the rule pieces and the site share."""
    if approver is None:
        return (
            f"unknown approver: {approval.approver} is not an approver in {trust.describe()}"
        )
    principal = approver.email
    if approval.via_portal:
        if trust.portal is None or not trust.portal.may_sign_for(approver.email):
            return (
                f"the portal may not sign for {approver.email}: portal.approvers in "
                f"{trust.describe()} does not list them"
            )
        principal = PORTAL_PRINCIPAL
    try:
        return signatures.problem(approval, principal)
    except ApprovalError as exc:
        return f"bad signature: cannot be checked: {exc}"


def overall_state(checks: list[ApprovalCheck], required: int) -> tuple[State, list[str]]:
    """Approved when ``required`` distinct approvers' approvals are valid; else stale,
    invalid or missing, the first that applies. Also the approvers who count."""
    valid: dict[str, str] = {}  # one approver, however often they approved, counts once
    for check in checks:
        if check.verdict == "valid":
            valid.setdefault(check.approval.approver.casefold(), check.approval.approver)
    if len(valid) >= required:
        return "approved", list(valid.values())
    if any(c.verdict == "stale" for c in checks):
        return "stale", list(valid.values())
    if any(c.verdict == "invalid" for c in checks):
        return "invalid", list(valid.values())
    return "missing", list(valid.values())


class _Judge:
    """Judges approvals of many pieces with shared git history and one signers file."""

    def __init__(self, site: Site, folder: Path):
        self.site = site
        self.trust, self.trust_problem = _optional_trust(site)
        self.people = list(self.trust.approvers) if self.trust else []
        self.required = self.trust.required if self.trust else 1
        self.portal = self.trust.portal if self.trust else None
        self.signatures = _Signatures(self.people, folder, self.portal)
        self.authorship = _Authorship(site, self.trust)
        self.batch: list[Piece] = []
        self._baseline: Any = None
        self._baseline_read = False

    def grandfathered(self, piece: Piece) -> str | None:
        """Why ``piece`` stays public without approvals, or None.

        ``approvals_start`` in trust.yml (read from the protected ref: a branch cannot
        move it) names a commit or a time; a post or page counts as live before it when
        the protected ref held this very file, byte for byte, at that commit and its date
        was before the start. Any change of the file, and every new file, needs approvals.
        """
        if self.trust is None or self.trust.approvals_start is None or not piece.on_site:
            return None
        if piece.source is None or piece.is_draft:
            return None
        if not self._baseline_read:
            from editorial.trust import TrustError, approvals_baseline

            self._baseline_read = True
            try:
                self._baseline = approvals_baseline(settings_root(self.site.settings), self.trust)
            except TrustError as exc:
                logger.warning("approvals_start ignored: %s", exc)
        baseline = self._baseline
        if baseline is None:
            return None
        from editorial.trust import blob_id

        inside = baseline.prefix + piece.path
        if baseline.blobs.get(inside) != blob_id(piece.source.raw):
            return None
        if piece.publish_at is not None and piece.publish_at > baseline.at:
            return None
        # what the page shows must be as it was too: a picture swapped since needs approval
        below = baseline.prefix + piece.path[: len(piece.path) - len(piece.id)]
        folder = content_folder(piece)
        for media in referenced_media(piece):
            file = folder / media
            now = blob_id(file.read_bytes()) if file.is_file() and not file.is_symlink() else None
            if baseline.blobs.get(below + media) != now:
                return None
        return (
            f"live before approvals started ({self.trust.approvals_start}: commit "
            f"{baseline.commit[:7]}) and unchanged since; any change needs approvals"
        )

    def check(
        self, piece: Piece, approval: Approval, malformed: str | None, current: str
    ) -> ApprovalCheck:
        approver = self.trust.find_approver(approval.approver) if self.trust else None
        name = approver.name if approver else None
        if malformed:
            return ApprovalCheck(approval, "invalid", f"malformed: {malformed}", name)
        if self.trust is None:
            return ApprovalCheck(approval, "invalid", str(self.trust_problem), name)
        if approval.piece != piece.id:
            return ApprovalCheck(
                approval,
                "invalid",
                f"copied from another piece: it was signed for {approval.piece}; an approval "
                "names the file it was given for, so a copied or renamed file needs its own",
                name,
            )
        problem = signer_problem(approval, approver, self.trust, self.signatures)
        if problem or approver is None:
            return ApprovalCheck(approval, "invalid", problem, name)
        if self.authorship.problem:
            return ApprovalCheck(approval, "invalid", self.authorship.problem, name)
        authors = self.authorship.authors(piece)
        if piece.id in self.authorship.unauthenticated:
            return ApprovalCheck(
                approval, "invalid", self.authorship.unauthenticated[piece.id], name
            )
        for author in authors:
            if author.is_approver(approver):
                return ApprovalCheck(
                    approval,
                    "invalid",
                    f"self-approval: {approver.email} is an author of the piece "
                    f"({author.source})",
                    name,
                )
        if approval.hash != current:
            return ApprovalCheck(
                approval,
                "stale",
                f"the piece changed after {approver.name} approved it on "
                f"{approval.at:%Y-%m-%d %H:%M %z}",
                name,
            )
        return ApprovalCheck(approval, "valid", None, name)

    def state(self, piece: Piece) -> ApprovalState:
        if piece.source is None:
            unreadable = "the file cannot be read; fix its errors first"
            return ApprovalState(
                piece.id, "missing", None, self.required, reasons=[unreadable], note=unreadable
            )
        current = content_hash(piece)
        entries = piece_approvals(piece)
        if entries:
            self.authorship.prepare([*self.batch, piece])
        checks = [self.check(piece, a, problem, current) for a, problem in entries]
        reasons = [
            f"{c.approval.approver} ({c.approval.at:%Y-%m-%d %H:%M}): {c.reason}"
            for c in checks
            if c.reason
        ]
        unsafe = [f"refused: {f.message} (line {f.line})" for f in piece.unsafe_findings()]
        state, valid = overall_state(checks, self.required)
        if unsafe:
            # signed or not, the approver cannot have seen what readers would get
            state = "invalid"
            reasons = [*unsafe, *reasons]
        elif state != "approved" and (before := self.grandfathered(piece)) is not None:
            state = "grandfathered"
            reasons = [before, *reasons]
        note: str | None = None
        if unsafe:
            more = f" (and {len(unsafe) - 1} more)" if len(unsafe) > 1 else ""
            note = f"{unsafe[0]}{more}; no approval counts while it is there"
        elif state not in PUBLIC_STATES:
            if self.trust is None:
                note = str(self.trust_problem)
            elif not checks:
                note = "nobody has approved it yet"
            elif valid or self.required > 1:
                note = f"{len(valid)} of {self.required} required approvals"
        return ApprovalState(
            piece.id,
            state,
            current,
            self.required,
            checks,
            [note, *reasons] if note else reasons,
            valid,
            note,
        )


def approval_states(site: Site, pieces: Iterable[Piece] | None = None) -> dict[str, ApprovalState]:
    """The approval state of every piece (or of ``pieces``), keyed by piece id.

    One ``git log`` and one signers file serve all pieces, so asking for the whole
    site costs little more than asking for one piece.
    """
    wanted = list(site.pieces if pieces is None else pieces)
    with tempfile.TemporaryDirectory(prefix="dp-approvals-") as tmp:
        judge = _Judge(site, Path(tmp))
        judge.batch = [p for p in wanted if p.source is not None and "approvals" in p.metadata]
        return {piece.id: judge.state(piece) for piece in wanted}


def approvals_start_note(site: Site) -> str | None:
    """What ``approvals_start`` in trust.yml means for this site, for ``check`` and
    ``approvals`` to say; None when approvals start with the first piece."""
    trust, _ = _optional_trust(site)
    if trust is None or trust.approvals_start is None:
        return None
    from editorial.trust import TrustError, approvals_baseline

    try:
        baseline = approvals_baseline(settings_root(site.settings), trust)
    except TrustError as exc:
        return f"approvals_start is ignored: {exc}"
    if baseline is None:
        return (f"approvals start at {trust.approvals_start} ({trust.describe()}), before "
                f"the first commit of {trust.ref}: every post and page needs approvals")
    return (
        f"approvals start at {trust.approvals_start} ({trust.describe()}): posts and pages "
        f"{trust.ref} held at commit {baseline.commit[:7]}, dated before "
        f"{baseline.at:%Y-%m-%d %H:%M %z} and unchanged since, stay public without "
        "approvals (state 'grandfathered'); everything newer or changed needs them"
    )


def approval_state(piece: Piece, site: Site) -> ApprovalState:
    return approval_states(site, [piece])[piece.id]


def needs_approval(piece: Piece) -> bool:
    """Every piece that is not a draft is meant to go public, so it needs an approval.

    Hidden posts count: Pelican publishes them, only without listing them.
    """
    return not piece.is_draft


def approval_findings(site: Site) -> list[Finding]:
    """Add an ``approval.<state>`` error to every piece that needs but lacks an approval."""
    scope = [p for p in site.pieces if needs_approval(p)]
    found: list[Finding] = []
    states = approval_states(site, scope)
    for piece in scope:
        state = states[piece.id]
        if state.approved:
            continue
        message = f"not approved ({state.state}): " + "; ".join(state.reasons)
        where = "approvals" if "approvals" in piece.metadata else "title"
        if piece.source is not None:
            finding = piece.source.finding(f"approval.{state.state}", message, where)
        else:
            finding = Finding(f"approval.{state.state}", "error", piece.path, message)
        piece.findings.append(finding)
        found.append(finding)
    return found

