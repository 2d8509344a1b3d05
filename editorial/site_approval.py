"""The site approval: the client approves what frames every page, not only the pieces.

A theme, a plugin, the settings or the guideline can change what readers see of an
approved post (a template that adds a line, a plugin that rewrites text, a setting that
turns the gate off) without changing the post. So the files that frame every page —
``site: files:`` in the trust file, by default the settings, the guideline, the theme and
the plugins — are approved as a whole: ``site-approval.yml`` records their digests and
the approvers' signatures over the digest of that list. A production build refuses to
run while the framing files differ from what was approved, naming the files, and never
executes the unapproved settings to find out.

The approvals follow the pieces' rules: signed with the approver's SSH key (or by the
portal for the approvers it may sign for), by approvers of the trust root in force, and
never by someone who changed the framing files on this branch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from editorial.approvals import (
    Approval,
    ApprovalCheck,
    ApprovalError,
    Author,
    State,
    overall_state,
    parse_approval,
    public_key,
    sign,
    signer_problem,
)
from editorial.approvals.keys import _key_id
from editorial.approvals.signing import _Signatures
from editorial.history import HistoryError, open_repository
from editorial.trust import (
    FORGE_PRINCIPAL,
    NoTrustRoot,
    TrustError,
    TrustRoot,
    load_trust,
    parse_document,
)

logger = logging.getLogger(__name__)

SITE_APPROVAL_FILE = "site-approval.yml"
#: the id an approval of the framing files signs
SITE_PIECE = "site"
_SKIPPED_PARTS = ("__pycache__", ".git")


class SiteApprovalError(Exception):
    """A site approval that cannot be made; the message says what to do."""


def frame_manifest(site_root: Path, trust: TrustRoot) -> tuple[dict[str, str], list[str]]:
    """``path → sha256:…`` of every framing file, and the symlinks refused on the way.

    A symlink is never followed: it could frame a page with a file outside the site.
    """
    root = Path(site_root)
    manifest: dict[str, str] = {}
    refused: list[str] = []
    for pattern in trust.frame:
        # Path.glob's ``**`` matches folders only (before Python 3.13); git's matches all
        files = pattern + "/*" if pattern.endswith("**") else pattern
        for path in sorted(root.glob(files)):
            relative = path.relative_to(root)
            if any(part in _SKIPPED_PARTS for part in relative.parts) or path.suffix == ".pyc":
                continue
            linked = [
                root.joinpath(*relative.parts[: i + 1])
                for i in range(len(relative.parts))
                if root.joinpath(*relative.parts[: i + 1]).is_symlink()
            ]
            if linked:
                refused.append(linked[0].relative_to(root).as_posix())
                continue
            if path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                manifest[relative.as_posix()] = "sha256:" + digest
    return dict(sorted(manifest.items())), sorted(set(refused))


def manifest_hash(manifest: dict[str, str]) -> str:
    text = json.dumps(sorted(manifest.items()), separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class SiteApprovalState:
    """Whether the framing files are approved as they are, and what changed if not."""

    state: State
    hash: str
    files: dict[str, str]
    changed: list[str] = field(default_factory=list)
    approvals: list[ApprovalCheck] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    approvers: list[str] = field(default_factory=list)
    required: int = 1
    #: no trust set-up at all: nothing is approved, and the framing cannot be judged
    unconfigured: bool = False

    @property
    def approved(self) -> bool:
        return self.state == "approved"

    @property
    def may_run(self) -> bool:
        """Whether production may run these settings: approved, or a site without any
        trust set-up (where no piece counts as approved either, so the gate publishes
        nothing it guards); a broken set-up is refused."""
        return self.approved or self.unconfigured

    def summary(self) -> str:
        """One line for an error message: what is not approved and which files."""
        if self.approved:
            return "layout/settings approved"
        shown = ", ".join(self.changed[:8]) + (" …" if len(self.changed) > 8 else "")
        files = f": {shown}" if shown else ""
        why = f" ({'; '.join(self.reasons)})" if self.reasons else ""
        return f"layout/settings changed and not approved ({self.state}){files}{why}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "piece": SITE_PIECE,
            "state": self.state,
            "hash": self.hash,
            "required": self.required,
            "changed": self.changed,
            "approvers": self.approvers,
            "reasons": self.reasons,
            "approvals": [check.to_dict() for check in self.approvals],
        }


def _recorded(site_root: Path) -> tuple[dict[str, str], list[tuple[Approval, str | None]]]:
    path = Path(site_root) / SITE_APPROVAL_FILE
    if not path.is_file() or path.is_symlink():
        return {}, []
    try:
        data = parse_document(path.read_bytes(), str(path))
    except TrustError as exc:
        return {}, [(parse_approval(None, 0)[0], str(exc))]
    files = data.get("files") or {}
    recorded = {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}
    entries = data.get("approvals") or []
    if not isinstance(entries, list):
        return recorded, [(parse_approval(None, 0)[0], "'approvals' must be a list")]
    return recorded, [parse_approval(entry, i) for i, entry in enumerate(entries)]


def _changed(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    return sorted(
        path for path in set(recorded) | set(current) if recorded.get(path) != current.get(path)
    )


def frame_authors(site_root: Path, trust: TrustRoot) -> tuple[list[Author], str | None]:
    """Who changed the framing files on this branch (commits on HEAD that the protected
    ref lacks, and uncommitted changes), and why that cannot be known, if so."""
    repo = open_repository(Path(site_root))
    if repo is None:
        return [], "authorship unknown: the site is not in a git repository"
    prefix = repo.prefix
    specs = [f":(glob){prefix}{pattern}" for pattern in trust.frame]
    found: list[Author] = []
    problem: str | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="dp-signers-") as tmp:
            signers = Path(tmp) / "allowed_signers"
            signers.write_text(trust.commit_signers(), encoding="utf-8")
            changes = repo.log(signers, paths=specs, revisions=f"{trust.ref}..HEAD")
        dirty = repo.git("status", "--porcelain=v1", "-z", "--", *specs).strip(b"\0")
        email, name = repo.user()
    except HistoryError as exc:
        return [], f"authorship unknown: {exc}"
    for change in changes:
        commit = change.commit
        where = f"commit {commit.short} ({commit.subject})"
        found.append(
            Author(commit.author_email, commit.author_name, f"changed {change.path} in {where}")
        )
        if commit.verified and commit.signer != FORGE_PRINCIPAL:
            found.append(Author(commit.signer, None, f"signed {where}"))
        found += [Author(e, n, f"co-author of {where}") for n, e in commit.co_authors]
        if trust.unsigned == "refuse" and not commit.verified and problem is None:
            problem = (
                f"authorship unknown: {where} changed {change.path} and is not signed by a "
                f"key of {trust.describe()}"
            )
    if dirty and (email or name):
        found.append(Author(email, name, "has uncommitted changes of the framing files"))
    return found, problem


def site_approval_state(site_root: Path, trust: TrustRoot | None = None) -> SiteApprovalState:
    """Judge ``site-approval.yml`` against the framing files in the working tree.

    Reads only files and git: the settings are not executed, so an unapproved
    ``pelicanconf.py`` is judged before it can run.
    """
    root = Path(site_root)
    if trust is None:
        try:
            trust = load_trust(root)
        except TrustError as exc:
            return SiteApprovalState("invalid", "", {}, reasons=[str(exc)],
                                     unconfigured=isinstance(exc, NoTrustRoot))
    current, refused = frame_manifest(root, trust)
    digest = manifest_hash(current)
    recorded, entries = _recorded(root)
    changed = _changed(recorded, current)
    if refused:
        return SiteApprovalState(
            "invalid", digest, current, refused, required=trust.required,
            reasons=[f"symlinks are refused in the framing files: {', '.join(refused)}"],
        )
    if not trust.frame:
        return SiteApprovalState("approved", digest, current, required=trust.required)
    checks: list[ApprovalCheck] = []
    with tempfile.TemporaryDirectory(prefix="dp-site-") as tmp:
        signatures = _Signatures(list(trust.approvers), Path(tmp), trust.portal)
        authors: list[Author] | None = None
        authorship_problem: str | None = None
        for approval, malformed in entries:
            approver = trust.find_approver(approval.approver)
            name = approver.name if approver else None

            def judged(verdict: str, reason: str | None, a: Approval = approval,
                       n: str | None = name) -> ApprovalCheck:
                return ApprovalCheck(a, verdict, reason, n)  # type: ignore[arg-type]

            if malformed:
                checks.append(judged("invalid", f"malformed: {malformed}"))
                continue
            if approval.piece != SITE_PIECE:
                checks.append(judged("invalid", f"signed for {approval.piece}, not the site"))
                continue
            problem = signer_problem(approval, approver, trust, signatures)
            if problem or approver is None:
                checks.append(judged("invalid", problem))
                continue
            if authors is None:
                authors, authorship_problem = frame_authors(root, trust)
            if authorship_problem:
                checks.append(judged("invalid", authorship_problem))
                continue
            own = next((a for a in authors if a.is_approver(approver)), None)
            if own is not None:
                checks.append(judged(
                    "invalid",
                    f"self-approval: {approver.email} changed the layout/settings ({own.source})",
                ))
                continue
            if approval.hash != digest:
                checks.append(judged(
                    "stale",
                    f"the layout/settings changed after {approver.name} approved them on "
                    f"{approval.at:%Y-%m-%d %H:%M %z}",
                ))
                continue
            checks.append(judged("valid", None))
    reasons = [f"{c.approval.approver}: {c.reason}" for c in checks if c.reason]
    state, valid = overall_state(checks, trust.required)
    if state == "approved":
        changed = []
    elif not entries:
        reasons.append(f"no site approval yet ({SITE_APPROVAL_FILE})")
    if state != "approved" and len(valid) and trust.required > 1:
        reasons.insert(0, f"{len(valid)} of {trust.required} required approvals")
    if state != "approved" and not changed:
        changed = sorted(current)
    return SiteApprovalState(
        state, digest, current, changed, checks, reasons, valid, trust.required
    )


def sign_site_approval(
    site_root: Path, key_path: Path, now: datetime, comment: str | None = None,
) -> Approval:
    """Approve the framing files as they are with the approver's own key, and write
    ``site-approval.yml`` (the current digests, the approvals that still hold, the new one)."""
    root = Path(site_root)
    try:
        trust = load_trust(root)
    except TrustError as exc:
        raise SiteApprovalError(str(exc)) from None
    approver = trust.approver_for_key(public_key(key_path))
    if approver is None:
        raise SiteApprovalError(
            f"the key {key_path} belongs to no approver in {trust.describe()}"
        )
    state = site_approval_state(root, trust)
    if any("symlinks" in reason for reason in state.reasons):
        raise SiteApprovalError("; ".join(state.reasons))
    authors, problem = frame_authors(root, trust)
    if problem:
        raise SiteApprovalError(problem)
    own = next((a for a in authors if a.is_approver(approver)), None)
    if own is not None:
        raise SiteApprovalError(
            f"you changed the layout/settings yourself ({own.source}); another approver has "
            "to approve them"
        )
    if now.tzinfo is None:
        raise SiteApprovalError("the approval time must carry a time zone")
    if _key_id(public_key(key_path)) != approver.key_id:
        raise SiteApprovalError(f"the key {key_path} is not {approver.email}'s")
    try:
        approval = sign(
            Approval(SITE_PIECE, state.hash, approver.email, now.replace(microsecond=0),
                     comment=comment),
            key_path,
        )
    except ApprovalError as exc:
        raise SiteApprovalError(str(exc)) from None
    kept = [c.approval for c in state.approvals
            if c.verdict == "valid" and c.approval.approver != approver.email]
    write_site_approval(root, state.files, [*kept, approval])
    return approval


def write_site_approval(site_root: Path, files: dict[str, str], approvals: list[Approval]) -> Path:
    path = Path(site_root) / SITE_APPROVAL_FILE
    lines = [
        "# The client's approval of what frames every page (docs/security.md).",
        "# Written by `dialogpress approve --site`; edit nothing here by hand.",
        "files:",
        *(f"  {json.dumps(name)}: {digest}" for name, digest in files.items()),
        "approvals:",
    ]
    text = "\n".join(lines) + "\n" + "".join(a.to_yaml() for a in approvals)
    path.write_text(text, encoding="utf-8")
    return path
