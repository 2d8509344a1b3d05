"""Who wrote a piece, so that nobody approves their own.

The authors are everyone who committed a change of its content (approval-only commits
excepted; signed commits verified against the trust root), whoever has uncommitted changes
of it in this working tree (the current git user), and everyone its front matter names.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from editorial.approvals.hashing import referenced_media, text_fingerprint
from editorial.approvals.keys import Approver, _optional_trust
from editorial.approvals.record import ApprovalError
from editorial.history import Change, Repository, follow, open_repository
from editorial.pieces import Piece, Site

if TYPE_CHECKING:
    from editorial.trust import TrustRoot


logger = logging.getLogger(__name__)

# --- authors -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Author:
    """Someone who wrote part of a piece, and how we know (a commit, the front matter)."""

    email: str | None
    name: str | None
    source: str

    def is_approver(self, approver: Approver) -> bool:
        return approver.is_named_by(self.email) or approver.is_named_by(self.name)


class _Authorship:
    """Authors of many pieces from one ``git log`` and one ``git cat-file`` batch."""

    def __init__(self, site: Site, trust: TrustRoot | None = None):
        self.site = site
        self.trust = trust
        #: piece id → why its authorship cannot be authenticated (policy ``refuse``)
        self.unauthenticated: dict[str, str] = {}
        self.problem: str | None = None
        self.log: list[Change] = []
        self.uncommitted: set[str] = set()
        self.user: tuple[str | None, str | None] = (None, None)
        self.blobs: dict[tuple[str, str], bytes | None] = {}
        self._fingerprints: dict[bytes, str] = {}
        self._repo: Repository | None = None
        self._read = False
        self._prepared: set[str] = set()

    def _read_history(self) -> Repository | None:
        if self._read:
            return self._repo
        self._read = True
        self._repo = open_repository(self.site.content)
        if self._repo is None:
            self.problem = (
                "authorship unknown: the site is not in a git repository, so nobody can "
                "tell who wrote the piece"
            )
        elif self._repo.is_shallow:
            self.problem = (
                "authorship unknown: this is a shallow clone; fetch the full history "
                "(git fetch --unshallow, or fetch-depth: 0 in CI)"
            )
        else:
            self.log = self._signed_log(self._repo)
            self.uncommitted = self._repo.uncommitted()
            self.user = self._repo.user()
        return None if self.problem else self._repo

    def _signed_log(self, repo: Repository) -> list[Change]:
        """The content log with each commit's signature checked against the trust root."""
        if self.trust is None:
            return repo.log()
        changes = repo.log()
        text = self.trust.commit_signers()
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        with tempfile.TemporaryDirectory(prefix="dp-signers-") as tmp:
            signers = Path(tmp) / "allowed_signers"
            signers.write_text(text, encoding="utf-8")
            return repo.verified(changes, signers, key)

    def prepare(self, pieces: Iterable[Piece]) -> None:
        """Fetch, in one batch, every old version the given pieces' authorship needs."""
        repo = self._read_history()
        todo = [p for p in pieces if p.id not in self._prepared]
        self._prepared.update(p.id for p in todo)
        if repo is None or not todo:
            return
        specs: list[tuple[str, str]] = []
        for piece in todo:
            for change in follow(self.log, piece.id):
                specs += self._specs(change)
            if piece.id in self.uncommitted:
                specs.append(("HEAD", piece.id))
        self.blobs.update(repo.blobs(specs))

    @staticmethod
    def _specs(change: Change) -> list[tuple[str, str]]:
        if change.status.startswith(("A", "D")):
            return []
        specs = [(change.commit.sha, change.path)]
        if change.is_merge:
            specs += [(parent, change.path) for parent in change.commit.parents]
        elif change.commit.parents:
            specs.append((change.commit.parents[0], change.old_path or change.path))
        return specs

    def _fingerprint(self, raw: bytes | None, piece_id: str) -> str | None:
        if raw is None:
            return None
        if raw not in self._fingerprints:
            self._fingerprints[raw] = text_fingerprint(raw, piece_id)
        return self._fingerprints[raw]

    def _changed_text(self, change: Change, piece_id: str) -> bool:
        """Whether ``change`` changed what the piece says, not just its approvals."""
        if change.status.startswith("A"):
            return True
        if change.status.startswith("D"):
            return False
        new = self._fingerprint(self.blobs.get((change.commit.sha, change.path)), piece_id)
        if change.is_merge:
            before = [
                self._fingerprint(self.blobs.get((parent, change.path)), piece_id)
                for parent in change.commit.parents
            ]
            return new is None or new not in before
        if not change.commit.parents:
            return True
        old = self._fingerprint(
            self.blobs.get((change.commit.parents[0], change.old_path or change.path)), piece_id
        )
        return new is None or old is None or new != old

    def authors(self, piece: Piece) -> list[Author]:
        self.prepare([piece])
        found: list[Author] = [
            Author(email=name, name=name, source="named in the front matter")
            for name in piece.authors
        ]
        for change in follow(self.log, piece.id):
            if self._changed_text(change, piece.id):
                found += self._committers(change, "wrote", piece.id)
        for media in referenced_media(piece) if piece.source else []:
            for change in follow(self.log, media):
                if not change.status.startswith(("D", "R100")):
                    found += self._committers(change, f"changed {media} in", piece.id)
        email, name = self.user
        if email or name:
            mine = Author(email, name, "has uncommitted changes of it in this working tree")
            if piece.id in self.uncommitted and piece.source is not None:
                head = self._fingerprint(self.blobs.get(("HEAD", piece.id)), piece.id)
                if head is None or head != self._fingerprint(piece.source.raw, piece.id):
                    found.append(mine)
            if any(m in self.uncommitted for m in referenced_media(piece)):
                found.append(mine)
        return found

    def _committers(self, change: Change, verb: str, piece_id: str) -> list[Author]:
        """Everyone a change counts for: the author fields, the key that signed it and
        every ``Co-authored-by``. The unauthenticated author fields still count (more
        authors only ever make fewer approvers eligible); whether an unsigned change may
        count at all is the trust root's ``authorship.unsigned`` policy."""
        commit = change.commit
        where = f"commit {commit.short} ({commit.subject})"
        found = [Author(commit.author_email, commit.author_name, f"{verb} {where}")]
        if commit.verified and commit.signer != _forge_principal():
            found.append(Author(commit.signer, None, f"signed {where}"))
        found += [
            Author(email, name, f"co-author of {where}") for name, email in commit.co_authors
        ]
        if self.trust is not None and self.trust.unsigned == "refuse" and not commit.verified:
            self.unauthenticated.setdefault(
                piece_id,
                f"authorship unknown: {where} changed the piece and is not signed by a "
                f"key of {self.trust.describe()} (status "
                f"{commit.signature}); sign commits with SSH (docs/security.md, \"Signed "
                "commits\")",
            )
        return found


def _forge_principal() -> str:
    from editorial.trust import FORGE_PRINCIPAL

    return FORGE_PRINCIPAL



def authors_of(site: Site, pieces: Iterable[Piece]) -> dict[str, list[Author]]:
    """Everyone who counts as an author of each piece (see the module's docstring).

    Raises :class:`ApprovalError` when authorship cannot be known (no git history).
    """
    wanted = list(pieces)
    authorship = _Authorship(site, _optional_trust(site)[0])
    authorship.prepare(wanted)
    if authorship.problem:
        raise ApprovalError(authorship.problem)
    return {piece.id: authorship.authors(piece) for piece in wanted}


