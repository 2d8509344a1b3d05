"""Client approvals: signed, bound to a piece's content, stored in the piece's front matter.

The client's promise is that nothing goes public that one of their approvers did not
approve, in exactly the version they saw. So an approval signs (with the approver's SSH
key, ``ssh-keygen -Y sign``) the piece's id and a hash of its content; any change of
meaning changes the hash and leaves the approval *stale*, while formatting noise (line
endings, trailing blanks, the order of front-matter keys) does not.

Approvals live in the piece's own front matter (``approvals:``) so that they show in the
pull request's diff and travel with the text through squash merges and rebases; nothing
about them depends on commit ids. The id signed is the file's path under ``content/``:
an approval copied into another file is detected, and renaming a file needs a new
approval.

Nobody approves their own piece: the authors are everyone who committed a change of its
content (approval-only commits excepted), whoever has uncommitted changes of it in this
working tree (the current git user), and everyone its front matter names.

Approvers who do not use git approve in the desk's portal (``via: portal``). The portal
signs with a key of its own on their behalf, and such an approval counts only when
``PORTAL_SIGNER`` lists that approver: the portal's key can never speak for anyone the
client did not name, and the portal's signature cannot pass for the approver's own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
import re
import subprocess
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from editorial.findings import Finding
from editorial.foreign import SIDECAR_SUFFIX, decisions_file
from editorial.front_matter_edit import EditError, append_entry, yaml_entry
from editorial.history import Change, Repository, follow, open_repository
from editorial.pieces import Piece, Site, is_piece_path
from editorial.settings import Settings, settings_root
from editorial.sourcefile import SourceError, parse_source
from editorial.times import TimeError, iso, parse_time

if TYPE_CHECKING:
    from editorial.trust import TrustRoot

logger = logging.getLogger(__name__)

NAMESPACE = "dialogpress-approval"
PAYLOAD_VERSION = "dialogpress-approval v1"
_TIME_FIELDS = ("date", "modified", "publish_at")
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


# --- content hash ------------------------------------------------------------------------


def _clean_text(text: str) -> str:
    """Text without formatting noise: one line-ending style, no trailing blanks, NFC."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _canonical_time(value: str) -> str:
    """One spelling per instant (``09:00`` = ``09:00:00``, quoted or not); naive stays naive.

    Parsing in two fixed zones tells a naive time (which lands differently) from one
    that carries its own offset or zone, without needing the site's settings.
    """
    try:
        first = parse_time(value, "UTC")
        second = parse_time(value, "Etc/GMT-1")
    except TimeError:
        return _clean_text(value)
    if first != second:
        return first.replace(tzinfo=None).isoformat()
    return first.isoformat()


def _canonical(value: Any) -> Any:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _clean_text(str(value))


def canonical_front_matter(metadata: dict[str, Any]) -> dict[str, Any]:
    """The front matter as far as it means something: approvals and change requests left
    out (what people said about a piece is not part of it), times unified."""
    canonical: dict[str, Any] = {}
    for key, value in metadata.items():
        if key in REVIEW_KEYS:
            continue
        if key in _TIME_FIELDS and isinstance(value, str):
            canonical[key] = _canonical_time(value)
        else:
            canonical[key] = _canonical(value)
    return canonical


def _digest(document: dict[str, Any]) -> str:
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _text_document(metadata: dict[str, Any], body: str) -> dict[str, Any]:
    return {
        "version": 1,
        "front_matter": canonical_front_matter(metadata),
        "body": _clean_text(body),
    }


def text_fingerprint(raw: bytes, piece_id: str) -> str:
    """The hash of a file's text alone (no media): tells a content change from an approval."""
    try:
        source = parse_source(raw.decode("utf-8-sig"), Path(piece_id), piece_id, raw)
    except (SourceError, UnicodeDecodeError):
        return "raw:" + hashlib.sha256(raw).hexdigest()
    return _digest(_text_document(source.metadata, source.body))


