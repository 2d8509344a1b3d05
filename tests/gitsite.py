"""A dialogpress site in a real git repository, with real SSH keys, for approval tests.

Approvals depend on who committed what and on ``ssh-keygen`` signatures, so the tests
that exercise them build a small site in a tmp folder, commit to it as different
people with ``git -c user.email=…``, and sign with keys made by ``ssh-keygen``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import textwrap
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from editorial.approvals import (
    Approval,
    ApprovalState,
    approval_state,
    sign_approval,
    write_approval,
)
from editorial.pieces import Piece, Site, load_site
from editorial.settings import Settings, load_settings
from editorial.times import parse_time

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


@dataclass(frozen=True)
class Person:
    name: str
    email: str

    @property
    def key_name(self) -> str:
        return self.email.split("@")[0].replace(".", "_")


LENA = Person("Lena Berger", "lena.berger@kranich.example")  # editor at the agency
PETRA = Person("Petra Schulz", "petra.schulz@stadtwerke-elbtal.example")  # client approver
JONAS = Person("Jonas Weber", "jonas.weber@stadtwerke-elbtal.example")  # client approver
MALLORY = Person("Mallory Mayer", "mallory@example.test")  # not an approver
LEAD = Person("Kai Kranich", "kai@kranich.example")  # merges pull requests
EVERYONE = (LENA, PETRA, JONAS, MALLORY, LEAD)

APPROVED_AT = parse_time("2026-11-20 10:15", "Europe/Berlin")


def make_keys(folder: Path) -> dict[str, Path]:
    """One fresh ed25519 key pair per person (no passphrase), by e-mail."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = {}
    for person in EVERYONE:
        key = folder / person.key_name
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", person.email, "-f", str(key)],
            check=True,
        )
        keys[person.email] = key
    return keys


POST = """\
---
title: Service im Advent
date: 2026-11-20 10:00
slug: service-im-advent
category: Service
image: images/team.jpg
image_alt: Unser Service-Team
---
Unsere Kundenzentren haben im Advent länger geöffnet.

Wir freuen uns auf Ihren Besuch.
"""

SNIPPET = """\
---
title: Adventszeiten
channels: [twitter, facebook]
publish_at: 2026-11-24 09:00
post: service-im-advent
media:
  - file: images/team.jpg
    alt: Unser Service-Team
text:
  twitter: Im Advent länger für Sie da!
---
Im Advent haben unsere Kundenzentren länger für Sie geöffnet. Alle Zeiten im Blog.
"""


