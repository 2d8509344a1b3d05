"""Signing and verifying approvals with ``ssh-keygen -Y`` (namespace ``dialogpress-approval``).

An approver signs with their own key; the portal signs with its own key, listed under
the principal ``dialogpress-portal``, so that neither can pass for the other.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from editorial.approvals.record import NAMESPACE, PORTAL_PRINCIPAL, Approval, ApprovalError

if TYPE_CHECKING:
    from editorial.approvals.keys import Approver, PortalSigner

logger = logging.getLogger(__name__)

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


