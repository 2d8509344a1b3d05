"""Who may approve: the approvers and the portal signer of the trust root in force, and keys.

Always read from the trust root (``trust.yml`` on the protected ref, :mod:`editorial.trust`),
never from the working tree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from editorial.approvals.record import ApprovalError
from editorial.approvals.signing import _last_line, _ssh_keygen
from editorial.pieces import Site
from editorial.settings import Settings, settings_root

if TYPE_CHECKING:
    from editorial.trust import TrustRoot


logger = logging.getLogger(__name__)

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


def _optional_trust(site: Site) -> tuple[TrustRoot | None, str | None]:
    try:
        return trust_root(site.settings), None
    except ApprovalError as exc:
        return None, str(exc)