def content_folder(piece: Piece) -> Path:
    """The ``content/`` folder the piece was read from (its id is the path below it)."""
    if piece.source is None:
        raise ApprovalError(f"{piece.path} could not be read, so it has no content")
    folder = piece.source.path
    for _ in Path(piece.id).parts:
        folder = folder.parent
    return folder


def _normal(path: str) -> str | None:
    """A path under ``content/`` in one spelling (``a/./b/../c`` is ``a/c``); None outside."""
    normal = posixpath.normpath(path.lstrip("/"))
    if normal in ("", ".") or normal == ".." or normal.startswith("../"):
        return None
    return normal


def _candidates(piece_id: str, path: str) -> list[str]:
    """Where under ``content/`` a reference may point: from the site's root for ``/x``,
    else from the piece's folder (Pelican's ``{static}x``) and from the root (the output
    mirrors content/, and posts are written at the root)."""
    if path.startswith("/"):
        found = [_normal(path)]
    else:
        found = [_normal(posixpath.join(posixpath.dirname(piece_id), path)), _normal(path)]
    return list(dict.fromkeys(c for c in found if c is not None))


def _symlink_in(content: Path, relative: str) -> bool:
    """Whether any part of ``content/<relative>`` is a symbolic link (never followed)."""
    current = content
    for part in PurePosixPath(relative).parts:
        current = current / part
        if current.is_symlink():
            return True
    return False


def file_digest(content: Path, relative: str) -> str:
    """The SHA-256 of ``content/<relative>``; ``missing`` when there is no such file and
    ``symlink`` for a symbolic link (never followed: its target is nothing anyone saw)."""
    if _symlink_in(content, relative):
        return "symlink"
    file = content / relative
    return hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else "missing"


def referenced_media(piece: Piece) -> list[str]:
    """Paths under ``content/`` of every file the piece's public HTML can load or link.

    Found in the HTML the build renders (:mod:`editorial.public_html`), so that every
    form Markdown and HTML allow counts: inline and reference-style images and links,
    ``src``, each ``srcset`` candidate, ``href``, ``poster``, ``data``, ``{static}``,
    ``{attach}``, ``{filename}``; plus the media of the front matter. A reference to
    no file is listed under the path it would have, so that adding the file later
    makes approvals stale. Links to other pieces are left out: each of those goes
    public only with approvals of its own.
    """
    content = content_folder(piece)
    settings = piece.settings or {}
    found: list[str] = []
    for media in piece.media:
        if media.path.is_relative_to(content):
            found.append(media.path.relative_to(content).as_posix())
    for reference in piece.public_html.references:
        path = reference.local_path
        if path is None:
            continue
        candidates = [c for c in _candidates(piece.id, path) if not is_piece_path(c, settings)]
        existing = [
            c for c in candidates if _symlink_in(content, c) or (content / c).is_file()
        ]
        found += existing or candidates[:1]
    return list(dict.fromkeys(found))


def content_hash(piece: Piece) -> str:
    """``sha256:<hex>`` over the canonical front matter, the normalised body and the media.

    What an approver saw is the text and every file the page shows or links; the
    approvals themselves are left out so that adding one does not change what it
    approves.
    """
    if piece.source is None:
        raise ApprovalError(f"{piece.path} could not be read, so it has no content hash")
    content = content_folder(piece)
    media = [[path, file_digest(content, path)] for path in referenced_media(piece)]
    document = _text_document(piece.metadata, piece.body)
    if piece.source.format != "yaml":
        # Pelican's own formats: every character of the file may reach the page (a reST
        # directive, an HTML head, a 'Key:' line), so the whole text is what was approved
        text = piece.source.raw.decode("utf-8-sig", errors="replace")
        document = {"version": 1, "format": piece.source.format, "text": _clean_text(text)}
    document["media"] = media
    return _digest(document)