class GitSite:
    """A site folder that is also a git repository; commits name their author."""

    def __init__(self, root: Path, keys: dict[str, Path], approvers: list[Person],
                 required: int = 1, extra: str = "", portal: str | None = None,
                 portal_for: tuple[Person, ...] = (), trust_extra: str = "",
                 unsigned: str = "author-field", frame: list[str] | None = None):
        """``trust.yml`` names ``approvers`` (and the portal's public key ``portal``,
        signing for ``portal_for``); ``unsigned: author-field`` keeps git's author fields
        as authorship, which most tests rely on; the security tests sign commits and
        refuse unsigned ones. ``frame`` empty: no site-level approval needed."""
        self.root = root
        self.keys = keys
        for folder in ("posts", "social", "images", "pages"):
            (root / "content" / folder).mkdir(parents=True, exist_ok=True)
        self.write_trust(approvers, required, portal, portal_for, trust_extra, unsigned,
                         frame or [])
        (root / "pelicanconf.py").write_text(
            textwrap.dedent(
                f"""\
                PATH = "content"
                ARTICLE_PATHS = ["posts"]
                PAGE_PATHS = ["pages"]
                STATIC_PATHS = ["images"]
                TIMEZONE = "Europe/Berlin"
                DEFAULT_LANG = "de"
                SITEURL = ""
                SOCIAL_PATHS = ["social"]
                GUIDELINE = None
                PLUGIN_PATHS = [{str(PLUGINS)!r}]
                PLUGINS = ["dp_frontmatter", "dp_approval_gate"]
                FEED_ALL_ATOM = "feeds/all.atom.xml"
                """
            )
            + extra,
            encoding="utf-8",
        )
        (root / "publishconf.py").write_text(
            "from pathlib import Path\n"
            "from pelican.settings import get_settings_from_file\n"
            "globals().update(get_settings_from_file("
            "str(Path(__file__).with_name('pelicanconf.py'))))\n"
            "SITEURL = 'https://service.example.test'\n"
            "RELATIVE_URLS = False\n",
            encoding="utf-8",
        )
        (root / ".gitignore").write_text("output/\nout*/\n", encoding="utf-8")
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", LEAD.name)
        self.git("config", "user.email", LEAD.email)
        self.git("config", "commit.gpgsign", "false")

    def write_trust(self, approvers: list[Person], required: int = 1,
                    portal: str | None = None, portal_for: tuple[Person, ...] = (),
                    extra: str = "", unsigned: str = "author-field",
                    frame: list[str] | None = None) -> Path:
        """Write ``trust.yml`` (commit it on main for it to count)."""
        lines = ["approvers:"]
        for p in approvers:
            lines += [f"  - name: {p.name}", f"    email: {p.email}",
                      f"    key: {self.public_key(p)}"]
        lines.append(f"required_approvals: {required}")
        if portal is not None:
            lines += ["portal:", f"  key: {portal}", "  approvers:"]
            lines += [f"    - {p.email}" for p in portal_for]
        lines += ["authorship:", f"  unsigned: {unsigned}"]
        if frame is not None:
            lines += ["site:", "  files: [" + ", ".join(frame) + "]"]
        path = self.root / "trust.yml"
        path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
        return path

    def public_key(self, person: Person) -> str:
        return self.keys[person.email].with_suffix(".pub").read_text().strip()

    def git(self, *args: str, who: Person | None = None) -> str:
        identity = ["-c", f"user.name={who.name}", "-c", f"user.email={who.email}"] if who else []
        result = subprocess.run(
            ["git", *identity, *args], cwd=self.root, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"git {' '.join(args)} failed: {result.stderr}"
        return result.stdout

    def write(self, name: str, text: str | bytes) -> Path:
        path = self.root / "content" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def read(self, name: str) -> str:
        return (self.root / "content" / name).read_text(encoding="utf-8")

    def edit(self, name: str, old: str, new: str) -> None:
        text = self.read(name)
        assert old in text, f"{old!r} not in {name}"
        self.write(name, text.replace(old, new, 1))

    def commit(self, who: Person, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, who=who)
        return self.git("rev-parse", "HEAD").strip()

    def settings(self) -> Settings:
        return load_settings(self.root / "pelicanconf.py")

    def site(self) -> Site:
        return load_site(self.settings())

    def piece(self, piece_id: str, site: Site | None = None) -> Piece:
        found = (site or self.site()).get(piece_id)
        assert found is not None, piece_id
        return found

    def approve(self, piece_id: str, who: Person, at: datetime = APPROVED_AT,
                comment: str | None = None) -> Approval:
        """Sign and write an approval as ``who`` (their own key), like ``dialogpress approve``."""
        site = self.site()
        piece = self.piece(piece_id, site)
        approval = sign_approval(piece, site, self.keys[who.email], who.email, at, comment)
        write_approval(piece, approval)
        return approval

    def state(self, piece_id: str) -> ApprovalState:
        site = self.site()
        return approval_state(self.piece(piece_id, site), site)


FIXTURE_KEYS = Path(__file__).resolve().parent / "fixtures" / "keys"


def approve_example_frame(root: Path) -> None:
    """The example's approver approves its layout/settings as they are now.

    Tests that change the example's settings (channels on a sandbox, a broken template)
    play the client who approves the change, as production builds require.
    """
    from editorial.site_approval import sign_site_approval

    with tempfile.TemporaryDirectory(prefix="dp-key-") as tmp:
        key = Path(tmp) / "approver"
        shutil.copyfile(FIXTURE_KEYS / "approver_ed25519", key)
        key.chmod(0o600)
        sign_site_approval(root, key, APPROVED_AT)


def approve_example_trust(root: Path) -> None:
    """The example's approver signs the working tree's changed ``trust.yml``, as a trust
    change needs the approvers of the version in force (commit and push it to count)."""
    from editorial.approvals import Approval, sign
    from editorial.trust import (
        TRUST_PIECE,
        append_yaml_approval,
        document_hash,
        working_tree_document,
    )

    data, path = working_tree_document(root)
    with tempfile.TemporaryDirectory(prefix="dp-key-") as tmp:
        key = Path(tmp) / "approver"
        shutil.copyfile(FIXTURE_KEYS / "approver_ed25519", key)
        key.chmod(0o600)
        approval = Approval(TRUST_PIECE, document_hash(data),
                            "petra.schulz@stadtwerke-elbtal.example", APPROVED_AT)
        append_yaml_approval(path, sign(approval, key))


def jpeg(marker: bytes) -> bytes:
    """Bytes that stand for an image; different markers are different pictures."""
    return b"\xff\xd8\xff\xe0" + marker + b"\xff\xd9"


def standard_site(
    root: Path, keys: dict[str, Path], required: int = 1, extra: str = "", **trust: Any
) -> GitSite:
    """The usual start: Lena commits a post, an image, a snippet and the trust file on main."""
    site = GitSite(root, keys, [PETRA, JONAS], required=required, extra=extra, **trust)
    site.write("images/team.jpg", jpeg(b"team-1"))
    site.write("posts/service-im-advent.md", POST)
    site.write("social/2026-11-24-advent.md", SNIPPET)
    site.commit(LENA, "Add the advent post and snippet")
    return site
