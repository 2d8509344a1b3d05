"""The approval portal's work on the branch: what the approver sees and what lands in git.

The desk keeps its own clone of the site (``PORTAL["workspace"]``) and pushes to the
site's remote; everything here runs under the clone's lock, so one checkout serves one
request at a time. What an approver is shown is read from the branch as it is on the
remote at that moment; what they approve is checked against what they were shown, in
the commit that records it: when the editor pushed a change in between, nothing is
written and the page shows the new version first (:class:`ContentChanged`).

An approval made here is an approval like any other (``editorial.approvals``), signed
with the portal's own key (``DP_PORTAL_KEY``, a file outside git) for the approver the
single-use link verified, and only when ``PORTAL_SIGNER`` lists them. A change request
goes into the piece's front matter, where ``dialogpress review`` shows it.

Nothing of the branch runs in the desk: the branch's pieces are read with the desk's own
settings (loaded at start, from the operator's checkout), only their content folder
pointed at the clone; the branch's ``pelicanconf.py``, ``publishconf.py``, guideline,
theme and plugins are never executed or read here. A symbolic link in the branch's
content refuses the review (it would let the branch show, or make the portal write to,
any file the desk can reach). Previews: :mod:`publish.review.previews`.

This module holds the :class:`Portal` (set-up, the clone, reading the branch, requests);
what the approver is shown is :mod:`publish.review.portal_view`'s, what lands in git
:mod:`publish.review.portal_writes`', the mail :mod:`publish.review.portal_mail`'s.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from editorial import git, i18n
from editorial.approvals import (
    ApprovalError,
    approval_states,
    content_hash,
    find_approver,
)
from editorial.change_requests import ChangeRequestError
from editorial.checks import check_site
from editorial.git import GitError
from editorial.history import HistoryError
from editorial.pieces import Site, load_site
from editorial.review_report import changed_pieces
from editorial.settings import Settings, SettingsError, site_zone
from publish.notify.mail import Mailer, MailError, Message, make_mailer
from publish.review import portal_mail, portal_writes
from publish.review import requests as reviews
from publish.review.portal_view import PieceView, ReviewView, piece_view

# re-exported: the portal's callers catch it from here
from publish.review.portal_writes import ContentChanged as ContentChanged
from publish.review.previews import (
    PreviewError,
    build_preview,
    child_environment,
    framing_changes,
)
from publish.review.requests import RequestedPiece, ReviewError, check_approvers
from publish.review.workspace import BranchGone, Identity, Workspace, WorkspaceError, protected_ref
from publish.settings import desk_settings, mail_settings, portal_settings
from publish.store import Store
from publish.store.models import ReviewLink, ReviewPiece, ReviewRequest

logger = logging.getLogger(__name__)

ENV_PORTAL_KEY = "DP_PORTAL_KEY"

class PortalError(Exception):
    """The portal cannot do its work (set-up, git, the branch); the message says why."""


@dataclass
class RequestOutcome:
    """A requested review: which pieces, and to whom the link went or did not."""

    review_id: int
    branch: str
    head: str
    pieces: list[str]
    sent: list[str] = field(default_factory=list)
    unsent: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "review": self.review_id,
            "branch": self.branch,
            "head": self.head,
            "pieces": self.pieces,
            "sent": self.sent,
            "unsent": self.unsent,
        }



def _parse_identity(committer: str) -> Identity:
    name, _, rest = committer.partition("<")
    return Identity(name.strip(), rest.rstrip(">").strip())


class Portal:
    """The portal for one site: its settings, its clone, its key and its mailer."""

    def __init__(self, settings: Settings, environ: Mapping[str, str]):
        self.settings = settings
        self.options = portal_settings(settings)
        self.mail = mail_settings(settings)
        self.environ = environ
        settings_file = Path(str(settings.get("DP_SETTINGS_FILE", "pelicanconf.py"))).resolve()
        self.root = settings_file.parent
        self.settings_name = (
            "pelicanconf.py" if settings_file.name == "publishconf.py" else settings_file.name
        )
        self.workspace_path = self.root / self.options.workspace
        self.previews = self.workspace_path.with_name(self.workspace_path.name + ".previews")
        self._remote: str | None = self.options.remote
        self._workspace: Workspace | None = None
        self._prefix: Path | None = None

    # --- set-up ----------------------------------------------------------------------------

    @property
    def remote(self) -> str:
        if self._remote is None:
            try:
                found = git.output(["remote", "get-url", "origin"], cwd=self.root)
            except GitError as exc:
                raise PortalError(
                    f"{self.root} has no git remote 'origin' ({exc.detail or exc.reason}); "
                    "set PORTAL['remote'] to the site repository the portal pushes approvals to"
                ) from None
            if "://" not in found and not found.startswith(("/", "git@")) and ":" not in found:
                found = str((self.root / found).resolve())
            self._remote = found
        return self._remote

    @property
    def prefix(self) -> Path:
        """Where the site is inside its repository (``.`` when at the top)."""
        if self._prefix is None:
            try:
                top = git.output(["rev-parse", "--show-toplevel"], cwd=self.root)
            except GitError as exc:
                raise PortalError(
                    f"cannot tell where the site {self.root} is in its git repository "
                    f"({exc.detail or exc.reason}); the portal reads the branch at the same "
                    "place in its clone"
                ) from None
            self._prefix = self.root.relative_to(Path(top).resolve())
        return self._prefix

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = Workspace(
                self.workspace_path, self.remote, _parse_identity(self.options.committer)
            )
        return self._workspace

    def key_path(self) -> Path:
        value = self.environ.get(ENV_PORTAL_KEY, "").strip()
        if not value:
            raise PortalError(
                f"{ENV_PORTAL_KEY} is not set: the portal needs the path of its private SSH "
                "key (the one PORTAL_SIGNER['key'] names) to sign approvals"
            )
        path = Path(value).expanduser()
        if not path.is_file():
            raise PortalError(f"{ENV_PORTAL_KEY} names {path}, which is not a file")
        return path

    def mailer(self) -> Mailer:
        return make_mailer(self.mail, self.root, self.environ)

    def base_url(self) -> str:
        if self.options.url:
            return str(self.options.url).rstrip("/")
        desk = desk_settings(self.settings)
        return f"http://{desk.host}:{desk.port}"

    def link_url(self, review_id: int, token: str) -> str:
        return f"{self.base_url()}/portal/{review_id}/{token}"

    # --- reading the branch ------------------------------------------------------------------

    @property
    def content_folder(self) -> PurePosixPath:
        """The content folder relative to the site (``content``), from the desk's settings."""
        content = Path(str(self.settings["PATH"])).resolve()
        if not content.is_relative_to(self.root):
            raise PortalError(
                f"PATH ({content}) is outside the site folder {self.root}; the portal reads "
                "the branch's content at the same place in its clone"
            )
        return PurePosixPath(content.relative_to(self.root).as_posix())

    def _site_in(self, worktree: Path) -> Site:
        """The branch's pieces in ``worktree``, judged with the desk's own settings.

        The branch's settings files are Python; executing them here would hand the
        desk's secrets to whoever can push. Links in the content are refused.
        """
        content = worktree / self.prefix / self.content_folder
        links = symlinks_under(content)
        if links:
            raise PortalError(
                "the branch's content holds symbolic links, which the portal neither shows "
                f"nor approves: {', '.join(links[:5])}; replace them with the files themselves"
            )
        settings = dict(self.settings)
        settings["PATH"] = str(content)
        # a path, never executed: the trust root is read from the clone's protected ref
        settings["DP_SETTINGS_FILE"] = str(worktree / self.prefix / self.settings_name)
        try:
            return load_site(settings)
        except SettingsError as exc:
            raise PortalError(f"the branch cannot be read: {exc}") from None

    def _checkout(self, branch: str) -> tuple[Site, str]:
        try:
            self.workspace.sync()
            sha = self.workspace.checkout(branch)
        except BranchGone:
            raise PortalError(f"the branch {branch} is no longer on the remote") from None
        except WorkspaceError as exc:
            raise PortalError(str(exc)) from None
        return self._site_in(self.workspace.path), sha

    def _protected(self) -> str:
        """The commit whose theme, plugins and settings build previews (see
        :func:`publish.review.workspace.protected_ref`)."""
        branch = self.options.protected_branch or None
        try:
            return protected_ref(self.workspace, branch)
        except WorkspaceError as exc:
            raise PreviewError(
                f"no protected branch to take the site's theme and settings from: {exc}"
            ) from None

    def belongs(self, branch: str, sha: str) -> bool:
        """Whether commit ``sha`` is on ``branch`` as last fetched (previews of this review
        only; another branch's preview is not this approver's to see)."""
        try:
            result = git.run(
                ["merge-base", "--is-ancestor", sha, f"refs/remotes/origin/{branch}"],
                cwd=self.workspace_path, check=False,
            )
        except GitError as exc:  # cannot tell: the preview is not shown
            logger.warning("portal: is %s on %s? %s", sha[:12], branch, exc)
            return False
        return result.returncode == 0

    def branches(self) -> list[str]:
        with self.workspace.locked():
            try:
                self.workspace.sync()
                return self.workspace.branches()
            except WorkspaceError as exc:
                raise PortalError(str(exc)) from None

    def pieces_to_review(
        self, branch: str, base: str, approvers: list[str], expected_head: str | None = None
    ) -> tuple[str, list[RequestedPiece], list[str]]:
        """The branch's head, its changed pieces in their current versions, the approvers.

        ``expected_head`` is the editor's local commit: a review of something they have
        not pushed would show the approver an older text, so it is refused.
        """
        checked = check_approvers(self.settings, approvers)
        with self.workspace.locked():
            site, sha = self._checkout(branch)
            if expected_head is not None and expected_head != sha:
                raise ReviewError(
                    f"{branch} on the remote is at {sha[:12]}, your checkout at "
                    f"{expected_head[:12]}: push first (git push), then request the review"
                )
            branch_site_approvers = check_approvers(site.settings, checked)
            try:
                pieces = changed_pieces(site, f"origin/{base}")
            except HistoryError as exc:
                raise ReviewError(str(exc)) from None
            requested = [
                RequestedPiece(p.id, content_hash(p), p.title) for p in pieces if p.source
            ]
        return sha, requested, branch_site_approvers

    def request_review(
        self,
        store: Store,
        *,
        branch: str,
        base: str,
        approvers: list[str],
        requested_by: str,
        note: str | None,
        now: datetime,
        expected_head: str | None = None,
    ) -> RequestOutcome:
        """Create the review of ``branch`` and mail each approver their link.

        A mail that fails leaves that link unsent (the outcome names it); the review and
        the other links stand, and the editor can ask again for the one approver.
        """
        sha, pieces, checked = self.pieces_to_review(branch, base, approvers, expected_head)
        with store.transaction() as session:
            review, invitations = reviews.create_review(
                session, branch=branch, base=base, head=sha, pieces=pieces, approvers=checked,
                requested_by=requested_by, note=note, now=now,
                link_lifetime=timedelta(days=self.options.link_days),
            )
        outcome = RequestOutcome(review.id, branch, sha, [p.piece for p in pieces])
        mailer = self.mailer()
        for invitation in invitations:
            message = self.invitation(
                review, invitation.approver, invitation.token, len(pieces), requested_by
            )
            try:
                mailer.send(message)
            except MailError as exc:
                logger.error("review %s: link for %s not sent: %s", review.id,
                             invitation.approver, exc)
                outcome.unsent[invitation.approver] = str(exc)
                continue
            with store.transaction() as session:
                reviews.mark_sent(session, invitation.link_id, now)
            outcome.sent.append(invitation.approver)
        return outcome

    def view(
        self, review: ReviewRequest, rows: list[ReviewPiece], approver: str
    ) -> ReviewView:
        """Everything the review page shows, read from the branch as it is now."""
        with self.workspace.locked():
            site, sha = self._checkout(review.branch)
            error = None
            preview: Path | None = None
            framing: list[str] = []
            site_at = PurePosixPath(self.prefix.as_posix())
            try:
                protected = self._protected()
                framing = framing_changes(
                    self.workspace.path, protected, sha, site_at, self.content_folder,
                    child_environment(self.previews),
                )
                preview = build_preview(
                    self.workspace.path, protected, sha, self.previews,
                    site=site_at, content=self.content_folder, settings_name=self.settings_name,
                )
            except PreviewError as exc:
                logger.warning("portal: preview of %s at %s: %s", review.branch, sha[:12], exc)
                error = str(exc)
            found = [site.get(row.piece) for row in rows]
            present = [p for p in found if p is not None]
            check_site(site, pieces=present)
            states = approval_states(site, present)
            views = []
            for row, piece in zip(rows, found, strict=True):
                if piece is None or piece.source is None:
                    views.append(
                        PieceView(row.piece, "missing", row.title or row.piece, "", row.hash,
                                  None, [], "removed", False, missing=True)
                    )
                    continue
                state = states[piece.id]
                views.append(
                    piece_view(site, piece, row, state, state.approved_by(approver), preview)
                )
        return ReviewView(
            review.id, review.branch, sha, site_zone(site.settings).key, views, error,
            framing,
        )


    def approve(
        self,
        review: ReviewRequest,
        link: ReviewLink,
        shown: Mapping[str, str],
        now: datetime,
        comment: str | None = None,
    ) -> tuple[str | None, list[str]]:
        """Approve the pieces in ``shown`` (id → the hash the page showed) for the link's
        approver; returns the commit (None when all were approved already) and the ids.

        Raises :class:`ContentChanged` when any piece changed since it was shown, and
        nothing is written; :class:`PortalError` when the portal may not sign.
        """
        key = self.key_path()
        try:
            check_approvers(self.settings, [link.approver])
        except ReviewError as exc:
            raise PortalError(str(exc)) from None
        approved: list[str] = []

        def change(worktree: Path) -> list[str]:
            approved.clear()
            try:
                paths, ids = portal_writes.write_approvals(
                    self._site_in(worktree), worktree, shown, key, link.approver, now, comment
                )
            except ApprovalError as exc:
                raise PortalError(str(exc)) from None
            approved.extend(ids)
            return paths

        name = self.approver_name(link.approver)
        message = (
            f"Approve {len(shown)} piece{'s' if len(shown) != 1 else ''} for {name} "
            f"via the portal\n\nReview {review.id}: {link.approver} approved in the desk's "
            "approval portal, through their single-use link; signed with the portal's key."
        )
        sha = self._commit(review.branch, change, message)
        return sha, list(approved)

    def request_changes(
        self,
        review: ReviewRequest,
        link: ReviewLink,
        piece_id: str,
        shown_hash: str,
        comment: str,
        now: datetime,
    ) -> str | None:
        """Record the approver's comment in the piece's front matter, about the version
        they saw (the review report marks it when the piece has changed since)."""
        comment = comment.strip()
        if not comment:
            raise PortalError("say what should change: the comment is empty")

        def change(worktree: Path) -> list[str]:
            try:
                return portal_writes.write_change_request_in(
                    self._site_in(worktree), worktree, piece_id, shown_hash, link.approver,
                    comment, now,
                )
            except ChangeRequestError as exc:
                raise PortalError(str(exc)) from None

        message = (
            f"Changes requested by {self.approver_name(link.approver)} via the portal: "
            f"{piece_id}\n\n"
            f"Review {review.id}: {comment}"
        )
        return self._commit(review.branch, change, message)

    def _commit(self, branch: str, change: Any, message: str) -> str | None:
        try:
            return self.workspace.commit_and_push(branch, change, message)
        except BranchGone:
            raise PortalError(f"the branch {branch} is no longer on the remote") from None
        except WorkspaceError as exc:
            raise PortalError(str(exc)) from None

    def approver_name(self, email: str) -> str:
        approver = find_approver(self.settings, email)
        return approver.name if approver else email

    # --- mail --------------------------------------------------------------------------------

    def invitation(
        self, review: ReviewRequest, approver: str, token: str, count: int, requester: str
    ) -> Message:
        return portal_mail.invitation(self, review, approver, token, count, requester)

    def mail_language(self, recipient: str) -> str:
        """The language of a mail to ``recipient``: theirs when the settings know it
        (``PORTAL["languages"]``, address → ``de``/``en``), else the site's."""
        chosen = i18n.normalize(self.options.languages.get(recipient, ""))
        return chosen or i18n.site_language(self.settings)

    def decision_notice(
        self, review: ReviewRequest, approver: str, decision: str, pieces: list[str],
        comment: str | None,
    ) -> Message | None:
        return portal_mail.decision_notice(self, review, approver, decision, pieces, comment)


def symlinks_under(folder: Path) -> list[str]:
    """The symbolic links under ``folder`` (not followed), relative to it, sorted."""
    found = []
    for current, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            path = Path(current) / name
            if path.is_symlink():
                found.append(path.relative_to(folder).as_posix())
    return sorted(found)