# --- approvers ---------------------------------------------------------------------------


def _key_id(text: str) -> tuple[str, str] | None:
    parts = text.split()
    return (parts[0], parts[1]) if len(parts) >= 2 else None


@dataclass(frozen=True)
class Approver:
    """A client approver from the settings: who they are and the key they sign with."""

    name: str
    email: str
    key: str

    @property
    def key_id(self) -> tuple[str, str] | None:
        return _key_id(self.key)

    def is_named_by(self, text: str | None) -> bool:
        """True when ``text`` (an e-mail or a name) means this approver."""
        if not text:
            return False
        wanted = text.strip().casefold()
        return wanted in (self.email.strip().casefold(), self.name.strip().casefold())

    @property
    def label(self) -> str:
        return f"{self.name} <{self.email}>"


def trust_root(settings: Settings) -> TrustRoot:
    """The trust root in force for the site of ``settings``: read from the protected
    ref, never from the settings or the working tree (see :mod:`editorial.trust`)."""
    # imported here: editorial.trust builds on this module's records and signatures
    from editorial.trust import TrustError, load_trust

    try:
        return load_trust(settings_root(settings))
    except TrustError as exc:
        raise ApprovalError(str(exc)) from None


def approvers(settings: Settings) -> list[Approver]:
    """The approvers of the trust root in force (none when there is no trust root)."""
    try:
        return list(trust_root(settings).approvers)
    except ApprovalError:
        return []


def find_approver(settings: Settings, email: str) -> Approver | None:
    try:
        return trust_root(settings).find_approver(email)
    except ApprovalError:
        return None


@dataclass(frozen=True)
class PortalSigner:
    """The portal's public key and the approvers it may sign for (``PORTAL_SIGNER``)."""

    key: str
    approvers: tuple[str, ...]

    @property
    def key_id(self) -> tuple[str, str] | None:
        return _key_id(self.key)

    def may_sign_for(self, email: str) -> bool:
        wanted = email.strip().casefold()
        return any(wanted == listed.strip().casefold() for listed in self.approvers)


def portal_signer(settings: Settings) -> PortalSigner | None:
    """The portal's key and whom it may sign for, from the trust root in force."""
    try:
        return trust_root(settings).portal
    except ApprovalError:
        return None


def public_key(key_path: Path) -> str:
    """The public half of an SSH key: ``<key>.pub`` beside it, or derived by ssh-keygen."""
    text_path = Path(key_path)
    if text_path.suffix == ".pub":
        return text_path.read_text(encoding="utf-8").strip()
    pub = text_path.with_name(text_path.name + ".pub")
    if pub.is_file():
        return pub.read_text(encoding="utf-8").strip()
    result = _ssh_keygen(["-y", "-f", str(text_path)], capture_stdin=False)
    if result.returncode != 0:
        raise ApprovalError(f"cannot read the key {key_path}: {_last_line(result.stderr)}")
    return result.stdout.decode().strip()


def approver_for_key(settings: Settings, key_path: Path) -> Approver:
    """The approver of the trust root whose public key is the given key's."""
    trust = trust_root(settings)
    approver = trust.approver_for_key(public_key(key_path))
    if approver is None:
        raise ApprovalError(
            f"the key {key_path} belongs to no approver in {trust.describe()}; "
            "ask the agency to add your public key there (and the approvers to approve it)"
        )
    return approver


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


# --- ssh-keygen --------------------------------------------------------------------------


def _last_line(data: bytes) -> str:
    lines = [line for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def _ssh_keygen(
    args: list[str], input: bytes | None = None, capture_stdin: bool = True
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["ssh-keygen", *args],
            input=input if capture_stdin else None,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise ApprovalError(
            f"cannot run ssh-keygen ({exc}); install OpenSSH 8.2 or newer"
        ) from None


def sign(approval: Approval, key_path: Path) -> Approval:
    """The approval with its signature made by ``key_path`` (``ssh-keygen -Y sign``).

    The payload goes through a file rather than stdin so that ssh-keygen can ask for
    the key's passphrase on the terminal; a ``.pub`` path signs through ssh-agent.
    """
    key = Path(key_path)
    if not key.is_file():
        raise ApprovalError(f"the key file {key} does not exist")
    if key.suffix != ".pub" and os.name == "posix":
        mode = key.stat().st_mode
        if mode & 0o077:
            raise ApprovalError(
                f"the private key {key} can be read by other users and ssh-keygen refuses "
                f"to use it; run: chmod 600 {key}"
            )
    with tempfile.TemporaryDirectory(prefix="dp-sign-") as tmp:
        data = Path(tmp) / "approval"
        data.write_bytes(approval.payload())
        result = _ssh_keygen(
            ["-Y", "sign", "-f", str(key), "-n", NAMESPACE, str(data)], capture_stdin=False
        )
        signature = data.with_name("approval.sig")
        if result.returncode != 0 or not signature.is_file():
            raise ApprovalError(
                f"ssh-keygen could not sign with {key}: {_last_line(result.stderr)}"
            )
        return replace(approval, signature=signature.read_text(encoding="ascii"))


class _Signatures:
    """Checks signatures against an allowed_signers file made from the trust root's keys."""

    def __init__(self, people: list[Approver], folder: Path, portal: PortalSigner | None = None):
        self.folder = folder
        self.allowed = folder / "allowed_signers"
        lines = [
            f'{a.email} namespaces="{NAMESPACE}" {a.key_id[0]} {a.key_id[1]}'
            for a in people
            if a.key_id is not None
        ]
        if portal is not None and portal.key_id is not None:
            lines.append(
                f'{PORTAL_PRINCIPAL} namespaces="{NAMESPACE}" '
                f"{portal.key_id[0]} {portal.key_id[1]}"
            )
        self.allowed.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.count = 0

    def problem(self, approval: Approval, principal: str) -> str | None:
        """None when ``principal``'s listed key signed exactly these fields; else why not.

        The principal is the approver's e-mail, or the portal's for a portal approval.
        """
        self.count += 1
        sig = self.folder / f"{self.count}.sig"
        sig.write_text(approval.signature.strip() + "\n", encoding="utf-8")
        payload = approval.payload()
        verify = _ssh_keygen(
            ["-Y", "verify", "-f", str(self.allowed), "-I", principal,
             "-n", NAMESPACE, "-s", str(sig)],
            input=payload,
        )
        if verify.returncode == 0:
            return None
        intact = _ssh_keygen(
            ["-Y", "check-novalidate", "-n", NAMESPACE, "-s", str(sig)], input=payload
        )
        if b"couldn't parse signature" in intact.stderr.lower():
            return "bad signature: the signature text is damaged or not an SSH signature"
        found = _ssh_keygen(["-Y", "find-principals", "-f", str(self.allowed), "-s", str(sig)])
        principals = found.stdout.decode().split() if found.returncode == 0 else []
        if not principals:
            match = re.search(r"(SHA256:\S+)", intact.stdout.decode() + intact.stderr.decode())
            key = f" ({match.group(1)})" if match else ""
            return (
                f"unknown approver: signed with a key{key} that belongs to no approver in "
                "the trust root"
            )
        if principal not in principals:
            expected = "the portal" if principal == PORTAL_PRINCIPAL else approval.approver
            signers = ", ".join(
                "the portal" if p == PORTAL_PRINCIPAL else p for p in principals
            )
            return f"bad signature: signed with the key of {signers}, not of {expected}"
        return "bad signature: the approval's fields were changed after it was signed"


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


def _optional_trust(site: Site) -> tuple[TrustRoot | None, str | None]:
    try:
        return trust_root(site.settings), None
    except ApprovalError as exc:
        return None, str(exc)


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
